package bot

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/cards"
	"github.com/sally-devops/devopsbot/devops"
	"github.com/sally-devops/devopsbot/teams"
)

// The connect flow, in short: the user names an organization; we find its Entra
// tenant and hand out a single-use, 10-minute Microsoft sign-in link (authorization
// code + PKCE, state in MongoDB); the callback exchanges the code and checks the
// account can reach the organization, then parks the tokens under a one-time code.
// Tokens are bound to a Teams user only when that same user hands the code back
// through Teams (loginRequest -> notifySuccess -> invoke state, or typed in chat),
// so a forwarded sign-in link can never attach one person's account to another.

const (
	maxCodeSize = 32
)

// connectData is what the connect cards send; its JSON names are the cards
// package's DataVerb, Input* and DataOrg (checked by a test, like actionData).
type connectData struct {
	Sally  string `json:"sally"`
	OrgURL string `json:"orgUrl"`
	Org    string `json:"org"`
	Code   string `json:"code"`
}

// startConnect answers "connect devops [url]" in the chat.
func (b *Bot) startConnect(ctx context.Context, a *teams.Activity, rawURL string) {
	if _, err := userOf(a); err != nil {
		b.replyText(ctx, a, apperr.UserMessage(err))
		return
	}
	if b.cfg.Demo != nil {
		card, err := b.connectDemo(ctx, a)
		if err != nil {
			b.replyCard(ctx, a, b.errorCard(ctx, "Connect", err))
			return
		}
		b.replyCard(ctx, a, card)
		return
	}
	if b.cfg.OAuth == nil {
		b.logMissingOAuth(ctx)
		b.replyCard(ctx, a, b.notConfiguredCard())
		return
	}
	if rawURL == "" {
		b.replyCard(ctx, a, b.connectPromptCard("", ""))
		return
	}
	b.replyCard(ctx, a, b.orgChosenCard(ctx, a, rawURL))
}

// orgChosenCard normalizes what the user pasted and shows the sign-in step, or the
// prompt again with the reason and their input kept.
func (b *Bot) orgChosenCard(ctx context.Context, a *teams.Activity, rawURL string) any {
	org, err := devops.NormalizeOrgURL(rawURL)
	if err != nil {
		return b.connectPromptCard(rawURL, apperr.UserMessage(err))
	}
	if b.inCardFor(a.ServiceURL) {
		// The Agents Playground cannot open Teams' sign-in pop-up: Sign in is
		// a link to the page itself, made now (single use, 10 minutes).
		link, err := b.prepareSignIn(ctx, a, org)
		if err != nil {
			return b.signInErrorCard(ctx, org, err)
		}
		return cards.ConnectSignIn(cards.SignInView{Demo: b.demo(), Org: org.Name, OrgURL: org.URL, SignInURL: link})
	}
	return b.signInCard(org)
}

func (b *Bot) logMissingOAuth(ctx context.Context) {
	teams.Logger(ctx).WarnContext(ctx, "connect devops is not configured", "missing", strings.Join(b.cfg.MissingOAuth, ","))
}

// isConnectVerb reports whether a verb is a step of connecting, which needs
// sign-in to be set up (or demo mode).
func isConnectVerb(verb string) bool {
	switch verb {
	case cards.VerbConnect, cards.VerbConnectOrg, cards.VerbConnectSignIn, cards.VerbConnectCode:
		return true
	}
	return false
}

// namesInsight reports whether a card action's data names a summary insight,
// i.e. comes from a summary card or a form rather than a chat card.
func namesInsight(raw json.RawMessage) bool {
	var d struct {
		SummaryID string `json:"summaryId"`
	}
	return json.Unmarshal(raw, &d) == nil && d.SummaryID != ""
}

func (b *Bot) signInErrorCard(ctx context.Context, org devops.Org, err error) any {
	if apperr.Is(err, apperr.Invalid) || apperr.Is(err, apperr.NotFound) {
		return b.connectPromptCard(org.URL, apperr.UserMessage(err))
	}
	return b.errorCard(ctx, "Connect", err)
}

