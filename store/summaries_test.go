package store_test

import (
	"testing"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/store/storetest"
	"github.com/sally-devops/devopsbot/summary"
)

// This backend's summary ids are derived from what makes a summary the same one
// (a sender's id or a paste's content, in a chat), so that a unique _id lets one
// of racing inserts win on FerretDB too. The rules themselves are in the
// conformance suite.
func TestSummaryIDsAreDerived(t *testing.T) {
	s := storetest.New(t)
	got, _, err := s.InsertSummary(ctx, sampleSummary("19:chat", "delivery-1"))
	if err != nil || got.ID != devopsbot.SummaryID("delivery-1", "19:chat") {
		t.Fatalf("delivered summary id %q, %v; want SummaryID", got.ID, err)
	}
	pasted := sampleSummary("19:chat", "")
	pasted.ContentKey = summary.ContentKey(pasted.Meeting, pasted.Insights)
	p, _, err := s.InsertSummary(ctx, pasted)
	if err != nil || p.ID != devopsbot.ContentSummaryID(pasted.ContentKey, "19:chat") {
		t.Fatalf("pasted summary id %q, %v; want ContentSummaryID", p.ID, err)
	}
	if devopsbot.SummaryID("ab", "c") == devopsbot.SummaryID("a", "bc") {
		t.Fatal("ids of different parts collide")
	}
}
