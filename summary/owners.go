package summary

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Where notes tools put the person who owns an item, and the due date. Every
// pattern removes what it found from the text, so "Fix the build (Assigned:
// Ben, Due: Friday)" becomes a clean title "Fix the build".

const ownerWordsRe = `owners?|assigned(?: to)?|assignee|responsible|who|verantwortlich|zuständig|verantwortliche[rn]?|responsable|responsables|encargado|encargada|responsável|responsáveis|responsabile|incaricato|incaricata|eigenaar|verantwoordelijke|trekker`
const dueWordsRe = `due(?: date)?|deadline|fällig(?: am| bis)?|frist|termin|échéance|date limite|fecha límite|fecha|vence|plazo|prazo|data limite|scadenza`

var (
	explicitDueRe = regexp.MustCompile(`(?i)^(?:` + dueWordsRe + `)$`)
	ownerListRe   = regexp.MustCompile(`\s*(?:,|&|\+|/|\sand\s|\sund\s|\set\s|\sy\s|\sen\s|\se\s)\s*`)
	// A timestamp the recording tool added: "(05:12)", "[00:12:04]",
	// "(12:04 - 13:30)", or a link on one. They never belong in a title.
	timestampLinkRe = regexp.MustCompile(`\s*\[\s*\d{1,2}:\d{2}(?::\d{2})?\s*\]\([^)]*\)`)
	timestampRe     = regexp.MustCompile(`\s*[(\[]\s*(?:at\s+|@\s*)?\d{1,2}:\d{2}(?::\d{2})?(?:\s*[-–]\s*\d{1,2}:\d{2}(?::\d{2})?)?\s*[)\]]`)
	leadTimeRe      = regexp.MustCompile(`^\d{1,2}:\d{2}(?::\d{2})?\s*(?:[-–—|]\s*)?`)
	trailTimeRe     = regexp.MustCompile(`\s+[-–—|]?\s*\d{1,2}:\d{2}:\d{2}$`)

	bracketOwnerRe = regexp.MustCompile(`^\[([^\]\[]{1,80})\]\s*[:\-–—]?\s*([^(].*)$`)
	atColonRe      = regexp.MustCompile(`^@([^:@]{1,80}?)\s*:\s*(.+)$`)
	atWordsRe      = regexp.MustCompile(`^@(\p{Lu}[\p{L}'’.-]*(?:\s+\p{Lu}[\p{L}'’.-]*)?)\s*[,\-–—]?\s+(.+)$`)
	trailAtRe      = regexp.MustCompile(`^(.+?)\s+@(\p{Lu}[\p{L}'’.-]*(?:\s+\p{Lu}[\p{L}'’.-]*){0,2})\s*\.?$`)
	// German and Dutch put the verb last, so the due phrase stands inside:
	// "Preisliste bis Freitag aktualisieren", "offerte vóór vrijdag aanpassen".
	midDueRe = regexp.MustCompile(`(?i)\s(bis(?: zum| spätestens)?|spätestens(?: am| bis)?|uiterlijk|vóór|voor|by|entro(?: il)?|até|d'ici(?: le| à)?)\s+((?:\S+\s){0,2}\S+?)(,?\s+\p{L})`)
	// "… next Tuesday", "… tomorrow" with no keyword.
	bareDueRe    = regexp.MustCompile(`(?i)\s+((?:on|el|le|il|lo|o|a|am|op|next|this|coming|nächsten|nächste|prochain|prochaine|próximo|próxima|volgende|prossimo|prossima)\s+\p{L}+|tomorrow|mañana|demain|morgen|domani|amanhã)\s*\.?$`)
	actionForRe  = regexp.MustCompile(`(?i)^(?:action(?: items?)?|task|to-?do|aufgabe|maßnahme|action|tâche|acción|tarea|actie|taak|ação|tarefa|azione|compito)\s+(?:for|für|pour|para|voor|per|a cargo de)\s+([^:]{1,80}?)\s*:\s*(.+)$`)
	leadNameRe   = regexp.MustCompile(`^(\S[^:]{0,58}?)\s*(?::\s*|\s[-–—]+\s+)(.+)$`)
	trailDashRe  = regexp.MustCompile(`^(.+?)\s+[-–—]+\s+([^-–—]{1,60}?)\s*\.?$`)
	trailParenRe = regexp.MustCompile(`^(.+?)\s*\(([^()]{1,60})\)\s*\.?$`)

	// "(Owner: X)", "(Assigned: X, Due: Y)", "(Responsable : X ; échéance : Y)".
	ownerParRe = regexp.MustCompile(`(?i)\s*[(\[]\s*(?:` + ownerWordsRe + `)\s*:?\s*([^,;)\]]{1,100}?)\s*(?:[,;|]\s*(?:` + dueWordsRe + `)\s*:?\s*([^)\]]{1,60}?))?\s*[)\]]`)
	// "(Due: Y, Owner: X)".
	dueOwnerParRe = regexp.MustCompile(`(?i)\s*[(\[]\s*(?:` + dueWordsRe + `)\s*:?\s*([^,;)\]]{1,60}?)\s*[,;|]\s*(?:` + ownerWordsRe + `)\s*:?\s*([^)\]]{1,100}?)\s*[)\]]`)
	// "… — Owner: X" or "… Assignee: X" at the end of a line.
	ownerTailRe = regexp.MustCompile(`(?i)(?:\s*[-–—|,;.]\s*|\s+)(?:` + ownerWordsRe + `)\s*:\s*([^,;|]{1,80}?)\s*(?:[,;|]\s*(?:` + dueWordsRe + `)\s*:?\s*(.{1,60}?))?\s*\.?$`)
	// A line that only names an owner and/or a due date, continuing the item above it.
	ownerOnlyRe = regexp.MustCompile(`(?i)^(?:` + ownerWordsRe + `)\s*:\s*([^,;|]{1,80}?)\s*(?:[,;|]\s*(?:` + dueWordsRe + `)\s*:?\s*(.{1,60}?))?\s*\.?$`)
	dueOnlyRe   = regexp.MustCompile(`(?i)^(?:` + dueWordsRe + `)\s*:\s*(.{1,60}?)\s*\.?$`)

	// A due phrase at the end: "— due Friday", "(due 2026-12-01)", "by Friday",
	// "bis Freitag", "d'ici vendredi", "para el viernes", "até sexta", "entro venerdì".
	dueRe = regexp.MustCompile(`(?i)(?:\s+[—–-]+\s*|\s*[(\[]\s*|\s*[,;]\s*|\s+)(` + dueWordsRe +
		`|by|before|no later than|bis(?: zum| spätestens| spätestens zum| am)?|spätestens(?: am| bis)?|am|d'ici(?: le| à| au)?|avant(?: le| la)?|pour(?: le)?|para(?: el| la)?|antes del?|hasta el|voor|vóór|tegen|op|até(?: a| o| à| ao)?|antes de|per(?: il)?|entro(?: il| la| le)?|uiterlijk(?: op)?)\s*:?\s+([^()\[\]—–]{1,60}?)\s*[)\]]?\s*\.?$`)

	// "Name will …" in each language, also the future tense of the Romance
	// languages ("Ana enviará", "Marco preparerà", "Marie enverra").
	willRe = regexp.MustCompile(`^(.{1,60}?)\s+(?:will|to|is going to|shall|is to|needs to|wird|werden|soll|muss|kümmert sich|übernimmt|va|vont|doit|se charge|s'occupe|va a|se encargará|se encarga|debe|zal|gaat|moet|zorgt|neemt|vai|irá|deve|fica|si occuperà|si occupa|\p{Ll}+(?:rà|rá|ra|ront))\s+\S`)
)

