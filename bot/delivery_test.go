package bot_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot/bot"
)

// testClock is the bot's clock in delivery tests: retries are scheduled in
// its time, and the test moves it forward instead of sleeping.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *testClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }
func withClock(c *testClock) func(*harness) option {
	return func(*harness) option { return func(cfg *bot.Config) { cfg.Now = c.Now } }
}

// status GETs the delivery status URL, signed like the webhook over an empty body.
func (h *harness) status(at time.Time, path string) (int, map[string]any) {
	h.t.Helper()
	key, _ := bot.ParseWebhookSecret(webhookKey)
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("status-1." + ts + "."))
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+path, nil)
	req.Header.Set("webhook-id", "status-1")
	req.Header.Set("webhook-timestamp", ts)
	req.Header.Set("webhook-signature", "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		h.t.Fatalf("status answer is not JSON (%d): %s", resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

func targetOf(t *testing.T, out map[string]any) map[string]any {
	t.Helper()
	ts, _ := out["targets"].([]any)
	if len(ts) != 1 {
		t.Fatalf("want one target: %s", js(out))
	}
	return ts[0].(map[string]any)
}

// cardsPosted counts the summary cards posted to a chat (POSTs of a card).
func (h *harness) cardsPosted(conv string) int {
	n := 0
	for _, s := range h.conn.Sent() {
		if s.Method == http.MethodPost && s.ConversationID == conv && len(s.Activity.Attachments) > 0 &&
			strings.Contains(js(s.Activity.Attachments), "Web Portal weekly sync") {
			n++
		}
	}
	return n
}

// Teams refuses the card three times: the summary is accepted (202, pending)
// and never reported delivered until it is; the worker retries on schedule,
// posts it once, and the status URL says so.
func TestDeliveryRetriedUntilTeamsTakesIt(t *testing.T) {
	forEachBackend(t, testDeliveryRetriedUntilTeamsTakesIt)
}

func testDeliveryRetriedUntilTeamsTakesIt(t *testing.T, b backend) {
	clock := &testClock{}
	h := newHarnessOn(t, b, withDemo, withClock(clock))
	h.install(chatID)
	h.conn.FailNext(http.StatusServiceUnavailable, "", 3)
	resp, out := h.deliver("msg_retry", summaryJSON("retry-1", chatID), "")
	if resp.StatusCode != http.StatusAccepted || out["accepted"] != true {
		t.Fatalf("answer %d: %s", resp.StatusCode, js(out))
	}
	if out["deliveredTo"] != nil {
		t.Fatalf("reported delivered although Teams refused the card: %s", js(out))
	}
	if loc := resp.Header.Get("Location"); loc != "/api/summaries/retry-1" || out["status"] != loc {
		t.Fatalf("status URL: Location %q, body %v", loc, out["status"])
	}
	if st := targetOf(t, out); st["state"] != "pending" || st["attempts"] != float64(1) {
		t.Fatalf("target after the first refusal: %v", st)
	}
	// Not due yet: nothing is attempted.
	if n, err := h.bot.RetryDueDeliveries(context.Background()); err != nil || n != 0 {
		t.Fatalf("attempted %d (err %v) before the retry was due", n, err)
	}
	for i := 0; i < 3; i++ {
		clock.Advance(2 * time.Minute)
		if n, err := h.bot.RetryDueDeliveries(context.Background()); err != nil || n != 1 {
			t.Fatalf("pass %d attempted %d (err %v)", i, n, err)
		}
	}
	if n := h.cardsPosted(chatID); n != 1 {
		t.Fatalf("%d summary cards posted, want exactly 1", n)
	}
	code, st := h.status(clock.Now(), "/api/summaries/retry-1")
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, js(st))
	}
	if tg := targetOf(t, st); tg["state"] != "posted" || tg["attempts"] != float64(4) || tg["cards"] != float64(1) {
		t.Fatalf("status target: %v", tg)
	}
	// Posted deliveries are done: later passes attempt nothing.
	clock.Advance(time.Hour)
	if n, _ := h.bot.RetryDueDeliveries(context.Background()); n != 0 || h.cardsPosted(chatID) != 1 {
		t.Fatal("a posted delivery was attempted again")
	}
	// The status URL is signed: unsigned reads are refused.
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/api/summaries/retry-1", nil)
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unsigned status read: %v %v", r.StatusCode, err)
	}
	if code, _ := h.status(clock.Now(), "/api/summaries/unknown-id"); code != http.StatusNotFound {
		t.Fatalf("unknown summary id: %d", code)
	}
}

