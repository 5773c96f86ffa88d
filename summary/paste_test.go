package summary

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
)

// compactJSON puts a JSON document on one line, as a client that loses line
// breaks does.
func compactJSON(t testing.TB, b []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestPastedJSONShapesGiveTheSameSummary(t *testing.T) {
	pretty := string(readFixture(t, "weekly-sync.json"))
	oneLine := compactJSON(t, []byte(pretty))
	// A log viewer that wrapped a long line in the middle of a string.
	wrapped := strings.Replace(oneLine, "most of it is", "most of it\nis", 1)
	wantText := "Checkout latency doubled after the November release; most of it is the new address-validation call."
	cases := map[string]string{
		"pretty":             pretty,
		"one line":           oneLine,
		"fenced":             "```json\n" + pretty + "\n```",
		"fenced on one line": "```json " + oneLine + " ```",
		"tilde fence":        "~~~\n" + pretty + "~~~",
		"label line":         "summary:\n" + pretty,
		"label and fence":    "Summary:\n```json\n" + pretty + "\n```\n",
		"log prefix":         "2026-11-24T09:46:02Z INFO delivery body=" + oneLine,
		"wrapped by a log":   wrapped,
		"smart quotes":       strings.ReplaceAll(strings.Replace(oneLine, `"`, "\u201c", 1), `":`, "\u201d:"),
	}
	for name, text := range cases {
		t.Run(name, func(t *testing.T) {
			if !LooksLikeJSON(text) {
				t.Fatal("not recognised as JSON")
			}
			p, err := ParsePaste(text)
			if err != nil {
				t.Fatalf("ParsePaste: %v", err)
			}
			if !p.FromJSON || p.Meeting.Title != "Web Portal weekly sync" || p.Meeting.Start.Format("2006-01-02T15:04") != "2026-11-24T09:00" {
				t.Fatalf("meeting = %+v (json %v)", p.Meeting, p.FromJSON)
			}
			if len(p.Insights) != 6 {
				t.Fatalf("want the 6 insights of the JSON, got %d: %+v", len(p.Insights), p.Insights)
			}
			if in := p.Insights[0]; in.ID != "i1" || in.Kind != devopsbot.KindInsight || in.Text != wantText {
				t.Errorf("first insight = %+v", in)
			}
			if in := p.Insights[4]; in.ID != "t1" || in.Kind != devopsbot.KindTask || in.Owner != "Adele Vance" || in.Due != "2026-11-28" {
				t.Errorf("task = %+v", in)
			}
		})
	}
}

func TestPastedJSONIgnoresTargetAndID(t *testing.T) {
	// No id, a deliverTo naming some other chat (in any spelling), no title:
	// still a summary for this chat.
	for _, text := range []string{
		`{"deliverTo":{"userAadObjectIds":["not-a-guid"]},"insights":[{"id":"a","kind":"task","text":"Fix the build"}]}`,
		`{"ID":"` + strings.Repeat("x", 500) + `","DeliverTo":{"userAadObjectIds":["not-a-guid"]},"meeting":{"title":" "},"insights":[{"id":"a","kind":"task","text":"Fix the build"}]}`,
	} {
		p, err := ParsePaste(text)
		if err != nil {
			t.Fatalf("ParsePaste: %v", err)
		}
		if p.Meeting.Title != DefaultPasteTitle || len(p.Insights) != 1 || p.Insights[0].Text != "Fix the build" {
			t.Fatalf("pasted = %+v", p)
		}
	}
	// The text variant is parsed like notes.
	p, err := ParsePaste(`{"meeting":{"title":"Standup"},"text":"## Decisions\n- Ship it"}`)
	if err != nil || p.Meeting.Title != "Standup" || len(p.Insights) != 1 || p.Insights[0].Kind != devopsbot.KindDecision {
		t.Fatalf("text variant: %+v, %v", p, err)
	}
}

func TestBrokenJSONGetsAClearMessage(t *testing.T) {
	pretty := string(readFixture(t, "weekly-sync.json"))
	cases := map[string]struct{ text, want string }{
		"cut off":        {pretty[:len(pretty)/2], "cut off"},
		"missing comma":  {strings.Replace(pretty, `"kind": "decision",`, `"kind": "decision"`, 1), "line 14, column 38"},
		"python repr":    {`{'id': 'x', 'insights': []}`, "not valid JSON"},
		"fenced, broken": {"```json\n{\"meeting\": {\"title\": \"x\",}}\n```", "not valid JSON"},
		"bad kind":       {`{"insights":[{"id":"a","kind":"chore","text":"x"}]}`, `insights[0].kind: must be one of`},
		"no insights":    {`{"meeting":{"title":"x"}}`, "give either insights or text"},
		"empty object":   {`{}`, "give either insights or text"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParsePaste(c.text)
			if err == nil {
				t.Fatal("accepted")
			}
			msg := apperr.UserMessage(err)
			if !apperr.Is(err, apperr.Invalid) || !strings.Contains(msg, "looks like a summary in JSON") || !strings.Contains(msg, c.want) {
				t.Fatalf("message %q lacks %q", msg, c.want)
			}
		})
	}
}

