package store

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sally-devops/devopsbot"
)

// Collection audit: what was done in Azure DevOps on a user's behalf, kept for
// AuditRetention.

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

// MaxAuditList caps ListAudit's limit.
const MaxAuditList = 1000

// ListAudit returns the user's newest records first; limit <= 0 means 50.
func (s *Store) ListAudit(ctx context.Context, u devopsbot.UserKey, limit int) ([]devopsbot.AuditRecord, error) {
	if err := validUser(u); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, MaxAuditList)
	cctx, cancel := s.op(ctx)
	defer cancel()
	cur, err := s.c(collAudit).Find(cctx, bson.D{{Key: "tenantId", Value: u.TenantID}, {Key: "aadObjectId", Value: u.AADObjectID},
		{Key: "expiresAt", Value: bson.D{{Key: "$gt", Value: s.nowUTC()}}}},
		options.Find().SetSort(bson.D{{Key: "time", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, s.fail("list audit", err)
	}
	var docs []auditDoc
	if err := cur.All(cctx, &docs); err != nil {
		return nil, s.fail("list audit", err)
	}
	out := make([]devopsbot.AuditRecord, len(docs))
	for i, d := range docs {
		out[i] = devopsbot.AuditRecord{Time: d.Time.UTC(), User: devopsbot.UserKey{TenantID: d.TenantID, AADObjectID: d.AADObjectID},
			UserName: d.UserName, Action: d.Action, OrgURL: d.OrgURL, Project: d.Project, WorkItemID: d.WorkItemID,
			CommentID: d.CommentID, SummaryID: d.SummaryID, InsightID: d.InsightID, Outcome: d.Outcome, Detail: d.Detail}
	}
	return out, nil
}
