package store_test

import (
	"testing"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/store/storetest"
)

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
	clk.Advance(devopsbot.AuditRetention)
	if n, err := s.Sweep(ctx); err != nil || n != 4 {
		t.Fatalf("Sweep = %d, %v; want 4", n, err)
	}
}
