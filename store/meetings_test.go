package store_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/store/storetest"
)

// Teams may deliver one meetingEnd to two replicas: one job, whoever writes first.
func TestMeetingJobCreatedOnceAndDue(t *testing.T) {
	s, clk, cfg := openWithClock(t)
	other := storetest.Open(t, cfg)
	id := devopsbot.MeetingJobID("19:chat@thread.v2", "meeting-1")
	if id == devopsbot.MeetingJobID("19:other@thread.v2", "meeting-1") {
		t.Fatal("the same meeting in two chats shares a job")
	}
	var created atomic.Int32
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := s
			if i%2 == 1 {
				st = other
			}
			_, ok, err := st.CreateMeetingJob(ctx, &devopsbot.MeetingJob{ID: id, ConversationID: "19:chat@thread.v2", JoinURL: "https://teams.microsoft.com/l/meetup-join/x",
				NextAttemptAt: clk.Now().Add(2 * time.Minute)})
			if err != nil {
				t.Error(err)
			} else if ok {
				created.Add(1)
			}
		}()
	}
	wg.Wait()
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
	j.State = devopsbot.MeetingJobDone
	if err := s.SaveMeetingJob(ctx, &j); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.DueMeetingJobs(ctx, clk.Now().Add(time.Hour), 10); len(due) != 0 {
		t.Fatal("a done job is due")
	}
}

func TestMeetingSummariesOnByDefaultAndSwitchable(t *testing.T) {
	s, _, _ := openWithClock(t)
	conv := "19:chat@thread.v2"
	if on, err := s.MeetingSummariesOn(ctx, conv); err != nil || !on {
		t.Fatalf("default: %v %v", on, err)
	}
	if err := s.SetMeetingSummaries(ctx, conv, false); err != nil {
		t.Fatal(err)
	}
	if on, _ := s.MeetingSummariesOn(ctx, conv); on {
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

// Meeting jobs name meetings: they go when summaries' retention ends.
func TestMeetingJobsSweptAfterRetention(t *testing.T) {
	s, clk, _ := openWithClock(t)
	id := devopsbot.MeetingJobID("19:chat@thread.v2", "m")
	if _, _, err := s.CreateMeetingJob(ctx, &devopsbot.MeetingJob{ID: id, ConversationID: "19:chat@thread.v2"}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.SweepMeetingJobs(ctx); err != nil || n != 0 {
		t.Fatalf("swept a live job: %d %v", n, err)
	}
	clk.Advance(91 * 24 * time.Hour)
	if n, err := s.SweepMeetingJobs(ctx); err != nil || n != 1 {
		t.Fatalf("sweep after retention: %d %v", n, err)
	}
	if _, err := s.GetMeetingJob(ctx, id); err == nil {
		t.Fatal("the job outlived its retention")
	}
}
