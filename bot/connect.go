package bot

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
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
	signInTTL   = 10 * time.Minute
	pendingTTL  = 10 * time.Minute
	maxCodeSize = 32
)

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
	b.log.WarnContext(ctx, "connect devops is not configured", "missing", strings.Join(b.cfg.MissingOAuth, ","), "request_id", teams.RequestID(ctx))
}

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
	if formVerbs[verb] && av.State == "" && namesInsight(av.Action.Data) {
		// A form button in a client without dialogs: same steps, answered in place.
		return b.formStep(withInCardForms(ctx), a, av.Action.Data), nil
	}
	if _, err := userOf(a); err != nil {
		return teams.AdaptiveCardResponse(b.errorCard(ctx, "Connect", err)), nil
	}
	// Teams sends the code from notifySuccess in `state`, on the same verb.
	if av.State != "" {
		return teams.AdaptiveCardResponse(b.completeConnect(ctx, a, av.State)), nil
	}
	if b.cfg.Demo == nil && b.cfg.OAuth == nil && strings.HasPrefix(verb, "connect.") {
		b.logMissingOAuth(ctx)
		return teams.AdaptiveCardResponse(b.notConfiguredCard()), nil
	}
	switch verb {
	case cards.VerbHelp:
		return teams.AdaptiveCardResponse(b.helpCard()), nil
	case cards.VerbConnect:
		if b.cfg.Demo != nil {
			break // demo: "connect.org" below connects at once
		}
		return teams.AdaptiveCardResponse(b.connectPromptCard("", "")), nil
	}
	switch verb {
	case "connect.org", cards.VerbConnect:
		if b.cfg.Demo != nil {
			card, err := b.connectDemo(ctx, a)
			if err != nil {
				return teams.AdaptiveCardResponse(b.errorCard(ctx, "Connect", err)), nil
			}
			return teams.AdaptiveCardResponse(card), nil
		}
		return teams.AdaptiveCardResponse(b.orgChosenCard(ctx, a, data.OrgURL)), nil
	case "connect.signin":
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
	case "connect.code":
		card, problem := b.redeemCode(ctx, a, data.Code)
		if org, err := devops.NormalizeOrgURL(data.Org); err == nil && problem != "" {
			// A wrong or expired code: sign in again to the same organization,
			// without typing its address a second time.
			return teams.AdaptiveCardResponse(cards.ConnectSignIn(cards.SignInView{Demo: b.demo(), Org: org.Name, OrgURL: org.URL, Error: problem})), nil
		}
		return teams.AdaptiveCardResponse(card), nil
	}
	return teams.ErrorResponse(http.StatusBadRequest, "UnknownAction", "This card action is not supported."), nil
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
		ExpiresAt:      b.now().Add(signInTTL),
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
		const msg = "That sign-in code is not valid. Type **connect devops** to start again."
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
		b.log.WarnContext(ctx, "refused a sign-in code handed back by a different Teams user than the one who started it", "request_id", teams.RequestID(ctx))
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
	b.log.InfoContext(ctx, "user connected Azure DevOps", "org", conn.OrgName, "request_id", teams.RequestID(ctx))
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

// --- the browser side -------------------------------------------------------

