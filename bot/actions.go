package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/cards"
	"github.com/sally-devops/devopsbot/devops"
	"github.com/sally-devops/devopsbot/teams"
)

// Card actions open forms in Teams dialogs (task/fetch, task/submit): a dialog is
// private to the person who clicked, so one person's form never replaces the
// shared summary card, and updating the shared card for everyone (to show what
// was created) never wipes someone else's half-filled form.

// actionCreate and actionComment are what a person can do with an insight:
// each is the verb that opens its form and, stored as ActionKey.Action, the
// name of what was done (links already stored keep it, so it never changes).
const (
	actionCreate  = cards.VerbCreate
	actionComment = cards.VerbComment
)

const (
	claimTTL     = 2 * time.Minute
	maxTextInput = 32000
)

// actionData is what our dialog cards submit: the action's own data merged with
// the form's inputs (Teams merges them into one object). Its JSON names are the
// cards package's Data* keys and Input* ids (a test checks that they agree:
// a struct tag cannot name a constant).
type actionData struct {
	Sally     string `json:"sally"`
	SummaryID string `json:"summaryId"`
	InsightID string `json:"insightId"`
	Next      string `json:"next"`

	Project       string `json:"project"`
	WorkItemType  string `json:"workItemType"`
	AssignedTo    string `json:"assignedTo"`
	AreaPath      string `json:"areaPath"`
	IterationPath string `json:"iterationPath"`
	Title         string `json:"title"`
	Description   string `json:"description"`
	Parent        string `json:"parent"`
	DueDate       string `json:"dueDate"`
	// Fields are the type's own field inputs (cards.FieldInputPrefix), by reference name.
	Fields map[string]string `json:"-"`

	WorkItemID     string `json:"workItemId"`
	WorkItemSearch string `json:"workItemSearch"`
	Comment        string `json:"comment"`

	OrgURL string `json:"orgUrl"`
	Code   string `json:"code"`

	// raw is the click's whole data: forms with inputs of their own (Create
	// all tasks) read them from it.
	raw json.RawMessage
}

// actionCtx is everything an action needs about who clicked what.
type actionCtx struct {
	a       *teams.Activity
	user    devopsbot.UserKey
	data    actionData
	sm      *devopsbot.Summary
	insight devopsbot.Insight
}

func (b *Bot) onTaskFetch(ctx context.Context, a *teams.Activity) (teams.InvokeResponse, error) {
	ac, resp, ok := b.loadAction(ctx, a, taskData(a))
	if !ok {
		return resp, nil
	}
	switch ac.data.Sally {
	case actionCreate, actionComment:
		return b.openForm(ctx, ac, ac.data.Sally, nil, formProblem{}), nil
	case cards.VerbAllTasks:
		return b.allTasksStep(ctx, ac, taskData(a)), nil // alltasks.go
	}
	return b.dialogMessage(ctx, "This button is not supported."), nil
}

func (b *Bot) onTaskSubmit(ctx context.Context, a *teams.Activity) (teams.InvokeResponse, error) {
	return b.formStep(ctx, a, taskData(a)), nil
}

func taskData(a *teams.Activity) json.RawMessage {
	tv, err := a.TaskValue()
	if err != nil {
		return nil
	}
	return tv.Data
}

// formVerbs are the steps of the create and comment forms, whichever way they
// arrive (dialog task/fetch + task/submit, or in-card Action.Execute).
var formVerbs = map[string]bool{
	cards.VerbCreate: true, cards.VerbComment: true, cards.VerbCreateReload: true, cards.VerbCreateSubmit: true,
	cards.VerbCommentSubmit: true, cards.VerbDialogConnect: true, cards.VerbDialogCode: true, cards.VerbCancel: true,
	cards.VerbHelp: true, cards.VerbConnect: true,
}