// stripTimestamps removes recording timestamps from a line.
func stripTimestamps(s string) string {
	s = timestampLinkRe.ReplaceAllString(s, "")
	s = timestampRe.ReplaceAllString(s, "")
	s = leadTimeRe.ReplaceAllString(s, "")
	s = trailTimeRe.ReplaceAllString(s, "")
	return strings.TrimSpace(s)
}

// extractOwnerDue finds the owner and due date of an item and returns the
// text without them. "Name will …" sentences keep their subject: the owner
// is then part of the sentence, and cutting it leaves a fragment.
//
// In an action section "Topic: text" names an owner when Topic looks like a
// person; elsewhere only when the text goes on in lower case ("Alex: ping
// the vendor"), since Gemini and Read.ai write "**Budget**: Anna said …".
func extractOwnerDue(text string, implicitDue, action bool) (owner, due, rest string) {
	rest = text
	if m := bracketOwnerRe.FindStringSubmatch(rest); m != nil && looksLikePerson(m[1]) {
		owner, rest = m[1], m[2]
	} else if m := atColonRe.FindStringSubmatch(rest); m != nil {
		owner, rest = m[1], m[2]
	} else if m := atWordsRe.FindStringSubmatch(rest); m != nil {
		owner, rest = m[1], m[2]
		// "@Olivia Finish the post": an instruction is not part of the name.
		if f := strings.Fields(owner); len(f) == 2 && labelSet[strings.ToLower(f[1])] {
			owner, rest = f[0], f[1]+" "+rest
		}
	} else if m := trailAtRe.FindStringSubmatch(rest); m != nil && wordCount(m[1]) >= 2 {
		owner, rest = m[2], m[1]
	} else if m := actionForRe.FindStringSubmatch(rest); m != nil && looksLikePerson(strings.TrimPrefix(m[1], "@")) {
		owner, rest = m[1], m[2]
	} else if m := leadNameRe.FindStringSubmatch(rest); m != nil && looksLikePerson(strings.TrimPrefix(m[1], "@")) && wordCount(m[2]) >= 2 &&
		(action || startsLower(m[2])) {
		owner, rest = m[1], m[2]
	}
	if m := ownerParRe.FindStringSubmatchIndex(rest); m != nil {
		if owner == "" {
			owner = rest[m[2]:m[3]]
		}
		if m[4] >= 0 {
			due = rest[m[4]:m[5]]
		}
		rest = strings.TrimSpace(rest[:m[0]] + rest[m[1]:])
	} else if m := dueOwnerParRe.FindStringSubmatchIndex(rest); m != nil {
		due = rest[m[2]:m[3]]
		if owner == "" {
			owner = rest[m[4]:m[5]]
		}
		rest = strings.TrimSpace(rest[:m[0]] + rest[m[1]:])
	}
	if m := ownerTailRe.FindStringSubmatchIndex(rest); m != nil && m[0] > 0 {
		if owner == "" {
			owner = rest[m[2]:m[3]]
		}
		if m[4] >= 0 && due == "" {
			due = rest[m[4]:m[5]]
		}
		rest = strings.TrimSpace(rest[:m[0]])
	}
	// A due phrase and a trailing owner come in either order: "… by Friday - Ana", "… - Ana, due Friday".
	for i := 0; i < 2; i++ {
		if due == "" {
			if d, r, ok := cutDue(rest, implicitDue); ok {
				due, rest = d, r
			}
		}
		if owner == "" {
			if m := trailDashRe.FindStringSubmatch(rest); m != nil && looksLikePerson(m[2]) && wordCount(m[1]) >= 2 {
				owner, rest = m[2], m[1]
			} else if m := trailParenRe.FindStringSubmatch(rest); m != nil && looksLikePerson(strings.TrimPrefix(m[2], "@")) && wordCount(m[1]) >= 2 {
				owner, rest = m[2], m[1]
			}
		}
	}
	if due == "" && implicitDue {
		if d, r, ok := cutMidDue(rest); ok {
			due, rest = d, r
		} else if m := bareDueRe.FindStringSubmatchIndex(rest); m != nil && looksLikeDate(rest[m[2]:m[3]]) {
			due, rest = rest[m[2]:m[3]], rest[:m[0]]
			if len(due) > 3 && strings.EqualFold(due[:3], "on ") {
				due = due[3:]
			}
		}
	}
	rest = strings.TrimSpace(strings.TrimRight(strings.TrimSpace(rest), ",;:-–—|"))
	owner = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(owner), "@"))
	if owner != "" && !looksLikeOwner(owner) {
		owner = ""
	}
	if owner == "" {
		if m := willRe.FindStringSubmatch(rest); m != nil && looksLikeOwner(m[1]) {
			owner = m[1]
		}
	}
	return owner, tidyDue(due), rest
}