// serveOAuthCallback completes the authorization code flow. It never shows a
// token, a code from Microsoft or a raw error.
func (b *Bot) serveOAuthCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		b.renderPage(w, http.StatusMethodNotAllowed, page{Title: "Not allowed", Message: "Open the sign-in link from Teams.", Failure: true})
		return
	}
	if b.cfg.OAuth == nil {
		// Permanent until an administrator configures it: 404, not a 503 that
		// tells the browser and the user to try again later.
		b.renderPage(w, http.StatusNotFound, page{Title: "Sign-in is not set up", Message: "Azure DevOps sign-in is not set up by your administrator for this bot. Ask them to configure it; until then, nobody can connect Azure DevOps to this bot.", Failure: true})
		return
	}
	q := r.URL.Query()
	stateID := q.Get("state")
	if len(stateID) == 0 || len(stateID) > 128 || len(q["state"]) != 1 {
		b.renderPage(w, http.StatusBadRequest, pageExpired)
		return
	}
	// The state is single-use whatever happens next: consume it first.
	st, err := b.signIns.ConsumeOAuthState(ctx, stateID)
	switch {
	case apperr.Is(err, apperr.NotFound), apperr.Is(err, apperr.Invalid):
		b.renderPage(w, http.StatusBadRequest, pageExpired)
		return
	case err != nil:
		b.log.ErrorContext(ctx, "oauth callback: state lookup failed", "err", err)
		b.renderPage(w, http.StatusServiceUnavailable, page{Title: "Try again in a moment", Message: "We could not complete the sign-in because a service is unavailable. Go back to Teams and type connect devops to try again.", Failure: true})
		return
	}
	if e := q.Get("error"); e != "" {
		b.renderPage(w, http.StatusBadRequest, b.idpErrorPage(ctx, e, q.Get("error_description"), st.EntraTenantID))
		return
	}
	code := q.Get("code")
	if code == "" || len(code) > 4096 || len(q["code"]) != 1 {
		b.renderPage(w, http.StatusBadRequest, page{Title: "Sign-in incomplete", Message: "Microsoft did not send a sign-in result. Go back to Teams and type connect devops to try again.", Failure: true})
		return
	}
	org, err := devops.NormalizeOrgURL(st.OrgURL)
	if err != nil { // cannot happen for states we wrote; refuse rather than send a token anywhere
		b.renderPage(w, http.StatusBadRequest, pageExpired)
		return
	}
	xctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if b.cfg.DevOps.HTTPClient != nil {
		xctx = context.WithValue(xctx, oauth2.HTTPClient, b.cfg.DevOps.HTTPClient)
	}
	tok, err := b.cfg.OAuth.Config(st.EntraTenantID).Exchange(xctx, code, oauth2.VerifierOption(st.CodeVerifier))
	if err != nil {
		b.log.WarnContext(ctx, "oauth callback: code exchange failed", "err", redactOAuthError(err))
		b.renderPage(w, http.StatusBadGateway, b.exchangeErrorPage(ctx, err, st.EntraTenantID))
		return
	}
	idt, err := parseIDToken(tok)
	if err != nil || idt.Nonce != st.Nonce {
		b.log.WarnContext(ctx, "oauth callback: id token missing or nonce mismatch")
		b.renderPage(w, http.StatusBadRequest, page{Title: "Sign-in could not be verified", Message: "Go back to Teams and type connect devops to try again.", Failure: true})
		return
	}
	// Same directory, different person: the link was forwarded. Refuse early.
	if idt.TenantID != "" && strings.EqualFold(idt.TenantID, st.User.TenantID) && idt.ObjectID != "" && !strings.EqualFold(idt.ObjectID, st.User.AADObjectID) {
		b.log.WarnContext(ctx, "oauth callback: signed-in account is not the Teams user who asked for the link")
		b.renderPage(w, http.StatusForbidden, page{Title: "This sign-in link was made for someone else", Message: "You signed in as " + idt.displayName() + ", but this link belongs to another Teams user. Nobody was connected. To connect your own account, type connect devops in Teams.", Failure: true})
		return
	}
	// One cheap call proves the account can reach the organization.
	client := devops.NewClient(org, oauth2.StaticTokenSource(tok), b.cfg.DevOps)
	if _, err := client.ListProjects(xctx); err != nil {
		b.log.WarnContext(ctx, "oauth callback: organization not reachable with this account", "org", org.Name, "kind", apperr.KindOf(err).String())
		msg := "The account " + idt.displayName() + " can't open the Azure DevOps organization " + org.Name + ". Check that you signed in with the account you use for Azure DevOps, or ask an organization administrator to add you. Then type connect devops in Teams to try again."
		if apperr.Is(err, apperr.Unavailable) || apperr.Is(err, apperr.RateLimited) {
			msg = "Azure DevOps did not answer. Go back to Teams and type connect devops to try again in a moment."
		}
		b.renderPage(w, http.StatusForbidden, page{Title: "Can't reach " + org.Name, Message: msg, Failure: true})
		return
	}
	// 16 characters (80 bits): the code may be typed, but it is also what a
	// database dump would let someone brute-force from its hash.
	handoff := randomID(16)
	p := &devopsbot.PendingLogin{
		Code: handoff,
		User: st.User,
		Conn: devopsbot.Connection{
			User:          st.User,
			OrgURL:        org.URL,
			OrgName:       org.Name,
			EntraTenantID: st.EntraTenantID,
			DisplayName:   idt.Name,
			UniqueName:    idt.username(),
			AccessToken:   tok.AccessToken,
			RefreshToken:  tok.RefreshToken,
			Expiry:        tok.Expiry,
			Scopes:        grantedScopes(tok),
			Status:        devopsbot.StatusActive,
			CreatedAt:     b.now(),
			UpdatedAt:     b.now(),
		},
		ExpiresAt: b.now().Add(pendingTTL),
	}
	if err := b.signIns.CreatePendingLogin(ctx, p); err != nil {
		b.log.ErrorContext(ctx, "oauth callback: could not park the sign-in", "err", err)
		b.renderPage(w, http.StatusServiceUnavailable, page{Title: "Try again in a moment", Message: "We could not save your sign-in. Go back to Teams and type connect devops to try again.", Failure: true})
		return
	}
	shown := handoff[:4] + "-" + handoff[4:8] + "-" + handoff[8:12] + "-" + handoff[12:]
	b.renderPage(w, http.StatusOK, page{
		Title:   "Signed in to " + org.Name,
		Message: "You signed in as " + idt.displayName() + ". Return to Teams to finish: this window closes by itself when Teams opened it. Otherwise type this code in your chat with Sally (it works once, for 10 minutes):",
		Code:    shown,
		Notify:  handoff,
	})
}