// formStep runs one step of a form after the first.
func (b *Bot) formStep(ctx context.Context, a *teams.Activity, raw json.RawMessage) teams.InvokeResponse {
	ac, resp, ok := b.loadAction(ctx, a, raw)
	if !ok {
		return resp
	}
	d := ac.data
	if isAllTasksVerb(d.Sally) {
		return b.allTasksStep(ctx, ac, raw) // alltasks.go
	}
	switch d.Sally {
	case actionCreate, actionComment:
		return b.openForm(ctx, ac, d.Sally, nil, formProblem{})
	case cards.VerbCreateReload:
		return b.openForm(ctx, ac, actionCreate, &d, formProblem{})
	case cards.VerbCreateSubmit:
		return b.submitCreate(ctx, ac)
	case cards.VerbCommentSubmit:
		return b.submitComment(ctx, ac)
	case cards.VerbCancel:
		return b.closeForm(ctx)
	case cards.VerbHelp:
		return b.dialogCard(ctx, "Help", b.helpCard())
	case cards.VerbConnect:
		return b.dialogCard(ctx, "Connect Azure DevOps", b.dialogConnectCard(ac, ac.data.Next, "", ""))
	case cards.VerbDialogConnect:
		return b.dialogConnect(ctx, ac)
	case cards.VerbDialogCode:
		card := b.completeConnect(ctx, a, d.Code)
		if _, _, err := b.clientFor(ctx, ac.user); err != nil {
			return b.dialogCard(ctx, "Connect Azure DevOps", card)
		}
		next := d.Next
		if next == cards.VerbAllTasks {
			return b.openAllTasks(ctx, ac, nil)
		}
		if next != actionComment {
			next = actionCreate
		}
		return b.openForm(ctx, ac, next, nil, formProblem{})
	}
	return b.dialogMessage(ctx, "This form action is not supported.")
}

// loadAction checks a dialog invoke: who clicked, which summary and insight, and
// that the summary was delivered to this very conversation.
func (b *Bot) loadAction(ctx context.Context, a *teams.Activity, raw json.RawMessage) (*actionCtx, teams.InvokeResponse, bool) {
	if len(raw) == 0 {
		return nil, b.dialogMessage(ctx, "That action could not be read."), false
	}
	var d actionData
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, b.dialogMessage(ctx, "That action could not be read."), false
	}
	d.cleanTyped()
	d.Fields = readFieldInputs(raw)
	d.raw = raw
	u, err := userOf(a)
	if err != nil {
		return nil, b.dialogMessage(ctx, apperr.UserMessage(err)), false
	}
	if d.SummaryID == "" || d.InsightID == "" || len(d.SummaryID) > 100 || len(d.InsightID) > 200 {
		return nil, b.dialogMessage(ctx, "That action does not name a meeting insight."), false
	}
	// Cached: a summary's meeting and insights never change once stored.
	sm, err := b.summaries.GetSummaryCached(ctx, d.SummaryID)
	if apperr.Is(err, apperr.NotFound) {
		return nil, b.dialogMessage(ctx, "This meeting summary is no longer available (summaries are kept for a limited time)."), false
	}
	if devopsbot.IsStoreUnavailable(err) {
		return nil, b.outageStep(ctx, &d), false // outage.go: the form comes back from the click's data
	}
	if err != nil {
		return nil, b.dialogCard(ctx, "Something went wrong", b.errorCard(ctx, "Meeting summary", err)), false
	}
	hasInsight := func(sm *devopsbot.Summary) bool {
		return slices.ContainsFunc(sm.Insights, func(in devopsbot.Insight) bool { return in.ID == d.InsightID })
	}
	if !hasInsight(sm) {
		// A meeting's summary may have been upgraded (Copilot's insights replace
		// the transcript's) since this replica cached it: the card clicked may
		// be newer than the cache, so look once more in the database.
		if fresh, ferr := b.summaries.GetSummary(ctx, d.SummaryID); ferr == nil {
			sm = fresh
		}
	}
	if sm.ConversationID != a.Conversation.ID {
		teams.Logger(ctx).WarnContext(ctx, "refused a card action for a summary delivered to another conversation", "summary", sm.ID)
		return nil, b.dialogMessage(ctx, "This card belongs to another conversation."), false
	}
	i := slices.IndexFunc(sm.Insights, func(in devopsbot.Insight) bool { return in.ID == d.InsightID })
	if i < 0 {
		return nil, b.dialogMessage(ctx, "That insight is not part of this meeting summary."), false
	}
	if f := inCardFrameOf(ctx); f != nil {
		f.sm, f.insightID = sm, d.InsightID
	}
	return &actionCtx{a: a, user: u, data: d, sm: sm, insight: sm.Insights[i]}, teams.InvokeResponse{}, true
}

// dialogMessage closes the dialog with a message (in-card: shows it under the insight).
func (b *Bot) dialogMessage(ctx context.Context, text string) teams.InvokeResponse {
	if inCardForms(ctx) {
		return b.dialogCard(ctx, "", b.mark(cards.Working(text)))
	}
	return teams.TaskMessageResponse(text)
}

