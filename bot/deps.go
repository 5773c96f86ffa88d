package bot

import (
	"context"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/teams"
)

// Store is everything the bot keeps (devopsbot.Store); the bot holds each part
// separately (Bot.conns, Bot.links, ...) so each use case touches only its own.
// *store.Store implements it on MongoDB, memstore.Store in memory.
type Store = devopsbot.Store

// Connector is how the bot talks back to Teams. *teams.Connector implements it.
type Connector interface {
	SendToConversation(ctx context.Context, serviceURL, conversationID string, act *teams.Activity) (string, error)
	UpdateActivity(ctx context.Context, serviceURL, conversationID, activityID string, act *teams.Activity) error
	GetMeetingDetails(ctx context.Context, serviceURL, meetingID string) (*teams.MeetingDetails, error)
	// ConversationMembers lists a chat's members (who may get a live card).
	ConversationMembers(ctx context.Context, serviceURL, conversationID string, max int) ([]teams.Member, bool, error)
}
