package cards

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/cards/cardstest"
)

func TestSummaryActionContract(t *testing.T) {
	v := weeklySync(t)
	cards := summaryCards(v)
	if len(cards) != 1 {
		t.Fatalf("%d cards for a small summary", len(cards))
	}
	c := cards[0]
	for _, in := range v.Insights {
		for verb, title := range map[string]string{"create": "Create work item", "comment": "Add comment"} {
			a := findFor(t, c, verb, in.ID)
			if a["type"] != "Action.Submit" || a["title"] != title {
				t.Errorf("%s/%s: %v", verb, in.ID, a)
			}
			want := map[string]any{"msteams": map[string]any{"type": "task/fetch"}, "sally": verb, "summaryId": v.SummaryID, "insightId": in.ID}
			if !reflect.DeepEqual(a["data"], want) {
				t.Errorf("%s/%s data = %v", verb, in.ID, a["data"])
			}
		}
	}
	raw := string(mustJSON(c))
	// Groups appear in the product's order, each insight under its kind.
	order := []string{`"Tasks"`, "Add a timeout and circuit breaker", `"Next steps"`, "Alex to share", `"Decisions"`, "Roll back address validation", `"Insights"`, "Checkout latency doubled"}
	pos := -1
	for _, s := range order {
		i := strings.Index(raw, s)
		if i < pos {
			t.Errorf("%q out of order", s)
		}
		pos = i
	}
	for _, s := range []string{"Owner: Adele Vance", "Due: 2026-11-28", "Created Task 1234: Add a timeout (by Adele Vance)",
		"{{DATE(2026-11-24T09:00:00Z, SHORT)}} {{TIME(2026-11-24T09:00:00Z)}} – {{TIME(2026-11-24T09:45:00Z)}}"} {
		if !strings.Contains(raw, s) {
			t.Errorf("summary card lacks %q", s)
		}
	}
	if _, ok := findURL(c, "https://dev.azure.com/fabrikam/_workitems/edit/1234"); !ok {
		t.Error("no link to the created work item")
	}
}

func findFor(t *testing.T, card any, verb, insightID string) map[string]any {
	t.Helper()
	var found map[string]any
	cardstest.Walk(card, func(m map[string]any) bool {
		if d, ok := m["data"].(map[string]any); ok && d["sally"] == verb && d["insightId"] == insightID {
			found = m
			return false
		}
		return true
	})
	if found == nil {
		t.Fatalf("no %q action for insight %q", verb, insightID)
	}
	return found
}

func findURL(card any, url string) (map[string]any, bool) {
	var found map[string]any
	cardstest.Walk(card, func(m map[string]any) bool {
		if m["type"] == "Action.OpenUrl" && m["url"] == url {
			found = m
			return false
		}
		return true
	})
	return found, found != nil
}

