package devopsbot

import (
	"context"
	"time"
)

// ChatDefaults is where everyone's forms in one chat start: the project, area,
// iteration and work item type a chat's members chose for the whole chat.
// Each person can still change them in the form. An empty Project means the
// chat has none. Iteration may be "@CurrentIteration": the team's sprint of
// the day, which a fixed sprint path would stop being after two weeks.
type ChatDefaults struct {
	Project       string
	AreaPath      string
	IterationPath string
	WorkItemType  string
	SetBy         UserKey
	SetByName     string
	UpdatedAt     time.Time
}

// ChatFormDefaults holds each chat's ChatDefaults, beside its other settings
// (so removing the bot from a chat forgets them: PurgeConversation).
type ChatFormDefaults interface {
	// GetChatDefaultsCached may be up to the store's cache TTL old on another
	// replica: defaults only pre-fill forms. A chat without any gets a zero value.
	GetChatDefaultsCached(ctx context.Context, conversationID string) (*ChatDefaults, error)
	// SetChatDefaults replaces a chat's defaults; a zero Project clears them.
	SetChatDefaults(ctx context.Context, conversationID string, d ChatDefaults) error
}
