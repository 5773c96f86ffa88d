package bot

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/devops"
	"github.com/sally-devops/devopsbot/teams"
	"golang.org/x/oauth2"
)

// The browser side of connecting: Microsoft's sign-in sends the browser back to
// /oauth/callback with a code; the bot exchanges it (with the PKCE verifier
// kept in the OAuth state), checks the account and parks the connection under a
// one-time code that Teams hands back in the next invoke, so tokens never
// travel through Teams.

// callbackAnswer is the page the browser gets and its status.
type callbackAnswer struct {
	status int
	page   page
}

var (
	answerExpired     = &callbackAnswer{http.StatusBadRequest, pageExpired}
	answerUnavailable = &callbackAnswer{http.StatusServiceUnavailable, page{Title: "Try again in a moment", Message: "We could not complete the sign-in because a service is unavailable. Go back to Teams and type connect devops to try again.", Failure: true}}
)

// serveOAuthCallback completes the authorization code flow. It never shows a
// token, a code from Microsoft or a raw error.
func (b *Bot) serveOAuthCallback(w http.ResponseWriter, r *http.Request) {
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
	a := b.completeSignIn(r.Context(), r.URL.Query())
	b.renderPage(w, a.status, a.page)
}

// completeSignIn runs the callback's steps; each one's refusal is the page the
// person sees.
func (b *Bot) completeSignIn(ctx context.Context, q url.Values) *callbackAnswer {
	st, code, fail := b.callbackState(ctx, q)
	if fail != nil {
		return fail
	}
	org, err := devops.NormalizeOrgURL(st.OrgURL)
	if err != nil { // cannot happen for states we wrote; refuse rather than send a token anywhere
		return answerExpired
	}
	xctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	tok, idt, fail := b.exchangeCode(xctx, st, code)
	if fail != nil {
		return fail
	}
	if fail := b.checkAccount(xctx, st, org, tok, idt); fail != nil {
		return fail
	}
	handoff, fail := b.parkSignIn(ctx, st, org, tok, idt)
	if fail != nil {
		return fail
	}
	shown := handoff[:4] + "-" + handoff[4:8] + "-" + handoff[8:12] + "-" + handoff[12:]
	return &callbackAnswer{http.StatusOK, page{
		Title:   "Signed in to " + org.Name,
		Message: "You signed in as " + idt.displayName() + ". Return to Teams to finish: this window closes by itself when Teams opened it. Otherwise type this code in your chat with Sally (it works once, for 10 minutes):",
		Code:    shown,
		Notify:  handoff,
	}}
}

// callbackState consumes the OAuth state the callback names (it is single-use
// whatever happens next) and returns it with Microsoft's code.
func (b *Bot) callbackState(ctx context.Context, q url.Values) (*devopsbot.OAuthState, string, *callbackAnswer) {
	stateID := q.Get("state")
	if len(stateID) == 0 || len(stateID) > 128 || len(q["state"]) != 1 {
		return nil, "", answerExpired
	}
	st, err := b.signIns.ConsumeOAuthState(ctx, stateID)
	switch {
	case apperr.Is(err, apperr.NotFound), apperr.Is(err, apperr.Invalid):
		return nil, "", answerExpired
	case err != nil:
		teams.Logger(ctx).ErrorContext(ctx, "oauth callback: state lookup failed", "err", err)
		return nil, "", answerUnavailable
	}
	if e := q.Get("error"); e != "" {
		return nil, "", &callbackAnswer{http.StatusBadRequest, b.idpErrorPage(ctx, e, q.Get("error_description"), st.EntraTenantID)}
	}
	code := q.Get("code")
	if code == "" || len(code) > 4096 || len(q["code"]) != 1 {
		return nil, "", &callbackAnswer{http.StatusBadRequest, page{Title: "Sign-in incomplete", Message: "Microsoft did not send a sign-in result. Go back to Teams and type connect devops to try again.", Failure: true}}
	}
	return st, code, nil
}

