package devopstest_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/devops"
	"github.com/sally-devops/devopsbot/devops/devopstest"
)

const (
	testClientID = "0a1b2c3d-1111-4222-8333-444455556666"
	testSecret   = "s3cr3t~value"
	testRedirect = "https://bot.example.com/auth/callback"
)

type idpEnv struct {
	org *devopstest.Org
	p   *devopstest.IdentityProvider
	cfg *oauth2.Config
}

func newIDP(t *testing.T) *idpEnv {
	t.Helper()
	org := devopstest.NewOrg(t)
	p := devopstest.NewIdentityProvider(t, org, testClientID, testSecret)
	cfg := devops.OAuthSettings{ClientID: testClientID, ClientSecret: testSecret, RedirectURL: testRedirect, AuthorityHost: p.URL}.Config(devopstest.DefaultTenant)
	return &idpEnv{org: org, p: p, cfg: cfg}
}

// signIn builds the authorize URL the way the bot does and plays the browser.
func (e *idpEnv) signIn(t *testing.T, cfg *oauth2.Config, state, verifier, nonce string) *url.URL {
	t.Helper()
	u := cfg.AuthCodeURL(state,
		oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("nonce", nonce),
		oauth2.SetAuthURLParam("prompt", "select_account"),
		oauth2.SetAuthURLParam("response_mode", "query"),
	)
	return e.p.Authorize(t, u)
}

func (e *idpEnv) code(t *testing.T, verifier string) string {
	t.Helper()
	loc := e.signIn(t, e.cfg, "st-1", verifier, "n-1")
	c := loc.Query().Get("code")
	if c == "" {
		t.Fatalf("no code in redirect (error %q)", loc.Query().Get("error"))
	}
	return c
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func (e *idpEnv) listProjects(t *testing.T, tok *oauth2.Token) error {
	t.Helper()
	c := devops.NewClient(e.org.Org(), oauth2.StaticTokenSource(tok), devops.Options{Hosts: e.org.Hosts, MaxRetries: -1})
	_, err := c.ListProjects(ctx(t))
	return err
}

// wantOAuthError asserts err is the token endpoint's answer with code and an
// AADSTS description that does not quote any secret.
func wantOAuthError(t *testing.T, err error, code, aadsts string, secrets ...string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want a token endpoint error %s", err, code)
	}
	if re.ErrorCode != code || !strings.HasPrefix(re.ErrorDescription, aadsts+":") {
		t.Fatalf("error = %q %q, want %s %s", re.ErrorCode, re.ErrorDescription, code, aadsts)
	}
	for _, s := range append(secrets, testSecret) {
		if s != "" && strings.Contains(string(re.Body), s) {
			t.Fatalf("error body quotes a secret")
		}
	}
}

func TestIdentityProviderCodeFlow(t *testing.T) {
	e := newIDP(t)
	verifier := oauth2.GenerateVerifier()
	loc := e.signIn(t, e.cfg, "state-42", verifier, "nonce-7")
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != testRedirect {
		t.Fatalf("redirected to %q, want %q", got, testRedirect)
	}
	if loc.Query().Get("state") != "state-42" || loc.Query().Get("code") == "" {
		t.Fatalf("redirect query = %v, want code and state", loc.Query())
	}
	last := e.p.LastAuthorize()
	if last.Get("code_challenge_method") != "S256" || last.Get("prompt") != "select_account" || last.Get("nonce") != "nonce-7" {
		t.Fatalf("LastAuthorize = %v", last)
	}

	tok, err := e.cfg.Exchange(ctx(t), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.TokenType != "Bearer" {
		t.Fatalf("token lacks access or refresh token or type: type %q", tok.TokenType)
	}
	if !tok.Expiry.After(time.Now().Add(50 * time.Minute)) {
		t.Fatalf("expiry %v, want about an hour", tok.Expiry)
	}
	wantScope := devops.ResourceID + "/vso.work_write " + devops.ResourceID + "/vso.project"
	if s, _ := tok.Extra("scope").(string); s != wantScope {
		t.Fatalf("scope = %q, want %q", s, wantScope)
	}
	if err := e.listProjects(t, tok); err != nil {
		t.Fatalf("fake org refused the issued access token: %v", err)
	}

	raw, _ := tok.Extra("id_token").(string)
	claims := jwt.MapClaims{}
	parsed, err := jwt.ParseWithClaims(raw, claims, func(tk *jwt.Token) (any, error) { return e.p.PublicKey(), nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithAudience(testClientID),
		jwt.WithIssuer("https://login.microsoftonline.com/"+devopstest.DefaultTenant+"/v2.0"), jwt.WithExpirationRequired())
	if err != nil {
		t.Fatalf("id_token does not verify: %v", err)
	}
	if parsed.Header["kid"] == "" || parsed.Header["typ"] != "JWT" {
		t.Fatalf("id_token header = %v", parsed.Header)
	}
	want := map[string]string{
		"name": "Adele Vance", "preferred_username": "adele@contoso.com", "email": "adele@contoso.com",
		"oid": devopstest.DefaultUser.ObjectID, "tid": devopstest.DefaultTenant, "nonce": "nonce-7",
	}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("claim %s = %v, want %q", k, claims[k], v)
		}
	}
	if e.p.Calls(devopstest.EndpointAuthorize) != 1 || e.p.Calls(devopstest.EndpointToken) != 1 {
		t.Fatalf("calls = %d authorize, %d token", e.p.Calls(devopstest.EndpointAuthorize), e.p.Calls(devopstest.EndpointToken))
	}
}

