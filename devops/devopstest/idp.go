package devopstest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"math/big"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot/devops"
)

// User is who the fake identity provider signs in. Identity is who the fake
// organization sees when the user's access token reaches it; a zero Identity
// models an account that is not a member of the organization, whose tokens the
// organization refuses (203 and a sign-in page).
type User struct {
	ObjectID, TenantID, Name, Email string
	Identity                        devops.Identity
}

// DefaultUser is who the browser "is" until SignInAs: Adele, a member of the
// fake organization, in DefaultTenant.
var DefaultUser = User{
	ObjectID: "4a2b7c9e-5d3f-4e1a-9b8c-00000000ade1",
	TenantID: DefaultTenant,
	Name:     Adele.DisplayName,
	Email:    Adele.UniqueName,
	Identity: Adele,
}

// Endpoint names for Calls.
const (
	EndpointAuthorize = "authorize"
	EndpointToken     = "token"
	EndpointKeys      = "keys"
	EndpointDiscovery = "openid-configuration"
)

// Lifetimes as Entra ID gives them by default.
const (
	codeLifetime         = 10 * time.Minute
	defaultTokenLifetime = time.Hour
)

type authCode struct {
	clientID, redirectURI, challenge, nonce, tenant string
	user                                            User
	scopes                                          []string // as requested
	expires                                         time.Time
	used                                            bool
}

type refreshGrant struct {
	clientID string
	user     User
	scopes   []string // as originally requested
	revoked  bool
}

type injectedError struct {
	status            int
	code, description string
}

// IdentityProvider is a fake Microsoft Entra ID v2 endpoint (authorize, token,
// discovery, keys) for driving the real authorization code + PKCE flow in tests.
// It is strict where a mistake in the bot would break against Entra: client
// id and secret, redirect_uri binding, PKCE S256, single-use codes, scopes, and
// refresh tokens that can be revoked. It never logs, and errors never echo a
// code, token or secret.
type IdentityProvider struct {
	URL                    string // pass as OAuthSettings.AuthorityHost
	ClientID, ClientSecret string

	org *Org
	srv *httptest.Server

	mu           sync.Mutex
	user         User
	redirectURIs []string
	failAuth     *injectedError
	failToken    *injectedError
	codes        map[string]*authCode
	refresh      map[string]*refreshGrant
	calls        map[string]int
	lastAuth     url.Values
	skew         time.Duration
	tokenLife    time.Duration
}

// NewIdentityProvider starts the fake; it stops when the test ends. Access
// tokens it issues are registered with org (which may be nil when a test only
// needs the OAuth side).
func NewIdentityProvider(t testing.TB, org *Org, clientID, clientSecret string) *IdentityProvider {
	p, stop := StartIdentityProvider(org, clientID, clientSecret)
	t.Cleanup(stop)
	return p
}

// StartIdentityProvider runs the fake outside a test (demo mode); stop closes it.
func StartIdentityProvider(org *Org, clientID, clientSecret string) (*IdentityProvider, func()) {
	p := &IdentityProvider{
		ClientID: clientID, ClientSecret: clientSecret, org: org, user: DefaultUser,
		codes: map[string]*authCode{}, refresh: map[string]*refreshGrant{}, calls: map[string]int{},
		tokenLife: defaultTokenLifetime,
	}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	p.URL = p.srv.URL
	return p, p.srv.Close
}

// SignInAs sets who the browser "is" at the next authorize calls. An empty
// TenantID means DefaultTenant.
func (p *IdentityProvider) SignInAs(u User) {
	if u.TenantID == "" {
		u.TenantID = DefaultTenant
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.user = u
}

// FailAuthorize makes the next authorize request with a valid client and
// redirect_uri redirect back with error, error_description and state instead
// of a code: what the bot sees when the user cancels (access_denied) or the
// tenant requires admin consent (consent_required, "AADSTS65001: ...").
func (p *IdentityProvider) FailAuthorize(errCode, description string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failAuth = &injectedError{code: errCode, description: description}
}

// FailToken makes the next token request answer status with an Entra error
// body, before any checks (and without consuming a code): for outages
// (503 temporarily_unavailable) and errors the fake does not model
// (400 interaction_required "AADSTS50076: ..." for MFA).
func (p *IdentityProvider) FailToken(status int, errCode, description string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failToken = &injectedError{status: status, code: errCode, description: description}
}

// RevokeRefreshTokens makes every refresh token issued so far answer
// invalid_grant, as after the user revokes consent or an admin revokes their
// sessions. Tokens issued later work. Access tokens stay accepted by the
// organization until they would expire, as with Entra.
func (p *IdentityProvider) RevokeRefreshTokens() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, g := range p.refresh {
		g.revoked = true
	}
}

