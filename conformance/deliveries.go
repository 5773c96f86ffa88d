package conformance

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
)

// Deliveries are created once and listed when due by the caller's clock.
func testDeliveryRecords(t *testing.T, e *env) {
	s, clk := e.s, e.clk
	now := clk.Now()
	d := &devopsbot.Delivery{SummaryID: "s1", SourceID: "src", ConversationID: "19:c@thread.v2", ServiceURL: "https://x", NextAttemptAt: now.Add(time.Minute)}
	stored, created, err := s.CreateDelivery(ctx, d)
	if err != nil || !created || stored.State != devopsbot.DeliveryPending || !stored.CreatedAt.Equal(now) ||
		!stored.ExpiresAt.Equal(now.Add(e.SummaryRetention)) {
		t.Fatalf("create: %+v %v %v", stored, created, err)
	}
	if got, created, err := e.replica().CreateDelivery(ctx, &devopsbot.Delivery{SummaryID: "s1", ConversationID: "19:c@thread.v2"}); err != nil || created || got.SourceID != "src" {
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
	d.ActivityIDs[0] = "changed"
	if due, _ := s.DueDeliveries(ctx, now.Add(time.Hour), 10); len(due) != 0 {
		t.Fatal("a posted delivery is still due")
	}
	if ds, _ := s.DeliveriesOf(ctx, "src"); len(ds) != 1 || ds[0].ActivityIDs[0] != "a1" {
		t.Fatalf("deliveries of src: %+v", ds)
	}
	if ds, err := s.DeliveriesOf(ctx, "other"); err != nil || len(ds) != 0 {
		t.Fatalf("deliveries of another source: %+v %v", ds, err)
	}
	if got, err := s.GetDelivery(ctx, "s1"); err != nil || got.State != devopsbot.DeliveryPosted || got.ActivityIDs[0] != "a1" {
		t.Fatalf("GetDelivery = %+v, %v", got, err)
	}
	_, err = s.GetDelivery(ctx, "s2")
	wantKind(t, err, apperr.NotFound)
	wantKind(t, s.SaveDelivery(ctx, &devopsbot.Delivery{SummaryID: "s2", ConversationID: "19:c"}), apperr.NotFound)
}

// The retry loop takes due work oldest first and no more than it asked for.
func testDeliveriesDueOrder(t *testing.T, e *env) {
	s, clk := e.s, e.clk
	start := clk.Now()
	for _, id := range []string{"d-1", "d-2", "d-3", "d-4"} {
		next := start
		if id == "d-3" {
			next = start.Add(time.Hour) // not due yet
		}
		if _, _, err := s.CreateDelivery(ctx, &devopsbot.Delivery{SummaryID: id, ConversationID: "19:c", NextAttemptAt: next}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second)
	}
	ids := func(ds []devopsbot.Delivery) string {
		var out []string
		for _, d := range ds {
			out = append(out, d.SummaryID)
		}
		return fmt.Sprint(out)
	}
	if due, err := s.DueDeliveries(ctx, clk.Now(), 2); err != nil || ids(due) != "[d-1 d-2]" {
		t.Fatalf("DueDeliveries limit 2 = %s, %v", ids(due), err)
	}
	if due, _ := s.DueDeliveries(ctx, clk.Now(), 10); ids(due) != "[d-1 d-2 d-4]" {
		t.Fatalf("DueDeliveries = %s", ids(due))
	}
	if due, _ := s.DueDeliveries(ctx, start.Add(2*time.Hour), 10); ids(due) != "[d-1 d-2 d-3 d-4]" {
		t.Fatalf("DueDeliveries later = %s", ids(due))
	}
}

// Teams may deliver one meetingEnd to two replicas: one job, whoever writes first.
func testMeetingJobCreatedOnce(t *testing.T, e *env) {
	s, clk := e.s, e.clk
	id := devopsbot.MeetingJobID("19:chat@thread.v2", "meeting-1")
	if id == devopsbot.MeetingJobID("19:other@thread.v2", "meeting-1") {
		t.Fatal("the same meeting in two chats shares a job")
	}
	pick := e.either()
	var created atomic.Int32
	race(t, 6, func(i int) error {
		_, ok, err := pick(i).CreateMeetingJob(ctx, &devopsbot.MeetingJob{ID: id, ConversationID: "19:chat@thread.v2", JoinURL: "https://teams.microsoft.com/l/meetup-join/x",
			NextAttemptAt: clk.Now().Add(2 * time.Minute)})
		if ok {
			created.Add(1)
		}
		return err
	})
	if created.Load() != 1 {
		t.Fatalf("%d jobs created for one meeting", created.Load())
	}
	if due, _ := s.DueMeetingJobs(ctx, clk.Now(), 10); len(due) != 0 {
		t.Fatalf("due before its time: %+v", due)
	}
	due, err := s.DueMeetingJobs(ctx, clk.Now().Add(3*time.Minute), 10)
	if err != nil || len(due) != 1 || due[0].State != devopsbot.MeetingJobPending || due[0].JoinURL == "" {
		t.Fatalf("due: %v %+v", err, due)
	}
	j := due[0]
	j.State, j.SummaryID = devopsbot.MeetingJobDone, "sum-9"
	if err := s.SaveMeetingJob(ctx, &j); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.DueMeetingJobs(ctx, clk.Now().Add(time.Hour), 10); len(due) != 0 {
		t.Fatal("a done job is due")
	}
	if got, err := e.replica().GetMeetingJob(ctx, id); err != nil || got.State != devopsbot.MeetingJobDone || got.SummaryID != "sum-9" {
		t.Fatalf("GetMeetingJob = %+v, %v", got, err)
	}
	if again, created, err := s.CreateMeetingJob(ctx, &devopsbot.MeetingJob{ID: id, ConversationID: "19:chat@thread.v2"}); err != nil || created || again.State != devopsbot.MeetingJobDone {
		t.Fatalf("the meeting ending again = %+v, %v, %v; want the done job", again, created, err)
	}
	wantKind(t, s.SaveMeetingJob(ctx, &devopsbot.MeetingJob{ID: "mtg-none", ConversationID: "19:c"}), apperr.NotFound)
}

func testMeetingJobsDueOrder(t *testing.T, e *env) {
	s, clk := e.s, e.clk
	start := clk.Now()
	for _, m := range []string{"m1", "m2", "m3", "m4"} {
		conv := "19:a"
		if m == "m3" {
			conv = "19:b"
		}
		if _, _, err := s.CreateMeetingJob(ctx, &devopsbot.MeetingJob{ID: devopsbot.MeetingJobID(conv, m), ConversationID: conv, MeetingID: m, NextAttemptAt: start}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second)
	}
	names := func(js []devopsbot.MeetingJob) string {
		var out []string
		for _, j := range js {
			out = append(out, j.MeetingID)
		}
		return fmt.Sprint(out)
	}
	if due, err := s.DueMeetingJobs(ctx, clk.Now(), 3); err != nil || names(due) != "[m1 m2 m3]" {
		t.Fatalf("DueMeetingJobs limit 3 = %s, %v", names(due), err)
	}
	if of, err := s.MeetingJobsOf(ctx, "19:a", 10); err != nil || names(of) != "[m1 m2 m4]" {
		t.Fatalf("MeetingJobsOf = %s, %v", names(of), err)
	}
	if of, _ := s.MeetingJobsOf(ctx, "19:a", 1); names(of) != "[m1]" {
		t.Fatalf("MeetingJobsOf limit 1 = %s", names(of))
	}
	if of, err := s.MeetingJobsOf(ctx, "19:none", 10); err != nil || len(of) != 0 {
		t.Fatalf("MeetingJobsOf an unknown chat = %s, %v", names(of), err)
	}
}

// Meeting jobs name meetings: they go when summaries' retention ends.
func testMeetingJobsSwept(t *testing.T, e *env) {
	s, clk := e.s, e.clk
	id := devopsbot.MeetingJobID("19:chat@thread.v2", "m")
	if _, _, err := s.CreateMeetingJob(ctx, &devopsbot.MeetingJob{ID: id, ConversationID: "19:chat@thread.v2"}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.SweepMeetingJobs(ctx); err != nil || n != 0 {
		t.Fatalf("swept a live job: %d %v", n, err)
	}
	clk.Advance(e.SummaryRetention + 24*time.Hour)
	if n, err := s.SweepMeetingJobs(ctx); err != nil || n != 1 {
		t.Fatalf("sweep after retention: %d %v", n, err)
	}
	if _, err := s.GetMeetingJob(ctx, id); err == nil {
		t.Fatal("the job outlived its retention")
	}
}

func testMeetingSummariesSetting(t *testing.T, e *env) {
	s := e.s
	conv := "19:chat@thread.v2"
	if on, err := s.MeetingSummariesOn(ctx, conv); err != nil || !on {
		t.Fatalf("default: %v %v", on, err)
	}
	if err := s.SetMeetingSummaries(ctx, conv, false); err != nil {
		t.Fatal(err)
	}
	if on, _ := e.replica().MeetingSummariesOn(ctx, conv); on {
		t.Fatal("still on after off")
	}
	if on, _ := s.MeetingSummariesOn(ctx, "19:another@thread.v2"); !on {
		t.Fatal("turning one chat off turned another off")
	}
	if err := s.SetMeetingSummaries(ctx, conv, true); err != nil {
		t.Fatal(err)
	}
	if on, _ := s.MeetingSummariesOn(ctx, conv); !on {
		t.Fatal("off after on")
	}
}

// A lease is held by one caller at a time across replicas, is refused while
// live, and is taken over by exactly one caller once it expires.
func testLeases(t *testing.T, e *env) {
	s, clk := e.s, e.clk
	pick := e.either()
	var holders atomic.Int32
	race(t, 10, func(i int) error {
		_, ok, err := pick(i).AcquireLease(ctx, "delivery:s1", time.Minute)
		if ok {
			holders.Add(1)
		}
		return err
	})
	if holders.Load() != 1 {
		t.Fatalf("%d holders of one lease", holders.Load())
	}
	if _, ok, err := s.AcquireLease(ctx, "delivery:s2", time.Minute); err != nil || !ok {
		t.Fatalf("another key's lease: %v %v", ok, err)
	}
	clk.Advance(2 * time.Minute) // the holder died: its lease expired
	holders.Store(0)
	var leases sync.Map
	race(t, 10, func(i int) error {
		id, ok, err := pick(i).AcquireLease(ctx, "delivery:s1", time.Minute)
		if ok {
			holders.Add(1)
			leases.Store(i, id)
		}
		return err
	})
	if holders.Load() != 1 {
		t.Fatalf("%d callers took over one expired lease", holders.Load())
	}
	var id string
	leases.Range(func(_, v any) bool { id = v.(string); return false })
	if err := s.ReleaseLease(ctx, "delivery:s1", "not-the-holder"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.AcquireLease(ctx, "delivery:s1", time.Minute); ok {
		t.Fatal("a release by someone else freed the lease")
	}
	if err := s.ReleaseLease(ctx, "delivery:s1", id); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := e.replica().AcquireLease(ctx, "delivery:s1", time.Minute); !ok {
		t.Fatal("a released lease could not be taken")
	}
	wantKind(t, s.ReleaseLease(ctx, "delivery:s1", ""), apperr.Invalid)
}
