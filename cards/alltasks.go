package cards

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sally-devops/devopsbot"
)

// "Create all tasks": one form for every task and next step of a summary, so
// a meeting's ten follow-ups do not take ten dialogs. Each item keeps its own
// title, type and responsible person; project, area and iteration are shared.

// Verbs of the "Create all tasks" form.
const (
	VerbAllTasks       = "alltasks"        // open the form (summary card button)
	VerbAllTasksReload = "alltasks.reload" // another project: load its choices, keep the input
	VerbAllTasksSubmit = "alltasks.submit" // create the checked items
)

// MaxAllTasks bounds the items one form lists as editable: each carries four
// inputs and a people list, and a card has to stay well under Teams' size
// limit. The rest wait for the next round (the form says how many).
const MaxAllTasks = 15

// DataItems is the data key listing the insight behind each row of the form.
const DataItems = "items"

// Input ids of item i in the form. The action's "items" data lists the
// insight behind each index, so a summary whose insights changed meanwhile
// cannot send one item's title to another.
func AllTasksPickID(i int) string  { return "pick_" + strconv.Itoa(i) }
func AllTasksTitleID(i int) string { return "title_" + strconv.Itoa(i) }
func AllTasksTypeID(i int) string  { return "type_" + strconv.Itoa(i) }
func AllTasksOwnerID(i int) string { return "owner_" + strconv.Itoa(i) }

// AllTasksFieldID is the input id of item i's own field ref (a field its
// type requires: "field3_Custom.Severity"). Unlike the single form's
// FieldInputPrefix ids it carries the row, so two items of one type keep
// their own values.
func AllTasksFieldID(i int, ref string) string { return "field" + strconv.Itoa(i) + "_" + ref }

// ParseAllTasksFieldID reads an AllTasksFieldID back: the row and the field's
// reference name (not checked here: the bot checks it like any field input).
func ParseAllTasksFieldID(id string) (row int, ref string, ok bool) {
	rest, ok := strings.CutPrefix(id, "field")
	if !ok {
		return 0, "", false
	}
	num, ref, ok := strings.Cut(rest, "_")
	if !ok || num == "" || len(num) > 3 || ref == "" {
		return 0, "", false
	}
	row, err := strconv.Atoi(num)
	if err != nil || row < 0 || strconv.Itoa(row) != num {
		return 0, "", false
	}
	return row, ref, true
}

// AllTasksOutcome is where one item of the form stands.
type AllTasksOutcome string

const (
	AllTasksTodo    AllTasksOutcome = ""        // editable, not tried in this round
	AllTasksCreated AllTasksOutcome = "created" // created just now by this form
	AllTasksExisted AllTasksOutcome = "existed" // created before (by anyone); nothing new made
	AllTasksWorking AllTasksOutcome = "working" // someone's create is running right now
	AllTasksFailed  AllTasksOutcome = "failed"  // tried and refused: editable again, input kept
)

// AllTasksItem is one task or next step in the form.
type AllTasksItem struct {
	InsightID string
	Insight   string // the insight's text
	Kind      devopsbot.Kind
	Owner     string // as the meeting named it
	Due       string

	// Editable items (Todo, Failed):
	Checked      bool
	Title        string
	WorkItemType string
	AssignedTo   string
	People       []Choice
	OwnerNote    string // who the owner was matched to and why, or that nobody was
	// Fields are the inputs for what the item's type requires beyond the
	// form's own fields (a custom type's Severity), with FieldValues kept
	// by reference name; FieldsNote says what the form cannot ask here.
	Fields      []FieldInput
	FieldValues map[string]string
	FieldsNote  string

	Outcome     AllTasksOutcome
	Result      ResultView // Created, Existed
	Mine        bool       // Existed: the person looking did it
	Problem     string     // Failed: why, in plain words; Working: who is at it
	ProblemCode string     // Failed: Azure DevOps' own code
}

func (it AllTasksItem) editable() bool {
	return it.Outcome == AllTasksTodo || it.Outcome == AllTasksFailed
}

