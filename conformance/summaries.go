package conformance

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/summary"
)

func testConversationRefs(t *testing.T, e *env) {
	s, clk := e.s, e.clk
	_, err := s.GetConversationRef(ctx, "19:none")
	wantKind(t, err, apperr.NotFound)
	wantKind(t, s.SaveConversationRef(ctx, nil), apperr.Invalid)
	group := &devopsbot.ConversationRef{ConversationID: "19:meeting_abc@thread.v2", ServiceURL: "https://smba/emea/", TenantID: "tenant-1",
		BotID: "28:bot", BotName: "Sally", ConversationType: "groupChat"}
	personalOld := &devopsbot.ConversationRef{ConversationID: "a:old", ServiceURL: "https://smba/emea/", TenantID: "tenant-1",
		BotID: "28:bot", ConversationType: "personal", UserAADObjectID: "alice-oid"}
	for _, r := range []*devopsbot.ConversationRef{group, personalOld} {
		if err := s.SaveConversationRef(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if !group.UpdatedAt.Equal(clk.Now()) {
		t.Fatalf("SaveConversationRef stamped %v, want the store's now %v", group.UpdatedAt, clk.Now())
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
	_, err = s.FindPersonalConversationByUser(ctx, "")
	wantKind(t, err, apperr.NotFound)
	// A group chat is never someone's personal chat.
	if err := s.SaveConversationRef(ctx, &devopsbot.ConversationRef{ConversationID: "19:g2", ConversationType: "groupChat", UserAADObjectID: "carol-oid"}); err != nil {
		t.Fatal(err)
	}
	_, err = s.FindPersonalConversationByUser(ctx, "carol-oid")
	wantKind(t, err, apperr.NotFound)

	// Teams moved the chat to another service URL: the latest wins.
	group.ServiceURL = "https://smba/amer/"
	if err := s.SaveConversationRef(ctx, group); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.replica().GetConversationRef(ctx, group.ConversationID); got.ServiceURL != "https://smba/amer/" {
		t.Fatalf("service URL not updated: %q", got.ServiceURL)
	}
}

func testSummaries(t *testing.T, e *env) {
	s, clk := e.s, e.clk
	_, _, err := s.InsertSummary(ctx, nil)
	wantKind(t, err, apperr.Invalid)
	in := sampleSummary("19:chat", "delivery-1")
	got, created, err := s.InsertSummary(ctx, in)
	if err != nil || !created {
		t.Fatalf("InsertSummary = %v, %v", created, err)
	}
	if got.ID == "" || !got.CreatedAt.Equal(clk.Now()) || !got.ExpiresAt.Equal(clk.Now().Add(e.SummaryRetention)) {
		t.Fatalf("id %q created %v expires %v", got.ID, got.CreatedAt, got.ExpiresAt)
	}
	read, err := s.GetSummary(ctx, got.ID)
	if err != nil || fmt.Sprint(*read) != fmt.Sprint(*got) {
		t.Fatalf("GetSummary:\n got %+v, %v\nwant %+v", read, err, got)
	}
	if read.Meeting.Title != "Weekly sync" || len(read.Insights) != 2 || read.Insights[0].Text != "Ship the <release>" {
		t.Fatalf("content lost: %+v", read)
	}
	// Copies in, copies out: nobody changes a stored summary by holding one.
	in.Insights[0].Text, read.Insights[1].Text, got.Meeting.Participants[0] = "changed", "changed", "changed"
	if again, _ := s.GetSummary(ctx, got.ID); again.Insights[0].Text != "Ship the <release>" ||
		again.Insights[1].Text != "Use MongoDB" || again.Meeting.Participants[0] != "Alice" {
		t.Fatalf("stored summary changed through a caller's value: %+v", again)
	}
	if cached, err := s.GetSummaryCached(ctx, got.ID); err != nil || cached.Meeting.Title != "Weekly sync" {
		t.Fatalf("GetSummaryCached = %+v, %v", cached, err)
	}

	// The sender retries: the first summary comes back, nothing new is stored.
	again := sampleSummary("19:chat", "delivery-1")
	again.Meeting.Title = "changed"
	got2, created, err := e.replica().InsertSummary(ctx, again)
	if err != nil || created || got2.ID != got.ID || got2.Meeting.Title != "Weekly sync" {
		t.Fatalf("second insert = %+v, %v, %v", got2, created, err)
	}
	// The same delivery to another chat is another summary.
	if other, created, err := s.InsertSummary(ctx, sampleSummary("19:other", "delivery-1")); err != nil || !created || other.ID == got.ID {
		t.Fatalf("other chat: %v %v", created, err)
	}
	// Pasted summaries without a content key have no source id and are always new.
	p1, c1, err1 := s.InsertSummary(ctx, sampleSummary("19:chat", ""))
	p2, c2, err2 := s.InsertSummary(ctx, sampleSummary("19:chat", ""))
	if err1 != nil || err2 != nil || !c1 || !c2 || p1.ID == p2.ID {
		t.Fatalf("pasted: %v %v %v %v", c1, c2, err1, err2)
	}

	cards := []devopsbot.PostedCard{{ActivityID: "act-1", InsightIDs: []string{"i1", "i2"}}}
	if err := s.SetSummaryCards(ctx, got.ID, cards); err != nil {
		t.Fatal(err)
	}
	cards[0].InsightIDs[0] = "changed"
	if read, _ := s.GetSummary(ctx, got.ID); fmt.Sprint(read.Cards) != fmt.Sprint([]devopsbot.PostedCard{{ActivityID: "act-1", InsightIDs: []string{"i1", "i2"}}}) {
		t.Fatalf("cards = %+v", read.Cards)
	}
	wantKind(t, s.SetSummaryCards(ctx, "nope", cards), apperr.NotFound)
	_, err = s.GetSummary(ctx, "nope")
	wantKind(t, err, apperr.NotFound)

	// Past retention it is gone for readers before any sweep.
	clk.Advance(e.SummaryRetention)
	_, err = s.GetSummary(ctx, got.ID)
	wantKind(t, err, apperr.NotFound)
	// And a new delivery with the same id starts afresh instead of returning the old one.
	fresh, created, err := s.InsertSummary(ctx, sampleSummary("19:chat", "delivery-1"))
	if err != nil || !created || !fresh.CreatedAt.Equal(clk.Now()) || len(fresh.Cards) != 0 {
		t.Fatalf("re-insert after expiry = %+v, %v, %v", fresh, created, err)
	}
}

// insertRace inserts make() from 20 callers at once and checks that one was
// created and all got the same summary back.
func insertRace(t *testing.T, e *env, make func() *devopsbot.Summary) {
	t.Helper()
	pick := e.either()
	var mu sync.Mutex
	createdN := 0
	ids := map[string]bool{}
	ok, _ := race(t, 20, func(i int) error {
		sm, created, err := pick(i).InsertSummary(ctx, make())
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

func testInsertSummaryConcurrently(t *testing.T, e *env) {
	insertRace(t, e, func() *devopsbot.Summary { return sampleSummary("19:chat", "delivery-race") })
}

// Two people pasting the same notes at once still make one summary.
func testConcurrentPastes(t *testing.T, e *env) {
	insertRace(t, e, func() *devopsbot.Summary { return pastedSummary("19:chat") })
}

func testPastedOncePerContent(t *testing.T, e *env) {
	s := e.s
	first, created, err := s.InsertSummary(ctx, pastedSummary("19:chat"))
	if err != nil || !created || first.ContentKey == "" {
		t.Fatalf("first paste = %+v, %v, %v", first, created, err)
	}
	again := pastedSummary("19:chat")
	again.PostedBy = "Alex Wilber"
	got, created, err := s.InsertSummary(ctx, again)
	if err != nil || created || got.ID != first.ID || got.PostedBy != "Adele Vance" {
		t.Fatalf("re-paste = %+v, %v, %v; want the first summary back", got, created, err)
	}
	other, created, err := s.InsertSummary(ctx, pastedSummary("19:other"))
	if err != nil || !created || other.ID == first.ID {
		t.Fatalf("same content in another chat = %v, %v; want a summary of its own", created, err)
	}
	changed := pastedSummary("19:chat")
	changed.Insights[1].Text = "Use PostgreSQL"
	changed.ContentKey = summary.ContentKey(changed.Meeting, changed.Insights)
	if c, created, err := s.InsertSummary(ctx, changed); err != nil || !created || c.ID == first.ID {
		t.Fatalf("changed content = %v, %v; want a new summary", created, err)
	}
}

// The same content delivered under another id is found by its key (newest
// first, live only); a meeting's better source replaces a summary's content.
func testSummaryContent(t *testing.T, e *env) {
	s, clk := e.s, e.clk
	older := sampleSummary("19:chat", "src-a")
	older.ContentKey = "key-1"
	o, _, err := s.InsertSummary(ctx, older)
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	newer := sampleSummary("19:chat", "src-b")
	newer.ContentKey = "key-1"
	n, _, err := s.InsertSummary(ctx, newer)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.FindSummaryByContent(ctx, "19:chat", "key-1"); err != nil || got.ID != n.ID || got.ID == o.ID {
		t.Fatalf("FindSummaryByContent = %+v, %v; want the newest (%s)", got, err, n.ID)
	}
	_, err = s.FindSummaryByContent(ctx, "19:other", "key-1")
	wantKind(t, err, apperr.NotFound)
	_, err = s.FindSummaryByContent(ctx, "19:chat", "")
	wantKind(t, err, apperr.NotFound)

	ins := []devopsbot.Insight{{ID: "n1", Kind: devopsbot.KindTask, Text: "Better task", Source: devopsbot.SourceCopilot}}
	if err := s.ReplaceSummaryContent(ctx, n.ID, "key-2", ins); err != nil {
		t.Fatal(err)
	}
	ins[0].Text = "changed"
	got, err := s.GetSummary(ctx, n.ID)
	if err != nil || got.ContentKey != "key-2" || len(got.Insights) != 1 || got.Insights[0].Text != "Better task" || got.Meeting.Title != "Weekly sync" {
		t.Fatalf("after ReplaceSummaryContent: %+v, %v", got, err)
	}
	if got, err := s.FindSummaryByContent(ctx, "19:chat", "key-2"); err != nil || got.ID != n.ID {
		t.Fatalf("found by the new key: %+v, %v", got, err)
	}
	wantKind(t, s.ReplaceSummaryContent(ctx, "nope", "k", ins), apperr.NotFound)

	clk.Advance(e.SummaryRetention)
	_, err = s.FindSummaryByContent(ctx, "19:chat", "key-1")
	wantKind(t, err, apperr.NotFound)
}
