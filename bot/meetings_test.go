package bot_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/bot"
	"github.com/sally-devops/devopsbot/graph"
	"github.com/sally-devops/devopsbot/graph/graphtest"
	"github.com/sally-devops/devopsbot/teams"
)

const (
	meetingJoinURL = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_NjQ2@thread.v2/0?context=%7b%22Tid%22%3a%2200000000%22%7d"
	graphMeetingID = "MSpkYzE3Njc0Yy04MWQ5LTRhZGItYmZi"
	teamsMeetingID = "MCMxOTptZWV0aW5nX05qUTJAdGhyZWFkLnYyIzA="
	meetingTitle   = "Release review"
)

func withGraph(g *graphtest.Graph, events *meetingEvents) func(*harness) option {
	return func(*harness) option {
		return func(c *bot.Config) {
			c.Graph = g.Client()
			if events != nil {
				c.OnMeetingJob = events.add
			}
		}
	}
}

// meetingEvents records the metric hook's events.
type meetingEvents struct {
	mu  sync.Mutex
	all []string
}

func (e *meetingEvents) add(s string) { e.mu.Lock(); e.all = append(e.all, s); e.mu.Unlock() }
func (e *meetingEvents) count(s string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, x := range e.all {
		if x == s {
			n++
		}
	}
	return n
}

func newMeetingGraph(t *testing.T) *graphtest.Graph {
	g := graphtest.New(t)
	g.AddMeeting(graphtest.Meeting{ID: graphMeetingID, JoinURL: meetingJoinURL, Subject: meetingTitle, OrganizerID: userAdele,
		Start: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)})
	return g
}

// meetingEnd sends Teams' meetingEnd event (the payload of the msteams-docs
// example) from the meeting chat, and waits until the bot recorded its job.
func (h *harness) meetingEnd(conv string) string {
	h.t.Helper()
	a := h.activity("event", userAdele, conv)
	a.Name = "application/vnd.microsoft.meetingEnd"
	a.ChannelData = json.RawMessage(`{"tenant":{"id":"` + tenantID + `"},"source":null,"meeting":{"id":"` + teamsMeetingID + `"}}`)
	a.Value = json.RawMessage(`{"MeetingType":"Scheduled","Title":"` + meetingTitle + `","Id":"` + teamsMeetingID + `","JoinUrl":"` + meetingJoinURL + `","EndTime":"2026-12-01T10:00:00.4388966Z"}`)
	if code, body := h.post(a); code != http.StatusOK {
		h.t.Fatalf("meetingEnd answered %d: %s", code, body)
	}
	return devopsbot.MeetingJobID(conv, teamsMeetingID)
}

// storedJob reads a meeting job from the store. Right after meetingEnd it is
// there or the test fails: teams.Server answers an event 200 only once its
// handler has recorded it (Teams does not resend an answered event).
func (h *harness) storedJob(id string) *devopsbot.MeetingJob {
	h.t.Helper()
	j, err := h.store.GetMeetingJob(context.Background(), id)
	if err != nil {
		h.t.Fatalf("meeting job %s: %v", id, err)
	}
	return j
}

// meetingCards returns the summary cards posted to a chat for the meeting.
func (h *harness) meetingCards(conv string) []string {
	var out []string
	for _, s := range h.conn.Sent() {
		if s.Method == http.MethodPost && s.ConversationID == conv && len(s.Activity.Attachments) > 0 {
			if c := js(s.Activity.Attachments[0].Content); strings.Contains(c, meetingTitle) {
				out = append(out, c)
			}
		}
	}
	return out
}

func copilotInsight() graph.AIInsight {
	return graph.AIInsight{ID: "Z2HWbT", CreatedDateTime: time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC),
		MeetingNotes: []graph.MeetingNote{{Title: "Release 4.2", Text: "The team decided to ship 4.2 on Wednesday.",
			Subpoints: []graph.NoteSubpoint{{Title: "Regression", Text: "All regression tests passed overnight."}}}},
		ActionItems: []graph.ActionItem{{Title: "Tag the release", Text: "Tag the release branch tonight.", OwnerDisplayName: "Grady Archie"}}}
}

