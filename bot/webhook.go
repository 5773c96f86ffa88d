package bot

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/store"
	"github.com/sally-devops/devopsbot/summary"
	"github.com/sally-devops/devopsbot/teams"
)

const (
	maxSummaryBody   = 1 << 20 // 1 MiB
	webhookTolerance = 5 * time.Minute
)

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
	SummaryID   string            `json:"summaryId,omitempty"`
	DryRun      bool              `json:"dryRun,omitempty"`
	Duplicate   bool              `json:"duplicate,omitempty"`
	Insights    []summary.Insight `json:"insights"`
	Delivered   []string          `json:"deliveredTo,omitempty"`
	Unreachable []unreachable     `json:"unreachable,omitempty"`
}

type unreachable struct {
	Target string `json:"target"`
	Reason string `json:"reason"`
}

// serveSummaries accepts a meeting summary from a meeting-notes service.
func (b *Bot) serveSummaries(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, jsonError{Error: "method_not_allowed", Message: "Use POST."})
		return
	}
	if b.cfg.WebhookSecret == nil {
		writeJSON(w, http.StatusServiceUnavailable, jsonError{Error: "not_configured", Message: "Summary delivery is not configured on this bot (SUMMARY_WEBHOOK_SECRET)."})
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		writeJSON(w, http.StatusUnsupportedMediaType, jsonError{Error: "unsupported_media_type", Message: "Send application/json."})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSummaryBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeJSON(w, http.StatusRequestEntityTooLarge, jsonError{Error: "too_large", Message: "The summary is larger than 1 MiB."})
			return
		}
		writeJSON(w, http.StatusBadRequest, jsonError{Error: "bad_request", Message: "Could not read the request body."})
		return
	}
	if err := verifyWebhook(b.cfg.WebhookSecret, r.Header, body, b.now()); err != nil {
		b.log.WarnContext(ctx, "refused a summary delivery", "reason", err.Error())
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
	// Senders retry with the same webhook-id: answer a repeat with the first answer.
	// Two copies racing are both safe: InsertSummary lets one summary through.
	if status, saved, found, err := b.cfg.Store.LookupWebhook(ctx, hookID); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, jsonError{Error: "unavailable", Message: "The bot's database is unavailable; retry later."})
		return
	} else if found {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(saved)
		return
	}
	status, res, jerr := b.deliver(ctx, d)
	var out []byte
	if jerr != nil {
		out = writeJSON(w, status, jerr)
	} else {
		out = writeJSON(w, status, res)
	}
	if status == http.StatusServiceUnavailable {
		return // let the sender retry for real
	}
	if _, _, _, err := b.cfg.Store.RememberWebhook(context.WithoutCancel(ctx), hookID, status, out); err != nil {
		b.log.WarnContext(ctx, "could not remember a webhook answer", "err", err)
	}
}

// deliver stores the summary and posts its cards where the sender asked.
func (b *Bot) deliver(ctx context.Context, d *summary.Delivery) (int, *deliveryResult, *jsonError) {
	res := &deliveryResult{Insights: d.Insights}
	var targets []store.ConversationRef
	if id := d.DeliverTo.ConversationID; id != "" {
		ref, err := b.cfg.Store.GetConversationRef(ctx, id)
		if apperr.Is(err, apperr.NotFound) {
			return http.StatusUnprocessableEntity, nil, &jsonError{Error: "not_installed", Message: "Sally is not installed in conversation " + id + ", or has not been spoken to there yet."}
		}
		if err != nil {
			return http.StatusServiceUnavailable, nil, &jsonError{Error: "unavailable", Message: "The bot's database is unavailable; retry later."}
		}
		targets = append(targets, *ref)
	}
	for _, oid := range d.DeliverTo.UserAADObjectIDs {
		ref, reason := b.personalChat(ctx, oid)
		if ref == nil {
			res.Unreachable = append(res.Unreachable, unreachable{Target: oid, Reason: reason})
			continue
		}
		targets = append(targets, *ref)
	}
	if len(targets) == 0 {
		return http.StatusUnprocessableEntity, nil, &jsonError{Error: "unreachable", Message: "None of the users could be reached: each must install Sally for themselves first.", Problems: nil}
	}
	for _, ref := range targets {
		sm := &store.Summary{
			ID:             "s" + randomID(10),
			SourceID:       d.ID,
			ConversationID: ref.ConversationID,
			Meeting:        d.Meeting,
			Insights:       d.Insights,
			PostedBy:       "webhook",
			CreatedAt:      b.now(),
		}
		stored, created, err := b.cfg.Store.InsertSummary(ctx, sm)
		if err != nil {
			return http.StatusServiceUnavailable, nil, &jsonError{Error: "unavailable", Message: "The bot's database is unavailable; retry later."}
		}
		res.SummaryID = stored.ID
		if !created {
			res.Duplicate = true
			res.Delivered = append(res.Delivered, ref.ConversationID)
			continue
		}
		if err := b.postSummary(ctx, ref, stored); err != nil {
			res.Unreachable = append(res.Unreachable, unreachable{Target: ref.ConversationID, Reason: apperr.UserMessage(err)})
			continue
		}
		res.Delivered = append(res.Delivered, ref.ConversationID)
	}
	if len(res.Delivered) == 0 {
		return http.StatusBadGateway, nil, &jsonError{Error: "not_delivered", Message: "Teams did not accept the summary cards."}
	}
	return http.StatusAccepted, res, nil
}

// personalChat finds or creates the 1:1 chat with a user who installed the bot.
func (b *Bot) personalChat(ctx context.Context, oid string) (*store.ConversationRef, string) {
	if oid == "" {
		return nil, "empty user id"
	}
	// The tenant comes from a previous contact; users we never met can't be reached.
	ref, err := b.cfg.Store.FindPersonalConversationByUser(ctx, oid)
	if err == nil {
		return ref, ""
	}
	if !apperr.Is(err, apperr.NotFound) {
		return nil, "database unavailable"
	}
	return nil, "this user has not installed Sally for themselves"
}

// postSummary posts the summary cards and records where they went.
func (b *Bot) postSummary(ctx context.Context, ref store.ConversationRef, sm *store.Summary) error {
	links, err := b.cfg.Store.ListLinks(ctx, sm.ID)
	if err != nil {
		links = nil
	}
	cardsOut := b.summaryCards(sm, links, ref.ServiceURL)
	var posted []store.PostedCard
	var firstErr error
	for _, c := range cardsOut {
		id, err := b.cfg.Connector.SendToConversation(ctx, ref.ServiceURL, ref.ConversationID, teams.NewCardMessage(c.card))
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		posted = append(posted, store.PostedCard{ActivityID: id, InsightIDs: c.insightIDs})
	}
	if len(posted) > 0 {
		if err := b.cfg.Store.SetSummaryCards(ctx, sm.ID, posted); err != nil {
			b.log.WarnContext(ctx, "could not record where the summary cards went", "err", err)
		}
	}
	if len(posted) == 0 && firstErr != nil {
		return firstErr
	}
	return nil
}
