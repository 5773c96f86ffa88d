package devops

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"golang.org/x/oauth2"

	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/internal/httpretry"
)

// Hosts are the service roots. Tests point them at a fake; production uses DefaultHosts.
type Hosts struct {
	Dev   string // https://dev.azure.com
	VSSPS string // https://vssps.dev.azure.com
}

// DefaultHosts are Azure DevOps Services' public hosts.
var DefaultHosts = Hosts{Dev: "https://dev.azure.com", VSSPS: "https://vssps.dev.azure.com"}

// Options tune a Client. Zero values pick safe defaults.
type Options struct {
	HTTPClient *http.Client  // default: a client with no overall timeout (Timeout below applies per attempt)
	Hosts      Hosts         // default DefaultHosts
	MaxRetries int           // retries of reads after 429/5xx/network errors; default 3, negative means none
	Logger     *slog.Logger  // default: discard
	Timeout    time.Duration // per attempt; default 15s
}

const (
	apiVersion        = "7.1"
	commentAPIVersion = "7.1-preview.4"
	// maxRetryWait caps how long a read waits for Retry-After; beyond it the
	// user is better served by a "try again shortly" than by a spinner.
	maxRetryWait = 30 * time.Second
	maxBody      = 8 << 20
)

// Client calls Azure DevOps for one user in one organization with that user's token.
type Client struct {
	org     Org
	base    string // collection URL
	vssps   string // identity host URL for the org
	ts      oauth2.TokenSource
	hc      *http.Client
	retries int
	log     *slog.Logger
	timeout time.Duration
	// sleep waits between retries; tests replace it to observe waits without sleeping.
	sleep func(ctx context.Context, d time.Duration) error
}

// NewClient returns a client for org acting as the owner of ts.
func NewClient(org Org, ts oauth2.TokenSource, opt Options) *Client {
	c := &Client{org: org, ts: ts, hc: opt.HTTPClient, retries: opt.MaxRetries, log: opt.Logger, timeout: opt.Timeout, sleep: httpretry.SleepCtx}
	if c.hc == nil {
		c.hc = &http.Client{}
	}
	if c.retries == 0 {
		c.retries = 3
	} else if c.retries < 0 {
		c.retries = 0
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.timeout <= 0 {
		c.timeout = 15 * time.Second
	}
	hosts := opt.Hosts
	if hosts.Dev == "" {
		hosts.Dev = DefaultHosts.Dev
	}
	if hosts.VSSPS == "" {
		hosts.VSSPS = DefaultHosts.VSSPS
	}
	hosts.Dev = strings.TrimRight(hosts.Dev, "/")
	hosts.VSSPS = strings.TrimRight(hosts.VSSPS, "/")
	if org.Legacy() && hosts.Dev == DefaultHosts.Dev && org.URL != "" {
		c.base = org.URL
	} else {
		c.base = hosts.Dev + "/" + url.PathEscape(org.Name)
	}
	c.vssps = hosts.VSSPS + "/" + url.PathEscape(org.Name)
	return c
}

// Org returns the organization this client talks to.
func (c *Client) Org() Org { return c.org }

// APIError is what Azure DevOps said, kept as the cause of an *apperr.Error for logs.
type APIError struct {
	Status    int
	TypeKey   string
	Message   string
	ErrorCode int
}

func (e *APIError) Error() string {
	return fmt.Sprintf("azure devops: HTTP %d %s: %s", e.Status, e.TypeKey, e.Message)
}

// ErrNeedsReconnect means the stored refresh token no longer works (revoked,
// expired, password changed, consent withdrawn): only a new sign-in helps. The
// bot answers with it too for a connection already marked so, so there is one
// error (and one message) for "sign in again".
var ErrNeedsReconnect = apperr.New(apperr.Unauthorized, "Your Azure DevOps sign-in has expired or was revoked. Please connect again.")

var errSignIn = "Azure DevOps did not accept your sign-in. Please connect again."

// request describes one REST call.
type request struct {
	op          string // the operation's name, for metrics and logs (see httpretry.Name)
	method      string
	url         string // absolute, without api-version
	apiVersion  string
	query       url.Values
	body        any
	contentType string
	// idempotent reads (and queries sent as POST) may be retried; a write is
	// sent again only when it never left (see httpretry), because a lost
	// answer does not mean a lost write.
	idempotent bool
}

func (c *Client) do(ctx context.Context, r request, out any) error {
	if r.op == "" {
		// Every call is named for metrics; an unnamed one is a mistake the
		// first test that makes it should show, not a silent "other".
		return apperr.Wrap(apperr.Internal, "", errors.New("azure devops request without an operation name: "+redactPath(r.url)))
	}
	q := url.Values{}
	for k, v := range r.query {
		q[k] = v
	}
	q.Set("api-version", r.apiVersion)
	u := r.url + "?" + q.Encode()
	var payload []byte
	if r.body != nil {
		var err error
		if payload, err = json.Marshal(r.body); err != nil {
			return apperr.Wrap(apperr.Internal, "", err)
		}
	}
	return c.policy().Do(ctx, httpretry.Call{Name: r.op, Idempotent: r.idempotent}, func(ctx context.Context) httpretry.Outcome {
		return c.attempt(ctx, r, u, payload, out)
	})
}

// policy is how Azure DevOps calls retry: reads (and queries the caller marks
// idempotent) on throttling, timeouts and server errors other than 501, with a
// Retry-After of up to maxRetryWait; a write only when it never left.
func (c *Client) policy() httpretry.Policy {
	return httpretry.Policy{
		Retries: c.retries, Base: 500 * time.Millisecond, Cap: maxRetryWait, MaxRetryAfter: maxRetryWait,
		RetryStatus: func(st int, idempotent bool) bool {
			return idempotent && (st == http.StatusTooManyRequests || st == http.StatusRequestTimeout || st >= 500 && st != http.StatusNotImplemented)
		},
		Sleep: c.sleep,
		OnRetry: func(name string, attempt int, wait time.Duration, err error) {
			c.log.Debug("azure devops call failed, retrying", "operation", name, "attempt", attempt, "wait", wait, "err", err)
		},
	}
}

// redactPath keeps logs free of query strings (which may hold search text).
func redactPath(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i]
	}
	return u
}