const releaseVTT = "WEBVTT\n\n1/0-0\n00:00:01.000 --> 00:00:04.000\n<v Adele Vance>Alex, can you update the runbook before Friday?</v>\n\n" +
	"1/1-0\n00:00:04.000 --> 00:00:06.000\n<v Alex Wilber>Sure. I'll also page the on-call team.</v>\n\n" +
	"1/2-0\n00:00:06.000 --> 00:00:09.000\n<v Adele Vance>We agreed to freeze deployments until Monday.</v>\n"

// The meeting ends; Copilot's insights are not there (404) at the first look,
// then are: the summary card appears in the meeting chat once, with the
// meeting's title, a link back to it, the action item's owner and the decision.
func TestMeetingSummaryPostedOnceWhenInsightsBecomeReady(t *testing.T) {
	clock := &testClock{}
	g := newMeetingGraph(t)
	ev := &meetingEvents{}
	h := newHarness(t, withDemo, withClock(clock), withGraph(g, ev))
	h.install(chatID)
	id := h.meetingEnd(chatID)
	h.storedJob(id)
	ctx := context.Background()
	if n, _ := h.bot.RetryDueMeetingJobs(ctx); n != 0 || len(g.Calls()) != 0 {
		t.Fatalf("looked at once (%d jobs, %v): content is never there the minute a meeting ends", n, g.Calls())
	}
	clock.Advance(3 * time.Minute)
	if n, err := h.bot.RetryDueMeetingJobs(ctx); n != 1 || err != nil {
		t.Fatalf("first look: %d %v", n, err)
	}
	if g.CallCount("/aiInsights") != 1 || len(h.meetingCards(chatID)) != 0 {
		t.Fatalf("after a 404: calls %v, cards %d", g.Calls(), len(h.meetingCards(chatID)))
	}
	if j := h.storedJob(id); j.State != devopsbot.MeetingJobPending || j.GraphMeetingID != graphMeetingID {
		t.Fatalf("job after the first look: %+v", j)
	}
	g.SetInsights(graphMeetingID, copilotInsight())
	clock.Advance(6 * time.Minute)
	if n, _ := h.bot.RetryDueMeetingJobs(ctx); n != 1 {
		t.Fatalf("second look: %d", n)
	}
	got := h.meetingCards(chatID)
	if len(got) != 1 {
		t.Fatalf("%d cards, want 1", len(got))
	}
	for _, want := range []string{"Tag the release branch tonight.", "Owner: Grady Archie", "Decisions", "decided to ship 4.2 on Wednesday", "Open the meeting", "meetup-join", "{{DATE(2026-12-01T09:00:00Z, SHORT)}}"} {
		if !strings.Contains(got[0], want) {
			t.Errorf("card lacks %q: %.600s", want, got[0])
		}
	}
	if strings.Contains(got[0], "From the transcript") {
		t.Error("Copilot's items are marked as from the transcript")
	}
	// Done: later passes read nothing and post nothing more; a repeated event is the same job.
	calls := len(g.Calls())
	clock.Advance(2 * time.Hour)
	h.meetingEnd(chatID)
	if n, _ := h.bot.RetryDueMeetingJobs(ctx); n != 0 || len(g.Calls()) != calls || len(h.meetingCards(chatID)) != 1 {
		t.Fatalf("after delivery: %d due, %d new calls, %d cards", n, len(g.Calls())-calls, len(h.meetingCards(chatID)))
	}
	if ev.count("started") != 1 || ev.count("found_copilot") != 1 {
		t.Fatalf("metric events: %v", ev.all)
	}
}

// Copilot may not be read (403: no licence or no application access policy):
// the transcript is read instead, and its items say they are from the transcript.
func TestMeetingSummaryFromTranscriptWhenCopilotForbidden(t *testing.T) {
	clock := &testClock{}
	g := newMeetingGraph(t)
	g.ForbidInsights("Application access policy not found for the user.")
	g.AddTranscript(graphMeetingID, "MSMjMCMjZDAw", releaseVTT)
	h := newHarness(t, withDemo, withClock(clock), withGraph(g, nil))
	h.install(chatID)
	h.storedJob(h.meetingEnd(chatID))
	clock.Advance(3 * time.Minute)
	if n, _ := h.bot.RetryDueMeetingJobs(context.Background()); n != 1 {
		t.Fatalf("looked at %d jobs", n)
	}
	got := h.meetingCards(chatID)
	if len(got) != 1 {
		t.Fatalf("%d cards, want 1 (calls %v)", len(got), g.Calls())
	}
	for _, want := range []string{"Update the runbook", "Owner: Alex Wilber", "Due: Friday", "Page the on-call team", "Freeze deployments until Monday", "From the transcript"} {
		if !strings.Contains(got[0], want) {
			t.Errorf("card lacks %q: %.900s", want, got[0])
		}
	}
	if g.CallCount("/transcripts/MSMjMCMjZDAw/content") != 1 {
		t.Fatalf("calls: %v", g.Calls())
	}
}

