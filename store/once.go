package store

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/sally-devops/devopsbot"
)

// collOnce holds keys of things that must happen once (the welcome card of a
// chat). Keys are per chat and tiny; PurgeConversation's caller forgets them.
const collOnce = "once"

// FirstTime reports whether key is seen for the first time, across replicas: an
// insert with the key as _id, atomic on MongoDB and FerretDB alike.
func (s *Store) FirstTime(ctx context.Context, key string) (bool, error) {
	if err := devopsbot.CheckID("key", key); err != nil {
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
	if err := devopsbot.CheckID("key", key); err != nil {
		return err
	}
	cctx, cancel := s.op(ctx)
	defer cancel()
	if _, err := s.c(collOnce).DeleteOne(cctx, bson.D{{Key: "_id", Value: key}}); err != nil {
		return s.fail("forget once", err)
	}
	return nil
}
