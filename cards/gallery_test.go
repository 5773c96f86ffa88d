package cards

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot"
)

// The renderer check: every card the bot can send, built by the real card
// functions, goes through the official Adaptive Cards renderer
// (../cardcheck/check.mjs), which clicks every button the way Teams does.
// Our other tests post invokes by hand; Teams builds them from the card, so
// only this check notices a button that cannot be clicked.

// galleryEntry is one card (or a split summary's cards) as the bot builds it;
// build is called twice, outside and inside demo mode.
type galleryEntry struct {
	name  string
	build func(demo bool) []Card
}

// card is a gallery entry for a card function with a Demo field.
func card(name string, build func(demo bool) Card) galleryEntry {
	return galleryEntry{name, func(demo bool) []Card { return []Card{build(demo)} }}
}

// plain is a gallery entry for a card built without a view; in demo mode the
// bot adds the banner with WithDemoBanner.
func plain(name string, c Card) galleryEntry {
	return galleryEntry{name, func(demo bool) []Card {
		if demo {
			return []Card{WithDemoBanner(c)}
		}
		return []Card{c}
	}}
}

// inCard is the same entry as the Universal Actions client (FORMS=card, the
// Agents Playground) gets it.
func inCard(e galleryEntry) galleryEntry {
	return galleryEntry{e.name + " in card", func(demo bool) []Card {
		var out []Card
		for _, c := range e.build(demo) {
			out = append(out, AsUniversalActions(c))
		}
		return out
	}}
}

const galleryOrg = "https://dev.azure.com/fabrikam"

