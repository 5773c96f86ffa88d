package store_test

import (
	"sync"
	"testing"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/store"
	"github.com/sally-devops/devopsbot/store/storetest"
	"github.com/sally-devops/devopsbot/summary"
)

func pastedSummary(conv string) *devopsbot.Summary {
	sm := sampleSummary(conv, "")
	sm.PostedBy = "Adele Vance"
	sm.ContentKey = summary.ContentKey(sm.Meeting, sm.Insights)
	return sm
}

func TestPastedSummaryIsStoredOncePerContentAndChat(t *testing.T) {
	s := storetest.New(t)
	first, created, err := s.InsertSummary(ctx, pastedSummary("19:chat"))
	if err != nil || !created || first.ID != store.ContentSummaryID(first.ContentKey, "19:chat") || first.ContentKey == "" {
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

// Two people pasting the same notes at once still make one summary: the
// derived _id lets one insert win, without a read-modify-write.
func TestConcurrentPastesStoreOne(t *testing.T) {
	s := storetest.New(t)
	var mu sync.Mutex
	createdN := 0
	ids := map[string]bool{}
	ok, _ := race(t, 20, func() error {
		sm, created, err := s.InsertSummary(ctx, pastedSummary("19:chat"))
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