// SetRedirectURIs restricts redirect_uri to the app registration's list (exact
// match, AADSTS50011 otherwise). Without it, any absolute http(s) URI passes.
func (p *IdentityProvider) SetRedirectURIs(uris ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.redirectURIs = append([]string(nil), uris...)
}

// SetAccessTokenLifetime sets expires_in of tokens issued from now on, so a
// test can make the bot refresh without waiting an hour.
func (p *IdentityProvider) SetAccessTokenLifetime(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tokenLife = d
}

// Advance moves the fake's clock, so codes expire without sleeping.
func (p *IdentityProvider) Advance(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.skew += d
}

// Calls counts requests to endpoint (the Endpoint constants), failed ones included.
func (p *IdentityProvider) Calls(endpoint string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[endpoint]
}

// LastAuthorize returns the query of the last authorize request, or nil.
func (p *IdentityProvider) LastAuthorize() url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lastAuth == nil {
		return nil
	}
	out := url.Values{}
	for k, v := range p.lastAuth {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// PublicKey is the key id tokens are signed with.
func (p *IdentityProvider) PublicKey() *rsa.PublicKey { return &signingKey().PublicKey }

// Authorize plays the browser: it opens authURL (as the bot built it) without
// following the redirect and returns where the provider sent the browser, or
// fails the test when the provider showed an error page instead.
func (p *IdentityProvider) Authorize(t testing.TB, authURL string) *url.URL {
	t.Helper()
	hc := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := hc.Get(authURL)
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: status %d, want a redirect", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatalf("authorize: bad Location: %v", err)
	}
	return loc
}

func (p *IdentityProvider) now() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return time.Now().Add(p.skew)
}

func (p *IdentityProvider) count(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls[name]++
}

func (p *IdentityProvider) serve(w http.ResponseWriter, r *http.Request) {
	tenant, rest, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if !ok || !validTenant(tenant) {
		http.NotFound(w, r)
		return
	}
	switch rest {
	case "oauth2/v2.0/authorize":
		p.count(EndpointAuthorize)
		p.authorize(w, r, tenant)
	case "oauth2/v2.0/token":
		p.count(EndpointToken)
		p.token(w, r, tenant)
	case "discovery/v2.0/keys":
		p.count(EndpointKeys)
		p.keys(w)
	case "v2.0/.well-known/openid-configuration":
		p.count(EndpointDiscovery)
		p.discovery(w, tenant)
	default:
		http.NotFound(w, r)
	}
}

// validTenant accepts what Entra does in the path: a GUID, a domain name, or
// common / organizations / consumers.
func validTenant(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// errorPage is Entra's "Sorry, but we're having trouble signing you in": shown
// to the user, never redirected, because the redirect_uri cannot be trusted.
func errorPage(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, "<!DOCTYPE html><html><head><title>Sign in to your account</title></head><body><h1>Sorry, but we're having trouble signing you in.</h1><p>%s</p></body></html>", html.EscapeString(msg))
}

