package store_test

import (
	"sync"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/store"
	"github.com/sally-devops/devopsbot/store/storetest"
)

// calls runs f and returns how many database commands the store sent meanwhile.
func calls(s *store.Store, f func()) int64 {
	before := s.CommandCount()
	f()
	return s.CommandCount() - before
}

func TestCommandsAreCountedPerOperation(t *testing.T) {
	cfg := storetest.Config(t)
	var mu sync.Mutex
	var heard []string
	cfg.OnCommand = func(command, collection string) {
		mu.Lock()
		defer mu.Unlock()
		heard = append(heard, command+" "+collection)
	}
	s := storetest.Open(t, cfg)
	mu.Lock()
	heard = nil
	mu.Unlock()
	before := s.CommandCounts()["find connections"]
	if n := calls(s, func() { _, _ = s.GetConnection(ctx, alice) }); n != 1 {
		t.Fatalf("reading a connection made %d database calls, want 1", n)
	}
	if got := s.CommandCounts()["find connections"] - before; got != 1 {
		t.Fatalf("find connections counted %d times, want 1 (all: %v)", got, s.CommandCounts())
	}
	mu.Lock()
	got := append([]string(nil), heard...)
	mu.Unlock()
	if len(got) != 1 || got[0] != "find connections" {
		t.Fatalf("OnCommand heard %q, want [find connections]", got)
	}
	if n := calls(s, func() { _ = s.Ping(ctx) }); n != 1 || s.CommandCounts()["ping"] == 0 {
		t.Fatalf("a ping made %d calls, counted as %v", n, s.CommandCounts())
	}
}

