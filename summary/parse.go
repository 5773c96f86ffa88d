package summary

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sally-devops/devopsbot/apperr"
)

// Parsed is what ParseText found in a pasted summary.
type Parsed struct {
	Title    string
	Insights []Insight
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

func (s section) kind() Kind {
	switch s {
	case secDecision:
		return KindDecision
	case secNextStep:
		return KindNextStep
	case secTask:
		return KindTask
	}
	return KindInsight
}

// knownHeading maps a heading's words to a section. Keys are lower case with
// punctuation and emphasis removed.
var knownHeading = map[string]section{
	"decisions": secDecision, "decision": secDecision, "key decisions": secDecision, "decisions made": secDecision,
	"next steps": secNextStep, "next step": secNextStep, "follow ups": secNextStep, "follow-ups": secNextStep, "followups": secNextStep,
	"action items": secTask, "action item": secTask, "actions": secTask, "follow-up tasks": secTask, "follow up tasks": secTask,
	"tasks": secTask, "task": secTask, "to-dos": secTask, "todos": secTask, "to dos": secTask, "todo": secTask, "to-do": secTask,
	"key insights": secInsight, "insights": secInsight, "highlights": secInsight, "key highlights": secInsight, "key points": secInsight,
	"takeaways": secInsight, "key takeaways": secInsight,
	"notes": neutral, "meeting notes": neutral, "summary": neutral, "discussion": neutral, "recap": neutral, "meeting recap": neutral,
}

// metaLabels are header lines of a recap ("Date: ...") that describe the
// meeting rather than say something worth acting on.
var metaLabels = []string{"date", "time", "when", "where", "location", "attendees", "participants", "present", "absent",
	"organizer", "organiser", "invited", "duration", "recorded", "meeting", "facilitator", "note taker", "apologies"}

var (
	mdHeadingRe = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
	bulletRe    = regexp.MustCompile(`^(?:[-*+•‣◦▪–]\s+|\d{1,3}[.)]\s+)`)
	checkboxRe  = regexp.MustCompile(`^\[[ xX✓✔]?\]\s*`)
	atOwnerRe   = regexp.MustCompile(`^@([^:]{1,80}?)\s*:\s*(.+)$`)
	ownerParRe  = regexp.MustCompile(`(?i)\s*\((?:owner|assigned to|assignee|owners?)\s*:?\s*([^)]{1,100})\)`)
	dueRe       = regexp.MustCompile(`(?i)(?:\s+[—–-]+\s*|\s*\(\s*|\s*,\s*|\s+)(?:due|by)\s*:?\s+([^()—–]{1,60}?)\s*\)?\s*\.?$`)
	willRe      = regexp.MustCompile(`^(.{1,80}?)\s+(?:will|to|is going to|shall)\s+\S`)
	linkRe      = regexp.MustCompile(`\[([^\]\n]*)\]\(([^)\s]*)\)`)
	emphRe      = regexp.MustCompile(`(\*\*|__|~~)(.+?)(\*\*|__|~~)`)
	emph1Re     = regexp.MustCompile(`(^|[\s(])([*_])([^\s*_](?:[^*_]*[^\s*_])?)([*_])($|[\s).,;:!?])`)
	decisionRe  = regexp.MustCompile(`(?i)^(?:decided|agreed|we will|we'll|we decided|we agreed|the team agreed|the team decided|team agreed|team decided|decision:)\b`)
)

// notNames are capitalised words that start sentences but are no person, so
// "Decided to ..." or "We will ..." never make an owner.
var notNames = map[string]bool{
	"the": true, "we": true, "i": true, "you": true, "they": true, "he": true, "she": true, "it": true, "this": true,
	"that": true, "these": true, "those": true, "our": true, "team": true, "everyone": true, "someone": true,
	"somebody": true, "nobody": true, "all": true, "decided": true, "agreed": true, "need": true, "needs": true,
	"plan": true, "plans": true, "want": true, "wants": true, "going": true, "remember": true, "try": true,
	"how": true, "what": true, "who": true, "why": true, "when": true, "where": true, "also": true, "and": true,
	"but": true, "then": true, "next": true, "action": true, "decision": true, "a": true, "an": true, "if": true,
	"there": true, "here": true, "each": true, "both": true, "my": true, "your": true, "their": true, "his": true,
	"her": true, "its": true, "nothing": true, "no": true, "not": true, "one": true, "some": true, "any": true,
	"time": true, "goal": true, "idea": true, "options": true, "option": true, "tbd": true, "n/a": true,
}

// ParseText reads a summary pasted from a Teams recap, Copilot, Sally or
// another note taker, in Markdown or plain text, and finds its items.
//
// Headings (Markdown "#", a whole bold line, a plain line ending in ':', or in
// a topic part of the notes, a short line without closing punctuation) set
// the kind of the items under them when they name one (Decisions, Next steps,
// Action items, Tasks, To-dos, Key insights, Highlights...). Under other
// headings a sentence is a decision when it starts with Decided, Agreed or We
// will, a next step when it starts with a person who "will"/"to" do something,
// and an insight otherwise. The first heading, when it names no section, is
// the title. Ids are k1, k2, ... in order, so the same paste gives the same ids.
func ParseText(text string) (Parsed, error) {
	var p Parsed
	if utf8.RuneCountInString(text) > MaxTextLen {
		return p, apperr.New(apperr.Invalid, fmt.Sprintf("That summary is too long: paste at most %d characters.", MaxTextLen))
	}
	text = CleanText(strings.ToValidUTF8(text, "\uFFFD"))
	text = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u2028", "\n", "\u00a0", " ", "\t", " ").Replace(text)

	sec := neutral
	sawHeading := false
	for _, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || isRule(line) {
			continue
		}
		if h, ok := headingOf(line, sec); ok {
			s, known := knownHeading[normHeading(h)]
			if known {
				sec = s
			} else {
				if !sawHeading && p.Title == "" && len(p.Insights) == 0 {
					p.Title = truncateRunes(cleanInline(h), MaxTitleLen)
				}
				sec = neutral
			}
			sawHeading = true
			continue
		}
		body, bulleted := stripBullet(line)
		if body == "" {
			continue
		}
		// A bold label followed by text on one line ("**Decisions:** ship it")
		// switches the section; recap header lines ("**Date:** ...") are skipped.
		if label, rest, ok := labelled(body); ok {
			if s, known := knownHeading[normHeading(label)]; known {
				sec = s
				body = rest
			} else if !bulleted && len(p.Insights) == 0 && isMeta(label) {
				continue
			}
		} else if !bulleted && len(p.Insights) == 0 && isMetaLine(body) {
			continue
		}
		in, ok := parseItem(body, sec)
		if !ok {
			continue
		}
		if len(p.Insights) == MaxInsights {
			return Parsed{}, apperr.New(apperr.Invalid, fmt.Sprintf("That summary has more than %d items: split it into smaller parts.", MaxInsights))
		}
		in.ID = fmt.Sprintf("k%d", len(p.Insights)+1)
		p.Insights = append(p.Insights, in)
	}
	if len(p.Insights) == 0 {
		return Parsed{}, apperr.New(apperr.Invalid, "I found no decisions, next steps, tasks or insights in that text. "+
			"Put each item on its own line, for example under headings such as \"Decisions\", \"Next steps\" or \"Action items\", one \"- item\" per line.")
	}
	return p, nil
}

