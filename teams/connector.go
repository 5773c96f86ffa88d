package teams

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/internal/httpretry"
)

// ConnectorConfig configures the client for the Bot Connector REST API.
type ConnectorConfig struct {
	// TokenSource provides the bot token. Nil sends no Authorization header, which is
	// only right for the Agents Playground.
	TokenSource oauth2.TokenSource
	HTTPClient  *http.Client
	Timeout     time.Duration // per attempt; default 15s
	// MaxRetries is the number of retries after the first attempt; default 3, and a
	// negative value means none.
	MaxRetries int
	// MaxBackoff caps the wait between attempts; default 8s. A Retry-After longer
	// than this is not waited for: the call fails as RateLimited with RetryAfter set,
	// so the caller can decide instead of holding a goroutine.
	MaxBackoff time.Duration
	Logger     *slog.Logger
}

// Connector sends activities to a conversation through the Bot Connector API at the
// activity's serviceUrl. It is safe for concurrent use.
type Connector struct {
	ts         oauth2.TokenSource
	client     *http.Client
	timeout    time.Duration
	maxRetries int
	maxBackoff time.Duration
	log        *slog.Logger
	sleep      func(ctx context.Context, d time.Duration) error
}

// ConnectorError is the connector's own answer to a failed call, kept as the Cause of
// the *apperr.Error a call returns.
type ConnectorError struct {
	Status  int
	Code    string
	Message string
}

