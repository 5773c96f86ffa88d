package bot

import "github.com/sally-devops/devopsbot/summary"

// cleanTyped strips the invisible characters summary.CleanText removes from
// the free text a person typed into a form (title, description, comment), so
// a work item never carries a NUL or a bidi override its readers can't see.
// The choices (project, area, ...) are checked against Azure DevOps' own
// lists, and the organization URL and code have stricter rules of their own.
func (d *actionData) cleanTyped() {
	d.Title = summary.CleanText(d.Title)
	d.Description = summary.CleanText(d.Description)
	d.Comment = summary.CleanText(d.Comment)
}
