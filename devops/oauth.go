package devops

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"

	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/internal/httpretry"
)

// ResourceID is Azure DevOps' application id in Entra ID; scopes are written
// relative to it because Azure DevOps' own OAuth takes no new apps.
const ResourceID = "499b84ac-1321-427f-aa17-267ca6975798"

// Scopes are the least the bot needs: create and comment on work items
// (vso.work_write), read projects and teams (vso.project), and, only when
// organization-wide people search is enabled, vso.identity. offline_access
// yields the refresh token that lets the bot act later.
func Scopes(withIdentity bool) []string {
	s := []string{ResourceID + "/vso.work_write", ResourceID + "/vso.project"}
	if withIdentity {
		s = append(s, ResourceID+"/vso.identity")
	}
	return append(s, "offline_access", "openid", "profile", "email")
}

// OAuthSettings is the bot's Entra ID app registration.
type OAuthSettings struct {
	ClientID, ClientSecret, RedirectURL string
	AuthorityHost                       string // default https://login.microsoftonline.com
	WithIdentity                        bool
}

func (s OAuthSettings) authority() string {
	if s.AuthorityHost == "" {
		return "https://login.microsoftonline.com"
	}
	return strings.TrimRight(s.AuthorityHost, "/")
}

// Config returns the OAuth configuration for the organization's tenant: users
// must sign in there, since a guest's home-tenant token is refused (TF400813).
func (s OAuthSettings) Config(tenantID string) *oauth2.Config {
	t := url.PathEscape(tenantID)
	return &oauth2.Config{
		ClientID:     s.ClientID,
		ClientSecret: s.ClientSecret,
		RedirectURL:  s.RedirectURL,
		Scopes:       Scopes(s.WithIdentity),
		Endpoint: oauth2.Endpoint{
			AuthURL:   s.authority() + "/" + t + "/oauth2/v2.0/authorize",
			TokenURL:  s.authority() + "/" + t + "/oauth2/v2.0/token",
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

// AdminConsentURL is the page a tenant admin opens when the tenant does not let
// users consent to apps themselves.
func (s OAuthSettings) AdminConsentURL(tenantID string) string {
	q := url.Values{"client_id": {s.ClientID}, "scope": {ResourceID + "/.default"}}
	if s.RedirectURL != "" {
		q.Set("redirect_uri", s.RedirectURL)
	}
	return s.authority() + "/" + url.PathEscape(tenantID) + "/v2.0/adminconsent?" + q.Encode()
}

// userTokenSource refreshes one user's token and hands every new token to
// onRefresh so the caller can persist the rotated refresh token.
type userTokenSource struct {
	ctx       context.Context
	cfg       *oauth2.Config
	onRefresh func(*oauth2.Token) error

	mu      sync.Mutex
	tok     *oauth2.Token
	unsaved bool // onRefresh failed for tok; try again on the next call
	dead    bool // invalid_grant seen: never hammer the token endpoint again
}

// NewUserTokenSource returns a token source safe for concurrent use. ctx is used
// for refreshes (carry an *http.Client with oauth2.HTTPClient), so it should
// outlive requests. A refresh token the identity platform refuses (invalid_grant)
// yields ErrNeedsReconnect, and keeps yielding it without further calls.
func NewUserTokenSource(ctx context.Context, cfg *oauth2.Config, tok *oauth2.Token, onRefresh func(*oauth2.Token) error) oauth2.TokenSource {
	if tok == nil {
		tok = &oauth2.Token{}
	}
	return &userTokenSource{ctx: httpretry.WithName(context.WithoutCancel(ctx), OpEntraToken), cfg: cfg, tok: tok, onRefresh: onRefresh}
}

// OpEntraToken names Entra ID token requests (code exchange and refresh) for metrics.
const OpEntraToken = "entra.token"

// TokenContext is the context for an Entra ID token request (the OAuth code
// exchange): it sends through hc when not nil and names the request for
// metrics, as every Azure DevOps call is named.
func TokenContext(ctx context.Context, hc *http.Client) context.Context {
	if hc != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, hc)
	}
	return httpretry.WithName(ctx, OpEntraToken)
}

func (s *userTokenSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dead {
		return nil, ErrNeedsReconnect
	}
	if s.tok.Valid() {
		if s.unsaved && s.onRefresh != nil && s.onRefresh(s.tok) == nil {
			s.unsaved = false
		}
		return s.tok, nil
	}
	if s.tok.RefreshToken == "" {
		return nil, ErrNeedsReconnect
	}
	ctx, cancel := context.WithTimeout(s.ctx, 20*time.Second)
	defer cancel()
	nt, err := s.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: s.tok.RefreshToken}).Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && (re.ErrorCode == "invalid_grant" || re.ErrorCode == "interaction_required" || re.ErrorCode == "consent_required") {
			s.dead = true
			return nil, ErrNeedsReconnect
		}
		// The cause may quote the token endpoint's body, never our secrets: the
		// oauth2 package does not echo request parameters.
		return nil, apperr.Wrap(apperr.Unavailable, "Could not refresh your Azure DevOps sign-in. Please try again shortly.", stripRetrieveBody(err))
	}
	if nt.RefreshToken == "" {
		nt.RefreshToken = s.tok.RefreshToken
	}
	s.tok = nt
	s.unsaved = false
	if s.onRefresh != nil {
		if err := s.onRefresh(nt); err != nil {
			// The new token works now, and the old refresh token stays valid
			// (Entra does not revoke it on use), so serve it and save later.
			s.unsaved = true
		}
	}
	return nt, nil
}

