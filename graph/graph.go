// Package graph is the bot's Microsoft Graph client for meeting content: find an
// online meeting by its join URL, read the Microsoft 365 Copilot meeting
// insights (aiInsights) and the meeting transcripts (WebVTT). It uses app-only
// tokens of the bot's own app registration (client credentials), knows nothing
// of Teams activities or Azure DevOps, and turns Graph's answers into apperr
// kinds: 403 Forbidden (with Graph's message: which permission or policy is
// missing), 404 NotFound (not there yet: insights and transcripts appear after
// the meeting), 429 RateLimited (with Retry-After).
package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/internal/httpretry"
)

// DefaultBaseURL is Graph v1.0 in the global cloud (Copilot insights exist only there).
const DefaultBaseURL = "https://graph.microsoft.com/v1.0"

// Limits on what Graph may send us: a hostile or broken answer must not exhaust memory.
const (
	maxJSONBody       = 4 << 20
	maxTranscriptBody = 8 << 20
	maxPages          = 50
)

// Config configures a Client.
type Config struct {
	// BaseURL is Graph's versioned root, default DefaultBaseURL (tests: the fake's).
	BaseURL string
	// Token gives app-only Graph tokens; see NewTokenSource.
	Token      oauth2.TokenSource
	HTTPClient *http.Client // default: 30 s timeout
	// MaxRetries bounds retries of one read on 429/5xx/network errors (default 3).
	MaxRetries int
	// MaxInlineWait is the longest Retry-After honoured by sleeping inside a call
	// (default 10 s); a longer one is returned as RateLimited for the caller to
	// schedule (the meeting watcher waits hours anyway).
	MaxInlineWait time.Duration
	// MaxBackoff caps the wait between retries without Retry-After (default 5 s).
	MaxBackoff time.Duration
}

// Client calls Graph. It is safe for concurrent use.
type Client struct {
	base       *url.URL
	token      oauth2.TokenSource
	http       *http.Client
	retries    int
	inlineWait time.Duration
	maxBackoff time.Duration
}

// New returns a client; it fails on a base URL that is not absolute http(s).
func New(cfg Config) (*Client, error) {
	raw := cfg.BaseURL
	if raw == "" {
		raw = DefaultBaseURL
	}
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("graph: base URL %q is not an absolute http(s) URL", raw)
	}
	if cfg.Token == nil {
		return nil, errors.New("graph: a token source is required")
	}
	c := &Client{base: u, token: cfg.Token, http: cfg.HTTPClient, retries: cfg.MaxRetries, inlineWait: cfg.MaxInlineWait, maxBackoff: cfg.MaxBackoff}
	if c.http == nil {
		c.http = &http.Client{Timeout: 30 * time.Second}
	}
	if c.retries <= 0 {
		c.retries = 3
	}
	if c.inlineWait <= 0 {
		c.inlineWait = 10 * time.Second
	}
	if c.maxBackoff <= 0 {
		c.maxBackoff = 5 * time.Second
	}
	return c, nil
}

// TokenConfig is the bot's app registration for app-only Graph tokens.
type TokenConfig struct {
	TenantID      string // the bot's home tenant; required unless TokenURL is set
	ClientID      string
	ClientSecret  string
	AuthorityHost string // default https://login.microsoftonline.com
	TokenURL      string // overrides AuthorityHost and TenantID (tests)
	HTTPClient    *http.Client
}

// GraphScope asks for the app's granted Graph application permissions (and
// resource-specific consents).
const GraphScope = "https://graph.microsoft.com/.default"

// NewTokenSource returns a cached client-credentials source for GraphScope,
// renewed 5 minutes before expiry.
func NewTokenSource(cfg TokenConfig) (oauth2.TokenSource, error) {
	tokenURL := cfg.TokenURL
	if tokenURL == "" {
		if cfg.TenantID == "" {
			return nil, errors.New("graph: the tenant id is required for app-only tokens")
		}
		host := cfg.AuthorityHost
		if host == "" {
			host = "https://login.microsoftonline.com"
		}
		tokenURL = strings.TrimRight(host, "/") + "/" + url.PathEscape(cfg.TenantID) + "/oauth2/v2.0/token"
	}
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, errors.New("graph: client id and secret are required for app-only tokens")
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	cc := &clientcredentials.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, TokenURL: tokenURL,
		Scopes: []string{GraphScope}, AuthStyle: oauth2.AuthStyleInParams}
	return oauth2.ReuseTokenSourceWithExpiry(nil, fetchSource{cc: cc, client: client}, 5*time.Minute), nil
}

