package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
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

func TestMain(m *testing.M) { storetest.Main(m) }

// clock is a settable time source, so expiry is tested without sleeping.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
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

func TestConnectionRoundTrip(t *testing.T) {
	s, clk, _ := openWithClock(t)
	if _, err := s.GetConnection(ctx, alice); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("GetConnection before save: %v, want NotFound", err)
	}
	c := sampleConn(alice)
	if err := s.SaveConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	firstCreated := c.CreatedAt
	got, err := s.GetConnection(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	want := *sampleConn(alice)
	want.Status, want.CreatedAt, want.UpdatedAt = devopsbot.StatusActive, clk.Now(), clk.Now()
	if fmt.Sprint(*got) != fmt.Sprint(want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", *got, want)
	}

	// Reconnecting replaces the tokens but keeps when the user first connected.
	clk.Advance(time.Hour)
	c2 := sampleConn(alice)
	c2.AccessToken, c2.OrgName = "new-access", "fabrikam"
	if err := s.SaveConnection(ctx, c2); err != nil {
		t.Fatal(err)
	}
	got, err = s.GetConnection(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken != "new-access" || got.OrgName != "fabrikam" || !got.CreatedAt.Equal(firstCreated) || !got.UpdatedAt.Equal(clk.Now()) {
		t.Fatalf("after reconnect: %+v (first created %v)", got, firstCreated)
	}
	if !c2.CreatedAt.Equal(firstCreated) {
		t.Fatalf("SaveConnection reported CreatedAt %v, want %v", c2.CreatedAt, firstCreated)
	}

	if err := s.MarkNeedsReconnect(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetConnection(ctx, alice); got.Status != devopsbot.StatusNeedsReconnect {
		t.Fatalf("status = %q, want needs_reconnect", got.Status)
	}
	wantKind(t, s.MarkNeedsReconnect(ctx, bob), apperr.NotFound)

	if del, err := s.DeleteConnection(ctx, alice); err != nil || !del {
		t.Fatalf("DeleteConnection = %v, %v; want true", del, err)
	}
	if del, err := s.DeleteConnection(ctx, alice); err != nil || del {
		t.Fatalf("second DeleteConnection = %v, %v; want false", del, err)
	}
	_, err = s.GetConnection(ctx, alice)
	wantKind(t, err, apperr.NotFound)
}

func TestHostileUserKeysAreRefused(t *testing.T) {
	s := storetest.New(t)
	for _, u := range []devopsbot.UserKey{{}, {TenantID: "t"}, {TenantID: "a|b", AADObjectID: "c"},
		{TenantID: "t", AADObjectID: "x\x00y"}, {TenantID: "t", AADObjectID: strings.Repeat("a", 10000)}} {
		_, err := s.GetConnection(ctx, u)
		wantKind(t, err, apperr.Invalid)
		c := sampleConn(u)
		wantKind(t, s.SaveConnection(ctx, c), apperr.Invalid)
	}
}

func TestUpdateTokensKeepsTheNewest(t *testing.T) {
	s, clk, _ := openWithClock(t)
	wantKind(t, s.UpdateTokens(ctx, alice, "a", "r", clk.Now()), apperr.NotFound)
	c := sampleConn(alice)
	if err := s.SaveConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkNeedsReconnect(ctx, alice); err != nil {
		t.Fatal(err)
	}
	newer := c.Expiry.Add(time.Hour)
	if err := s.UpdateTokens(ctx, alice, "access-2", "refresh-2", newer); err != nil {
		t.Fatal(err)
	}
	// A slower replica finishing its refresh later with an older token must not win.
	if err := s.UpdateTokens(ctx, alice, "access-old", "refresh-old", newer.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetConnection(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken != "access-2" || got.RefreshToken != "refresh-2" || !got.Expiry.Equal(newer) || got.Status != devopsbot.StatusActive {
		t.Fatalf("after updates: access %q refresh %q expiry %v status %q", got.AccessToken, got.RefreshToken, got.Expiry, got.Status)
	}
}

func TestOAuthStateIsConsumedOnce(t *testing.T) {
	s, clk, _ := openWithClock(t)
	st := &devopsbot.OAuthState{User: alice, UserName: "Alice", ConversationID: "a:1", ServiceURL: "https://smba.trafficmanager.net/emea/",
		OrgURL: "https://dev.azure.com/contoso", EntraTenantID: "entra-1", CodeVerifier: verifier, Nonce: "n-1"}
	if err := s.CreateOAuthState(ctx, st); err != nil {
		t.Fatal(err)
	}
	if len(st.ID) < 32 || !st.ExpiresAt.Equal(clk.Now().Add(store.DefaultStateLifetime)) {
		t.Fatalf("defaults not filled: id %q expires %v", st.ID, st.ExpiresAt)
	}
	wantKind(t, s.CreateOAuthState(ctx, &devopsbot.OAuthState{ID: st.ID, User: alice}), apperr.Conflict)
	got, err := s.ConsumeOAuthState(ctx, st.ID)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(*got) != fmt.Sprint(*st) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", *got, *st)
	}
	_, err = s.ConsumeOAuthState(ctx, st.ID)
	wantKind(t, err, apperr.NotFound)
	_, err = s.ConsumeOAuthState(ctx, "")
	wantKind(t, err, apperr.NotFound)
}

func TestOAuthStateConcurrentConsumeExactlyOnce(t *testing.T) {
	s := storetest.New(t)
	st := &devopsbot.OAuthState{User: alice, CodeVerifier: verifier}
	if err := s.CreateOAuthState(ctx, st); err != nil {
		t.Fatal(err)
	}
	wins, notFound := race(t, 50, func() error { _, err := s.ConsumeOAuthState(ctx, st.ID); return err })
	if wins != 1 || notFound != 49 {
		t.Fatalf("wins = %d, not found = %d; want 1 and 49", wins, notFound)
	}
}

// race runs f in n goroutines released at once and counts successes and NotFound or
// Conflict results; any other error fails the test.
func race(t *testing.T, n int, f func() error) (ok, lost int) {
	t.Helper()
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			<-start
			errs <- f()
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case apperr.Is(err, apperr.NotFound), apperr.Is(err, apperr.Conflict):
			lost++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	return ok, lost
}

func TestExpiryWorksWithoutTTL(t *testing.T) {
	s, clk, _ := openWithClock(t)
	st := &devopsbot.OAuthState{User: alice, CodeVerifier: verifier}
	if err := s.CreateOAuthState(ctx, st); err != nil {
		t.Fatal(err)
	}
	live := &devopsbot.OAuthState{User: alice, CodeVerifier: verifier, ExpiresAt: clk.Now().Add(time.Hour)}
	if err := s.CreateOAuthState(ctx, live); err != nil {
		t.Fatal(err)
	}
	if err := s.CreatePendingLogin(ctx, &devopsbot.PendingLogin{Code: loginCode, User: alice, Conn: *sampleConn(alice)}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(store.DefaultStateLifetime)
	_, err := s.ConsumeOAuthState(ctx, st.ID)
	wantKind(t, err, apperr.Invalid)
	if msg := apperr.UserMessage(err); !strings.Contains(msg, "expired") {
		t.Fatalf("message %q does not say expired", msg)
	}
	_, err = s.ConsumePendingLogin(ctx, loginCode)
	wantKind(t, err, apperr.Invalid)

	// A refused state is gone: it cannot be tried again.
	_, err = s.ConsumeOAuthState(ctx, st.ID)
	wantKind(t, err, apperr.NotFound)

	// Sweep removes what expired without anyone asking for it.
	expiredUnasked := &devopsbot.OAuthState{User: alice, CodeVerifier: verifier}
	if err := s.CreateOAuthState(ctx, expiredUnasked); err != nil {
		t.Fatal(err)
	}
	clk.Advance(store.DefaultStateLifetime)
	n, err := s.Sweep(ctx)
	if err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1", n, err)
	}
	_, err = s.ConsumeOAuthState(ctx, expiredUnasked.ID)
	wantKind(t, err, apperr.NotFound)
	if _, err := s.ConsumeOAuthState(ctx, live.ID); err != nil {
		t.Fatalf("live state was swept: %v", err)
	}
}

func TestPendingLoginRoundTripAndExactlyOnce(t *testing.T) {
	s, clk, _ := openWithClock(t)
	wantKind(t, s.CreatePendingLogin(ctx, &devopsbot.PendingLogin{Code: "short", User: alice}), apperr.Invalid)
	p := &devopsbot.PendingLogin{Code: loginCode, User: alice, Conn: *sampleConn(alice)}
	if err := s.CreatePendingLogin(ctx, p); err != nil {
		t.Fatal(err)
	}
	if !p.ExpiresAt.Equal(clk.Now().Add(store.DefaultStateLifetime)) {
		t.Fatalf("ExpiresAt = %v", p.ExpiresAt)
	}
	_, err := s.ConsumePendingLogin(ctx, loginCode+"x")
	wantKind(t, err, apperr.NotFound)
	got, err := s.ConsumePendingLogin(ctx, loginCode)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(*got) != fmt.Sprint(*p) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", *got, *p)
	}

	p2 := &devopsbot.PendingLogin{Code: loginCode + "-2", User: alice, Conn: *sampleConn(alice)}
	if err := s.CreatePendingLogin(ctx, p2); err != nil {
		t.Fatal(err)
	}
	wins, lost := race(t, 50, func() error { _, err := s.ConsumePendingLogin(ctx, p2.Code); return err })
	if wins != 1 || lost != 49 {
		t.Fatalf("wins = %d, lost = %d; want 1 and 49", wins, lost)
	}
}

func TestSecretsAreNotStoredInPlainText(t *testing.T) {
	cfg := storetest.Config(t)
	s := storetest.Open(t, cfg)
	if err := s.SaveConnection(ctx, sampleConn(alice)); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateOAuthState(ctx, &devopsbot.OAuthState{User: alice, CodeVerifier: verifier}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreatePendingLogin(ctx, &devopsbot.PendingLogin{Code: loginCode, User: alice, Conn: *sampleConn(alice)}); err != nil {
		t.Fatal(err)
	}
	dump := rawDump(t, cfg, "connections", "oauth_states", "pending_logins")
	for _, secret := range []string{accessTok, refreshTok, verifier, loginCode} {
		if bytes.Contains(dump, []byte(secret)) {
			t.Errorf("raw database holds %q in plain text", secret)
		}
	}
	// The dump is not empty: the check above looked at real documents.
	if !bytes.Contains(dump, []byte("alice-oid")) || !bytes.Contains(dump, []byte(cfg.Keys.CurrentKeyID())) {
		t.Fatalf("dump does not hold the expected documents")
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

func TestKeyRotation(t *testing.T) {
	cfg := storetest.Config(t)
	oldKey := bytes.Repeat([]byte{1}, store.KeySize)
	newKey := bytes.Repeat([]byte{7}, store.KeySize)
	var err error
	if cfg.Keys, err = store.NewKeyring(oldKey); err != nil {
		t.Fatal(err)
	}
	s1 := storetest.Open(t, cfg)
	if err := s1.SaveConnection(ctx, sampleConn(alice)); err != nil {
		t.Fatal(err)
	}
	if cfg.Keys, err = store.NewKeyring(newKey, oldKey); err != nil {
		t.Fatal(err)
	}
	s2 := storetest.Open(t, cfg)
	got, err := s2.GetConnection(ctx, alice)
	if err != nil || got.AccessToken != accessTok || got.RefreshToken != refreshTok {
		t.Fatalf("old key does not decrypt after rotation: %v", err)
	}
	if err := s2.SaveConnection(ctx, sampleConn(bob)); err != nil {
		t.Fatal(err)
	}
	bobDoc := rawDoc(t, cfg, "connections", "tenant-1|bob-oid")
	if kid, _ := bobDoc.Lookup("accessToken", "kid").StringValueOK(); kid != store.KeyID(newKey) {
		t.Fatalf("new write carries key id %q, want the new key's %q", kid, store.KeyID(newKey))
	}
	// The store that only knows the old key cannot read bob: a clear error, not garbage.
	_, err = s1.GetConnection(ctx, bob)
	wantKind(t, err, apperr.Internal)
	if !errors.Is(err, store.ErrUndecryptable) || !strings.Contains(err.Error(), store.KeyID(newKey)) {
		t.Fatalf("wrong-key error does not name the missing key: %v", err)
	}
	if strings.Contains(err.Error(), accessTok) {
		t.Fatalf("error leaks a token: %v", err)
	}
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

func TestCiphertextMovedToAnotherUserDoesNotDecrypt(t *testing.T) {
	cfg := storetest.Config(t)
	s := storetest.Open(t, cfg)
	if err := s.SaveConnection(ctx, sampleConn(alice)); err != nil {
		t.Fatal(err)
	}
	other := sampleConn(bob)
	other.AccessToken = "bob-token"
	if err := s.SaveConnection(ctx, other); err != nil {
		t.Fatal(err)
	}
	aliceTok := rawDoc(t, cfg, "connections", "tenant-1|alice-oid").Lookup("accessToken")
	c, err := mongo.Connect(options.Client().ApplyURI(cfg.URI))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(ctx)
	if _, err := c.Database(cfg.Database).Collection("connections").UpdateOne(ctx, bson.D{{Key: "_id", Value: "tenant-1|bob-oid"}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "accessToken", Value: aliceTok}}}}); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetConnection(ctx, bob)
	if !errors.Is(err, store.ErrUndecryptable) {
		t.Fatalf("bob's record with alice's ciphertext: err = %v, want ErrUndecryptable", err)
	}
}

func TestConversationRefs(t *testing.T) {
	s, clk, _ := openWithClock(t)
	_, err := s.GetConversationRef(ctx, "19:none")
	wantKind(t, err, apperr.NotFound)
	group := &devopsbot.ConversationRef{ConversationID: "19:meeting_abc@thread.v2", ServiceURL: "https://smba/emea/", TenantID: "tenant-1",
		BotID: "28:bot", BotName: "Sally", ConversationType: "groupChat"}
	personalOld := &devopsbot.ConversationRef{ConversationID: "a:old", ServiceURL: "https://smba/emea/", TenantID: "tenant-1",
		BotID: "28:bot", ConversationType: "personal", UserAADObjectID: "alice-oid"}
	for _, r := range []*devopsbot.ConversationRef{group, personalOld} {
		if err := s.SaveConversationRef(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(time.Minute)
	personalNew := *personalOld
	personalNew.ConversationID = "a:new"
	if err := s.SaveConversationRef(ctx, &personalNew); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetConversationRef(ctx, group.ConversationID)
	if err != nil || fmt.Sprint(*got) != fmt.Sprint(*group) {
		t.Fatalf("GetConversationRef = %+v, %v; want %+v", got, err, *group)
	}
	p, err := s.FindPersonalConversationByUser(ctx, "alice-oid")
	if err != nil || p.ConversationID != "a:new" {
		t.Fatalf("FindPersonalConversationByUser = %+v, %v; want the newest personal chat", p, err)
	}
	_, err = s.FindPersonalConversationByUser(ctx, "bob-oid")
	wantKind(t, err, apperr.NotFound)

	// Teams moved the chat to another service URL: the latest wins.
	group.ServiceURL = "https://smba/amer/"
	if err := s.SaveConversationRef(ctx, group); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetConversationRef(ctx, group.ConversationID); got.ServiceURL != "https://smba/amer/" {
		t.Fatalf("service URL not updated: %q", got.ServiceURL)
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

func TestSummaries(t *testing.T) {
	s, clk, _ := openWithClock(t)
	in := sampleSummary("19:chat", "delivery-1")
	got, created, err := s.InsertSummary(ctx, in)
	if err != nil || !created {
		t.Fatalf("InsertSummary = %v, %v", created, err)
	}
	if got.ID != store.SummaryID("delivery-1", "19:chat") || !got.ExpiresAt.Equal(clk.Now().Add(store.DefaultSummaryRetention)) {
		t.Fatalf("id %q expires %v", got.ID, got.ExpiresAt)
	}
	read, err := s.GetSummary(ctx, got.ID)
	if err != nil || fmt.Sprint(*read) != fmt.Sprint(*got) {
		t.Fatalf("GetSummary:\n got %+v, %v\nwant %+v", read, err, got)
	}
	if read.Meeting.Title != "Weekly sync" || len(read.Insights) != 2 || read.Insights[0].Text != "Ship the <release>" {
		t.Fatalf("content lost: %+v", read)
	}

	// The sender retries: the first summary comes back, nothing new is stored.
	again := sampleSummary("19:chat", "delivery-1")
	again.Meeting.Title = "changed"
	got2, created, err := s.InsertSummary(ctx, again)
	if err != nil || created || got2.ID != got.ID || got2.Meeting.Title != "Weekly sync" {
		t.Fatalf("second insert = %+v, %v, %v", got2, created, err)
	}
	// The same delivery to another chat is another summary.
	if other, created, err := s.InsertSummary(ctx, sampleSummary("19:other", "delivery-1")); err != nil || !created || other.ID == got.ID {
		t.Fatalf("other chat: %v %v", created, err)
	}
	// Pasted summaries have no source id and are always new.
	p1, c1, err1 := s.InsertSummary(ctx, sampleSummary("19:chat", ""))
	p2, c2, err2 := s.InsertSummary(ctx, sampleSummary("19:chat", ""))
	if err1 != nil || err2 != nil || !c1 || !c2 || p1.ID == p2.ID {
		t.Fatalf("pasted: %v %v %v %v", c1, c2, err1, err2)
	}

	cards := []devopsbot.PostedCard{{ActivityID: "act-1", InsightIDs: []string{"i1", "i2"}}}
	if err := s.SetSummaryCards(ctx, got.ID, cards); err != nil {
		t.Fatal(err)
	}
	if read, _ := s.GetSummary(ctx, got.ID); fmt.Sprint(read.Cards) != fmt.Sprint(cards) {
		t.Fatalf("cards = %+v", read.Cards)
	}
	wantKind(t, s.SetSummaryCards(ctx, "nope", cards), apperr.NotFound)

	// Past retention it is gone for readers before any sweep.
	clk.Advance(store.DefaultSummaryRetention)
	_, err = s.GetSummary(ctx, got.ID)
	wantKind(t, err, apperr.NotFound)
	// And a new delivery with the same id starts afresh instead of returning the old one.
	fresh, created, err := s.InsertSummary(ctx, sampleSummary("19:chat", "delivery-1"))
	if err != nil || !created || !fresh.CreatedAt.Equal(clk.Now()) {
		t.Fatalf("re-insert after expiry = %v, %v", created, err)
	}
}

func TestInsertSummaryConcurrentlyStoresOne(t *testing.T) {
	s := storetest.New(t)
	var mu sync.Mutex
	var createdN int
	ids := map[string]bool{}
	ok, _ := race(t, 20, func() error {
		sm, created, err := s.InsertSummary(ctx, sampleSummary("19:chat", "delivery-race"))
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		ids[sm.ID] = true
		if created {
			createdN++
		}
		return nil
	})
	if ok != 20 || createdN != 1 || len(ids) != 1 {
		t.Fatalf("ok %d, created %d, distinct ids %d; want 20, 1, 1", ok, createdN, len(ids))
	}
}

func key(insight string) devopsbot.ActionKey {
	return devopsbot.ActionKey{SummaryID: "sum-1", InsightID: insight, Action: devopsbot.ActionCreate}
}

func TestClaimCompleteRelease(t *testing.T) {
	s, clk, _ := openWithClock(t)
	_, _, err := s.ClaimAction(ctx, devopsbot.ActionKey{SummaryID: "s", InsightID: "i", Action: "delete"}, alice, "Alice", "m", time.Minute)
	wantKind(t, err, apperr.Invalid)
	_, _, err = s.ClaimAction(ctx, devopsbot.ActionKey{SummaryID: "s", InsightID: "i", Action: devopsbot.ActionComment}, alice, "Alice", "m", time.Minute)
	wantKind(t, err, apperr.Invalid)

	l, claimed, err := s.ClaimAction(ctx, key("i1"), alice, "Alice", "marker-a", time.Minute)
	if err != nil || !claimed || l.State != devopsbot.LinkPending || l.Marker != "marker-a" {
		t.Fatalf("first claim = %+v, %v, %v", l, claimed, err)
	}
	other, claimed, err := s.ClaimAction(ctx, key("i1"), bob, "Bob", "marker-b", time.Minute)
	if err != nil || claimed || other.User != alice || other.State != devopsbot.LinkPending {
		t.Fatalf("second claim = %+v, %v, %v; want alice's pending link", other, claimed, err)
	}

	l.OrgURL, l.Project, l.WorkItemID, l.WorkItemType, l.WorkItemTitle, l.WorkItemURL = "https://dev.azure.com/contoso", "Web", 42, "Task", "Ship", "https://dev.azure.com/contoso/Web/_workitems/edit/42"
	if err := s.CompleteAction(ctx, l); err != nil {
		t.Fatal(err)
	}
	wantKind(t, s.CompleteAction(ctx, l), apperr.Conflict)
	done, claimed, err := s.ClaimAction(ctx, key("i1"), bob, "Bob", "m", time.Minute)
	if err != nil || claimed || done.State != devopsbot.LinkDone || done.WorkItemID != 42 || done.WorkItemURL != l.WorkItemURL {
		t.Fatalf("claim after done = %+v, %v, %v", done, claimed, err)
	}
	// A finished action cannot be released.
	if err := s.ReleaseAction(ctx, key("i1")); err != nil {
		t.Fatal(err)
	}
	if _, claimed, _ := s.ClaimAction(ctx, key("i1"), bob, "Bob", "m", time.Minute); claimed {
		t.Fatal("release dropped a finished action")
	}

	// A definite failure is released; the next click claims afresh.
	if _, claimed, _ := s.ClaimAction(ctx, key("i2"), alice, "Alice", "m2", time.Minute); !claimed {
		t.Fatal("claim i2")
	}
	if err := s.ReleaseAction(ctx, key("i2")); err != nil {
		t.Fatal(err)
	}
	if l2, claimed, err := s.ClaimAction(ctx, key("i2"), bob, "Bob", "m3", time.Minute); err != nil || !claimed || l2.User != bob {
		t.Fatalf("claim after release = %+v, %v, %v", l2, claimed, err)
	}

	// An abandoned claim is taken over once it expires, keeping the first marker.
	if _, claimed, _ := s.ClaimAction(ctx, key("i3"), alice, "Alice", "crashed-marker", time.Minute); !claimed {
		t.Fatal("claim i3")
	}
	clk.Advance(2 * time.Minute)
	taken, claimed, err := s.ClaimAction(ctx, key("i3"), bob, "Bob", "new-marker", time.Minute)
	if err != nil || !claimed || taken.User != bob || taken.Marker != "crashed-marker" {
		t.Fatalf("takeover = %+v, %v, %v; want bob's claim with the crashed marker", taken, claimed, err)
	}

	// Comments on different work items are different actions.
	c1 := devopsbot.ActionKey{SummaryID: "sum-1", InsightID: "i1", Action: devopsbot.ActionComment, Target: "42"}
	c2 := c1
	c2.Target = "43"
	for _, k := range []devopsbot.ActionKey{c1, c2} {
		if _, claimed, err := s.ClaimAction(ctx, k, alice, "Alice", "m", time.Minute); err != nil || !claimed {
			t.Fatalf("comment claim %v = %v, %v", k, claimed, err)
		}
	}

	links, err := s.ListLinks(ctx, "sum-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(links) != 5 {
		t.Fatalf("ListLinks returned %d links, want 5: %+v", len(links), links)
	}
	if links[0].Key != key("i1") || links[0].State != devopsbot.LinkDone || links[0].WorkItemID != 42 {
		t.Fatalf("first link = %+v", links[0])
	}
}

func TestClaimActionConcurrentExactlyOne(t *testing.T) {
	s := storetest.New(t)
	var claimedN atomic.Int32
	ok, _ := race(t, 50, func() error {
		_, claimed, err := s.ClaimAction(ctx, key("hot"), alice, "Alice", "m", time.Minute)
		if claimed {
			claimedN.Add(1)
		}
		return err
	})
	if ok != 50 || claimedN.Load() != 1 {
		t.Fatalf("ok %d, claimed %d; want 50 and 1", ok, claimedN.Load())
	}
}

func TestClaimTakeoverConcurrentExactlyOne(t *testing.T) {
	s, clk, _ := openWithClock(t)
	if _, claimed, _ := s.ClaimAction(ctx, key("stale"), alice, "Alice", "m0", time.Minute); !claimed {
		t.Fatal("initial claim")
	}
	clk.Advance(time.Hour)
	var claimedN atomic.Int32
	ok, _ := race(t, 30, func() error {
		l, claimed, err := s.ClaimAction(ctx, key("stale"), bob, "Bob", "m1", time.Minute)
		if claimed {
			claimedN.Add(1)
			if l.Marker != "m0" {
				return fmt.Errorf("takeover lost the marker: %q", l.Marker)
			}
		}
		return err
	})
	if ok != 30 || claimedN.Load() != 1 {
		t.Fatalf("ok %d, claimed %d; want 30 and 1", ok, claimedN.Load())
	}
}

func TestPurgeConversation(t *testing.T) {
	s := storetest.New(t)
	if err := s.SaveConversationRef(ctx, &devopsbot.ConversationRef{ConversationID: "19:gone", ConversationType: "groupChat"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveConversationRef(ctx, &devopsbot.ConversationRef{ConversationID: "19:kept", ConversationType: "groupChat"}); err != nil {
		t.Fatal(err)
	}
	gone, _, err := s.InsertSummary(ctx, sampleSummary("19:gone", "d1"))
	if err != nil {
		t.Fatal(err)
	}
	kept, _, err := s.InsertSummary(ctx, sampleSummary("19:kept", "d1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{gone.ID, kept.ID} {
		if _, _, err := s.ClaimAction(ctx, devopsbot.ActionKey{SummaryID: id, InsightID: "i1", Action: devopsbot.ActionCreate}, alice, "A", "m", time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	job, _, err := s.CreateMeetingJob(ctx, &devopsbot.MeetingJob{ID: devopsbot.MeetingJobID("19:gone", "m1"), ConversationID: "19:gone", MeetingID: "m1", JoinURL: "https://teams.microsoft.com/l/meetup-join/x", NextAttemptAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetMeetingSummaries(ctx, "19:gone", false); err != nil {
		t.Fatal(err)
	}
	if err := s.PurgeConversation(ctx, "19:gone"); err != nil {
		t.Fatal(err)
	}
	// A removed chat's meeting jobs must not post into it later, and a new
	// install starts with the default setting.
	_, err = s.GetMeetingJob(ctx, job.ID)
	wantKind(t, err, apperr.NotFound)
	if on, err := s.MeetingSummariesOn(ctx, "19:gone"); err != nil || !on {
		t.Fatalf("setting after purge: %v %v", on, err)
	}
	_, err = s.GetConversationRef(ctx, "19:gone")
	wantKind(t, err, apperr.NotFound)
	_, err = s.GetSummary(ctx, gone.ID)
	wantKind(t, err, apperr.NotFound)
	if links, err := s.ListLinks(ctx, gone.ID); err != nil || len(links) != 0 {
		t.Fatalf("links of purged summary: %v, %v", links, err)
	}
	if _, err := s.GetConversationRef(ctx, "19:kept"); err != nil {
		t.Fatalf("other chat purged: %v", err)
	}
	if _, err := s.GetSummary(ctx, kept.ID); err != nil {
		t.Fatalf("other summary purged: %v", err)
	}
	if links, _ := s.ListLinks(ctx, kept.ID); len(links) != 1 {
		t.Fatalf("other links purged: %v", links)
	}
}

func TestPrefs(t *testing.T) {
	s, clk, _ := openWithClock(t)
	p, err := s.GetPrefs(ctx, alice)
	if err != nil || *p != (devopsbot.Prefs{}) {
		t.Fatalf("GetPrefs before save = %+v, %v; want zero", p, err)
	}
	want := devopsbot.Prefs{Project: "Web", WorkItemType: "User Story", AreaPath: `Web\Team A`, IterationPath: `Web\Sprint 9`}
	if err := s.SavePrefs(ctx, alice, want); err != nil {
		t.Fatal(err)
	}
	want.UpdatedAt = clk.Now()
	if p, err := s.GetPrefs(ctx, alice); err != nil || *p != want {
		t.Fatalf("GetPrefs = %+v, %v; want %+v", p, err, want)
	}
	if p, _ := s.GetPrefs(ctx, bob); *p != (devopsbot.Prefs{}) {
		t.Fatalf("bob sees alice's prefs: %+v", p)
	}
}

func TestAudit(t *testing.T) {
	s, clk, cfg := openWithClock(t)
	for i := range 3 {
		if err := s.AddAudit(ctx, devopsbot.AuditRecord{User: alice, UserName: "Alice", Action: "create", WorkItemID: 100 + i, Outcome: "ok"}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second)
	}
	if err := s.AddAudit(ctx, devopsbot.AuditRecord{User: bob, Action: "comment", Outcome: "ok"}); err != nil {
		t.Fatal(err)
	}
	recs := storetest.AuditRecords(t, cfg, alice)
	if len(recs) != 3 || recs[0].WorkItemID != 102 || recs[2].WorkItemID != 100 || recs[0].UserName != "Alice" || recs[0].Outcome != "ok" {
		t.Fatalf("stored audit = %+v; want alice's three records", recs)
	}
	clk.Advance(store.DefaultAuditRetention)
	if n, err := s.Sweep(ctx); err != nil || n != 4 {
		t.Fatalf("Sweep = %d, %v; want 4", n, err)
	}
}

func TestRememberWebhook(t *testing.T) {
	s, clk, _ := openWithClock(t)
	st, body, first, err := s.RememberWebhook(ctx, "msg_1", 202, []byte(`{"ok":true}`))
	if err != nil || !first || st != 202 || string(body) != `{"ok":true}` {
		t.Fatalf("first = %d %q %v %v", st, body, first, err)
	}
	st, body, first, err = s.RememberWebhook(ctx, "msg_1", 500, []byte("other"))
	if err != nil || first || st != 202 || string(body) != `{"ok":true}` {
		t.Fatalf("repeat = %d %q %v %v; want the first answer", st, body, first, err)
	}
	clk.Advance(store.WebhookRetention)
	if _, _, first, err := s.RememberWebhook(ctx, "msg_1", 200, nil); err != nil || !first {
		t.Fatalf("after 24h = %v, %v; want a new first", first, err)
	}
	_, _, _, err = s.RememberWebhook(ctx, "", 200, nil)
	wantKind(t, err, apperr.Invalid)

	var firsts atomic.Int32
	race(t, 20, func() error {
		_, _, first, err := s.RememberWebhook(ctx, "msg_race", 200, nil)
		if first {
			firsts.Add(1)
		}
		return err
	})
	if firsts.Load() != 1 {
		t.Fatalf("%d callers were first, want 1", firsts.Load())
	}
}

func TestSweepRemovesExpiredSummariesWithLinksAndStaleClaims(t *testing.T) {
	s, clk, _ := openWithClock(t)
	sm, _, err := s.InsertSummary(ctx, sampleSummary("19:c", "d"))
	if err != nil {
		t.Fatal(err)
	}
	l, _, err := s.ClaimAction(ctx, devopsbot.ActionKey{SummaryID: sm.ID, InsightID: "i1", Action: devopsbot.ActionCreate}, alice, "A", "m", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	l.WorkItemID = 7
	if err := s.CompleteAction(ctx, l); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.ClaimAction(ctx, devopsbot.ActionKey{SummaryID: "other", InsightID: "i1", Action: devopsbot.ActionCreate}, alice, "A", "m", time.Minute); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("early Sweep = %d, %v; want 0", n, err)
	}
	clk.Advance(48 * time.Hour) // the claim on "other" is abandoned for more than a day
	if n, err := s.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1 stale claim", n, err)
	}
	clk.Advance(store.DefaultSummaryRetention)
	// The summary, its link and the markers of both actions.
	if n, err := s.Sweep(ctx); err != nil || n != 4 {
		t.Fatalf("Sweep = %d, %v; want 4", n, err)
	}
	if links, err := s.ListLinks(ctx, "other"); err != nil || len(links) != 0 {
		t.Fatalf("stale claim survived: %+v, %v", links, err)
	}
	if links, _ := s.ListLinks(ctx, sm.ID); len(links) != 0 {
		t.Fatalf("links survived their summary: %+v", links)
	}
}

func TestTwoStoresShareTheDatabase(t *testing.T) {
	cfg := storetest.Config(t)
	a, b := storetest.Open(t, cfg), storetest.Open(t, cfg)
	if err := a.SaveConnection(ctx, sampleConn(alice)); err != nil {
		t.Fatal(err)
	}
	if got, err := b.GetConnection(ctx, alice); err != nil || got.AccessToken != accessTok {
		t.Fatalf("replica b: %v, %v", got, err)
	}
	st := &devopsbot.OAuthState{User: alice, CodeVerifier: verifier}
	if err := b.CreateOAuthState(ctx, st); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ConsumeOAuthState(ctx, st.ID); err != nil {
		t.Fatalf("replica a consuming b's state: %v", err)
	}
	if _, err := b.ConsumeOAuthState(ctx, st.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("b consumed a state a already used: %v", err)
	}
	if _, claimed, _ := a.ClaimAction(ctx, key("x"), alice, "A", "m", time.Minute); !claimed {
		t.Fatal("a's claim")
	}
	if _, claimed, _ := b.ClaimAction(ctx, key("x"), bob, "B", "m", time.Minute); claimed {
		t.Fatal("b claimed what a holds")
	}
}

func TestOpenUnreachableFailsClearly(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	keys, err := store.NewKeyring(bytes.Repeat([]byte{3}, store.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.Open(ctx, store.Config{URI: "mongodb://bot:s3cret-pa55@" + addr + "/?directConnection=true", Keys: keys,
		OpTimeout: 300 * time.Millisecond})
	wantKind(t, err, apperr.Unavailable)
	if msg := apperr.UserMessage(err); !strings.Contains(msg, addr) {
		t.Fatalf("message %q does not name the host %s", msg, addr)
	}
	if strings.Contains(err.Error(), "s3cret-pa55") {
		t.Fatalf("error leaks the password: %v", err)
	}
	_, err = store.Open(ctx, store.Config{URI: "mongodb://bot:s3cret-pa55@", Keys: keys})
	if err == nil || strings.Contains(err.Error(), "s3cret-pa55") {
		t.Fatalf("bad URI: %v", err)
	}
	_, err = store.Open(ctx, store.Config{URI: "mongodb://127.0.0.1:1"})
	wantKind(t, err, apperr.Invalid)
}

func TestPingAndClosedStore(t *testing.T) {
	cfg := storetest.Config(t)
	s, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	wantKind(t, s.Ping(ctx), apperr.Unavailable)
	_, err = s.GetConnection(ctx, alice)
	wantKind(t, err, apperr.Unavailable)
	if msg := apperr.UserMessage(err); msg != "The database is unavailable right now" {
		t.Fatalf("message = %q", msg)
	}
}