// stripRetrieveBody drops the raw response body from a RetrieveError: it is
// noisy and we keep logs free of anything token-shaped.
func stripRetrieveBody(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return errors.New("token endpoint: " + re.ErrorCode + " " + re.ErrorDescription)
	}
	return err
}

// TenantResolver finds the Entra tenant that backs an organization, which is
// where users must sign in.
type TenantResolver struct {
	hc    *http.Client
	hosts Hosts
	ttl   time.Duration
	now   func() time.Time
	sf    singleflight.Group
	mu    sync.Mutex
	cache map[string]tenantEntry
	calls int64
}

type tenantEntry struct {
	tenant  string
	expires time.Time
}

// NewTenantResolver returns a resolver that caches answers for an hour: an
// organization rarely moves between tenants.
func NewTenantResolver(hc *http.Client, hosts Hosts) *TenantResolver {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	if hosts.VSSPS == "" {
		hosts.VSSPS = DefaultHosts.VSSPS
	}
	return &TenantResolver{hc: hc, hosts: hosts, ttl: time.Hour, now: time.Now, cache: map[string]tenantEntry{}}
}

const zeroTenant = "00000000-0000-0000-0000-000000000000"

// Resolve asks HEAD {vssps}/{org} for x-vss-resourcetenant. The request carries
// no token: the header is answered to anyone.
func (r *TenantResolver) Resolve(ctx context.Context, org Org) (string, error) {
	if !ValidOrgName(org.Name) {
		return "", apperr.New(apperr.Invalid, orgNameRule)
	}
	key := strings.ToLower(org.Name)
	r.mu.Lock()
	if e, ok := r.cache[key]; ok && r.now().Before(e.expires) {
		r.mu.Unlock()
		return e.tenant, nil
	}
	r.mu.Unlock()
	v, err, _ := r.sf.Do(key, func() (any, error) {
		t, err := r.fetch(ctx, key)
		if err != nil {
			return "", err
		}
		r.mu.Lock()
		r.cache[key] = tenantEntry{tenant: t, expires: r.now().Add(r.ttl)}
		r.mu.Unlock()
		return t, nil
	})
	if err != nil {
		return "", err
	}
	t := v.(string)
	if t == zeroTenant {
		return "", apperr.New(apperr.Invalid, "This Azure DevOps organization is backed by personal Microsoft accounts, which are not supported. Connect an organization that belongs to a Microsoft Entra ID tenant.")
	}
	return t, nil
}

func (r *TenantResolver) fetch(ctx context.Context, org string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(httpretry.WithName(ctx, "tenant.discover"), http.MethodHead, strings.TrimRight(r.hosts.VSSPS, "/")+"/"+url.PathEscape(org), nil)
	if err != nil {
		return "", apperr.Wrap(apperr.Internal, "", err)
	}
	req.Header.Set("X-TFS-FedAuthRedirect", "Suppress")
	r.mu.Lock()
	r.calls++
	r.mu.Unlock()
	resp, err := r.hc.Do(req)
	if err != nil {
		return "", apperr.Wrap(apperr.Unavailable, "Azure DevOps could not be reached. Please try again shortly.", err)
	}
	resp.Body.Close()
	t := strings.ToLower(strings.TrimSpace(resp.Header.Get("X-Vss-Resourcetenant")))
	if t == "" {
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			return "", apperr.New(apperr.Unavailable, "Azure DevOps could not be reached. Please try again shortly.")
		}
		return "", apperr.New(apperr.NotFound, "No Azure DevOps organization by that name was found.")
	}
	if !isGUID(t) {
		return "", apperr.Wrap(apperr.Unavailable, "Azure DevOps sent an unexpected answer.", errors.New("malformed x-vss-resourcetenant"))
	}
	return t, nil
}

// Calls reports how many HEAD requests the resolver sent.
func (r *TenantResolver) Calls() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return true
}