// headingOf reports whether line is a heading and returns its words.
func headingOf(line string, cur section) (string, bool) {
	if m := mdHeadingRe.FindStringSubmatch(line); m != nil {
		return m[1], strings.TrimSpace(m[1]) != ""
	}
	if bulletRe.MatchString(line) {
		return "", false
	}
	// A whole bold line: **Decisions** or __Decisions:__
	for _, d := range []string{"**", "__"} {
		if strings.HasPrefix(line, d) && strings.HasSuffix(line, d) && len(line) > 2*len(d) {
			inner := strings.TrimSpace(line[len(d) : len(line)-len(d)])
			if !strings.Contains(inner, d) && inner != "" {
				return strings.TrimSuffix(inner, ":"), true
			}
		}
	}
	words := len(strings.Fields(line))
	if strings.HasSuffix(line, ":") && words <= 8 && utf8.RuneCountInString(line) <= 80 {
		return strings.TrimSuffix(line, ":"), true
	}
	if _, known := knownHeading[normHeading(line)]; known {
		return line, true
	}
	// A short line alone without closing punctuation names a topic, but only
	// where the section does not already say what its lines are: under
	// "Action items" a bare "Update the docs" is an item.
	if cur == neutral && words <= 8 && utf8.RuneCountInString(line) <= 80 && !strings.ContainsAny(lastRune(line), ".!?;,") {
		first, _ := utf8.DecodeRuneInString(line)
		if unicode.IsUpper(first) || unicode.IsDigit(first) {
			return line, true
		}
	}
	return "", false
}

