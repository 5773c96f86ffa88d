package bot

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/cards"
	"github.com/sally-devops/devopsbot/devops"
	"github.com/sally-devops/devopsbot/internal/ttlcache"
	"github.com/sally-devops/devopsbot/teams"
)

// This file turns the bot's state into the cards package's view models, so the
// rest of the bot never builds card JSON.

func (b *Bot) demo() bool { return b.cfg.Demo != nil }

func (b *Bot) mark(c cards.Card) cards.Card {
	if b.demo() {
		return cards.WithDemoBanner(c)
	}
	return c
}

func (b *Bot) helpCard() any    { return b.mark(cards.Help()) }
func (b *Bot) welcomeCard() any { return b.mark(cards.Welcome()) }

func (b *Bot) disconnectedCard() any { return b.mark(cards.Disconnected()) }

func (b *Bot) notConfiguredCard() any {
	return b.mark(cards.NotConfigured("Connecting Azure DevOps accounts"))
}

func (b *Bot) statusCard(conn *devopsbot.Connection, prefs *devopsbot.Prefs) any {
	if conn == nil {
		return cards.Status(cards.StatusView{Demo: b.demo()})
	}
	if conn.Status == devopsbot.StatusNeedsReconnect {
		return b.mark(cards.Reconnect(conn.OrgURL))
	}
	return cards.Status(cards.StatusView{
		Demo: b.demo(), Connected: true, Org: conn.OrgName, OrgURL: conn.OrgURL,
		Name: conn.DisplayName, Email: conn.UniqueName, Scopes: friendlyScopes(conn.Scopes), Since: conn.CreatedAt,
		Defaults: formDefaults(prefs),
	})
}

// errorCard shows a failure: the user-safe message for known kinds, an apology
// with a reference (and the cause in the logs) for the rest, and always a next
// step: the given ones (Try again), Connect when only a new sign-in helps, and
// Open help.
func (b *Bot) errorCard(ctx context.Context, title string, err error, next ...cards.Step) any {
	v := cards.ErrorView{Demo: b.demo(), Title: title, Message: apperr.UserMessage(err), Code: apperr.CodeOf(err)}
	switch apperr.KindOf(err) {
	case apperr.Internal:
		v.Message = "Something went wrong on our side."
		v.Reference = b.reference(ctx, title+" failed", err)
	case apperr.RateLimited:
		v.RetryAfterSeconds = int(apperr.RetryAfterOf(err) / time.Second)
		if v.RetryAfterSeconds <= 0 {
			v.RetryAfterSeconds = 30
		}
	case apperr.Unavailable:
		teams.Logger(ctx).WarnContext(ctx, title+" failed", "err", err)
	case apperr.Unauthorized:
		next = append(next, cards.StepConnect)
	}
	v.Next = append(next, cards.StepHelp)
	return cards.Error(v)
}

// retryStep opens the same form again for the same insight.
func retryStep(ac *actionCtx, action string) cards.Step {
	return cards.Step{Title: "Try again", Verb: action, Data: map[string]any{cards.DataSummaryID: ac.sm.ID, cards.DataInsightID: ac.insight.ID}}
}

func (b *Bot) connectPromptCard(value, errMsg string) any {
	return cards.ConnectPrompt(cards.ConnectView{Demo: b.demo(), OrgURL: value, Error: errMsg})
}

func (b *Bot) signInCard(org devops.Org) any {
	return cards.ConnectSignIn(cards.SignInView{Demo: b.demo(), Org: org.Name, OrgURL: org.URL})
}

func (b *Bot) connectedCard(conn *devopsbot.Connection) any {
	return b.mark(cards.Connected(conn.OrgName, conn.DisplayName, conn.UniqueName))
}

func (b *Bot) dialogConnectCard(ac *actionCtx, next, value, errMsg string) any {
	return cards.DialogConnect(cards.DialogConnectView{Demo: b.demo(), SummaryID: ac.sm.ID, InsightID: ac.insight.ID, Next: next, OrgURL: value, Error: errMsg})
}

