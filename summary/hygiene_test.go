package summary

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sally-devops/devopsbot"
)

func TestCleanText(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain text is untouched", "Ship 4.2 — ünïcödé 会议 <b>&", "Ship 4.2 — ünïcödé 会议 <b>&"},
		{"layout stays", "a\tb\nc\r\nd", "a\tb\nc\r\nd"},
		{"NUL", "Fix\x00 the build\x00", "Fix the build"},
		{"other controls", "a\x01\x07\x1b[31mb\x7f\u0085\u009bc", "a[31mbc"},
		{"right-to-left override", "Pay invoice \u202e0001\u202c now", "Pay invoice 0001 now"},
		{"every embedding and override", "\u202aa\u202bb\u202cc\u202dd\u202ee", "abcde"},
		{"isolates", "\u2066x\u2067y\u2068z\u2069", "xyz"},
		{"direction marks", "\u200eleft\u200f right\u061c", "left right"},
		{"zero-width space, word joiner, BOM", "\ufeffhe\u200bl\u2060p", "help"},
		{"joiner inside an ASCII word", "he\u200dl\u200cp", "help"},
		{"joiner at the edges", "\u200dhelp\u200c", "help"},
		{"joiner next to a space", "é \u200dé", "é é"},
		{"emoji sequence keeps its joiner", "Pair with 👩\u200d💻 on it", "Pair with 👩\u200d💻 on it"},
		{"Persian keeps its non-joiner", "می\u200cخواهم", "می\u200cخواهم"},
		{"a joiner survives a removed mark beside it", "👩\u200f\u200d💻", "👩\u200d💻"},
		{"doubled joiners collapse", "👩\u200d\u200d💻", "👩\u200d💻"},
		{"invalid UTF-8 becomes U+FFFD", "a\xffb\x00", "a\ufffdb"},
		{"invalid bytes never join into a character", "\xe2\x80\x00\xae", "\ufffd\ufffd\ufffd"}, // would be U+202E
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := CleanText(tc.in); got != tc.want {
				t.Errorf("CleanText(%+q) = %+q, want %+q", tc.in, got, tc.want)
			}
		})
	}
}

func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"help", "a\x00b\u202ec", "👩\u200d💻", "می\u200cخواهم", "\ufeff\u200b\u2060\u200e\u200f", "é\u200d\u200bé", "\xff\u200d\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := CleanText(in)
		if again := CleanText(out); again != out {
			t.Fatalf("not idempotent: %+q -> %+q -> %+q", in, out, again)
		}
		if strings.ContainsFunc(out, invisible) {
			t.Fatalf("CleanText(%+q) = %+q keeps an invisible character", in, out)
		}
		if !utf8.ValidString(out) {
			t.Fatalf("CleanText(%+q) = %+q is not valid UTF-8", in, out)
		}
		// It only removes: the output is the input's characters (an invalid
		// byte counting as U+FFFD) with some left out.
		rest := []rune(in)
		for _, r := range out {
			at := slices.Index(rest, r)
			if at < 0 {
				t.Fatalf("CleanText(%+q) = %+q added %+q", in, out, r)
			}
			rest = rest[at+1:]
		}
		// A joiner it keeps sits between two non-ASCII characters.
		rs := []rune(out)
		for i, r := range rs {
			if (r == '\u200c' || r == '\u200d') && (i == 0 || i == len(rs)-1 || rs[i-1] < utf8.RuneSelf || rs[i+1] < utf8.RuneSelf) {
				t.Fatalf("CleanText(%+q) = %+q keeps a joiner next to ASCII or an edge", in, out)
			}
		}
	})
}

// The text a person sees is the text we keep: the controls that hide or
// reorder it are gone from what a paste or a delivery gives to a card and a work item.
func TestPastedSummaryIsCleaned(t *testing.T) {
	p, err := ParseText("# Weekly\u202e sync\x00\n## Action items\n- @Ade\u200ble Vance: pay invoice \u202e0001\u202c\x00 now\n- Fix the \u2066build\u2069 (owner: Lee\x00 Gu\u200f)")
	if err != nil {
		t.Fatal(err)
	}
	if p.Title != "Weekly sync" {
		t.Errorf("title %+q", p.Title)
	}
	assertInsights(t, p.Insights, []devopsbot.Insight{
		{ID: "k1", Kind: devopsbot.KindTask, Text: "Pay invoice 0001 now", Owner: "Adele Vance"},
		{ID: "k2", Kind: devopsbot.KindTask, Text: "Fix the build", Owner: "Lee Gu"},
	})
}

func TestDeliveredSummaryIsCleaned(t *testing.T) {
	delivery := func(insights ...map[string]any) []byte {
		body, _ := json.Marshal(map[string]any{
			"id":        "s1",
			"meeting":   map[string]any{"title": "Weekly\x00 sync\u202e", "organizer": "Megan\u2067 Bowen", "participants": []string{"Lee\x00 Gu"}},
			"deliverTo": map[string]any{"conversationId": "19:x@thread.v2"},
			"insights":  insights,
		})
		return body
	}
	t1 := map[string]any{"id": "t1", "kind": "task", "text": "Pay invoice \u202e0001\u202c\x00 now", "owner": "Adele\u2066 Vance\u2069", "due": "2026-11-28\x00"}
	_, err := DecodeDelivery(delivery(t1, map[string]any{"id": "t2", "kind": "task", "text": "\x00\u202e"}))
	ve, ok := err.(*ValidationError)
	if !ok || len(ve.Problems) != 1 || ve.Problems[0].Field != "insights[1].text" || ve.Problems[0].Message != "is required" {
		t.Fatalf("a text of nothing but controls is an empty text: %v", err)
	}
	d, err := DecodeDelivery(delivery(t1))
	if err != nil {
		t.Fatalf("NUL and bidi controls are removed, not refused: %v", err)
	}
	if d.Meeting.Title != "Weekly sync" || d.Meeting.Organizer != "Megan Bowen" || d.Meeting.Participants[0] != "Lee Gu" {
		t.Errorf("meeting %+v", d.Meeting)
	}
	assertInsights(t, d.Insights, []devopsbot.Insight{{ID: "t1", Kind: devopsbot.KindTask, Text: "Pay invoice 0001 now", Owner: "Adele Vance", Due: "2026-11-28"}})

	text, _ := json.Marshal(map[string]any{"id": "s2", "meeting": map[string]any{"title": "m"}, "deliverTo": map[string]any{"conversationId": "c"},
		"text": "Action items\n- Fix the \u2066build\u2069\x00"})
	d, err = DecodeDelivery(text)
	if err != nil || d.Insights[0].Text != "Fix the build" || strings.ContainsFunc(d.Text, invisible) {
		t.Fatalf("delivered text: %+v, %v", d, err)
	}
}
