package summary

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
	"time"
	"unicode"

	"github.com/sally-devops/devopsbot"
	"golang.org/x/text/unicode/norm"
)

// ContentKey names what a summary says, independently of how it was typed or
// which id it came with: the meeting's title and start, then each insight's
// kind, text, owner and due date, in order. Text is compared after Unicode NFC,
// with invisible characters (zero-width spaces, BOM, bidi marks, controls)
// removed, typographic quotes made plain and every run of white space made one
// space, because those differ between clients copying the same notes while the
// words stay the same. Insight ids are left out: a paste numbers them itself and
// a sender's ids say nothing about the content. Case and punctuation count: a
// changed word is a changed summary.
//
// The key is what makes "the same summary in the same chat" one summary: a
// re-paste, and a delivery of the same content under another id.
func ContentKey(m devopsbot.Meeting, insights []devopsbot.Insight) string {
	h := sha256.New()
	field := func(s string) { writeField(h, normContent(s)) }
	writeField(h, "content-v1")
	field(m.Title)
	start := ""
	if !m.Start.IsZero() {
		start = m.Start.UTC().Format(time.RFC3339)
	}
	writeField(h, start)
	writeField(h, fmt.Sprint(len(insights)))
	for _, in := range insights {
		field(string(in.Kind))
		field(in.Text)
		field(in.Owner)
		field(in.Due)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// writeField length-prefixes s so that ("ab","c") and ("a","bc") stay apart.
func writeField(h hash.Hash, s string) {
	fmt.Fprintf(h, "%d:%s;", len(s), s)
}

var plainQuotes = strings.NewReplacer("\u2018", "'", "\u2019", "'", "\u201a", "'", "\u201b", "'",
	"\u201c", `"`, "\u201d", `"`, "\u201e", `"`, "\u201f", `"`)

// normContent is the form of a text that ContentKey compares.
func normContent(s string) string {
	// CleanText drops what every text loses; the key also ignores joiners and
	// soft hyphens, which change how a word breaks, not what it says.
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return ' '
		case r == '\u200c' || r == '\u200d' || r == '\u00ad':
			return -1
		}
		return r
	}, CleanText(s))
	s = norm.NFC.String(s)
	s = plainQuotes.Replace(s)
	return strings.Join(strings.Fields(s), " ")
}