func TestNotesWithBracesStayNotes(t *testing.T) {
	for _, text := range []string{
		"{Draft} Sprint review\n## Decisions\n- Ship it\n- Use {placeholders} in templates",
		"Decisions:\n- Keep the {name} syntax\n- Drop the survey",
		"## Action items\n- Alex: add a JSON example like {\"a\": 1}\n- Lee: review",
	} {
		if LooksLikeJSON(text) {
			t.Errorf("notes taken for JSON: %q", text)
		}
		p, err := ParsePaste(text)
		if err != nil || p.FromJSON || len(p.Insights) < 2 {
			t.Errorf("notes %q: %+v, %v", text, p, err)
		}
	}
}

func TestContentKeyIgnoresHowTheTextWasTyped(t *testing.T) {
	base := "Sprint 42 review\n\n## Decisions\n- Ship 4.2 to 20% of users on Monday\n\n## Action items\n- [ ] @Lee Gu: update the “release notes” by Friday\n"
	key := func(text string) string {
		t.Helper()
		p, err := ParsePaste(text)
		if err != nil {
			t.Fatalf("ParsePaste(%q): %v", text, err)
		}
		return ContentKey(p.Meeting, p.Insights)
	}
	want := key(base)
	same := map[string]string{
		"CRLF and tabs":       strings.ReplaceAll(strings.ReplaceAll(base, "\n", "\r\n"), "- ", "-\t"),
		"blank lines, indent": strings.ReplaceAll(base, "\n", "\n\n  "),
		"other bullets":       strings.ReplaceAll(base, "- ", "• "),
		"spaces in lines":     strings.ReplaceAll(strings.ReplaceAll(base, " ", "  "), "[  ]", "[ ]"), // "[  ]" is no check box to the parser
		"invisible chars":     strings.ReplaceAll(base, "Ship", "\u200bShip\u200e"),
		"straight quotes":     strings.NewReplacer("“", `"`, "”", `"`).Replace(base),
		"decomposed accents":  strings.ReplaceAll(base, "Monday", "Monday cafe\u0301"),
	}
	// The composed form of the last one must give the same key as the decomposed.
	if key(strings.ReplaceAll(base, "Monday", "Monday café")) != key(same["decomposed accents"]) {
		t.Error("NFC and NFD spellings give different keys")
	}
	delete(same, "decomposed accents")
	for name, text := range same {
		if got := key(text); got != want {
			t.Errorf("%s: key changed", name)
		}
	}
	for name, text := range map[string]string{
		"a changed word":  strings.Replace(base, "Monday", "Tuesday", 1),
		"another title":   strings.Replace(base, "Sprint 42", "Sprint 43", 1),
		"another owner":   strings.Replace(base, "@Lee Gu", "@Lee Ga", 1),
		"another kind":    strings.Replace(base, "## Action items", "## Decisions 2", 1),
		"an item dropped": strings.Replace(base, "- Ship 4.2 to 20% of users on Monday\n", "", 1),
	} {
		if key(text) == want {
			t.Errorf("%s: same key for different content", name)
		}
	}
}

