package bot

import (
	"context"
	"strconv"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/summary"
	"github.com/sally-devops/devopsbot/teams"
)

// A summary reaches a chat the same way whatever brought it (a sender's
// webhook, a paste, a meeting job): intake stores the summary and its delivery,
// which makes it durable, then makes one bounded attempt at posting its cards;
// the delivery worker (delivery.go) retries what fails. Nothing here knows
// HTTP: webhook.go turns an outcome into a status and JSON, paste.go into a
// chat reply, meetings.go into a job's state.

// deliveryAttemptBudget bounds the first posting made while the source waits;
// what does not make it is retried by the delivery worker.
const deliveryAttemptBudget = 10 * time.Second

// Why intake refused a summary, in words a sender can act on. Code names the
// case for machines (the webhook's "error" field).
type intakeRefusal struct {
	Code, Message string
}

func (r *intakeRefusal) Error() string { return r.Message }

const (
	refusedNotInstalled = "not_installed" // the target chat never saw the bot
	refusedUnreachable  = "unreachable"   // no target user can be written to
	refusedConflict     = "conflict"      // the source id was used for other content
	refusedNotDelivered = "not_delivered" // Teams refused every chat's cards for good
	refusedUnavailable  = "unavailable"   // the database is down: retry later
)

var errIntakeUnavailable = &intakeRefusal{Code: refusedUnavailable, Message: "The bot's database is unavailable; retry later."}

// intakeOutcome is where a summary stands once intake accepted it.
type intakeOutcome struct {
	SummaryID   string
	Duplicate   bool // some chat already had it
	Targets     []*devopsbot.Delivery
	Unreachable []unreachable
}

// takeInDelivery accepts a sender's summary for every chat it names. The
// summary is durable in each chat before this returns; a refusal (an
// *intakeRefusal) means nothing was accepted for anyone it names.
func (b *Bot) takeInDelivery(ctx context.Context, d *summary.Delivery) (*intakeOutcome, error) {
	out := &intakeOutcome{}
	var targets []devopsbot.ConversationRef
	if id := d.DeliverTo.ConversationID; id != "" {
		ref, err := b.convs.GetConversationRef(ctx, id)
		if apperr.Is(err, apperr.NotFound) {
			return nil, &intakeRefusal{Code: refusedNotInstalled, Message: "Sally is not installed in conversation " + id + ", or has not been spoken to there yet."}
		}
		if err != nil {
			return nil, errIntakeUnavailable
		}
		targets = append(targets, *ref)
	}
	for _, oid := range d.DeliverTo.UserAADObjectIDs {
		ref, reason := b.findPersonalChat(ctx, oid)
		if ref == nil {
			out.Unreachable = append(out.Unreachable, unreachable{Target: oid, Reason: reason})
			continue
		}
		targets = append(targets, *ref)
	}
	if len(targets) == 0 {
		return nil, &intakeRefusal{Code: refusedUnreachable, Message: "None of the users could be reached: each must install Sally for themselves first."}
	}
	key := summary.ContentKey(d.Meeting, d.Insights)
	for _, ref := range targets {
		stored, created, err := b.storeSummary(ctx, &devopsbot.Summary{SourceID: d.ID, ContentKey: key,
			ConversationID: ref.ConversationID, Meeting: d.Meeting, Insights: d.Insights, PostedBy: "webhook",
			CreatedAt: b.now()}, true)
		if err != nil {
			return nil, errIntakeUnavailable
		}
		// A sender's retry (same content) gets the first answer; a changed
		// summary under an old id is a conflict, never silently ignored.
		if !created && stored.SourceID == d.ID && summary.ContentKey(stored.Meeting, stored.Insights) != key {
			return nil, &intakeRefusal{Code: refusedConflict, Message: "Summary id " + strconv.Quote(d.ID) + " was delivered before with different content. Send changed content under a new id."}
		}
		out.SummaryID = stored.ID
		out.Duplicate = out.Duplicate || !created
		dl, err := b.recordDelivery(ctx, stored, ref, d.ID, false)
		if err != nil {
			// The sender retries; the summary is found again and its delivery created then.
			return nil, errIntakeUnavailable
		}
		out.Targets = append(out.Targets, dl)
	}
	// Everything is durable: from here on nothing is lost, whatever Teams does.
	failed := 0
	for i, dl := range out.Targets {
		out.Targets[i] = b.firstAttempt(ctx, dl)
		if dl := out.Targets[i]; dl.State == devopsbot.DeliveryFailed {
			failed++
			out.Unreachable = append(out.Unreachable, unreachable{Target: dl.ConversationID, Reason: dl.Reason})
		}
	}
	if failed == len(out.Targets) {
		return nil, &intakeRefusal{Code: refusedNotDelivered, Message: "Teams refused the summary cards: " + out.Unreachable[len(out.Unreachable)-1].Reason}
	}
	return out, nil
}