// idToken holds the claims we read from the id token the token endpoint returned
// to us over TLS (OpenID Connect Core 3.1.3.7 allows skipping the signature check
// for a token received directly from the token endpoint).
type idToken struct {
	Name              string `json:"name"`
	PreferredUsername string `json:"preferred_username"`
	Email             string `json:"email"`
	ObjectID          string `json:"oid"`
	TenantID          string `json:"tid"`
	Nonce             string `json:"nonce"`
}

func (t idToken) username() string {
	if t.Email != "" {
		return t.Email
	}
	return t.PreferredUsername
}

func (t idToken) displayName() string {
	switch {
	case t.Name != "" && t.username() != "":
		return t.Name + " (" + t.username() + ")"
	case t.Name != "":
		return t.Name
	case t.username() != "":
		return t.username()
	}
	return "this account"
}

func parseIDToken(tok *oauth2.Token) (idToken, error) {
	var out idToken
	raw, _ := tok.Extra("id_token").(string)
	parts := strings.Split(raw, ".")
	if len(parts) != 3 || len(parts[1]) > 16<<10 {
		return out, errors.New("no id token")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal(payload, &out); err != nil {
		return out, err
	}
	return out, nil
}

func grantedScopes(tok *oauth2.Token) []string {
	s, _ := tok.Extra("scope").(string)
	if s == "" {
		return nil
	}
	return strings.Fields(s)
}

// redactOAuthError keeps the OAuth error code and drops bodies that may echo input.
func redactOAuthError(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return "token endpoint: " + re.ErrorCode + " (HTTP " + http.StatusText(re.Response.StatusCode) + ")"
	}
	return "token endpoint unreachable"
}

// idpErrorPage explains an error the identity provider sent back.
func (b *Bot) idpErrorPage(ctx context.Context, code, desc, tenant string) page {
	b.log.InfoContext(ctx, "oauth callback: identity provider returned an error", "error", code)
	switch {
	case adminConsentNeeded(code, desc):
		return b.adminConsentPage(tenant)
	case code == "access_denied":
		return page{Title: "Sign-in cancelled", Message: "You did not give Sally access to Azure DevOps, so nothing was connected. To try again, type connect devops in Teams.", Failure: true}
	case code == "login_required", code == "interaction_required":
		return page{Title: "Sign-in needed", Message: "Microsoft asked you to sign in again. Go back to Teams and type connect devops.", Failure: true}
	}
	return page{Title: "Sign-in failed", Message: "Microsoft could not complete the sign-in. Go back to Teams and type connect devops to try again.", Failure: true}
}

// adminConsentNeeded recognises tenants where users may not consent themselves
// (AADSTS65001 consent required, AADSTS90094 / AADSTS90095 admin approval).
func adminConsentNeeded(code, desc string) bool {
	if code == "consent_required" {
		return true
	}
	for _, c := range []string{"AADSTS65001", "AADSTS90094", "AADSTS90095", "AADSTS90099"} {
		if strings.Contains(desc, c) {
			return true
		}
	}
	return false
}

func (b *Bot) adminConsentPage(tenant string) page {
	return page{
		Title:     "An administrator must approve Sally",
		Message:   "Your organization lets only administrators give apps access to Azure DevOps. Send this link to your Microsoft Entra administrator; once they approve, type connect devops in Teams again.",
		AdminLink: b.cfg.OAuth.AdminConsentURL(tenant),
		Failure:   true,
	}
}

func (b *Bot) exchangeErrorPage(ctx context.Context, err error, tenant string) page {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if adminConsentNeeded(re.ErrorCode, re.ErrorDescription) {
			return b.adminConsentPage(tenant)
		}
		if re.ErrorCode == "invalid_grant" {
			return pageExpired
		}
	}
	return page{Title: "Sign-in failed", Message: "Microsoft did not accept the sign-in. Go back to Teams and type connect devops to try again.", Failure: true}
}

var pageExpired = page{Title: "This sign-in link has expired", Message: "Sign-in links work once and for 10 minutes. Go back to Teams and type connect devops to get a new one.", Failure: true}
