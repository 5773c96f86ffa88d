package storetest

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/store"
)

// AuditRecords reads the audit records stored for u in cfg's database, newest
// first, straight from the collection: the bot only ever writes them (admins
// read them with database tools), so the store has no read of its own.
func AuditRecords(t testing.TB, cfg store.Config, u devopsbot.UserKey) []devopsbot.AuditRecord {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := mongo.Connect(options.Client().ApplyURI(cfg.URI))
	if err != nil {
		t.Fatalf("storetest: connect: %v", err)
	}
	defer c.Disconnect(ctx)
	cur, err := c.Database(cfg.Database).Collection("audit").Find(ctx,
		bson.D{{Key: "tenantId", Value: u.TenantID}, {Key: "aadObjectId", Value: u.AADObjectID}},
		options.Find().SetSort(bson.D{{Key: "time", Value: -1}, {Key: "_id", Value: -1}}))
	if err != nil {
		t.Fatalf("storetest: read the audit: %v", err)
	}
	var docs []struct {
		Time       time.Time `bson:"time"`
		UserName   string    `bson:"userName"`
		Action     string    `bson:"action"`
		OrgURL     string    `bson:"orgUrl"`
		Project    string    `bson:"project"`
		WorkItemID int       `bson:"workItemId"`
		CommentID  int       `bson:"commentId"`
		SummaryID  string    `bson:"summaryId"`
		InsightID  string    `bson:"insightId"`
		Outcome    string    `bson:"outcome"`
		Detail     string    `bson:"detail"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		t.Fatalf("storetest: decode the audit: %v", err)
	}
	out := make([]devopsbot.AuditRecord, 0, len(docs))
	for _, d := range docs {
		out = append(out, devopsbot.AuditRecord{Time: d.Time, User: u, UserName: d.UserName, Action: d.Action, OrgURL: d.OrgURL,
			Project: d.Project, WorkItemID: d.WorkItemID, CommentID: d.CommentID, SummaryID: d.SummaryID, InsightID: d.InsightID,
			Outcome: d.Outcome, Detail: d.Detail})
	}
	return out
}
