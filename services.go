package devopsbot

import (
	"context"
	"errors"
	"time"
)

// ErrStoreUnavailable is in the chain of every error a store returns because
// its database cannot be reached (beside the error's apperr.Unavailable kind),
// so the bot can tell its own outage from another service's: it then keeps the
// person's input and says the bot, not Azure DevOps, is having trouble.
var ErrStoreUnavailable = errors.New("the database cannot be reached")

// IsStoreUnavailable reports whether err says the store's database could not be reached.
func IsStoreUnavailable(err error) bool { return errors.Is(err, ErrStoreUnavailable) }

// The interfaces below are how the bot keeps the domain. Each is one concern, so a
// use case depends only on what it touches and a test can stand in for one part.
// Package store implements all of them on MongoDB (FerretDB embedded, or a real
// MongoDB); package memstore keeps them in memory for fast tests.
//
// Rules every implementation keeps (package conformance checks them on each
// backend; the outage rule is store's own, in its outage tests):
//   - Lookups of missing or expired records return an apperr.NotFound error.
//   - Ids from the network are checked (length, control characters) and refused
//     with apperr.Invalid, never stored.
//   - A database that cannot be reached is an apperr.Unavailable error, fast.

// Connections holds each user's link to Azure DevOps, tokens encrypted at rest.
type Connections interface {
	GetConnection(ctx context.Context, u UserKey) (*Connection, error)
	SaveConnection(ctx context.Context, c *Connection) error
	UpdateTokens(ctx context.Context, u UserKey, access, refresh string, expiry time.Time) error
	MarkNeedsReconnect(ctx context.Context, u UserKey) error
	DeleteConnection(ctx context.Context, u UserKey) (bool, error)
	// ConnectedUsers says which of the users have an active connection, in one
	// query whatever their number, reading no tokens (a chat's live card).
	ConnectedUsers(ctx context.Context, users []UserKey) (map[UserKey]bool, error)
}

// SignIns holds the short-lived state of the connect flow: the OAuth state (with
// its PKCE verifier) and the finished sign-in waiting for its one-time code.
// Consuming either removes it: each can be used once.
type SignIns interface {
	CreateOAuthState(ctx context.Context, st *OAuthState) error
	ConsumeOAuthState(ctx context.Context, id string) (*OAuthState, error)
	CreatePendingLogin(ctx context.Context, p *PendingLogin) error
	ConsumePendingLogin(ctx context.Context, code string) (*PendingLogin, error)
}

// Conversations holds where the bot may write later (proactive messages).
type Conversations interface {
	SaveConversationRef(ctx context.Context, r *ConversationRef) error
	GetConversationRef(ctx context.Context, conversationID string) (*ConversationRef, error)
	FindPersonalConversationByUser(ctx context.Context, aadObjectID string) (*ConversationRef, error)
	// PurgeConversation forgets a chat and everything kept for it.
	PurgeConversation(ctx context.Context, conversationID string) error
}

// Summaries holds summaries as delivered to chats. A summary's content does not
// change after delivery, except when a meeting's better source replaces it
// (ReplaceSummaryContent); its posted cards do.
type Summaries interface {
	// InsertSummary stores sm once per (source id, chat) or (content, chat):
	// created=false returns the one stored first.
	InsertSummary(ctx context.Context, sm *Summary) (stored *Summary, created bool, err error)
	GetSummary(ctx context.Context, id string) (*Summary, error)
	// GetSummaryCached may be up to a minute old: its Cards may lag.
	GetSummaryCached(ctx context.Context, id string) (*Summary, error)
	FindSummaryByContent(ctx context.Context, conversationID, key string) (*Summary, error)
	SetSummaryCards(ctx context.Context, id string, cards []PostedCard) error
	ReplaceSummaryContent(ctx context.Context, id, contentKey string, insights []Insight) error
}

// Links holds what was done to each insight. ClaimAction is the one guard against
// duplicate work items: of concurrent claims on one ActionKey (clicks, people,
// replicas) exactly one gets claimed=true; the rest see the holder's link.
type Links interface {
	ClaimAction(ctx context.Context, key ActionKey, by UserKey, byName, marker string, ttl time.Duration) (*InsightLink, bool, error)
	CompleteAction(ctx context.Context, link *InsightLink) error
	ReleaseAction(ctx context.Context, key ActionKey) error
	ListLinks(ctx context.Context, summaryID string) ([]InsightLink, error)
	// KnownDoneLinks never asks the database: results this process saw lately.
	KnownDoneLinks(summaryID string) []InsightLink
}

// Preferences holds each user's last form choices: a hint, never a rule.
type Preferences interface {
	GetPrefs(ctx context.Context, u UserKey) (*Prefs, error)
	GetPrefsCached(ctx context.Context, u UserKey) (*Prefs, error)
	SavePrefs(ctx context.Context, u UserKey, p Prefs) error
}

// Audit records what was done in Azure DevOps on a user's behalf.
type Audit interface {
	AddAudit(ctx context.Context, r AuditRecord) error
}

// WebhookReplies remembers the answer given to each webhook delivery id, so a
// sender's retry gets the same answer instead of a second delivery.
type WebhookReplies interface {
	RememberWebhook(ctx context.Context, id string, status int, body []byte) (int, []byte, bool, error)
	LookupWebhook(ctx context.Context, id string) (status int, body []byte, found bool, err error)
}

// Once answers "is this the first time?" for a key, across replicas.
type Once interface {
	FirstTime(ctx context.Context, key string) (bool, error)
	ForgetOnce(ctx context.Context, key string) error
}

// Deliveries holds the posting of each summary's cards to its chat, so that a
// failed post is retried instead of lost.
type Deliveries interface {
	CreateDelivery(ctx context.Context, d *Delivery) (*Delivery, bool, error)
	GetDelivery(ctx context.Context, summaryID string) (*Delivery, error)
	SaveDelivery(ctx context.Context, d *Delivery) error
	DeliveriesOf(ctx context.Context, sourceID string) ([]Delivery, error)
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
}

// Leases give one replica at a time the right to work on a key.
type Leases interface {
	AcquireLease(ctx context.Context, key string, ttl time.Duration) (leaseID string, ok bool, err error)
	ReleaseLease(ctx context.Context, key, leaseID string) error
}

// MeetingJobs holds the watch over ended meetings until their summary is found.
type MeetingJobs interface {
	CreateMeetingJob(ctx context.Context, j *MeetingJob) (*MeetingJob, bool, error)
	GetMeetingJob(ctx context.Context, id string) (*MeetingJob, error)
	SaveMeetingJob(ctx context.Context, j *MeetingJob) error
	DueMeetingJobs(ctx context.Context, now time.Time, limit int) ([]MeetingJob, error)
	MeetingJobsOf(ctx context.Context, conversationID string, limit int) ([]MeetingJob, error)
	SweepMeetingJobs(ctx context.Context) (int64, error)
}

// ChatSettings holds what a chat's members chose for the whole chat.
type ChatSettings interface {
	SetMeetingSummaries(ctx context.Context, conversationID string, on bool) error
	MeetingSummariesOn(ctx context.Context, conversationID string) (bool, error)
}

// Store is everything a backend implements: all of the above. The bot is
// wired with one, and holds each part separately.
type Store interface {
	Connections
	SignIns
	Conversations
	Summaries
	Links
	Preferences
	Audit
	WebhookReplies
	Once
	Deliveries
	Leases
	MeetingJobs
	ChatSettings
	ChatFormDefaults
}