// gallery is every card the bot can send. Adding a card is one line; a card
// with a new action verb also needs it in Verbs (verbs.go), its line in
// clickContracts, and a case in the bot (TestVerbsAreExactlyWhatTheCardsSend
// and the bot's dispatch tests say which is missing).
func gallery(t testing.TB) []galleryEntry {
	result := ResultView{WorkItemID: 42, WorkItemType: "Bug", Title: "Fix the checkout timeout", URL: galleryOrg + "/_workitems/edit/42", By: "Megan Bowen", At: at}
	choices := func(vs ...string) []Choice {
		var out []Choice
		for _, v := range vs {
			out = append(out, Choice{Value: v})
		}
		return out
	}
	createView := func(demo bool) CreateFormView {
		return CreateFormView{Demo: demo, SummaryID: "s1", InsightID: "t1", Insight: "Add a timeout and circuit breaker to the payment call",
			Projects: choices("Web Portal", "Mobile"), WorkItemTypes: choices("Task", "Bug", "User Story"),
			People: []Choice{{Title: "Megan Bowen (megan@contoso.com)", Value: "megan@contoso.com"}, {Title: "Adele Vance (adele@contoso.com)", Value: "adele@contoso.com"}},
			Areas:  choices(`Web Portal`, `Web Portal\Checkout`), Iterations: choices(`Web Portal\Sprint 42`, `Web Portal\Sprint 43`),
			Values: CreateValues{Project: "Web Portal", WorkItemType: "Task", AssignedTo: "adele@contoso.com", AreaPath: `Web Portal\Checkout`,
				IterationPath: `Web Portal\Sprint 42`, Title: "Add a timeout and circuit breaker to the payment call", Description: "From the meeting \"Weekly sync\"."}}
	}
	commentView := func(demo bool) CommentFormView {
		return CommentFormView{Demo: demo, SummaryID: "s1", InsightID: "t1", Comment: "Checkout latency doubled after the release."}
	}
	dialogView := func(demo bool) DialogConnectView {
		return DialogConnectView{Demo: demo, SummaryID: "s1", InsightID: "t1", Next: VerbCreate, OrgURL: galleryOrg, Org: "fabrikam",
			SignInURL: "https://bot.example.com/oauth/start?s=abc"}
	}
	entries := []galleryEntry{
		{"Summary", func(d bool) []Card { v := weeklySync(t); v.Demo = d; return summaryCards(v) }},
		{"Summary of a meeting, from its transcript", func(d bool) []Card {
			v := weeklySync(t)
			v.Demo = d
			v.Meeting.JoinURL = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_x%40thread.v2/0"
			for i := range v.Insights {
				v.Insights[i].Source = devopsbot.SourceTranscript
			}
			return summaryCards(v)
		}},
		{"Summary empty", func(d bool) []Card { return summaryCards(SummaryView{Demo: d, SummaryID: "s1"}) }},
		// Live status: the card as posted names who gets a live view; the
		// refreshed one shows each created item as it stands now.
		{"Summary posted with a live view", func(d bool) []Card { return withLiveRefresh(summaryCards(liveSync(t, d, false))) }},
		{"Summary refreshed with live status", func(d bool) []Card { return withLiveRefresh(summaryCards(liveSync(t, d, true))) }},
		{"Summary long refreshed with live status", func(d bool) []Card {
			v := longSummary(t, d)
			for i := range v.Insights {
				for j := range v.Insights[i].Results {
					v.Insights[i].Results[j].Now = &ItemNow{Type: "Bug", State: "Resolved", AssignedTo: "Megan Bowen", Title: "Renamed in Azure DevOps"}
				}
			}
			return withLiveRefresh(summaryCards(v))
		}},
		{"Summary long", func(d bool) []Card { return summaryCards(longSummary(t, d)) }},
		card("CreateForm", func(d bool) Card { return CreateForm(createView(d)) }),
		card("CreateForm error", func(d bool) Card {
			v := createView(d)
			v.Error = "TF401347: Invalid tree name given for work item -1, field 'System.AreaPath'."
			return CreateForm(v)
		}),
		card("CreateForm before Load choices", func(d bool) Card {
			v := createView(d)
			v.Areas, v.Iterations, v.Values.AreaPath, v.Values.IterationPath = nil, nil, "", ""
			return CreateForm(v)
		}),
		card("CreateForm nobody preselected", func(d bool) Card { v := createView(d); v.Values.AssignedTo = ""; return CreateForm(v) }),
		card("CreateForm custom type with required fields, due date and parent search", func(d bool) Card { return CreateForm(customTypeView(createView(d))) }),
		card("CreateForm custom type, parent by number", func(d bool) Card {
			v := customTypeView(createView(d))
			v.ParentChoices = nil
			v.Values.Parent = "#12"
			return CreateForm(v)
		}),
		card("CreateForm rule error keeps the input", func(d bool) Card {
			v := customTypeView(createView(d))
			v.Values.Fields = map[string]string{"Custom.Severity": "1 - Critical", "Custom.Ticket": "T-881"}
			v.Error, v.ErrorCode = "This project's rules need a valid value for the field \"Customer\". Change it and try again; if the form has no such field, ask a project administrator.", "TF401320"
			return CreateForm(v)
		}),
		card("CommentForm", func(d bool) Card { return CommentForm(commentView(d)) }),
		card("CommentForm error", func(d bool) Card {
			v := commentView(d)
			v.WorkItemID, v.Error = "#12", "Work item 12 does not exist, or you do not have permission to see it."
			return CommentForm(v)
		}),
		card("CommentForm search", func(d bool) Card {
			v := commentView(d)
			v.Search, v.Recent = true, []Choice{{Title: "Bug 42: Fix the checkout timeout", Value: "42"}, {Title: "Task 1234: Add a timeout", Value: "1234"}}
			return CommentForm(v)
		}),
		card("CommentForm search nothing recent", func(d bool) Card { v := commentView(d); v.Search = true; return CommentForm(v) }),
		card("Created", func(d bool) Card { r := result; r.Demo = d; return Created(r) }),
		card("Commented", func(d bool) Card { r := result; r.Demo = d; return Commented(r) }),
		card("AlreadyDone", func(d bool) Card { r := result; r.Demo = d; return AlreadyDone(r, false) }),
		card("AlreadyDone by you", func(d bool) Card { r := result; r.Demo = d; return AlreadyDone(r, true) }),
		card("Error", func(d bool) Card {
			return Error(ErrorView{Demo: d, Title: "Could not create the work item", Message: "Azure DevOps is not answering right now.", RetryAfterSeconds: 30, Reference: "req-7f3a"})
		}),
		card("Error plain", func(d bool) Card { return Error(ErrorView{Demo: d}) }),
		card("Error with next steps", func(d bool) Card { return Error(errorWithSteps(d)) }),
		card("Error with next steps in dialog", func(d bool) Card { return AsDialogActions(Error(errorWithSteps(d))) }),
		plain("Working", Working("Creating the work item…")),
		card("ConnectPrompt", func(d bool) Card { return ConnectPrompt(ConnectView{Demo: d}) }),
		card("ConnectPrompt error", func(d bool) Card {
			return ConnectPrompt(ConnectView{Demo: d, OrgURL: "https://example.com/x", Error: "That is not an Azure DevOps URL."})
		}),
		card("ConnectSignIn", func(d bool) Card { return ConnectSignIn(SignInView{Demo: d, Org: "fabrikam", OrgURL: galleryOrg}) }),
		card("ConnectSignIn with a link (Agents Playground)", func(d bool) Card {
			return ConnectSignIn(SignInView{Demo: d, Org: "fabrikam", OrgURL: galleryOrg, SignInURL: "https://login.microsoftonline.com/t/oauth2/v2.0/authorize?client_id=x"})
		}),
		card("ConnectSignIn error", func(d bool) Card {
			return ConnectSignIn(SignInView{Demo: d, Org: "fabrikam", OrgURL: galleryOrg, Error: "That code has expired. Sign in again."})
		}),
		card("DialogConnect", func(d bool) Card { v := dialogView(d); v.OrgURL = ""; return DialogConnect(v) }),
		card("DialogConnect error", func(d bool) Card {
			v := dialogView(d)
			v.OrgURL, v.Error = "https://example.com/x", "That is not an Azure DevOps URL."
			return DialogConnect(v)
		}),
		card("DialogSignIn", func(d bool) Card { return DialogSignIn(dialogView(d)) }),
		card("DialogSignIn error", func(d bool) Card { v := dialogView(d); v.Error = "That code is not valid."; return DialogSignIn(v) }),
		plain("Connected", Connected("fabrikam", "Megan Bowen", "megan@contoso.com")),
		plain("Reconnect", Reconnect(galleryOrg)),
		plain("NotConfigured", NotConfigured("Azure DevOps sign-in")),
		card("Status connected", func(d bool) Card {
			return Status(StatusView{Demo: d, Connected: true, Org: "fabrikam", OrgURL: galleryOrg, Name: "Megan Bowen", Email: "megan@contoso.com",
				Scopes: []string{"vso.work_write"}, Since: at})
		}),
		card("Status connected with defaults", func(d bool) Card {
			return Status(StatusView{Demo: d, Connected: true, Org: "fabrikam", OrgURL: galleryOrg, Name: "Megan Bowen",
				Defaults: FormDefaults{Project: "Web Portal", WorkItemType: "Task", Area: `Web Portal\Checkout`, Iteration: `Web Portal\Sprint 42`}})
		}),
		card("Status not connected", func(d bool) Card { return Status(StatusView{Demo: d}) }),
		plain("Disconnected", Disconnected()),
		plain("Help", Help()),
		plain("Welcome", Welcome()),
	}
	entries = append(entries, allTasksGallery(t)...) // alltasks_test.go
	// In-card mode: the summary and the forms as Universal Actions, and the
	// summary answered in place with each kind of panel under one insight.
	for _, e := range entries {
		switch {
		case e.name == "Summary", strings.HasPrefix(e.name, "CreateForm"), strings.HasPrefix(e.name, "CommentForm"),
			strings.HasSuffix(e.name, "live status"), strings.HasPrefix(e.name, "AllTasks"):
			entries = append(entries, inCard(e))
		}
	}
	inPlace := func(name string, panel func(demo bool) Card) galleryEntry {
		return card("Summary in place with "+name, func(d bool) Card {
			v := weeklySync(t)
			v.Demo = d
			c, ok := SummaryInPlace(v, v.Insights[1].ID, panel(d))
			if !ok {
				t.Fatalf("SummaryInPlace: no insight %q", v.Insights[1].ID)
			}
			return AsUniversalActions(c)
		})
	}
	entries = append(entries,
		inPlace("CreateForm", func(d bool) Card { return CreateForm(createView(d)) }),
		inPlace("CreateForm before Load choices", func(d bool) Card {
			v := createView(d)
			v.Areas, v.Iterations, v.Values.AreaPath, v.Values.IterationPath = nil, nil, "", ""
			return CreateForm(v)
		}),
		inPlace("CreateForm custom type", func(d bool) Card { return CreateForm(customTypeView(createView(d))) }),
		inPlace("CommentForm search", func(d bool) Card {
			v := commentView(d)
			v.Search, v.Recent = true, []Choice{{Title: "Task 1234: Add a timeout", Value: "1234"}}
			return CommentForm(v)
		}),
		inPlace("Created", func(d bool) Card { r := result; r.Demo = d; return Created(r) }),
		inPlace("Error", func(d bool) Card { return Error(errorWithSteps(d)) }),
		inPlace("ConnectPrompt", func(d bool) Card { return ConnectPrompt(ConnectView{Demo: d}) }),
	)
	return entries
}