// dialogCard shows a card in the dialog. In-card, it shows it in place under
// the insight clicked, inside that summary card, so every other insight keeps
// its buttons; before the summary is known (a broken action), the card itself.
func (b *Bot) dialogCard(ctx context.Context, title string, card any) teams.InvokeResponse {
	f := inCardFrameOf(ctx)
	if f == nil {
		if c, ok := card.(cards.Card); ok {
			card = cards.AsDialogActions(c) // next steps of error cards
		}
		return teams.TaskCardResponse(title, card)
	}
	c, ok := card.(cards.Card)
	if !ok {
		return teams.AdaptiveCardResponse(card)
	}
	if f.sm != nil {
		if sc, ok := b.summaryInPlace(ctx, f, c); ok {
			return teams.AdaptiveCardResponse(sc)
		}
	}
	return teams.AdaptiveCardResponse(cards.AsUniversalActions(c))
}

// openForm shows the create or comment form, or the connect step when the user
// has no working connection. keep carries what the user typed (reload, errors).
func (b *Bot) openForm(ctx context.Context, ac *actionCtx, action string, keep *actionData, p formProblem) teams.InvokeResponse {
	title := "Create work item"
	if action == actionComment {
		title = "Add comment"
	}
	if action == actionCreate {
		if link := b.existingCreate(ac.sm.ID, ac.insight.ID); link != nil {
			return b.dialogCard(ctx, title, b.alreadyDoneCard(link, ac.user))
		}
	}
	var client *devops.Client
	var conn *devopsbot.Connection
	var err error
	var recent []devopsbot.InsightLink
	listRecent := func() {}
	if action == actionComment {
		// The comment form offers the work items already made: read them while
		// the connection is read, not after.
		listRecent = func() { recent, _ = b.links.ListLinks(ctx, ac.sm.ID) }
	}
	if f := inCardFrameOf(ctx); f != nil && keep == nil {
		// In place, the answer is the summary card with the form in it, which
		// needs the summary's results: read them while the connection is read.
		// Only when nothing was written on this step, so they cannot be stale.
		listRecent = func() {
			recent, _ = b.links.ListLinks(ctx, ac.sm.ID)
			f.links, f.haveLinks = recent, true
		}
	}
	together(func() { client, conn, err = b.clientFor(ctx, ac.user) }, listRecent)
	if err != nil {
		if devopsbot.IsStoreUnavailable(err) {
			return b.outageForm(ctx, ac, action, keep) // outage.go: keeps the input
		}
		if needsSignIn(err) {
			return b.dialogCard(ctx, "Connect Azure DevOps", b.dialogConnectCard(ac, action, "", reconnectHint(err)))
		}
		return b.dialogCard(ctx, title, b.errorCard(ctx, title, err, retryStep(ac, action)))
	}
	bctx, cancel := context.WithTimeout(ctx, b.budget(ctx))
	defer cancel()
	if action == actionComment {
		v := b.commentFormView(ac, keep, recent)
		v.Error, v.ErrorCode = p.Text, p.Code
		return b.formDialog(ctx, title, b.commentFormCard(ctx, v))
	}
	ruleField := ""
	if m := ruleFieldName.FindStringSubmatch(p.Text); m != nil && p.Code == "TF401320" {
		ruleField = m[1]
	}
	v, err := b.createFormView(bctx, ac, client, conn, keep, ruleField)
	if err != nil {
		if needsSignIn(err) {
			return b.dialogCard(ctx, "Connect Azure DevOps", b.dialogConnectCard(ac, action, "", reconnectHint(err)))
		}
		return b.dialogCard(ctx, title, b.errorCard(ctx, title, err, retryStep(ac, action)))
	}
	if p.Text != "" {
		v.Error, v.ErrorCode = p.Text, p.Code
	}
	return b.createFormDialog(ctx, title, v)
}

// reconnectHint is what the connect step says above its form: why a
// connection stopped working; nothing for someone who never connected.
func reconnectHint(err error) string {
	if apperr.Is(err, apperr.Unauthorized) && !errors.Is(err, errNotConnected) {
		return apperr.UserMessage(err)
	}
	return ""
}

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
	projects, err := b.cfg.Metadata.Projects(ctx, conn.OrgURL+"|"+ac.user.TenantID+"|"+ac.user.AADObjectID, client)
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

