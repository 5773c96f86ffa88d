package bot_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/sally-devops/devopsbot/bot"
	"github.com/sally-devops/devopsbot/cards"
	"github.com/sally-devops/devopsbot/cards/cardstest"
	"github.com/sally-devops/devopsbot/devops"
	"github.com/sally-devops/devopsbot/devops/devopstest"
)

// fourTasks has three tasks with owners and a next step without one.
func fourTasks(conv string) []byte {
	return []byte(`{"id":"weekly-all","meeting":{"title":"Web Portal weekly sync","start":"2026-11-24T09:00:00Z","joinUrl":"https://teams.microsoft.com/l/meetup-join/x"},
"deliverTo":{"conversationId":"` + conv + `"},
"insights":[
 {"id":"d1","kind":"decision","text":"Roll back address validation."},
 {"id":"t1","kind":"task","text":"Add a timeout around the address-validation client","owner":"Adele Vance"},
 {"id":"t2","kind":"task","text":"Write the incident review","owner":"Megan Bowen"},
 {"id":"t3","kind":"task","text":"Update the runbook","owner":"Alex Wilber","due":"2026-12-04"},
 {"id":"n1","kind":"next_step","text":"Tell support about the rollback"}]}`)
}

// deliveredFourTasks delivers fourTasks and returns the summary id and its card.
func deliveredFourTasks(t *testing.T, h *harness) (string, string) {
	t.Helper()
	h.install(chatID)
	before := len(h.conn.Sent())
	resp, out := h.deliver("msg_all", fourTasks(chatID), "")
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("delivery answered %d: %s", resp.StatusCode, js(out))
	}
	sent := h.conn.Sent()[before:]
	if !strings.Contains(cardOf(t, sent[0]), "Create all tasks (4)") {
		t.Fatalf("the summary card offers no Create all tasks: %.500s", cardOf(t, sent[0]))
	}
	return out["summaryId"].(string), sent[0].ActivityID
}

func allTasksData(sid string) map[string]any {
	return map[string]any{"msteams": map[string]any{"type": "task/fetch"}, "sally": "alltasks", "summaryId": sid, "insightId": "t1"}
}

// openAllTasks opens the form and switches it to Web Portal (where the
// owners are team members) through "Load choices for this project".
func openAllTasks(t *testing.T, h *harness, user, sid string) cards.Card {
	t.Helper()
	form := dialogCard(t, h.taskFetch(user, chatID, allTasksData(sid)))
	return dialogCard(t, h.taskSubmit(user, chatID, submitFrom(t, form, cards.VerbAllTasksReload, map[string]any{"project": "Web Portal"})))
}

func updatesOf(h *harness, from int) int {
	n := 0
	for _, s := range h.conn.Sent()[from:] {
		if s.Method == http.MethodPut {
			n++
		}
	}
	return n
}

