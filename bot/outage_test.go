package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/bot"
	"github.com/sally-devops/devopsbot/cards"
	"github.com/sally-devops/devopsbot/cards/cardstest"
	"github.com/sally-devops/devopsbot/store/storetest"
)

const (
	dbDownText   = "I can't reach my database right now, try again in a minute."
	outageBanner = "Could not save right now; nothing was created; try again."
)

// newOutageHarness is newHarness on the test's own database server, which the
// test stops and starts again. Each call may wait the driver's default 30 s: an
// answer that comes before the harness gives up (10 s for a chat reply, the
// guard below for an invoke) is the store failing fast, not the database timing out.
func newOutageHarness(t *testing.T, opts ...func(h *harness) option) (*harness, *storetest.Server) {
	t.Helper()
	h := newHarness(t, opts...)
	srv := storetest.NewServer(t)
	h.storeCfg = srv.Config(t)
	h.storeCfg.OpTimeout = 30 * time.Second
	h.mongo = storetest.Open(t, h.storeCfg)
	h.store, h.cfg.Store = h.mongo, h.mongo
	h.start()
	return h, srv
}

// guardedInvoke is harness.invoke with a 5 s guard: far below the store's
// OpTimeout, far above a fast answer.
func (h *harness) guardedInvoke(user, conv, name string, value any) map[string]any {
	h.t.Helper()
	a := h.activity("invoke", user, conv)
	a.Name = name
	a.Value, _ = json.Marshal(value)
	body, _ := json.Marshal(a)
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Post(h.srv.URL+"/api/messages", "application/json", bytes.NewReader(body))
	if err != nil {
		h.t.Fatalf("invoke %s with the database down: no answer before the guard: %v", name, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &out) != nil {
		h.t.Fatalf("invoke %s answered %d: %s", name, resp.StatusCode, raw)
	}
	return out
}

func (h *harness) guardedSubmit(data map[string]any) cards.Card {
	h.t.Helper()
	return dialogCard(h.t, h.guardedInvoke(userAdele, chatID, "task/submit", map[string]any{"data": data, "context": map[string]any{"theme": "default"}}))
}

// wantKept checks that a form card holds what the person submitted, the outage
// banner and its submit button.
func wantKept(t *testing.T, card cards.Card, submitVerb string, data map[string]any, fields ...string) {
	t.Helper()
	if !strings.Contains(js(card), outageBanner) {
		t.Fatalf("no outage banner: %.600s", js(card))
	}
	if _, ok := cardstest.FindAction(card, submitVerb); !ok {
		t.Fatalf("the form lost its %s button: %.600s", submitVerb, js(card))
	}
	in := cardstest.Inputs(card)
	for _, id := range fields {
		if got := in[id]["value"]; got != data[id] {
			t.Errorf("input %s = %v, want the submitted %q", id, got, data[id])
		}
	}
}

var createFields = []string{"project", "workItemType", "assignedTo", "areaPath", "iterationPath", "title", "description"}

func TestChatCommandsWhileDatabaseDownAnswerAtOnce(t *testing.T) {
	h, srv := newOutageHarness(t)
	conv := "a:personal-" + userAdele
	h.say(userAdele, conv, "status") // the chat is known, the database works
	srv.Stop()
	paste := "Weekly sync\n- Decision: ship it\n- Task: write the notes"
	for _, text := range []string{"status", "disconnect devops", "connect devops https://dev.azure.com/fabrikam", paste} {
		out := h.say(userAdele, conv, text)
		if len(out) != 1 || out[0].Activity.Text != dbDownText {
			t.Fatalf("%q with the database down: %s", text, js(out))
		}
	}
	// Help needs nothing stored: it still answers in full.
	if c := cardOf(t, h.say(userAdele, conv, "help")[0]); !strings.Contains(c, "connect devops") {
		t.Fatalf("help with the database down: %s", c)
	}

	srv.Start()
	tries := retryUntil(t, func() bool { return h.say(userAdele, conv, "status")[0].Activity.Text != dbDownText })
	t.Logf("status answered normally again after %d tries", tries)
}

// retryUntil retries what a person would retry, a fifth of a second apart, and
// returns how many tries it took; it fails after 50.
func retryUntil(t *testing.T, ok func() bool) int {
	t.Helper()
	for n := 1; n <= 50; n++ {
		if ok() {
			return n
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("still failing 50 tries after the database returned")
	return 0
}

func TestFormsKeepTheInputWhileDatabaseDownAndCreateAfterwards(t *testing.T) {
	h, srv := newOutageHarness(t, withDemo)
	sid, _ := deliveredSummary(t, h)
	connectDemo(t, h, userAdele)
	form := openWebPortalForm(t, h, sid)
	create := submitFrom(t, form, "create.submit", map[string]any{"title": "Circuit breaker, typed by hand", "description": "Every word of this matters."})
	cf := dialogCard(t, h.taskFetch(userAdele, chatID, map[string]any{"msteams": map[string]any{"type": "task/fetch"}, "sally": "comment", "summaryId": sid, "insightId": "d1"}))
	comment := submitFrom(t, cf, "comment.submit", map[string]any{"workItemId": "#7", "comment": "My own comment, not the prefill."})

	srv.Stop()
	// Dialog submit: the summary can't be read, so the form is rebuilt from the click.
	wantKept(t, h.guardedSubmit(create), "create.submit", create, createFields...)
	wantKept(t, h.guardedSubmit(comment), "comment.submit", comment, "workItemId", "comment")
	// Load choices for another project: the same, with the new project kept.
	reload := submitFrom(t, form, "create.reload", map[string]any{"project": "Mobile", "title": "Changed my mind"})
	wantKept(t, h.guardedSubmit(reload), "create.submit", reload, "project", "title", "description")
	// In-card forms (Action.Execute) keep it too.
	resp := h.guardedInvoke(userAdele, chatID, "adaptiveCard/action", map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": "create.submit", "data": create}, "trigger": "manual"})
	card, _ := resp["value"].(map[string]any)
	wantKept(t, cards.Card(card), "create.submit", create, createFields...)
	// Opening a form has nothing to keep: the short answer.
	if msg := h.guardedInvoke(userAdele, chatID, "task/fetch", map[string]any{"data": createData(sid)}); !strings.Contains(js(msg), dbDownText) {
		t.Fatalf("opening a form with the database down: %s", js(msg))
	}
	if _, ok := h.org.WorkItem(1); ok {
		t.Fatal("a work item was created while the database was down")
	}

	// Back: the very same submission, sent again, creates the work item once.
	srv.Start()
	var result cards.Card
	tries := retryUntil(t, func() bool {
		result = dialogCard(t, h.taskSubmit(userAdele, chatID, create))
		return !strings.Contains(js(result), outageBanner)
	})
	if !strings.Contains(js(result), "Created Task") {
		t.Fatalf("after recovery (%d tries): %.500s", tries, js(result))
	}
	wi, ok := h.org.WorkItem(1)
	if !ok || wi.Fields["System.Title"] != "Circuit breaker, typed by hand" {
		t.Fatalf("after recovery (%d tries): work item %+v, %v", tries, wi, ok)
	}
	if _, two := h.org.WorkItem(2); two {
		t.Fatal("the retries created a second work item")
	}
}

// downConnections is the store with the connection unreadable for the outage:
// the summary loads, then the step fails later, as when the database goes down
// in the middle of a click.
type downConnections struct{ bot.Store }

func (downConnections) GetConnection(context.Context, devopsbot.UserKey) (*devopsbot.Connection, error) {
	return nil, apperr.Wrap(apperr.Unavailable, "The database is unavailable right now", devopsbot.ErrStoreUnavailable)
}

func TestFormKeepsTheInputWhenTheConnectionCannotBeRead(t *testing.T) {
	h := newHarness(t, withDemo)
	sid, _ := deliveredSummary(t, h)
	connectDemo(t, h, userAdele)
	create := submitFrom(t, openWebPortalForm(t, h, sid), "create.submit", map[string]any{"title": "Kept title", "description": "Kept description"})
	h.cfg.Store = downConnections{h.store}
	h.start()
	card := dialogCard(t, h.taskSubmit(userAdele, chatID, create))
	wantKept(t, card, "create.submit", create, createFields...)
	// The summary was read: the form shows the insight it is for.
	if !strings.Contains(js(card), "Add a timeout and circuit breaker") {
		t.Fatalf("the kept form does not show the insight: %.500s", js(card))
	}
	if _, ok := h.org.WorkItem(1); ok {
		t.Fatal("a work item was created without the connection")
	}
}

// A delivery the bot cannot record must not be acknowledged: 503, so the sender
// retries, and its retry after the outage is delivered once.
func TestWebhookWhileDatabaseDownIsRefusedForRetry(t *testing.T) {
	h, srv := newOutageHarness(t)
	h.install(chatID)
	srv.Stop()
	before := len(h.conn.Sent())
	resp, out := h.deliver("msg_outage", summaryJSON("weekly-9", chatID), "")
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("delivery with the database down answered %d (Retry-After %q), want 503 with Retry-After: %s", resp.StatusCode, resp.Header.Get("Retry-After"), js(out))
	}
	if n := len(h.conn.Sent()) - before; n != 0 {
		t.Fatalf("%d cards posted for a delivery that was refused", n)
	}

	srv.Start()
	tries := retryUntil(t, func() bool {
		resp, _ := h.deliver("msg_outage", summaryJSON("weekly-9", chatID), "")
		return resp.StatusCode == http.StatusAccepted
	})
	if n := len(h.conn.Sent()) - before; n != 1 {
		t.Fatalf("after %d tries: %d summary cards posted, want 1", tries, n)
	}
}