// A replica that stops after accepting (the delivery is pending) loses
// nothing: another process on the same database posts it.
func TestDeliverySurvivesARestart(t *testing.T) { forEachBackend(t, testDeliverySurvivesARestart) }

func testDeliverySurvivesARestart(t *testing.T, b backend) {
	clock := &testClock{}
	h := newHarnessOn(t, b, withDemo, withClock(clock))
	h.install(chatID)
	h.conn.FailNext(http.StatusServiceUnavailable, "", 1)
	if resp, out := h.deliver("msg_restart", summaryJSON("restart-1", chatID), ""); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("answer %d: %s", resp.StatusCode, js(out))
	}
	// "Restart": a new bot process with its own store client on the same database.
	r := h.replica()
	clock.Advance(time.Minute)
	if n, err := r.bot.RetryDueDeliveries(context.Background()); err != nil || n != 1 {
		t.Fatalf("the restarted process attempted %d (err %v)", n, err)
	}
	if n := h.cardsPosted(chatID); n != 1 {
		t.Fatalf("%d cards after the restart, want 1", n)
	}
}

// Two replicas working the same due deliveries at once post each card once.
func TestTwoReplicasNeverPostADeliveryTwice(t *testing.T) {
	forEachBackend(t, testTwoReplicasNeverPostADeliveryTwice)
}

func testTwoReplicasNeverPostADeliveryTwice(t *testing.T, b backend) {
	clock := &testClock{}
	h := newHarnessOn(t, b, withDemo, withClock(clock))
	h.install(chatID)
	h.conn.FailNext(http.StatusServiceUnavailable, "", 1)
	if resp, out := h.deliver("msg_two", summaryJSON("two-1", chatID), ""); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("answer %d: %s", resp.StatusCode, js(out))
	}
	r := h.replica()
	clock.Advance(time.Minute)
	var wg sync.WaitGroup
	for _, b := range []*bot.Bot{h.bot, r.bot, h.bot, r.bot} {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = b.RetryDueDeliveries(context.Background()) }()
	}
	wg.Wait()
	if n := h.cardsPosted(chatID); n != 1 {
		t.Fatalf("%d cards posted by two replicas, want 1", n)
	}
}

// Only answers a retry cannot change are replayed for the same webhook-id; a
// changed summary under an old id is a conflict.
func TestWebhookReplayRulesAndConflicts(t *testing.T) {
	forEachBackend(t, testWebhookReplayRulesAndConflicts)
}