// The whole flow through the handler: one form for the four items, each with
// its matched owner; Create makes four work items (two Azure DevOps calls
// each: the marker lookup and the create) and updates the shared card once; a
// repeat and a second person create nothing.
func TestCreateAllTasksOnceEach(t *testing.T) {
	h := newHarness(t, withDemo)
	sid, cardID := deliveredFourTasks(t, h)
	connectDemo(t, h, userAdele)

	form := openAllTasks(t, h, userAdele, sid)
	in := cardstest.Inputs(form)
	if in["project"]["value"] != "Web Portal" || in["areaPath"]["value"] != `Web Portal\Frontend` || in["iterationPath"]["value"] != `Web Portal\Sprint 3` {
		t.Fatalf("shared fields after Load choices: %s", js(in))
	}
	for i, want := range []string{"adele@contoso.com", "megan@contoso.com", "alex@contoso.com", "adele@contoso.com"} {
		if got := in[cards.AllTasksOwnerID(i)]["value"]; got != want {
			t.Errorf("item %d owner = %v, want %s", i, got, want)
		}
		if got := in[cards.AllTasksPickID(i)]["value"]; got != "true" {
			t.Errorf("item %d is not checked by default: %v", i, got)
		}
		if got := in[cards.AllTasksTypeID(i)]["value"]; got != "Task" {
			t.Errorf("item %d type = %v", i, got)
		}
	}
	if got := in[cards.AllTasksTitleID(2)]["value"]; got != "Update the runbook" {
		t.Errorf("item 2 title = %v", got)
	}

	data := submitFrom(t, form, cards.VerbAllTasksSubmit, map[string]any{cards.AllTasksTitleID(1): "Incident review for the outage"})
	calls, creates, wiql, sent := h.org.TotalCalls(), h.org.Calls(devopstest.RouteCreate), h.org.Calls(devopstest.RouteWiql), len(h.conn.Sent())
	res := js(dialogCard(t, h.taskSubmit(userAdele, chatID, data)))
	if n := h.org.Calls(devopstest.RouteCreate) - creates; n != 4 {
		t.Fatalf("Create made %d create calls, want 4", n)
	}
	if n := h.org.Calls(devopstest.RouteWiql) - wiql; n != 4 {
		t.Errorf("Create made %d marker lookups, want one per item", n)
	}
	if n := h.org.TotalCalls() - calls; n != 8 {
		t.Errorf("Create made %d Azure DevOps calls, want 8 (a lookup and a create per item; the type's fields were read, and cached, when the form asked for them)", n)
	}
	if !strings.Contains(res, "4 created") || strings.Count(res, "Created Task") != 4 || strings.Count(res, "Open Task") != 4 {
		t.Fatalf("results: %.3000s", res)
	}
	if strings.Contains(res, `"id":"title_`) {
		t.Fatalf("a created item is still editable: %.3000s", res)
	}
	// Items are created a few at a time: find the edited one by its title.
	edited := false
	for id := 1; id <= 4; id++ {
		wi, _ := h.org.WorkItem(id)
		if wi.Fields["System.Title"] == "Incident review for the outage" {
			edited = wi.Fields["System.AssignedTo"] == "megan@contoso.com"
		}
	}
	if !edited {
		t.Fatal("the edited title and its matched owner did not reach Azure DevOps")
	}
	// Like the single form: a link back to the meeting, and the insight's due date.
	for id := 1; id <= 4; id++ {
		wi, _ := h.org.WorkItem(id)
		if got := strings.Join(relationsOf(t, h, id), "\n"); got != "Hyperlink https://teams.microsoft.com/l/meetup-join/x" {
			t.Errorf("work item %d relations: %q", id, got)
		}
		if wi.Fields["System.Title"] == "Update the runbook" && wi.Fields[devops.FieldDueDate] != "2026-12-04T12:00:00Z" {
			t.Errorf("the runbook's due date = %v", wi.Fields[devops.FieldDueDate])
		}
	}
	if n := updatesOf(h, sent); n != 1 {
		t.Errorf("the shared card was updated %d times, want once for all items", n)
	}
	if act, _ := h.conn.Activity(chatID, cardID); strings.Count(js(act.Attachments), "Created Task") != 4 || strings.Contains(js(act.Attachments), "Create all tasks") {
		t.Fatalf("shared card after Create all tasks: %.2000s", js(act.Attachments))
	}

	// A repeat (double click, Teams retry) creates nothing.
	again := js(dialogCard(t, h.taskSubmit(userAdele, chatID, data)))
	if n := h.org.Calls(devopstest.RouteCreate) - creates; n != 4 {
		t.Fatalf("a repeated submit made %d more create calls", n-4)
	}
	if strings.Count(again, "Already created by you") != 4 {
		t.Fatalf("repeat: %.2000s", again)
	}

	// A second person: the form shows everything as done, and submitting the
	// first person's form as theirs creates nothing either.
	connectDemo(t, h, userAlex)
	other := dialogCard(t, h.taskFetch(userAlex, chatID, allTasksData(sid)))
	if s := js(other); strings.Count(s, "Already created by Adele Vance") != 4 || strings.Contains(s, cards.VerbAllTasksSubmit) {
		t.Fatalf("second person's form: %.2000s", s)
	}
	if s := js(dialogCard(t, h.taskSubmit(userAlex, chatID, data))); strings.Count(s, "Already created by Adele Vance") != 4 {
		t.Fatalf("second person's submit: %.2000s", s)
	}
	// And the single form on one of them says it exists.
	if s := js(dialogCard(t, h.taskFetch(userAlex, chatID, createData(sid)))); !strings.Contains(s, "Adele Vance already did this") {
		t.Fatalf("single form after Create all tasks: %.1000s", s)
	}
	if n := h.org.Calls(devopstest.RouteCreate) - creates; n != 4 {
		t.Fatalf("%d create calls in all, want 4", n)
	}
}

