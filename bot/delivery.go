package bot

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/teams"
)

// Summary cards are delivered store first, post second: a summary accepted
// with 202 has a delivery record in the database before the answer leaves,
// and a delivery is "posted" only once Teams gave back the ids of its cards.
// Any replica may post a pending delivery; a lease in the database makes it
// exactly one at a time, and a lease left by a crashed replica expires.

const (
	// deliveryLease outlasts one posting (a few connector calls with their own
	// retries); a replica that dies mid-post frees it within this time.
	deliveryLease = 2 * time.Minute
	// deliveryGiveUp bounds how long a failing delivery is retried.
	deliveryGiveUp = 24 * time.Hour
	// deliveryPostBudget bounds one posting attempt.
	deliveryPostBudget = 20 * time.Second
	maxDeliveryBackoff = 30 * time.Minute
)

// deliveryBackoff is the wait before attempt n+1 (n >= 1): 15 s, 30 s, 1 min,
// ... up to 30 min, with jitter so that replicas and chats spread out.
func deliveryBackoff(n int) time.Duration {
	d := 15 * time.Second << min(n-1, 10)
	if d > maxDeliveryBackoff {
		d = maxDeliveryBackoff
	}
	return d + time.Duration(rand.Int64N(int64(d/4)+1))
}

// permanent reports whether posting can never work as things are: Teams
// refused the message itself, the chat is gone or the app is not installed.
// A retry would fail the same way until someone changes something, and the
// sender learns it in the status.
func permanent(err error) bool {
	switch apperr.KindOf(err) {
	case apperr.Invalid, apperr.NotFound, apperr.Forbidden:
		return true
	}
	return false
}

// attemptDelivery posts a pending delivery if this replica can take its lease,
// and records the outcome. It returns the delivery as it now stands.
func (b *Bot) attemptDelivery(ctx context.Context, summaryID string) (*devopsbot.Delivery, error) {
	ctx = teams.WithLogger(ctx, teams.Logger(ctx).With("delivery", summaryID)) // every line about the delivery names it
	key := "delivery:" + summaryID
	lease, ok, err := b.leases.AcquireLease(ctx, key, deliveryLease)
	if err != nil {
		return nil, err
	}
	if !ok {
		return b.deliveries.GetDelivery(ctx, summaryID) // another replica is posting it
	}
	defer func() {
		if err := b.leases.ReleaseLease(context.WithoutCancel(ctx), key, lease); err != nil {
			teams.Logger(ctx).WarnContext(ctx, "could not release a delivery lease (it expires by itself)", "err", err)
		}
	}()
	// Read under the lease: another replica may have posted it meanwhile.
	d, err := b.deliveries.GetDelivery(ctx, summaryID)
	if err != nil || d.State != devopsbot.DeliveryPending {
		return d, err
	}
	sm, err := b.summaries.GetSummary(ctx, summaryID)
	if apperr.Is(err, apperr.NotFound) {
		return b.finishDelivery(ctx, d, devopsbot.DeliveryFailed, "The summary was removed (the chat uninstalled the bot, or it expired) before it could be posted.")
	}
	if err != nil {
		return d, err
	}
	ref := devopsbot.ConversationRef{ConversationID: d.ConversationID, ServiceURL: d.ServiceURL}
	pctx, cancel := context.WithTimeout(ctx, deliveryPostBudget)
	posted, perr := b.putSummaryCards(pctx, ref, sm, b.summaryLinks(pctx, sm.ID), sm.Cards, false)
	cancel()
	d.Attempts++
	d.ActivityIDs = activityIDs(posted)
	switch {
	case perr == nil:
		return b.finishDelivery(ctx, d, devopsbot.DeliveryPosted, "")
	case permanent(perr):
		return b.finishDelivery(ctx, d, devopsbot.DeliveryFailed, apperr.UserMessage(perr))
	case !b.now().Before(d.GiveUpAt):
		return b.finishDelivery(ctx, d, devopsbot.DeliveryFailed, "Gave up after "+deliveryGiveUp.String()+" of retries: "+apperr.UserMessage(perr))
	}
	wait := deliveryBackoff(d.Attempts)
	if ra := apperr.RetryAfterOf(perr); ra > wait {
		wait = ra
	}
	d.Reason = apperr.UserMessage(perr)
	d.NextAttemptAt = b.now().Add(wait)
	if err := b.deliveries.SaveDelivery(ctx, d); err != nil {
		return d, err
	}
	teams.Logger(ctx).WarnContext(ctx, "summary delivery failed; will retry", "summary", d.SummaryID, "attempt", d.Attempts, "retry_in", wait.Round(time.Second).String(), "err", perr)
	b.observeDelivery("retry")
	return d, nil
}

func (b *Bot) finishDelivery(ctx context.Context, d *devopsbot.Delivery, state devopsbot.DeliveryState, reason string) (*devopsbot.Delivery, error) {
	d.State, d.Reason = state, reason
	if err := b.deliveries.SaveDelivery(ctx, d); err != nil {
		return d, err
	}
	if state == devopsbot.DeliveryFailed {
		teams.Logger(ctx).ErrorContext(ctx, "summary delivery failed for good", "summary", d.SummaryID, "conversation", d.ConversationID, "attempts", d.Attempts, "reason", reason)
	} else {
		teams.Logger(ctx).InfoContext(ctx, "summary delivered", "summary", d.SummaryID, "attempts", d.Attempts, "cards", len(d.ActivityIDs))
	}
	b.observeDelivery(string(state))
	return d, nil
}

func (b *Bot) observeDelivery(event string) {
	if b.cfg.OnDelivery != nil {
		b.cfg.OnDelivery(event)
	}
}

func activityIDs(cards []devopsbot.PostedCard) []string {
	ids := make([]string, 0, len(cards))
	for _, c := range cards {
		ids = append(ids, c.ActivityID)
	}
	return ids
}

// RetryDueDeliveries makes one pass over the pending deliveries that are due
// and reports how many it attempted. RunDeliveries calls it on a timer; tests
// call it directly.
func (b *Bot) RetryDueDeliveries(ctx context.Context) (int, error) {
	ctx = teams.WithLogger(ctx, b.log.With("loop", "deliveries")) // no request started this
	due, err := b.deliveries.DueDeliveries(ctx, b.now(), 50)
	if err != nil {
		return 0, err
	}
	for _, d := range due {
		if ctx.Err() != nil {
			break
		}
		if _, err := b.attemptDelivery(ctx, d.SummaryID); err != nil {
			teams.Logger(ctx).WarnContext(ctx, "a delivery attempt could not run", "summary", d.SummaryID, "err", err)
		}
	}
	return len(due), nil
}

// RunDeliveries retries pending deliveries every interval until ctx ends. Every
// replica runs it; leases keep each delivery in one replica's hands.
func (b *Bot) RunDeliveries(ctx context.Context, interval time.Duration) {
	ctx = teams.WithLogger(ctx, b.log.With("loop", "deliveries"))
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := b.RetryDueDeliveries(ctx); err != nil && ctx.Err() == nil {
				teams.Logger(ctx).WarnContext(ctx, "could not list pending deliveries", "err", err)
			}
		}
	}
}
