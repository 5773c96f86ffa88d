package cards

import (
	"fmt"
)

// Choice is one option of a drop-down.
type Choice struct {
	Title string
	Value string
}

// CreateValues are the create form's fields; the bot refills them after a
// reload or a failed attempt so nobody retypes anything.
type CreateValues struct {
	Project       string
	WorkItemType  string
	AssignedTo    string
	AreaPath      string
	IterationPath string
	Title         string
	Description   string
	Parent        string            // a work item number (or link) to link the new item under
	DueDate       string            // YYYY-MM-DD, for the type's due-date field
	Fields        map[string]string // the type's own required fields, by reference name
}

// FieldInputPrefix starts the input id of a type's own field: the id is the
// prefix and the field's reference name ("field_Custom.Severity").
const FieldInputPrefix = "field_"

// FieldInput is a field the work item type requires and the form does not
// otherwise cover: a drop-down when the process lists its values, text if not.
type FieldInput struct {
	RefName, Label string
	Choices        []Choice
}

// CreateFormView is the "Create work item" dialog.
type CreateFormView struct {
	Demo          bool
	SummaryID     string
	InsightID     string
	Insight       string // the insight's text, shown above the form
	Projects      []Choice
	WorkItemTypes []Choice
	People        []Choice
	Areas         []Choice
	Iterations    []Choice
	Values        CreateValues
	Error         string // what went wrong in plain words, shown as text
	ErrorCode     string // Azure DevOps' own code (TF401347), shown in small print
	// ResponsibleNote, shown as text under Responsible user, says who the
	// insight's owner was matched to and why, or that nobody was.
	ResponsibleNote string
	// Fields are the type's required fields the form asks for besides its own.
	Fields []FieldInput
	// DueLabel, when set, shows a date input for the type's due-date field
	// ("Due Date", "Target Date"); types without one get none.
	DueLabel string
	// ParentDataset, with ParentChoices to offer before anyone types, makes
	// Parent a typeahead (card 1.6); without choices it is a number field.
	ParentDataset string
	ParentChoices []Choice
	// LinkNote says what the item will link to (the meeting), or why not.
	LinkNote string
}

// MaxTitleLen is Azure DevOps' limit on a work item title (devops.MaxTitleLen,
// which this package may not import; a test in bot checks that they agree).
const MaxTitleLen = 255

// CreateForm renders the create dialog. Area and Iteration appear, required,
// once their choices are loaded: before that they cannot be filled (a
// required empty drop-down would block the "Load choices" button, which
// validates the inputs it sends), and the renderer refuses a drop-down
// without choices (CollectionCantBeEmpty).
func CreateForm(v CreateFormView) Card {
	ids := map[string]any{DataSummaryID: v.SummaryID, DataInsightID: v.InsightID}
	var body []any
	body = append(body, heading("Create a work item"))
	if v.Insight != "" {
		body = append(body, text(Escape(truncate(v.Insight, 1000)), "isSubtle", "true"))
	}
	if v.Error != "" {
		body = append(body, problem(v.Error, v.ErrorCode))
	}
	body = append(body,
		choiceSet(InputProject, "Project", "Choose a project.", v.Projects, v.Values.Project, true),
		choiceSet(InputWorkItemType, "Work item type", "Choose a work item type.", v.WorkItemTypes, v.Values.WorkItemType, true),
		choiceSet(InputAssignedTo, "Responsible user", "Choose who is responsible.", v.People, v.Values.AssignedTo, true),
	)
	if v.ResponsibleNote != "" {
		body = append(body, text(Escape(v.ResponsibleNote), "isSubtle", "true", "spacing", "Small"))
	}
	if len(v.Areas) > 0 {
		body = append(body, choiceSet(InputAreaPath, "Area", "Choose an area.", v.Areas, v.Values.AreaPath, true))
	}
	if len(v.Iterations) > 0 {
		body = append(body, choiceSet(InputIterationPath, "Iteration", "Choose an iteration.", v.Iterations, v.Values.IterationPath, true))
	}
	// The type's own required fields are checked by the bot, not marked
	// required on the card: a required empty input would block "Load
	// choices", which is how someone switches to a type without that field.
	body = append(body, fieldElements(func(ref string) string { return FieldInputPrefix + ref }, v.Fields, v.Values.Fields)...)
	if v.DueLabel != "" {
		d := map[string]any{"type": "Input.Date", "id": InputDueDate, "label": v.DueLabel, "errorMessage": "Choose a date.", "isRequired": false}
		if v.Values.DueDate != "" {
			d["value"] = v.Values.DueDate
		}
		body = append(body, d)
	}
	version := Version
	if v.ParentDataset != "" && len(v.ParentChoices) > 0 {
		version = VersionSearch
		ps := choiceSet(InputParent, "Parent (optional)", "Choose a parent from the list.", v.ParentChoices, v.Values.Parent, false)
		ps["style"], ps["placeholder"] = "filtered", "Type to search Features, User Stories, Epics"
		ps["choices.data"] = map[string]any{"type": "Data.Query", "dataset": v.ParentDataset}
		body = append(body, ps)
	} else {
		body = append(body, input(InputParent, "Parent (optional)", "Enter a work item number such as 123 or #123.", v.Values.Parent, false,
			map[string]any{"placeholder": "123 or #123", "maxLength": 2048}))
	}
	body = append(body,
		input(InputTitle, "Title", fmt.Sprintf("A title is required (at most %d characters).", MaxTitleLen), v.Values.Title, true, map[string]any{"maxLength": MaxTitleLen}),
		input(InputDescription, "Description", "The description is too long.", v.Values.Description, false, map[string]any{"isMultiline": true, "maxLength": 32000}),
	)
	if v.LinkNote != "" {
		body = append(body, text(Escape(v.LinkNote), "isSubtle", "true", "spacing", "Small"))
	}
	if len(v.Areas) == 0 || len(v.Iterations) == 0 {
		body = append(body, text("Choose a project, then select \"Load choices\" to fill Area and Iteration.", "isSubtle", "true"))
	} else {
		body = append(body, text("Changed the project or the type? Select \"Load choices\" to see its areas, iterations and required fields.", "isSubtle", "true"))
	}
	return newCard(version, v.Demo, body,
		withAssociated(primary(submit("Create work item", with(ids, DataVerb, VerbCreateSubmit))), "auto"),
		withAssociated(submit("Load choices", with(ids, DataVerb, VerbCreateReload)), "auto"),
	)
}