// One item refused by Azure DevOps (a rule error on its assignee) leaves the
// others created and that one editable with its input; Try again creates only it.
func TestCreateAllTasksPartialFailureIsRetryable(t *testing.T) {
	h := newHarness(t, withDemo)
	sid, _ := deliveredFourTasks(t, h)
	connectDemo(t, h, userAdele)
	form := openAllTasks(t, h, userAdele, sid)
	data := submitFrom(t, form, cards.VerbAllTasksSubmit, map[string]any{
		cards.AllTasksOwnerID(1): "ghost@contoso.com", // left the organization since the form opened
		cards.AllTasksTitleID(1): "Keep this title",
		cards.AllTasksPickID(3):  "false", // not this one
	})
	creates := h.org.Calls(devopstest.RouteCreate)
	res := dialogCard(t, h.taskSubmit(userAdele, chatID, data))
	s := js(res)
	if n := h.org.Calls(devopstest.RouteCreate) - creates; n != 3 {
		t.Fatalf("%d create calls, want 3 (two made, one refused, one unchecked)", n)
	}
	if !strings.Contains(s, "2 created") || !strings.Contains(s, "1 failed") || !strings.Contains(s, "Assigned To") || !strings.Contains(s, "TF401320") {
		t.Fatalf("results: %.3000s", s)
	}
	in := cardstest.Inputs(res)
	if in[cards.AllTasksTitleID(1)]["value"] != "Keep this title" || in[cards.AllTasksPickID(1)]["value"] != "true" {
		t.Fatalf("the failed item lost its input: %s", js(in))
	}
	if _, ok := in[cards.AllTasksTitleID(0)]; ok {
		t.Fatal("a created item is editable again")
	}
	if in[cards.AllTasksPickID(3)]["value"] != "false" {
		t.Fatalf("the unchecked item came back checked: %v", in[cards.AllTasksPickID(3)])
	}
	if act, ok := cardstest.FindAction(res, cards.VerbAllTasksSubmit); !ok || act["title"] != "Create selected" {
		t.Fatalf("no way to try again: %v", act)
	}

	// Try again with a valid owner: only the failed one is created.
	retry := submitFrom(t, res, cards.VerbAllTasksSubmit, map[string]any{cards.AllTasksOwnerID(1): "megan@contoso.com"})
	creates = h.org.Calls(devopstest.RouteCreate)
	s = js(dialogCard(t, h.taskSubmit(userAdele, chatID, retry)))
	if n := h.org.Calls(devopstest.RouteCreate) - creates; n != 1 {
		t.Fatalf("Try again made %d create calls, want 1", n)
	}
	if !strings.Contains(s, "1 created") || !strings.Contains(s, "Keep this title") {
		t.Fatalf("after Try again: %.3000s", s)
	}
	if wi, ok := h.org.WorkItem(3); !ok || wi.Fields["System.Title"] != "Keep this title" || wi.Fields["System.AssignedTo"] != "megan@contoso.com" {
		t.Fatalf("the retried item: %v %s", ok, js(wi.Fields))
	}
	if _, dup := h.org.WorkItem(4); dup {
		t.Fatal("a fourth work item was created although only one was retried")
	}
}