// Two replicas on one database: what one caches, it serves without a round
// trip; what another replica purges reaches it within CacheTTL; its own writes
// show at once.
func TestSummaryCacheAcrossReplicas(t *testing.T) {
	cfg := storetest.Config(t)
	clk := newClock()
	cfg.Now = clk.Now
	a := storetest.Open(t, cfg)
	b := storetest.Open(t, cfg)
	sm, _, err := a.InsertSummary(ctx, sampleSummary("19:chat", "src-1"))
	if err != nil {
		t.Fatal(err)
	}
	if n := calls(a, func() { _, err = a.GetSummaryCached(ctx, sm.ID) }); n != 0 || err != nil {
		t.Fatalf("the replica that stored the summary read it with %d calls (%v), want 0", n, err)
	}
	if n := calls(b, func() { _, err = b.GetSummaryCached(ctx, sm.ID) }); n != 1 || err != nil {
		t.Fatalf("first read on the other replica: %d calls (%v), want 1", n, err)
	}
	var got *devopsbot.Summary
	if n := calls(b, func() { got, err = b.GetSummaryCached(ctx, sm.ID) }); n != 0 || err != nil || got.Meeting.Title != "Weekly sync" || len(got.Insights) != 2 {
		t.Fatalf("second read: %d calls, %+v, %v; want the summary from the cache", n, got, err)
	}

	// Posted cards may change; GetSummary reads them fresh, the writer's cache follows its own write.
	posted := []devopsbot.PostedCard{{ActivityID: "act-1", InsightIDs: []string{"i1"}}}
	if err := a.SetSummaryCards(ctx, sm.ID, posted); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.GetSummaryCached(ctx, sm.ID); len(got.Cards) != 1 || got.Cards[0].ActivityID != "act-1" {
		t.Fatalf("the writer's cached cards: %+v", got.Cards)
	}
	if got, _ := b.GetSummary(ctx, sm.ID); len(got.Cards) != 1 {
		t.Fatalf("GetSummary on the other replica: cards %+v, want the posted one", got.Cards)
	}

	// A purge on replica a: a forgets at once, b within CacheTTL.
	if err := a.PurgeConversation(ctx, "19:chat"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.GetSummaryCached(ctx, sm.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("the purging replica still serves the summary: %v", err)
	}
	if _, err := b.GetSummaryCached(ctx, sm.ID); err != nil {
		t.Fatalf("within CacheTTL the other replica may still serve it: %v", err)
	}
	clk.Advance(store.DefaultCacheTTL)
	if _, err := b.GetSummaryCached(ctx, sm.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("CacheTTL after a purge elsewhere the summary is still served: %v", err)
	}
}

func TestPrefsAreCachedWriteThrough(t *testing.T) {
	cfg := storetest.Config(t)
	clk := newClock()
	cfg.Now = clk.Now
	a := storetest.Open(t, cfg)
	b := storetest.Open(t, cfg)
	var p *devopsbot.Prefs
	var err error
	if n := calls(a, func() { p, err = a.GetPrefsCached(ctx, alice) }); n != 1 || err != nil || *p != (devopsbot.Prefs{}) {
		t.Fatalf("first read: %d calls, %+v, %v", n, p, err)
	}
	if n := calls(a, func() { p, err = a.GetPrefsCached(ctx, alice) }); n != 0 || err != nil {
		t.Fatalf("none saved is cached too: %d calls (%v)", n, err)
	}
	want := devopsbot.Prefs{Project: "Web", WorkItemType: "Bug", AreaPath: "Web", IterationPath: `Web\Sprint 1`}
	if err := a.SavePrefs(ctx, alice, want); err != nil {
		t.Fatal(err)
	}
	if n := calls(a, func() { p, err = a.GetPrefsCached(ctx, alice) }); n != 0 || err != nil || p.Project != "Web" || p.AreaPath != "Web" {
		t.Fatalf("after a save: %d calls, %+v, %v; want the saved prefs from the cache", n, p, err)
	}
	// Another replica's cache catches up within CacheTTL.
	if _, err := b.GetPrefsCached(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if err := a.SavePrefs(ctx, alice, devopsbot.Prefs{Project: "Mobile"}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(store.DefaultCacheTTL)
	if p, _ := b.GetPrefsCached(ctx, alice); p.Project != "Mobile" {
		t.Fatalf("CacheTTL after another replica's save: %+v", p)
	}
}

func TestKnownDoneLinks(t *testing.T) {
	cfg := storetest.Config(t)
	clk := newClock()
	cfg.Now = clk.Now
	a := storetest.Open(t, cfg)
	b := storetest.Open(t, cfg)
	sm, _, err := a.InsertSummary(ctx, sampleSummary("19:chat", "src-1"))
	if err != nil {
		t.Fatal(err)
	}
	key := devopsbot.ActionKey{SummaryID: sm.ID, InsightID: "i1", Action: devopsbot.ActionCreate}
	link, claimed, err := a.ClaimAction(ctx, key, alice, "Alice", "m1", time.Minute)
	if err != nil || !claimed {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	if got := a.KnownDoneLinks(sm.ID); len(got) != 0 {
		t.Fatalf("a pending claim is known as done: %+v", got)
	}
	link.WorkItemID, link.WorkItemTitle = 42, "Ship it"
	if err := a.CompleteAction(ctx, link); err != nil {
		t.Fatal(err)
	}
	var got []devopsbot.InsightLink
	if n := calls(a, func() { got = a.KnownDoneLinks(sm.ID) }); n != 0 || len(got) != 1 || got[0].WorkItemID != 42 || got[0].Key != key {
		t.Fatalf("after completing: %d calls, %+v", n, got)
	}
	if got := b.KnownDoneLinks(sm.ID); len(got) != 0 {
		t.Fatalf("a replica that never saw the result knows it: %+v", got)
	}
	// A claim still at work is no result.
	if _, _, err := a.ClaimAction(ctx, devopsbot.ActionKey{SummaryID: sm.ID, InsightID: "i2", Action: devopsbot.ActionCreate}, bob, "Bob", "m2", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ListLinks(ctx, sm.ID); err != nil {
		t.Fatal(err)
	}
	if got := b.KnownDoneLinks(sm.ID); len(got) != 1 || got[0].WorkItemID != 42 {
		t.Fatalf("after listing: %+v", got)
	}
	if err := a.PurgeConversation(ctx, "19:chat"); err != nil {
		t.Fatal(err)
	}
	if got := a.KnownDoneLinks(sm.ID); len(got) != 0 {
		t.Fatalf("the purging replica still knows the result: %+v", got)
	}
	clk.Advance(store.DefaultCacheTTL)
	if got := b.KnownDoneLinks(sm.ID); len(got) != 0 {
		t.Fatalf("CacheTTL after a purge elsewhere the result is still known: %+v", got)
	}
}

func TestCacheCanBeTurnedOff(t *testing.T) {
	cfg := storetest.Config(t)
	cfg.CacheTTL = -1
	s := storetest.Open(t, cfg)
	sm, _, err := s.InsertSummary(ctx, sampleSummary("19:chat", "src-1"))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if n := calls(s, func() { _, err = s.GetSummaryCached(ctx, sm.ID) }); n != 1 || err != nil {
			t.Fatalf("with the cache off a read made %d calls (%v), want 1", n, err)
		}
	}
}

// A meeting summary upgraded with Copilot's insights is no longer served from
// the cache of the replica that upgraded it.
func TestReplacedSummaryContentIsNotServedStale(t *testing.T) {
	s := storetest.New(t)
	sm, _, err := s.InsertSummary(ctx, sampleSummary("19:chat", "src-1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSummaryCached(ctx, sm.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceSummaryContent(ctx, sm.ID, "k2", []devopsbot.Insight{{ID: "c1", Kind: devopsbot.KindTask, Text: "From Copilot"}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetSummaryCached(ctx, sm.ID)
	if err != nil || len(got.Insights) != 1 || got.Insights[0].ID != "c1" {
		t.Fatalf("after the upgrade: %+v, %v; want Copilot's insight", got, err)
	}
}
