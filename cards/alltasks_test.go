package cards

import (
	"strings"
	"testing"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/cards/cardstest"
)

func allTasksView(demo bool) AllTasksView {
	people := []Choice{{Title: "Megan Bowen (megan@contoso.com)", Value: "megan@contoso.com"}, {Title: "Adele Vance (adele@contoso.com)", Value: "adele@contoso.com"}}
	types := []Choice{{Value: "Task"}, {Value: "Bug"}, {Value: "User Story"}}
	return AllTasksView{Demo: demo, SummaryID: "s1", AnchorID: "t1", Meeting: "Weekly sync",
		Projects: []Choice{{Value: "Web Portal"}, {Value: "Mobile"}}, WorkItemTypes: types,
		Areas: []Choice{{Value: `Web Portal`}, {Value: `Web Portal\Checkout`}}, Iterations: []Choice{{Value: `Web Portal\Sprint 42`}},
		Project: "Web Portal", AreaPath: `Web Portal\Checkout`, IterationPath: `Web Portal\Sprint 42`,
		Items: []AllTasksItem{
			{InsightID: "t1", Insight: "Add a timeout and circuit breaker to the payment call", Kind: devopsbot.KindTask, Owner: "Adele", Due: "Friday",
				Checked: true, Title: "Add a timeout and circuit breaker to the payment call", WorkItemType: "Task", AssignedTo: "adele@contoso.com",
				People: people, OwnerNote: `Matched Adele Vance to the owner "Adele" (first name).`},
			{InsightID: "n1", Insight: "Send the *release notes* to support", Kind: devopsbot.KindNextStep,
				Checked: true, Title: "Send the release notes to support", WorkItemType: "Task", People: people,
				OwnerNote: "No owner named; choose who is responsible."},
		},
	}
}

// allTasksGallery is the renderer check's share of the "Create all tasks"
// and chat defaults cards (gallery_test.go).
func allTasksGallery(t testing.TB) []galleryEntry {
	result := ResultView{WorkItemID: 42, WorkItemType: "Task", Title: "Add a timeout", URL: galleryOrg + "/_workitems/edit/42", By: "Megan Bowen", At: at}
	summaryWithMany := func(d bool) SummaryView {
		v := weeklySync(t)
		v.Demo = d
		return v
	}
	entries := []galleryEntry{
		card("AllTasksForm", func(d bool) Card { return AllTasksForm(allTasksView(d)) }),
		card("AllTasksForm before Load choices", func(d bool) Card {
			v := allTasksView(d)
			v.Areas, v.Iterations, v.AreaPath, v.IterationPath = nil, nil, "", ""
			return AllTasksForm(v)
		}),
		card("AllTasksForm results with a failure", func(d bool) Card {
			v := allTasksView(d)
			v.Tried = true
			v.Items[0].Outcome, v.Items[0].Result = AllTasksCreated, result
			v.Items[1].Outcome, v.Items[1].Problem, v.Items[1].ProblemCode = AllTasksFailed, "Azure DevOps refused this: TF401320: Rule Error for field Assigned To.", "TF401320"
			v.Items = append(v.Items, AllTasksItem{InsightID: "t3", Insight: "Write the runbook", Kind: devopsbot.KindTask, Outcome: AllTasksExisted, Result: result})
			v.Items = append(v.Items, AllTasksItem{InsightID: "t4", Insight: "Page the on-call", Kind: devopsbot.KindTask, Outcome: AllTasksWorking, Problem: "Alex Wilber is creating this one right now."})
			return AllTasksForm(v)
		}),
		card("AllTasksForm all done", func(d bool) Card {
			v := allTasksView(d)
			v.Tried = true
			for i := range v.Items {
				v.Items[i].Outcome, v.Items[i].Result = AllTasksCreated, result
			}
			return AllTasksForm(v)
		}),
		card("AllTasksForm custom type with required fields and a rule error", func(d bool) Card { return AllTasksForm(allTasksCustomType(d)) }),
		card("AllTasksForm more than fit", func(d bool) Card { v := allTasksView(d); v.More = 4; return AllTasksForm(v) }),
		card("ChatDefaults", func(d bool) Card { return ChatDefaults(chatDefaultsView(d)) }),
		card("ChatDefaults before Load choices", func(d bool) Card {
			v := chatDefaultsView(d)
			v.Areas, v.Iterations, v.Current = nil, nil, ChatDefaultsLine{}
			return ChatDefaults(v)
		}),
		card("ChatDefaults saved", func(d bool) Card { v := chatDefaultsView(d); v.Saved = true; return ChatDefaults(v) }),
		card("ChatDefaults error", func(d bool) Card {
			v := chatDefaultsView(d)
			v.Error = "The area Web Portal\\Gone is not in Web Portal any more."
			return ChatDefaults(v)
		}),
	}
	entries = append(entries, card("Summary in place with AllTasksForm", func(d bool) Card {
		v := summaryWithMany(d)
		anchor, _ := allTasksButton(v)
		c, ok := SummaryInPlace(v, anchor, AllTasksForm(allTasksView(d)))
		if !ok {
			t.Fatalf("SummaryInPlace: no anchor %q", anchor)
		}
		return AsUniversalActions(c)
	}))
	return entries
}