// A checked item without a title is not sent to Azure DevOps: it comes back
// to be filled, while the others are created.
func TestCreateAllTasksChecksEachCheckedItem(t *testing.T) {
	h := newHarness(t, withDemo)
	sid, _ := deliveredFourTasks(t, h)
	connectDemo(t, h, userAdele)
	form := openAllTasks(t, h, userAdele, sid)
	creates := h.org.Calls(devopstest.RouteCreate)
	res := js(dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, cards.VerbAllTasksSubmit, map[string]any{cards.AllTasksTitleID(2): "  "}))))
	if n := h.org.Calls(devopstest.RouteCreate) - creates; n != 3 {
		t.Fatalf("%d create calls, want 3", n)
	}
	if !strings.Contains(res, "Please fill in: Title.") || !strings.Contains(res, "3 created") {
		t.Fatalf("results: %.3000s", res)
	}
}

// Without dialogs (FORMS=card, the Agents Playground) the same form opens in
// the summary card under the first task, and Create answers in place.
func TestCreateAllTasksInCard(t *testing.T) {
	h := newHarness(t, withDemo, func(h *harness) option { return func(c *bot.Config) { c.Forms = "card" } })
	sid, _ := deliveredFourTasks(t, h)
	connectDemo(t, h, userAdele)
	c := h.execute(userAdele, chatID, map[string]any{"verb": "alltasks", "data": map[string]any{"sally": "alltasks", "summaryId": sid, "insightId": "t1"}})
	if !strings.Contains(js(c), "Web Portal weekly sync") || !strings.Contains(js(c), `"id":"title_3"`) {
		t.Fatalf("in-card form: %.2000s", js(c))
	}
	reload, ok := cardstest.FindAction(c, cards.VerbAllTasksReload)
	if !ok {
		t.Fatal("no Load choices in card")
	}
	c = h.execute(userAdele, chatID, map[string]any{"verb": reload["verb"], "data": submitFrom(t, c, cards.VerbAllTasksReload, map[string]any{"project": "Web Portal"})})
	act, ok := cardstest.FindAction(c, cards.VerbAllTasksSubmit)
	if !ok {
		t.Fatal("no Create selected in card")
	}
	data := submitFrom(t, c, cards.VerbAllTasksSubmit, nil)
	res := h.execute(userAdele, chatID, map[string]any{"verb": act["verb"], "data": data})
	if s := js(res); !strings.Contains(s, "4 created") || h.org.Calls(devopstest.RouteCreate) != 4 {
		t.Fatalf("in-card results (%d creates): %.2000s", h.org.Calls(devopstest.RouteCreate), s)
	}
}

// Teams retries an invoke it got no answer to in time, and people double
// click: concurrent submits of one form still make one work item per item.
func TestConcurrentCreateAllTasksSubmitsMakeOneEach(t *testing.T) {
	h := newHarness(t, withDemo)
	sid, _ := deliveredFourTasks(t, h)
	connectDemo(t, h, userAdele)
	connectDemo(t, h, userAlex)
	data := submitFrom(t, openAllTasks(t, h, userAdele, sid), cards.VerbAllTasksSubmit, nil)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := userAdele
			if i%2 == 1 {
				user = userAlex // a second person submitting the same choices at once
			}
			h.taskSubmit(user, chatID, data)
		}()
	}
	wg.Wait()
	if n := h.org.Calls(devopstest.RouteCreate); n != 4 {
		t.Fatalf("4 concurrent submits made %d create calls, want 4 (one per item)", n)
	}
	if _, dup := h.org.WorkItem(5); dup {
		t.Fatal("a fifth work item exists")
	}
}