func TestFormContracts(t *testing.T) {
	ids := map[string]any{"summaryId": "s1", "insightId": "t1"}
	merge := func(verb string, extra map[string]any) map[string]any {
		m := map[string]any{"sally": verb}
		for k, v := range ids {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	all := allCards(t)
	tests := []struct {
		card, verb, typ, title string
		data                   map[string]any
		extra                  map[string]any // other properties the action must have
	}{
		{"CreateForm", "create.submit", "Action.Submit", "Create work item", merge("create.submit", nil), nil},
		{"CreateForm", "create.reload", "Action.Submit", "Load choices", merge("create.reload", nil), map[string]any{"associatedInputs": "auto"}},
		{"CommentForm", "comment.submit", "Action.Submit", "Add comment", merge("comment.submit", nil), nil},
		{"ConnectPrompt", "connect.org", "Action.Execute", "Continue", map[string]any{"sally": "connect.org"}, map[string]any{"verb": "connect.org"}},
		{"ConnectSignIn", "connect.signin", "Action.Execute", "Sign in", map[string]any{"sally": "connect.signin", "org": "https://dev.azure.com/fabrikam"}, map[string]any{"verb": "connect.signin"}},
		{"ConnectSignIn", "connect.code", "Action.Execute", "Finish connecting", map[string]any{"sally": "connect.code", "org": "https://dev.azure.com/fabrikam"}, map[string]any{"verb": "connect.code"}},
		{"Reconnect", "connect.signin", "Action.Execute", "Sign in again", map[string]any{"sally": "connect.signin", "org": "https://dev.azure.com/fabrikam"}, map[string]any{"verb": "connect.signin"}},
		{"DialogConnect", "dialog.connect", "Action.Submit", "Continue", merge("dialog.connect", map[string]any{"next": "create"}), nil},
		{"DialogSignIn", "dialog.code", "Action.Submit", "Finish connecting", merge("dialog.code", map[string]any{"next": "comment"}), nil},
	}
	for _, tt := range tests {
		a, ok := cardstest.FindAction(all[tt.card], tt.verb)
		if !ok {
			t.Errorf("%s: no %s action", tt.card, tt.verb)
			continue
		}
		if a["type"] != tt.typ || a["title"] != tt.title || !reflect.DeepEqual(a["data"], tt.data) {
			t.Errorf("%s %s = %v", tt.card, tt.verb, a)
		}
		for k, v := range tt.extra {
			if a[k] != v {
				t.Errorf("%s %s: %s = %v, want %v", tt.card, tt.verb, k, a[k], v)
			}
		}
	}
	if _, ok := findURL(all["DialogSignIn"], "https://bot.example/oauth/start?s=abc"); !ok {
		t.Error("dialog sign-in has no link")
	}
	if _, ok := cardstest.FindAction(all["Help"], "create"); ok {
		t.Error("FindAction found a verb that is not there")
	}
}

func TestFormInputs(t *testing.T) {
	all := allCards(t)
	type want struct {
		typ      string
		required bool
		value    any
	}
	check := func(card string, wants map[string]want) {
		in := cardstest.Inputs(all[card])
		if len(in) != len(wants) {
			t.Errorf("%s: inputs %v", card, keys(in))
		}
		for id, w := range wants {
			e, ok := in[id]
			if !ok {
				t.Errorf("%s: no input %q", card, id)
				continue
			}
			if e["type"] != w.typ || e["isRequired"] != w.required || e["value"] != w.value {
				t.Errorf("%s %s = %v, want %+v", card, id, e, w)
			}
		}
	}
	check("CreateForm", map[string]want{
		"project": {"Input.ChoiceSet", true, "web"}, "workItemType": {"Input.ChoiceSet", true, nil},
		"assignedTo": {"Input.ChoiceSet", true, nil}, "areaPath": {"Input.ChoiceSet", true, nil},
		"iterationPath": {"Input.ChoiceSet", true, nil}, "title": {"Input.Text", true, "Add a timeout"},
		"description": {"Input.Text", false, "full text"}, "parent": {"Input.Text", false, nil},
	})
	// Before a project's choices are loaded, Area and Iteration are not shown:
	// they cannot block "Load choices", and an empty drop-down is invalid.
	check("CreateForm/unloaded", map[string]want{
		"project": {"Input.ChoiceSet", true, nil}, "workItemType": {"Input.ChoiceSet", true, nil},
		"assignedTo": {"Input.ChoiceSet", true, nil}, "title": {"Input.Text", true, nil},
		"description": {"Input.Text", false, nil}, "parent": {"Input.Text", false, nil},
	})
	// A custom type's required fields are asked (checked by the bot, so they
	// never block "Load choices"), its due date is a date, Parent a typeahead.
	check("CreateForm/custom type", map[string]want{
		"project": {"Input.ChoiceSet", true, "web"}, "workItemType": {"Input.ChoiceSet", true, nil},
		"assignedTo": {"Input.ChoiceSet", true, nil}, "areaPath": {"Input.ChoiceSet", true, nil},
		"iterationPath": {"Input.ChoiceSet", true, nil}, "title": {"Input.Text", true, "Refunds"},
		"description": {"Input.Text", false, nil}, "parent": {"Input.ChoiceSet", false, "1"}, "dueDate": {"Input.Date", false, "2026-11-28"},
		FieldInputPrefix + "Custom.Severity": {"Input.ChoiceSet", false, "2 - High"}, FieldInputPrefix + "Custom.Ticket": {"Input.Text", false, "<b>T-1</b>"},
	})
	if all["CreateForm/custom type"]["version"] != "1.6" || all["CreateForm"]["version"] != "1.5" {
		t.Error("the create form is 1.6 only with the parent typeahead")
	}
	if ds := cardstest.Inputs(all["CreateForm/custom type"])["parent"]["choices.data"]; ds == nil || ds.(map[string]any)["dataset"] != "parents:web" {
		t.Errorf("parent typeahead data = %v", ds)
	}
	if l := cardstest.Inputs(all["CreateForm/custom type"])[FieldInputPrefix+"Custom.Severity"]["label"]; l != "Severity (required)" {
		t.Errorf("severity label = %v", l)
	}
	if ml := cardstest.Inputs(all["CreateForm"])["title"]["maxLength"]; ml != float64(255) {
		t.Errorf("title maxLength %v", ml)
	}
	check("CommentForm", map[string]want{"workItemId": {"Input.Text", true, "#12"}, "comment": {"Input.Text", true, "hello"}})
	check("CommentForm/search", map[string]want{"workItemSearch": {"Input.ChoiceSet", false, nil}, "workItemId": {"Input.Text", false, nil}, "comment": {"Input.Text", true, nil}})
	// Without a work item to offer, the typeahead would be an empty drop-down
	// the renderer refuses: the number field is the way, and it is required.
	check("CommentForm/search nothing recent", map[string]want{"workItemId": {"Input.Text", true, nil}, "comment": {"Input.Text", true, nil}})
	if all["CommentForm"]["version"] != "1.5" || all["CommentForm/search"]["version"] != "1.6" || all["CommentForm/search nothing recent"]["version"] != "1.5" {
		t.Error("comment form versions")
	}
	ws := cardstest.Inputs(all["CommentForm/search"])["workItemSearch"]
	if d, _ := ws["choices.data"].(map[string]any); d["type"] != "Data.Query" || d["dataset"] != "workitems" {
		t.Errorf("search input %v", ws)
	}
	if c, _ := ws["choices"].([]any); len(c) != 1 || ws["style"] != "filtered" {
		t.Errorf("search input offers %v", ws["choices"])
	}
	check("ConnectPrompt", map[string]want{"orgUrl": {"Input.Text", true, nil}})
	check("ConnectPrompt/error", map[string]want{"orgUrl": {"Input.Text", true, "https://example.com/x"}})
	check("ConnectSignIn", map[string]want{"code": {"Input.Text", true, nil}})
	check("DialogConnect", map[string]want{"orgUrl": {"Input.Text", true, nil}})
	check("DialogSignIn", map[string]want{"code": {"Input.Text", true, nil}})
	o := cardstest.Inputs(all["ConnectPrompt"])["orgUrl"]
	if o["label"] != "Azure DevOps organization URL" || o["placeholder"] != "https://dev.azure.com/your-org" {
		t.Errorf("orgUrl %v", o)
	}
	raw := string(mustJSON(all["ConnectPrompt"]))
	for _, s := range []string{"Paste only your organization's base URL", "https://dev.azure.com/fabrikam/ProjectX/\\\\_git/WebPortal/pullrequest/860 becomes https://dev.azure.com/fabrikam"} {
		if !strings.Contains(raw, s) {
			t.Errorf("connect card lacks %q", s)
		}
	}
	raw = string(mustJSON(all["ConnectSignIn"]))
	for _, s := range []string{"Organization: fabrikam (https://dev.azure.com/fabrikam)", "works once, for 10 minutes"} {
		if !strings.Contains(raw, s) {
			t.Errorf("sign-in card lacks %q", s)
		}
	}
	if !strings.Contains(string(mustJSON(all["ConnectPrompt/error"])), "That is not an Azure DevOps URL.") {
		t.Error("error reason not shown")
	}
}

func keys(m map[string]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// textsOf returns every TextBlock text of a card.
func textsOf(card any) []string {
	var out []string
	cardstest.Walk(card, func(m map[string]any) bool {
		if m["type"] == "TextBlock" {
			out = append(out, m["text"].(string))
		}
		return true
	})
	return out
}

// unescape undoes CommonMark backslash escapes, as Teams' renderer does.
func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.ContainsRune("\\`*_{}[]()<>#+-.!|~&", rune(s[i+1])) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func TestEscapingEdgeCases(t *testing.T) {
	v := sampleView(t, "edge-cases.json")
	cards := summaryCards(v)
	var texts []string
	for i, c := range cards {
		validate(t, fmt.Sprint("edge/", i), c)
		texts = append(texts, textsOf(c)...)
	}
	shown := map[string]bool{}
	for _, s := range texts {
		shown[unescape(s)] = true
		// No Markdown or markup may survive unescaped.
		if strings.HasPrefix(s, "{{DATE(") {
			continue // our own date line
		}
		for i := 0; i < len(s); i++ {
			if strings.ContainsRune("*[]<>`{}_", rune(s[i])) && (i == 0 || s[i-1] != '\\') {
				t.Errorf("unescaped %q at %d in %q", s[i], i, s)
			}
		}
	}
	for _, want := range []string{v.Meeting.Title, v.Insights[0].Text, v.Insights[1].Text, v.Insights[3].Text, v.Insights[4].Text} {
		if !shown[want] {
			t.Errorf("%q is not shown literally; texts: %q", want, texts)
		}
	}
	if got := Escape("<script>alert('x')</script>"); got != `\<script\>alert('x')\</script\>` {
		t.Errorf("Escape(script) = %q", got)
	}
	for in, want := range map[string]string{
		"- not a list": `\- not a list`, "1. not a list": `1\. not a list`, "# no heading": `\# no heading`,
		"{{DATE(2026-01-01T00:00:00Z)}}": `\{\{DATE(2026-01-01T00:00:00Z)\}\}`, "a\nb\r\n\tc": "a b c", "&lt;": `\&lt;`,
		"<at>Megan</at>": `\<at\>Megan\</at\>`,
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
	// Values of inputs are never Markdown: the create form keeps the text exactly.
	f := CreateForm(CreateFormView{SummaryID: "s", InsightID: "html", Values: CreateValues{Title: v.Insights[0].Text}, Error: "**bad** <b>"})
	if cardstest.Inputs(f)["title"]["value"] != v.Insights[0].Text {
		t.Error("title input value altered")
	}
	if strings.Contains(string(mustJSON(f)), "**bad**") {
		t.Error("Azure DevOps error shown as Markdown")
	}
}

func TestSummarySplitsLargeSummaries(t *testing.T) {
	v := SummaryView{SummaryID: "big", Meeting: devopsbot.Meeting{Title: "Big meeting"}}
	long := strings.Repeat("Ünïcödé *stars* and [brackets] make this insight long. ", 80) // ~4400 bytes, escaped more
	for i := range 100 {
		in := InsightView{Insight: devopsbot.Insight{ID: fmt.Sprint("i", i), Kind: devopsbot.Kinds[i%4], Text: long[:3900], Owner: "Megan Bowen", Due: "Friday"}}
		if i%10 == 0 {
			in.Results = []ResultView{{WorkItemID: 1000 + i, WorkItemType: "Task", Title: long[:250], URL: "https://dev.azure.com/fabrikam/_workitems/edit/1", By: "Adele Vance"}}
		}
		v.Insights = append(v.Insights, in)
	}
	cards := summaryCards(v)
	if len(cards) < 2 {
		t.Fatalf("100 long insights fit one card?")
	}
	seen := map[string]int{}
	for i, c := range cards {
		raw := mustJSON(c)
		if len(raw) > MaxCardBytes {
			t.Errorf("card %d is %d bytes", i, len(raw))
		}
		if !strings.Contains(string(raw), fmt.Sprintf("Part %d of %d", i+1, len(cards))) || !strings.Contains(string(raw), "Big meeting") {
			t.Errorf("card %d lacks its title or part line", i)
		}
		validate(t, fmt.Sprint("big/", i), c)
		for _, in := range v.Insights {
			if _, ok := findForOK(c, "create", in.ID); ok {
				seen[in.ID]++
			}
		}
	}
	for _, in := range v.Insights {
		if seen[in.ID] != 1 {
			t.Errorf("insight %s on %d cards", in.ID, seen[in.ID])
		}
	}
}

func findForOK(card any, verb, id string) (map[string]any, bool) {
	var found map[string]any
	cardstest.Walk(card, func(m map[string]any) bool {
		if d, ok := m["data"].(map[string]any); ok && d["sally"] == verb && d["insightId"] == id {
			found = m
			return false
		}
		return true
	})
	return found, found != nil
}

func TestErrorAndResultCards(t *testing.T) {
	all := allCards(t)
	for name, want := range map[string][]string{
		"Error":       {"Could not create", "Try later", "Please try again in 30 seconds.", "Reference: ref-1"},
		"Created":     {"Work item created", `Created Bug 42: Fix \<b\>it\</b\> (by Megan Bowen)`},
		"Commented":   {"Comment added", "Commented on Bug 42"},
		"AlreadyDone": {"Already done", "Created Bug 42", "nothing new was created"},
		"Working":     {"Creating…"},
		"Connected":   {"Organization: fabrikam", "Signed in as Megan Bowen (megan@contoso.com)"},
	} {
		raw := strings.Join(textsOf(all[name]), "\n")
		for _, s := range want {
			if !strings.Contains(raw, s) {
				t.Errorf("%s lacks %q: %s", name, s, raw)
			}
		}
	}
	if _, ok := findURL(all["AlreadyDone"], "https://dev.azure.com/fabrikam/_workitems/edit/42"); !ok {
		t.Error("AlreadyDone has no link to the existing work item")
	}
	// A non-https link is never offered.
	if _, ok := findURL(Created(ResultView{WorkItemID: 1, URL: "javascript:alert(1)"}), "javascript:alert(1)"); ok {
		t.Error("javascript: link offered")
	}
}

func BenchmarkSummary100(b *testing.B) {
	v := SummaryView{SummaryID: "big", Meeting: devopsbot.Meeting{Title: "Big"}}
	for i := range 100 {
		v.Insights = append(v.Insights, InsightView{Insight: devopsbot.Insight{ID: fmt.Sprint(i), Kind: devopsbot.KindTask, Text: strings.Repeat("word ", 200)}})
	}
	for b.Loop() {
		summaryCards(v)
	}
}

// summaryCards is a summary's cards without their insight ids.
func summaryCards(v SummaryView) []Card {
	var out []Card
	for _, c := range Summary(v) {
		out = append(out, c.Card)
	}
	return out
}

// Each card of a summary names exactly the insights whose buttons it carries
// (the bot updates and answers clicks by these ids), also when the summary
// splits into parts and some insights wait behind "Show N more".
func TestSummaryCardsNameTheirInsights(t *testing.T) {
	v := longSummary(t, false)
	for i := 0; i < 40; i++ {
		in := v.Insights[0]
		in.ID = fmt.Sprintf("big-%d", i)
		in.Text = strings.Repeat("A long insight that fills the card. ", 25)
		v.Insights = append(v.Insights, in)
	}
	parts := Summary(v)
	if len(parts) < 2 {
		t.Fatalf("want a split summary, got %d card", len(parts))
	}
	seen := map[string]int{}
	for i, p := range parts {
		var onCard []string
		for _, in := range v.Insights {
			if carriesButtonsFor(p.Card, in.ID) {
				onCard = append(onCard, in.ID)
			}
		}
		got := slices.Clone(p.InsightIDs)
		slices.Sort(got)
		slices.Sort(onCard)
		if !slices.Equal(got, onCard) {
			t.Errorf("part %d names %v, carries buttons for %v", i+1, got, onCard)
		}
		for _, id := range p.InsightIDs {
			seen[id]++
		}
	}
	for _, in := range v.Insights {
		if seen[in.ID] != 1 {
			t.Errorf("insight %s is named by %d cards, want 1", in.ID, seen[in.ID])
		}
	}
}

// carriesButtonsFor reports whether a card has a form button for insightID.
func carriesButtonsFor(c Card, insightID string) bool {
	found := false
	cardstest.Walk(c, func(m map[string]any) bool {
		if d, ok := m["data"].(map[string]any); ok && d[DataInsightID] == insightID {
			found = true
			return false
		}
		return true
	})
	return found
}