// tidyDue drops a leading article and a closing full stop, but keeps the
// dot of a German date ("15.12.").
func tidyDue(d string) string {
	d = strings.TrimSpace(d)
	for _, a := range []string{"the ", "el ", "la ", "le ", "il ", "lo ", "l'", "o ", "a ", "den ", "dem ", "der ", "het ", "zum ", "am ", "de "} {
		if len(d) > len(a) && strings.EqualFold(d[:len(a)], a) && looksLikeDate(d[len(a):]) {
			d = strings.TrimSpace(d[len(a):])
			break
		}
	}
	if strings.HasSuffix(d, ".") && !germanDateRe.MatchString(d) {
		d = strings.TrimRight(d, ".")
	}
	return strings.TrimSpace(d)
}

var germanDateRe = regexp.MustCompile(`(?:^|\s)\d{1,2}\.\d{1,2}\.$`)

// cutMidDue takes a due phrase out of the middle of a sentence whose verb
// comes last.
func cutMidDue(s string) (due, rest string, ok bool) {
	for _, m := range midDueRe.FindAllStringSubmatchIndex(s, -1) {
		cand := s[m[4]:m[5]]
		// Try the longest date first: "Ende der Woche", then "Ende".
		words := strings.Fields(cand)
		for n := len(words); n >= 1; n-- {
			d := strings.Join(words[:n], " ")
			if looksLikeDate(d) {
				end := m[4] + strings.Index(s[m[4]:], d) + len(d)
				return d, strings.TrimSpace(s[:m[0]] + s[end:]), true
			}
		}
	}
	return "", s, false
}