func (p *IdentityProvider) authorize(w http.ResponseWriter, r *http.Request, tenant string) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	p.mu.Lock()
	p.lastAuth = q
	registered := p.redirectURIs
	p.mu.Unlock()

	// Client and redirect_uri problems are shown, never redirected (RFC 6749 4.1.2.1).
	switch cid := q.Get("client_id"); {
	case cid == "":
		errorPage(w, "AADSTS900144: The request body must contain the following parameter: 'client_id'.")
		return
	case cid != p.ClientID:
		errorPage(w, "AADSTS700016: Application with identifier was not found in the directory. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.")
		return
	}
	ru := q.Get("redirect_uri")
	target, err := url.Parse(ru)
	switch {
	case ru == "":
		errorPage(w, "AADSTS900144: The request body must contain the following parameter: 'redirect_uri'.")
		return
	case err != nil || !target.IsAbs() || target.Host == "" || target.Fragment != "" || (target.Scheme != "https" && target.Scheme != "http"):
		errorPage(w, "AADSTS90102: 'redirect_uri' value must be a valid absolute URI.")
		return
	case len(registered) > 0 && !slices.Contains(registered, ru):
		errorPage(w, "AADSTS50011: The redirect URI specified in the request does not match the redirect URIs configured for the application.")
		return
	}
	state := q.Get("state")
	back := func(params url.Values) {
		tq := target.Query()
		for k, v := range params {
			tq[k] = v
		}
		if state != "" {
			tq.Set("state", state)
		}
		target.RawQuery = tq.Encode()
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, target.String(), http.StatusFound)
	}
	fail := func(code, desc string) { back(url.Values{"error": {code}, "error_description": {desc}}) }

	scopes := strings.Fields(q.Get("scope"))
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", "AADSTS700054: response_type must be 'code' for this application.")
		return
	case state == "":
		fail("invalid_request", "AADSTS900144: The request body must contain the following parameter: 'state'.")
		return
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		fail("invalid_request", "AADSTS9002325: Proof Key for Code Exchange with code_challenge_method S256 is required.")
		return
	case len(q.Get("code_challenge")) != 43:
		fail("invalid_request", "AADSTS501491: Invalid size of Code_Challenge parameter.")
		return
	case q.Has("response_mode") && q.Get("response_mode") != "query":
		fail("invalid_request", "This fake supports response_mode=query only.")
		return
	case !slices.Contains(scopes, devops.ResourceID+"/vso.work_write") || !slices.Contains(scopes, "offline_access") || !slices.Contains(scopes, "openid"):
		fail("invalid_scope", "AADSTS70011: The provided request must include the scopes "+devops.ResourceID+"/vso.work_write, offline_access and openid.")
		return
	}

	p.mu.Lock()
	injected := p.failAuth
	p.failAuth = nil
	user := p.user
	p.mu.Unlock()
	if injected != nil {
		fail(injected.code, injected.description)
		return
	}
	code := "1.A" + randomToken() // Entra codes are long opaque strings
	p.mu.Lock()
	p.codes[code] = &authCode{
		clientID: p.ClientID, redirectURI: ru, challenge: q.Get("code_challenge"), nonce: q.Get("nonce"),
		tenant: strings.ToLower(tenant), user: user, scopes: scopes, expires: time.Now().Add(p.skew + codeLifetime),
	}
	p.mu.Unlock()
	back(url.Values{"code": {code}})
}