// Neither source may be read: the job gives up at once, quietly (no card,
// no message), and status tells the chat which permission is missing.
func TestMeetingJobGivesUpQuietlyWhenNothingMayBeRead(t *testing.T) {
	clock := &testClock{}
	g := newMeetingGraph(t)
	g.ForbidInsights("Application access policy not found for the user.")
	g.ForbidTranscripts("Graph API access to transcripts is disabled for this tenant.")
	ev := &meetingEvents{}
	h := newHarness(t, withDemo, withClock(clock), withGraph(g, ev))
	h.install(chatID)
	id := h.meetingEnd(chatID)
	h.storedJob(id)
	sent := len(h.conn.Sent())
	clock.Advance(3 * time.Minute)
	h.bot.RetryDueMeetingJobs(context.Background())
	if j := h.storedJob(id); j.State != devopsbot.MeetingJobGaveUp || !strings.Contains(j.Reason, "disabled for this tenant") {
		t.Fatalf("job: %+v", j)
	}
	if len(h.conn.Sent()) != sent || ev.count("gave_up") != 1 {
		t.Fatalf("giving up was not quiet: %d sent, events %v", len(h.conn.Sent())-sent, ev.all)
	}
	before := len(h.conn.Sent())
	h.say(userAdele, chatID, "status")
	// The account status (a card here: nobody is connected) and the chat's meeting line.
	all := h.conn.WaitSent(t, before+2, 10*time.Second)
	line := ""
	for _, s := range all[before:] {
		if strings.HasPrefix(s.Activity.Text, "Meeting summaries:") {
			line = s.Activity.Text
		}
	}
	if !strings.Contains(line, "Application access policy not found") || !strings.Contains(line, "transcripts is disabled") {
		t.Fatalf("status line: %q", line)
	}
}

// The replica that took the first look dies; a new process on the same
// database picks the job up when it is due and posts the card once.
func TestMeetingJobSurvivesARestart(t *testing.T) {
	clock := &testClock{}
	g := newMeetingGraph(t)
	h := newHarness(t, withDemo, withClock(clock), withGraph(g, nil))
	h.install(chatID)
	h.storedJob(h.meetingEnd(chatID))
	clock.Advance(3 * time.Minute)
	h.bot.RetryDueMeetingJobs(context.Background()) // 404
	g.SetInsights(graphMeetingID, copilotInsight())
	restarted := h.replica() // a new process: nothing in memory carries over
	clock.Advance(6 * time.Minute)
	if n, _ := restarted.bot.RetryDueMeetingJobs(context.Background()); n != 1 {
		t.Fatalf("the restarted bot found %d due jobs", n)
	}
	if n, _ := h.bot.RetryDueMeetingJobs(context.Background()); n != 0 {
		t.Fatalf("the job was still due on the first bot: %d", n)
	}
	if got := h.meetingCards(chatID); len(got) != 1 {
		t.Fatalf("%d cards, want 1", len(got))
	}
}

// Two replicas run their passes at the same moment: the job is worked once
// (one set of Graph reads for the look, one card).
func TestTwoReplicasWorkOneMeetingJobOnce(t *testing.T) {
	clock := &testClock{}
	g := newMeetingGraph(t)
	g.SetInsights(graphMeetingID, copilotInsight())
	h := newHarness(t, withDemo, withClock(clock), withGraph(g, nil))
	h.install(chatID)
	h.storedJob(h.meetingEnd(chatID))
	other := h.replica()
	clock.Advance(3 * time.Minute)
	var wg sync.WaitGroup
	for _, b := range []*bot.Bot{h.bot, other.bot} {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = b.RetryDueMeetingJobs(context.Background()) }()
	}
	wg.Wait()
	if got := h.meetingCards(chatID); len(got) != 1 {
		t.Fatalf("%d cards, want 1", len(got))
	}
	if n := g.CallCount("/aiInsights/Z2HWbT"); n != 1 {
		t.Fatalf("the insights were read %d times: %v", n, g.Calls())
	}
}

