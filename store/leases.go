package store

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
)

// collLeases holds short leases on work that exactly one replica may do at a
// time (posting one delivery's cards). A lease that expires may be taken over.
const collLeases = "leases"

type leaseDoc struct {
	ID        string    `bson:"_id"`
	LeaseID   string    `bson:"leaseId"`
	Kind      string    `bson:"kind"` // "lease" or "takeover"
	ExpiresAt time.Time `bson:"expiresAt"`
}

// AcquireLease takes the lease on key for ttl and returns its id, or ok=false
// while another holder's lease is live. Built from inserts on unique _ids only:
// FerretDB v1's filtered deletes and updates are not atomic under concurrency,
// so taking over an expired lease first wins the right to replace that very
// generation (a unique takeover _id), as ClaimAction does for claims.
func (s *Store) AcquireLease(ctx context.Context, key string, ttl time.Duration) (leaseID string, ok bool, err error) {
	if err := devopsbot.CheckID("lease key", key); err != nil {
		return "", false, err
	}
	for attempt := range 4 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return "", false, s.fail("acquire lease", ctx.Err())
			case <-time.After(time.Duration(attempt) * 5 * time.Millisecond):
			}
		}
		now := s.nowUTC()
		d := leaseDoc{ID: key, LeaseID: randomID(), Kind: "lease", ExpiresAt: now.Add(ttl)}
		cctx, cancel := s.op(ctx)
		_, err := s.c(collLeases).InsertOne(cctx, d)
		cancel()
		if err == nil {
			return d.LeaseID, true, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return "", false, s.fail("acquire lease", err)
		}
		var cur leaseDoc
		cctx, cancel = s.op(ctx)
		err = s.c(collLeases).FindOne(cctx, bson.D{{Key: "_id", Value: key}}).Decode(&cur)
		cancel()
		if err == mongo.ErrNoDocuments {
			continue // released meanwhile
		}
		if err != nil {
			return "", false, s.fail("acquire lease", err)
		}
		if cur.ExpiresAt.After(now) {
			return "", false, nil
		}
		lock := leaseDoc{ID: key + "~takeover~" + cur.LeaseID, Kind: "takeover", ExpiresAt: now.Add(time.Hour)}
		cctx, cancel = s.op(ctx)
		_, err = s.c(collLeases).InsertOne(cctx, lock)
		cancel()
		if mongo.IsDuplicateKeyError(err) {
			continue
		}
		if err != nil {
			return "", false, s.fail("take over lease", err)
		}
		cctx, cancel = s.op(ctx)
		_, err = s.c(collLeases).DeleteOne(cctx, bson.D{{Key: "_id", Value: key}, {Key: "leaseId", Value: cur.LeaseID}})
		cancel()
		if err != nil {
			return "", false, s.fail("take over lease", err)
		}
	}
	return "", false, nil
}

// ReleaseLease gives the lease back; releasing a lease that was taken over
// (it had expired) does nothing to the new holder's.
func (s *Store) ReleaseLease(ctx context.Context, key, leaseID string) error {
	if key == "" || leaseID == "" {
		return apperr.New(apperr.Invalid, "No lease to release.")
	}
	cctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.c(collLeases).DeleteOne(cctx, bson.D{{Key: "_id", Value: key}, {Key: "leaseId", Value: leaseID}})
	return s.fail("release lease", err)
}
