package bot

import (
	"context"
	"sort"
	"strings"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/cards"
	"github.com/sally-devops/devopsbot/teams"
)

// What the bot does while its database is down. The store refuses calls at once
// then (devopsbot.IsStoreUnavailable), so these answers come in a moment, not after a
// timeout; and nothing a person typed is thrown away: a form comes back with its
// input, rebuilt from what the click sent when the summary itself can't be read.

// dbDownText answers a chat command that needs the database.
const dbDownText = "I can't reach my database right now, try again in a minute."

// outageBanner tops a form the database could not serve. It is true: every step
// that can fail this way (reading the summary, the connection, the claim) comes
// before anything is written to Azure DevOps.
const outageBanner = "Could not save right now; nothing was created; try again."

// answerOutage answers a chat command while the database is down and reports
// whether it did. saveErr is how recording the conversation went, the message's
// first database call: if it found the database down, a command that needs the
// database gets the short outage answer instead of an error card later.
// Commands that need nothing stored (help, the hint) are answered as usual.
func (b *Bot) answerOutage(ctx context.Context, a *teams.Activity, cmd command, saveErr error) bool {
	if !devopsbot.IsStoreUnavailable(saveErr) {
		return false
	}
	switch cmd.name {
	case "help", "empty", "unknown":
		return false
	}
	teams.Logger(ctx).WarnContext(ctx, "answered a command with the database down", "command", cmd.name)
	b.replyText(ctx, a, dbDownText)
	return true
}

// outageForm answers a form step the database could not serve. A step that
// carried input (keep: submit, reload) gets its form back with every value kept
// and the banner; the choices are what was chosen, since the full lists need the
// stored connection. Opening a form (nothing typed yet) gets the short outage
// text. ac is nil when the summary itself could not be read: keep, the click's
// own data, names the summary and insight then.
func (b *Bot) outageForm(ctx context.Context, ac *actionCtx, action string, keep *actionData) teams.InvokeResponse {
	teams.Logger(ctx).WarnContext(ctx, "a form step found the database down", "action", action, "input_kept", keep != nil)
	switch {
	case keep == nil:
		return b.dialogMessage(ctx, dbDownText)
	case action == actionComment:
		v := &cards.CommentFormView{SummaryID: keep.SummaryID, InsightID: keep.InsightID, WorkItemID: keptWorkItem(keep), Comment: keep.Comment, Error: outageBanner}
		return b.dialogCard(ctx, "Add comment", b.commentFormCard(ctx, v))
	}
	return b.dialogCard(ctx, "Create work item", b.createFormCard(keptCreateForm(ac, keep)))
}

// outageStep answers a click whose summary could not be read for the outage:
// the steps that carry a form's input get that form back.
func (b *Bot) outageStep(ctx context.Context, d *actionData) teams.InvokeResponse {
	switch d.Sally {
	case cards.VerbCreateSubmit, cards.VerbCreateReload:
		return b.outageForm(ctx, nil, actionCreate, d)
	case cards.VerbCommentSubmit:
		return b.outageForm(ctx, nil, actionComment, d)
	case cards.VerbAllTasksSubmit, cards.VerbAllTasksReload:
		return b.allTasksOutage(ctx, d) // alltasks.go
	}
	return b.outageForm(ctx, nil, d.Sally, nil)
}

// keptCreateForm is the create form as the person submitted it.
func keptCreateForm(ac *actionCtx, d *actionData) *cards.CreateFormView {
	one := func(v string) []cards.Choice {
		if strings.TrimSpace(v) == "" {
			return nil
		}
		return []cards.Choice{{Title: v, Value: v}}
	}
	v := &cards.CreateFormView{
		SummaryID: d.SummaryID, InsightID: d.InsightID,
		Projects: one(d.Project), WorkItemTypes: one(d.WorkItemType), People: one(d.AssignedTo),
		Areas: one(d.AreaPath), Iterations: one(d.IterationPath),
		Values: cards.CreateValues{
			Project: d.Project, WorkItemType: d.WorkItemType, AssignedTo: d.AssignedTo, AreaPath: d.AreaPath,
			IterationPath: d.IterationPath, Title: d.Title, Description: d.Description,
			// The type's fields can't be listed now: what was typed comes back as text.
			Parent: d.Parent, DueDate: d.DueDate, Fields: d.Fields,
		},
		Error: outageBanner,
	}
	for ref := range d.Fields {
		v.Fields = append(v.Fields, cards.FieldInput{RefName: ref, Label: ref})
	}
	sort.Slice(v.Fields, func(i, j int) bool { return v.Fields[i].RefName < v.Fields[j].RefName })
	if d.DueDate != "" {
		v.DueLabel = "Due date"
	}
	if ac != nil {
		v.Insight = ac.insight.Text
	}
	return v
}
