package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/cards"
	"github.com/sally-devops/devopsbot/devops"
	"github.com/sally-devops/devopsbot/store"
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

func (b *Bot) statusCard(conn *store.Connection) any {
	if conn == nil {
		return cards.Status(cards.StatusView{Demo: b.demo()})
	}
	if conn.Status == store.ConnStatus("needs_reconnect") {
		return b.mark(cards.Reconnect(conn.OrgURL))
	}
	return cards.Status(cards.StatusView{
		Demo: b.demo(), Connected: true, Org: conn.OrgName, OrgURL: conn.OrgURL,
		Name: conn.DisplayName, Email: conn.UniqueName, Scopes: friendlyScopes(conn.Scopes), Since: conn.CreatedAt,
	})
}

// errorCard shows a failure: the user-safe message for known kinds, an apology
// with a reference (and the cause in the logs) for the rest.
func (b *Bot) errorCard(ctx context.Context, title string, err error) any {
	v := cards.ErrorView{Demo: b.demo(), Title: title, Message: apperr.UserMessage(err)}
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
		b.log.WarnContext(ctx, title+" failed", "err", err)
	}
	return cards.Error(v)
}

func (b *Bot) connectPromptCard(value, errMsg string) any {
	return cards.ConnectPrompt(cards.ConnectView{Demo: b.demo(), OrgURL: value, Error: errMsg})
}

func (b *Bot) signInCard(org devops.Org) any {
	return cards.ConnectSignIn(cards.SignInView{Demo: b.demo(), Org: org.Name, OrgURL: org.URL})
}

func (b *Bot) connectedCard(conn *store.Connection) any {
	return b.mark(cards.Connected(conn.OrgName, conn.DisplayName, conn.UniqueName))
}

func (b *Bot) dialogConnectCard(ac *actionCtx, next, value, errMsg string) any {
	return cards.DialogConnect(cards.DialogConnectView{Demo: b.demo(), SummaryID: ac.sm.ID, InsightID: ac.insight.ID, Next: next, OrgURL: value, Error: errMsg})
}

func (b *Bot) dialogSignInCard(ac *actionCtx, next string, org devops.Org, link string) any {
	return cards.DialogSignIn(cards.DialogConnectView{Demo: b.demo(), SummaryID: ac.sm.ID, InsightID: ac.insight.ID, Next: next, OrgURL: org.URL, Org: org.Name, SignInURL: link})
}

func (b *Bot) workingCard(text string) any { return b.mark(cards.Working(text)) }

func (b *Bot) resultView(l *store.InsightLink) cards.ResultView {
	at := l.CompletedAt
	if at.IsZero() {
		at = l.CreatedAt
	}
	return cards.ResultView{
		Demo: b.demo(), Comment: l.Key.Action == actionComment, WorkItemID: l.WorkItemID, WorkItemType: l.WorkItemType,
		Title: l.WorkItemTitle, URL: l.WorkItemURL, By: l.UserName, At: at,
	}
}

func (b *Bot) createdCard(l *store.InsightLink) any   { return cards.Created(b.resultView(l)) }
func (b *Bot) commentedCard(l *store.InsightLink) any { return cards.Commented(b.resultView(l)) }

// alreadyDoneCard answers a second click with the first click's result, or says
// the first click is still at work.
func (b *Bot) alreadyDoneCard(l *store.InsightLink) any {
	if l.State != store.LinkState("done") {
		who := l.UserName
		if who == "" {
			who = "Someone"
		}
		return b.workingCard(who + " is already doing this for this insight. The result will show on the meeting card in a moment.")
	}
	return cards.AlreadyDone(b.resultView(l))
}

func (b *Bot) createFormCard(v *createForm) any {
	choices := func(xs []string) []cards.Choice {
		out := make([]cards.Choice, 0, len(xs))
		for _, x := range xs {
			out = append(out, cards.Choice{Title: x, Value: x})
		}
		return out
	}
	people := make([]cards.Choice, 0, len(v.Members))
	for _, m := range v.Members {
		title := m.DisplayName
		if m.UniqueName != "" && m.UniqueName != m.DisplayName {
			title += " (" + m.UniqueName + ")"
		}
		people = append(people, cards.Choice{Title: title, Value: m.UniqueName})
	}
	return cards.CreateForm(cards.CreateFormView{
		Demo: b.demo(), SummaryID: v.SummaryID, InsightID: v.InsightID, Insight: v.InsightText,
		Projects: choices(v.Projects), WorkItemTypes: choices(v.Types), People: people,
		Areas: choices(v.Areas), Iterations: choices(v.Iterations),
		Values: cards.CreateValues{
			Project: v.Project, WorkItemType: v.Type, AssignedTo: v.AssignedTo, AreaPath: v.Area,
			IterationPath: v.Iteration, Title: v.Title, Description: v.Description,
		},
		Error: v.Error,
	})
}

func (b *Bot) commentFormCard(v *commentForm) any {
	return cards.CommentForm(cards.CommentFormView{
		Demo: b.demo(), SummaryID: v.SummaryID, InsightID: v.InsightID, WorkItemID: v.WorkItemID,
		Comment: v.Comment, Search: true, Error: v.Error,
	})
}

// postedCard is one summary card and the insights it shows.
type postedCard struct {
	card       any
	insightIDs []string
}

// summaryCards renders a summary with what was already done for each insight,
// with in-card buttons for clients without dialogs (see Config.Forms).
func (b *Bot) summaryCards(sm *store.Summary, links []store.InsightLink, serviceURL string) []postedCard {
	v := cards.SummaryView{Demo: b.demo(), SummaryID: sm.ID, Meeting: sm.Meeting}
	for _, in := range sm.Insights {
		iv := cards.InsightView{Insight: in}
		for i := range links {
			l := &links[i]
			if l.Key.InsightID == in.ID && l.State == store.LinkState("done") {
				iv.Results = append(iv.Results, b.resultView(l))
			}
		}
		v.Insights = append(v.Insights, iv)
	}
	out := cards.Summary(v)
	res := make([]postedCard, 0, len(out))
	inCard := b.inCardFor(serviceURL)
	for _, c := range out {
		if inCard {
			c = cards.AsUniversalActions(c)
		}
		res = append(res, postedCard{card: c, insightIDs: insightIDsOf(c, sm)})
	}
	return res
}

// insightIDsOf lists the insights whose buttons a card carries.
func insightIDsOf(c cards.Card, sm *store.Summary) []string {
	raw, err := json.Marshal(c)
	if err != nil {
		return nil
	}
	var ids []string
	for _, in := range sm.Insights {
		q, _ := json.Marshal(in.ID)
		if bytes.Contains(raw, append([]byte(`"insightId":`), q...)) {
			ids = append(ids, in.ID)
		}
	}
	return ids
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
		out = append(out, strings.TrimPrefix(s, devops.ResourceID+"/"))
	}
	return out
}
