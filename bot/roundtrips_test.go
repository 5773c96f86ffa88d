package bot_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/bot"
	"github.com/sally-devops/devopsbot/cards"
	"github.com/sally-devops/devopsbot/cards/cardstest"
)

// dbCalls runs f and returns the database commands it made, by "command
// collection", counted by the store's command monitor.
func (h *harness) dbCalls(f func()) (int64, map[string]int64) {
	h.t.Helper()
	before, beforeBy := h.mongo.CommandCount(), h.mongo.CommandCounts()
	f()
	by := h.mongo.CommandCounts()
	for k, n := range beforeBy {
		if by[k] -= n; by[k] == 0 {
			delete(by, k)
		}
	}
	return h.mongo.CommandCount() - before, by
}

func describeCalls(by map[string]int64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(by)) {
		parts = append(parts, fmt.Sprintf("%s×%d", k, by[k]))
	}
	return strings.Join(parts, ", ")
}

// Opening the create form once its choices are cached is what users wait on
// most: it reads only the user's connection (which is never cached, so a
// disconnect or new tokens count at once on every replica). The other hot paths
// are logged with their counts (go test -v -run RoundTrips).
func TestWarmFormOpenMakesOneDatabaseRoundTrip(t *testing.T) {
	h := newHarness(t, withDemo)
	sid, _ := deliveredSummary(t, h)
	connectDemo(t, h, userAdele)

	var form cards.Card
	n, by := h.dbCalls(func() { form = dialogCard(t, h.taskFetch(userAdele, chatID, createData(sid))) })
	t.Logf("cold create form open: %d (%s)", n, describeCalls(by))
	if _, ok := cardstest.FindAction(form, "create.submit"); !ok {
		t.Fatalf("no create form: %.300s", js(form))
	}

	n, by = h.dbCalls(func() { form = dialogCard(t, h.taskFetch(userAdele, chatID, createData(sid))) })
	t.Logf("warm create form open: %d (%s)", n, describeCalls(by))
	if _, ok := cardstest.FindAction(form, "create.submit"); !ok {
		t.Fatalf("no create form: %.300s", js(form))
	}
	if strings.Contains(js(form), "Action.Execute") {
		t.Fatalf("the dialog form carries an Action.Execute, which a dialog cannot send: %.300s", js(form))
	}
	if n != 1 || by["find connections"] != 1 {
		t.Fatalf("a warm form open made %d database calls (%s), want only the connection read", n, describeCalls(by))
	}

	n, by = h.dbCalls(func() {
		form = dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, "create.reload", map[string]any{"project": "Web Portal"})))
	})
	t.Logf("create form reload (other project): %d (%s)", n, describeCalls(by))
	if n != 1 {
		t.Errorf("a form reload made %d database calls (%s), want the connection only", n, describeCalls(by))
	}

	var res cards.Card
	n, by = h.dbCalls(func() {
		res = dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, "create.submit", nil)))
	})
	t.Logf("create submit: %d (%s)", n, describeCalls(by))
	if !strings.Contains(js(res), "Created Task 1") {
		t.Fatalf("create: %.300s", js(res))
	}
	// The claim, its outcome, the audit and the card refresh are the writes a
	// create needs; the reads are the connection, the summary, its links and
	// the chat to refresh. A new read or write on this path shows here.
	atMost(t, "create submit", n, by, 9)

	n, by = h.dbCalls(func() { res = dialogCard(t, h.taskFetch(userAdele, chatID, createData(sid))) })
	t.Logf("create again (already done): %d (%s)", n, describeCalls(by))
	if !strings.Contains(js(res), "You already did this") {
		t.Fatalf("second click: %.300s", js(res))
	}
	if n != 0 {
		t.Errorf("a click on an insight known to be done made %d database calls (%s), want none", n, describeCalls(by))
	}

	comment := map[string]any{"msteams": map[string]any{"type": "task/fetch"}, "sally": "comment", "summaryId": sid, "insightId": "d1"}
	n, by = h.dbCalls(func() { form = dialogCard(t, h.taskFetch(userAdele, chatID, comment)) })
	t.Logf("comment form open: %d (%s)", n, describeCalls(by))
	atMost(t, "comment form open", n, by, 2)
	if _, ok := cardstest.FindAction(form, "comment.submit"); !ok {
		t.Fatalf("no comment form: %.300s", js(form))
	}
	if strings.Contains(js(form), "Action.Execute") {
		t.Fatalf("the dialog comment form carries an Action.Execute: %.300s", js(form))
	}

	n, by = h.dbCalls(func() {
		h.invoke(userAdele, chatID, "application/search", map[string]any{"kind": "search", "queryText": "circuit", "dataset": "workitems"})
	})
	t.Logf("typeahead search: %d (%s)", n, describeCalls(by))
	if n != 1 {
		t.Errorf("a typeahead search made %d database calls (%s), want the connection only", n, describeCalls(by))
	}

	n, by = h.dbCalls(func() {
		res = dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, "comment.submit", map[string]any{"workItemId": "1", "comment": "Noted."})))
	})
	t.Logf("comment submit: %d (%s)", n, describeCalls(by))
	if !strings.Contains(js(res), "Comment added") {
		t.Fatalf("comment: %.300s", js(res))
	}
	atMost(t, "comment submit", n, by, 8)

	n, by = h.dbCalls(func() { h.say(userAdele, "a:personal-"+userAdele, "help") })
	t.Logf("help: %d (%s)", n, describeCalls(by))
	atMost(t, "help", n, by, 1) // remembering the chat, for proactive messages
	n, by = h.dbCalls(func() { h.say(userAdele, "a:personal-"+userAdele, "status") })
	t.Logf("status: %d (%s)", n, describeCalls(by))
	atMost(t, "status", n, by, 3) // and the connection and chat settings it reports on
}