type fetchSource struct {
	cc     *clientcredentials.Config
	client *http.Client
}

func (s fetchSource) Token() (*oauth2.Token, error) {
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, s.client)
	tok, err := s.cc.Token(ctx)
	if err != nil {
		// The oauth2 error may quote the token endpoint's body; it never holds our secret.
		return nil, apperr.Wrap(apperr.Unavailable, "The bot could not get a Microsoft Graph token (check CLIENT_ID, CLIENT_SECRET and TENANT_ID).", err)
	}
	return tok, nil
}

// graphError is Graph's error body: {"error":{"code","message","innerError":{"code"}}}.
type graphError struct {
	Error struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError struct {
			Code string `json:"code"`
		} `json:"innerError"`
	} `json:"error"`
}

// errorFor maps a Graph error answer to an apperr kind with a message safe to
// show: Graph's own message names the missing permission or policy, which is
// what an administrator needs to read in the bot's status.
func errorFor(resp *http.Response, what string) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var ge graphError
	_ = json.Unmarshal(raw, &ge)
	code := ge.Error.Code
	if ge.Error.InnerError.Code != "" {
		code = ge.Error.InnerError.Code
	}
	msg := clip(oneLine(ge.Error.Message), 300)
	cause := fmt.Errorf("graph %s: HTTP %d %s: %s", what, resp.StatusCode, ge.Error.Code, msg)
	var e *apperr.Error
	switch {
	case resp.StatusCode == http.StatusNotFound:
		e = apperr.Wrap(apperr.NotFound, "Microsoft Graph has no "+what+" (yet).", cause)
	case resp.StatusCode == http.StatusForbidden:
		m := "Microsoft Graph refused to give the " + what
		if msg != "" {
			m += ": " + msg
		}
		e = apperr.Wrap(apperr.Forbidden, m, cause)
	case resp.StatusCode == http.StatusUnauthorized:
		e = apperr.Wrap(apperr.Unauthorized, "Microsoft Graph did not accept the bot's token for the "+what+".", cause)
	case resp.StatusCode == http.StatusTooManyRequests:
		e = apperr.Wrap(apperr.RateLimited, "Microsoft Graph asks us to slow down.", cause)
		e.RetryAfter = httpretry.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	case resp.StatusCode >= 500:
		e = apperr.Wrap(apperr.Unavailable, "Microsoft Graph is unavailable right now.", cause)
		e.RetryAfter = httpretry.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	case resp.StatusCode == http.StatusBadRequest:
		e = apperr.Wrap(apperr.Invalid, "Microsoft Graph refused the request for the "+what+".", cause)
	default:
		e = apperr.Wrap(apperr.Internal, "Microsoft Graph answered unexpectedly.", cause)
	}
	e.Code = clip(code, 80)
	return e
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8Start(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

func retryable(err error) bool {
	switch apperr.KindOf(err) {
	case apperr.RateLimited, apperr.Unavailable:
		return true
	}
	return false
}

// policy is Graph's: every call is a read, retried on throttling, server
// errors and lost connections; a Retry-After beyond inlineWait is left to the
// caller to schedule (the meeting watcher waits hours anyway).
func (c *Client) policy() httpretry.Policy {
	return httpretry.Policy{
		Retries: c.retries, Base: 250 * time.Millisecond, Cap: c.maxBackoff, MaxRetryAfter: c.inlineWait,
		RetryStatus: func(st int, _ bool) bool { return st == http.StatusTooManyRequests || st >= 500 },
	}
}

// get reads one URL (absolute, on Graph's host) with retries, and hands the
// successful response to read. what names the operation ("meeting insights").
func (c *Client) get(ctx context.Context, u *url.URL, accept, what string, read func(*http.Response) error) error {
	err := c.policy().Do(ctx, httpretry.Call{Name: "graph." + strings.ReplaceAll(what, " ", "_"), Idempotent: true}, func(ctx context.Context) httpretry.Outcome {
		status, err := c.once(ctx, u, accept, what, read)
		if err == nil {
			return httpretry.Outcome{}
		}
		// What Graph said decides first; a failure without an answer (or a
		// cut-off one, status 0) is retried when its kind says it may pass.
		return httpretry.Outcome{Err: err, Status: status, RetryAfter: apperr.RetryAfterOf(err), Final: status == 0 && !retryable(err)}
	})
	if err != nil && ctx.Err() != nil && retryable(err) {
		return apperr.Wrap(apperr.Unavailable, "Microsoft Graph did not answer in time.", ctx.Err())
	}
	return err
}

// once sends one request. The status is Graph's error answer, 0 when the
// failure came before or after one (token, connection, a body cut off).
func (c *Client) once(ctx context.Context, u *url.URL, accept, what string, read func(*http.Response) error) (int, error) {
	tok, err := c.token.Token()
	if err != nil {
		if apperr.KindOf(err) == apperr.Internal {
			return 0, apperr.Wrap(apperr.Unavailable, "The bot could not get a Microsoft Graph token.", err)
		}
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, apperr.Wrap(apperr.Internal, "Could not build a Microsoft Graph request.", err)
	}
	tok.SetAuthHeader(req)
	req.Header.Set("Accept", accept)
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, apperr.Wrap(apperr.Unavailable, "Microsoft Graph did not answer in time.", err)
		}
		return 0, apperr.Wrap(apperr.Unavailable, "Microsoft Graph could not be reached.", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, errorFor(resp, what)
	}
	return 0, read(resp)
}