// allTasksCustomType is the form with one item of a process's own type: its
// required Severity (allowed values) and, after Azure DevOps' rule error, the
// Customer the rule asks for (text), with what was entered kept.
func allTasksCustomType(demo bool) AllTasksView {
	v := allTasksView(demo)
	v.WorkItemTypes = append(v.WorkItemTypes, Choice{Value: "Customer Request"})
	v.Tried = true
	it := &v.Items[1]
	it.WorkItemType, it.Outcome, it.ProblemCode = "Customer Request", AllTasksFailed, "TF401320"
	it.Problem = `Azure DevOps refused this: This project's rules need a valid value for the field "Customer".`
	it.Fields = []FieldInput{
		{RefName: "Custom.Severity", Label: "Severity", Choices: []Choice{{Value: "1 - Critical"}, {Value: "2 - High"}, {Value: "3 - Medium"}, {Value: "4 - Low"}}},
		{RefName: "Custom.Customer", Label: "Customer"},
	}
	it.FieldValues = map[string]string{"Custom.Severity": "1 - Critical"}
	return v
}

func chatDefaultsView(demo bool) ChatDefaultsView {
	return ChatDefaultsView{Demo: demo, Projects: []Choice{{Value: "Web Portal"}, {Value: "Mobile"}},
		WorkItemTypes: []Choice{{Value: "Task"}, {Value: "Bug"}}, Areas: []Choice{{Value: "Web Portal"}, {Value: `Web Portal\Checkout`}},
		Iterations: []Choice{{Value: `Web Portal\Sprint 42`}}, Project: "Web Portal", Iteration: CurrentIteration,
		Current: ChatDefaultsLine{Project: "Web Portal", Iteration: CurrentIteration, WorkItemType: "Task", SetBy: "Adele Vance"}}
}

// The summary card offers "Create all tasks" above its first task when two or
// more tasks or next steps still lack a work item, and not otherwise.
func TestAllTasksButtonOnlyWhenItHelps(t *testing.T) {
	v := weeklySync(t)
	anchor, row := allTasksButton(v)
	if row == nil {
		t.Fatal("a summary with several tasks has no Create all tasks button")
	}
	first := allTasksEligible(v)[0].ID
	if anchor != first {
		t.Fatalf("anchor %q, want the first task %q", anchor, first)
	}
	joined := mustJSON(Summary(v)[0])
	if !strings.Contains(string(joined), "Create all tasks (") {
		t.Fatalf("the summary card lacks the button: %.300s", joined)
	}
	// Everything created: the button goes.
	for i := range v.Insights {
		v.Insights[i].Results = []ResultView{{WorkItemID: 1 + i, WorkItemType: "Task"}}
	}
	if _, row := allTasksButton(v); row != nil {
		t.Fatal("the button stays although every task has its work item")
	}
	// One task: the single Create work item is enough.
	one := SummaryView{SummaryID: "s1", Insights: []InsightView{{Insight: devopsbot.Insight{ID: "a", Kind: devopsbot.KindTask, Text: "x"}},
		{Insight: devopsbot.Insight{ID: "d", Kind: devopsbot.KindDecision, Text: "y"}}}}
	if _, row := allTasksButton(one); row != nil {
		t.Fatal("a summary with one task offers Create all tasks")
	}
}