// CommentFormView is the "Add comment" dialog.
type CommentFormView struct {
	Demo       bool
	SummaryID  string
	InsightID  string
	WorkItemID string // kept after a failed attempt
	Comment    string // prefilled with the insight's text
	Search     bool   // offer a typeahead over work items (card becomes 1.6)
	// Recent are work items offered before the person types (e.g. those
	// created or commented on from this summary). The renderer refuses a
	// drop-down without choices, so the typeahead needs at least one.
	Recent    []Choice
	Error     string
	ErrorCode string
}

// CommentForm renders the comment dialog.
func CommentForm(v CommentFormView) Card {
	ids := map[string]any{DataSummaryID: v.SummaryID, DataInsightID: v.InsightID}
	body := []any{heading("Add a comment to a work item")}
	if v.Error != "" {
		body = append(body, problem(v.Error, v.ErrorCode))
	}
	version := Version
	search := v.Search && len(v.Recent) > 0
	if search {
		version = VersionSearch
		ws := choiceSet(InputWorkItemSearch, "Find a work item", "Choose a work item from the list.", v.Recent, "", false)
		ws["style"], ws["placeholder"] = "filtered", "Type to search work items"
		ws["choices.data"] = map[string]any{"type": "Data.Query", "dataset": DatasetWorkItems}
		body = append(body, ws)
	}
	// With search offered, the id field is the alternative, so it cannot be required.
	body = append(body,
		input(InputWorkItemID, "Work item ID", "Enter a work item number such as 123 or #123.", v.WorkItemID, !search,
			map[string]any{"placeholder": "123 or #123", "regex": `^\s*#?[0-9]{1,10}\s*$`, "maxLength": 12}),
		input(InputComment, "Comment", "A comment is required.", v.Comment, true, map[string]any{"isMultiline": true, "maxLength": 32000}),
	)
	return newCard(version, v.Demo, body, withAssociated(primary(submit("Add comment", with(ids, DataVerb, VerbCommentSubmit))), "auto"))
}

// problem is the banner a form shows after a failed attempt: the message in
// plain words and, in small print, the code support will ask for.
func problem(msg, code string) map[string]any {
	c := attention(Escape(msg))
	if code != "" {
		c["items"] = append(c["items"].([]any), text("Azure DevOps code: "+Escape(code), "isSubtle", "true", "size", "Small", "spacing", "None"))
	}
	return c
}

// fieldElements are the inputs for a type's own fields, id naming each
// input: a drop-down when the process lists the values, text if not. They are
// never required on the card (see CreateForm); the bot checks them.
func fieldElements(id func(ref string) string, fields []FieldInput, values map[string]string) []any {
	out := make([]any, 0, len(fields))
	for _, f := range fields {
		id, label := id(f.RefName), f.Label+" (required)"
		if len(f.Choices) > 0 {
			cs := choiceSet(id, label, "Choose a "+f.Label+".", f.Choices, values[f.RefName], false)
			if len(f.Choices) > 15 {
				cs["style"] = "filtered"
			}
			out = append(out, cs)
		} else {
			out = append(out, input(id, label, "The "+f.Label+" is too long.", values[f.RefName], false, map[string]any{"maxLength": 1000}))
		}
	}
	return out
}

func input(id, label, errMsg, value string, required bool, extra map[string]any) map[string]any {
	m := map[string]any{"type": "Input.Text", "id": id, "label": label, "errorMessage": errMsg, "isRequired": required}
	if value != "" {
		m["value"] = value // input values are never Markdown: no escaping
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func choiceSet(id, label, errMsg string, choices []Choice, selected string, required bool) map[string]any {
	cs := make([]any, 0, len(choices))
	found := false
	for _, c := range choices {
		title := c.Title
		if title == "" {
			title = c.Value
		}
		cs = append(cs, map[string]any{"title": title, "value": c.Value})
		found = found || c.Value == selected
	}
	m := map[string]any{"type": "Input.ChoiceSet", "id": id, "label": label, "errorMessage": errMsg,
		"isRequired": required, "style": "compact", "choices": cs}
	if len(choices) == 0 {
		m["placeholder"] = "Load choices for this project first"
	} else {
		m["placeholder"] = "Choose…"
	}
	// A value that is no longer among the choices would show blank; drop it.
	if selected != "" && found {
		m["value"] = selected
	}
	return m
}

func with(base map[string]any, kv ...string) map[string]any {
	out := make(map[string]any, len(base)+len(kv)/2)
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// primary marks the action that does what the form is for; Teams draws it
// as the main button.
func primary(a map[string]any) map[string]any {
	a["style"] = "positive"
	return a
}

func withAssociated(a map[string]any, mode string) map[string]any {
	a["associatedInputs"] = mode
	return a
}
