// Package conformance is the behaviour every backend of the domain interfaces
// (devopsbot's services.go) must show, written once: package store runs it on
// MongoDB/FerretDB, package memstore in memory. A rule the bot relies on (one
// summary per delivery and chat, one winner per claim, a sign-in state used
// once, a removed chat forgotten) belongs here, so that a second backend cannot
// pass its own tests while breaking the bot. What only one backend has
// (encryption at rest, TTL indexes, outages, command counts) stays in its tests.
package conformance

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/summary"
)

// Store is everything a backend implements: devopsbot.Store.
type Store = devopsbot.Store

// Backend says how to open the backend under test and which lifetimes it
// promises (the suite moves its clock past them).
type Backend struct {
	// Open returns an empty store that reads time from now. replica, when not
	// nil, opens another handle on the same data, as a second bot replica
	// would; the "once across replicas" rules are then checked across both.
	Open func(t *testing.T, now func() time.Time) (s Store, replica func() Store)

	StateLifetime    time.Duration // OAuth states and pending logins
	SummaryRetention time.Duration // summaries, deliveries and meeting jobs
	WebhookRetention time.Duration // remembered webhook answers
}

// Run checks every rule on fresh stores opened by b.
func Run(t *testing.T, b Backend) {
	for _, c := range []struct {
		name string
		f    func(*testing.T, *env)
	}{
		{"ConnectionRoundTrip", testConnectionRoundTrip},
		{"ConnectedUsersAreTheActiveOnes", testConnectedUsers},
		{"HostileUserKeysAreRefused", testHostileUserKeys},
		{"HostileIDsAreRefused", testHostileIDs},
		{"UpdateTokensKeepsTheNewest", testUpdateTokensKeepsTheNewest},
		{"OAuthStateIsConsumedOnce", testOAuthStateConsumedOnce},
		{"OAuthStateConcurrentConsumeExactlyOnce", testOAuthStateConcurrentConsume},
		{"SignInsExpire", testSignInsExpire},
		{"PendingLoginRoundTripAndExactlyOnce", testPendingLogin},
		{"ConversationRefs", testConversationRefs},
		{"Summaries", testSummaries},
		{"InsertSummaryConcurrentlyStoresOne", testInsertSummaryConcurrently},
		{"PastedSummaryIsStoredOncePerContentAndChat", testPastedOncePerContent},
		{"ConcurrentPastesStoreOne", testConcurrentPastes},
		{"SummaryContentLookupAndReplace", testSummaryContent},
		{"ClaimCompleteRelease", testClaimCompleteRelease},
		{"ClaimActionConcurrentExactlyOne", testClaimConcurrent},
		{"ClaimTakeoverConcurrentExactlyOne", testClaimTakeoverConcurrent},
		{"PurgeConversation", testPurgeConversation},
		{"Prefs", testPrefs},
		{"Audit", testAudit},
		{"RememberWebhook", testRememberWebhook},
		{"LookupWebhook", testLookupWebhook},
		{"FirstTimeOnceAcrossRacingReplicas", testFirstTime},
		{"DeliveryRecords", testDeliveryRecords},
		{"DeliveriesDueInOrderWithinLimit", testDeliveriesDueOrder},
		{"MeetingJobCreatedOnceAndDue", testMeetingJobCreatedOnce},
		{"MeetingJobsDueInOrderWithinLimit", testMeetingJobsDueOrder},
		{"MeetingJobsSweptAfterRetention", testMeetingJobsSwept},
		{"MeetingSummariesOnByDefaultAndSwitchable", testMeetingSummariesSetting},
		{"ChatDefaultsKeptAndForgotten", testChatDefaults}, // chatdefaults.go
		{"LeaseOneHolderAndTakeover", testLeases},
	} {
		t.Run(c.name, func(t *testing.T) {
			clk := newClock()
			s, replica := b.Open(t, clk.Now)
			if replica == nil {
				replica = func() Store { return s }
			}
			c.f(t, &env{Backend: b, s: s, replica: replica, clk: clk})
		})
	}
}

// env is one test's store, its clock and the backend's promises.
type env struct {
	Backend
	s       Store
	replica func() Store
	clk     *clock
}

// clock is a settable time source, so expiry is tested without sleeping.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

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

// race runs f in n goroutines released at once and counts successes and NotFound or
// Conflict results; any other error fails the test.
func race(t *testing.T, n int, f func(i int) error) (ok, lost int) {
	t.Helper()
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			<-start
			errs <- f(i)
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

// either alternates between the store and a replica, so racing callers come
// from two processes where the backend has them.
func (e *env) either() func(i int) Store {
	other := e.replica()
	return func(i int) Store {
		if i%2 == 1 {
			return other
		}
		return e.s
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

// pastedSummary is a summary without a source id but with a content key, as
// the bot stores a paste.
func pastedSummary(conv string) *devopsbot.Summary {
	sm := sampleSummary(conv, "")
	sm.PostedBy = "Adele Vance"
	sm.ContentKey = summary.ContentKey(sm.Meeting, sm.Insights)
	return sm
}

func key(insight string) devopsbot.ActionKey {
	return devopsbot.ActionKey{SummaryID: "sum-1", InsightID: insight, Action: devopsbot.ActionCreate}
}
