package bot

// The one entry for Universal Actions (adaptiveCard/action): it routes a verb
// to the use case that answers it.

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/cards"
	"github.com/sally-devops/devopsbot/devops"
	"github.com/sally-devops/devopsbot/teams"
)

// onCardAction handles Action.Execute (Universal Actions) invokes: the connect flow.
func (b *Bot) onCardAction(ctx context.Context, a *teams.Activity) (teams.InvokeResponse, error) {
	av, err := a.ActionValue()
	if err != nil {
		return teams.ErrorResponse(http.StatusBadRequest, "BadRequest", "That card action could not be read."), nil
	}
	var data connectData
	if len(av.Action.Data) > 0 {
		if err := json.Unmarshal(av.Action.Data, &data); err != nil {
			return teams.ErrorResponse(http.StatusBadRequest, "BadRequest", "That card action could not be read."), nil
		}
	}
	verb := av.Action.Verb
	if verb == "" {
		verb = data.Sally
	}
	if verb == cards.VerbRefresh {
		return b.onLiveRefresh(ctx, a, av.Action.Data), nil // refresh.go
	}
	if formVerbs[verb] && av.State == "" && namesInsight(av.Action.Data) {
		// A form button in a client without dialogs: same steps, answered in place.
		return b.formStep(withInCardForms(ctx), a, av.Action.Data), nil
	}
	if _, err := userOf(a); err != nil {
		return teams.AdaptiveCardResponse(b.errorCard(ctx, "Connect", err)), nil
	}
	if isDefaultsVerb(verb) {
		return b.onDefaultsAction(ctx, a, verb, av.Action.Data), nil // defaults.go
	}
	// Teams sends the code from notifySuccess in `state`, on the same verb.
	if av.State != "" {
		return teams.AdaptiveCardResponse(b.completeConnect(ctx, a, av.State)), nil
	}
	if b.cfg.Demo == nil && b.cfg.OAuth == nil && isConnectVerb(verb) {
		b.logMissingOAuth(ctx)
		return teams.AdaptiveCardResponse(b.notConfiguredCard()), nil
	}
	switch verb {
	case cards.VerbHelp:
		return teams.AdaptiveCardResponse(b.helpCard()), nil
	case cards.VerbConnect:
		if b.cfg.Demo != nil {
			break // demo: VerbConnectOrg below connects at once
		}
		return teams.AdaptiveCardResponse(b.connectPromptCard("", "")), nil
	}
	switch verb {
	case cards.VerbConnectOrg, cards.VerbConnect:
		if b.cfg.Demo != nil {
			card, err := b.connectDemo(ctx, a)
			if err != nil {
				return teams.AdaptiveCardResponse(b.errorCard(ctx, "Connect", err)), nil
			}
			return teams.AdaptiveCardResponse(card), nil
		}
		return teams.AdaptiveCardResponse(b.orgChosenCard(ctx, a, data.OrgURL)), nil
	case cards.VerbConnectSignIn:
		org, err := devops.NormalizeOrgURL(data.Org)
		if err != nil {
			return teams.AdaptiveCardResponse(b.connectPromptCard(data.Org, apperr.UserMessage(err))), nil
		}
		link, err := b.prepareSignIn(ctx, a, org)
		if err != nil {
			return teams.AdaptiveCardResponse(b.signInErrorCard(ctx, org, err)), nil
		}
		if b.inCardFor(a.ServiceURL) {
			// The Agents Playground cannot open Teams' sign-in pop-up (it refuses a
			// loginRequest answer): the same link as a button it can open.
			return teams.AdaptiveCardResponse(cards.ConnectSignIn(cards.SignInView{Demo: b.demo(), Org: org.Name, OrgURL: org.URL, SignInURL: link})), nil
		}
		return teams.LoginRequestResponse("Sign in to Azure DevOps ("+org.Name+")", link), nil
	case cards.VerbConnectCode:
		card, problem := b.redeemCode(ctx, a, data.Code)
		if org, err := devops.NormalizeOrgURL(data.Org); err == nil && problem != "" {
			// A wrong or expired code: sign in again to the same organization,
			// without typing its address a second time.
			return teams.AdaptiveCardResponse(cards.ConnectSignIn(cards.SignInView{Demo: b.demo(), Org: org.Name, OrgURL: org.URL, Error: problem})), nil
		}
		return teams.AdaptiveCardResponse(card), nil
	}
	return unknownAction(), nil
}

// chatVerbs are the verbs onCardAction answers itself: the connect steps of
// the chat cards, the next steps of error cards and a summary card's refresh. A click that names an
// insight goes to formStep (formVerbs). Together the two are cards.Verbs.
var chatVerbs = map[string]bool{
	cards.VerbHelp: true, cards.VerbConnect: true, cards.VerbConnectOrg: true, cards.VerbConnectSignIn: true, cards.VerbConnectCode: true,
	cards.VerbRefresh: true, // a summary card's refresh (refresh.go)
}

// unknownAction answers a card action no use case knows (an old card, or a
// forged one) in words the person can read.
func unknownAction() teams.InvokeResponse {
	return teams.ErrorResponse(http.StatusBadRequest, "UnknownAction", "This card action is not supported.")
}