// AllTasksView is the "Create all tasks" form, also its result.
type AllTasksView struct {
	Demo      bool
	SummaryID string
	AnchorID  string // the insight the form hangs under (in-card); the first item
	Meeting   string

	Projects, WorkItemTypes, Areas, Iterations []Choice
	Project, AreaPath, IterationPath           string

	Items []AllTasksItem
	// More counts items not listed (beyond MaxAllTasks); a next round lists them.
	More int

	Error, ErrorCode string
	// Tried says the form is the answer to a Create: it opens with the counts.
	Tried bool
}

// AllTasksForm renders the form: shared fields first, then one block per
// item. Items already created show their result instead of inputs; failed
// ones show why, with their input kept and checked, so Try again creates
// only them. No per-item input is required by the card (an unchecked item
// may stay empty): the bot checks the checked ones.
func AllTasksForm(v AllTasksView) Card {
	body := []any{heading("Create all tasks")}
	if v.Meeting != "" {
		body = append(body, text("From "+Escape(truncate(v.Meeting, 200)), "isSubtle", "true", "spacing", "None"))
	}
	created, existed, failed, working, todo := 0, 0, 0, 0, 0
	for _, it := range v.Items {
		switch it.Outcome {
		case AllTasksCreated:
			created++
		case AllTasksExisted:
			existed++
		case AllTasksFailed:
			failed++
		case AllTasksWorking:
			working++
		default:
			todo++
		}
	}
	if v.Tried {
		var parts []string
		parts = append(parts, plural(created, "created", "created"))
		if existed > 0 {
			parts = append(parts, plural(existed, "already existed", "already existed"))
		}
		if working > 0 {
			parts = append(parts, plural(working, "in progress", "in progress"))
		}
		if failed > 0 {
			parts = append(parts, plural(failed, "failed", "failed"))
		}
		line := strings.Join(parts, " · ")
		if failed > 0 {
			body = append(body, callout("attention", text(line, "weight", "Bolder"),
				text("The failed items keep what you entered: fix them if needed and select Try again. Nothing is created twice.", "spacing", "Small")))
		} else {
			body = append(body, callout("good", text(line, "weight", "Bolder")))
		}
	}
	if v.Error != "" {
		body = append(body, problem(v.Error, v.ErrorCode))
	}
	editable := todo + failed
	if editable > 0 {
		body = append(body,
			text("These apply to every item:", "isSubtle", "true"),
			choiceSet(InputProject, "Project", "Choose a project.", v.Projects, v.Project, true))
		if len(v.Areas) > 0 {
			body = append(body, choiceSet(InputAreaPath, "Area", "Choose an area.", v.Areas, v.AreaPath, true))
		}
		if len(v.Iterations) > 0 {
			body = append(body, choiceSet(InputIterationPath, "Iteration", "Choose an iteration.", v.Iterations, v.IterationPath, true))
		}
		if len(v.Areas) == 0 || len(v.Iterations) == 0 {
			body = append(body, text("Choose a project, then select \"Load choices\" to fill Area and Iteration.", "isSubtle", "true"))
		} else {
			body = append(body, text("Changed the project or an item's type? Select \"Load choices\" to see its areas, iterations and the fields the type requires.", "isSubtle", "true"))
		}
	}
	ids := make([]any, 0, len(v.Items))
	for i, it := range v.Items {
		ids = append(ids, it.InsightID)
		body = append(body, allTasksBlock(i, it, v.WorkItemTypes))
	}
	if v.More > 0 {
		body = append(body, text(fmt.Sprintf("%s more will be listed once these are done: select Create all tasks again.", plural(v.More, "item", "items")), "isSubtle", "true"))
	}
	data := func(verb string) map[string]any {
		return map[string]any{DataVerb: verb, DataSummaryID: v.SummaryID, DataInsightID: v.AnchorID, DataItems: ids}
	}
	var actions []any
	if editable > 0 {
		title := "Create selected"
		if failed > 0 && todo == 0 {
			title = "Try again"
		}
		actions = append(actions,
			withAssociated(primary(submit(title, data(VerbAllTasksSubmit))), "auto"),
			withAssociated(submit("Load choices", data(VerbAllTasksReload)), "auto"))
	}
	return newCard(Version, v.Demo, body, actions...)
}

