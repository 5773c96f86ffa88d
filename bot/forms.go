package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

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
		return b.closeForm(ctx, ac.a)
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
func (b *Bot) closeForm(ctx context.Context, a *teams.Activity) teams.InvokeResponse {
	if f := inCardFrameOf(ctx); f != nil && f.sm != nil {
		if deferSharedUpdate(ctx, a) {
			// What an action in this chat left for the Close: the shared
			// message catches up before the plain card is answered, so the
			// person's view and the message agree, whichever arrives last.
			b.refreshSummaryCards(ctx, f.sm)
		}
		if c, ok := b.summaryInPlace(ctx, f, nil); ok {
			return teams.AdaptiveCardResponse(c)
		}
	}
	return teams.TaskMessageResponse("Nothing was changed.")
}

// atMost runs f(0), ..., f(n-1), at most workers of them at a time, and
// waits for all: calls that each spend a request, without a burst.
func atMost(workers, n int, f func(i int)) {
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			f(i)
		}()
	}
	wg.Wait()
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