func (e *ConnectorError) Error() string {
	s := "connector: status " + strconv.Itoa(e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// NewConnector returns a connector client.
func NewConnector(cfg ConnectorConfig) *Connector {
	c := &Connector{
		ts:         cfg.TokenSource,
		client:     cfg.HTTPClient,
		timeout:    cfg.Timeout,
		maxRetries: cfg.MaxRetries,
		maxBackoff: cfg.MaxBackoff,
		log:        cfg.Logger,
		sleep:      httpretry.SleepCtx,
	}
	if c.client == nil {
		c.client = &http.Client{}
	}
	if c.timeout <= 0 {
		c.timeout = 15 * time.Second
	}
	if c.maxRetries == 0 {
		c.maxRetries = 3
	} else if c.maxRetries < 0 {
		c.maxRetries = 0
	}
	if c.maxBackoff <= 0 {
		c.maxBackoff = 8 * time.Second
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c
}

// segment escapes a path segment the way the Bot Framework SDKs do
// (encodeURIComponent): Teams ids contain ':', '@' and ';', and a ';' left raw
// would be read as a path parameter.
func segment(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

func baseURL(serviceURL string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(serviceURL))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", apperr.New(apperr.Invalid, "The conversation's service URL is not valid.")
	}
	return strings.TrimRight(u.String(), "/"), nil
}

func activitiesURL(serviceURL, conversationID string, more ...string) (string, error) {
	base, err := baseURL(serviceURL)
	if err != nil {
		return "", err
	}
	if conversationID == "" {
		return "", apperr.New(apperr.Invalid, "The conversation id is missing.")
	}
	u := base + "/v3/conversations/" + segment(conversationID) + "/activities"
	for _, m := range more {
		if m == "" {
			return "", apperr.New(apperr.Invalid, "The activity id is missing.")
		}
		u += "/" + segment(m)
	}
	return u, nil
}

type idBody struct {
	ID string `json:"id"`
}

// SendToConversation posts act as a new message in the conversation. The id is ""
// when the connector answers 202 without a body (text and attachments together).
func (c *Connector) SendToConversation(ctx context.Context, serviceURL, conversationID string, act *Activity) (string, error) {
	u, err := activitiesURL(serviceURL, conversationID)
	if err != nil {
		return "", err
	}
	return c.postActivity(ctx, "activities.send", u, conversationID, act)
}

// ReplyToActivity posts act in reply to replyToID (a thread reply in channels).
func (c *Connector) ReplyToActivity(ctx context.Context, serviceURL, conversationID, replyToID string, act *Activity) (string, error) {
	u, err := activitiesURL(serviceURL, conversationID, replyToID)
	if err != nil {
		return "", err
	}
	if act != nil && act.ReplyToID == "" {
		cp := *act
		cp.ReplyToID = replyToID
		act = &cp
	}
	return c.postActivity(ctx, "activities.reply", u, conversationID, act)
}

func (c *Connector) postActivity(ctx context.Context, op, u, conversationID string, act *Activity) (string, error) {
	body, err := encodeActivity(act, conversationID)
	if err != nil {
		return "", err
	}
	var out idBody
	if err := c.do(ctx, op, http.MethodPost, u, body, &out); err != nil {
		return "", err
	}
	return out.ID, nil
}

func encodeActivity(act *Activity, conversationID string) ([]byte, error) {
	if act == nil {
		return nil, apperr.New(apperr.Invalid, "There is no message to send.")
	}
	cp := *act
	if cp.Type == "" {
		cp.Type = ActivityMessage
	}
	if cp.Conversation.ID == "" {
		cp.Conversation.ID = conversationID
	}
	b, err := json.Marshal(&cp)
	if err != nil {
		return nil, apperr.Wrap(apperr.Internal, "The message could not be encoded.", err)
	}
	return b, nil
}

// UpdateActivity replaces a message the bot sent earlier, for everyone.
func (c *Connector) UpdateActivity(ctx context.Context, serviceURL, conversationID, activityID string, act *Activity) error {
	u, err := activitiesURL(serviceURL, conversationID, activityID)
	if err != nil {
		return err
	}
	if act != nil && act.ID == "" {
		cp := *act
		cp.ID = activityID
		act = &cp
	}
	body, err := encodeActivity(act, conversationID)
	if err != nil {
		return err
	}
	return c.do(ctx, "activities.update", http.MethodPut, u, body, nil)
}

// ConversationParameters starts a conversation. For a 1:1 chat with a user: Members
// holds the user (Teams id or AADObjectID), TenantID the tenant.
type ConversationParameters struct {
	IsGroup     bool             `json:"isGroup"`
	Bot         ChannelAccount   `json:"bot,omitzero"`
	Members     []ChannelAccount `json:"members,omitempty"`
	TenantID    string           `json:"tenantId,omitempty"`
	ChannelData any              `json:"channelData,omitempty"`
}

// CreateConversation opens a conversation (typically a 1:1 chat) and returns its id.
// Teams refuses it with 403 (Forbidden) when the user has not installed the app.
func (c *Connector) CreateConversation(ctx context.Context, serviceURL string, p ConversationParameters) (string, error) {
	base, err := baseURL(serviceURL)
	if err != nil {
		return "", err
	}
	if len(p.Members) == 0 {
		return "", apperr.New(apperr.Invalid, "A conversation needs at least one member.")
	}
	if p.ChannelData == nil && p.TenantID != "" {
		// Teams reads the tenant from channelData; other channels from tenantId.
		p.ChannelData = map[string]any{"tenant": map[string]string{"id": p.TenantID}}
	}
	body, err := json.Marshal(p)
	if err != nil {
		return "", apperr.Wrap(apperr.Internal, "The conversation could not be encoded.", err)
	}
	var out idBody
	if err := c.do(ctx, "conversations.create", http.MethodPost, base+"/v3/conversations", body, &out); err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", apperr.New(apperr.Unavailable, "Teams did not return the new conversation.")
	}
	return out.ID, nil
}

const maxConnectorResponse = 1 << 20

// retryStatus says whether an answer may be retried. Throttling (429, 412) and
// gateway errors (502, 504) are retried on every call, as Teams asks; other 5xx
// only on PUT and DELETE, because a POST that reached Teams and failed late may
// already have posted, and a duplicate message is worse than an error.
func retryStatus(status int, idempotent bool) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusPreconditionFailed, http.StatusBadGateway, http.StatusGatewayTimeout:
		return true
	}
	return status >= 500 && idempotent
}

// policy is the connector's: MaxBackoff caps both the backoff and the
// Retry-After waited for inside a call.
func (c *Connector) policy() httpretry.Policy {
	return httpretry.Policy{
		Retries: c.maxRetries, Base: 500 * time.Millisecond, Cap: c.maxBackoff, MaxRetryAfter: c.maxBackoff,
		RetryStatus: retryStatus, Sleep: c.sleep,
		OnRetry: func(name string, attempt int, wait time.Duration, err error) {
			c.log.Info("connector call retried", "operation", name, "attempt", attempt, "wait", wait, "err", err)
		},
	}
}

