package store

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
)

// collOnce holds keys of things that must happen once (the welcome card of a
// chat). Keys are per chat and tiny; PurgeConversation's caller forgets them.
const collOnce = "once"

// FirstTime reports whether key is seen for the first time, across replicas: an
// insert with the key as _id, atomic on MongoDB and FerretDB alike.
func (s *Store) FirstTime(ctx context.Context, key string) (bool, error) {
	if err := checkID("key", key); err != nil {
		return false, err
	}
	cctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.c(collOnce).InsertOne(cctx, bson.D{{Key: "_id", Value: key}, {Key: "at", Value: s.nowUTC()}})
	if err == nil {
		return true, nil
	}
	if mongo.IsDuplicateKeyError(err) {
		return false, nil
	}
	return false, s.fail("first time", err)
}

// ForgetOnce lets key happen again (a chat that removed and reinstalled the bot).
func (s *Store) ForgetOnce(ctx context.Context, key string) error {
	if err := checkID("key", key); err != nil {
		return err
	}
	cctx, cancel := s.op(ctx)
	defer cancel()
	if _, err := s.c(collOnce).DeleteOne(cctx, bson.D{{Key: "_id", Value: key}}); err != nil {
		return s.fail("forget once", err)
	}
	return nil
}

// LookupWebhook returns the answer remembered for a webhook id, if any and not expired.
func (s *Store) LookupWebhook(ctx context.Context, id string) (status int, body []byte, found bool, err error) {
	if id == "" || len(id) > maxIDLen {
		return 0, nil, false, apperr.New(apperr.Invalid, "The webhook id is not valid.")
	}
	cctx, cancel := s.op(ctx)
	defer cancel()
	var d webhookDoc
	err = s.c(collWebhooks).FindOne(cctx, bson.D{{Key: "_id", Value: id}, {Key: "expiresAt", Value: bson.D{{Key: "$gt", Value: s.nowUTC()}}}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil, false, nil
	}
	if err != nil {
		return 0, nil, false, s.fail("lookup webhook", err)
	}
	return d.Status, d.Body, true, nil
}

// FindPersonalConversationByUser finds the newest 1:1 chat with a user by AAD
// object id alone (object ids are globally unique GUIDs), for senders that
// don't know the tenant.
func (s *Store) FindPersonalConversationByUser(ctx context.Context, aadObjectID string) (*devopsbot.ConversationRef, error) {
	if err := checkID("user", aadObjectID); err != nil {
		return nil, errNotFound("Your personal chat with the bot")
	}
	return s.findConv(ctx, bson.D{{Key: "userAadObjectId", Value: aadObjectID}, {Key: "conversationType", Value: "personal"}},
		options.FindOne().SetSort(bson.D{{Key: "updatedAt", Value: -1}}))
}