// tokenError writes the token endpoint's error JSON.
func tokenError(w http.ResponseWriter, status int, code, desc string) {
	body := map[string]any{
		"error": code, "error_description": desc,
		"timestamp": time.Now().UTC().Format("2006-01-02 15:04:05Z"),
		"trace_id":  "00000000-0000-4000-8000-000000000000", "correlation_id": "00000000-0000-4000-8000-000000000000",
	}
	if n, ok := aadstsCode(desc); ok {
		body["error_codes"] = []int{n}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

func aadstsCode(desc string) (int, bool) {
	rest, ok := strings.CutPrefix(desc, "AADSTS")
	if !ok {
		return 0, false
	}
	var n int
	_, err := fmt.Sscanf(rest, "%d", &n)
	return n, err == nil
}

// clientAuth checks client_secret_post or client_secret_basic (RFC 6749 2.3.1:
// Basic credentials are form-encoded first), refusing both at once.
func (p *IdentityProvider) clientAuth(w http.ResponseWriter, r *http.Request) bool {
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if bu, bp, ok := r.BasicAuth(); ok {
		if secret != "" {
			tokenError(w, http.StatusBadRequest, "invalid_request", "AADSTS90014: Only one client authentication method may be used.")
			return false
		}
		var err1, err2 error
		bu, err1 = url.QueryUnescape(bu)
		bp, err2 = url.QueryUnescape(bp)
		if err1 != nil || err2 != nil || (id != "" && id != bu) {
			tokenError(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
			return false
		}
		id, secret = bu, bp
	}
	switch {
	case id == "":
		tokenError(w, http.StatusBadRequest, "invalid_request", "AADSTS900144: The request body must contain the following parameter: 'client_id'.")
		return false
	case id != p.ClientID:
		tokenError(w, http.StatusBadRequest, "unauthorized_client", "AADSTS700016: Application with identifier was not found in the directory.")
		return false
	case secret == "":
		tokenError(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		return false
	case subtle.ConstantTimeCompare([]byte(secret), []byte(p.ClientSecret)) != 1:
		tokenError(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.")
		return false
	}
	return true
}

func (p *IdentityProvider) token(w http.ResponseWriter, r *http.Request, tenant string) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		tokenError(w, http.StatusMethodNotAllowed, "invalid_request", "AADSTS900561: The endpoint only accepts POST requests.")
		return
	}
	p.mu.Lock()
	injected := p.failToken
	p.failToken = nil
	p.mu.Unlock()
	if injected != nil {
		tokenError(w, injected.status, injected.code, injected.description)
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		tokenError(w, http.StatusBadRequest, "invalid_request", "AADSTS900144: The request body must contain the following parameter: 'grant_type'.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "AADSTS9002313: Invalid request. Request is malformed or invalid.")
		return
	}
	if !p.clientAuth(w, r) {
		return
	}
	f := r.PostForm
	switch f.Get("grant_type") {
	case "authorization_code":
		p.redeemCode(w, f, tenant)
	case "refresh_token":
		p.redeemRefresh(w, f)
	case "":
		tokenError(w, http.StatusBadRequest, "invalid_request", "AADSTS900144: The request body must contain the following parameter: 'grant_type'.")
	default:
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type.")
	}
}

func (p *IdentityProvider) redeemCode(w http.ResponseWriter, f url.Values, tenant string) {
	code, verifier, ru := f.Get("code"), f.Get("code_verifier"), f.Get("redirect_uri")
	if code == "" {
		tokenError(w, http.StatusBadRequest, "invalid_request", "AADSTS900144: The request body must contain the following parameter: 'code'.")
		return
	}
	p.mu.Lock()
	c, ok := p.codes[code]
	now := time.Now().Add(p.skew)
	var used bool
	if ok {
		used = c.used
		c.used = true // any redemption attempt burns the code
	}
	p.mu.Unlock()
	switch {
	case !ok:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "AADSTS9002313: Invalid request. Request is malformed or invalid.")
	case used:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "AADSTS54005: OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.")
	case !now.Before(c.expires):
		tokenError(w, http.StatusBadRequest, "invalid_grant", "AADSTS70008: The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.")
	case c.clientID != f.Get("client_id") && f.Get("client_id") != "":
		tokenError(w, http.StatusBadRequest, "invalid_grant", "AADSTS70000: The provided value for the 'code' parameter is not valid.")
	case c.tenant != strings.ToLower(tenant):
		tokenError(w, http.StatusBadRequest, "invalid_grant", "AADSTS700005: Provided Authorization Code is intended to use against other tenant, thus rejected.")
	case ru == "":
		tokenError(w, http.StatusBadRequest, "invalid_request", "AADSTS900144: The request body must contain the following parameter: 'redirect_uri'.")
	case ru != c.redirectURI:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "AADSTS50148: The redirect_uri does not match the one used in the authorization request.")
	case verifier == "":
		tokenError(w, http.StatusBadRequest, "invalid_grant", "AADSTS50148: The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.")
	case subtle.ConstantTimeCompare([]byte(s256(verifier)), []byte(c.challenge)) != 1:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "AADSTS501481: The Code_Verifier does not match the code_challenge supplied in the authorization request.")
	default:
		p.issue(w, c.clientID, c.user, c.scopes, c.nonce)
	}
}