// customTypeView is the create form for a process's own type: a required
// field with allowed values, one without, a target date and a parent typeahead.
func customTypeView(v CreateFormView) CreateFormView {
	v.WorkItemTypes = append(v.WorkItemTypes, Choice{Value: "Customer Request"})
	v.Values.WorkItemType = "Customer Request"
	v.Fields = []FieldInput{
		{RefName: "Custom.Severity", Label: "Severity", Choices: []Choice{{Value: "1 - Critical"}, {Value: "2 - High"}, {Value: "3 - Medium"}, {Value: "4 - Low"}}},
		{RefName: "Custom.Ticket", Label: "Support ticket"},
	}
	v.DueLabel, v.Values.DueDate = "Target Date", "2026-11-28"
	v.ParentDataset = "parents:Web Portal"
	v.ParentChoices = []Choice{{Title: "Epic 1: Checkout reliability", Value: "1"}, {Title: "Feature 2: Address validation v2", Value: "2"}}
	v.LinkNote = "The work item will link to the meeting in Teams."
	return v
}

func errorWithSteps(demo bool) ErrorView {
	return ErrorView{Demo: demo, Title: "Could not create the work item", Message: "The area no longer exists in this project.",
		Code: "TF401347", Reference: "req-7f3a",
		Next: []Step{{Title: "Try again", Verb: VerbCreate, Data: map[string]any{DataSummaryID: "s1", DataInsightID: "t1"}}, StepConnect, StepHelp}}
}

