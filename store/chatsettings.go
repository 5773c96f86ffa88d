package store

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sally-devops/devopsbot"
)

// collChatSettings holds per-chat switches (meeting summaries off).
const collChatSettings = "chatsettings"

type chatSettingsDoc struct {
	ID                  string           `bson:"_id"`
	MeetingSummariesOff bool             `bson:"meetingSummariesOff"`
	FormDefaults        *chatDefaultsDoc `bson:"formDefaults,omitempty"` // chatdefaults.go
	UpdatedAt           time.Time        `bson:"updatedAt"`
}

// SetMeetingSummaries turns automatic meeting summaries on or off for a chat.
func (s *Store) SetMeetingSummaries(ctx context.Context, conversationID string, on bool) error {
	if err := devopsbot.CheckConversationID(conversationID); err != nil {
		return err
	}
	cctx, cancel := s.op(ctx)
	defer cancel()
	// $set, not a replace: the chat's other settings (its form defaults) stay.
	_, err := s.c(collChatSettings).UpdateOne(cctx, bson.D{{Key: "_id", Value: conversationID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "meetingSummariesOff", Value: !on}, {Key: "updatedAt", Value: s.nowUTC()}}}},
		options.UpdateOne().SetUpsert(true))
	return s.fail("save chat settings", err)
}

// MeetingSummariesOn reports whether a chat wants automatic meeting summaries
// (on unless someone turned them off).
func (s *Store) MeetingSummariesOn(ctx context.Context, conversationID string) (bool, error) {
	if devopsbot.CheckConversationID(conversationID) != nil {
		return false, nil
	}
	cctx, cancel := s.op(ctx)
	defer cancel()
	var d chatSettingsDoc
	err := s.c(collChatSettings).FindOne(cctx, bson.D{{Key: "_id", Value: conversationID}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return true, nil
	}
	if err != nil {
		return false, s.fail("get chat settings", err)
	}
	return !d.MeetingSummariesOff, nil
}
