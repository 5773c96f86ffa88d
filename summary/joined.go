package summary

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Some clients join the lines of a pasted summary: the Agents Playground drops
// the breaks ("## Decisions- Ship it.- Drop it."), others turn them into
// spaces ("Decisions: • Ship it • Drop it Next steps: …"). RecoverLines puts
// the breaks back where list markers, check boxes and heading words show
// them. It only acts on a long line with at least two such marks, so an
// ordinary sentence with a dash is left alone.

var (
	// A marker glued to the previous character: "Monday.- Drop", "logs## Next".
	gluedMarkRe = regexp.MustCompile(`([^\s#*|\[(])((?:[-*•] \[[ xX]\] )|(?:[-*•] )|(?:#{1,6} )|(?:\*\*[^*\n]{1,40}\*\*))`)
	// A numbered item glued to a word or a sentence end: "items1. Fix", "it.2. Test".
	gluedNumRe = regexp.MustCompile(`(^|[^\d])([\p{L}!?)])(\d{1,2}[.)] )`)
	// Markers that never occur inside a sentence, after a space.
	spacedMarkRe = regexp.MustCompile(`([^\s\-*•])\s+((?:[•▪◦‣●] )|(?:[-*] \[[ xX]\] )|(?:\[[ xX]\] )|(?:[☐☑✅✔] )|(?:#{1,6} ))`)
	// A dash or number item after a sentence end: "Monday. - Drop", "it. 2. Test".
	sentenceMarkRe = regexp.MustCompile(`([.!?:)])\s+((?:[-*] )|(?:\d{1,2}[.)] ))`)
	// A numbered item after a word: "… Laura Vidal 2. Camila …", taken only
	// when the number before it was seen, so "den 1. März" stays whole.
	spacedNumRe = regexp.MustCompile(`(\p{L})\s+(\d{1,2})([.)] \p{Lu})`)
)

// RecoverLines re-inserts the line breaks of a summary whose client joined
// its lines, and returns the text unchanged otherwise.
func RecoverLines(s string) string {
	var b strings.Builder
	for i, line := range strings.Split(s, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(recoverLine(line))
	}
	return b.String()
}

func recoverLine(line string) string {
	if utf8.RuneCountInString(line) < 60 {
		return line
	}
	marks := len(gluedMarkRe.FindAllStringIndex(line, 3)) + len(gluedNumRe.FindAllStringIndex(line, 3)) +
		len(spacedMarkRe.FindAllStringIndex(line, 3)) + len(sentenceMarkRe.FindAllStringIndex(line, 3)) +
		len(headingPhraseRe.FindAllStringIndex(line, 3))
	if marks < 2 {
		return line
	}
	line = gluedMarkRe.ReplaceAllString(line, "$1\n$2")
	line = gluedNumRe.ReplaceAllString(line, "$1$2\n$3")
	line = spacedMarkRe.ReplaceAllString(line, "$1\n$2")
	line = sentenceMarkRe.ReplaceAllString(line, "$1\n$2")
	line = spacedNumRe.ReplaceAllStringFunc(line, func(m string) string {
		sm := spacedNumRe.FindStringSubmatch(m)
		n, err := strconv.Atoi(sm[2])
		if err != nil || n < 2 || !strings.Contains(line, strconv.Itoa(n-1)+sm[3][:1]+" ") {
			return m
		}
		return sm[1] + "\n" + sm[2] + sm[3]
	})
	line = headingPhraseRe.ReplaceAllStringFunc(line, func(m string) string {
		sm := headingPhraseRe.FindStringSubmatch(m)
		lead, head, sep := sm[1], sm[2], sm[3]
		if strings.TrimSpace(lead) == "**" || strings.TrimSpace(lead) == "" && lead != "" && !startsUpper(head) {
			// "**Decisions:** …" stays one labelled line; "the next
			// steps: …" inside a sentence is no heading.
			return m
		}
		// Split "Next steps: - Anna …" into the heading and its first item.
		if strings.Contains(sep, ":") {
			return strings.TrimRight(lead, " ") + "\n" + head + ":\n" + strings.TrimLeft(sep[strings.Index(sep, ":")+1:], " ")
		}
		return strings.TrimRight(lead, " ") + "\n" + head + "\n" + strings.TrimLeft(sep, " \n")
	})
	return line
}

func startsUpper(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return unicode.IsUpper(r)
		}
	}
	return false
}
