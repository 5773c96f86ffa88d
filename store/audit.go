package store

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

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

// AddAudit appends a record; Time defaults to now.
func (s *Store) AddAudit(ctx context.Context, r devopsbot.AuditRecord) error {
	if err := devopsbot.CheckUser(r.User); err != nil {
		return err
	}
	t := bsonTime(r.Time)
	if t.IsZero() {
		t = s.nowUTC()
	}
	detail := r.Bounded().Detail
	d := auditDoc{ID: bson.NewObjectID(), Time: t, TenantID: r.User.TenantID, AADObjectID: r.User.AADObjectID,
		UserName: r.UserName, Action: r.Action, OrgURL: r.OrgURL, Project: r.Project, WorkItemID: r.WorkItemID,
		CommentID: r.CommentID, SummaryID: r.SummaryID, InsightID: r.InsightID, Outcome: r.Outcome, Detail: detail,
		ExpiresAt: t.Add(s.auditRet)}
	cctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.c(collAudit).InsertOne(cctx, d)
	return s.fail("add audit", err)
}
