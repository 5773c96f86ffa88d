package bot

// Creating a work item from an insight: the form's choices and prefill, the
// checks on what was submitted, and the one write, claimed first so that no
// click, retry, person or replica makes a second work item.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/cards"
	"github.com/sally-devops/devopsbot/devops"
	"github.com/sally-devops/devopsbot/teams"
)

// existingCreate is the insight's work item when this process knows it was
// made (it listed, made or met it lately): then the form is not worth opening.
// It asks no database: when the work item was made elsewhere and is not known
// here, the claim at submit finds it and says so, and nothing is created twice.
func (b *Bot) existingCreate(summaryID, insightID string) *devopsbot.InsightLink {
	links := b.links.KnownDoneLinks(summaryID)
	for i := range links {
		l := &links[i]
		if l.Key.InsightID == insightID && l.Key.Action == actionCreate && l.State == devopsbot.LinkDone {
			return l
		}
	}
	return nil
}

// createFormView is the create form for an insight: the choices Azure DevOps
// offers this person, each preselected from what they typed on the step
// before (keep: a reload or a failed submit), their last choices, or the
// project's defaults; then the type's own parts (fields.go).
func (b *Bot) createFormView(ctx context.Context, ac *actionCtx, client *devops.Client, conn *devopsbot.Connection, keep *actionData, ruleField string) (*cards.CreateFormView, error) {
	projects, err := b.cfg.Metadata.Projects(ctx, metadataUser(conn, ac.user), client)
	if err != nil {
		return nil, err
	}
	if len(projects) == 0 {
		return nil, apperr.New(apperr.Forbidden, "Your account can't see any project in "+conn.OrgName+".")
	}
	prefs := b.startingPrefs(ctx, ac.user, ac.a.Conversation.ID) // the chat's defaults over the person's last choices (defaults.go)
	typed := keep
	if typed == nil {
		typed = &actionData{} // a first open: nothing typed yet
	}
	v := &cards.CreateFormView{Demo: b.demo(), SummaryID: ac.sm.ID, InsightID: ac.insight.ID, Insight: ac.insight.Text}
	names := make([]string, 0, len(projects))
	for _, p := range projects {
		names = append(names, p.Name)
	}
	v.Projects = choicesOf(names)
	v.Values.Project = pick(names, typed.Project, prefs.Project)
	fd, err := b.cfg.Metadata.FormData(ctx, client, v.Values.Project)
	if err != nil {
		return nil, err
	}
	types := make([]string, 0, len(fd.Types))
	for _, t := range fd.Types {
		types = append(types, t.Name)
	}
	iterations := make([]string, 0, len(fd.Iterations))
	for _, it := range fd.Iterations {
		iterations = append(iterations, it.Path)
	}
	v.WorkItemTypes, v.Areas, v.Iterations = choicesOf(types), choicesOf(fd.Areas), choicesOf(iterations)
	v.Values.WorkItemType = pick(types, typed.WorkItemType, prefs.WorkItemType, defaultType(ac.insight.Kind), "Task", "Issue")
	areaPref, iterPref := "", ""
	if prefs.Project == v.Values.Project {
		areaPref, iterPref = prefs.AreaPath, prefs.IterationPath
	}
	current := ""
	if fd.Defaults.CurrentIteration != nil {
		current = fd.Defaults.CurrentIteration.Path
	}
	v.Values.AreaPath = pick(fd.Areas, typed.AreaPath, areaPref, fd.Defaults.DefaultArea)
	v.Values.IterationPath = pick(iterations, typed.IterationPath, iterPref, current)
	rc := b.responsibleFor(ctx, ac, client, conn, fd.Members, typed.AssignedTo)
	v.People, v.Values.AssignedTo, v.ResponsibleNote = peopleChoices(rc.people), rc.selected, rc.note
	if keep != nil {
		v.Values.Title, v.Values.Description = keep.Title, keep.Description
	} else {
		v.Values.Title = shortTitle(ac.insight.Text)
		if isMessageSummary(ac.sm) {
			v.Values.Title = messageTitle(ac.insight.Text)
		}
		v.Values.Description = b.prefillDescription(ac)
	}
	b.typeFieldsForm(ctx, ac, client, conn, v, keep, ruleField)
	return v, nil
}

// choicesOf offers names as a drop-down's choices, each shown as it is.
func choicesOf(names []string) []cards.Choice {
	out := make([]cards.Choice, 0, len(names))
	for _, n := range names {
		out = append(out, cards.Choice{Title: n, Value: n})
	}
	return out
}

// peopleChoices offers people by name and sign-in name; the value Azure
// DevOps takes for System.AssignedTo is the sign-in name.
func peopleChoices(people []devops.Identity) []cards.Choice {
	out := make([]cards.Choice, 0, len(people))
	for _, m := range people {
		title := m.DisplayName
		if m.UniqueName != "" && m.UniqueName != m.DisplayName {
			title += " (" + m.UniqueName + ")"
		}
		out = append(out, cards.Choice{Title: title, Value: m.UniqueName})
	}
	return out
}

