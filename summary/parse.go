package summary

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
)

// Parsed is what ParseText found in a pasted summary.
type Parsed struct {
	Title    string
	Insights []devopsbot.Insight
}

// section is what the heading above a line says its items are. neutral means
// "no heading, or one that names a topic": the sentence itself decides.
type section int

const (
	neutral section = iota
	secInsight
	secDecision
	secNextStep
	secTask
)

func (s section) kind() devopsbot.Kind {
	switch s {
	case secDecision:
		return devopsbot.KindDecision
	case secNextStep:
		return devopsbot.KindNextStep
	case secTask:
		return devopsbot.KindTask
	}
	return devopsbot.KindInsight
}

var (
	mdHeadingRe = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
	bulletRe    = regexp.MustCompile(`^(?:[-*+•‣◦▪●–—]\s+|\d{1,3}[.)]\s+|[a-z][.)]\s+)`)
	checkboxRe  = regexp.MustCompile(`^(?:\[[ xX✓✔]?\]|[☐☑✅✔✓□■])\s*`)
	linkRe      = regexp.MustCompile(`\[([^\]\n]*)\]\(([^)\s]*)\)`)
	emphRe      = regexp.MustCompile(`(\*\*|__|~~)(.+?)(\*\*|__|~~)`)
	emph1Re     = regexp.MustCompile(`(^|[\s(])([*_])([^\s*_](?:[^*_]*[^\s*_])?)([*_])($|[\s).,;:!?])`)
	// Phrasing that makes a line a decision wherever it stands.
	decisionRe = regexp.MustCompile(`(?i)^(?:(?:the\s+)?\p{L}+\s+(?:agreed|decided)|decided|agreed|we will|we'll|we decided|we agreed|we have (?:decided|agreed)|the team (?:agreed|decided)|team (?:agreed|decided)|it was (?:agreed|decided)|everyone agreed|decision:|` +
		`wir haben (?:beschlossen|entschieden|vereinbart)|wir werden|beschlossen|entschieden|vereinbart|es wurde (?:beschlossen|entschieden|vereinbart)|das team hat (?:beschlossen|entschieden)|` +
		`nous avons (?:décidé|convenu)|on a (?:décidé|convenu)|il a été (?:décidé|convenu)|décidé|convenu|l'équipe a décidé|` +
		`se decidió|decidimos|acordamos|hemos (?:decidido|acordado)|se acordó|el equipo (?:decidió|acordó)|` +
		`we hebben (?:besloten|afgesproken)|besloten|afgesproken|het team heeft besloten|er is besloten|` +
		`ficou (?:decidido|acordado)|foi (?:decidido|acordado)|a equipe decidiu|concordamos|` +
		`abbiamo (?:deciso|concordato)|si è deciso|è stato (?:deciso|concordato)|deciso|concordato|il team ha deciso)(?:\s|[:,.]|$)`)
	// German notes put the verb last: "Angebot an den Kunden senden".
	germanInfinitiveRe = regexp.MustCompile(`(?i)\s(?:senden|schicken|aktualisieren|prüfen|erstellen|vorbereiten|klären|planen|buchen|teilen|schreiben|einrichten|testen|abstimmen|informieren|bestellen|anlegen|beheben|überarbeiten|ansetzen|einladen|freigeben)$`)
)

// toolLineRe is a header line a notes tool adds ("Notes by Gemini", "Read AI
// meeting report", "tl;dv notities"): it names the tool, not an item.
var toolLineRe = regexp.MustCompile(`(?i)(?:^|[\s(–—-])(?:otter(?:\.ai)?|fireflies(?:\.ai)?|gemini|copilot|fathom|tl;dv|read ai|read\.ai|zoom ai companion|notion ai)(?:$|[\s),:–—-])`)

var imperativeSet = map[string]bool{}

func init() {
	for _, v := range imperativeVerbs {
		imperativeSet[v] = true
	}
}

