package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/store/storetest"
)

// A lease is held by one caller at a time across replicas, is refused while
// live, and is taken over by exactly one caller once it expires.
func TestLeaseOneHolderAndTakeover(t *testing.T) {
	s, clk, cfg := openWithClock(t)
	other := storetest.Open(t, cfg)
	ctx := context.Background()
	var holders atomic.Int32
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := s
			if i%2 == 1 {
				st = other
			}
			if _, ok, err := st.AcquireLease(ctx, "delivery:s1", time.Minute); err != nil {
				t.Error(err)
			} else if ok {
				holders.Add(1)
			}
		}()
	}
	wg.Wait()
	if holders.Load() != 1 {
		t.Fatalf("%d holders of one lease", holders.Load())
	}
	clk.Advance(2 * time.Minute) // the holder died: its lease expired
	holders.Store(0)
	var leases sync.Map
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if id, ok, err := s.AcquireLease(ctx, "delivery:s1", time.Minute); err != nil {
				t.Error(err)
			} else if ok {
				holders.Add(1)
				leases.Store(i, id)
			}
		}()
	}
	wg.Wait()
	if holders.Load() != 1 {
		t.Fatalf("%d callers took over one expired lease", holders.Load())
	}
	var id string
	leases.Range(func(_, v any) bool { id = v.(string); return false })
	if err := s.ReleaseLease(ctx, "delivery:s1", id); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := other.AcquireLease(ctx, "delivery:s1", time.Minute); !ok {
		t.Fatal("a released lease could not be taken")
	}
}

// Deliveries are created once, listed when due by the caller's clock, and
// counted by state.
func TestDeliveryRecords(t *testing.T) {
	s, _, _ := openWithClock(t)
	ctx := context.Background()
	now := time.Now()
	d := &devopsbot.Delivery{SummaryID: "s1", SourceID: "src", ConversationID: "19:c@thread.v2", ServiceURL: "https://x", NextAttemptAt: now.Add(time.Minute)}
	if _, created, err := s.CreateDelivery(ctx, d); err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	if got, created, err := s.CreateDelivery(ctx, &devopsbot.Delivery{SummaryID: "s1", ConversationID: "19:c@thread.v2"}); err != nil || created || got.SourceID != "src" {
		t.Fatalf("repeat: %+v %v %v", got, created, err)
	}
	if due, _ := s.DueDeliveries(ctx, now, 10); len(due) != 0 {
		t.Fatalf("due before its time: %v", due)
	}
	if due, _ := s.DueDeliveries(ctx, now.Add(2*time.Minute), 10); len(due) != 1 || due[0].State != devopsbot.DeliveryPending {
		t.Fatalf("due: %+v", due)
	}
	d.State, d.ActivityIDs = devopsbot.DeliveryPosted, []string{"a1"}
	if err := s.SaveDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.DueDeliveries(ctx, now.Add(time.Hour), 10); len(due) != 0 {
		t.Fatal("a posted delivery is still due")
	}
	if ds, _ := s.DeliveriesOf(ctx, "src"); len(ds) != 1 || ds[0].ActivityIDs[0] != "a1" {
		t.Fatalf("deliveries of src: %+v", ds)
	}
	if n, err := s.CountDeliveries(ctx); err != nil || n[devopsbot.DeliveryPosted] != 1 || n[devopsbot.DeliveryPending] != 0 {
		t.Fatalf("counts %v %v", n, err)
	}
}