// do sends one call; only POST is not idempotent (a new message each time).
func (c *Connector) do(ctx context.Context, op, method, u string, body []byte, out any) error {
	call := httpretry.Call{Name: op, Idempotent: method != http.MethodPost}
	return c.policy().Do(ctx, call, func(actx context.Context) httpretry.Outcome {
		status, hdr, respBody, err := c.attempt(actx, method, u, body)
		if err != nil {
			if ctx.Err() != nil {
				return httpretry.Outcome{Err: apperr.Wrap(apperr.Unavailable, "Teams did not answer in time.", err), Final: true}
			}
			var ae *apperr.Error
			if errors.As(err, &ae) {
				return httpretry.Outcome{Err: err, Final: true} // token failure: already classified, retrying will not help
			}
			return httpretry.Outcome{Err: apperr.Wrap(apperr.Unavailable, "Teams could not be reached.", err)}
		}
		if status < 200 || status >= 300 {
			cerr := connectorError(status, hdr, respBody)
			return httpretry.Outcome{Err: cerr, Status: status, RetryAfter: apperr.RetryAfterOf(cerr)}
		}
		if out != nil && status != http.StatusAccepted && len(bytes.TrimSpace(respBody)) > 0 {
			if err := json.Unmarshal(respBody, out); err != nil {
				// The call succeeded; an odd body must not make the caller resend.
				c.log.Warn("connector answer not understood", "operation", op, "status", status, "err", err)
			}
		}
		return httpretry.Outcome{}
	})
}

func (c *Connector) attempt(ctx context.Context, method, u string, body []byte) (int, http.Header, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, nil, apperr.Wrap(apperr.Invalid, "The conversation address is not valid.", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	req.Header.Set("Accept", "application/json")
	if c.ts != nil {
		tok, err := c.ts.Token()
		if err != nil {
			var ae *apperr.Error
			if errors.As(err, &ae) {
				return 0, nil, nil, err
			}
			return 0, nil, nil, apperr.Wrap(apperr.Unavailable, "Could not get a token for Teams.", err)
		}
		tok.SetAuthHeader(req)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxConnectorResponse))
	if err != nil && resp.StatusCode < 300 {
		// We know it worked; the id is lost but the message is there.
		return resp.StatusCode, resp.Header, nil, nil
	}
	return resp.StatusCode, resp.Header, b, nil
}

func connectorError(status int, hdr http.Header, body []byte) error {
	ce := &ConnectorError{Status: status}
	var eb struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &eb) == nil {
		ce.Code, ce.Message = eb.Error.Code, eb.Error.Message
	}
	if len(ce.Message) > 500 {
		ce.Message = ce.Message[:500]
	}
	e := &apperr.Error{Cause: ce}
	switch {
	case status == http.StatusBadRequest:
		e.Kind, e.Message = apperr.Invalid, "Teams refused the message."
	case status == http.StatusUnauthorized:
		e.Kind, e.Message = apperr.Internal, "Teams refused the bot's credentials."
	case status == http.StatusForbidden:
		e.Kind, e.Message = apperr.Forbidden, "Teams does not let the bot post there. Is the app installed?"
	case status == http.StatusNotFound:
		e.Kind, e.Message = apperr.NotFound, "The conversation or message no longer exists."
	case status == http.StatusTooManyRequests || status == http.StatusPreconditionFailed:
		e.Kind, e.Message = apperr.RateLimited, "Teams is busy. Please try again shortly."
		e.RetryAfter = httpretry.ParseRetryAfter(hdr.Get("Retry-After"), time.Now())
	case status >= 500:
		e.Kind, e.Message = apperr.Unavailable, "Teams is unavailable. Please try again shortly."
		e.RetryAfter = httpretry.ParseRetryAfter(hdr.Get("Retry-After"), time.Now())
	default:
		e.Kind, e.Message = apperr.Internal, fmt.Sprintf("Teams answered with an unexpected status %d.", status)
	}
	return e
}
