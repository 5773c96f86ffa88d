package cards

import (
	"strings"
	"testing"
)

// At Teams' mobile width every form's buttons keep their titles: no row of
// buttons is wider than what a phone shows (the pictures of
// cardcheck/render.mjs at 340 px are the proof by eye; this keeps it).
func TestFormButtonsFitAPhone(t *testing.T) {
	checked := 0
	for _, e := range gallery(t) {
		inCard := strings.Contains(e.name, "in place with") || strings.Contains(e.name, "in card")
		for _, c := range e.build(false) {
			checked += fitsAPhone(t, e.name, c, inCard)
		}
	}
	if checked < 100 {
		t.Fatalf("only %d rows of buttons checked", checked)
	}
}

// fitsAPhone checks each row of buttons of c, the rows of a form panel inside
// a summary against the panel's width; it returns how many rows it checked.
func fitsAPhone(t *testing.T, name string, c Card, inCard bool) int {
	t.Helper()
	checked := 0
	{
		rows := [][]any{}
		if acts, _ := c["actions"].([]any); len(acts) > 0 {
			rows = append(rows, acts)
		}
		panelRows := map[int]bool{}
		walk(map[string]any(c), func(m map[string]any) bool {
			if m["type"] == "Container" && m["style"] == "emphasis" && inCard {
				// a form panel: its own rows are narrower
				items, _ := m["items"].([]any)
				for _, x := range items {
					if s, _ := x.(map[string]any); s["type"] == "ActionSet" {
						acts, _ := s["actions"].([]any)
						panelRows[len(rows)] = true
						rows = append(rows, acts)
					}
				}
				return false
			}
			if m["type"] == "ActionSet" {
				acts, _ := m["actions"].([]any)
				rows = append(rows, acts)
			}
			return true
		})
		for i, row := range rows {
			width := cardActionsWidth
			if panelRows[i] {
				width = inCardActionsWidth
			}
			used := -buttonSpacing
			var titles []string
			for _, a := range row {
				used += buttonSpacing + buttonWidth(a)
				title, _ := a.(map[string]any)["title"].(string)
				titles = append(titles, title)
			}
			checked++
			if used > width {
				t.Errorf("%s: the buttons %q need about %d px, a phone shows %d", name, titles, used, width)
			}
		}
	}
	return checked
}
