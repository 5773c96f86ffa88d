package summary

import (
	"regexp"
	"sort"
	"strings"
	"unicode"
)

// The vocabulary of meeting notes in the seven languages people paste in:
// English, German, French, Spanish, Dutch, Portuguese and Italian. Headings
// name a section; labels ("Note:", "Q3:") start a line but are no person.

// sectionWords lists, per section, the headings that mean it. They are
// compared after normHeading (lower case, no emphasis, numbering, emoji or
// trailing colon).
var sectionWords = map[section][]string{
	secDecision: {
		"decisions", "decision", "key decisions", "decisions made", "decisions taken", "agreements", "agreed", "what we decided",
		"entscheidungen", "entscheidung", "beschlüsse", "beschluss", "getroffene entscheidungen", "vereinbarungen", "vereinbart",
		"décisions", "décision", "décisions prises", "décisions clés", "accords",
		"decisiones", "decisión", "decisiones tomadas", "decisiones clave", "acuerdos",
		"besluiten", "beslissingen", "genomen besluiten", "afspraken", "besluitenlijst",
		"decisões", "decisão", "decisões tomadas", "principais decisões", "acordos",
		"decisioni", "decisione", "decisioni prese", "decisioni chiave", "accordi",
	},
	secNextStep: {
		"next steps", "next step", "suggested next steps", "recommended next steps", "follow ups", "follow-ups", "followups",
		"follow-up", "follow up", "follow-up items", "what's next", "going forward", "open items",
		"nächste schritte", "weitere schritte", "empfohlene nächste schritte", "vorgeschlagene nächste schritte", "weiteres vorgehen", "nachverfolgung",
		"prochaines étapes", "étapes suivantes", "prochaines étapes suggérées", "suivi", "suites à donner",
		"próximos pasos", "siguientes pasos", "próximos pasos sugeridos", "seguimiento",
		"volgende stappen", "vervolgstappen", "voorgestelde volgende stappen", "vervolg", "opvolging",
		"próximos passos", "próximas etapas", "próximos passos sugeridos", "acompanhamento",
		"prossimi passi", "passi successivi", "prossimi passi suggeriti", "prossime fasi",
	},
	secTask: {
		"action items", "action item", "actions", "action points", "follow-up tasks", "follow up tasks", "tasks", "task",
		"to-dos", "todos", "to dos", "todo", "to-do", "to do", "to-do list", "assigned tasks", "action items and owners",
		"aufgaben", "maßnahmen", "aktionspunkte", "offene punkte", "todo-liste", "to-do-liste",
		"actions à mener", "tâches", "points d'action", "actions à entreprendre", "à faire", "plan d'action",
		"tareas", "acciones", "elementos de acción", "puntos de acción", "pendientes", "acciones a realizar",
		"actiepunten", "acties", "taken", "to-do's", "actielijst",
		"itens de ação", "ações", "tarefas", "pendências", "pontos de ação",
		"azioni", "attività", "compiti", "punti d'azione", "cose da fare", "azioni da intraprendere",
	},
	secInsight: {
		"key insights", "insights", "highlights", "key highlights", "key points", "takeaways", "key takeaways", "main points",
		"key questions", "open questions", "questions", "risks", "risks and issues", "blockers", "meeting purpose", "purpose",
		"wichtige fragen", "zweck der besprechung", "ziel der besprechung", "wichtigste erkenntnisse",
		"questions clés", "objectif de la réunion", "points à retenir",
		"preguntas clave", "propósito de la reunión", "objetivo de la reunión", "conclusiones clave",
		"belangrijke vragen", "doel van de vergadering", "belangrijkste conclusies",
		"perguntas-chave", "perguntas principais", "objetivo da reunião", "propósito da reunião",
		"domande chiave", "scopo della riunione", "obiettivo della riunione", "conclusioni principali",
		"wichtigste punkte", "kernpunkte", "erkenntnisse", "wichtige punkte", "zentrale erkenntnisse", "offene fragen", "risiken",
		"points clés", "points importants", "à retenir", "faits marquants", "questions ouvertes", "risques",
		"puntos clave", "aspectos destacados", "conclusiones", "ideas clave", "preguntas abiertas", "riesgos",
		"belangrijkste punten", "kernpunten", "inzichten", "hoogtepunten", "open vragen", "risico's",
		"pontos-chave", "pontos chave", "pontos principais", "destaques", "principais conclusões", "perguntas em aberto", "riscos",
		"punti chiave", "punti salienti", "considerazioni", "domande aperte", "approfondimenti", "rischi",
	},
	neutral: {
		"notes", "meeting notes", "summary", "discussion", "recap", "meeting recap", "overview", "details", "outline",
		"topics", "chapters", "chapters & topics", "chapters and topics", "quick recap", "meeting summary", "ai notes",
		"discussion points", "topics discussed", "plan", "meeting report",
		"kurze zusammenfassung", "kapitel und themen", "gliederung",
		"résumé rapide", "chapitres et sujets", "vue d'ensemble",
		"capítulos y temas", "descripción general", "esquema",
		"snelle samenvatting", "hoofdstukken en onderwerpen", "overzicht", "notities",
		"capítulos e tópicos", "visão geral", "anotações",
		"riepilogo rapido", "capitoli e argomenti", "panoramica", "appunti", "schema",
		"notizen", "zusammenfassung", "besprechungsnotizen", "protokoll", "diskussion", "überblick", "themen", "besprechung",
		"notes de réunion", "résumé", "compte rendu", "aperçu", "détails", "sujets", "synthèse", "points abordés",
		"notas", "resumen", "notas de la reunión", "discusión", "detalles", "temas", "resumen rápido", "temas tratados",
		"notulen", "samenvatting", "aantekeningen", "discussie", "onderwerpen", "besproken punten",
		"resumo", "notas da reunião", "discussão", "detalhes", "tópicos", "resumo rápido",
		"note", "riepilogo", "sintesi", "note della riunione", "discussione", "dettagli", "argomenti", "temi",
	},
}

