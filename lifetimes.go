package devopsbot

import "time"

// How long things are kept, when their creator (or a store's configuration)
// says nothing else. Cards and pages promise the first three to people, and
// the webhook's README to senders, so every store applies these same values.
const (
	// SignInLifetime: a sign-in link (OAuthState) and the one-time code it
	// leads to (PendingLogin) each work once, for this long.
	SignInLifetime = 10 * time.Minute
	// SummaryRetention: a delivered summary, its results and its delivery.
	SummaryRetention = 90 * 24 * time.Hour
	// AuditRetention: the record of each change made in Azure DevOps.
	AuditRetention = 365 * 24 * time.Hour
	// WebhookRetention: the answer given to a webhook delivery id, so a
	// sender's retry gets the same one; senders retry for less.
	WebhookRetention = 24 * time.Hour
	// ClaimTTL: a claim taken without a ttl of its own.
	ClaimTTL = 2 * time.Minute
)

// SignInWindow is when a sign-in state or pending login lives, filled where
// its creator left it zero: created now, expiring SignInLifetime after it.
// Every store applies it when it first keeps one, with the times at the
// precision it stores.
func SignInWindow(created, expires, now time.Time) (time.Time, time.Time) {
	if created.IsZero() {
		created = now
	}
	if expires.IsZero() {
		expires = created.Add(SignInLifetime)
	}
	return created, expires
}