// longSummary has more tasks than a kind shows at once, so some wait behind
// "Show N more".
func longSummary(t testing.TB, demo bool) SummaryView {
	v := weeklySync(t)
	v.Demo = demo
	for i := 0; i < 2*maxShownPerKind; i++ {
		in := v.Insights[0]
		in.ID = fmt.Sprintf("extra-%d", i)
		in.Text = fmt.Sprintf("Follow-up task number %d from the weekly sync, with enough words to wrap on a phone.", i+1)
		in.Results = nil
		v.Insights = append(v.Insights, in)
	}
	return v
}

// clickContract is what the bot needs from a click on an action with a verb.
type clickContract struct {
	// Data are the data fields the bot reads; each must arrive non-empty.
	Data []string `json:"data,omitempty"`
	// AsIs: the action must go through when the person types nothing.
	AsIs bool `json:"asIs,omitempty"`
	// Fill are the inputs the person fills for this action, with what they
	// type ("" picks the first choice). Without AsIs, only these may block
	// the first click; after filling them the click must go through and send
	// each of them.
	Fill map[string]string `json:"fill,omitempty"`
}

var (
	formIDs    = []string{DataSummaryID, DataInsightID}
	dialogIDs  = []string{DataSummaryID, DataInsightID, DataNext}
	createFill = map[string]string{InputProject: "", InputWorkItemType: "", InputAssignedTo: "", InputAreaPath: "", InputIterationPath: "", InputTitle: "Add a timeout"}
)

