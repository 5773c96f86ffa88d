package devops

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/sally-devops/devopsbot/apperr"
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
	c := &Client{org: org, ts: ts, hc: opt.HTTPClient, retries: opt.MaxRetries, log: opt.Logger, timeout: opt.Timeout, sleep: sleepCtx}
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
	method      string
	url         string // absolute, without api-version
	apiVersion  string
	query       url.Values
	body        any
	contentType string
	// idempotent reads may be retried; writes never are, because a lost answer
	// does not mean a lost write.
	idempotent bool
}

func (c *Client) do(ctx context.Context, r request, out any) error {
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
	attempts := 1
	if r.idempotent {
		attempts += c.retries
	}
	var last error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			wait := backoff(i)
			if ra := apperr.RetryAfterOf(last); ra > 0 {
				wait = ra
			}
			if wait > maxRetryWait {
				return last
			}
			if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
				return last
			}
			if err := c.sleep(ctx, wait); err != nil {
				return last
			}
		}
		retry, err := c.attempt(ctx, r, u, payload, out)
		if err == nil {
			return nil
		}
		last = err
		if !retry || ctx.Err() != nil {
			return err
		}
		c.log.Debug("azure devops read failed, retrying", "method", r.method, "path", redactPath(r.url), "attempt", i+1, "err", err)
	}
	return last
}

func backoff(i int) time.Duration {
	d := time.Duration(250<<(i-1)) * time.Millisecond
	return d + time.Duration(rand.Int64N(int64(d/2)+1))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// redactPath keeps logs free of query strings (which may hold search text).
func redactPath(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i]
	}
	return u
}

// attempt sends one request; retry says whether a read may try again.
func (c *Client) attempt(ctx context.Context, r request, u string, payload []byte, out any) (retry bool, err error) {
	tok, err := c.ts.Token()
	if err != nil {
		var ae *apperr.Error
		if errors.As(err, &ae) {
			return false, err
		}
		return false, apperr.Wrap(apperr.Unavailable, "Could not refresh your Azure DevOps sign-in. Please try again shortly.", err)
	}
	if tok == nil || tok.AccessToken == "" {
		return false, apperr.New(apperr.Unauthorized, errSignIn)
	}
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(actx, r.method, u, body)
	if err != nil {
		return false, apperr.Wrap(apperr.Internal, "", err)
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
			return false, apperr.Wrap(apperr.Unavailable, "Azure DevOps took too long to answer. Please try again.", ctx.Err())
		}
		// The URL in a *url.Error holds no secret, but strip it anyway to keep logs short.
		return true, apperr.Wrap(apperr.Unavailable, "Azure DevOps could not be reached. Please try again shortly.", errors.Unwrap(err))
	}
	defer resp.Body.Close()
	data, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if rerr != nil {
		return true, apperr.Wrap(apperr.Unavailable, "Azure DevOps could not be reached. Please try again shortly.", rerr)
	}
	if ra := resp.Header.Get("Retry-After"); ra != "" && resp.StatusCode < 300 {
		// Azure DevOps warns before it throttles; worth seeing in the logs.
		c.log.Warn("azure devops asks to slow down", "retryAfter", ra, "path", redactPath(r.url))
	}
	return classify(resp, data, out)
}

func isJSON(h http.Header) bool {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// classify turns a response into out or an *apperr.Error, and says whether a read may retry.
func classify(resp *http.Response, data []byte, out any) (bool, error) {
	st := resp.StatusCode
	if st == http.StatusNonAuthoritativeInfo {
		return false, apperr.Wrap(apperr.Unauthorized, errSignIn, &APIError{Status: st, Message: "sign-in page instead of data"})
	}
	if st >= 200 && st < 300 {
		if hc, ok := out.(*headerCapture); ok {
			*hc.hdr = resp.Header
			out = hc.into
		}
		if out == nil {
			return false, nil
		}
		if !isJSON(resp.Header) {
			return false, apperr.Wrap(apperr.Unauthorized, errSignIn, &APIError{Status: st, Message: "non-JSON answer (" + resp.Header.Get("Content-Type") + ")"})
		}
		if err := json.Unmarshal(data, out); err != nil {
			return false, apperr.Wrap(apperr.Unavailable, "Azure DevOps sent an answer we could not read.", err)
		}
		return false, nil
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
	wrap := func(k apperr.Kind, m string) (bool, error) {
		e := apperr.Wrap(k, m, ae)
		e.Code = code
		return false, e
	}
	switch {
	case st == http.StatusUnauthorized:
		return false, apperr.Wrap(apperr.Unauthorized, errSignIn, ae)
	case st == http.StatusForbidden:
		return wrap(apperr.Forbidden, orDefault(msg, "You do not have permission to do that in Azure DevOps."))
	case st == http.StatusNotFound:
		return wrap(apperr.NotFound, orDefault(msg, "That was not found in Azure DevOps, or you cannot see it."))
	case st == http.StatusConflict:
		return wrap(apperr.Conflict, orDefault(msg, "Azure DevOps reports a conflict. Please try again."))
	case st == http.StatusTooManyRequests:
		e := apperr.Wrap(apperr.RateLimited, "Azure DevOps asks us to slow down. Please try again shortly.", ae)
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"))
		return true, e
	case st >= 500 || st == http.StatusRequestTimeout:
		e := apperr.Wrap(apperr.Unavailable, "Azure DevOps is unavailable right now. Please try again shortly.", ae)
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"))
		return st != http.StatusNotImplemented, e
	case st >= 400:
		return wrap(apperr.Invalid, orDefault(msg, "Azure DevOps refused the request."))
	default:
		return false, apperr.Wrap(apperr.Unavailable, "Azure DevOps sent an unexpected answer.", ae)
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

func retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		if n < 0 || n > 3600 {
			return 0
		}
		return time.Duration(n * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 && d < time.Hour {
			return d
		}
	}
	return 0
}