// pick returns the first candidate that is among the choices, else the first choice.
func pick(choices []string, candidates ...string) string {
	for _, c := range candidates {
		if c == "" {
			continue
		}
		for _, ch := range choices {
			if strings.EqualFold(ch, c) {
				return ch
			}
		}
	}
	if len(choices) > 0 {
		return choices[0]
	}
	return ""
}

func defaultType(k devopsbot.Kind) string {
	switch k {
	case devopsbot.KindTask, devopsbot.KindNextStep:
		return "Task"
	}
	return ""
}

func (b *Bot) prefillDescription(ac *actionCtx) string {
	if isMessageSummary(ac.sm) {
		return messageDescription(ac.sm, ac.insight)
	}
	var sb strings.Builder
	sb.WriteString(ac.insight.Text)
	sb.WriteString("\n\n")
	m := ac.sm.Meeting
	sb.WriteString("From the meeting \"" + m.Title + "\"")
	if !m.Start.IsZero() {
		sb.WriteString(" on " + m.Start.UTC().Format("2 January 2006, 15:04 MST"))
	}
	sb.WriteString(".")
	if ac.insight.Owner != "" {
		sb.WriteString("\nOwner: " + ac.insight.Owner)
	}
	if ac.insight.Due != "" {
		sb.WriteString("\nDue: " + ac.insight.Due)
	}
	if m.JoinURL != "" {
		sb.WriteString("\nMeeting link: " + m.JoinURL)
	}
	return sb.String()
}

// marker is the hidden reference put on a created work item so that after an
// ambiguous failure (the request went out, the answer was lost) we can find the
// item instead of creating a second one. Same insight, same marker.
func marker(key devopsbot.ActionKey) string {
	h := sha256.Sum256([]byte(key.SummaryID + "\x00" + key.InsightID + "\x00" + key.Action))
	return "sally-" + hex.EncodeToString(h[:10])
}

// checkCreateInput validates on the server what the card already checked.
func checkCreateInput(d *actionData) string {
	var missing []string
	for _, f := range []struct{ v, name string }{
		{d.Project, "Project"}, {d.WorkItemType, "Work item type"}, {d.AssignedTo, "Responsible user"},
		{d.AreaPath, "Area"}, {d.IterationPath, "Iteration"}, {strings.TrimSpace(d.Title), "Title"},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return "Please fill in: " + strings.Join(missing, ", ") + "."
	}
	if utf8.RuneCountInString(d.Title) > devops.MaxTitleLen {
		return fmt.Sprintf("The title may hold at most %d characters.", devops.MaxTitleLen)
	}
	if len(d.Description) > maxTextInput {
		return "The description is too long."
	}
	return ""
}

func (b *Bot) submitCreate(ctx context.Context, ac *actionCtx) teams.InvokeResponse {
	d := ac.data
	if msg := checkCreateInput(&d); msg != "" {
		return b.openForm(ctx, ac, actionCreate, &d, say(msg))
	}
	client, conn, err := b.clientFor(ctx, ac.user)
	if err != nil {
		if needsSignIn(err) {
			return b.dialogCard(ctx, "Connect Azure DevOps", b.dialogConnectCard(ac, actionCreate, "", reconnectHint(err)))
		}
		return b.openForm(ctx, ac, actionCreate, &d, say(apperr.UserMessage(err)))
	}
	nw := devops.NewWorkItem{
		Project: d.Project, Type: d.WorkItemType, Title: strings.TrimSpace(d.Title), Description: d.Description,
		AssignedTo: d.AssignedTo, AreaPath: d.AreaPath, IterationPath: d.IterationPath,
		Tags: []string{"Sally"},
	}
	// Checked before the claim: a refused parent or field keeps the form open
	// with the input, and claims nothing.
	if p, err := b.createExtras(ctx, ac, client, &d, &nw); err != nil || p.Text != "" {
		if needsSignIn(err) {
			return b.dialogCard(ctx, "Connect Azure DevOps", b.dialogConnectCard(ac, actionCreate, "", reconnectHint(err)))
		}
		if err != nil {
			p = problemOf(err)
		}
		return b.openForm(ctx, ac, actionCreate, &d, p)
	}
	key := devopsbot.ActionKey{SummaryID: ac.sm.ID, InsightID: ac.insight.ID, Action: actionCreate}
	mk := marker(key)
	link, claimed, err := b.links.ClaimAction(ctx, key, ac.user, ac.a.From.Name, mk, claimTTL)
	if err != nil {
		return b.openForm(ctx, ac, actionCreate, &d, say(apperr.UserMessage(err)))
	}
	if !claimed {
		return b.dialogCard(ctx, "Create work item", b.alreadyDoneCard(link, ac.user))
	}
	nw.Marker = link.Marker // the first claim's marker, also after a takeover
	return b.withinBudget(ctx, "Create work item", workingNote(ac, "Creating the work item in Azure DevOps…", "It will show on the meeting card when it is ready."),
		func(wctx context.Context) teams.InvokeResponse { return b.doCreate(wctx, ac, client, conn, link, nw) })
}

