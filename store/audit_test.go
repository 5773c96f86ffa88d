package store_test

import (
	"testing"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/store"
)

func TestAudit(t *testing.T) {
	s, clk, _ := openWithClock(t)
	for i := range 3 {
		if err := s.AddAudit(ctx, devopsbot.AuditRecord{User: alice, UserName: "Alice", Action: "create", WorkItemID: 100 + i, Outcome: "ok"}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second)
	}
	if err := s.AddAudit(ctx, devopsbot.AuditRecord{User: bob, Action: "comment", Outcome: "ok"}); err != nil {
		t.Fatal(err)
	}
	recs, err := s.ListAudit(ctx, alice, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].WorkItemID != 102 || recs[1].WorkItemID != 101 || recs[0].User != alice || recs[0].UserName != "Alice" {
		t.Fatalf("ListAudit = %+v; want alice's newest two, newest first", recs)
	}
	clk.Advance(store.DefaultAuditRetention)
	if recs, _ := s.ListAudit(ctx, alice, 0); len(recs) != 0 {
		t.Fatalf("expired audit still listed: %+v", recs)
	}
	if n, err := s.Sweep(ctx); err != nil || n != 4 {
		t.Fatalf("Sweep = %d, %v; want 4", n, err)
	}
}