// cutDue takes a due phrase off the end of s. Words such as "by", "bis" or
// "para" are common in ordinary sentences, so after them only a date counts.
func cutDue(s string, implicit bool) (due, rest string, ok bool) {
	for off := 0; off < len(s); {
		m := dueRe.FindStringSubmatchIndex(s[off:])
		if m == nil {
			break
		}
		kw := strings.ToLower(s[off+m[2] : off+m[3]])
		d := strings.TrimSpace(s[off+m[4] : off+m[5]])
		explicit := explicitDueRe.MatchString(kw)
		// "Due: ASAP" names a due date whatever it says; "due nuovi" (Italian
		// for two) does not, and "by", "bis", "para" need a date after them.
		colon := strings.Contains(s[off+m[2]:off+m[4]], ":")
		if off+m[0] > 0 && (explicit || implicit) && (looksLikeDate(d) || explicit && colon && wordCount(d) <= 4) {
			return d, strings.TrimSpace(s[:off+m[0]]), true
		}
		off += m[3]
	}
	return "", s, false
}

// looksLikeOwner accepts what an explicit owner field names: a person
// ("Ana Lima"), a list ("Ana, Ben"), an e-mail address or a lower-case handle.
func looksLikeOwner(s string) bool {
	if s == "" || utf8.RuneCountInString(s) > 80 {
		return false
	}
	if looksLikePerson(s) {
		return true
	}
	for _, part := range ownerListRe.Split(s, -1) {
		if part != "" && !looksLikePerson(part) && !strings.Contains(part, "@") {
			return false
		}
	}
	return true
}

// nameParticles may stand lower case inside a name: "Lotte van der Berg".
var nameParticles = map[string]bool{"van": true, "der": true, "den": true, "de": true, "von": true, "da": true, "di": true,
	"del": true, "della": true, "dos": true, "das": true, "do": true, "du": true, "la": true, "le": true, "ten": true, "ter": true, "zu": true}

// looksLikePerson accepts 1 to 3 capitalised words (plus particles such as
// "van der") that are not sentence starters, labels or heading words: "Note",
// "Decision" and "Q3" are no people.
func looksLikePerson(s string) bool {
	words := strings.Fields(s)
	if len(words) == 0 || len(words) > 5 {
		return false
	}
	caps := 0
	for i, w := range words {
		lw := strings.ToLower(w)
		// "van der", "De" in "Laura De Luca": particles inside a name.
		if nameParticles[lw] && i > 0 && i < len(words)-1 {
			continue
		}
		if notNames[lw] || labelSet[lw] || (len(words) == 1 && weekdaySet[strings.TrimSuffix(lw, ".")]) {
			return false
		}
		upper := 0
		for j, r := range w {
			if j == 0 {
				if !unicode.IsUpper(r) {
					return false
				}
				upper++
				continue
			}
			if unicode.IsUpper(r) {
				upper++
			}
			if !unicode.IsLetter(r) && r != '-' && r != '\'' && r != '’' && r != '.' {
				return false
			}
		}
		// "API", "QA": an acronym is a thing, not a person; "J." is an initial.
		if n := utf8.RuneCountInString(w); n > 1 && upper == n {
			return false
		}
		caps++
	}
	return caps >= 1 && caps <= 3
}