// clickContracts has one line per action verb the cards send (Verbs).
var clickContracts = map[string]clickContract{
	VerbCreate:        {Data: formIDs, AsIs: true},
	VerbComment:       {Data: formIDs, AsIs: true},
	VerbCreateReload:  {Data: formIDs, Fill: createFill},
	VerbCreateSubmit:  {Data: formIDs, Fill: createFill},
	VerbCommentSubmit: {Data: formIDs, Fill: map[string]string{InputWorkItemID: "1234", InputComment: "Looks good to me."}},
	VerbConnectOrg:    {Fill: map[string]string{InputOrgURL: galleryOrg}},
	VerbConnectSignIn: {Data: []string{DataOrg}, AsIs: true},
	VerbConnectCode:   {Fill: map[string]string{InputCode: "ABCD-EFGH"}},
	VerbDialogConnect: {Data: dialogIDs, Fill: map[string]string{InputOrgURL: galleryOrg}},
	VerbDialogCode:    {Data: dialogIDs, Fill: map[string]string{InputCode: "ABCD-EFGH"}},
	VerbCancel:        {Data: formIDs, AsIs: true},
	VerbHelp:          {AsIs: true},
	VerbConnect:       {AsIs: true},
	// The card's refresh: Teams sends it when a listed person views the card.
	VerbRefresh: {Data: []string{DataSummaryID}, AsIs: true},

	VerbAllTasks:       {Data: formIDs, AsIs: true},
	VerbAllTasksReload: {Data: formIDs, AsIs: true, Fill: map[string]string{"project": ""}},
	VerbAllTasksSubmit: {Data: formIDs, AsIs: true, Fill: map[string]string{"title_0": "Add a timeout", "type_0": "", "owner_0": ""}},
	VerbDefaultsReload: {AsIs: true, Fill: map[string]string{"project": ""}},
	VerbDefaultsSave:   {AsIs: true, Fill: map[string]string{"project": ""}},
	VerbDefaultsClear:  {AsIs: true},
}

// liveSync is the weekly sync with three created items (one live, one
// unassigned, one deleted since, which keeps its line as created) and a
// comment; live says whether it is the refreshed view.
func liveSync(t testing.TB, demo, live bool) SummaryView {
	v := weeklySync(t)
	v.Demo = demo
	v.Insights[4].Results = append(v.Insights[4].Results,
		ResultView{WorkItemID: 1240, WorkItemType: "Bug", Title: "Checkout times out", URL: galleryOrg + "/_workitems/edit/1240", By: "Megan Bowen"},
		ResultView{WorkItemID: 1250, WorkItemType: "Task", Title: "Write the runbook", URL: galleryOrg + "/_workitems/edit/1250", By: "Lee Gu"},
		ResultView{Comment: true, WorkItemID: 1240, WorkItemType: "Bug", Title: "Checkout times out", URL: galleryOrg + "/_workitems/edit/1240", By: "Adele Vance"})
	if live {
		rs := v.Insights[4].Results
		rs[0].Now = &ItemNow{Type: "Task", State: "Active", AssignedTo: "Lee Gu", Title: "Add a 2 s timeout to the address client"}
		rs[1].Now = &ItemNow{Type: "Bug", State: "New", Title: "Checkout times out on slow networks"}
	}
	return v
}

// withRefreshJSON is a small card with the given refresh, as written.
func withRefreshJSON(refresh map[string]any) Card {
	c := newCard(Version, false, []any{text("Task 1")})
	c["refresh"] = refresh
	return c
}