// atMost fails when a path made more database round trips than it needs.
func atMost(t *testing.T, path string, n int64, by map[string]int64, want int64) {
	t.Helper()
	if n > want {
		t.Errorf("%s made %d database calls (%s), want at most %d", path, n, describeCalls(by), want)
	}
}

// In place (FORMS=card) the answer is the whole summary card with the form in
// it: besides the connection it needs the summary's results, read once, beside
// the connection.
func TestWarmInCardFormOpenReadsConnectionAndResultsOnce(t *testing.T) {
	h := newHarness(t, withDemo, func(h *harness) option {
		return func(c *bot.Config) { c.Forms = "card" }
	})
	summaryCard, _ := inCardSummary(t, h)
	connectDemo(t, h, userAdele)
	create, ok := actionFor(summaryCard, "create", "t1")
	if !ok {
		t.Fatal("no create button for t1")
	}
	h.execute(userAdele, chatID, create) // warms the metadata
	var form cards.Card
	n, by := h.dbCalls(func() { form = h.execute(userAdele, chatID, create) })
	t.Logf("warm in-card create form open: %d (%s)", n, describeCalls(by))
	if _, ok := cardstest.FindAction(form, "create.submit"); !ok {
		t.Fatalf("no form in place: %.300s", js(form))
	}
	if n != 2 || by["find connections"] != 1 || by["find insight_links"] != 1 {
		t.Fatalf("a warm in-card form open made %d database calls (%s), want the connection and the results once each", n, describeCalls(by))
	}
}

// A replica that cached a meeting summary before Copilot's insights replaced
// the transcript's still opens the form for a new insight clicked on the
// updated card: an unknown insight is looked up fresh before it is refused.
func TestStaleCachedSummaryStillOpensANewInsight(t *testing.T) {
	h := newHarness(t, withDemo)
	r := h.replica()
	sid, _ := deliveredSummary(t, h)
	connectDemo(t, r, userAdele)
	if _, ok := cardstest.FindAction(dialogCard(t, r.taskFetch(userAdele, chatID, createData(sid))), "create.submit"); !ok {
		t.Fatal("no form on the second replica")
	}
	sm, err := h.store.GetSummary(context.Background(), sid)
	if err != nil {
		t.Fatal(err)
	}
	upgraded := append([]devopsbot.Insight{{ID: "c9", Kind: devopsbot.KindTask, Text: "Copilot: write the rollback runbook"}}, sm.Insights...)
	if err := h.store.ReplaceSummaryContent(context.Background(), sid, "copilot", upgraded); err != nil {
		t.Fatal(err)
	}
	data := createData(sid)
	data["insightId"] = "c9"
	form := dialogCard(t, r.taskFetch(userAdele, chatID, data))
	if _, ok := cardstest.FindAction(form, "create.submit"); !ok || !strings.Contains(js(form), "rollback runbook") {
		t.Fatalf("the new insight's form on the replica with the older cache: %.300s", js(form))
	}
}