// notNames are capitalised words that start sentences but are no person, so
// "Decided to ..." or "We will ..." never make an owner.
var notNames = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`the we i you they he she it this that these those our team everyone someone somebody nobody all
decided agreed need needs plan plans want wants going remember try how what who why when where also and but then next action
decision a an if there here each both my your their his her its nothing no not one some any time goal idea options option tbd n/a
let lets let's please make keep use get go continue start stop consider discuss discussed
wir ich sie er es das die der den dem ein eine alle jeder jemand man bitte wenn dann auch und aber noch
nous je vous ils elles il elle on le la les un une tous tout chacun quelqu'un si puis aussi et mais
nosotros yo usted ellos ellas él ella el la los las un una todos alguien si luego también y pero se
wij we ik jij u zij ze hij het de een iedereen iemand als dan ook en maar
nós eu você vocês eles elas ele ela o a os as um uma todos alguém se então também e mas
noi io voi loro lui lei il lo la gli le un una tutti qualcuno se poi anche e ma si
neue neuer neues neuen weitere einige viele mehrere nouveaux nouvelles nuevos nuevas nieuwe novos novas nuovi nuove new several many`) {
		notNames[w] = true
	}
}

var dateShapeRe = regexp.MustCompile(`^(?:\d{4}|\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.-]\d{1,2}(?:[/.-]\d{2,4})?\.?|\d{1,2}(?:st|nd|rd|th|\.|er|º|°)?|kw\s?\d{1,2}|cw\s?\d{1,2}|w\d{1,2}|q[1-4])$`)

var relativeDates = strings.Fields(`today tomorrow tonight eod eow cob eom week month sprint quarter weekend end
heute morgen übermorgen woche monat wochenende ende kw
aujourd'hui demain semaine mois fin
hoy mañana semana mes fin
vandaag morgen week maand einde eind
hoje amanhã semana mês fim final
oggi domani settimana mese fine`)

var relativeSet = map[string]bool{}

func init() {
	for _, w := range relativeDates {
		relativeSet[w] = true
	}
}

// looksLikeDate reports whether s names a day: a weekday, a month, a date,
// or "next week", "Ende der Woche", "fin de mois" and the like. Every word
// must belong to the date, so "ridurre i ritardi entro venerdì" is none.
func looksLikeDate(s string) bool {
	words := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r == ' ' || r == ',' })
	if len(words) == 0 || len(words) > 5 {
		return false
	}
	named := false
	for _, w := range words {
		w = strings.Trim(w, "()")
		bare := strings.TrimSuffix(w, ".")
		switch {
		case weekdaySet[bare] || weekdaySet[strings.TrimSuffix(bare, "s")] || relativeSet[bare]:
			named = true
		case dateShapeRe.MatchString(w):
			if strings.ContainsAny(bare, "/.-") || strings.HasPrefix(w, "kw") || strings.HasPrefix(w, "cw") || strings.HasPrefix(w, "q") {
				named = true
			}
		case dateFillers[bare]:
		default:
			return false
		}
	}
	return named
}

// dateFillers may stand between the words of a date: "end of week", "5 de
// janeiro", "nächsten Montag", "la semaine prochaine".
var dateFillers = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`the of next this coming following at on in by de del di da do du der den dem des la le il el lo het van
nächsten nächste nächster kommenden kommende dieser diese prochain prochaine prochainement ce cette próximo próxima este esta
volgende deze komende próximo próxima este esta prossimo prossima questo questa
early mid late anfang mitte début milieu principios mediados começo meados inizio metà begin half`) {
		dateFillers[w] = true
	}
}

func startsLower(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsLower(r)
}

func wordCount(s string) int { return len(strings.Fields(s)) }
