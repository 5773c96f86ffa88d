package store

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Records worked under a lease (deliveries, meeting jobs) share three
// operations that are safe on FerretDB v1 as on MongoDB: an insert on a
// unique _id (one caller creates it), a read by _id, and a whole-document
// replace by the lease holder.

// insertOnce inserts doc; created is false when a document with its _id
// exists already (the caller reads that one).
func (s *Store) insertOnce(ctx context.Context, coll, what string, doc any) (created bool, err error) {
	cctx, cancel := s.op(ctx)
	defer cancel()
	_, err = s.c(coll).InsertOne(cctx, doc)
	switch {
	case err == nil:
		return true, nil
	case mongo.IsDuplicateKeyError(err):
		return false, nil
	}
	return false, s.fail("create "+what, err)
}

// getByID decodes the document with _id id into out.
func (s *Store) getByID(ctx context.Context, coll, what, id string, out any) error {
	if id == "" || len(id) > maxIDLen {
		return errNotFound("That " + what)
	}
	cctx, cancel := s.op(ctx)
	defer cancel()
	err := s.c(coll).FindOne(cctx, bson.D{{Key: "_id", Value: id}}).Decode(out)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return errNotFound("That " + what)
	}
	return s.fail("get "+what, err)
}

// replaceByID writes doc over the document with _id id.
func (s *Store) replaceByID(ctx context.Context, coll, what, id string, doc any) error {
	cctx, cancel := s.op(ctx)
	defer cancel()
	res, err := s.c(coll).ReplaceOne(cctx, bson.D{{Key: "_id", Value: id}}, doc)
	if err != nil {
		return s.fail("save "+what, err)
	}
	if res.MatchedCount == 0 {
		return errNotFound("That " + what)
	}
	return nil
}
