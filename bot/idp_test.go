package bot_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot/devops"
	"github.com/sally-devops/devopsbot/devops/devopstest"
)

// idpUser is who the browser "is" at the fake sign-in page.
type idpUser struct {
	ObjectID, TenantID, Name, Email string
	Identity                        devops.Identity
}

// fakeIdP imitates the Microsoft Entra ID v2 authorize and token endpoints well
// enough to drive the real authorization code + PKCE flow: codes are single-use
// and bound to client, redirect URI and challenge; refresh tokens rotate; tokens
// it issues are accepted by the fake organization.
type fakeIdP struct {
	t   *testing.T
	srv *httptest.Server
	org *devopstest.Org

	mu         sync.Mutex
	user       idpUser
	failWith   [2]string
	codes      map[string]idpCode
	refresh    map[string]idpUser
	revoked    bool
	tokenCalls int
	seq        int
}

type idpCode struct {
	user                               idpUser
	redirect, challenge, nonce, tenant string
	used                               bool
}

const idpClientID, idpClientSecret = "devops-client", "devops-secret"

func newFakeIdP(t *testing.T, org *devopstest.Org) *fakeIdP {
	p := &fakeIdP{t: t, org: org, codes: map[string]idpCode{}, refresh: map[string]idpUser{}}
	p.user = idpUser{ObjectID: userAdele, TenantID: tenantID, Name: "Adele Vance", Email: "adele@contoso.com", Identity: devopstest.Adele}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *fakeIdP) signInAs(u idpUser) { p.mu.Lock(); p.user = u; p.mu.Unlock() }

func (p *fakeIdP) failAuthorize(code, desc string) {
	p.mu.Lock()
	p.failWith = [2]string{code, desc}
	p.mu.Unlock()
}

func (p *fakeIdP) revokeAll() { p.mu.Lock(); p.revoked = true; p.mu.Unlock() }

func (p *fakeIdP) next(prefix string) string {
	p.seq++
	return fmt.Sprintf("%s-%d-%d", prefix, p.seq, time.Now().UnixNano())
}

func (p *fakeIdP) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) != 4 || parts[1] != "oauth2" || parts[2] != "v2.0" {
		http.NotFound(w, r)
		return
	}
	tenant := parts[0]
	switch parts[3] {
	case "authorize":
		q := r.URL.Query()
		if q.Get("client_id") != idpClientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" ||
			q.Get("code_challenge") == "" || q.Get("state") == "" || !strings.Contains(q.Get("scope"), devops.ResourceID+"/vso.work_write") ||
			!strings.Contains(q.Get("scope"), "offline_access") {
			http.Error(w, "AADSTS900144: bad authorize request", http.StatusBadRequest)
			return
		}
		back, err := url.Parse(q.Get("redirect_uri"))
		if err != nil || !back.IsAbs() {
			http.Error(w, "AADSTS50011: bad redirect", http.StatusBadRequest)
			return
		}
		v := url.Values{"state": {q.Get("state")}}
		if p.failWith[0] != "" {
			v.Set("error", p.failWith[0])
			v.Set("error_description", p.failWith[1])
			p.failWith = [2]string{}
		} else {
			code := p.next("code")
			p.codes[code] = idpCode{user: p.user, redirect: back.String(), challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), tenant: tenant}
			v.Set("code", code)
		}
		back.RawQuery = v.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
	case "token":
		p.tokenCalls++
		_ = r.ParseForm()
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		if id != idpClientID || secret != idpClientSecret {
			p.oauthError(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
			return
		}
		switch r.PostForm.Get("grant_type") {
		case "authorization_code":
			c, ok := p.codes[r.PostForm.Get("code")]
			sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
			if !ok || c.used || c.redirect != r.PostForm.Get("redirect_uri") || base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
				p.oauthError(w, http.StatusBadRequest, "invalid_grant", "AADSTS70008: The provided authorization code or refresh token has expired or was already used.")
				return
			}
			c.used = true
			p.codes[r.PostForm.Get("code")] = c
			p.issue(w, c.user, c.nonce)
		case "refresh_token":
			u, ok := p.refresh[r.PostForm.Get("refresh_token")]
			if !ok || p.revoked {
				p.oauthError(w, http.StatusBadRequest, "invalid_grant", "AADSTS700082: The refresh token has expired due to inactivity.")
				return
			}
			p.issue(w, u, "")
		default:
			p.oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "AADSTS70003")
		}
	default:
		http.NotFound(w, r)
	}
}

func (p *fakeIdP) oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func (p *fakeIdP) issue(w http.ResponseWriter, u idpUser, nonce string) {
	access, refresh := p.next("at"), p.next("rt")
	p.refresh[refresh] = u
	p.org.AddToken(access, u.Identity)
	claims, _ := json.Marshal(map[string]any{"aud": idpClientID, "iss": "https://login.microsoftonline.com/" + u.TenantID + "/v2.0",
		"name": u.Name, "preferred_username": u.Email, "oid": u.ObjectID, "tid": u.TenantID, "nonce": nonce,
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})
	enc := base64.RawURLEncoding.EncodeToString
	idt := enc([]byte(`{"alg":"RS256","typ":"JWT","kid":"fake"}`)) + "." + enc(claims) + "." + enc([]byte("not-verified-by-the-bot"))
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"token_type": "Bearer", "access_token": access, "refresh_token": refresh,
		"expires_in": 3600, "id_token": idt, "scope": devops.ResourceID + "/vso.work_write " + devops.ResourceID + "/vso.project"})
}