func (p *IdentityProvider) redeemRefresh(w http.ResponseWriter, f url.Values) {
	rt := f.Get("refresh_token")
	if rt == "" {
		tokenError(w, http.StatusBadRequest, "invalid_request", "AADSTS900144: The request body must contain the following parameter: 'refresh_token'.")
		return
	}
	p.mu.Lock()
	g, ok := p.refresh[rt]
	var cp refreshGrant
	if ok {
		cp = *g
	}
	p.mu.Unlock()
	switch {
	case !ok:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "AADSTS9002313: Invalid request. Request is malformed or invalid.")
		return
	case cp.revoked:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "AADSTS50173: The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.")
		return
	case cp.clientID != f.Get("client_id") && f.Get("client_id") != "":
		tokenError(w, http.StatusBadRequest, "invalid_grant", "AADSTS700008: The refresh token was issued to a different client.")
		return
	}
	// A narrower scope is allowed; a wider one needs a new sign-in.
	for _, s := range strings.Fields(f.Get("scope")) {
		if strings.HasPrefix(s, devops.ResourceID+"/") && !slices.Contains(cp.scopes, s) {
			tokenError(w, http.StatusBadRequest, "invalid_grant", "AADSTS65001: The user or administrator has not consented to use the application. Send an interactive authorization request for this user and resource.")
			return
		}
	}
	p.issue(w, cp.clientID, cp.user, cp.scopes, "")
}

// issue answers a token request: a new access token the organization accepts,
// a new refresh token (the old one stays valid, as in Entra) and an id token.
func (p *IdentityProvider) issue(w http.ResponseWriter, clientID string, u User, scopes []string, nonce string) {
	access, refresh := randomToken(), "1.AR"+randomToken()
	p.mu.Lock()
	p.refresh[refresh] = &refreshGrant{clientID: clientID, user: u, scopes: scopes}
	life := p.tokenLife
	now := time.Now().Add(p.skew)
	p.mu.Unlock()
	var granted []string
	for _, s := range scopes {
		if strings.HasPrefix(s, devops.ResourceID+"/") {
			granted = append(granted, s)
		}
	}
	if p.org != nil && u.Identity.ID != "" {
		p.org.AddScopedToken(access, u.Identity, granted)
	}
	claims := map[string]any{
		"aud": clientID, "iss": "https://login.microsoftonline.com/" + u.TenantID + "/v2.0",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"name": u.Name, "oid": u.ObjectID, "tid": u.TenantID, "sub": s256(clientID + "|" + u.ObjectID)[:43], "ver": "2.0",
	}
	if un := cmpOr(u.Email, u.Identity.UniqueName); un != "" {
		claims["preferred_username"] = un
	}
	if u.Email != "" {
		claims["email"] = u.Email
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	secs := int(life / time.Second)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	json.NewEncoder(w).Encode(map[string]any{
		"token_type": "Bearer", "scope": strings.Join(granted, " "), "expires_in": secs, "ext_expires_in": secs,
		"access_token": access, "refresh_token": refresh, "id_token": signJWT(claims),
	})
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (p *IdentityProvider) keys(w http.ResponseWriter) {
	k := &signingKey().PublicKey
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]any{{
		"kty": "RSA", "use": "sig", "kid": keyID(), "alg": "RS256",
		"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes()),
	}}})
}

func (p *IdentityProvider) discovery(w http.ResponseWriter, tenant string) {
	base := p.URL + "/" + tenant
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(map[string]any{
		"issuer":                                "https://login.microsoftonline.com/{tenantid}/v2.0",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query"},
		"code_challenge_methods_supported":      []string{"S256"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "client_secret_basic"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
	})
}

var (
	keyOnce sync.Once
	key     *rsa.PrivateKey
)

// signingKey is shared by every fake in the process: generating RSA keys is
// the slowest thing a test would otherwise do.
func signingKey() *rsa.PrivateKey {
	keyOnce.Do(func() {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic("devopstest: cannot generate an RSA key: " + err.Error())
		}
	})
	return key
}

func keyID() string {
	sum := sha256.Sum256(signingKey().PublicKey.N.Bytes())
	return base64.RawURLEncoding.EncodeToString(sum[:15])
}

func signJWT(claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": keyID()})
	c, _ := json.Marshal(claims)
	in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(nil, signingKey(), crypto.SHA256, sum[:])
	if err != nil {
		panic("devopstest: signing failed: " + err.Error())
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