// Graph throttles with a Retry-After longer than the backoff: the next look
// waits for it, then reads.
func TestMeetingJobHonoursRetryAfter(t *testing.T) {
	clock := &testClock{}
	g := newMeetingGraph(t)
	g.SetInsights(graphMeetingID, copilotInsight())
	h := newHarness(t, withDemo, withClock(clock), withGraph(g, nil))
	h.install(chatID)
	id := h.meetingEnd(chatID)
	h.storedJob(id)
	g.Throttle(1, 900) // 15 minutes, more than the 5-minute backoff after the first look
	clock.Advance(3 * time.Minute)
	h.bot.RetryDueMeetingJobs(context.Background())
	if n := len(g.Calls()); n != 1 {
		t.Fatalf("%d calls; a 15-minute Retry-After must not be retried inline", n)
	}
	clock.Advance(10 * time.Minute) // past the backoff, short of Retry-After
	if n, _ := h.bot.RetryDueMeetingJobs(context.Background()); n != 0 || len(g.Calls()) != 1 {
		t.Fatalf("looked again before Retry-After: %d jobs, calls %v", n, g.Calls())
	}
	clock.Advance(6 * time.Minute)
	if n, _ := h.bot.RetryDueMeetingJobs(context.Background()); n != 1 || len(h.meetingCards(chatID)) != 1 {
		t.Fatalf("after Retry-After: %d jobs, %d cards", n, len(h.meetingCards(chatID)))
	}
}

// A chat that turned meeting summaries off gets nothing, and Graph is not asked.
func TestMeetingSummariesOffInAChat(t *testing.T) {
	clock := &testClock{}
	g := newMeetingGraph(t)
	g.SetInsights(graphMeetingID, copilotInsight())
	ev := &meetingEvents{}
	h := newHarness(t, withDemo, withClock(clock), withGraph(g, ev))
	h.install(chatID)
	out := h.say(userAdele, chatID, "meeting summaries off")
	if !strings.Contains(out[0].Activity.Text, "off in this chat") {
		t.Fatalf("answer: %q", out[0].Activity.Text)
	}
	a := h.activity("event", userAdele, chatID)
	a.Name = "application/vnd.microsoft.meetingEnd"
	a.Value = json.RawMessage(`{"Id":"` + teamsMeetingID + `","JoinUrl":"` + meetingJoinURL + `","Title":"` + meetingTitle + `"}`)
	if code, body := h.post(a); code != http.StatusOK || ev.count("off") != 1 { // answered once handled
		t.Fatalf("the event was answered %d (%s) with %d off events", code, body, ev.count("off"))
	}
	clock.Advance(time.Hour)
	if n, _ := h.bot.RetryDueMeetingJobs(context.Background()); n != 0 || len(g.Calls()) != 0 || len(h.meetingCards(chatID)) != 0 {
		t.Fatalf("a chat with meeting summaries off: %d jobs, calls %v, %d cards", n, g.Calls(), len(h.meetingCards(chatID)))
	}
	// Back on: the next meeting is picked up.
	h.say(userAdele, chatID, "meeting summaries on")
	h.storedJob(h.meetingEnd(chatID))
}

// A hostile event (a javascript: join link, no id) is ignored: no job.
func TestMeetingEndWithHostileValueIgnored(t *testing.T) {
	g := newMeetingGraph(t)
	h := newHarness(t, withDemo, withGraph(g, nil))
	h.install(chatID)
	for _, v := range []string{`{"Id":"x","JoinUrl":"javascript:alert(1)"}`, `{"JoinUrl":"` + meetingJoinURL + `"}`, `"just a string"`, `{"Id":{"a":1}}`} {
		a := h.activity("event", userAdele, chatID)
		a.Name = "application/vnd.microsoft.meetingEnd"
		a.Value = json.RawMessage(v)
		if code, _ := h.post(a); code != http.StatusOK {
			t.Fatalf("%s answered %d", v, code)
		}
	}
	// Each was handled before its answer: none started a job.
	if jobs, err := h.store.MeetingJobsOf(context.Background(), chatID, 10); err != nil || len(jobs) != 0 {
		t.Fatalf("hostile meetingEnd events made jobs: %v %+v", err, jobs)
	}
	// Then a valid one makes the one job.
	h.storedJob(h.meetingEnd(chatID))
	jobs, err := h.store.MeetingJobsOf(context.Background(), chatID, 10)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("jobs: %v %+v", err, jobs)
	}
}