// parser holds what the lines read so far say about the next one.
type parser struct {
	p          Parsed
	sec        section
	owner      string // an owner heading ("**Ana Lima**") above items
	meta       bool   // under "Attendees", "Agenda" or similar
	sawHeading bool
	// topic is a heading that names no section; it becomes an item itself
	// when nothing follows it, so no line is dropped.
	topic string
	// structured is set when the notes have section headings, so a short
	// first line above them is the title even when another short line follows.
	structured bool
	err        error
}

// ParseText reads a summary pasted from a Teams recap, Copilot, Facilitator,
// Sally, Otter, Fireflies, Zoom, Gemini, Read.ai, Fathom, tl;dv, Notion or
// written by hand, in Markdown or plain text, in English, German, French,
// Spanish, Dutch, Portuguese or Italian, and finds its items.
//
// Headings (Markdown "#", a whole bold line, a line ending in ':', or a short
// line without closing punctuation above other lines) set the kind of the
// items under them when they name one (Decisions, Next steps, Action items,
// Key points... in each language). Under other headings a line is a decision
// when it says so ("we decided", "agreed", "beschlossen"...), a next step when
// it names an owner, a task when it starts with an instruction, and an
// insight otherwise. A person's name as a heading in an action section owns
// the items under it. Owners and due dates are taken from wherever the tools
// put them and removed from the text, and so are recording timestamps. A line
// that fits nowhere becomes an insight: nothing is dropped. The first heading,
// when it names no section, is the title. Ids are k1, k2, ... in order, so the
// same paste gives the same ids.
func ParseText(text string) (Parsed, error) {
	if utf8.RuneCountInString(text) > MaxTextLen {
		return Parsed{}, apperr.New(apperr.Invalid, fmt.Sprintf("That summary is too long: paste at most %d characters.", MaxTextLen))
	}
	text = CleanText(strings.ToValidUTF8(text, "\uFFFD"))
	text = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u2028", "\n", "\u2029", "\n", "\u00a0", " ", "\t", " ").Replace(text)
	var lines []string
	for _, raw := range strings.Split(text, "\n") {
		for _, part := range strings.Split(recoverLine(raw), "\n") {
			line := strings.TrimSpace(stripTimestamps(strings.TrimSpace(part)))
			if line == "" || isRule(line) {
				continue
			}
			lines = append(lines, line)
		}
	}
	var ps parser
	for _, line := range lines {
		if h, ok := headingOf(line, secTask, ""); ok {
			if _, known := sectionOf(normHeading(h)); known {
				ps.structured = true
				break
			}
		}
	}
	for i, line := range lines {
		next := ""
		if i+1 < len(lines) {
			next = lines[i+1]
		}
		ps.line(line, next)
		if ps.err != nil {
			return Parsed{}, ps.err
		}
	}
	ps.flushTopic()
	if ps.err != nil {
		return Parsed{}, ps.err
	}
	if len(ps.p.Insights) == 0 {
		return Parsed{}, apperr.New(apperr.Invalid, "I found no decisions, next steps, tasks or insights in that text. "+
			"Put each item on its own line, for example under headings such as \"Decisions\", \"Next steps\" or \"Action items\", one \"- item\" per line.")
	}
	return ps.p, nil
}

