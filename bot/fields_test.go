package bot_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/sally-devops/devopsbot/bot"
	"github.com/sally-devops/devopsbot/cards"
	"github.com/sally-devops/devopsbot/cards/cardstest"
	"github.com/sally-devops/devopsbot/devops"
	"github.com/sally-devops/devopsbot/devops/devopstest"
)

const severityInput = cards.FieldInputPrefix + devopstest.SeverityField

// relationsOf lists a fake work item's relations as "rel url".
func relationsOf(t *testing.T, h *harness, id int) []string {
	t.Helper()
	wi, ok := h.org.WorkItem(id)
	if !ok {
		t.Fatalf("work item %d was not created", id)
	}
	var out []string
	for _, r := range wi.Relations {
		out = append(out, r.Rel+" "+r.URL)
	}
	return out
}

func cardText(c cards.Card) string { return js(c) }

func TestCreateLinksTheMeetingAParentAndTheDueDate(t *testing.T) {
	h := newHarness(t, withDemo)
	epic, feature, story := h.org.SeedBacklog()
	sid, _ := deliveredSummary(t, h)
	connectDemo(t, h, userAdele)
	form := openWebPortalForm(t, h, sid)
	in := cardstest.Inputs(form)

	// The task's due date (2026-11-28) is prefilled in Task's due-date field.
	if in["dueDate"]["type"] != "Input.Date" || in["dueDate"]["value"] != "2026-11-28" || in["dueDate"]["label"] != "Due Date" {
		t.Errorf("due date input = %v", in["dueDate"])
	}
	// Parent offers the project's backlog items, newest first, and searches the rest.
	p := in["parent"]
	var offered []string
	for _, c := range p["choices"].([]any) {
		offered = append(offered, c.(map[string]any)["value"].(string))
	}
	if strings.Join(offered, ",") != strconv.Itoa(story)+","+strconv.Itoa(feature)+","+strconv.Itoa(epic) || p["isRequired"] != false {
		t.Errorf("parent choices = %v (required %v); want the story, feature and epic", offered, p["isRequired"])
	}
	if ds, _ := p["choices.data"].(map[string]any); ds == nil || ds["dataset"] != "parents:Web Portal" {
		t.Errorf("parent typeahead dataset = %v", p["choices.data"])
	}
	if !strings.Contains(cardText(form), "will link to the meeting in Teams") {
		t.Errorf("the form does not say the item links to the meeting: %.300s", cardText(form))
	}
	resp := h.invoke(userAdele, chatID, "application/search", map[string]any{"kind": "search", "queryText": "address", "dataset": "parents:Web Portal"})
	if got := js(resp); !strings.Contains(got, "Feature "+strconv.Itoa(feature)+": Address validation v2") || strings.Contains(got, "Epic") {
		t.Errorf("parent search = %.400s", got)
	}
	if got := js(h.invoke(userAlex, chatID, "application/search", map[string]any{"kind": "search", "queryText": "address", "dataset": "parents:Web Portal"})); strings.Contains(got, "Address") {
		t.Errorf("someone not connected found parents: %.300s", got)
	}

	res := dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, "create.submit", map[string]any{"parent": strconv.Itoa(feature), "dueDate": "2026-12-24"})))
	if !strings.Contains(js(res), "Work item created") {
		t.Fatalf("result: %.400s", js(res))
	}
	id := story + 1
	wi, _ := h.org.WorkItem(id)
	if wi.Fields[devops.FieldDueDate] != "2026-12-24T12:00:00Z" {
		t.Errorf("due date = %v, want the edited 2026-12-24", wi.Fields[devops.FieldDueDate])
	}
	want := "System.LinkTypes.Hierarchy-Reverse " + h.org.Hosts.Dev + "/fabrikam/_apis/wit/workItems/" + strconv.Itoa(feature) + "\n" +
		"Hyperlink https://teams.microsoft.com/l/meetup-join/x"
	if got := strings.Join(relationsOf(t, h, id), "\n"); got != want {
		t.Errorf("relations:\n%s\nwant:\n%s", got, want)
	}
	if d, _ := wi.Fields["System.Description"].(string); !strings.Contains(d, "From the meeting") {
		t.Errorf("the description lost its meeting line: %q", d)
	}
}

// openCustomTypeForm opens the create form and switches it to the custom type
// with "Load choices", as someone changing the type does.
func openCustomTypeForm(t *testing.T, h *harness, sid string) cards.Card {
	t.Helper()
	form := openWebPortalForm(t, h, sid)
	if _, ok := cardstest.Inputs(form)[severityInput]; ok {
		t.Fatalf("a Task form asks for the custom type's severity")
	}
	return dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, "create.reload", map[string]any{"workItemType": devopstest.CustomType})))
}