func (b *Bot) dialogSignInCard(ac *actionCtx, next string, org devops.Org, link string) any {
	return cards.DialogSignIn(cards.DialogConnectView{Demo: b.demo(), SummaryID: ac.sm.ID, InsightID: ac.insight.ID, Next: next, OrgURL: org.URL, Org: org.Name, SignInURL: link})
}

func (b *Bot) workingCard(text string) any { return b.mark(cards.Working(text)) }

func (b *Bot) resultView(l *devopsbot.InsightLink) cards.ResultView {
	at := l.CompletedAt
	if at.IsZero() {
		at = l.CreatedAt
	}
	return cards.ResultView{
		Demo: b.demo(), Comment: l.Key.Action == actionComment, WorkItemID: l.WorkItemID, WorkItemType: l.WorkItemType,
		Title: l.WorkItemTitle, URL: l.WorkItemURL, By: l.UserName, At: at,
	}
}

func (b *Bot) createdCard(l *devopsbot.InsightLink) any   { return cards.Created(b.resultView(l)) }
func (b *Bot) commentedCard(l *devopsbot.InsightLink) any { return cards.Commented(b.resultView(l)) }

// alreadyDoneCard answers a second click with the first click's result, or says
// the first click is still at work; it tells the person whether it was them.
func (b *Bot) alreadyDoneCard(l *devopsbot.InsightLink, clicker devopsbot.UserKey) any {
	mine := l.User == clicker
	if l.State != devopsbot.LinkDone {
		who := l.UserName + " is"
		switch {
		case mine:
			who = "You are"
		case l.UserName == "":
			who = "Someone is"
		}
		return b.workingCard(who + " already doing this for this insight. The result will show on the meeting card in a moment.")
	}
	return cards.AlreadyDone(b.resultView(l), mine)
}

// createFormCard renders the create form, with the demo banner when it applies.
func (b *Bot) createFormCard(v *cards.CreateFormView) any {
	c := *v
	c.Demo = b.demo()
	return cards.CreateForm(c)
}

// createFormDialog shows the create form. In a dialog its card is the
// encoded JSON of an earlier open with the same content when there was one:
// building the card's maps and encoding them is most of the bot's own work on
// a form open, and the same person reopening a form, or the next person on the
// same insight, asks for the same bytes.
func (b *Bot) createFormDialog(ctx context.Context, title string, v *cards.CreateFormView) teams.InvokeResponse {
	if inCardForms(ctx) {
		return b.dialogCard(ctx, title, b.createFormCard(v))
	}
	return teams.TaskCardResponse(title, b.encodedCreateForm(v))
}

// encodedCreateForm is the create form card for v, encoded.
func (b *Bot) encodedCreateForm(v *cards.CreateFormView) any {
	// The key is everything the card is made of: the view model whole (a field
	// added to it later is in the key without anyone remembering to add it)
	// and the demo banner. cards is pure, so equal keys mean equal cards, and
	// no entry can be stale, whoever asks and whenever.
	id, err := json.Marshal(struct {
		Demo bool
		Form *cards.CreateFormView
	}{b.demo(), v})
	if err != nil {
		return b.createFormCard(v)
	}
	key := sha256.Sum256(id)
	if card, ok := encodedForms.Get(key, time.Now()); ok {
		return card
	}
	card, err := teams.EncodeCard(b.createFormCard(v))
	if err != nil {
		return b.createFormCard(v)
	}
	encodedForms.Put(key, card, time.Now())
	return card
}

// encodedForms holds encoded create forms by content. It is shared by every
// Bot in the process: a key names the whole content, so sharing cannot mix
// two bots' cards. Bounded, and entries go after a while so an idle bot
// holds nothing.
var encodedForms = ttlcache.New[[sha256.Size]byte, teams.EncodedCard](2*time.Minute, 128)