func (ps *parser) line(line, next string) {
	atStart := !ps.sawHeading && ps.p.Title == "" && len(ps.p.Insights) == 0 && ps.topic == ""
	if atStart && ps.structured && topicLike(line) || atStart && toolLineRe.MatchString(line) && len(strings.Fields(line)) <= 10 && !bulletRe.MatchString(line) {
		ps.heading(line)
		return
	}
	if h, ok := headingOf(line, ps.sec, next); ok {
		ps.heading(h)
		return
	}
	// A tool's header line ("Read AI meeting report") under the title.
	if len(ps.p.Insights) == 0 && ps.topic == "" && toolLineRe.MatchString(line) && len(strings.Fields(line)) <= 8 && !strings.ContainsAny(lastRune(line), ".!?") {
		return
	}
	body, bulleted := stripBullet(line)
	if body == "" {
		return
	}
	// Under "Attendees", "Agenda" or "Keywords" the lines describe the
	// meeting, not something to act on.
	if ps.meta {
		return
	}
	// A bold label followed by text on one line ("**Decisions:** ship it")
	// switches the section; a plain one ("Decision: ship it") sets the kind
	// of its own line; recap header lines ("**Date:** ...") are skipped.
	sec := ps.sec
	if label, rest, bold, ok := labelled(body); ok {
		if s, known := sectionOf(normHeading(label)); known && (bold || s != neutral) {
			if bold {
				ps.flushTopic()
				ps.sec, ps.owner = s, ""
			}
			sec, body = s, rest
		} else if !bulleted && isMeta(label) {
			return
		}
	}
	if body == "" {
		return
	}
	// "Assignee: Ana" or "Due: Friday" on its own line completes the item above.
	if n := len(ps.p.Insights); n > 0 {
		last := &ps.p.Insights[n-1]
		if m := ownerOnlyRe.FindStringSubmatch(body); m != nil && looksLikeOwner(strings.TrimPrefix(m[1], "@")) {
			if last.Owner == "" {
				last.Owner = truncateRunes(cleanInline(strings.TrimPrefix(m[1], "@")), MaxOwnerLen)
			}
			if m[2] != "" && last.Due == "" {
				last.Due = truncateRunes(cleanInline(m[2]), MaxDueLen)
			}
			return
		}
		if m := dueOnlyRe.FindStringSubmatch(body); m != nil && !bulleted {
			if last.Due == "" {
				last.Due = truncateRunes(cleanInline(m[1]), MaxDueLen)
			}
			return
		}
	}
	// In an action section a line that is only a name heads that person's items.
	if name := cleanInline(strings.TrimSuffix(body, ":")); (ps.sec == secTask || ps.sec == secNextStep) && !bulleted && next != "" &&
		looksLikePerson(name) && (len(strings.Fields(name)) >= 2 || strings.HasSuffix(body, ":") || strings.HasPrefix(body, "**")) {
		ps.flushTopic()
		ps.owner = cleanInline(strings.TrimSuffix(body, ":"))
		return
	}
	ps.topic = ""
	ps.add(parseItem(body, sec, ps.owner))
}

func (ps *parser) heading(h string) {
	norm := normHeading(h)
	ps.flushTopic()
	if s, known := sectionOf(norm); known {
		ps.sec, ps.owner, ps.meta, ps.sawHeading = s, "", false, true
		return
	}
	if metaSet[norm] {
		ps.meta, ps.owner = true, ""
		return
	}
	name := cleanInline(h)
	if (ps.sec == secTask || ps.sec == secNextStep) && looksLikePerson(name) {
		ps.owner, ps.meta = name, false
		return
	}
	if !ps.sawHeading && ps.p.Title == "" && len(ps.p.Insights) == 0 {
		ps.p.Title = truncateRunes(name, MaxTitleLen)
	} else {
		ps.topic = h
	}
	ps.sec, ps.owner, ps.meta, ps.sawHeading = neutral, "", false, true
}

// flushTopic turns a topic heading that nothing followed into an item.
func (ps *parser) flushTopic() {
	if ps.topic == "" {
		return
	}
	t := ps.topic
	ps.topic = ""
	ps.add(parseItem(t, neutral, ""))
}

func (ps *parser) add(in devopsbot.Insight, ok bool) {
	if !ok || ps.err != nil {
		return
	}
	if len(ps.p.Insights) == MaxInsights {
		ps.err = apperr.New(apperr.Invalid, fmt.Sprintf("That summary has more than %d items: split it into smaller parts.", MaxInsights))
		return
	}
	in.ID = fmt.Sprintf("k%d", len(ps.p.Insights)+1)
	ps.p.Insights = append(ps.p.Insights, in)
}