// With the database down, Create comes back at once with every item as the
// person left it (the summary itself cannot be read: the form is rebuilt from
// the click), nothing is created; once it is back, the same submit creates
// each item once.
func TestCreateAllTasksKeepsTheInputWhileDatabaseDown(t *testing.T) {
	h, srv := newOutageHarness(t, withDemo)
	sid, _ := deliveredFourTasks(t, h)
	connectDemo(t, h, userAdele)
	// Item 1 is of the custom type, its Severity chosen after Load choices.
	sevID := cards.AllTasksFieldID(1, devopstest.SeverityField)
	form := openAllTasks(t, h, userAdele, sid)
	form = dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, cards.VerbAllTasksReload, map[string]any{cards.AllTasksTypeID(1): devopstest.CustomType})))
	data := submitFrom(t, form, cards.VerbAllTasksSubmit, map[string]any{
		cards.AllTasksTitleID(1): "Typed by hand", cards.AllTasksPickID(2): "false", sevID: "2 - High"})
	srv.Stop()
	kept := h.guardedSubmit(data)
	wantKept(t, kept, cards.VerbAllTasksSubmit, data, "project", "areaPath", "iterationPath",
		cards.AllTasksTitleID(1), cards.AllTasksOwnerID(1), cards.AllTasksTypeID(1), cards.AllTasksPickID(2), cards.AllTasksTitleID(3), sevID)
	if h.org.Calls(devopstest.RouteCreate) != 0 {
		t.Fatal("a work item was created while the database was down")
	}
	srv.Start()
	again := submitFrom(t, kept, cards.VerbAllTasksSubmit, nil)
	var res string
	tries := retryUntil(t, func() bool {
		res = js(dialogCard(t, h.taskSubmit(userAdele, chatID, again)))
		return !strings.Contains(res, outageBanner)
	})
	if !strings.Contains(res, "3 created") || !strings.Contains(res, "Typed by hand") || h.org.Calls(devopstest.RouteCreate) != 3 {
		t.Fatalf("after recovery (%d tries, %d creates): %.2000s", tries, h.org.Calls(devopstest.RouteCreate), res)
	}
	for id := 1; id <= 3; id++ {
		if wi, _ := h.org.WorkItem(id); wi.Fields["System.Title"] == "Typed by hand" && (wi.Type != devopstest.CustomType || wi.Fields[devopstest.SeverityField] != "2 - High") {
			t.Errorf("the custom item was created as %s with %v", wi.Type, wi.Fields)
		}
	}
}