// exchangeCode trades the code for tokens with the PKCE verifier, and reads
// who signed in from the id token (whose nonce must be the state's).
func (b *Bot) exchangeCode(ctx context.Context, st *devopsbot.OAuthState, code string) (*oauth2.Token, idToken, *callbackAnswer) {
	ctx = devops.TokenContext(ctx, b.cfg.DevOps.HTTPClient)
	tok, err := b.cfg.OAuth.Config(st.EntraTenantID).Exchange(ctx, code, oauth2.VerifierOption(st.CodeVerifier))
	if err != nil {
		teams.Logger(ctx).WarnContext(ctx, "oauth callback: code exchange failed", "err", redactOAuthError(err))
		return nil, idToken{}, &callbackAnswer{http.StatusBadGateway, b.exchangeErrorPage(ctx, err, st.EntraTenantID)}
	}
	idt, err := parseIDToken(tok)
	if err != nil || idt.Nonce != st.Nonce {
		teams.Logger(ctx).WarnContext(ctx, "oauth callback: id token missing or nonce mismatch")
		return nil, idToken{}, &callbackAnswer{http.StatusBadRequest, page{Title: "Sign-in could not be verified", Message: "Go back to Teams and type connect devops to try again.", Failure: true}}
	}
	return tok, idt, nil
}

// checkAccount refuses a sign-in by someone other than the Teams user who asked
// (the link was forwarded), and proves with one cheap call that the account can
// reach the organization.
func (b *Bot) checkAccount(ctx context.Context, st *devopsbot.OAuthState, org devops.Org, tok *oauth2.Token, idt idToken) *callbackAnswer {
	if idt.TenantID != "" && strings.EqualFold(idt.TenantID, st.User.TenantID) && idt.ObjectID != "" && !strings.EqualFold(idt.ObjectID, st.User.AADObjectID) {
		teams.Logger(ctx).WarnContext(ctx, "oauth callback: signed-in account is not the Teams user who asked for the link")
		return &callbackAnswer{http.StatusForbidden, page{Title: "This sign-in link was made for someone else", Message: "You signed in as " + idt.displayName() + ", but this link belongs to another Teams user. Nobody was connected. To connect your own account, type connect devops in Teams.", Failure: true}}
	}
	client := devops.NewClient(org, oauth2.StaticTokenSource(tok), b.cfg.DevOps)
	if _, err := client.ListProjects(ctx); err != nil {
		teams.Logger(ctx).WarnContext(ctx, "oauth callback: organization not reachable with this account", "org", org.Name, "kind", apperr.KindOf(err).String())
		msg := "The account " + idt.displayName() + " can't open the Azure DevOps organization " + org.Name + ". Check that you signed in with the account you use for Azure DevOps, or ask an organization administrator to add you. Then type connect devops in Teams to try again."
		if apperr.Is(err, apperr.Unavailable) || apperr.Is(err, apperr.RateLimited) {
			msg = "Azure DevOps did not answer. Go back to Teams and type connect devops to try again in a moment."
		}
		return &callbackAnswer{http.StatusForbidden, page{Title: "Can't reach " + org.Name, Message: msg, Failure: true}}
	}
	return nil
}

// parkSignIn keeps the new connection under a one-time code for Teams to
// claim, and returns the code.
func (b *Bot) parkSignIn(ctx context.Context, st *devopsbot.OAuthState, org devops.Org, tok *oauth2.Token, idt idToken) (string, *callbackAnswer) {
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
		ExpiresAt: b.now().Add(devopsbot.SignInLifetime),
	}
	if err := b.signIns.CreatePendingLogin(ctx, p); err != nil {
		teams.Logger(ctx).ErrorContext(ctx, "oauth callback: could not park the sign-in", "err", err)
		return "", &callbackAnswer{http.StatusServiceUnavailable, page{Title: "Try again in a moment", Message: "We could not save your sign-in. Go back to Teams and type connect devops to try again.", Failure: true}}
	}
	return handoff, nil
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
	teams.Logger(ctx).InfoContext(ctx, "oauth callback: identity provider returned an error", "error", code)
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