func decodeJSON(resp *http.Response, v any, what string) error {
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxJSONBody+1))
	if err != nil {
		return apperr.Wrap(apperr.Unavailable, "Microsoft Graph's answer was cut off.", err)
	}
	if len(raw) > maxJSONBody {
		return apperr.New(apperr.Internal, "Microsoft Graph's "+what+" answer is too large.")
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return apperr.Wrap(apperr.Internal, "Microsoft Graph's "+what+" answer is not what its documentation describes.", err)
	}
	return nil
}

// path builds base + the escaped segments + query.
func (c *Client) path(query url.Values, segments ...string) *url.URL {
	u := *c.base
	esc := make([]string, len(segments))
	for i, s := range segments {
		esc[i] = url.PathEscape(s)
	}
	u.Path = c.base.Path + "/" + strings.Join(esc, "/")
	u.RawPath = c.base.EscapedPath() + "/" + strings.Join(esc, "/")
	if query != nil {
		u.RawQuery = strings.ReplaceAll(query.Encode(), "+", "%20")
	}
	return &u
}

// page is one page of a Graph collection.
type page[T any] struct {
	Value    []T    `json:"value"`
	NextLink string `json:"@odata.nextLink"`
}

// list reads every page of a collection, following @odata.nextLink only to
// Graph's own host and scheme: a link elsewhere would carry our token away.
func list[T any](ctx context.Context, c *Client, first *url.URL, what string) ([]T, error) {
	var all []T
	next := first
	for n := 0; next != nil; n++ {
		if n == maxPages {
			return all, apperr.New(apperr.Internal, "Microsoft Graph's "+what+" list has too many pages.")
		}
		var p page[T]
		if err := c.get(ctx, next, "application/json", what, func(r *http.Response) error { return decodeJSON(r, &p, what) }); err != nil {
			return nil, err
		}
		all = append(all, p.Value...)
		next = nil
		if p.NextLink != "" {
			u, err := url.Parse(p.NextLink)
			if err != nil || u.Scheme != c.base.Scheme || u.Host != c.base.Host {
				return nil, apperr.New(apperr.Internal, "Microsoft Graph's next page link points outside Microsoft Graph; not followed.")
			}
			next = u
		}
	}
	return all, nil
}
