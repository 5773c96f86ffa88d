package bot

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/summary"
	"github.com/sally-devops/devopsbot/teams"
)

const webhookTolerance = 5 * time.Minute

// ParseWebhookSecret decodes a Standard Webhooks secret ("whsec_<base64>").
func ParseWebhookSecret(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "whsec_")
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(key) < 16 {
		return nil, errors.New("SUMMARY_WEBHOOK_SECRET must be whsec_ followed by at least 16 bytes in base64")
	}
	return key, nil
}

// verifyWebhook checks a Standard Webhooks signature: HMAC-SHA256 over
// "{id}.{timestamp}.{body}", any one of the space-separated v1 signatures, and a
// timestamp within five minutes.
func verifyWebhook(key []byte, h http.Header, body []byte, now time.Time) error {
	id := h.Get("webhook-id")
	ts := h.Get("webhook-timestamp")
	sigs := h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing webhook-id, webhook-timestamp or webhook-signature header")
	}
	if len(id) > 256 {
		return errors.New("webhook-id is too long")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("webhook-timestamp is not a Unix time in seconds")
	}
	sent := time.Unix(sec, 0)
	if d := now.Sub(sent); d > webhookTolerance || d < -webhookTolerance {
		return errors.New("webhook-timestamp is more than 5 minutes off")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		v, sig, ok := strings.Cut(s, ",")
		if !ok || v != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err != nil {
			continue
		}
		if hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no valid v1 signature")
}

