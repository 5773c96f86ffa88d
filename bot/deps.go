package bot

import (
	"context"
	"time"

	"github.com/sally-devops/devopsbot/store"
	"github.com/sally-devops/devopsbot/summary"
	"github.com/sally-devops/devopsbot/teams"
)

// Store is what the bot needs from persistence. *store.Store implements it; the
// bot never speaks MongoDB itself.
type Store interface {
	Ping(ctx context.Context) error

	GetConnection(ctx context.Context, u store.UserKey) (*store.Connection, error)
	SaveConnection(ctx context.Context, c *store.Connection) error
	UpdateTokens(ctx context.Context, u store.UserKey, access, refresh string, expiry time.Time) error
	MarkNeedsReconnect(ctx context.Context, u store.UserKey) error
	DeleteConnection(ctx context.Context, u store.UserKey) (bool, error)

	CreateOAuthState(ctx context.Context, st *store.OAuthState) error
	ConsumeOAuthState(ctx context.Context, id string) (*store.OAuthState, error)
	CreatePendingLogin(ctx context.Context, p *store.PendingLogin) error
	ConsumePendingLogin(ctx context.Context, code string) (*store.PendingLogin, error)

	SaveConversationRef(ctx context.Context, r *store.ConversationRef) error
	GetConversationRef(ctx context.Context, conversationID string) (*store.ConversationRef, error)
	FindPersonalConversationByUser(ctx context.Context, aadObjectID string) (*store.ConversationRef, error)
	PurgeConversation(ctx context.Context, conversationID string) error

	InsertSummary(ctx context.Context, sm *store.Summary) (*store.Summary, bool, error)
	GetSummary(ctx context.Context, id string) (*store.Summary, error)
	// GetSummaryCached may be up to store.MaxCacheTTL old: its Cards may lag.
	GetSummaryCached(ctx context.Context, id string) (*store.Summary, error)
	FindSummaryByContent(ctx context.Context, conversationID, key string) (*store.Summary, error)
	SetSummaryCards(ctx context.Context, id string, cards []store.PostedCard) error

	ClaimAction(ctx context.Context, key store.ActionKey, by store.UserKey, byName, marker string, ttl time.Duration) (*store.InsightLink, bool, error)
	CompleteAction(ctx context.Context, link *store.InsightLink) error
	ReleaseAction(ctx context.Context, key store.ActionKey) error
	ListLinks(ctx context.Context, summaryID string) ([]store.InsightLink, error)
	// KnownDoneLinks never asks the database: results this process saw lately.
	KnownDoneLinks(summaryID string) []store.InsightLink

	GetPrefs(ctx context.Context, u store.UserKey) (*store.Prefs, error)
	GetPrefsCached(ctx context.Context, u store.UserKey) (*store.Prefs, error)
	SavePrefs(ctx context.Context, u store.UserKey, p store.Prefs) error
	AddAudit(ctx context.Context, r store.AuditRecord) error
	RememberWebhook(ctx context.Context, id string, status int, body []byte) (int, []byte, bool, error)
	LookupWebhook(ctx context.Context, id string) (status int, body []byte, found bool, err error)
	FirstTime(ctx context.Context, key string) (bool, error)
	ForgetOnce(ctx context.Context, key string) error

	CreateDelivery(ctx context.Context, d *store.Delivery) (*store.Delivery, bool, error)
	GetDelivery(ctx context.Context, summaryID string) (*store.Delivery, error)
	SaveDelivery(ctx context.Context, d *store.Delivery) error
	DeliveriesOf(ctx context.Context, sourceID string) ([]store.Delivery, error)
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]store.Delivery, error)
	AcquireLease(ctx context.Context, key string, ttl time.Duration) (string, bool, error)
	ReleaseLease(ctx context.Context, key, leaseID string) error

	CreateMeetingJob(ctx context.Context, j *store.MeetingJob) (*store.MeetingJob, bool, error)
	GetMeetingJob(ctx context.Context, id string) (*store.MeetingJob, error)
	SaveMeetingJob(ctx context.Context, j *store.MeetingJob) error
	DueMeetingJobs(ctx context.Context, now time.Time, limit int) ([]store.MeetingJob, error)
	MeetingJobsOf(ctx context.Context, conversationID string, limit int) ([]store.MeetingJob, error)
	SetMeetingSummaries(ctx context.Context, conversationID string, on bool) error
	MeetingSummariesOn(ctx context.Context, conversationID string) (bool, error)
	SweepMeetingJobs(ctx context.Context) (int64, error)
	ReplaceSummaryContent(ctx context.Context, id, contentKey string, insights []summary.Insight) error
}

// Connector is how the bot talks back to Teams. *teams.Connector implements it.
type Connector interface {
	SendToConversation(ctx context.Context, serviceURL, conversationID string, act *teams.Activity) (string, error)
	ReplyToActivity(ctx context.Context, serviceURL, conversationID, replyToID string, act *teams.Activity) (string, error)
	UpdateActivity(ctx context.Context, serviceURL, conversationID, activityID string, act *teams.Activity) error
	CreateConversation(ctx context.Context, serviceURL string, p teams.ConversationParameters) (string, error)
	GetMeetingDetails(ctx context.Context, serviceURL, meetingID string) (*teams.MeetingDetails, error)
}
