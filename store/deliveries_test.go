package store_test

import (
	"testing"
	"time"

	"github.com/sally-devops/devopsbot"
)

// CountDeliveries (for metrics) is this backend's own; the rules of deliveries
// are in the conformance suite.
func TestCountDeliveries(t *testing.T) {
	s, clk, _ := openWithClock(t)
	for _, id := range []string{"s1", "s2"} {
		if _, _, err := s.CreateDelivery(ctx, &devopsbot.Delivery{SummaryID: id, ConversationID: "19:c@thread.v2", NextAttemptAt: clk.Now().Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	d, err := s.GetDelivery(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	d.State, d.ActivityIDs = devopsbot.DeliveryPosted, []string{"a1"}
	if err := s.SaveDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	if n, err := s.CountDeliveries(ctx); err != nil || n[devopsbot.DeliveryPosted] != 1 || n[devopsbot.DeliveryPending] != 1 || n[devopsbot.DeliveryFailed] != 0 {
		t.Fatalf("counts %v %v", n, err)
	}
}