func TestCustomTypeRequiredFieldIsAskedCheckedAndSent(t *testing.T) {
	h := newHarness(t, withDemo)
	sid, _ := deliveredSummary(t, h)
	connectDemo(t, h, userAdele)
	form := openCustomTypeForm(t, h, sid)
	in := cardstest.Inputs(form)
	sev := in[severityInput]
	var values []string
	for _, c := range sev["choices"].([]any) {
		values = append(values, c.(map[string]any)["value"].(string))
	}
	if sev["type"] != "Input.ChoiceSet" || strings.Join(values, "|") != strings.Join(devopstest.SeverityValues, "|") || sev["label"] != "Severity (required)" {
		t.Fatalf("severity input = %v", sev)
	}
	if in["dueDate"]["label"] != "Target Date" || in["dueDate"]["value"] != "2026-11-28" {
		t.Errorf("the custom type's target date = %v", in["dueDate"])
	}
	if in["workItemType"]["value"] != devopstest.CustomType {
		t.Errorf("type after reload = %v", in["workItemType"]["value"])
	}

	// Left empty: the form comes back naming it, the title kept, nothing created.
	again := dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, "create.submit", map[string]any{"title": "Refunds time out"})))
	if !strings.Contains(js(again), "Please fill in: Severity") || cardstest.Inputs(again)["title"]["value"] != "Refunds time out" {
		t.Fatalf("missing severity: %.500s", js(again))
	}
	// A value the process does not allow (a forged submit) is refused before Azure DevOps.
	again = dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, "create.submit", map[string]any{"title": "Refunds time out", severityInput: "0 - Apocalyptic"})))
	if !strings.Contains(js(again), `\"0 - Apocalyptic\" is not a value Severity allows`) {
		t.Fatalf("value outside the allowed ones: %.500s", js(again))
	}
	if n := h.org.Calls(devopstest.RouteCreate); n != 0 {
		t.Fatalf("%d creates reached Azure DevOps with invalid input", n)
	}

	res := dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, again, "create.submit", map[string]any{severityInput: "2 - High"})))
	if !strings.Contains(js(res), "Work item created") {
		t.Fatalf("result: %.400s", js(res))
	}
	wi, _ := h.org.WorkItem(1)
	if wi.Type != devopstest.CustomType || wi.Fields[devopstest.SeverityField] != "2 - High" || wi.Fields[devops.FieldTargetDate] != "2026-11-28T12:00:00Z" || wi.Fields["System.Title"] != "Refunds time out" {
		t.Errorf("created %s with %v", wi.Type, wi.Fields)
	}
}

func TestRuleErrorComesBackIntoTheFormNamingTheField(t *testing.T) {
	h := newHarness(t, withDemo)
	sid, _ := deliveredSummary(t, h)
	connectDemo(t, h, userAdele)
	form := openCustomTypeForm(t, h, sid)

	// Critical severity makes the process require the customer (a rule,
	// not alwaysRequired): Azure DevOps refuses with TF401320.
	back := dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, "create.submit", map[string]any{"title": "Refunds time out", severityInput: devopstest.SeverityCritical})))
	got := js(back)
	if !strings.Contains(got, `the field \"Customer\"`) || !strings.Contains(got, "TF401320") {
		t.Fatalf("the rule error does not name the field: %.600s", got)
	}
	in := cardstest.Inputs(back)
	if in["title"]["value"] != "Refunds time out" || in[severityInput]["value"] != devopstest.SeverityCritical || in["workItemType"]["value"] != devopstest.CustomType {
		t.Errorf("input lost: title %v, severity %v, type %v", in["title"]["value"], in[severityInput]["value"], in["workItemType"]["value"])
	}
	customer := cards.FieldInputPrefix + devopstest.CustomerField
	if in[customer]["type"] != "Input.Text" {
		t.Fatalf("the field the rule named is not asked now: %v", keysOf(in))
	}
	// Filled, the same claim goes through (the failed attempt released it).
	res := dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, back, "create.submit", map[string]any{customer: "Contoso Pharmacy"})))
	if !strings.Contains(js(res), "Work item created") {
		t.Fatalf("result: %.400s", js(res))
	}
	if wi, _ := h.org.WorkItem(1); wi.Fields[devopstest.CustomerField] != "Contoso Pharmacy" {
		t.Errorf("customer = %v", wi.Fields[devopstest.CustomerField])
	}
}