// Copilot may be read but is slow: after two hours the transcript's summary
// is posted; when Copilot's insights arrive, the same card is updated with
// them (no second card), and the transcript marks are gone.
func TestLaterCopilotInsightsUpdateTheTranscriptCard(t *testing.T) {
	clock := &testClock{}
	g := newMeetingGraph(t)
	g.AddTranscript(graphMeetingID, "MSMjMCMjZDAw", releaseVTT)
	ev := &meetingEvents{}
	h := newHarness(t, withDemo, withClock(clock), withGraph(g, ev))
	h.install(chatID)
	id := h.meetingEnd(chatID)
	h.storedJob(id)
	ctx := context.Background()
	clock.Advance(3 * time.Minute)
	h.bot.RetryDueMeetingJobs(ctx)
	if len(h.meetingCards(chatID)) != 0 {
		t.Fatal("the transcript was posted while Copilot's insights could still come")
	}
	clock.Advance(2 * time.Hour)
	h.bot.RetryDueMeetingJobs(ctx)
	got := h.meetingCards(chatID)
	if len(got) != 1 || !strings.Contains(got[0], "From the transcript") {
		t.Fatalf("after the grace: %d cards %.300v", len(got), got)
	}
	if j := h.storedJob(id); j.State != devopsbot.MeetingJobPending || j.Source != "transcript" {
		t.Fatalf("job after the transcript: %+v", j)
	}
	g.SetInsights(graphMeetingID, copilotInsight())
	clock.Advance(2 * time.Hour)
	h.bot.RetryDueMeetingJobs(ctx)
	if n := len(h.meetingCards(chatID)); n != 1 {
		t.Fatalf("%d cards posted, want the one card updated", n)
	}
	var updated string
	for _, s := range h.conn.Sent() {
		if s.Method == http.MethodPut && s.ConversationID == chatID && len(s.Activity.Attachments) > 0 {
			updated = js(s.Activity.Attachments[0].Content)
		}
	}
	if !strings.Contains(updated, "Tag the release branch tonight.") || strings.Contains(updated, "From the transcript") {
		t.Fatalf("updated card: %.600s", updated)
	}
	if j := h.storedJob(id); j.State != devopsbot.MeetingJobDone || j.Source != "copilot" {
		t.Fatalf("job after Copilot: %+v", j)
	}
	if ev.count("found_transcript") != 1 || ev.count("found_copilot") != 1 {
		t.Fatalf("events: %v", ev.all)
	}
}

// The event may come from anyone in the meeting; Graph serves the meeting in
// its organizer's name. Teams' meeting details API names the organizer and
// the Graph id, so the job reads as the organizer from the start.
func TestMeetingJobReadsAsTheOrganizerFromTeamsMeetingDetails(t *testing.T) {
	g := newMeetingGraph(t)
	h := newHarness(t, withDemo, withGraph(g, nil))
	h.install(chatID)
	var d teams.MeetingDetails
	d.Details.ID, d.Details.MSGraphResourceID, d.Details.JoinURL = teamsMeetingID, graphMeetingID, meetingJoinURL
	d.Organizer.AADObjectID, d.Organizer.TenantID = userAdele, tenantID
	h.conn.SetMeeting(teamsMeetingID, d)
	a := h.activity("event", userAlex, chatID) // Alex is in the meeting; Adele organized it
	a.Name = "application/vnd.microsoft.meetingEnd"
	a.ChannelData = json.RawMessage(`{"tenant":{"id":"` + tenantID + `"},"meeting":{"id":"` + teamsMeetingID + `"}}`)
	a.Value = json.RawMessage(`{"MeetingType":"Scheduled","Title":"` + meetingTitle + `","Id":"` + teamsMeetingID + `","JoinUrl":"` + meetingJoinURL + `","EndTime":"2026-12-01T10:00:00Z"}`)
	if code, body := h.post(a); code != http.StatusOK {
		t.Fatalf("meetingEnd answered %d: %s", code, body)
	}
	j := h.storedJob(devopsbot.MeetingJobID(chatID, teamsMeetingID))
	if j.UserID != userAdele || j.GraphMeetingID != graphMeetingID {
		t.Fatalf("job reads as %q meeting %q, want the organizer %q and %q", j.UserID, j.GraphMeetingID, userAdele, graphMeetingID)
	}
}