// attempt sends one request and reads its answer into out.
func (c *Client) attempt(ctx context.Context, r request, u string, payload []byte, out any) httpretry.Outcome {
	tok, err := c.ts.Token()
	if err != nil {
		var ae *apperr.Error
		if errors.As(err, &ae) {
			return final(err)
		}
		return final(apperr.Wrap(apperr.Unavailable, "Could not refresh your Azure DevOps sign-in. Please try again shortly.", err))
	}
	if tok == nil || tok.AccessToken == "" {
		return final(apperr.New(apperr.Unauthorized, errSignIn))
	}
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(actx, r.method, u, body)
	if err != nil {
		return final(apperr.Wrap(apperr.Internal, "", err))
	}
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-TFS-FedAuthRedirect", "Suppress")
	if payload != nil {
		ct := r.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return final(apperr.Wrap(apperr.Unavailable, "Azure DevOps took too long to answer. Please try again.", ctx.Err()))
		}
		// The URL in a *url.Error holds no secret, but strip it anyway to keep logs short.
		return httpretry.Outcome{Err: apperr.Wrap(apperr.Unavailable, "Azure DevOps could not be reached. Please try again shortly.", errors.Unwrap(err))}
	}
	defer resp.Body.Close()
	data, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if rerr != nil {
		return httpretry.Outcome{Err: apperr.Wrap(apperr.Unavailable, "Azure DevOps could not be reached. Please try again shortly.", rerr)}
	}
	if ra := resp.Header.Get("Retry-After"); ra != "" && resp.StatusCode < 300 {
		// Azure DevOps warns before it throttles; worth seeing in the logs.
		c.log.Warn("azure devops asks to slow down", "retryAfter", ra, "path", redactPath(r.url))
	}
	err = classify(resp, data, out)
	return httpretry.Outcome{Err: err, Status: resp.StatusCode, RetryAfter: apperr.RetryAfterOf(err)}
}