func parseItem(body string, sec section) (Insight, bool) {
	var in Insight
	text := body
	if m := atOwnerRe.FindStringSubmatch(text); m != nil {
		in.Owner = strings.TrimSpace(m[1])
		text = capitalise(strings.TrimSpace(m[2]))
	}
	if m := ownerParRe.FindStringSubmatchIndex(text); m != nil {
		if in.Owner == "" {
			in.Owner = strings.TrimSpace(text[m[2]:m[3]])
		}
		text = strings.TrimSpace(text[:m[0]] + text[m[1]:])
	}
	if m := dueRe.FindStringSubmatchIndex(text); m != nil && m[0] > 0 {
		due := strings.TrimSpace(text[m[2]:m[3]])
		// "by" is too common in ordinary sentences; take it only with a date-like word.
		kw := strings.ToLower(text[m[0]:m[2]])
		if strings.Contains(kw, "due") || looksLikeDate(due) {
			in.Due = cleanInline(due)
			text = strings.TrimSpace(text[:m[0]])
		}
	}
	text = cleanInline(text)
	if text == "" {
		return in, false
	}
	in.Owner = cleanInline(strings.TrimPrefix(in.Owner, "@"))
	if in.Owner == "" {
		if m := willRe.FindStringSubmatch(text); m != nil && looksLikePerson(m[1]) {
			in.Owner = m[1]
		}
	}
	switch {
	case sec != neutral:
		in.Kind = sec.kind()
	case decisionRe.MatchString(text):
		in.Kind = KindDecision
	case in.Owner != "":
		in.Kind = KindNextStep
	default:
		in.Kind = KindInsight
	}
	in.Text = truncateRunes(text, MaxInsightText)
	in.Owner = truncateRunes(in.Owner, MaxOwnerLen)
	in.Due = truncateRunes(in.Due, MaxDueLen)
	return in, true
}

// looksLikePerson accepts 1 to 3 capitalised words that are not sentence starters.
func looksLikePerson(s string) bool {
	words := strings.Fields(s)
	if len(words) == 0 || len(words) > 3 {
		return false
	}
	for _, w := range words {
		if notNames[strings.ToLower(w)] {
			return false
		}
		for i, r := range w {
			if i == 0 {
				if !unicode.IsUpper(r) {
					return false
				}
				continue
			}
			if !unicode.IsLetter(r) && r != '-' && r != '\'' && r != '’' && r != '.' {
				return false
			}
		}
	}
	return true
}

var dateWords = regexp.MustCompile(`(?i)^(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|tomorrow|tonight|eod|eow|end of (?:day|week|month|sprint)|next \w+|this \w+|mon|tue|wed|thu|fri|\d{4}-\d{2}-\d{2}|\d{1,2}[/.]\d{1,2}(?:[/.]\d{2,4})?|\d{1,2} \w+|\w+ \d{1,2}(?:st|nd|rd|th)?)$`)

func looksLikeDate(s string) bool { return dateWords.MatchString(strings.TrimSpace(s)) }

func stripBullet(line string) (string, bool) {
	loc := bulletRe.FindStringIndex(line)
	bulleted := loc != nil
	if bulleted {
		line = line[loc[1]:]
	}
	if loc := checkboxRe.FindStringIndex(line); loc != nil && (bulleted || strings.HasPrefix(line, "[")) {
		line = line[loc[1]:]
		bulleted = true
	}
	return strings.TrimSpace(line), bulleted
}

// labelled splits "**Label:** rest" and "Label: rest" (label of at most four words).
func labelled(s string) (label, rest string, ok bool) {
	for _, d := range []string{"**", "__"} {
		if strings.HasPrefix(s, d) {
			if end := strings.Index(s[len(d):], d); end > 0 {
				l := strings.TrimSpace(s[len(d) : len(d)+end])
				r := strings.TrimSpace(s[2*len(d)+end:])
				if strings.HasSuffix(l, ":") || strings.HasPrefix(r, ":") {
					return strings.TrimSuffix(l, ":"), strings.TrimSpace(strings.TrimPrefix(r, ":")), true
				}
			}
		}
	}
	return "", "", false
}

func isMeta(label string) bool {
	l := normHeading(label)
	for _, m := range metaLabels {
		if l == m {
			return true
		}
	}
	return false
}

func isMetaLine(s string) bool {
	i := strings.IndexByte(s, ':')
	return i > 0 && i < 30 && isMeta(s[:i])
}

// normHeading lowercases and strips emphasis, trailing colons and extra spaces.
func normHeading(h string) string {
	h = strings.ToLower(cleanInline(h))
	h = strings.TrimRight(h, ": ")
	return strings.Join(strings.Fields(h), " ")
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