// headingOf reports whether line is a heading and returns its words.
func headingOf(line string, cur section, next string) (string, bool) {
	if m := mdHeadingRe.FindStringSubmatch(line); m != nil {
		return m[1], strings.TrimSpace(cleanInline(m[1])) != ""
	}
	if bulletRe.MatchString(line) || checkboxRe.MatchString(line) {
		return "", false
	}
	// A whole bold line: **Decisions** or __Decisions:__ or **Decisions**:
	for _, d := range []string{"**", "__"} {
		l := strings.TrimSuffix(line, ":")
		if strings.HasPrefix(l, d) && strings.HasSuffix(l, d) && len(l) > 2*len(d) {
			inner := strings.TrimSpace(l[len(d) : len(l)-len(d)])
			if !strings.Contains(inner, d) && inner != "" {
				return strings.TrimSuffix(inner, ":"), true
			}
		}
	}
	words := len(strings.Fields(line))
	if strings.HasSuffix(line, ":") && words <= 8 && utf8.RuneCountInString(line) <= 80 {
		return strings.TrimSuffix(line, ":"), true
	}
	if _, known := sectionOf(normHeading(line)); known && words <= 6 {
		return line, true
	}
	if metaSet[normHeading(line)] {
		return line, true
	}
	// A short line alone without closing punctuation names a topic, but only
	// where the section does not already say what its lines are (under
	// "Action items" a bare "Update the docs" is an item), and only above a
	// line that reads like an item rather than another short line.
	if cur == neutral && topicLike(line) && next != "" && !topicLike(next) {
		return line, true
	}
	return "", false
}

// topicLike is a short capitalised line without closing punctuation that
// does not read as an item (no owner, no decision, no instruction).
func topicLike(line string) bool {
	if bulletRe.MatchString(line) || checkboxRe.MatchString(line) || mdHeadingRe.MatchString(line) || strings.HasSuffix(line, ":") {
		return false
	}
	if _, known := sectionOf(normHeading(line)); known || isMetaLine(line) || toolLineRe.MatchString(line) {
		return false
	}
	words := strings.Fields(line)
	if len(words) == 0 || len(words) > 8 || utf8.RuneCountInString(line) > 80 || strings.ContainsAny(lastRune(line), ".!?;,") {
		return false
	}
	first, _ := utf8.DecodeRuneInString(strings.TrimLeftFunc(line, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }))
	if !unicode.IsUpper(first) && !unicode.IsDigit(first) {
		return false
	}
	if decisionRe.MatchString(line) || imperativeSet[strings.ToLower(words[0])] {
		return false
	}
	if o, _, _ := extractOwnerDue(line, true, false); o != "" {
		return false
	}
	return true
}

func parseItem(body string, sec section, groupOwner string) (devopsbot.Insight, bool) {
	in, ok := parseItemDue(body, sec, groupOwner, true)
	// "before January", "am 3. März", "per il 9 gennaio" in a decision or an
	// insight say when something happens, not when work is due.
	if ok && in.Due != "" && (in.Kind == devopsbot.KindDecision || in.Kind == devopsbot.KindInsight) {
		if again, ok2 := parseItemDue(body, sec, groupOwner, false); ok2 {
			return again, true
		}
	}
	return in, ok
}