// storeSummary stores a summary once per source id and chat (or, without a
// source id, once per content and chat). With reuseSameContent it first looks
// for a summary of the same content already in that chat under another source
// id (delivered twice under two ids, or pasted), so the chat sees it once; the
// look is not atomic with the insert, so two such deliveries racing in the
// same instant can both be stored: a courtesy, not a rule.
func (b *Bot) storeSummary(ctx context.Context, sm *devopsbot.Summary, reuseSameContent bool) (*devopsbot.Summary, bool, error) {
	if reuseSameContent {
		same, err := b.summaries.FindSummaryByContent(ctx, sm.ConversationID, sm.ContentKey)
		switch {
		case err == nil && same.SourceID != sm.SourceID:
			return same, false, nil
		case err != nil && !apperr.Is(err, apperr.NotFound):
			return nil, false, err
		}
	}
	return b.summaries.InsertSummary(ctx, sm)
}

// recordDelivery records that sm's cards are to be posted in chat, once per
// summary; sourceID is the sender's id its status is asked by. With retryFailed a delivery that failed for good is made pending
// again: a person pasting again is their own retry, and nobody works on a
// failed delivery, so no lease is needed.
func (b *Bot) recordDelivery(ctx context.Context, sm *devopsbot.Summary, chat devopsbot.ConversationRef, sourceID string, retryFailed bool) (*devopsbot.Delivery, error) {
	d, _, err := b.deliveries.CreateDelivery(ctx, &devopsbot.Delivery{
		SummaryID: sm.ID, SourceID: sourceID, ConversationID: chat.ConversationID, ServiceURL: chat.ServiceURL,
		GiveUpAt: b.now().Add(deliveryGiveUp), NextAttemptAt: b.now(), ExpiresAt: sm.ExpiresAt,
	})
	if err != nil {
		return nil, err
	}
	if retryFailed && d.State == devopsbot.DeliveryFailed {
		d.State, d.NextAttemptAt, d.GiveUpAt = devopsbot.DeliveryPending, b.now(), b.now().Add(deliveryGiveUp)
		if err := b.deliveries.SaveDelivery(ctx, d); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// firstAttempt posts a pending delivery once, within deliveryAttemptBudget
// even when the caller has gone, and returns the delivery as it then stands.
// A failure is the delivery worker's to retry, so it is only logged.
func (b *Bot) firstAttempt(ctx context.Context, d *devopsbot.Delivery) *devopsbot.Delivery {
	if d.State != devopsbot.DeliveryPending {
		return d
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deliveryAttemptBudget)
	defer cancel()
	now, err := b.attemptDelivery(actx, d.SummaryID)
	if err != nil || now == nil {
		teams.Logger(ctx).WarnContext(ctx, "first posting of a summary failed; the delivery worker retries", "summary", d.SummaryID, "err", err)
		return d
	}
	if now.State == devopsbot.DeliveryPending {
		teams.Logger(ctx).WarnContext(ctx, "a summary's cards will be posted on retry", "summary", d.SummaryID, "reason", now.Reason)
	}
	return now
}