// prepareSignIn records a single-use state and returns the Microsoft sign-in URL.
func (b *Bot) prepareSignIn(ctx context.Context, a *teams.Activity, org devops.Org) (string, error) {
	u, err := userOf(a)
	if err != nil {
		return "", err
	}
	tenant := b.cfg.FixedTenantID
	if tenant == "" {
		if b.cfg.Tenants == nil {
			return "", apperr.New(apperr.Internal, "Sign-in is not fully set up.")
		}
		tenant, err = b.cfg.Tenants.Resolve(ctx, org)
		if err != nil {
			return "", err
		}
	}
	st := &devopsbot.OAuthState{
		ID:             randomID(32),
		User:           u,
		UserName:       a.From.Name,
		ConversationID: a.Conversation.ID,
		ServiceURL:     a.ServiceURL,
		OrgURL:         org.URL,
		EntraTenantID:  tenant,
		CodeVerifier:   oauth2.GenerateVerifier(),
		Nonce:          randomID(24),
		CreatedAt:      b.now(),
		ExpiresAt:      b.now().Add(devopsbot.SignInLifetime),
	}
	if err := b.signIns.CreateOAuthState(ctx, st); err != nil {
		return "", err
	}
	cfg := b.cfg.OAuth.Config(tenant)
	return cfg.AuthCodeURL(st.ID,
		oauth2.S256ChallengeOption(st.CodeVerifier),
		oauth2.SetAuthURLParam("nonce", st.Nonce),
		oauth2.SetAuthURLParam("prompt", "select_account"),
		oauth2.SetAuthURLParam("response_mode", "query"),
	), nil
}

// completeConnectFromChat handles a code typed into the chat.
func (b *Bot) completeConnectFromChat(ctx context.Context, a *teams.Activity, code string) {
	b.replyCard(ctx, a, b.completeConnect(ctx, a, code))
}

// normalizeCode accepts "abcd-efgh", "ABCDEFGH" and surrounding spaces.
func normalizeCode(code string) string {
	code = strings.ToUpper(strings.TrimSpace(code))
	code = strings.ReplaceAll(code, "-", "")
	if len(code) > maxCodeSize {
		return ""
	}
	return code
}

// completeConnect binds parked tokens to the Teams user who hands back the code,
// and only if that is the user who started the sign-in.
func (b *Bot) completeConnect(ctx context.Context, a *teams.Activity, code string) any {
	card, _ := b.redeemCode(ctx, a, code)
	return card
}

// redeemCode is completeConnect that also says, in problem, why a code was
// refused (wrong, used, expired, someone else's), so a caller that knows the
// organization can offer the sign-in again instead of the first step.
func (b *Bot) redeemCode(ctx context.Context, a *teams.Activity, code string) (card any, problem string) {
	u, err := userOf(a)
	if err != nil {
		return b.errorCard(ctx, "Connect", err), ""
	}
	code = normalizeCode(code)
	if code == "" {
		const msg = "That sign-in code is not valid. Type connect devops to start again."
		return b.connectPromptCard("", msg), msg
	}
	p, err := b.signIns.ConsumePendingLogin(ctx, code)
	if apperr.Is(err, apperr.NotFound) || apperr.Is(err, apperr.Invalid) {
		const msg = "That sign-in code is not valid, was already used or has expired. Sign in again to get a new one."
		return b.connectPromptCard("", msg), msg
	}
	if err != nil {
		return b.errorCard(ctx, "Connect", err), ""
	}
	if p.User != u {
		teams.Logger(ctx).WarnContext(ctx, "refused a sign-in code handed back by a different Teams user than the one who started it")
		const msg = "This sign-in was started by someone else, so nobody was connected. Sign in with your own account."
		return b.connectPromptCard("", msg), msg
	}
	conn := p.Conn
	conn.User = u
	conn.Status = devopsbot.StatusActive
	conn.UpdatedAt = b.now()
	if conn.CreatedAt.IsZero() {
		conn.CreatedAt = b.now()
	}
	if err := b.conns.SaveConnection(ctx, &conn); err != nil {
		return b.errorCard(ctx, "Connect", err), ""
	}
	teams.Logger(ctx).InfoContext(ctx, "user connected Azure DevOps", "org", conn.OrgName)
	return b.connectedCard(&conn), ""
}

// connectDemo links the user to the demo organization without any sign-in.
func (b *Bot) connectDemo(ctx context.Context, a *teams.Activity) (any, error) {
	u, err := userOf(a)
	if err != nil {
		return nil, err
	}
	d := b.cfg.Demo
	conn := &devopsbot.Connection{
		User:        u,
		OrgURL:      d.Org.URL,
		OrgName:     d.Org.Name,
		DisplayName: d.Identity.DisplayName,
		UniqueName:  d.Identity.UniqueName,
		IdentityID:  d.Identity.ID,
		AccessToken: d.Token,
		Expiry:      b.now().Add(365 * 24 * time.Hour),
		Scopes:      devops.Scopes(false),
		Status:      devopsbot.StatusActive,
		CreatedAt:   b.now(),
		UpdatedAt:   b.now(),
	}
	if err := b.conns.SaveConnection(ctx, conn); err != nil {
		return nil, err
	}
	return b.connectedCard(conn), nil
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