func parseItemDue(body string, sec section, groupOwner string, implicitDue bool) (devopsbot.Insight, bool) {
	var in devopsbot.Insight
	owner, due, text := extractOwnerDue(cleanInline(body), implicitDue, sec == secTask || sec == secNextStep)
	text = cleanInline(text)
	if text == "" {
		// "Ana Lima: (05:12)" leaves nothing to do: keep the line as it was.
		text = cleanInline(body)
		owner, due = "", ""
	}
	if text == "" {
		return in, false
	}
	if owner == "" {
		owner = groupOwner
	}
	in.Owner = cleanInline(owner)
	in.Due = cleanInline(due)
	text = capitalise(text)
	switch {
	case sec != neutral:
		in.Kind = sec.kind()
	case decisionRe.MatchString(text):
		in.Kind = devopsbot.KindDecision
	case in.Owner != "":
		in.Kind = devopsbot.KindNextStep
	case isInstruction(text):
		in.Kind = devopsbot.KindTask
	default:
		in.Kind = devopsbot.KindInsight
	}
	in.Text = truncateRunes(text, MaxInsightText)
	in.Owner = truncateRunes(in.Owner, MaxOwnerLen)
	in.Due = truncateRunes(in.Due, MaxDueLen)
	return in, true
}

// isInstruction reports a line that tells someone to do something: it starts
// with an imperative ("Send the deck", "Enviar el informe") or, in German,
// ends with the infinitive ("Angebot senden").
func isInstruction(text string) bool {
	words := strings.Fields(text)
	if len(words) < 2 {
		return false
	}
	if imperativeSet[strings.ToLower(strings.Trim(words[0], ",:"))] {
		return true
	}
	return germanInfinitiveRe.MatchString(strings.TrimRight(text, " "))
}

func stripBullet(line string) (string, bool) {
	loc := bulletRe.FindStringIndex(line)
	bulleted := loc != nil
	if bulleted {
		line = line[loc[1]:]
	}
	if loc := checkboxRe.FindStringIndex(line); loc != nil {
		line = line[loc[1]:]
		bulleted = true
	}
	return strings.TrimSpace(line), bulleted
}

// labelled splits "**Label:** rest", "**Label**: rest" and "Label: rest"
// (a plain label of at most four words).
func labelled(s string) (label, rest string, bold, ok bool) {
	for _, d := range []string{"**", "__"} {
		if strings.HasPrefix(s, d) {
			if end := strings.Index(s[len(d):], d); end > 0 {
				l := strings.TrimSpace(s[len(d) : len(d)+end])
				r := strings.TrimSpace(s[2*len(d)+end:])
				if strings.HasSuffix(l, ":") || strings.HasPrefix(r, ":") {
					return strings.TrimSuffix(l, ":"), strings.TrimSpace(strings.TrimPrefix(r, ":")), true, true
				}
			}
		}
	}
	if i := strings.Index(s, ":"); i > 0 && i < 60 && len(strings.Fields(s[:i])) <= 4 {
		return s[:i], strings.TrimSpace(s[i+1:]), false, true
	}
	return "", "", false, false
}

// cleanInline strips Markdown emphasis and code marks and turns links into
// "text (url)", because items become plain work item titles.
func cleanInline(s string) string {
	s = linkRe.ReplaceAllStringFunc(s, func(m string) string {
		sm := linkRe.FindStringSubmatch(m)
		switch {
		case sm[1] == "":
			return sm[2]
		case sm[2] == "" || sm[1] == sm[2]:
			return sm[1]
		}
		return sm[1] + " (" + sm[2] + ")"
	})
	for i := 0; i < 3; i++ { // nested emphasis such as ***x***
		n := emphRe.ReplaceAllString(s, "$2")
		n = emph1Re.ReplaceAllString(n, "$1$3$5")
		if n == s {
			break
		}
		s = n
	}
	s = strings.ReplaceAll(s, "`", "")
	return strings.Join(strings.Fields(s), " ")
}

func isRule(line string) bool {
	t := strings.ReplaceAll(line, " ", "")
	if len(t) < 3 {
		return false
	}
	return strings.Trim(t, "-") == "" || strings.Trim(t, "*") == "" || strings.Trim(t, "_") == "" || strings.Trim(t, "=") == ""
}

func capitalise(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || !unicode.IsLower(r) {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

func lastRune(s string) string {
	r, _ := utf8.DecodeLastRuneInString(s)
	return string(r)
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n]))
}
