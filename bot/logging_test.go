package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot/bot"
)

// logSink collects the bot's JSON log lines, written from several goroutines.
type logSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

// records returns the lines logged with message msg.
func (s *logSink) records(t *testing.T, msg string) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(s.buf.String(), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// one returns the single line logged with message msg.
func (s *logSink) one(t *testing.T, msg string) map[string]any {
	t.Helper()
	recs := s.records(t, msg)
	if len(recs) != 1 {
		t.Fatalf("%d lines %q, want 1; log:\n%s", len(recs), msg, s.buf.String())
	}
	return recs[0]
}

func withLogSink(s *logSink) func(*harness) option {
	return func(*harness) option {
		return func(c *bot.Config) {
			c.Logger = slog.New(slog.NewJSONHandler(s, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
	}
}

// postAs posts an activity with the correlation id Teams or a proxy sends.
func (h *harness) postAs(requestID string, a any) int {
	h.t.Helper()
	body, _ := json.Marshal(a)
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/api/messages", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", requestID)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// What the bot logs while handling an activity names the request (the
// reference a user is shown) and the activity, without each call adding it.
func TestBotLogLinesCarryTheRequestID(t *testing.T) {
	var sink logSink
	h := newHarness(t, withLogSink(&sink))

	// A message: handled after the answer, in the background.
	a := h.activity("message", userAdele, "a:personal-adele")
	a.Text = "connect devops"
	before := len(h.conn.Sent())
	if code := h.postAs("req-message-1", a); code != http.StatusOK {
		t.Fatalf("message answered %d", code)
	}
	h.conn.WaitSent(t, before+1, 10*time.Second) // the reply follows the log line
	rec := sink.one(t, "connect devops is not configured")
	if rec["request_id"] != "req-message-1" || rec["activity_id"] != a.ID || rec["conversation_id"] != "a:personal-adele" {
		t.Errorf("message's log line: %v", rec)
	}

	// An invoke: handled within the request.
	inv := h.activity("invoke", userAdele, "a:personal-adele")
	inv.Name = "adaptiveCard/action"
	inv.Value = json.RawMessage(`{"action":{"type":"Action.Execute","verb":"connect.org","data":{"sally":"connect.org","orgUrl":"https://dev.azure.com/fabrikam"}}}`)
	if code := h.postAs("req-invoke-2", inv); code != http.StatusOK {
		t.Fatalf("invoke answered %d", code)
	}
	recs := sink.records(t, "connect devops is not configured")
	if len(recs) != 2 || recs[1]["request_id"] != "req-invoke-2" || recs[1]["invoke"] != "adaptiveCard/action" {
		t.Errorf("invoke's log line: %v", recs)
	}
}

// The webhook names its request too; a delivery names itself, and when the
// retry loop (no request) takes it over, the loop and the delivery.
func TestDeliveryLogLinesNameTheRequestOrTheDelivery(t *testing.T) {
	var sink logSink
	clock := &testClock{}
	h := newHarness(t, withDemo, withClock(clock), withLogSink(&sink))
	h.install(chatID)

	req := h.signed("msg_log", clock.Now(), summaryJSON("log-1", chatID))
	req.Header.Set("webhook-signature", "v1,bm90LXRoaXMtb25l")
	req.Header.Set("X-Request-Id", "req-forged-3")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unsigned delivery answered %d", resp.StatusCode)
	}
	if rec := sink.one(t, "refused a summary delivery"); rec["request_id"] != "req-forged-3" || rec["path"] != "/api/summaries" {
		t.Errorf("webhook's log line: %v", rec)
	}

	h.conn.FailNext(http.StatusServiceUnavailable, "", 2)
	req = h.signed("msg_log", clock.Now(), summaryJSON("log-1", chatID))
	req.Header.Set("X-Request-Id", "req-hook-4")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("delivery answered %d", resp.StatusCode)
	}
	clock.Advance(2 * time.Minute)
	if n, err := h.bot.RetryDueDeliveries(context.Background()); err != nil || n != 1 {
		t.Fatalf("retry pass attempted %d (err %v)", n, err)
	}
	recs := sink.records(t, "summary delivery failed; will retry")
	if len(recs) != 2 {
		t.Fatalf("%d failed attempts logged, want 2: %v", len(recs), recs)
	}
	id := recs[0]["summary"]
	if first := recs[0]; first["request_id"] != "req-hook-4" || id == nil || first["delivery"] != id {
		t.Errorf("attempt within the webhook request: %v", first)
	}
	if retry := recs[1]; retry["loop"] != "deliveries" || retry["delivery"] != id || retry["request_id"] != nil {
		t.Errorf("attempt of the retry loop: %v", retry)
	}
}

// A meeting job's lines name the job; the event that started it, its request.
func TestMeetingJobLogLinesNameTheJob(t *testing.T) {
	var sink logSink
	clock := &testClock{}
	h := newHarness(t, withDemo, withClock(clock), withGraph(newMeetingGraph(t), nil), withLogSink(&sink))
	h.install(chatID)
	a := h.activity("event", userAdele, chatID)
	a.Name = "application/vnd.microsoft.meetingEnd"
	a.ChannelData = json.RawMessage(`{"tenant":{"id":"` + tenantID + `"},"meeting":{"id":"` + teamsMeetingID + `"}}`)
	a.Value = json.RawMessage(`{"Title":"` + meetingTitle + `","Id":"` + teamsMeetingID + `","JoinUrl":"` + meetingJoinURL + `"}`)
	if code := h.postAs("req-meeting-5", a); code != http.StatusOK {
		t.Fatalf("meetingEnd answered %d", code)
	}
	if rec := sink.one(t, "meeting ended; watching for its summary"); rec["request_id"] != "req-meeting-5" || rec["job"] == nil {
		t.Errorf("the event's log line: %v", rec)
	}
	clock.Advance(3 * time.Minute)
	if n, err := h.bot.RetryDueMeetingJobs(context.Background()); err != nil || n != 1 {
		t.Fatalf("retry pass looked at %d (err %v)", n, err)
	}
	rec := sink.one(t, "meeting content not there yet")
	if rec["loop"] != "meeting_jobs" || rec["job"] != sink.one(t, "meeting ended; watching for its summary")["job"] || rec["request_id"] != nil {
		t.Errorf("the retry loop's log line: %v", rec)
	}
}