// withLiveRefresh gives each part the refresh the bot adds when posting.
func withLiveRefresh(parts []Card) []Card {
	out := make([]Card, len(parts))
	for i, c := range parts {
		out[i] = WithRefresh(c, "s1", i, []string{"29:1GcS4EyB_oSI8A88XmWBN7NJFyMqe3QGnJdgLfFGkJnV", "29:1bSnHZ7Js2STWrgk6ScEErLk1Lp2zQuD5H2qQ960r"})
	}
	return out
}

type galleryManifest struct {
	Cards []galleryFile            `json:"cards"`
	Verbs map[string]clickContract `json:"verbs"`
}

type galleryFile struct {
	Name string `json:"name"`
	File string `json:"file"`
}

// writeGallery writes each card as its own file plus manifest.json.
func writeGallery(t testing.TB, dir string, named map[string][]Card, order []string) {
	t.Helper()
	m := galleryManifest{Verbs: clickContracts}
	for _, name := range order {
		for i, c := range named[name] {
			n := name
			if len(named[name]) > 1 {
				n += fmt.Sprintf(" part %d", i+1)
			}
			file := fmt.Sprintf("%03d-%s.json", len(m.Cards), fileSafe(n))
			if err := os.WriteFile(filepath.Join(dir, file), mustJSON(c), 0o644); err != nil {
				t.Fatal(err)
			}
			m.Cards = append(m.Cards, galleryFile{Name: n, File: file})
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), mustJSON(m), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fileSafe keeps letters and digits; every other run becomes one "-".
func fileSafe(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.Trim(b.String(), "-")
}

// writeFullGallery writes every gallery entry in both modes.
func writeFullGallery(t testing.TB, dir string) int {
	named := map[string][]Card{}
	var order []string
	for _, e := range gallery(t) {
		for _, demo := range []bool{false, true} {
			name := e.name + map[bool]string{false: " (real)", true: " (demo)"}[demo]
			if _, dup := named[name]; dup {
				t.Fatalf("gallery entry %q appears twice", name)
			}
			named[name] = e.build(demo)
			order = append(order, name)
		}
	}
	writeGallery(t, dir, named, order)
	return len(order)
}

func TestRendererCheck(t *testing.T) {
	dir := t.TempDir()
	if keep := os.Getenv("CARDCHECK_GALLERY"); keep != "" {
		dir = keep // cardcheck/render.mjs draws the same gallery
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	n := writeFullGallery(t, dir)
	out, code := runCardcheck(t, dir)
	if code != 0 {
		t.Fatalf("the official renderer refuses or cannot click cards the bot sends (%d gallery entries):\n%s", n, out)
	}
	t.Log(lastLine(out))
}

// TestRendererCheckCatchesUnclickableCards keeps the checker honest: each card
// here has one known defect, and the checker must name it.
func TestRendererCheckCatchesUnclickableCards(t *testing.T) {
	codeInput := input("code", "Code", "Paste the code.", "", true, nil)
	named := map[string][]Card{
		"signin blocked by code": {newCard(Version, false, []any{codeInput,
			actionSet(execute("Sign in", "connect.signin", map[string]any{"sally": "connect.signin", "org": galleryOrg}))})},
		"code not sent": {newCard(Version, false, []any{codeInput,
			actionSet(withAssociated(execute("Finish", "connect.code", map[string]any{"sally": "connect.code"}), "none"))})},
		"empty choices": {newCard(Version, false, []any{map[string]any{"type": "Input.ChoiceSet", "id": "pick", "label": "Pick", "choices": []any{}}})},
		"yellow on orange": {newCard(Version, false, []any{map[string]any{"type": "Container", "style": "warning",
			"items": []any{text("Careful", "color", "Warning")}}})},
		"unknown verb":       {newCard(Version, false, nil, submit("Frobnicate", map[string]any{"sally": "frobnicate"}))},
		"no ids":             {newCard(Version, false, nil, submit("Create work item", map[string]any{"sally": "create"}))},
		"toggle to nowhere":  {newCard(Version, false, []any{actionSet(map[string]any{"type": "Action.ToggleVisibility", "title": "Show 3 more", "targetElements": []any{"ghost"}})})},
		"refresh of nothing": {withRefreshJSON(map[string]any{"action": execute("Refresh", VerbRefresh, map[string]any{"sally": VerbRefresh}), "userIds": []any{"29:a"}})},
		"refresh for a mail": {withRefreshJSON(map[string]any{"action": execute("Refresh", VerbRefresh, map[string]any{"sally": VerbRefresh, "summaryId": "s1"}), "userIds": []any{"adele@contoso.com"}})},
	}
	var order []string
	for k := range named {
		order = append(order, k)
	}
	dir := t.TempDir()
	writeGallery(t, dir, named, order)
	out, code := runCardcheck(t, dir)
	if code != 1 {
		t.Fatalf("exit code %d for cards with known defects, want 1:\n%s", code, out)
	}
	for name, want := range map[string]string{
		"signin blocked by code": `[connect.signin] is blocked when clicked without typing: input "code" is required and empty`,
		"code not sent":          `does not send "code"`,
		"empty choices":          "CollectionCantBeEmpty",
		"yellow on orange":       "contrast 1.18:1 in Teams light",
		"unknown verb":           `"frobnicate", which has no click contract`,
		"no ids":                 `sends no "summaryId"`,
		"toggle to nowhere":      `toggles "ghost", which is not on the card`,
		"refresh of nothing":     `[refresh] clicked as is: sends no "summaryId"`,
		"refresh for a mail":     `refresh names "adele@contoso.com", not a Teams user id`,
	} {
		if !strings.Contains(out, name+": ") || !strings.Contains(out, want) {
			t.Errorf("the checker did not report %q for card %q:\n%s", want, name, out)
		}
	}
}

// runCardcheck runs the Node checker on a gallery directory, installing its
// pinned dependencies first when they are missing.
func runCardcheck(t *testing.T, dir string) (string, int) {
	t.Helper()
	node := requireNode(t)
	checker, err := filepath.Abs("../cardcheck")
	if err != nil {
		t.Fatal(err)
	}
	if stale(filepath.Join(checker, "node_modules", ".package-lock.json"), filepath.Join(checker, "package-lock.json")) {
		npm, err := exec.LookPath("npm")
		if err != nil {
			t.Fatalf("node is installed but npm is not; install Node 20 with npm to run the renderer check")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = checker
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", checker, err, out)
		}
	}
	// go test caches results by the files the test itself opens; the checker
	// reads these, so opening them here makes a change to them rerun the test.
	for _, f := range []string{"check.mjs", "package-lock.json", "hostconfigs/teams-light.json", "hostconfigs/teams-dark.json"} {
		if _, err := os.ReadFile(filepath.Join(checker, f)); err != nil {
			t.Fatal(err)
		}
	}
	// A generous bound so a stuck renderer fails the test instead of hanging it.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(checker, "check.mjs"), dir)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit) && ctx.Err() == nil:
		return string(out), exit.ExitCode()
	}
	t.Fatalf("running the renderer check: %v\n%s", err, out)
	return "", -1
}

// requireNode finds Node 20 or newer. Without it the check cannot run: in CI
// that is a failure, on a developer's machine a loud skip.
func requireNode(t *testing.T) string {
	t.Helper()
	missing := func(why string) {
		msg := why + ": the renderer check (cardcheck/) needs Node.js 20 or newer with npm. " +
			"Install Node 20 from https://nodejs.org/en/download (Debian 12's own nodejs package is 18, too old) and rerun."
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip("SKIPPED, NOT PASSED: " + msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed")
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		missing("node --version failed: " + err.Error())
	}
	v := strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
	major, _ := strconv.Atoi(strings.SplitN(v, ".", 2)[0])
	if major < 20 {
		missing("node " + v + " is too old")
	}
	return node
}

// stale reports whether the installed tree is missing or older than the lockfile.
func stale(installed, lock string) bool {
	a, err := os.Stat(installed)
	if err != nil {
		return true
	}
	b, err := os.Stat(lock)
	return err == nil && b.ModTime().After(a.ModTime())
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