func TestContentKeyKeepsFieldsApart(t *testing.T) {
	a := ContentKey(devopsbot.Meeting{Title: "T"}, []devopsbot.Insight{{Kind: devopsbot.KindTask, Text: "ab", Owner: "c"}})
	b := ContentKey(devopsbot.Meeting{Title: "T"}, []devopsbot.Insight{{Kind: devopsbot.KindTask, Text: "a", Owner: "bc"}})
	c := ContentKey(devopsbot.Meeting{Title: "T"}, []devopsbot.Insight{{Kind: devopsbot.KindTask, Text: "ab c"}})
	if a == b || a == c || b == c {
		t.Fatal("moving text between fields kept the key")
	}
	// Ids do not count: the same content under other ids is the same summary.
	if ContentKey(devopsbot.Meeting{Title: "T"}, []devopsbot.Insight{{ID: "k1", Kind: devopsbot.KindTask, Text: "x"}}) !=
		ContentKey(devopsbot.Meeting{Title: "T"}, []devopsbot.Insight{{ID: "t9", Kind: devopsbot.KindTask, Text: "x"}}) {
		t.Fatal("insight ids changed the key")
	}
}

func FuzzParsePaste(f *testing.F) {
	pretty := readFixture(f, "weekly-sync.json")
	f.Add(string(pretty))
	f.Add("```json\n" + compactJSON(f, pretty) + "\n```")
	f.Add("summary:\n" + string(pretty[:200]))
	f.Add(`{'id': 1}`)
	f.Add("{Draft}\n- a\n- b")
	f.Add("x= {\"text\":\"# T\\n- a\"}")
	f.Add(string(readFixture(f, "sprint-review.md")))
	f.Fuzz(func(t *testing.T, s string) {
		looks := LooksLikeJSON(s)
		p, err := ParsePaste(s)
		if err != nil {
			if !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("non-Invalid error %v", err)
			}
			msg := apperr.UserMessage(err)
			if looks != strings.Contains(msg, "in JSON") {
				t.Fatalf("JSON-looking %v but message %q", looks, msg)
			}
			if !utf8.ValidString(msg) || len(msg) > 1000 {
				t.Fatalf("message not fit for a chat: %q", msg)
			}
			return
		}
		if p.FromJSON != looks {
			t.Fatalf("FromJSON %v, LooksLikeJSON %v", p.FromJSON, looks)
		}
		if p.Meeting.Title == "" || len(p.Insights) == 0 || len(p.Insights) > MaxInsights {
			t.Fatalf("pasted without error: title %q, %d insights", p.Meeting.Title, len(p.Insights))
		}
		ids := map[string]bool{}
		for i, in := range p.Insights {
			if in.Text == "" || in.ID == "" || ids[in.ID] {
				t.Fatalf("item %d empty or repeated: %+v", i, in)
			}
			ids[in.ID] = true
			if _, ok := ParseKind(string(in.Kind)); !ok {
				t.Fatalf("item %d kind %q", i, in.Kind)
			}
		}
		// A fence around JSON changes nothing; the same paste gives the same key.
		key := ContentKey(p.Meeting, p.Insights)
		if looks && !strings.Contains(s, "```") {
			q, err := ParsePaste("```json\n" + s + "\n```")
			if err != nil || ContentKey(q.Meeting, q.Insights) != key {
				t.Fatalf("fenced copy differs: %v", err)
			}
		}
	})
}

func FuzzContentKey(f *testing.F) {
	f.Add("Weekly sync", "task", "Add a timeout\tto the client", "Adele Vance", "2026-11-28")
	f.Add("", "decision", "café\u0301 “x”", "", "")
	f.Add("\u200b", "insight", " a  b ", "\ufeff", "\r\n")
	f.Fuzz(func(t *testing.T, title, kind, text, owner, due string) {
		in := []devopsbot.Insight{{Kind: devopsbot.Kind(kind), Text: text, Owner: owner, Due: due}}
		k := ContentKey(devopsbot.Meeting{Title: title}, in)
		if len(k) != 64 {
			t.Fatalf("key %q", k)
		}
		// More white space, anywhere white space is, is the same content.
		spaced := func(s string) string { return " \t" + strings.ReplaceAll(s, " ", " \n ") + "\r\n" }
		in2 := []devopsbot.Insight{{Kind: devopsbot.Kind(kind), Text: spaced(text), Owner: spaced(owner), Due: spaced(due)}}
		if ContentKey(devopsbot.Meeting{Title: spaced(title)}, in2) != k {
			t.Fatal("extra white space changed the key")
		}
		// Moving the insight into the title is other content.
		if normContent(text) != "" && ContentKey(devopsbot.Meeting{Title: title + text}, []devopsbot.Insight{{Kind: devopsbot.Kind(kind), Owner: owner, Due: due}}) == k {
			t.Fatal("moving text between fields kept the key")
		}
	})
}