// withinBudget runs a write on its own clock: if Teams' invoke budget runs out
// first, the answer is a "working" card and the shared summary card shows the
// result when it lands (the write updates it either way).
func (b *Bot) withinBudget(ctx context.Context, title, working string, write func(context.Context) teams.InvokeResponse) teams.InvokeResponse {
	done := make(chan teams.InvokeResponse, 1)
	b.writes.Add(1)
	go func() {
		defer b.writes.Done()
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
		defer cancel()
		done <- write(wctx)
	}()
	select {
	case resp := <-done:
		return resp
	case <-time.After(b.budget(ctx)):
		return b.dialogCard(ctx, title, b.workingCard(working))
	}
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
		func() { b.refreshSummaryCards(ctx, ac.sm) },
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

// formProblem is what a form shows after a failed attempt: plain words, and
// Azure DevOps' own code for the small print.
type formProblem struct{ Text, Code string }

func say(text string) formProblem { return formProblem{Text: text} }

// problemOf is what a user sees for an Azure DevOps failure; nothing they typed
// is lost. The message comes without a prefix: the banner says who refused.
func problemOf(err error) formProblem {
	p := formProblem{Text: apperr.UserMessage(err), Code: apperr.CodeOf(err)}
	switch apperr.KindOf(err) {
	case apperr.RateLimited:
		s := int(apperr.RetryAfterOf(err).Round(time.Second) / time.Second)
		if s <= 0 {
			s = 30
		}
		p.Text = fmt.Sprintf("Azure DevOps is rate limiting your account. Try again in %d s; your input is kept.", s)
	case apperr.Forbidden:
		p.Text = "Azure DevOps says you don't have permission to do this: " + p.Text
	case apperr.Unavailable:
		p.Text = "Azure DevOps is unavailable right now. Try again in a moment; your input is kept."
	case apperr.Invalid, apperr.NotFound:
		p.Text = "Azure DevOps refused this: " + p.Text
	}
	return p
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
		func() { b.refreshSummaryCards(ctx, ac.sm) },
	)
	return b.dialogCard(ctx, "Comment added", b.commentedCard(link))
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

// refreshSummaryCards updates the shared summary card(s) for everyone in the
// chat. The summary is read fresh for its posted cards (another replica may
// have posted one since); its chat never changes, so the three reads run at once.
func (b *Bot) refreshSummaryCards(ctx context.Context, clicked *devopsbot.Summary) {
	if isMessageSummary(clicked) {
		return // a message has no summary card; the dialog shows the result
	}
	summaryID := clicked.ID
	var sm *devopsbot.Summary
	var ref *devopsbot.ConversationRef
	var links []devopsbot.InsightLink
	var smErr, refErr, linksErr error
	together(
		func() { sm, smErr = b.summaries.GetSummary(ctx, summaryID) },
		func() { ref, refErr = b.convs.GetConversationRef(ctx, clicked.ConversationID) },
		func() { links, linksErr = b.links.ListLinks(ctx, summaryID) },
	)
	if smErr != nil {
		teams.Logger(ctx).WarnContext(ctx, "could not reload a summary to update its card", "err", smErr)
		return
	}
	if refErr != nil {
		teams.Logger(ctx).WarnContext(ctx, "could not find the conversation to update a card", "err", refErr)
		return
	}
	if linksErr != nil {
		teams.Logger(ctx).WarnContext(ctx, "could not list a summary's results", "err", linksErr)
		return
	}
	if _, err := b.putSummaryCards(ctx, *ref, sm, links, sm.Cards, true); err != nil {
		teams.Logger(ctx).WarnContext(ctx, "could not post a summary card", "summary", summaryID, "err", err)
	}
}

// dialogConnect handles the organization URL typed in the dialog's connect step.
func (b *Bot) dialogConnect(ctx context.Context, ac *actionCtx) teams.InvokeResponse {
	next := ac.data.Next
	if next != actionComment && next != cards.VerbAllTasks {
		next = actionCreate
	}
	if b.cfg.Demo != nil {
		if _, err := b.connectDemo(ctx, ac.a); err != nil {
			return b.dialogCard(ctx, "Connect Azure DevOps", b.errorCard(ctx, "Connect", err))
		}
		if next == cards.VerbAllTasks {
			return b.openAllTasks(ctx, ac, nil)
		}
		return b.openForm(ctx, ac, next, nil, formProblem{})
	}
	if b.cfg.OAuth == nil {
		b.logMissingOAuth(ctx)
		return b.dialogCard(ctx, "Connect Azure DevOps", b.notConfiguredCard())
	}
	org, err := devops.NormalizeOrgURL(ac.data.OrgURL)
	if err != nil {
		return b.dialogCard(ctx, "Connect Azure DevOps", b.dialogConnectCard(ac, next, ac.data.OrgURL, apperr.UserMessage(err)))
	}
	link, err := b.prepareSignIn(ctx, ac.a, org)
	if err != nil {
		if apperr.Is(err, apperr.Invalid) {
			return b.dialogCard(ctx, "Connect Azure DevOps", b.dialogConnectCard(ac, next, ac.data.OrgURL, apperr.UserMessage(err)))
		}
		return b.dialogCard(ctx, "Connect Azure DevOps", b.errorCard(ctx, "Connect", err))
	}
	return b.dialogCard(ctx, "Connect Azure DevOps", b.dialogSignInCard(ac, next, org, link))
}

// onSearch answers typeahead searches for work items in the comment form.
func (b *Bot) onSearch(ctx context.Context, a *teams.Activity) (teams.InvokeResponse, error) {
	sv, err := a.SearchValue()
	parentProject, parents := "", false
	if err == nil {
		parentProject, parents = strings.CutPrefix(sv.Dataset, parentDatasetPrefix)
	}
	if err != nil || (sv.Dataset != cards.DatasetWorkItems && !parents) {
		return teams.ErrorResponse(http.StatusBadRequest, "BadRequest", "Unknown search."), nil
	}
	u, err := userOf(a)
	if err != nil {
		return teams.SearchResponse(nil), nil
	}
	client, _, err := b.clientFor(ctx, u)
	if err != nil {
		return teams.SearchResponse(nil), nil
	}
	q := strings.TrimSpace(sv.QueryText)
	if len(q) < 1 || len(q) > 200 {
		return teams.SearchResponse(nil), nil
	}
	if parents {
		top := sv.QueryOptions.Top
		if top <= 0 || top > 25 {
			top = 15
		}
		// The project comes from the card: the search runs with the user's own
		// token, so it finds nothing they could not see anyway.
		return b.searchParents(ctx, client, parentProject, q, top), nil
	}
	prefs, _ := b.prefs.GetPrefsCached(ctx, u)
	project := ""
	if prefs != nil {
		project = prefs.Project
	}
	top := sv.QueryOptions.Top
	if top <= 0 || top > 25 {
		top = 15
	}
	items, err := client.SearchWorkItems(ctx, project, q, top)
	if err != nil {
		teams.Logger(ctx).InfoContext(ctx, "work item search failed", "kind", apperr.KindOf(err).String())
		return teams.SearchResponse(nil), nil
	}
	res := make([]teams.SearchResult, 0, len(items))
	for _, it := range items {
		res = append(res, teams.SearchResult{Title: fmt.Sprintf("%s %d: %s", it.Type, it.ID, it.Title), Value: strconv.Itoa(it.ID)})
	}
	return teams.SearchResponse(res), nil
}

type inCardKey struct{}

// inCardFrame is what an in-card form step (Universal Actions) needs to answer
// with the summary card the person clicked: loadAction fills it once it knows
// the summary and the insight.
type inCardFrame struct {
	sm        *devopsbot.Summary
	insightID string
	// links are the summary's results when openForm read them beside the
	// connection (haveLinks), for summaryInPlace not to read them again.
	links     []devopsbot.InsightLink
	haveLinks bool
}

// withInCardForms marks a request whose forms show in place in the summary
// card (Universal Actions) instead of opening a dialog.
func withInCardForms(ctx context.Context) context.Context {
	return context.WithValue(ctx, inCardKey{}, &inCardFrame{})
}

func inCardFrameOf(ctx context.Context) *inCardFrame {
	f, _ := ctx.Value(inCardKey{}).(*inCardFrame)
	return f
}

func inCardForms(ctx context.Context) bool { return inCardFrameOf(ctx) != nil }

// closeForm answers Cancel on an in-card form: the plain summary card again.
func (b *Bot) closeForm(ctx context.Context) teams.InvokeResponse {
	if f := inCardFrameOf(ctx); f != nil && f.sm != nil {
		if c, ok := b.summaryInPlace(ctx, f, nil); ok {
			return teams.AdaptiveCardResponse(c)
		}
	}
	return teams.TaskMessageResponse("Nothing was changed.")
}

// together runs independent calls at once and waits for all of them: two
// database reads on one path cost one round trip of waiting, not two.
func together(calls ...func()) {
	var wg sync.WaitGroup
	for _, f := range calls[1:] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f()
		}()
	}
	calls[0]()
	wg.Wait()
}

// shortTitle is a prefilled title: the text on one line, cut at a word to
// Azure DevOps' limit.
func shortTitle(text string) string {
	t, _ := devops.ShortenTitle(text)
	return t
}