// An item of a type that requires a field beyond the form's own (the demo
// organization's "Customer Request" and its Severity) gets the inputs in its
// own row once Load choices read its type; a missing or forged value is
// refused for that item only before Azure DevOps, a rule error comes back
// into that row naming the field with the input kept, and filled in, the
// item is created once with its fields.
func TestCreateAllTasksAsksARowsRequiredFields(t *testing.T) {
	h := newHarness(t, withDemo)
	sid, _ := deliveredFourTasks(t, h)
	connectDemo(t, h, userAdele)
	form := openAllTasks(t, h, userAdele, sid)
	sevID, custID := cards.AllTasksFieldID(1, devopstest.SeverityField), cards.AllTasksFieldID(1, devopstest.CustomerField)
	for id := range cardstest.Inputs(form) {
		if strings.HasPrefix(id, "field") {
			t.Fatalf("a form of Tasks asks for %s", id)
		}
	}

	// The type changed without Load choices: the item is refused alone,
	// nothing of it reaches Azure DevOps, and its row now asks for Severity.
	creates := h.org.Calls(devopstest.RouteCreate)
	res := dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, cards.VerbAllTasksSubmit, map[string]any{
		cards.AllTasksTypeID(1): devopstest.CustomType, cards.AllTasksTitleID(1): "Refunds time out", cards.AllTasksPickID(3): "false"})))
	if n := h.org.Calls(devopstest.RouteCreate) - creates; n != 2 {
		t.Fatalf("%d create calls, want 2 (the Tasks; the custom item is refused before Azure DevOps)", n)
	}
	s := js(res)
	if !strings.Contains(s, "2 created") || !strings.Contains(s, "1 failed") || !strings.Contains(s, "Please fill in: Severity") || strings.Contains(s, "use Create work item on this item") {
		t.Fatalf("results: %.3000s", s)
	}
	in := cardstest.Inputs(res)
	var values []string
	for _, c := range in[sevID]["choices"].([]any) {
		values = append(values, c.(map[string]any)["value"].(string))
	}
	if in[sevID]["type"] != "Input.ChoiceSet" || strings.Join(values, "|") != strings.Join(devopstest.SeverityValues, "|") || in[sevID]["label"] != "Severity (required)" {
		t.Fatalf("the custom item's Severity input: %v", in[sevID])
	}
	if in[cards.AllTasksTitleID(1)]["value"] != "Refunds time out" || in[cards.AllTasksTypeID(1)]["value"] != devopstest.CustomType {
		t.Fatalf("the custom item lost its input: %v %v", in[cards.AllTasksTitleID(1)], in[cards.AllTasksTypeID(1)])
	}
	if _, ok := in[cards.AllTasksFieldID(3, devopstest.SeverityField)]; ok {
		t.Fatal("the unchecked Task item asks for the custom type's Severity")
	}

	// Load choices on the unchecked Task item's row switched to the custom
	// type shows it the inputs too, each row its own.
	reload := dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, res, cards.VerbAllTasksReload, map[string]any{
		cards.AllTasksTypeID(3): devopstest.CustomType, sevID: "2 - High"})))
	rin := cardstest.Inputs(reload)
	if rin[cards.AllTasksFieldID(3, devopstest.SeverityField)]["type"] != "Input.ChoiceSet" || rin[sevID]["value"] != "2 - High" {
		t.Fatalf("after Load choices: row 3 %v, row 1 %v", rin[cards.AllTasksFieldID(3, devopstest.SeverityField)], rin[sevID])
	}

	// A forged value outside the allowed ones is refused before Azure DevOps.
	creates = h.org.Calls(devopstest.RouteCreate)
	res = dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, res, cards.VerbAllTasksSubmit, map[string]any{sevID: "0 - Apocalyptic"})))
	if n := h.org.Calls(devopstest.RouteCreate) - creates; n != 0 {
		t.Fatalf("a forged Severity made %d create calls", n)
	}
	if s := js(res); !strings.Contains(s, `\"0 - Apocalyptic\" is not a value Severity allows`) || !strings.Contains(s, "1 failed") {
		t.Fatalf("forged value: %.3000s", s)
	}

	// Critical makes the process require the customer (a rule, not
	// alwaysRequired): the refusal names the field in that row, asks for it,
	// and keeps what was entered.
	res = dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, res, cards.VerbAllTasksSubmit, map[string]any{sevID: devopstest.SeverityCritical})))
	s, in = js(res), cardstest.Inputs(res)
	if !strings.Contains(s, `the field \"Customer\"`) || !strings.Contains(s, "TF401320") {
		t.Fatalf("the rule error does not name the field: %.3000s", s)
	}
	if in[custID]["type"] != "Input.Text" || in[sevID]["value"] != devopstest.SeverityCritical || in[cards.AllTasksTitleID(1)]["value"] != "Refunds time out" {
		t.Fatalf("after the rule error: customer %v, severity %v, title %v", in[custID], in[sevID], in[cards.AllTasksTitleID(1)])
	}

	// Filled: created once, with both fields; a repeat makes nothing more.
	creates = h.org.Calls(devopstest.RouteCreate)
	data := submitFrom(t, res, cards.VerbAllTasksSubmit, map[string]any{custID: "Contoso Pharmacy"})
	if s := js(dialogCard(t, h.taskSubmit(userAdele, chatID, data))); !strings.Contains(s, "1 created") {
		t.Fatalf("after filling the customer: %.3000s", s)
	}
	h.taskSubmit(userAdele, chatID, data)
	if n := h.org.Calls(devopstest.RouteCreate) - creates; n != 1 {
		t.Fatalf("%d create calls for the filled retry and its repeat, want 1", n)
	}
	found := 0
	for id := 1; id <= 4; id++ {
		if wi, ok := h.org.WorkItem(id); ok && wi.Fields["System.Title"] == "Refunds time out" {
			found++
			if wi.Type != devopstest.CustomType || wi.Fields[devopstest.SeverityField] != devopstest.SeverityCritical || wi.Fields[devopstest.CustomerField] != "Contoso Pharmacy" {
				t.Errorf("created %s with %v", wi.Type, wi.Fields)
			}
		}
	}
	if found != 1 {
		t.Fatalf("%d work items for the custom item, want 1", found)
	}
}
