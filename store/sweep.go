package store

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sally-devops/devopsbot"
)

// Sweep deletes what has expired: OAuth states, pending logins, webhook ids, audit
// records and summaries (with their links) past retention, and pending claims
// abandoned for more than a day. removed counts documents. It is the expiry mechanism on servers without TTL
// indexes and harmless elsewhere; any replica may run it at any time.
func (s *Store) Sweep(ctx context.Context) (removed int64, err error) {
	now := s.nowUTC()
	expired := bson.D{{Key: "expiresAt", Value: bson.D{{Key: "$lte", Value: now}}}}
	for _, coll := range []string{collStates, collPending, collWebhooks, collAudit, collDeliveries, collLeases} {
		cctx, cancel := s.op(ctx)
		res, err := s.c(coll).DeleteMany(cctx, expired)
		cancel()
		if err != nil {
			return removed, s.fail("sweep "+coll, err)
		}
		removed += res.DeletedCount
	}
	ids, err := s.summaryIDs(ctx, expired)
	if err != nil {
		return removed, err
	}
	n, err := s.deleteSummaries(ctx, ids)
	removed += n
	if err != nil {
		return removed, err
	}
	cctx, cancel := s.op(ctx)
	defer cancel()
	res, err := s.c(collLinks).DeleteMany(cctx, bson.D{{Key: "state", Value: devopsbot.LinkPending},
		{Key: "claimExpiresAt", Value: bson.D{{Key: "$lte", Value: now.Add(-staleClaimGrace)}}}})
	if err != nil {
		return removed, s.fail("sweep stale claims", err)
	}
	removed += res.DeletedCount
	// Markers normally go with their summary; these are left from claims on summaries
	// that never existed or outlived nothing, and no summary lives longer than this.
	cctx2, cancel2 := s.op(ctx)
	defer cancel2()
	res, err = s.c(collLinks).DeleteMany(cctx2, bson.D{{Key: "kind", Value: "marker"},
		{Key: "createdAt", Value: bson.D{{Key: "$lte", Value: now.Add(-s.sumRet)}}}})
	if err != nil {
		return removed, s.fail("sweep markers", err)
	}
	removed += res.DeletedCount
	// Takeover rights matter only while someone may still hold the old generation.
	cctx3, cancel3 := s.op(ctx)
	defer cancel3()
	res, err = s.c(collLinks).DeleteMany(cctx3, bson.D{{Key: "kind", Value: "takeover"},
		{Key: "createdAt", Value: bson.D{{Key: "$lte", Value: now.Add(-staleClaimGrace)}}}})
	if err != nil {
		return removed, s.fail("sweep takeovers", err)
	}
	return removed + res.DeletedCount, nil
}

// RunSweeper sweeps now and then every interval until ctx is done; failures are
// logged and retried at the next tick.
func (s *Store) RunSweeper(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = 10 * time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := s.Sweep(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Error("store: sweep failed", "err", err)
		case n > 0:
			s.log.Info("store: swept expired records", "removed", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
