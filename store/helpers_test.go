package store_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/store"
	"github.com/sally-devops/devopsbot/store/storetest"
)

// Helpers shared by the store's own tests; the rules every backend keeps are
// in package conformance (conformance_test.go runs them here).

func TestMain(m *testing.M) { storetest.Main(m) }

// clock is a settable time source, so expiry is tested without sleeping.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *clock) Now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }

func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func openWithClock(t *testing.T) (*store.Store, *clock, store.Config) {
	t.Helper()
	cfg := storetest.Config(t)
	c := newClock()
	cfg.Now = c.Now
	return storetest.Open(t, cfg), c, cfg
}

var (
	ctx   = context.Background()
	alice = devopsbot.UserKey{TenantID: "tenant-1", AADObjectID: "alice-oid"}
	bob   = devopsbot.UserKey{TenantID: "tenant-1", AADObjectID: "bob-oid"}
)

const (
	accessTok  = "eyJ-ACCESS-TOKEN-plaintext-4711"
	refreshTok = "0.REFRESH-TOKEN-plaintext-0815"
	verifier   = "pkce-VERIFIER-plaintext-abcdefghijklmnopqrstuvwxyz012345"
	loginCode  = "ONE-TIME-CODE-plaintext-9f8e7d6c"
)

func wantKind(t *testing.T, err error, k apperr.Kind) {
	t.Helper()
	if !apperr.Is(err, k) {
		t.Fatalf("error = %v (kind %v), want kind %v", err, apperr.KindOf(err), k)
	}
}

func sampleConn(u devopsbot.UserKey) *devopsbot.Connection {
	return &devopsbot.Connection{
		User: u, OrgURL: "https://dev.azure.com/contoso", OrgName: "contoso", EntraTenantID: "entra-1",
		DisplayName: "Alice", UniqueName: "alice@contoso.com", IdentityID: "id-1",
		AccessToken: accessTok, RefreshToken: refreshTok, Expiry: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
		Scopes: []string{"vso.work_write", "vso.project"},
	}
}

func sampleSummary(conv, source string) *devopsbot.Summary {
	return &devopsbot.Summary{
		SourceID: source, ConversationID: conv, PostedBy: "notes-service",
		Meeting: devopsbot.Meeting{Title: "Weekly sync", Start: time.Date(2026, 2, 27, 15, 0, 0, 0, time.UTC), Participants: []string{"Alice", "Bob"}},
		Insights: []devopsbot.Insight{
			{ID: "i1", Kind: devopsbot.KindTask, Text: "Ship the <release>", Owner: "Bob", Due: "2026-03-05"},
			{ID: "i2", Kind: devopsbot.KindDecision, Text: "Use MongoDB"},
		},
	}
}

// rawDump reads collections with the driver, as an attacker with a backup would.
func rawDump(t *testing.T, cfg store.Config, colls ...string) []byte {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(cfg.URI))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(ctx)
	var out []byte
	for _, name := range colls {
		cur, err := c.Database(cfg.Database).Collection(name).Find(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for cur.Next(ctx) {
			out = append(out, cur.Current...)
			out = append(out, []byte(cur.Current.String())...)
			n++
		}
		if err := cur.Err(); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatalf("collection %s is empty", name)
		}
	}
	return out
}

func rawDoc(t *testing.T, cfg store.Config, coll, id string) bson.Raw {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(cfg.URI))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(ctx)
	raw, err := c.Database(cfg.Database).Collection(coll).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Raw()
	if err != nil {
		t.Fatalf("raw %s/%s: %v", coll, id, err)
	}
	return raw
}

func key(insight string) devopsbot.ActionKey {
	return devopsbot.ActionKey{SummaryID: "sum-1", InsightID: insight, Action: devopsbot.ActionCreate}
}
