package store

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
)

// Collection conversations: where the bot may write later (proactive messages),
// and the purge of everything kept for a chat.

type convDoc struct {
	ID               string    `bson:"_id"`
	ServiceURL       string    `bson:"serviceUrl"`
	TenantID         string    `bson:"tenantId"`
	BotID            string    `bson:"botId"`
	BotName          string    `bson:"botName"`
	ConversationType string    `bson:"conversationType"`
	UserAADObjectID  string    `bson:"userAadObjectId"`
	UpdatedAt        time.Time `bson:"updatedAt"`
}

func (d *convDoc) ref() *devopsbot.ConversationRef {
	return &devopsbot.ConversationRef{ConversationID: d.ID, ServiceURL: d.ServiceURL, TenantID: d.TenantID, BotID: d.BotID,
		BotName: d.BotName, ConversationType: d.ConversationType, UserAADObjectID: d.UserAADObjectID,
		UpdatedAt: d.UpdatedAt.UTC()}
}

// SaveConversationRef stores or refreshes r; Teams may move a conversation to
// another service URL, so the latest activity wins.
func (s *Store) SaveConversationRef(ctx context.Context, r *devopsbot.ConversationRef) error {
	if r == nil {
		return apperr.New(apperr.Invalid, "No conversation to save.")
	}
	if err := devopsbot.CheckConversationID(r.ConversationID); err != nil {
		return err
	}
	r.UpdatedAt = s.nowUTC()
	d := convDoc{ID: r.ConversationID, ServiceURL: r.ServiceURL, TenantID: r.TenantID, BotID: r.BotID, BotName: r.BotName,
		ConversationType: r.ConversationType, UserAADObjectID: r.UserAADObjectID, UpdatedAt: r.UpdatedAt}
	set, err := toDocWithout(d, "_id")
	if err != nil {
		return s.fail("save conversation", err)
	}
	if err := s.upsert(ctx, collConversations, d.ID, bson.D{{Key: "$set", Value: set}}); err != nil {
		return s.fail("save conversation", err)
	}
	return nil
}

// GetConversationRef returns the stored reference of a conversation.
func (s *Store) GetConversationRef(ctx context.Context, conversationID string) (*devopsbot.ConversationRef, error) {
	if devopsbot.CheckConversationID(conversationID) != nil {
		return nil, errNotFound("The conversation")
	}
	return s.findConv(ctx, bson.D{{Key: "_id", Value: conversationID}}, nil)
}

// FindPersonalConversationByUser finds the newest 1:1 chat with a user by AAD
// object id alone (object ids are globally unique GUIDs), for senders that
// don't know the tenant.
func (s *Store) FindPersonalConversationByUser(ctx context.Context, aadObjectID string) (*devopsbot.ConversationRef, error) {
	if err := devopsbot.CheckID("user", aadObjectID); err != nil {
		return nil, errNotFound("Your personal chat with the bot")
	}
	return s.findConv(ctx, bson.D{{Key: "userAadObjectId", Value: aadObjectID}, {Key: "conversationType", Value: "personal"}},
		options.FindOne().SetSort(bson.D{{Key: "updatedAt", Value: -1}}))
}

func (s *Store) findConv(ctx context.Context, filter bson.D, opts *options.FindOneOptionsBuilder) (*devopsbot.ConversationRef, error) {
	cctx, cancel := s.op(ctx)
	defer cancel()
	var d convDoc
	var err error
	if opts != nil {
		err = s.c(collConversations).FindOne(cctx, filter, opts).Decode(&d)
	} else {
		err = s.c(collConversations).FindOne(cctx, filter).Decode(&d)
	}
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, errNotFound("The conversation")
	}
	if err != nil {
		return nil, s.fail("get conversation", err)
	}
	return d.ref(), nil
}

// PurgeConversation forgets a chat: its reference, its summaries and their links.
// It is for the bot being removed from a chat. Links go first, so an interrupted
// purge leaves summaries that a retry will find again.
func (s *Store) PurgeConversation(ctx context.Context, conversationID string) error {
	if err := devopsbot.CheckConversationID(conversationID); err != nil {
		return err
	}
	ids, err := s.summaryIDs(ctx, bson.D{{Key: "conversationId", Value: conversationID}})
	if err != nil {
		return err
	}
	if _, err := s.deleteSummaries(ctx, ids); err != nil {
		return err
	}
	// The chat's meeting jobs would post to a chat that no longer has the bot.
	for _, del := range []struct {
		coll   string
		filter bson.D
	}{
		{collMeetingJobs, bson.D{{Key: "conversationId", Value: conversationID}}},
		{collChatSettings, bson.D{{Key: "_id", Value: conversationID}}},
	} {
		cctx, cancel := s.op(ctx)
		_, err := s.c(del.coll).DeleteMany(cctx, del.filter)
		cancel()
		if err != nil {
			return s.fail("purge "+del.coll, err)
		}
	}
	s.chatDefs.Delete(conversationID)
	cctx, cancel := s.op(ctx)
	defer cancel()
	if _, err := s.c(collConversations).DeleteOne(cctx, bson.D{{Key: "_id", Value: conversationID}}); err != nil {
		return s.fail("purge conversation", err)
	}
	return nil
}