type jsonError struct {
	Error    string            `json:"error"`
	Message  string            `json:"message"`
	Problems []summary.Problem `json:"problems,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) []byte {
	body, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return body
}

// deliveryResult is the answer to a summary delivery.
type deliveryResult struct {
	Accepted    bool                `json:"accepted"`
	SummaryID   string              `json:"summaryId,omitempty"`
	DryRun      bool                `json:"dryRun,omitempty"`
	Duplicate   bool                `json:"duplicate,omitempty"`
	Insights    []devopsbot.Insight `json:"insights"`
	Delivered   []string            `json:"deliveredTo,omitempty"`
	Targets     []targetState       `json:"targets,omitempty"`
	Status      string              `json:"status,omitempty"` // where to GET the delivery state
	Unreachable []unreachable       `json:"unreachable,omitempty"`
}

// targetState is where one chat's delivery stands.
type targetState struct {
	ConversationID string    `json:"conversationId"`
	SummaryID      string    `json:"summaryId"`
	State          string    `json:"state"` // pending, posted, failed
	Attempts       int       `json:"attempts"`
	Reason         string    `json:"reason,omitempty"`
	NextAttemptAt  time.Time `json:"nextAttemptAt,omitzero"`
	Cards          int       `json:"cards"`
}

func stateOf(d *devopsbot.Delivery) targetState {
	t := targetState{ConversationID: d.ConversationID, SummaryID: d.SummaryID, State: string(d.State), Attempts: d.Attempts,
		Reason: d.Reason, Cards: len(d.ActivityIDs)}
	if d.State == devopsbot.DeliveryPending {
		t.NextAttemptAt = d.NextAttemptAt
	}
	return t
}

type unreachable struct {
	Target string `json:"target"`
	Reason string `json:"reason"`
}

// replayable reports whether a webhook answer may be replayed to a retry with
// the same webhook-id: only one that a retry cannot change. Acceptance and
// answers about the payload itself are; "not installed", "unreachable",
// "unavailable" depend on the state of the world, and a sender retries exactly
// because the first attempt failed.
func replayable(status int, errCode string) bool {
	if status >= 200 && status < 300 {
		return true
	}
	switch errCode {
	case "bad_request", "invalid_summary", "conflict", "too_large", "unsupported_media_type":
		return true
	}
	return false
}

// webhookReady answers a request with the wrong method, or one that arrives
// while summary delivery is not configured, and reports whether to go on.
func (b *Bot) webhookReady(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method != method {
		w.Header().Set("Allow", method)
		writeJSON(w, http.StatusMethodNotAllowed, jsonError{Error: "method_not_allowed", Message: "Use " + method + "."})
		return false
	}
	if b.cfg.WebhookSecret == nil {
		writeJSON(w, http.StatusServiceUnavailable, jsonError{Error: "not_configured", Message: "Summary delivery is not configured on this bot (SUMMARY_WEBHOOK_SECRET)."})
		return false
	}
	return true
}

// serveSummaries accepts a meeting summary from a meeting-notes service.
func (b *Bot) serveSummaries(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !b.webhookReady(w, r, http.MethodPost) {
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		writeJSON(w, http.StatusUnsupportedMediaType, jsonError{Error: "unsupported_media_type", Message: "Send application/json."})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, summary.MaxDeliveryBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeJSON(w, http.StatusRequestEntityTooLarge, jsonError{Error: "too_large", Message: fmt.Sprintf("The summary is larger than %d MiB.", summary.MaxDeliveryBytes>>20)})
			return
		}
		writeJSON(w, http.StatusBadRequest, jsonError{Error: "bad_request", Message: "Could not read the request body."})
		return
	}
	if err := verifyWebhook(b.cfg.WebhookSecret, r.Header, body, b.now()); err != nil {
		teams.Logger(ctx).WarnContext(ctx, "refused a summary delivery", "reason", err.Error())
		writeJSON(w, http.StatusUnauthorized, jsonError{Error: "unauthorized", Message: "Invalid webhook signature: " + err.Error()})
		return
	}
	dryRun := r.URL.Query().Get("dryRun") == "true"
	d, err := summary.DecodeDelivery(body)
	if err != nil {
		var ve *summary.ValidationError
		if errors.As(err, &ve) {
			writeJSON(w, http.StatusUnprocessableEntity, jsonError{Error: "invalid_summary", Message: "The summary is not valid.", Problems: ve.Problems})
			return
		}
		writeJSON(w, http.StatusBadRequest, jsonError{Error: "bad_request", Message: apperr.UserMessage(err)})
		return
	}
	if dryRun {
		writeJSON(w, http.StatusOK, deliveryResult{DryRun: true, Insights: d.Insights})
		return
	}
	hookID := r.Header.Get("webhook-id")
	// Senders retry with the same webhook-id: a repeat gets the first answer when
	// that answer cannot change (see replayable). Two copies racing are both
	// safe: InsertSummary and CreateDelivery let one record through.
	if status, saved, found, err := b.replies.LookupWebhook(ctx, hookID); err != nil {
		w.Header().Set("Retry-After", "30")
		writeJSON(w, http.StatusServiceUnavailable, errUnavailable)
		return
	} else if found {
		w.Header().Set("Content-Type", "application/json")
		if status == http.StatusAccepted {
			w.Header().Set("Location", statusPath(d.ID))
		}
		w.WriteHeader(status)
		_, _ = w.Write(saved)
		return
	}
	status, answer, code := b.answerDelivery(ctx, d)
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "30") // the database is back within seconds to minutes
	}
	if res, ok := answer.(*deliveryResult); ok {
		w.Header().Set("Location", res.Status)
	}
	out := writeJSON(w, status, answer)
	if !replayable(status, code) {
		return // computed again on a retry
	}
	if _, _, _, err := b.replies.RememberWebhook(context.WithoutCancel(ctx), hookID, status, out); err != nil {
		teams.Logger(ctx).WarnContext(ctx, "could not remember a webhook answer", "err", err)
	}
}

// refusalStatus is the HTTP status of each intake refusal: the payload is fine
// but cannot be delivered as it is (422), was delivered before with other
// content (409), or the bot cannot take it now (503).
var refusalStatus = map[string]int{
	refusedNotInstalled: http.StatusUnprocessableEntity,
	refusedUnreachable:  http.StatusUnprocessableEntity,
	refusedNotDelivered: http.StatusUnprocessableEntity,
	refusedConflict:     http.StatusConflict,
	refusedUnavailable:  http.StatusServiceUnavailable,
}

// answerDelivery takes a decoded summary in and says how the webhook answers:
// the status, the JSON body and, for a refusal, its error code.
func (b *Bot) answerDelivery(ctx context.Context, d *summary.Delivery) (int, any, string) {
	out, err := b.takeInDelivery(ctx, d)
	if err != nil {
		var r *intakeRefusal
		if !errors.As(err, &r) {
			r = errIntakeUnavailable
		}
		status, ok := refusalStatus[r.Code]
		if !ok {
			status = http.StatusServiceUnavailable
		}
		return status, jsonError{Error: r.Code, Message: r.Message}, r.Code
	}
	res := &deliveryResult{Accepted: true, SummaryID: out.SummaryID, Duplicate: out.Duplicate, Insights: d.Insights,
		Status: statusPath(d.ID), Unreachable: out.Unreachable}
	for _, dl := range out.Targets {
		res.Targets = append(res.Targets, stateOf(dl))
		if dl.State == devopsbot.DeliveryPosted {
			res.Delivered = append(res.Delivered, dl.ConversationID)
		}
	}
	return http.StatusAccepted, res, ""
}

func statusPath(sourceID string) string { return "/api/summaries/" + url.PathEscape(sourceID) }

var errUnavailable = &jsonError{Error: refusedUnavailable, Message: errIntakeUnavailable.Message}

// serveSummaryStatus answers GET /api/summaries/{id}: each target chat's
// delivery state. It is signed like the webhook (Standard Webhooks headers
// over an empty body): delivery states name chats.
func (b *Bot) serveSummaryStatus(w http.ResponseWriter, r *http.Request) {
	if !b.webhookReady(w, r, http.MethodGet) {
		return
	}
	if err := verifyWebhook(b.cfg.WebhookSecret, r.Header, nil, b.now()); err != nil {
		writeJSON(w, http.StatusUnauthorized, jsonError{Error: "unauthorized", Message: "Invalid webhook signature: " + err.Error()})
		return
	}
	id, err := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), "/api/summaries/"))
	if err != nil || id == "" || len(id) > 200 || strings.ContainsRune(id, '/') {
		writeJSON(w, http.StatusBadRequest, jsonError{Error: "bad_request", Message: "The summary id in the path is not valid."})
		return
	}
	ds, err := b.deliveries.DeliveriesOf(r.Context(), id)
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, errUnavailable)
		return
	}
	if len(ds) == 0 {
		writeJSON(w, http.StatusNotFound, jsonError{Error: "not_found", Message: "No delivery of summary " + strconv.Quote(id) + " is known (or it has expired)."})
		return
	}
	out := struct {
		ID      string        `json:"id"`
		Targets []targetState `json:"targets"`
	}{ID: id}
	for i := range ds {
		out.Targets = append(out.Targets, stateOf(&ds[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

// findPersonalChat finds the 1:1 chat with a user who installed the bot; the
// bot cannot open one with a user it never met (it would not know the tenant),
// so the reason says what the user must do.
func (b *Bot) findPersonalChat(ctx context.Context, oid string) (*devopsbot.ConversationRef, string) {
	if oid == "" {
		return nil, "empty user id"
	}
	// The tenant comes from a previous contact; users we never met can't be reached.
	ref, err := b.convs.FindPersonalConversationByUser(ctx, oid)
	if err == nil {
		return ref, ""
	}
	if !apperr.Is(err, apperr.NotFound) {
		return nil, "database unavailable"
	}
	return nil, "this user has not installed Sally for themselves"
}