// metaWords are headings and labels that describe the meeting itself
// (who, when, agenda, keywords) rather than say something to act on.
var metaWords = []string{
	"date", "time", "when", "where", "location", "attendees", "participants", "present", "absent", "organizer", "organiser",
	"invited", "invitees", "duration", "recorded", "meeting", "facilitator", "note taker", "notetaker", "apologies", "keywords",
	"agenda", "transcript", "host", "meeting date", "meeting time", "speakers",
	"datum", "zeit", "ort", "teilnehmer", "teilnehmende", "anwesend", "abwesend", "dauer", "organisator", "schlüsselwörter", "tagesordnung", "protokollant",
	"heure", "lieu", "participants", "présents", "absents", "durée", "organisateur", "mots-clés", "ordre du jour",
	"fecha", "hora", "lugar", "asistentes", "participantes", "ausentes", "duración", "organizador", "palabras clave", "orden del día",
	"tijd", "plaats", "deelnemers", "aanwezigen", "afwezig", "duur", "organisator", "trefwoorden", "notulist",
	"data", "horário", "local", "participantes", "presentes", "duração", "palavras-chave", "pauta",
	"ora", "luogo", "partecipanti", "presenti", "assenti", "durata", "organizzatore", "parole chiave", "ordine del giorno",
}

// labelWords start lines ("Note: …", "Risk - …") but are never a person, so
// "Name: text" does not take them for an owner. Heading words, meta words,
// weekdays and months are added in init.
var labelWords = strings.Fields(`note notes nb fyi info update updates risk risks blocker blockers question questions issue issues
problem topic context background outcome result results status goal goals objective idea ideas reminder warning important
summary decision decisions action actions task tasks owner owners assignee assigned due deadline next todo done open
closed pending tbd n/a feedback comment comments answer customer client budget scope timeline release sprint team
otter otter.ai fireflies gemini copilot fathom tl;dv read zoom notion teams sally facilitator
design marketing sales engineering product support legal finance ops qa backend frontend infra security hr management devops ux ui
everyone all both none nobody general misc other others item items point points step steps follow followup agreed
hinweis notiz achtung wichtig frage fragen risiko thema kontext ergebnis ziel idee erinnerung entscheidung aufgabe offen erledigt kunde
remarque attention important sujet contexte résultat objectif rappel décision tâche ouvert fait équipe
nota atención tema contexto resultado objetivo recordatorio decisión tarea abierto hecho cliente equipo pregunta riesgo
opmerking let vraag risico onderwerp context resultaat doel herinnering besluit taak klaar klant
observação atenção pergunta risco assunto resultado lembrete decisão tarefa aberto feito equipe
attenzione domanda rischio argomento contesto risultato obiettivo promemoria decisione compito aperto fatto squadra`)

var weekdaysMonths = strings.Fields(`monday tuesday wednesday thursday friday saturday sunday january february march april may june july
august september october november december mon tue tues wed thu thur thurs fri sat sun jan feb mar apr jun jul aug sep sept oct nov dec
montag dienstag mittwoch donnerstag freitag samstag sonntag januar februar märz mai juni juli oktober dezember
lundi mardi mercredi jeudi vendredi samedi dimanche janvier février mars avril juin juillet août septembre octobre novembre décembre
lunes martes miércoles jueves viernes sábado domingo enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre noviembre diciembre
maandag dinsdag woensdag donderdag vrijdag zaterdag zondag januari februari maart mei augustus
segunda terça quarta quinta sexta sábado domingo segunda-feira terça-feira quarta-feira quinta-feira sexta-feira janeiro fevereiro março maio junho julho setembro outubro novembro dezembro
lunedì martedì mercoledì giovedì venerdì sabato domenica gennaio febbraio aprile maggio giugno luglio settembre ottobre dicembre`)