// final is a failure no retry can mend.
func final(err error) httpretry.Outcome { return httpretry.Outcome{Err: err, Final: true} }

func isJSON(h http.Header) bool {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// classify turns a response into out or an *apperr.Error. Whether it may be
// retried is the policy's to say, from the status.
func classify(resp *http.Response, data []byte, out any) error {
	st := resp.StatusCode
	if st == http.StatusNonAuthoritativeInfo {
		return apperr.Wrap(apperr.Unauthorized, errSignIn, &APIError{Status: st, Message: "sign-in page instead of data"})
	}
	if st >= 200 && st < 300 {
		if hc, ok := out.(*headerCapture); ok {
			*hc.hdr = resp.Header
			out = hc.into
		}
		if out == nil {
			return nil
		}
		if !isJSON(resp.Header) {
			return apperr.Wrap(apperr.Unauthorized, errSignIn, &APIError{Status: st, Message: "non-JSON answer (" + resp.Header.Get("Content-Type") + ")"})
		}
		if err := json.Unmarshal(data, out); err != nil {
			return apperr.Wrap(apperr.Unavailable, "Azure DevOps sent an answer we could not read.", err)
		}
		return nil
	}
	ae := &APIError{Status: st}
	if isJSON(resp.Header) {
		var e struct {
			Message   string `json:"message"`
			TypeKey   string `json:"typeKey"`
			ErrorCode int    `json:"errorCode"`
		}
		if json.Unmarshal(data, &e) == nil {
			ae.Message, ae.TypeKey, ae.ErrorCode = e.Message, e.TypeKey, e.ErrorCode
		}
	}
	msg, code := plainMessage(ae.Message)
	wrap := func(k apperr.Kind, m string) error {
		e := apperr.Wrap(k, m, ae)
		e.Code = code
		return e
	}
	switch {
	case st == http.StatusUnauthorized:
		return apperr.Wrap(apperr.Unauthorized, errSignIn, ae)
	case st == http.StatusForbidden:
		return wrap(apperr.Forbidden, orDefault(msg, "You do not have permission to do that in Azure DevOps."))
	case st == http.StatusNotFound:
		return wrap(apperr.NotFound, orDefault(msg, "That was not found in Azure DevOps, or you cannot see it."))
	case st == http.StatusConflict:
		return wrap(apperr.Conflict, orDefault(msg, "Azure DevOps reports a conflict. Please try again."))
	case st == http.StatusTooManyRequests:
		e := apperr.Wrap(apperr.RateLimited, "Azure DevOps asks us to slow down. Please try again shortly.", ae)
		e.RetryAfter = httpretry.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		return e
	case st >= 500 || st == http.StatusRequestTimeout:
		e := apperr.Wrap(apperr.Unavailable, "Azure DevOps is unavailable right now. Please try again shortly.", ae)
		e.RetryAfter = httpretry.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		return e
	case st >= 400:
		return wrap(apperr.Invalid, orDefault(msg, "Azure DevOps refused the request."))
	default:
		return apperr.Wrap(apperr.Unavailable, "Azure DevOps sent an unexpected answer.", ae)
	}
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// userText trims Azure DevOps' message to something fit for a card. Its
// messages (TF401320 rule errors, invalid tree names) are what users need to
// fix their input, so they are passed on, but bounded.
func userText(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, strings.TrimSpace(s))
	if len([]rune(s)) > 400 {
		s = string([]rune(s)[:399]) + "…"
	}
	return s
}

func (c *Client) url(parts ...string) string {
	var b strings.Builder
	b.WriteString(c.base)
	for _, p := range parts {
		b.WriteByte('/')
		b.WriteString(p)
	}
	return b.String()
}

func (c *Client) get(ctx context.Context, op, u string, q url.Values, out any) error {
	return c.do(ctx, request{op: op, method: http.MethodGet, url: u, apiVersion: apiVersion, query: q, idempotent: true}, out)
}

func checkProject(project string) error {
	if strings.TrimSpace(project) == "" || len(project) > 256 || strings.ContainsAny(project, "/\\?#%") || hasControl(project) {
		return apperr.New(apperr.Invalid, "Please pick an Azure DevOps project.")
	}
	return nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}
