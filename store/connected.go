package store

import (
	"context"

	"github.com/sally-devops/devopsbot"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// maxConnectedLookup bounds one ConnectedUsers query; a chat's roster is read
// in bounded pages too, so this is never the limit in practice.
const maxConnectedLookup = 1000

// ConnectedUsers returns which of the given users have a working Azure DevOps
// connection (status active). It is one query on _id, whatever the number of
// users, and reads no tokens: it runs for a chat's members each time a
// summary card is posted or updated. Malformed keys (from the network) match
// nobody; at most maxConnectedLookup keys are looked at.
func (s *Store) ConnectedUsers(ctx context.Context, users []devopsbot.UserKey) (map[devopsbot.UserKey]bool, error) {
	ids := make([]string, 0, min(len(users), maxConnectedLookup))
	seen := map[devopsbot.UserKey]bool{}
	for _, u := range users {
		if devopsbot.CheckUser(u) != nil || seen[u] {
			continue
		}
		seen[u] = true
		ids = append(ids, userDocID(u))
		if len(ids) == maxConnectedLookup {
			break
		}
	}
	out := map[devopsbot.UserKey]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	cctx, cancel := s.op(ctx)
	defer cancel()
	cur, err := s.c(collConnections).Find(cctx,
		bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}, {Key: "status", Value: devopsbot.StatusActive}},
		// One batch holds every match, so no getMore round trip follows.
		options.Find().SetProjection(bson.D{{Key: "tenantId", Value: 1}, {Key: "aadObjectId", Value: 1}}).SetBatchSize(int32(len(ids))))
	if err != nil {
		return nil, s.fail("find connected users", err)
	}
	var docs []struct {
		TenantID    string `bson:"tenantId"`
		AADObjectID string `bson:"aadObjectId"`
	}
	if err := cur.All(cctx, &docs); err != nil {
		return nil, s.fail("find connected users", err)
	}
	for _, d := range docs {
		out[devopsbot.UserKey{TenantID: d.TenantID, AADObjectID: d.AADObjectID}] = true
	}
	return out, nil
}