var (
	knownHeading = map[string]section{}
	metaSet      = map[string]bool{}
	labelSet     = map[string]bool{}
	weekdaySet   = map[string]bool{}
	// headingPhraseRe finds a known heading inside a line whose breaks were
	// lost ("… Monday. Next steps: Anna will …"), longest phrase first.
	headingPhraseRe *regexp.Regexp
)

func init() {
	var phrases []string
	for s, words := range sectionWords {
		for _, w := range words {
			knownHeading[w] = s
			if len(w) > 4 || strings.Contains(w, " ") {
				phrases = append(phrases, w)
			}
			for _, f := range strings.Fields(w) {
				labelSet[f] = true
			}
		}
	}
	for _, w := range metaWords {
		metaSet[w] = true
		labelSet[w] = true
	}
	for _, w := range labelWords {
		labelSet[w] = true
	}
	for _, w := range weekdaysMonths {
		weekdaySet[w] = true
	}
	for _, w := range imperativeVerbs {
		labelSet[w] = true
	}
	sort.Slice(phrases, func(i, j int) bool { return len(phrases[i]) > len(phrases[j]) })
	quoted := make([]string, len(phrases))
	for i, p := range phrases {
		quoted[i] = regexp.QuoteMeta(p)
	}
	// A heading glued into a joined line: preceded by sentence punctuation or
	// a closing mark and followed by a colon or a list marker.
	headingPhraseRe = regexp.MustCompile(`(?i)([.!?)\]]\s+|\*\*|^|\s)((?:#{1,6}\s*)?(?:\*\*)?(?:` + strings.Join(quoted, "|") + `)(?:\*\*)?)(\s*:\s*(?:\*\*)?(?:[-*•]\s|\d{1,2}[.)]\s|\[[ xX]?\]\s)?|\s*(?:[-*•]\s|\d{1,2}[.)]\s|\[[ xX]?\]\s))`)
}

// imperativeVerbs start an instruction ("Send the deck", "Envoyer le devis").
// Under a heading that names no kind they make the line a task.
var imperativeVerbs = strings.Fields(`send update fix review prepare write create schedule book share check draft set add remove call email
follow investigate ask confirm organise organize plan test deploy contact reach clarify document finalize finalise
publish migrate order submit define collect prepare agree escalate sync align circulate upload run verify
senden schicken aktualisieren prüfen erstellen vorbereiten klären planen buchen teilen
envoyer préparer vérifier mettre créer rédiger planifier organiser contacter partager relancer valider corriger
enviar preparar revisar actualizar crear redactar programar organizar contactar compartir confirmar corregir
stuur versturen controleer maak plan deel bel mail regel check
enviar preparar revisar atualizar criar redigir agendar organizar contatar compartilhar confirmar corrigir
inviare preparare verificare aggiornare creare redigere pianificare organizzare contattare condividere confermare correggere`)

// normHeading lowercases a heading and strips emphasis, emoji, list
// numbering, timestamps and a trailing colon, so "## 📌 2. Action Items:" is
// "action items".
func normHeading(h string) string {
	h = strings.ToLower(cleanInline(h))
	h = strings.TrimLeftFunc(h, func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\''
	})
	h = strings.TrimRightFunc(h, func(r rune) bool {
		return r == ':' || r == ' ' || r == '.' || r == '-' || r == '–' || r == '—' || unicode.IsSymbol(r) && r != '\''
	})
	h = strings.ReplaceAll(h, "’", "'")
	return strings.Join(strings.Fields(h), " ")
}

// sectionOf finds the section a heading names: exactly ("Action items"), or
// by a section phrase inside a short heading ("Wichtige Entscheidungen",
// "Tâches de suivi"). When a heading holds two, tasks win over decisions
// over next steps over insights, so "Tarefas de acompanhamento" are tasks.
func sectionOf(norm string) (section, bool) {
	if s, ok := knownHeading[norm]; ok {
		return s, true
	}
	if norm == "" || len(strings.Fields(norm)) > 6 {
		return neutral, false
	}
	padded := " " + strings.NewReplacer("-", " ", "&", " ", ",", " ").Replace(norm) + " "
	for _, s := range []section{secTask, secDecision, secNextStep, secInsight} {
		for _, w := range sectionWords[s] {
			if len(w) < 5 {
				continue
			}
			if strings.Contains(padded, " "+strings.ReplaceAll(w, "-", " ")+" ") {
				return s, true
			}
		}
	}
	return neutral, false
}

func isMeta(label string) bool { return metaSet[normHeading(label)] }

func isMetaLine(s string) bool {
	i := strings.IndexByte(s, ':')
	return i > 0 && i < 40 && isMeta(s[:i])
}
