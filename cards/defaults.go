package cards

import (
	"time"
)

// Verbs of the chat defaults card (posted in the chat: Universal Actions).
const (
	VerbDefaultsReload = "defaults.reload"
	VerbDefaultsSave   = "defaults.save"
	VerbDefaultsClear  = "defaults.clear"
)

// CurrentIteration is the iteration choice that follows the team's sprint:
// a fixed sprint path would be stale two weeks after it was chosen.
const CurrentIteration = "@CurrentIteration"

// ChatDefaultsView is the card that sets where everyone's forms in a chat start.
type ChatDefaultsView struct {
	Demo                                       bool
	Projects, WorkItemTypes, Areas, Iterations []Choice
	Project, WorkItemType, AreaPath, Iteration string

	// Current is what the chat has now ("" fields: not set), and who set it.
	Current ChatDefaultsLine
	Saved   bool   // the answer to Save or Clear: says so at the top
	Error   string // plain words
}

// ChatDefaultsLine is a chat's defaults as shown in the card and in status.
type ChatDefaultsLine struct {
	Project, WorkItemType, AreaPath, Iteration string
	SetBy                                      string
	SetAt                                      time.Time
}

// Set reports whether the chat has defaults.
func (l ChatDefaultsLine) Set() bool { return l.Project != "" }

// Text is the defaults on one line for a card, e.g. "Project Web Portal · Type Task".
func (l ChatDefaultsLine) Text() string { return l.line(Escape) }

// Plain is the same line for a plain text message.
func (l ChatDefaultsLine) Plain() string { return l.line(func(s string) string { return s }) }

func (l ChatDefaultsLine) line(Escape func(string) string) string {
	if !l.Set() {
		return "none"
	}
	parts := []string{"Project " + Escape(l.Project)}
	if l.AreaPath != "" {
		parts = append(parts, "Area "+Escape(l.AreaPath))
	}
	switch l.Iteration {
	case "":
	case CurrentIteration:
		parts = append(parts, "Iteration: the current one")
	default:
		parts = append(parts, "Iteration "+Escape(l.Iteration))
	}
	if l.WorkItemType != "" {
		parts = append(parts, "Type "+Escape(l.WorkItemType))
	}
	s := join(parts, " · ")
	if l.SetBy != "" {
		s += " (set by " + Escape(l.SetBy) + ")"
	}
	return s
}

// ChatDefaults renders the card. Only Project is required: an empty Area,
// Iteration or Type leaves that field to the project's default and to each
// person's own last choice.
func ChatDefaults(v ChatDefaultsView) Card {
	body := []any{
		heading("Form defaults for this chat"),
		text("Everyone's forms in this chat start from these; each person can still change them in the form.", "isSubtle", "true", "spacing", "None"),
	}
	if v.Saved {
		if v.Current.Set() {
			body = append(body, callout("good", text("Saved. Forms in this chat now start from: "+v.Current.Text())))
		} else {
			body = append(body, callout("good", text("Cleared. Forms in this chat start from each person's last choices again.")))
		}
	} else if v.Current.Set() {
		body = append(body, text("Now: "+v.Current.Text(), "isSubtle", "true"))
	}
	if v.Error != "" {
		body = append(body, attention(Escape(v.Error)))
	}
	body = append(body, choiceSet(InputProject, "Project", "Choose a project.", v.Projects, v.Project, true))
	loaded := len(v.Areas) > 0 || len(v.Iterations) > 0
	if loaded {
		body = append(body,
			optionalChoices(InputAreaPath, "Area", v.Areas, v.AreaPath, "The project's default area"),
			optionalChoices(InputIterationPath, "Iteration", append([]Choice{{Title: "The current iteration (follows the sprints)", Value: CurrentIteration}}, v.Iterations...), v.Iteration, "The current iteration"),
		)
	}
	if len(v.WorkItemTypes) > 0 {
		body = append(body, optionalChoices(InputWorkItemType, "Work item type", v.WorkItemTypes, v.WorkItemType, "Each person's last type (Task for tasks)"))
	}
	if !loaded {
		body = append(body, text("Choose a project, then select \"Load choices\" to choose its area and iteration.", "isSubtle", "true"))
	}
	actions := []any{
		withAssociated(primary(execute("Save for this chat", VerbDefaultsSave, map[string]any{DataVerb: VerbDefaultsSave})), "auto"),
		withAssociated(execute("Load choices", VerbDefaultsReload, map[string]any{DataVerb: VerbDefaultsReload}), "auto"),
	}
	if v.Current.Set() {
		actions = append(actions, withAssociated(execute("Clear", VerbDefaultsClear, map[string]any{DataVerb: VerbDefaultsClear}), "none"))
	}
	// In the body, not the card's own actions (one row, however narrow):
	// three buttons in a row are cut off on a phone.
	body = append(body, actionRows(cardActionsWidth, actions)...)
	return newCard(Version, v.Demo, body)
}

// optionalChoices is a drop-down that may stay empty; its placeholder says
// what empty means.
func optionalChoices(id, label string, choices []Choice, selected, emptyMeans string) map[string]any {
	m := choiceSet(id, label, "", choices, selected, false)
	delete(m, "errorMessage")
	m["placeholder"] = emptyMeans
	return m
}