// Each editable row carries its own inputs, and the submit names the insight
// behind each row index; done rows carry no inputs.
func TestAllTasksFormRows(t *testing.T) {
	v := allTasksView(false)
	v.Items = append(v.Items, AllTasksItem{InsightID: "t9", Insight: "Done already", Outcome: AllTasksExisted,
		Result: ResultView{WorkItemID: 7, WorkItemType: "Bug", URL: "https://dev.azure.com/fabrikam/_workitems/edit/7", By: "Lee Gu"}})
	c := AllTasksForm(v)
	in := cardstest.Inputs(c)
	for _, id := range []string{"project", "pick_0", "title_0", "type_0", "owner_0", "pick_1", "title_1"} {
		if _, ok := in[id]; !ok {
			t.Errorf("no input %s", id)
		}
	}
	if _, ok := in["title_2"]; ok {
		t.Error("an item already created has inputs")
	}
	act, ok := cardstest.FindAction(c, VerbAllTasksSubmit)
	if !ok {
		t.Fatal("no submit")
	}
	items, _ := act["data"].(map[string]any)["items"].([]any)
	if len(items) != 3 || items[0] != "t1" || items[2] != "t9" {
		t.Fatalf("items data = %v", items)
	}
	s := string(mustJSON(c))
	if !strings.Contains(s, "Already created by Lee Gu: Bug 7") || !strings.Contains(s, `\\*release notes\\*`) {
		t.Fatalf("form: %.2000s", s)
	}
}

// An item whose type requires fields beyond the form's own shows an input for
// each in its own block, ids carrying the row (two items of one type keep
// their values apart), the kept value selected, and the problem naming the field.
func TestAllTasksRowAsksItsTypesFields(t *testing.T) {
	v := allTasksCustomType(false)
	c := AllTasksForm(v)
	in := cardstest.Inputs(c)
	sev, cust := in[AllTasksFieldID(1, "Custom.Severity")], in[AllTasksFieldID(1, "Custom.Customer")]
	if sev["type"] != "Input.ChoiceSet" || sev["value"] != "1 - Critical" || sev["label"] != "Severity (required)" {
		t.Fatalf("Severity input of row 1: %v", sev)
	}
	if cust["type"] != "Input.Text" || cust["label"] != "Customer (required)" || cust["isRequired"] != false {
		t.Fatalf("Customer input of row 1: %v", cust)
	}
	if _, ok := in[AllTasksFieldID(0, "Custom.Severity")]; ok {
		t.Fatal("row 0 (a Task) asks for the custom type's Severity")
	}
	if s := string(mustJSON(c)); !strings.Contains(s, `the field \"Customer\"`) {
		t.Fatalf("the row's problem does not name the field: %.2000s", s)
	}
	for _, id := range []string{AllTasksFieldID(1, "Custom.Severity"), AllTasksFieldID(14, "Custom.A_b-c.d")} {
		row, ref, ok := ParseAllTasksFieldID(id)
		if !ok || AllTasksFieldID(row, ref) != id {
			t.Errorf("ParseAllTasksFieldID(%q) = %d, %q, %v", id, row, ref, ok)
		}
	}
	for _, id := range []string{"field_Custom.Severity", "field01_X.Y", "field-1_X.Y", "field1_", "fieldx_X.Y", "field1234_X.Y", "title_1"} {
		if _, _, ok := ParseAllTasksFieldID(id); ok {
			t.Errorf("ParseAllTasksFieldID(%q) accepted", id)
		}
	}
}

func FuzzParseAllTasksFieldID(f *testing.F) {
	for _, s := range []string{"field1_Custom.Severity", "field_X", "field001_a", "field9999_x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		row, ref, ok := ParseAllTasksFieldID(id)
		if !ok {
			return
		}
		if row < 0 || row > 999 || ref == "" || AllTasksFieldID(row, ref) != id {
			t.Fatalf("%q parsed as %d, %q", id, row, ref)
		}
	})
}