// formDialog shows the create or comment form. The forms carry only
// Action.Submit buttons, so a dialog needs none of dialogCard's rewriting (a
// deep copy of the card through JSON, a fifth of a form open's allocations).
func (b *Bot) formDialog(ctx context.Context, title string, card any) teams.InvokeResponse {
	if inCardForms(ctx) {
		return b.dialogCard(ctx, title, card)
	}
	return teams.TaskCardResponse(title, card)
}

// commentFormCard offers the work item search where Teams can run it (not in
// the Agents Playground, which has no application/search).
func (b *Bot) commentFormCard(ctx context.Context, v *cards.CommentFormView) any {
	c := *v
	c.Demo, c.Search = b.demo(), !inCardForms(ctx)
	return cards.CommentForm(c)
}

// postedCard is one summary card and the insights it shows.
type postedCard struct {
	card       any
	insightIDs []string
}

// summaryView is the summary with what was already done for each insight.
func (b *Bot) summaryView(sm *devopsbot.Summary, links []devopsbot.InsightLink) cards.SummaryView {
	v := cards.SummaryView{Demo: b.demo(), SummaryID: sm.ID, Meeting: sm.Meeting}
	for _, in := range sm.Insights {
		iv := cards.InsightView{Insight: in}
		for i := range links {
			l := &links[i]
			if l.Key.InsightID == in.ID && l.State == devopsbot.LinkDone {
				iv.Results = append(iv.Results, b.resultView(l))
			}
		}
		v.Insights = append(v.Insights, iv)
	}
	return v
}

// summaryInPlace is the in-card answer: the summary card holding the insight
// clicked, with panel under it (nil panel: the plain card, after Cancel).
func (b *Bot) summaryInPlace(ctx context.Context, f *inCardFrame, panel cards.Card) (cards.Card, bool) {
	links := f.links
	if !f.haveLinks {
		var err error
		if links, err = b.links.ListLinks(ctx, f.sm.ID); err != nil {
			teams.Logger(ctx).WarnContext(ctx, "could not list a summary's results for an in-card answer", "err", err)
		}
	}
	v := b.summaryView(f.sm, links)
	if panel == nil {
		for _, c := range cards.Summary(v) {
			if slices.Contains(c.InsightIDs, f.insightID) {
				return cards.AsUniversalActions(c.Card), true
			}
		}
		return nil, false
	}
	c, ok := cards.SummaryInPlace(v, f.insightID, panel)
	if !ok {
		return nil, false
	}
	return cards.AsUniversalActions(c), true
}

// summaryCards renders a summary with what was already done for each insight,
// with in-card buttons for clients without dialogs (see Config.Forms).
// Its chat's connected members get a live view (refresh.go).
func (b *Bot) summaryCards(ctx context.Context, sm *devopsbot.Summary, links []devopsbot.InsightLink, serviceURL string) []postedCard {
	return b.renderSummaryCards(b.summaryView(sm, links), sm, serviceURL, b.liveViewers(ctx, serviceURL, sm.ConversationID))
}

// friendlyScopes shows Azure DevOps scopes without the resource id prefix and
// leaves out the OpenID Connect ones nobody needs to read.
func friendlyScopes(scopes []string) []string {
	var out []string
	for _, s := range scopes {
		switch s {
		case "openid", "profile", "email":
			continue
		}
		s = strings.TrimPrefix(s, devops.ResourceID+"/")
		if words, ok := scopeWords[s]; ok {
			s = words + " (" + s + ")"
		}
		out = append(out, s)
	}
	return out
}

// scopeWords says in plain words what each permission lets Sally do.
var scopeWords = map[string]string{
	"vso.work_write": "read and write work items",
	"vso.project":    "read projects and teams",
	"vso.identity":   "find people in the organization",
	"offline_access": "stay signed in",
}

// formDefaults is what the next create form starts with: the choices of the
// last work item this person created (the form falls back on the project's
// defaults when one no longer exists).
func formDefaults(p *devopsbot.Prefs) cards.FormDefaults {
	if p == nil {
		return cards.FormDefaults{}
	}
	return cards.FormDefaults{Project: p.Project, WorkItemType: p.WorkItemType, Area: p.AreaPath, Iteration: p.IterationPath}
}
