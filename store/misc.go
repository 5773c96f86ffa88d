package store

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
)

type prefsDoc struct {
	ID            string    `bson:"_id"`
	TenantID      string    `bson:"tenantId"`
	AADObjectID   string    `bson:"aadObjectId"`
	Project       string    `bson:"project"`
	WorkItemType  string    `bson:"workItemType"`
	AreaPath      string    `bson:"areaPath"`
	IterationPath string    `bson:"iterationPath"`
	UpdatedAt     time.Time `bson:"updatedAt"`
}

// GetPrefs returns the user's preferences; none saved yet is the zero Prefs.
func (s *Store) GetPrefs(ctx context.Context, u devopsbot.UserKey) (*devopsbot.Prefs, error) {
	if err := validUser(u); err != nil {
		return nil, err
	}
	cctx, cancel := s.op(ctx)
	defer cancel()
	var d prefsDoc
	err := s.c(collPrefs).FindOne(cctx, bson.D{{Key: "_id", Value: userDocID(u)}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		s.prefs.put(userDocID(u), devopsbot.Prefs{}, s.nowUTC())
		return &devopsbot.Prefs{}, nil
	}
	if err != nil {
		return nil, s.fail("get prefs", err)
	}
	p := devopsbot.Prefs{Project: d.Project, WorkItemType: d.WorkItemType, AreaPath: d.AreaPath,
		IterationPath: d.IterationPath, UpdatedAt: d.UpdatedAt.UTC()}
	s.prefs.put(userDocID(u), p, s.nowUTC())
	return &p, nil
}

// SavePrefs replaces the user's preferences.
func (s *Store) SavePrefs(ctx context.Context, u devopsbot.UserKey, p devopsbot.Prefs) error {
	if err := validUser(u); err != nil {
		return err
	}
	d := prefsDoc{ID: userDocID(u), TenantID: u.TenantID, AADObjectID: u.AADObjectID, Project: p.Project,
		WorkItemType: p.WorkItemType, AreaPath: p.AreaPath, IterationPath: p.IterationPath, UpdatedAt: s.nowUTC()}
	set, err := toDocWithout(d, "_id")
	if err != nil {
		return s.fail("save prefs", err)
	}
	if err := s.upsert(ctx, collPrefs, d.ID, bson.D{{Key: "$set", Value: set}}); err != nil {
		s.prefs.del(d.ID) // the write may or may not have landed
		return s.fail("save prefs", err)
	}
	s.prefs.put(d.ID, devopsbot.Prefs{Project: d.Project, WorkItemType: d.WorkItemType, AreaPath: d.AreaPath,
		IterationPath: d.IterationPath, UpdatedAt: d.UpdatedAt}, s.nowUTC())
	return nil
}

type auditDoc struct {
	ID          bson.ObjectID `bson:"_id"`
	Time        time.Time     `bson:"time"`
	TenantID    string        `bson:"tenantId"`
	AADObjectID string        `bson:"aadObjectId"`
	UserName    string        `bson:"userName"`
	Action      string        `bson:"action"`
	OrgURL      string        `bson:"orgUrl"`
	Project     string        `bson:"project"`
	WorkItemID  int           `bson:"workItemId"`
	CommentID   int           `bson:"commentId"`
	SummaryID   string        `bson:"summaryId"`
	InsightID   string        `bson:"insightId"`
	Outcome     string        `bson:"outcome"`
	Detail      string        `bson:"detail"`
	ExpiresAt   time.Time     `bson:"expiresAt"`
}

// maxAuditDetail bounds free text in an audit record.
const maxAuditDetail = 4096

// AddAudit appends a record; Time defaults to now.
func (s *Store) AddAudit(ctx context.Context, r devopsbot.AuditRecord) error {
	if err := validUser(r.User); err != nil {
		return err
	}
	t := bsonTime(r.Time)
	if t.IsZero() {
		t = s.nowUTC()
	}
	detail := r.Detail
	if len(detail) > maxAuditDetail {
		detail = detail[:maxAuditDetail]
	}
	d := auditDoc{ID: bson.NewObjectID(), Time: t, TenantID: r.User.TenantID, AADObjectID: r.User.AADObjectID,
		UserName: r.UserName, Action: r.Action, OrgURL: r.OrgURL, Project: r.Project, WorkItemID: r.WorkItemID,
		CommentID: r.CommentID, SummaryID: r.SummaryID, InsightID: r.InsightID, Outcome: r.Outcome, Detail: detail,
		ExpiresAt: t.Add(s.auditRet)}
	cctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.c(collAudit).InsertOne(cctx, d)
	return s.fail("add audit", err)
}

type webhookDoc struct {
	ID        string    `bson:"_id"`
	Status    int       `bson:"status"`
	Body      []byte    `bson:"body"`
	CreatedAt time.Time `bson:"createdAt"`
	ExpiresAt time.Time `bson:"expiresAt"`
}

// maxWebhookBody bounds the answer remembered for a webhook id.
const maxWebhookBody = 64 << 10

// RememberWebhook implements Standard Webhooks idempotency: the first call for an id
// stores (status, body) and returns first=true; later calls within 24 hours return
// the first answer so a retried delivery gets the same reply and is not processed
// twice. Racing callers: exactly one is first.
func (s *Store) RememberWebhook(ctx context.Context, id string, status int, body []byte) (firstStatus int, firstBody []byte, first bool, err error) {
	if id == "" || len(id) > maxIDLen {
		return 0, nil, false, apperr.New(apperr.Invalid, "The webhook id is not valid.")
	}
	if len(body) > maxWebhookBody {
		return 0, nil, false, apperr.New(apperr.Invalid, "The webhook answer is too large to remember.")
	}
	if body == nil {
		body = []byte{}
	}
	for range 3 {
		now := s.nowUTC()
		d := webhookDoc{ID: id, Status: status, Body: body, CreatedAt: now, ExpiresAt: now.Add(WebhookRetention)}
		cctx, cancel := s.op(ctx)
		_, err := s.c(collWebhooks).InsertOne(cctx, d)
		cancel()
		if err == nil {
			return status, body, true, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return 0, nil, false, s.fail("remember webhook", err)
		}
		var old webhookDoc
		cctx, cancel = s.op(ctx)
		err = s.c(collWebhooks).FindOne(cctx, bson.D{{Key: "_id", Value: id}}).Decode(&old)
		cancel()
		if errors.Is(err, mongo.ErrNoDocuments) {
			continue
		}
		if err != nil {
			return 0, nil, false, s.fail("remember webhook", err)
		}
		if old.ExpiresAt.After(now) {
			return old.Status, old.Body, false, nil
		}
		// Expired but not swept yet: remove exactly that one, then insert ours.
		cctx, cancel = s.op(ctx)
		_, err = s.c(collWebhooks).DeleteOne(cctx, bson.D{{Key: "_id", Value: id}, {Key: "expiresAt", Value: old.ExpiresAt}})
		cancel()
		if err != nil {
			return 0, nil, false, s.fail("remember webhook", err)
		}
	}
	return 0, nil, false, apperr.New(apperr.Unavailable, unavailableMsg)
}

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
