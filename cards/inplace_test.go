package cards

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/cards/cardstest"
)

func manyTasks(n int) SummaryView {
	v := SummaryView{SummaryID: "s1", Meeting: devopsbot.Meeting{Title: "Planning"}}
	for i := 1; i <= n; i++ {
		v.Insights = append(v.Insights, InsightView{Insight: devopsbot.Insight{ID: fmt.Sprintf("t%d", i), Kind: devopsbot.KindTask, Text: fmt.Sprintf("Task number %d", i)}})
	}
	v.Insights = append(v.Insights, InsightView{Insight: devopsbot.Insight{ID: "d1", Kind: devopsbot.KindDecision, Text: "A decision"}})
	return v
}

// A long section shows five insights and hides the rest behind one button
// that targets exactly the hidden ones; other sections stay open.
func TestLongSectionsCollapse(t *testing.T) {
	c := summaryCards(manyTasks(8))[0]
	hidden := map[string]bool{}
	var toggle map[string]any
	cardstest.Walk(c, func(m map[string]any) bool {
		if m["isVisible"] == false {
			hidden[m["id"].(string)] = true
		}
		if m["type"] == "Action.ToggleVisibility" {
			toggle = m
		}
		return true
	})
	if len(hidden) != 3 {
		t.Fatalf("%d hidden insights, want 3", len(hidden))
	}
	if toggle == nil || toggle["title"] != "Show 3 more" {
		t.Fatalf("toggle = %v", toggle)
	}
	targets, _ := toggle["targetElements"].([]any)
	for _, id := range targets {
		delete(hidden, id.(string))
	}
	if len(targets) != 3 || len(hidden) != 0 {
		t.Fatalf("toggle targets %v, hidden left over %v", targets, hidden)
	}
	raw := string(mustJSON(c))
	if i, j := strings.Index(raw, "Show 3 more"), strings.Index(raw, `"Decisions"`); i < 0 || j < i {
		t.Error("the toggle should close the tasks, before the decisions")
	}
}

// In place, the insight clicked is visible even when its section is
// collapsed, the panel sits right under it, and Cancel needs no input.
func TestSummaryInPlaceShowsThePanelUnderTheInsight(t *testing.T) {
	panel := CreateForm(CreateFormView{SummaryID: "s1", InsightID: "t7", Projects: []Choice{{"P", "P"}}})
	c, ok := SummaryInPlace(manyTasks(8), "t7", panel)
	if !ok {
		t.Fatal("insight not found")
	}
	raw := string(mustJSON(c))
	if i, j := strings.Index(raw, "Task number 7"), strings.Index(raw, "Create a work item"); i < 0 || j < i {
		t.Fatalf("panel not under its insight: %d %d", i, j)
	}
	if strings.Index(raw, "Task number 8") < strings.Index(raw, "Create a work item") {
		t.Error("the panel should come before the next insight")
	}
	visible7 := false
	cardstest.Walk(c, func(m map[string]any) bool {
		if m["type"] == "Container" && strings.Contains(string(mustJSON(m)), "Task number 7") && m["isVisible"] == nil && m["style"] == nil {
			visible7 = true
		}
		return true
	})
	if !visible7 {
		t.Error("the focused insight is hidden")
	}
	cardstest.Walk(c, func(m map[string]any) bool {
		if d, ok := m["data"].(map[string]any); ok && d["sally"] == "create" && d["insightId"] == "t7" {
			t.Error("the insight keeps its own Create button above the open form's")
		}
		return true
	})
	findFor(t, c, "create", "t6") // the others keep theirs
	cancel := findFor(t, c, VerbCancel, "t7")
	if cancel["type"] != "Action.Execute" || cancel["associatedInputs"] != "none" {
		t.Errorf("cancel = %v", cancel)
	}
	if _, ok := SummaryInPlace(manyTasks(2), "nope", panel); ok {
		t.Error("an unknown insight was found")
	}
}