func (b *Bot) doCreate(ctx context.Context, ac *actionCtx, client *devops.Client, conn *devopsbot.Connection, link *devopsbot.InsightLink, nw devops.NewWorkItem) teams.InvokeResponse {
	d := ac.data
	wi, err := b.createOnce(ctx, client, nw, link)
	if err != nil {
		if rerr := b.links.ReleaseAction(ctx, link.Key); rerr != nil {
			teams.Logger(ctx).WarnContext(ctx, "could not release a claim", "err", rerr)
		}
		b.audit(ctx, ac, conn, "create_work_item", d.Project, 0, 0, "failed", apperr.KindOf(err).String())
		if needsSignIn(err) {
			return b.dialogCard(ctx, "Connect Azure DevOps", b.dialogConnectCard(ac, actionCreate, "", reconnectHint(err)))
		}
		if apperr.KindOf(err) == apperr.Internal {
			return b.openForm(ctx, ac, actionCreate, &d, say("Something went wrong on our side (reference "+b.reference(ctx, "create work item failed", err)+"). Your input is kept: try again."))
		}
		return b.openForm(ctx, ac, actionCreate, &d, problemOf(err))
	}
	link.State = devopsbot.LinkDone
	link.OrgURL, link.Project = conn.OrgURL, d.Project
	link.WorkItemID, link.WorkItemType, link.WorkItemTitle, link.WorkItemURL = wi.ID, wi.Type, wi.Title, wi.URL
	link.CompletedAt = b.now()
	if err := b.links.CompleteAction(ctx, link); err != nil {
		teams.Logger(ctx).ErrorContext(ctx, "created a work item but could not record it", "work_item", wi.ID, "err", err)
	}
	// Three independent writes and reads: the person waits for the slowest, not the sum.
	together(
		func() { b.audit(ctx, ac, conn, "create_work_item", d.Project, wi.ID, 0, "ok", "") },
		func() {
			if err := b.prefs.SavePrefs(ctx, ac.user, devopsbot.Prefs{Project: d.Project, WorkItemType: d.WorkItemType, AreaPath: d.AreaPath, IterationPath: d.IterationPath, UpdatedAt: b.now()}); err != nil {
				teams.Logger(ctx).WarnContext(ctx, "could not save the user's choices", "err", err)
			}
		},
		func() { b.updateSharedCards(ctx, ac) },
	)
	return b.dialogCard(ctx, "Work item created", b.createdCard(link))
}

// createOnce creates the work item unless an earlier attempt (a crashed replica,
// a lost answer) already did: then it returns that item. The marker lookup before
// the write costs one query and is what makes "one insight, one work item" hold
// across replicas and retries.
func (b *Bot) createOnce(ctx context.Context, client *devops.Client, nw devops.NewWorkItem, link *devopsbot.InsightLink) (*devops.WorkItem, error) {
	if found, err := client.FindByMarker(ctx, nw.Project, nw.Marker); err == nil {
		teams.Logger(ctx).InfoContext(ctx, "an earlier attempt had created this work item", "work_item", found.ID)
		return found, nil
	} else if !apperr.Is(err, apperr.NotFound) {
		return nil, err
	}
	wi, err := client.CreateWorkItem(ctx, nw)
	if err == nil {
		return wi, nil
	}
	if !ambiguous(err) {
		return nil, err
	}
	found, ferr := client.FindByMarker(ctx, nw.Project, nw.Marker)
	if ferr == nil {
		teams.Logger(ctx).InfoContext(ctx, "found the work item an ambiguous create had made", "work_item", found.ID)
		return found, nil
	}
	return nil, err
}

// ambiguous reports whether a write may have happened although it failed.
func ambiguous(err error) bool {
	k := apperr.KindOf(err)
	return k == apperr.Unavailable || k == apperr.Internal
}

func (b *Bot) audit(ctx context.Context, ac *actionCtx, conn *devopsbot.Connection, action, project string, wid, cid int, outcome, detail string) {
	rec := devopsbot.AuditRecord{
		Time: b.now(), User: ac.user, UserName: ac.a.From.Name, Action: action, OrgURL: conn.OrgURL, Project: project,
		WorkItemID: wid, CommentID: cid, SummaryID: ac.sm.ID, InsightID: ac.insight.ID, Outcome: outcome, Detail: detail,
	}
	if err := b.auditLog.AddAudit(context.WithoutCancel(ctx), rec); err != nil {
		teams.Logger(ctx).ErrorContext(ctx, "could not write an audit record", "err", err, "action", action)
	}
}

// shortTitle is a prefilled title: the text on one line, cut at a word to
// Azure DevOps' limit.
func shortTitle(text string) string {
	t, _ := devops.ShortenTitle(text)
	return t
}

// metadataUser keys what the metadata cache keeps per person (projects, people
// searches, recent parents): what one can see differs by user and organization.
func metadataUser(conn *devopsbot.Connection, u devopsbot.UserKey) string {
	return conn.OrgURL + "|" + u.TenantID + "|" + u.AADObjectID
}