func testWebhookReplayRulesAndConflicts(t *testing.T, b backend) {
	h := newHarnessOn(t, b, withDemo)
	// Not installed yet: 422, and the same webhook-id retried after the install is delivered.
	resp, out := h.deliver("msg_replay", summaryJSON("replay-1", chatID), "")
	if resp.StatusCode != http.StatusUnprocessableEntity || out["error"] != "not_installed" {
		t.Fatalf("before install: %d %s", resp.StatusCode, js(out))
	}
	h.install(chatID)
	resp, out = h.deliver("msg_replay", summaryJSON("replay-1", chatID), "")
	if resp.StatusCode != http.StatusAccepted || len(out["deliveredTo"].([]any)) != 1 {
		t.Fatalf("retry after install: %d %s", resp.StatusCode, js(out))
	}
	// A 202 is replayed as it was.
	first := js(out)
	resp, out = h.deliver("msg_replay", summaryJSON("replay-1", chatID), "")
	if resp.StatusCode != http.StatusAccepted || js(out) != first {
		t.Fatalf("replay: %d %s, want %s", resp.StatusCode, js(out), first)
	}
	if n := h.cardsPosted(chatID); n != 1 {
		t.Fatalf("%d cards, want 1", n)
	}
	// Same id, new webhook-id, same content: the same summary, nothing posted again.
	resp, out = h.deliver("msg_replay_2", summaryJSON("replay-1", chatID), "")
	if resp.StatusCode != http.StatusAccepted || out["duplicate"] != true || h.cardsPosted(chatID) != 1 {
		t.Fatalf("same content again: %d %s", resp.StatusCode, js(out))
	}
	// Another id, the same content, the same chat: shown once.
	resp, out = h.deliver("msg_replay_4", summaryJSON("replay-1-copy", chatID), "")
	if resp.StatusCode != http.StatusAccepted || out["duplicate"] != true || h.cardsPosted(chatID) != 1 {
		t.Fatalf("same content under another id: %d %s, %d cards", resp.StatusCode, js(out), h.cardsPosted(chatID))
	}
	// Same id, different content: 409 naming the id, nothing stored or shown.
	changed := strings.Replace(string(summaryJSON("replay-1", chatID)), "Roll back address validation", "Keep address validation", 1)
	resp, out = h.deliver("msg_replay_3", []byte(changed), "")
	if resp.StatusCode != http.StatusConflict || !strings.Contains(js(out), `\"replay-1\"`) {
		t.Fatalf("changed content: %d %s", resp.StatusCode, js(out))
	}
	if h.cardsPosted(chatID) != 1 {
		t.Fatal("the changed summary was posted")
	}
}

// A pasted summary whose cards Teams refuses for the moment is not lost
// either: it is delivered like a webhook's, and retried.
func TestPastedSummaryRetriedWhenTeamsIsBusy(t *testing.T) {
	forEachBackend(t, testPastedSummaryRetriedWhenTeamsIsBusy)
}

func testPastedSummaryRetriedWhenTeamsIsBusy(t *testing.T, b backend) {
	clock := &testClock{}
	h := newHarnessOn(t, b, withDemo, withClock(clock))
	h.conn.FailNext(http.StatusServiceUnavailable, "", 1)
	if first := h.paste(chatID, notes); first[0].Status != http.StatusServiceUnavailable {
		t.Fatalf("the fake connector should have refused the card: %d", first[0].Status)
	}
	// The message handler runs after the HTTP answer: once it has finished,
	// the refused attempt is recorded and its lease let go.
	h.settle()
	due, err := h.store.DueDeliveries(context.Background(), clock.Now().Add(time.Hour), 10)
	if err != nil || len(due) != 1 || due[0].Attempts != 1 {
		t.Fatalf("the refused attempt was not recorded: %+v (err %v)", due, err)
	}
	if lease, ok, err := h.store.AcquireLease(context.Background(), "delivery:"+due[0].SummaryID, time.Second); err != nil || !ok {
		t.Fatalf("the refused attempt kept its lease (err %v)", err)
	} else {
		_ = h.store.ReleaseLease(context.Background(), "delivery:"+due[0].SummaryID, lease)
	}
	before := len(h.conn.Sent())
	clock.Advance(time.Minute)
	if n, err := h.bot.RetryDueDeliveries(context.Background()); err != nil || n != 1 {
		t.Fatalf("attempted %d (err %v)", n, err)
	}
	sent := h.conn.Sent()[before:]
	if len(sent) != 1 || sent[0].Status >= 300 || len(sent[0].Activity.Attachments) != 1 {
		t.Fatalf("retry posted %s", js(sent))
	}
}