func keysOf(m map[string]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestHostileParentsAndMeetingLinksAreRefused(t *testing.T) {
	h := newHarness(t, withDemo)
	_, feature, _ := h.org.SeedBacklog()
	sid, _ := deliveredSummary(t, h)
	connectDemo(t, h, userAdele)
	form := openWebPortalForm(t, h, sid)
	for parent, want := range map[string]string{
		"https://dev.azure.com/contoso/Web%20Portal/_workitems/edit/" + strconv.Itoa(feature): "another organization",
		"999":              "work item 999, does not exist or you can't see it",
		"javascript:alert": "The parent must be a work item number",
		"due:soon":         "The due date must be a date",
	} {
		change := map[string]any{"parent": parent}
		if due, ok := strings.CutPrefix(parent, "due:"); ok {
			change = map[string]any{"dueDate": due}
		}
		back := dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, "create.submit", change)))
		if !strings.Contains(js(back), want) || cardstest.Inputs(back)["parent"] == nil {
			t.Errorf("parent %q: want %q in the form: %.500s", parent, want, js(back))
		}
	}
	if n := h.org.Calls(devopstest.RouteCreate); n != 0 {
		t.Fatalf("%d creates reached Azure DevOps with a hostile parent or date", n)
	}

	// A summary whose meeting link is https but not Teams: the item is made,
	// without the link, and the form says why.
	body := strings.NewReplacer("https://teams.microsoft.com/l/meetup-join/x", "https://teams.microsoft.com.evil.example/l/meetup-join/x",
		"Web Portal weekly sync", "Checkout review", "2026-11-24T09:00:00Z", "2026-11-25T09:00:00Z").Replace(string(summaryJSON("review-1", chatID)))
	resp, out := h.deliver("msg_2", []byte(body), "")
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("delivery: %d %v", resp.StatusCode, out)
	}
	sid2 := out["summaryId"].(string)
	form2 := dialogCard(t, h.taskFetch(userAdele, chatID, createData(sid2)))
	form2 = dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form2, "create.reload", map[string]any{"project": "Web Portal"})))
	if !strings.Contains(js(form2), "only https links to Microsoft Teams are") {
		t.Errorf("the form does not say the link is left out: %.400s", js(form2))
	}
	res := dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form2, "create.submit", nil)))
	if !strings.Contains(js(res), "Work item created") {
		t.Fatalf("result: %.400s", js(res))
	}
	if rels := relationsOf(t, h, feature+2); len(rels) != 0 {
		t.Errorf("a non-Teams meeting link was attached: %v", rels)
	}
}

func TestOutageKeepsTheTypesFieldsParentAndDueDate(t *testing.T) {
	h, srv := newOutageHarness(t, withDemo)
	sid, _ := deliveredSummary(t, h)
	connectDemo(t, h, userAdele)
	form := openCustomTypeForm(t, h, sid)
	create := submitFrom(t, form, "create.submit", map[string]any{severityInput: "2 - High", "parent": "#3", "dueDate": "2026-12-24", "title": "Typed by hand"})
	srv.Stop()
	wantKept(t, h.guardedSubmit(create), "create.submit", create, severityInput, "parent", "dueDate", "title", "workItemType")
}

func TestInCardFormsTakeTheParentByNumber(t *testing.T) {
	h := newHarness(t, withDemo, func(h *harness) option {
		return func(c *bot.Config) { c.Forms = "card" }
	})
	_, feature, _ := h.org.SeedBacklog()
	summaryCard, _ := inCardSummary(t, h)
	connectDemo(t, h, userAdele)
	create, ok := actionFor(summaryCard, "create", "t1")
	if !ok {
		t.Fatal("no create button for t1")
	}
	form := h.execute(userAdele, chatID, create)
	data := submitFrom(t, form, "create.reload", map[string]any{"project": "Web Portal"})
	form = h.execute(userAdele, chatID, map[string]any{"verb": "create.reload", "data": data})
	// The Agents Playground has no application/search: no typeahead there,
	// although Web Portal has backlog items to offer.
	if p := cardstest.Inputs(form)["parent"]; p["type"] != "Input.Text" || strings.Contains(js(form), "Data.Query") {
		t.Fatalf("in-card parent = %v", p)
	}
	data = submitFrom(t, form, "create.submit", map[string]any{"parent": "#" + strconv.Itoa(feature)})
	res := h.execute(userAdele, chatID, map[string]any{"verb": "create.submit", "data": data})
	if !strings.Contains(js(res), "Created Task") {
		t.Fatalf("in-card create: %.400s", js(res))
	}
	if rels := relationsOf(t, h, feature+2); len(rels) != 2 || !strings.HasSuffix(rels[0], "/_apis/wit/workItems/"+strconv.Itoa(feature)) {
		t.Errorf("relations = %v", rels)
	}
}
