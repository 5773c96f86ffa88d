package conformance

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
)

func testClaimCompleteRelease(t *testing.T, e *env) {
	s, clk := e.s, e.clk
	l, claimed, err := s.ClaimAction(ctx, key("i1"), alice, "Alice", "marker-a", time.Minute)
	if err != nil || !claimed || l.State != devopsbot.LinkPending || l.Marker != "marker-a" || l.User != alice ||
		!l.ClaimExpiresAt.Equal(clk.Now().Add(time.Minute)) {
		t.Fatalf("first claim = %+v, %v, %v", l, claimed, err)
	}
	other, claimed, err := e.replica().ClaimAction(ctx, key("i1"), bob, "Bob", "marker-b", time.Minute)
	if err != nil || claimed || other.User != alice || other.State != devopsbot.LinkPending {
		t.Fatalf("second claim = %+v, %v, %v; want alice's pending link", other, claimed, err)
	}

	l.OrgURL, l.Project, l.WorkItemID, l.WorkItemType, l.WorkItemTitle, l.WorkItemURL = "https://dev.azure.com/contoso", "Web", 42, "Task", "Ship", "https://dev.azure.com/contoso/Web/_workitems/edit/42"
	if err := s.CompleteAction(ctx, l); err != nil {
		t.Fatal(err)
	}
	if l.State != devopsbot.LinkDone || !l.CompletedAt.Equal(clk.Now()) {
		t.Fatalf("CompleteAction left the caller's link %+v", l)
	}
	wantKind(t, s.CompleteAction(ctx, l), apperr.Conflict)
	wantKind(t, s.CompleteAction(ctx, &devopsbot.InsightLink{Key: key("never-claimed")}), apperr.NotFound)
	wantKind(t, s.CompleteAction(ctx, nil), apperr.Invalid)
	done, claimed, err := s.ClaimAction(ctx, key("i1"), bob, "Bob", "m", time.Minute)
	if err != nil || claimed || done.State != devopsbot.LinkDone || done.WorkItemID != 42 || done.WorkItemURL != l.WorkItemURL || done.User != alice {
		t.Fatalf("claim after done = %+v, %v, %v", done, claimed, err)
	}
	// A finished action cannot be released.
	if err := s.ReleaseAction(ctx, key("i1")); err != nil {
		t.Fatal(err)
	}
	if _, claimed, _ := s.ClaimAction(ctx, key("i1"), bob, "Bob", "m", time.Minute); claimed {
		t.Fatal("release dropped a finished action")
	}
	if known := s.KnownDoneLinks("sum-1"); len(known) > 1 || (len(known) == 1 && known[0].WorkItemID != 42) {
		t.Fatalf("KnownDoneLinks = %+v; at most the one done link", known)
	}

	// A definite failure is released; the next click claims afresh.
	clk.Advance(time.Second)
	if _, claimed, _ := s.ClaimAction(ctx, key("i2"), alice, "Alice", "m2", time.Minute); !claimed {
		t.Fatal("claim i2")
	}
	if err := s.ReleaseAction(ctx, key("i2")); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseAction(ctx, key("i2")); err != nil {
		t.Fatalf("releasing twice: %v", err)
	}
	if l2, claimed, err := s.ClaimAction(ctx, key("i2"), bob, "Bob", "m3", time.Minute); err != nil || !claimed || l2.User != bob || l2.Marker != "m2" {
		t.Fatalf("claim after release = %+v, %v, %v; want bob's claim with the first marker", l2, claimed, err)
	}

	// An abandoned claim is taken over once it expires, keeping the first marker.
	clk.Advance(time.Second)
	if _, claimed, _ := s.ClaimAction(ctx, key("i3"), alice, "Alice", "crashed-marker", time.Minute); !claimed {
		t.Fatal("claim i3")
	}
	clk.Advance(59 * time.Second)
	if l3, claimed, _ := s.ClaimAction(ctx, key("i3"), bob, "Bob", "new-marker", time.Minute); claimed || l3.User != alice {
		t.Fatalf("a live claim was taken over: %+v", l3)
	}
	clk.Advance(2 * time.Minute)
	taken, claimed, err := s.ClaimAction(ctx, key("i3"), bob, "Bob", "new-marker", time.Minute)
	if err != nil || !claimed || taken.User != bob || taken.Marker != "crashed-marker" {
		t.Fatalf("takeover = %+v, %v, %v; want bob's claim with the crashed marker", taken, claimed, err)
	}

	// Comments on different work items are different actions.
	clk.Advance(time.Second)
	c1 := devopsbot.ActionKey{SummaryID: "sum-1", InsightID: "i1", Action: devopsbot.ActionComment, Target: "42"}
	c2 := c1
	c2.Target = "43"
	for _, k := range []devopsbot.ActionKey{c1, c2} {
		clk.Advance(time.Second)
		if _, claimed, err := s.ClaimAction(ctx, k, alice, "Alice", "m", time.Minute); err != nil || !claimed {
			t.Fatalf("comment claim %v = %v, %v", k, claimed, err)
		}
	}
	if _, claimed, _ := s.ClaimAction(ctx, devopsbot.ActionKey{SummaryID: "sum-2", InsightID: "i1", Action: devopsbot.ActionCreate}, alice, "Alice", "m", time.Minute); !claimed {
		t.Fatal("the same insight id in another summary is another action")
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
	var order []string
	for _, l := range links {
		order = append(order, l.Key.InsightID+"/"+l.Key.Target)
	}
	if fmt.Sprint(order) != "[i1/ i2/ i3/ i1/42 i1/43]" {
		t.Fatalf("links not oldest first: %v", order)
	}
	if links, err := s.ListLinks(ctx, "none"); err != nil || len(links) != 0 {
		t.Fatalf("links of an unknown summary: %v, %v", links, err)
	}
}

func testClaimConcurrent(t *testing.T, e *env) {
	pick := e.either()
	var claimedN atomic.Int32
	ok, _ := race(t, 50, func(i int) error {
		_, claimed, err := pick(i).ClaimAction(ctx, key("hot"), alice, "Alice", "m", time.Minute)
		if claimed {
			claimedN.Add(1)
		}
		return err
	})
	if ok != 50 || claimedN.Load() != 1 {
		t.Fatalf("ok %d, claimed %d; want 50 and 1", ok, claimedN.Load())
	}
}

func testClaimTakeoverConcurrent(t *testing.T, e *env) {
	s, clk := e.s, e.clk
	if _, claimed, _ := s.ClaimAction(ctx, key("stale"), alice, "Alice", "m0", time.Minute); !claimed {
		t.Fatal("initial claim")
	}
	clk.Advance(time.Hour)
	pick := e.either()
	var claimedN atomic.Int32
	ok, _ := race(t, 30, func(i int) error {
		l, claimed, err := pick(i).ClaimAction(ctx, key("stale"), bob, "Bob", "m1", time.Minute)
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

func testPurgeConversation(t *testing.T, e *env) {
	s := e.s
	for _, id := range []string{"19:gone", "19:kept"} {
		if err := s.SaveConversationRef(ctx, &devopsbot.ConversationRef{ConversationID: id, ConversationType: "groupChat"}); err != nil {
			t.Fatal(err)
		}
	}
	gone, _, err := s.InsertSummary(ctx, sampleSummary("19:gone", "d1"))
	if err != nil {
		t.Fatal(err)
	}
	kept, _, err := s.InsertSummary(ctx, sampleSummary("19:kept", "d1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, sm := range []*devopsbot.Summary{gone, kept} {
		if _, _, err := s.ClaimAction(ctx, devopsbot.ActionKey{SummaryID: sm.ID, InsightID: "i1", Action: devopsbot.ActionCreate}, alice, "A", "m-"+sm.ConversationID, time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.CreateDelivery(ctx, &devopsbot.Delivery{SummaryID: sm.ID, SourceID: "d1", ConversationID: sm.ConversationID}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.CreateMeetingJob(ctx, &devopsbot.MeetingJob{ID: devopsbot.MeetingJobID(sm.ConversationID, "m1"), ConversationID: sm.ConversationID, MeetingID: "m1",
			JoinURL: "https://teams.microsoft.com/l/meetup-join/x", NextAttemptAt: e.clk.Now()}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetMeetingSummaries(ctx, sm.ConversationID, false); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.replica().PurgeConversation(ctx, "19:gone"); err != nil {
		t.Fatal(err)
	}
	// A removed chat's meeting jobs and deliveries must not post into it later,
	// and a new install starts with the default setting.
	_, err = s.GetMeetingJob(ctx, devopsbot.MeetingJobID("19:gone", "m1"))
	wantKind(t, err, apperr.NotFound)
	if due, _ := s.DueMeetingJobs(ctx, e.clk.Now(), 10); len(due) != 1 || due[0].ConversationID != "19:kept" {
		t.Fatalf("due meeting jobs after purge: %+v", due)
	}
	_, err = s.GetDelivery(ctx, gone.ID)
	wantKind(t, err, apperr.NotFound)
	if due, _ := s.DueDeliveries(ctx, e.clk.Now(), 10); len(due) != 1 || due[0].SummaryID != kept.ID {
		t.Fatalf("due deliveries after purge: %+v", due)
	}
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
	if links := s.KnownDoneLinks(gone.ID); len(links) != 0 {
		t.Fatalf("done links of purged summary still known: %v", links)
	}
	// Everything of the other chat is untouched.
	if _, err := s.GetConversationRef(ctx, "19:kept"); err != nil {
		t.Fatalf("other chat purged: %v", err)
	}
	if _, err := s.GetSummary(ctx, kept.ID); err != nil {
		t.Fatalf("other summary purged: %v", err)
	}
	if links, _ := s.ListLinks(ctx, kept.ID); len(links) != 1 {
		t.Fatalf("other links purged: %v", links)
	}
	if _, err := s.GetDelivery(ctx, kept.ID); err != nil {
		t.Fatalf("other delivery purged: %v", err)
	}
	if on, _ := s.MeetingSummariesOn(ctx, "19:kept"); on {
		t.Fatal("other chat's setting purged")
	}
	// The chat installed again starts afresh: the same delivery is a new summary
	// whose insights can be acted on again.
	again, created, err := s.InsertSummary(ctx, sampleSummary("19:gone", "d1"))
	if err != nil || !created {
		t.Fatalf("summary after purge = %v, %v", created, err)
	}
	if l, claimed, err := s.ClaimAction(ctx, devopsbot.ActionKey{SummaryID: again.ID, InsightID: "i1", Action: devopsbot.ActionCreate}, bob, "B", "fresh", time.Minute); err != nil || !claimed || l.User != bob {
		t.Fatalf("claim after purge = %+v, %v, %v", l, claimed, err)
	}
	if err := s.PurgeConversation(ctx, "19:never-seen"); err != nil {
		t.Fatalf("purging an unknown chat: %v", err)
	}
}
