package bot

// Adding an insight as a comment to an existing work item: the form, and the
// one write, claimed per target work item like a create.

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/cards"
	"github.com/sally-devops/devopsbot/devops"
	"github.com/sally-devops/devopsbot/teams"
)

// commentFormView builds the comment form; links are the summary's results
// (none when they could not be read: the search still works). The work items
// already made from this summary are the likeliest targets, offered in the
// search drop-down before anyone types.
func (b *Bot) commentFormView(ac *actionCtx, keep *actionData, links []devopsbot.InsightLink) *cards.CommentFormView {
	v := &cards.CommentFormView{Demo: b.demo(), SummaryID: ac.sm.ID, InsightID: ac.insight.ID}
	seen := map[int]bool{}
	for _, l := range links {
		if l.State == devopsbot.LinkDone && l.WorkItemID > 0 && !seen[l.WorkItemID] {
			seen[l.WorkItemID] = true
			v.Recent = append(v.Recent, cards.Choice{Title: fmt.Sprintf("%s %d: %s", l.WorkItemType, l.WorkItemID, l.WorkItemTitle), Value: strconv.Itoa(l.WorkItemID)})
		}
	}
	if keep != nil {
		v.WorkItemID, v.Comment = keptWorkItem(keep), keep.Comment
		return v
	}
	v.Comment = b.prefillDescription(ac)
	return v
}

// keptWorkItem is the work item a failed comment attempt named: the one
// chosen in the search, else the number typed.
func keptWorkItem(d *actionData) string {
	if d.WorkItemID == "" {
		return d.WorkItemSearch
	}
	return d.WorkItemID
}

// parseWorkItemID accepts "123", "#123" and a typeahead choice value.
func parseWorkItemID(s string) (int, bool) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "#"))
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > 1<<31-1 {
		return 0, false
	}
	return n, true
}

func (b *Bot) submitComment(ctx context.Context, ac *actionCtx) teams.InvokeResponse {
	d := ac.data
	raw := d.WorkItemSearch
	if raw == "" {
		raw = d.WorkItemID
	}
	id, ok := parseWorkItemID(raw)
	switch {
	case !ok:
		return b.openForm(ctx, ac, actionComment, &d, say("Enter the work item's number, like 1234 or #1234."))
	case strings.TrimSpace(d.Comment) == "":
		return b.openForm(ctx, ac, actionComment, &d, say("Please write the comment."))
	case len(d.Comment) > maxTextInput:
		return b.openForm(ctx, ac, actionComment, &d, say("The comment is too long."))
	}
	client, conn, err := b.clientFor(ctx, ac.user)
	if err != nil {
		if needsSignIn(err) {
			return b.dialogCard(ctx, "Connect Azure DevOps", b.dialogConnectCard(ac, actionComment, "", reconnectHint(err)))
		}
		return b.openForm(ctx, ac, actionComment, &d, say(apperr.UserMessage(err)))
	}
	key := devopsbot.ActionKey{SummaryID: ac.sm.ID, InsightID: ac.insight.ID, Action: actionComment, Target: strconv.Itoa(id)}
	link, claimed, err := b.links.ClaimAction(ctx, key, ac.user, ac.a.From.Name, marker(key), claimTTL)
	if err != nil {
		return b.openForm(ctx, ac, actionComment, &d, say(apperr.UserMessage(err)))
	}
	if !claimed {
		return b.dialogCard(ctx, "Add comment", b.alreadyDoneCard(link, ac.user))
	}
	return b.withinBudget(ctx, "Add comment", workingNote(ac, "Adding the comment in Azure DevOps…", "It will show on the meeting card when it is done."),
		func(wctx context.Context) teams.InvokeResponse { return b.doComment(wctx, ac, client, conn, link, id) })
}

func (b *Bot) doComment(ctx context.Context, ac *actionCtx, client *devops.Client, conn *devopsbot.Connection, link *devopsbot.InsightLink, id int) teams.InvokeResponse {
	d := ac.data
	wi, err := client.GetWorkItem(ctx, id)
	if err != nil {
		_ = b.links.ReleaseAction(ctx, link.Key)
		if needsSignIn(err) {
			return b.dialogCard(ctx, "Connect Azure DevOps", b.dialogConnectCard(ac, actionComment, "", reconnectHint(err)))
		}
		if apperr.Is(err, apperr.NotFound) {
			return b.openForm(ctx, ac, actionComment, &d, say(fmt.Sprintf("Work item %d does not exist, or you can't see it.", id)))
		}
		return b.openForm(ctx, ac, actionComment, &d, problemOf(err))
	}
	// The reference lets a retry see that a comment whose answer was lost landed.
	text := strings.TrimSpace(d.Comment) + "\n\n— added from Microsoft Teams with Sally (ref " + link.Marker + ")"
	c, err := client.AddComment(ctx, wi.Project, id, text)
	if err != nil && ambiguous(err) {
		if found, ferr := client.FindCommentByMarker(ctx, wi.Project, id, link.Marker); ferr == nil {
			teams.Logger(ctx).InfoContext(ctx, "found the comment an ambiguous write had added", "work_item", id)
			c, err = found, nil
		}
	}
	if err != nil {
		_ = b.links.ReleaseAction(ctx, link.Key)
		b.audit(ctx, ac, conn, "add_comment", wi.Project, id, 0, "failed", apperr.KindOf(err).String())
		if needsSignIn(err) {
			return b.dialogCard(ctx, "Connect Azure DevOps", b.dialogConnectCard(ac, actionComment, "", reconnectHint(err)))
		}
		return b.openForm(ctx, ac, actionComment, &d, problemOf(err))
	}
	link.State = devopsbot.LinkDone
	link.OrgURL, link.Project = conn.OrgURL, wi.Project
	link.WorkItemID, link.WorkItemType, link.WorkItemTitle, link.WorkItemURL = wi.ID, wi.Type, wi.Title, wi.URL
	link.CommentID = c.ID
	link.CompletedAt = b.now()
	if err := b.links.CompleteAction(ctx, link); err != nil {
		teams.Logger(ctx).ErrorContext(ctx, "added a comment but could not record it", "work_item", id, "err", err)
	}
	together(
		func() { b.audit(ctx, ac, conn, "add_comment", wi.Project, id, c.ID, "ok", "") },
		func() { b.updateSharedCards(ctx, ac) },
	)
	return b.dialogCard(ctx, "Comment added", b.commentedCard(link))
}