func allTasksBlock(i int, it AllTasksItem, types []Choice) map[string]any {
	items := []any{text(fmt.Sprintf("**%d.** %s", i+1, Escape(truncate(it.Insight, 300))), "weight", "Bolder")}
	var facts []string
	if it.Kind == devopsbot.KindNextStep {
		facts = append(facts, "Next step")
	}
	if it.Owner != "" {
		facts = append(facts, "Owner: "+Escape(truncate(it.Owner, 100)))
	}
	if it.Due != "" {
		facts = append(facts, "Due: "+Escape(truncate(it.Due, 40)))
	}
	if len(facts) > 0 {
		items = append(items, text(join(facts, " · "), "isSubtle", "true", "spacing", "None"))
	}
	switch it.Outcome {
	case AllTasksCreated, AllTasksExisted:
		line := resultLine(it.Result)
		if it.Outcome == AllTasksExisted {
			who := "someone"
			switch {
			case it.Mine:
				who = "you"
			case it.Result.By != "":
				who = Escape(it.Result.By)
			}
			line = "Already created by " + who + ": " + workItemName(it.Result)
			if it.Result.Title != "" {
				line += ": " + Escape(truncate(it.Result.Title, 255))
			}
		}
		items = append(items, withSpacing(callout("good", text(line)), "Small"))
		if linkable(it.Result) {
			items = append(items, actionSet(openURL("Open "+workItemName(it.Result), it.Result.URL)))
		}
	case AllTasksWorking:
		items = append(items, withSpacing(callout("emphasis", text(Escape(orDefault(it.Problem, "Someone is creating this one right now.")))), "Small"))
	default:
		if it.Outcome == AllTasksFailed {
			items = append(items, withSpacing(problem("Not created: "+orDefault(it.Problem, "it failed."), it.ProblemCode), "Small"))
		}
		value := "false"
		if it.Checked {
			value = "true"
		}
		items = append(items,
			map[string]any{"type": "Input.Toggle", "id": AllTasksPickID(i), "title": "Create this item", "value": value, "valueOn": "true", "valueOff": "false"},
			input(AllTasksTitleID(i), "Title", "At most 255 characters.", it.Title, false, map[string]any{"maxLength": MaxTitleLen}),
			choiceSet(AllTasksTypeID(i), "Work item type", "Choose a work item type.", types, it.WorkItemType, false),
		)
		items = append(items, fieldElements(func(ref string) string { return AllTasksFieldID(i, ref) }, it.Fields, it.FieldValues)...)
		if it.FieldsNote != "" {
			items = append(items, text(Escape(it.FieldsNote), "isSubtle", "true", "spacing", "Small"))
		}
		items = append(items, choiceSet(AllTasksOwnerID(i), "Responsible user", "Choose who is responsible.", it.People, it.AssignedTo, false))
		if it.OwnerNote != "" {
			items = append(items, text(Escape(it.OwnerNote), "isSubtle", "true", "spacing", "Small"))
		}
	}
	return map[string]any{"type": "Container", "separator": true, "spacing": "Large", "items": items}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// allTasksEligible lists the insights "Create all tasks" covers, in the
// order the card shows them: tasks, then next steps.
func allTasksEligible(v SummaryView) []InsightView {
	var out []InsightView
	for _, k := range []devopsbot.Kind{devopsbot.KindTask, devopsbot.KindNextStep} {
		for _, in := range v.Insights {
			if in.Kind == k {
				out = append(out, in)
			}
		}
	}
	return out
}

// allTasksButton is the "Create all tasks" row shown above the first task of
// a summary with two or more tasks or next steps, while one of them still has
// no work item; anchor is that first task. nil when it does not apply.
func allTasksButton(v SummaryView) (anchor string, row map[string]any) {
	items := allTasksEligible(v)
	if len(items) < 2 {
		return "", nil
	}
	left := 0
	for _, in := range items {
		made := false
		for _, r := range in.Results {
			made = made || !r.Comment
		}
		if !made {
			left++
		}
	}
	if left == 0 {
		return "", nil
	}
	title := fmt.Sprintf("Create all tasks (%d)", left)
	return items[0].ID, actionSet(withAssociated(submit(title, map[string]any{
		"msteams": map[string]any{"type": "task/fetch"}, DataVerb: VerbAllTasks, DataSummaryID: v.SummaryID, DataInsightID: items[0].ID,
	}), "none"))
}