func TestIdentityProviderSignInAs(t *testing.T) {
	e := newIDP(t)
	e.p.SignInAs(devopstest.User{ObjectID: "oid-lee", TenantID: "11111111-2222-4333-8444-555555555555", Name: "Lee Gu", Identity: devopstest.Lee})
	v := oauth2.GenerateVerifier()
	tok, err := e.cfg.Exchange(ctx(t), e.code(t, v), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	c := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tok.Extra("id_token").(string), c); err != nil {
		t.Fatal(err)
	}
	// Without an email claim, preferred_username falls back to the UPN the org knows.
	if c["oid"] != "oid-lee" || c["tid"] != "11111111-2222-4333-8444-555555555555" || c["preferred_username"] != "lee@contoso.com" || c["email"] != nil {
		t.Fatalf("claims = %v", c)
	}
	if err := e.listProjects(t, tok); err != nil {
		t.Fatalf("org refused Lee's token: %v", err)
	}

	// Someone who is not a member of the organization signs in fine, but the
	// organization refuses their token.
	e.p.SignInAs(devopstest.User{ObjectID: "oid-stranger", Name: "Stranger", Email: "stranger@example.com"})
	v = oauth2.GenerateVerifier()
	tok, err = e.cfg.Exchange(ctx(t), e.code(t, v), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.listProjects(t, tok); err == nil {
		t.Fatal("org accepted the token of an account that is not a member")
	}
}

func TestIdentityProviderCodeRedemptionFailures(t *testing.T) {
	t.Run("wrong verifier burns the code", func(t *testing.T) {
		e := newIDP(t)
		v := oauth2.GenerateVerifier()
		code := e.code(t, v)
		_, err := e.cfg.Exchange(ctx(t), code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
		wantOAuthError(t, err, "invalid_grant", "AADSTS501481", code)
		_, err = e.cfg.Exchange(ctx(t), code, oauth2.VerifierOption(v))
		wantOAuthError(t, err, "invalid_grant", "AADSTS54005", code)
	})
	t.Run("missing verifier", func(t *testing.T) {
		e := newIDP(t)
		_, err := e.cfg.Exchange(ctx(t), e.code(t, oauth2.GenerateVerifier()))
		wantOAuthError(t, err, "invalid_grant", "AADSTS50148")
	})
	t.Run("reuse", func(t *testing.T) {
		e := newIDP(t)
		v := oauth2.GenerateVerifier()
		code := e.code(t, v)
		if _, err := e.cfg.Exchange(ctx(t), code, oauth2.VerifierOption(v)); err != nil {
			t.Fatal(err)
		}
		_, err := e.cfg.Exchange(ctx(t), code, oauth2.VerifierOption(v))
		wantOAuthError(t, err, "invalid_grant", "AADSTS54005", code)
	})
	t.Run("unknown code", func(t *testing.T) {
		e := newIDP(t)
		_, err := e.cfg.Exchange(ctx(t), "1.Anot-a-code", oauth2.VerifierOption(oauth2.GenerateVerifier()))
		wantOAuthError(t, err, "invalid_grant", "AADSTS9002313", "1.Anot-a-code")
	})
	t.Run("expired after ten minutes", func(t *testing.T) {
		e := newIDP(t)
		v := oauth2.GenerateVerifier()
		code := e.code(t, v)
		e.p.Advance(10*time.Minute + time.Second)
		_, err := e.cfg.Exchange(ctx(t), code, oauth2.VerifierOption(v))
		wantOAuthError(t, err, "invalid_grant", "AADSTS70008", code)
	})
	t.Run("other redirect_uri", func(t *testing.T) {
		e := newIDP(t)
		v := oauth2.GenerateVerifier()
		code := e.code(t, v)
		other := *e.cfg
		other.RedirectURL = "https://evil.example.com/cb"
		_, err := other.Exchange(ctx(t), code, oauth2.VerifierOption(v))
		wantOAuthError(t, err, "invalid_grant", "AADSTS50148", code)
	})
	t.Run("other tenant", func(t *testing.T) {
		e := newIDP(t)
		v := oauth2.GenerateVerifier()
		code := e.code(t, v)
		other := devops.OAuthSettings{ClientID: testClientID, ClientSecret: testSecret, RedirectURL: testRedirect, AuthorityHost: e.p.URL}.Config("contoso.onmicrosoft.com")
		_, err := other.Exchange(ctx(t), code, oauth2.VerifierOption(v))
		wantOAuthError(t, err, "invalid_grant", "AADSTS700005", code)
	})
}

func TestIdentityProviderClientAuth(t *testing.T) {
	e := newIDP(t)
	v := oauth2.GenerateVerifier()
	code := e.code(t, v)

	bad := *e.cfg
	bad.ClientSecret = "wrong-secret"
	_, err := bad.Exchange(ctx(t), code, oauth2.VerifierOption(v))
	wantOAuthError(t, err, "invalid_client", "AADSTS7000215", code, "wrong-secret")
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", re.Response.StatusCode)
	}

	// A failed client authentication does not burn the code; Basic works too.
	basic := *e.cfg
	basic.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	basic.ClientSecret = "s3cr3t~value" // has a character Basic form-encodes
	tok, err := basic.Exchange(ctx(t), code, oauth2.VerifierOption(v))
	if err != nil {
		t.Fatalf("Exchange with HTTP Basic: %v", err)
	}
	if err := e.listProjects(t, tok); err != nil {
		t.Fatal(err)
	}

	// Basic with the wrong secret is refused the same way.
	code = e.code(t, v)
	basic.ClientSecret = "wrong-secret"
	_, err = basic.Exchange(ctx(t), code, oauth2.VerifierOption(v))
	wantOAuthError(t, err, "invalid_client", "AADSTS7000215", code, "wrong-secret")
}

func TestIdentityProviderRefresh(t *testing.T) {
	e := newIDP(t)
	v := oauth2.GenerateVerifier()
	first, err := e.cfg.Exchange(ctx(t), e.code(t, v), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	refresh := func(rt string) (*oauth2.Token, error) {
		return e.cfg.TokenSource(ctx(t), &oauth2.Token{RefreshToken: rt}).Token()
	}
	second, err := refresh(first.RefreshToken)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if second.AccessToken == first.AccessToken || second.RefreshToken == "" || second.RefreshToken == first.RefreshToken {
		t.Fatal("refresh did not rotate both tokens")
	}
	if err := e.listProjects(t, second); err != nil {
		t.Fatalf("org refused the refreshed access token: %v", err)
	}
	// The old refresh token stays valid after rotation, as in Entra.
	if _, err := refresh(first.RefreshToken); err != nil {
		t.Fatalf("old refresh token after rotation: %v", err)
	}

	// The bot's own token source: an expired token is refreshed and the new one saved.
	var saved []*oauth2.Token
	ts := devops.NewUserTokenSource(ctx(t), e.cfg, &oauth2.Token{AccessToken: "old", RefreshToken: second.RefreshToken, Expiry: time.Now().Add(-time.Minute)},
		func(tk *oauth2.Token) error { saved = append(saved, tk); return nil })
	got, err := ts.Token()
	if err != nil || len(saved) != 1 || saved[0].RefreshToken == second.RefreshToken {
		t.Fatalf("NewUserTokenSource: err %v, %d saved", err, len(saved))
	}
	if err := e.listProjects(t, got); err != nil {
		t.Fatal(err)
	}

	e.p.RevokeRefreshTokens()
	for _, rt := range []string{first.RefreshToken, second.RefreshToken, saved[0].RefreshToken} {
		_, err := refresh(rt)
		wantOAuthError(t, err, "invalid_grant", "AADSTS50173", rt)
	}
	dead := devops.NewUserTokenSource(ctx(t), e.cfg, &oauth2.Token{RefreshToken: first.RefreshToken}, nil)
	if _, err := dead.Token(); !errors.Is(err, devops.ErrNeedsReconnect) {
		t.Fatalf("token source after revocation: %v, want ErrNeedsReconnect", err)
	}
	_, err = refresh("1.ARnever-issued")
	wantOAuthError(t, err, "invalid_grant", "AADSTS9002313", "1.ARnever-issued")

	// Signing in again after revocation yields a working refresh token.
	v = oauth2.GenerateVerifier()
	fresh, err := e.cfg.Exchange(ctx(t), e.code(t, v), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := refresh(fresh.RefreshToken); err != nil {
		t.Fatalf("refresh token issued after revocation: %v", err)
	}
}

func TestIdentityProviderFailToken(t *testing.T) {
	e := newIDP(t)
	v := oauth2.GenerateVerifier()
	tok, err := e.cfg.Exchange(ctx(t), e.code(t, v), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	e.p.FailToken(http.StatusServiceUnavailable, "temporarily_unavailable", "AADSTS50001: The service is temporarily unavailable.")
	ts := devops.NewUserTokenSource(ctx(t), e.cfg, &oauth2.Token{RefreshToken: tok.RefreshToken}, nil)
	if _, err := ts.Token(); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("during outage: %v, want Unavailable", err)
	}
	// One-shot: the same source recovers.
	if _, err := ts.Token(); err != nil {
		t.Fatalf("after outage: %v", err)
	}
}

func TestIdentityProviderFailAuthorize(t *testing.T) {
	e := newIDP(t)
	e.p.FailAuthorize("consent_required", "AADSTS65001: The user or administrator has not consented to use the application.")
	loc := e.signIn(t, e.cfg, "state-9", oauth2.GenerateVerifier(), "n")
	q := loc.Query()
	if q.Get("error") != "consent_required" || !strings.HasPrefix(q.Get("error_description"), "AADSTS65001") || q.Get("state") != "state-9" || q.Has("code") {
		t.Fatalf("redirect query = %v", q)
	}
	// Only the next sign-in fails.
	if loc := e.signIn(t, e.cfg, "state-10", oauth2.GenerateVerifier(), "n"); loc.Query().Get("code") == "" {
		t.Fatalf("second sign-in: %v", loc.Query())
	}
}

// noRedirect GETs u and returns the response without following redirects.
func noRedirect(t *testing.T, u string) *http.Response {
	t.Helper()
	hc := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestIdentityProviderAuthorizeValidation(t *testing.T) {
	e := newIDP(t)
	v := oauth2.GenerateVerifier()
	good := func() url.Values {
		u, _ := url.Parse(e.cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(v)))
		return u.Query()
	}
	authURL := func(q url.Values) string {
		return e.p.URL + "/" + devopstest.DefaultTenant + "/oauth2/v2.0/authorize?" + q.Encode()
	}

	// Client or redirect_uri problems: an error page, never a redirect, not even
	// for an injected failure, which stays pending for the next valid request.
	e.p.FailAuthorize("access_denied", "AADSTS65004: User declined to consent to access the app.")
	for name, mutate := range map[string]func(url.Values){
		"unknown client_id":     func(q url.Values) { q.Set("client_id", "someone-else") },
		"missing client_id":     func(q url.Values) { q.Del("client_id") },
		"relative redirect_uri": func(q url.Values) { q.Set("redirect_uri", "/auth/callback") },
		"missing redirect_uri":  func(q url.Values) { q.Del("redirect_uri") },
		"javascript uri":        func(q url.Values) { q.Set("redirect_uri", "javascript://x/%0aalert(1)") },
	} {
		q := good()
		mutate(q)
		resp := noRedirect(t, authURL(q))
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Errorf("%s: status %d, Location %q; want 400 and no redirect", name, resp.StatusCode, resp.Header.Get("Location"))
		}
	}

	if resp := noRedirect(t, authURL(good())); !strings.Contains(resp.Header.Get("Location"), "error=access_denied") {
		t.Fatalf("injected failure was lost: Location %q", resp.Header.Get("Location"))
	}

	// Other problems go back to the (validated) redirect_uri as an error, with no code.
	for name, tc := range map[string]struct {
		mutate func(url.Values)
		want   string
	}{
		"no PKCE":          {func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }, "invalid_request"},
		"plain PKCE":       {func(q url.Values) { q.Set("code_challenge_method", "plain") }, "invalid_request"},
		"no state":         {func(q url.Values) { q.Del("state") }, "invalid_request"},
		"token flow":       {func(q url.Values) { q.Set("response_type", "token") }, "unsupported_response_type"},
		"no work_write":    {func(q url.Values) { q.Set("scope", "openid offline_access") }, "invalid_scope"},
		"no offline":       {func(q url.Values) { q.Set("scope", "openid "+devops.ResourceID+"/vso.work_write") }, "invalid_scope"},
		"form_post answer": {func(q url.Values) { q.Set("response_mode", "form_post") }, "invalid_request"},
	} {
		q := good()
		tc.mutate(q)
		resp := noRedirect(t, authURL(q))
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || loc == nil || !strings.HasPrefix(loc.String(), testRedirect+"?") {
			t.Errorf("%s: status %d, Location %q", name, resp.StatusCode, resp.Header.Get("Location"))
			continue
		}
		if loc.Query().Get("error") != tc.want || loc.Query().Has("code") {
			t.Errorf("%s: redirect query %v, want error %s and no code", name, loc.Query(), tc.want)
		}
	}

	// A registered redirect list is enforced exactly.
	e.p.SetRedirectURIs("https://bot.example.com/other")
	if resp := noRedirect(t, authURL(good())); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("unregistered redirect_uri: status %d, want 400", resp.StatusCode)
	}
	e.p.SetRedirectURIs(testRedirect)
	if resp := noRedirect(t, authURL(good())); resp.StatusCode != http.StatusFound || !strings.Contains(resp.Header.Get("Location"), "code=") {
		t.Fatalf("registered redirect_uri: status %d, Location %q; want a code", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestIdentityProviderConcurrentSignIns(t *testing.T) {
	e := newIDP(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := oauth2.GenerateVerifier()
			u := e.cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(v))
			hc := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := hc.Get(u)
			if err != nil {
				errs <- err
				return
			}
			resp.Body.Close()
			loc, _ := url.Parse(resp.Header.Get("Location"))
			tok, err := e.cfg.Exchange(context.Background(), loc.Query().Get("code"), oauth2.VerifierOption(v))
			if err != nil {
				errs <- err
				return
			}
			if _, err := e.cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := e.p.Calls(devopstest.EndpointToken); n != 16 {
		t.Fatalf("token calls = %d, want 16", n)
	}
}

// FuzzIdentityProvider: whatever arrives, the fake never fails with a 5xx and
// never redirects anywhere but the redirect_uri it was given.
func FuzzIdentityProvider(f *testing.F) {
	org, stopOrg := devopstest.Start()
	defer stopOrg()
	p, stop := devopstest.StartIdentityProvider(org, testClientID, testSecret)
	defer stop()
	cfg := devops.OAuthSettings{ClientID: testClientID, ClientSecret: testSecret, RedirectURL: testRedirect, AuthorityHost: p.URL}.Config(devopstest.DefaultTenant)
	good, _ := url.Parse(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	f.Add("GET", good.Path, good.RawQuery, "")
	f.Add("POST", "/common/oauth2/v2.0/token", "", "grant_type=authorization_code&code=x&client_id="+testClientID+"&client_secret="+testSecret)
	f.Add("POST", "/common/oauth2/v2.0/token", "", "grant_type=refresh_token&refresh_token=x&client_id="+testClientID+"&client_secret="+testSecret)
	f.Add("GET", "/x/discovery/v2.0/keys", "", "")
	f.Fuzz(func(t *testing.T, method, path, rawQuery, body string) {
		if method != "GET" && method != "POST" {
			method = "GET"
		}
		req := httptest.NewRequest(method, "http://idp.test/", strings.NewReader(body))
		req.URL.Path, req.URL.RawQuery = path, rawQuery
		if method == "POST" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := http.DefaultTransport.RoundTrip(withHost(req, p.URL))
		if err != nil {
			return // the request could not even be sent (invalid path bytes)
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if loc := resp.Header.Get("Location"); loc != "" {
			ru := req.URL.Query().Get("redirect_uri")
			got, err1 := url.Parse(loc)
			want, err2 := url.Parse(ru)
			if ru == "" || err1 != nil || err2 != nil || got.Scheme != want.Scheme || got.Host != want.Host || got.Path != want.Path {
				t.Fatalf("redirected to %q for redirect_uri %q", loc, ru)
			}
		}
	})
}

func withHost(r *http.Request, base string) *http.Request {
	u, _ := url.Parse(base)
	out := r.Clone(context.Background())
	out.RequestURI = ""
	out.URL.Scheme, out.URL.Host, out.Host = u.Scheme, u.Host, u.Host
	return out
}
