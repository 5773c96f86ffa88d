package cards

import "unicode/utf8"

// Buttons on a phone: Teams' host config lays an ActionSet's buttons out in
// one row (actionsOrientation Horizontal) and the renderer shrinks each one
// to fit, cutting its title ("Create…", "C…") at 340 px. Rows of buttons that
// fit keep every title readable there, and cost nothing on a desktop.

// Widths, in px, a row of buttons may take at Teams' mobile width (340 px):
// a card's content (its padding taken off), and a panel inside an in-card
// summary (an emphasis container's padding off too). A little under what is
// there: the estimate of a title's width is not a measurement.
const (
	cardActionsWidth   = 300 // of about 308
	inCardActionsWidth = 266 // of about 275
	buttonSpacing      = 8   // the host config's actions.buttonSpacing
)

// buttonWidth estimates a button's width from its title: padding plus an
// average character width of Teams' 14 px semibold font, rounded up
// (measured on the renderer's pictures: "Open help" is about 92 px).
func buttonWidth(action any) int {
	m, _ := action.(map[string]any)
	title, _ := m["title"].(string)
	return 24 + (15*utf8.RuneCountInString(title)+1)/2
}

// actionRows packs actions, in order, into ActionSets whose buttons fit width
// side by side; a button too wide for any row gets a row of its own.
func actionRows(width int, actions []any) []any {
	var rows []any
	var row []any
	used := 0
	for _, a := range actions {
		w := buttonWidth(a)
		if len(row) > 0 && used+buttonSpacing+w > width {
			rows = append(rows, actionSet(row...))
			row, used = nil, 0
		}
		if len(row) > 0 {
			used += buttonSpacing
		}
		row, used = append(row, a), used+w
	}
	if len(row) > 0 {
		rows = append(rows, actionSet(row...))
	}
	return rows
}
