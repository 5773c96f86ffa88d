package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/bot"
	"github.com/sally-devops/devopsbot/cards"
	"github.com/sally-devops/devopsbot/cards/cardstest"
	"github.com/sally-devops/devopsbot/devops/devopstest"
)

// deliveredSummary installs the bot in the chat, delivers a summary through the
// webhook and returns the summary id and the posted card's activity id.
func deliveredSummary(t *testing.T, h *harness) (summaryID, activityID string) {
	t.Helper()
	h.install(chatID)
	before := len(h.conn.Sent())
	resp, out := h.deliver("msg_1", summaryJSON("weekly-1", chatID), "")
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("delivery answered %d: %s", resp.StatusCode, js(out))
	}
	sent := h.conn.Sent()[before:]
	if len(sent) != 1 {
		t.Fatalf("want one summary card, got %d", len(sent))
	}
	card := cardOf(t, sent[0])
	for _, want := range []string{"Web Portal weekly sync", "Create work item", "Add comment", `\\\u003cscript\\\u003e`} {
		if !strings.Contains(card, want) {
			t.Fatalf("summary card lacks %q: %.600s", want, card)
		}
	}
	return out["summaryId"].(string), sent[0].ActivityID
}

func connectDemo(t *testing.T, h *harness, user string) {
	t.Helper()
	c := cardOf(t, h.say(user, "a:personal-"+user, "connect devops")[0])
	if !strings.Contains(c, "Connected") {
		t.Fatalf("demo connect failed: %s", c)
	}
}

func createData(sid string) map[string]any {
	return map[string]any{"msteams": map[string]any{"type": "task/fetch"}, "sally": "create", "summaryId": sid, "insightId": "t1"}
}

// submitFrom fills a form the way Teams does: the action's data merged with the inputs' values.
func submitFrom(t *testing.T, card cards.Card, verb string, changes map[string]any) map[string]any {
	t.Helper()
	act, ok := cardstest.FindAction(card, verb)
	if !ok {
		t.Fatalf("form has no %s action: %s", verb, js(card))
	}
	data := map[string]any{}
	for k, v := range act["data"].(map[string]any) {
		data[k] = v
	}
	for id, in := range cardstest.Inputs(card) {
		if v, ok := in["value"]; ok {
			data[id] = v
		}
	}
	for k, v := range changes {
		data[k] = v
	}
	return data
}

// openWebPortalForm opens the create form and switches it to the Web Portal
// project through "Load choices for this project", as a user would.
func openWebPortalForm(t *testing.T, h *harness, sid string) cards.Card {
	t.Helper()
	form := dialogCard(t, h.taskFetch(userAdele, chatID, createData(sid)))
	return dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, "create.reload", map[string]any{"project": "Web Portal"})))
}

func TestWebhookToWorkItemEndToEnd(t *testing.T) { forEachBackend(t, testWebhookToWorkItemEndToEnd) }

func testWebhookToWorkItemEndToEnd(t *testing.T, b backend) {
	h := newHarnessOn(t, b, withDemo)
	sid, cardID := deliveredSummary(t, h)

	// Not connected yet: the dialog asks to connect first, then continues to the form.
	resp := h.taskFetch(userAdele, chatID, createData(sid))
	c := dialogCard(t, resp)
	if _, ok := cardstest.FindAction(c, "dialog.connect"); !ok {
		t.Fatalf("expected the connect step, got %s", js(c))
	}
	form := dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, c, "dialog.connect", nil)))
	if _, ok := cardstest.FindAction(form, "create.submit"); !ok {
		t.Fatalf("after connecting, the create form should follow: %.300s", js(form))
	}
	form = dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, "create.reload", map[string]any{"project": "Web Portal"})))
	in := cardstest.Inputs(form)
	for id, want := range map[string]string{"project": "Web Portal", "workItemType": "Task", "areaPath": "Web Portal\\Frontend", "iterationPath": "Web Portal\\Sprint 3"} {
		if got := in[id]["value"]; got != want {
			t.Errorf("default %s = %v, want %q", id, got, want)
		}
	}
	if v, _ := in["title"]["value"].(string); !strings.HasPrefix(v, "Add a timeout and circuit breaker") {
		t.Errorf("title prefill = %q", v)
	}
	if v, _ := in["description"]["value"].(string); !strings.Contains(v, "Web Portal weekly sync") || !strings.Contains(v, "https://teams.microsoft.com/l/meetup-join/x") {
		t.Errorf("description prefill lacks the meeting: %q", v)
	}

	result := dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, "create.submit", map[string]any{"title": "Circuit breaker for address validation"})))
	rj := js(result)
	if !strings.Contains(rj, "Created Task") || !strings.Contains(rj, "Circuit breaker for address validation") {
		t.Fatalf("result card: %s", rj)
	}
	// The work item exists in Azure DevOps with the chosen fields.
	wi, ok := h.org.WorkItem(1)
	if !ok {
		t.Fatal("no work item created")
	}
	if wi.Fields["System.Title"] != "Circuit breaker for address validation" || wi.Fields["System.AreaPath"] != "Web Portal\\Frontend" || !strings.Contains(js(wi.Fields["System.Tags"]), "sally-ref-") {
		t.Fatalf("work item fields: %s", js(wi.Fields))
	}
	// The shared card now shows the result for everyone.
	act, ok := h.conn.Activity(chatID, cardID)
	if !ok || !strings.Contains(js(act.Attachments), "Created Task 1") {
		t.Fatalf("shared card not updated: %s", js(act.Attachments))
	}
	// A second click shows the existing item and creates nothing; the person
	// who did it hears it was them, anyone else hears who.
	again := dialogCard(t, h.taskFetch(userAdele, chatID, createData(sid)))
	if !strings.Contains(js(again), "You already did this") {
		t.Fatalf("second click: %s", js(again))
	}
	other := dialogCard(t, h.taskFetch(userAlex, chatID, createData(sid)))
	if !strings.Contains(js(other), "Adele Vance already did this") || strings.Contains(js(other), "You already") {
		t.Fatalf("another person's click: %s", js(other))
	}
	if _, dup := h.org.WorkItem(2); dup {
		t.Fatal("a second work item was created")
	}
	// The user's choices are remembered for the next form.
	if h.org.Calls(devopstest.RouteCreate) != 1 {
		t.Fatalf("create calls = %d", h.org.Calls(devopstest.RouteCreate))
	}
}

func TestFormDefaultsFromLastChoicesAndOwner(t *testing.T) {
	forEachBackend(t, testFormDefaultsFromLastChoicesAndOwner)
}

func testFormDefaultsFromLastChoicesAndOwner(t *testing.T, b backend) {
	h := newHarnessOn(t, b, withDemo)
	sid, _ := deliveredSummary(t, h)
	connectDemo(t, h, userAdele)
	if err := h.store.SavePrefs(context.Background(), devopsbot.UserKey{TenantID: tenantID, AADObjectID: userAdele}, devopsbot.Prefs{Project: "Web Portal", WorkItemType: "Bug"}); err != nil {
		t.Fatal(err)
	}
	in := cardstest.Inputs(dialogCard(t, h.taskFetch(userAdele, chatID, createData(sid))))
	for id, want := range map[string]string{"project": "Web Portal", "workItemType": "Bug", "assignedTo": "adele@contoso.com"} {
		if got := in[id]["value"]; got != want {
			t.Errorf("default %s = %v, want %q", id, got, want)
		}
	}
}

func TestConcurrentCreateClicksMakeOneWorkItem(t *testing.T) {
	forEachBackend(t, testConcurrentCreateClicksMakeOneWorkItem)
}

func testConcurrentCreateClicksMakeOneWorkItem(t *testing.T, b backend) {
	h := newHarnessOn(t, b, withDemo)
	sid, _ := deliveredSummary(t, h)
	connectDemo(t, h, userAdele)
	form := dialogCard(t, h.taskFetch(userAdele, chatID, createData(sid)))
	data := submitFrom(t, form, "create.submit", nil)
	var wg sync.WaitGroup
	results := make([]string, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = js(h.taskSubmit(userAdele, chatID, data))
		}()
	}
	wg.Wait()
	if n := h.org.Calls(devopstest.RouteCreate); n != 1 {
		t.Fatalf("8 concurrent submits made %d create calls", n)
	}
	created := 0
	for _, r := range results {
		if strings.Contains(r, "Work item created") {
			created++
		}
	}
	if created != 1 {
		t.Fatalf("%d submits reported a new work item: %v", created, results)
	}
}

func TestTwoReplicasShareStateAndCreateOnce(t *testing.T) {
	forEachBackend(t, testTwoReplicasShareStateAndCreateOnce)
}

func testTwoReplicasShareStateAndCreateOnce(t *testing.T, b backend) {
	h := newHarnessOn(t, b, withDemo)
	r := h.replica()
	sid, cardID := deliveredSummary(t, h) // delivered through replica 1
	connectDemo(t, r, userAdele)          // connected through replica 2
	form := dialogCard(t, r.taskFetch(userAdele, chatID, createData(sid)))
	data := submitFrom(t, form, "create.submit", nil)
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			target := h
			if i%2 == 1 {
				target = r
			}
			target.taskSubmit(userAdele, chatID, data)
		}()
	}
	wg.Wait()
	if n := h.org.Calls(devopstest.RouteCreate); n != 1 {
		t.Fatalf("two replicas made %d create calls", n)
	}
	if act, _ := h.conn.Activity(chatID, cardID); !strings.Contains(js(act.Attachments), "Created Task 1") {
		t.Fatal("shared card not updated")
	}
	audit := h.auditOf(userAdele)
	if len(audit) != 1 || audit[0].Action != "create_work_item" || audit[0].WorkItemID != 1 || audit[0].Outcome != "ok" {
		t.Fatalf("audit: %+v", audit)
	}
}

// Azure DevOps refuses an area that no longer exists: the form comes back with
// everything the person typed or chose, says in plain words which field is
// wrong, and offers only areas that exist. Every value differs from the form's
// defaults, so a form rebuilt from scratch cannot pass.
func TestDevOpsValidationErrorKeepsInput(t *testing.T) {
	h := newHarness(t, withDemo)
	sid, _ := deliveredSummary(t, h)
	connectDemo(t, h, userAdele)
	form := openWebPortalForm(t, h, sid)
	typed := map[string]any{
		"title": "My typed title", "description": "Typed description, line one.\nLine two.",
		"workItemType": "Bug", "assignedTo": "alex@contoso.com", "iterationPath": "Web Portal\\Sprint 2",
	}
	for id, v := range typed {
		if cardstest.Inputs(form)[id]["value"] == v {
			t.Fatalf("%s is %v by default: the test would not see it lost", id, v)
		}
	}
	changes := map[string]any{"areaPath": "Web Portal\\Nope"}
	for k, v := range typed {
		changes[k] = v
	}
	again := dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, "create.submit", changes)))
	in := cardstest.Inputs(again)
	for id, want := range typed {
		if got := in[id]["value"]; got != want {
			t.Errorf("%s lost: %v, want %q", id, got, want)
		}
	}
	// The refused area is not offered back as if it were valid: the field
	// holds one of the project's areas, for the person to choose again.
	area, _ := in["areaPath"]["value"].(string)
	if area == "Web Portal\\Nope" || !slices.Contains(choiceValues(in["areaPath"]), area) {
		t.Errorf("area field holds %q, choices %v", area, choiceValues(in["areaPath"]))
	}
	// Plain words naming the field, once, in the warning above the form; the
	// raw code only in small print.
	warning := attentionTexts(again)
	if len(warning) != 2 || warning[0] != "Azure DevOps refused this: The area you chose does not exist in this project any more. Choose another area and try again." || warning[1] != "Azure DevOps code: TF401347" {
		t.Fatalf("the warning above the form: %q", warning)
	}
	raw := js(again)
	if strings.Count(raw, "Azure DevOps refused") != 1 || strings.Contains(raw, "said:") || strings.Contains(raw, "TF401347:") || strings.Contains(raw, "System.AreaPath") {
		t.Fatalf("prefix repeated or raw error in the card: %s", raw)
	}
	if _, made := h.org.WorkItem(1); made {
		t.Fatal("a work item was made despite the refusal")
	}
	// The failed attempt released the claim: a corrected submit creates the
	// item, with what was kept.
	ok := dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, again, "create.submit", map[string]any{"areaPath": "Web Portal\\Backend"})))
	if !strings.Contains(js(ok), "Created") {
		t.Fatalf("retry after fixing: %s", js(ok))
	}
	wi, found := h.org.WorkItem(1)
	if !found {
		t.Fatal("no work item after the corrected submit")
	}
	for field, want := range map[string]string{"System.Title": "My typed title", "System.IterationPath": "Web Portal\\Sprint 2", "System.AreaPath": "Web Portal\\Backend"} {
		if got := fmt.Sprint(wi.Fields[field]); got != want {
			t.Errorf("created %s = %q, want %q", field, got, want)
		}
	}
	if got := fmt.Sprint(wi.Fields["System.AssignedTo"]); wi.Type != "Bug" || wi.Project != "Web Portal" || got != "alex@contoso.com" {
		t.Errorf("created a %s in %s for %q, want a Bug in Web Portal for alex@contoso.com", wi.Type, wi.Project, got)
	}
}

// attentionTexts returns the texts of a card's warnings (attention containers), in order.
func attentionTexts(card cards.Card) []string {
	var out []string
	var walk func(v any, inAttention bool)
	walk = func(v any, inAttention bool) {
		switch x := v.(type) {
		case map[string]any:
			in := inAttention || x["style"] == "attention"
			if t, ok := x["text"].(string); ok && in && x["type"] == "TextBlock" {
				out = append(out, t)
			}
			for _, k := range []string{"body", "items", "columns"} {
				walk(x[k], in)
			}
		case []any:
			for _, e := range x {
				walk(e, inAttention)
			}
		}
	}
	var generic any
	_ = json.Unmarshal([]byte(js(card)), &generic)
	walk(generic, false)
	return out
}

func TestRequiredFieldsCheckedOnServer(t *testing.T) {
	h := newHarness(t, withDemo)
	sid, _ := deliveredSummary(t, h)
	connectDemo(t, h, userAdele)
	form := dialogCard(t, h.taskFetch(userAdele, chatID, createData(sid)))
	again := dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, "create.submit", map[string]any{"title": "  ", "assignedTo": ""})))
	if !strings.Contains(js(again), "Please fill in: Responsible user, Title") {
		t.Fatalf("server-side check: %s", js(again))
	}
	if h.org.Calls(devopstest.RouteCreate) != 0 {
		t.Fatal("created despite missing fields")
	}
}

func TestAmbiguousCreateFailureFindsTheItemInsteadOfDuplicating(t *testing.T) {
	forEachBackend(t, testAmbiguousCreateFailureFindsTheItemInsteadOfDuplicating)
}

func testAmbiguousCreateFailureFindsTheItemInsteadOfDuplicating(t *testing.T, b backend) {
	h := newHarnessOn(t, b, withDemo)
	sid, _ := deliveredSummary(t, h)
	connectDemo(t, h, userAdele)
	form := dialogCard(t, h.taskFetch(userAdele, chatID, createData(sid)))
	h.org.DropResponseAfterWrite(1)
	res := dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, "create.submit", nil)))
	if !strings.Contains(js(res), "Created") {
		t.Fatalf("after a lost answer: %s", js(res))
	}
	if _, dup := h.org.WorkItem(2); dup || h.org.Calls(devopstest.RouteCreate) != 1 {
		t.Fatalf("duplicate after an ambiguous failure (creates=%d)", h.org.Calls(devopstest.RouteCreate))
	}
}

func TestRateLimitedCreateSaysWhenAndKeepsInput(t *testing.T) {
	h := newHarness(t, withDemo)
	sid, _ := deliveredSummary(t, h)
	connectDemo(t, h, userAdele)
	form := dialogCard(t, h.taskFetch(userAdele, chatID, createData(sid)))
	h.org.FailNext(devopstest.RouteCreate, http.StatusTooManyRequests, "17", 1)
	res := dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, "create.submit", map[string]any{"title": "kept"})))
	if !strings.Contains(js(res), "17 s") || cardstest.Inputs(res)["title"]["value"] != "kept" {
		t.Fatalf("rate limited: %s", js(res))
	}
}

func TestCommentOnWorkItem(t *testing.T) { forEachBackend(t, testCommentOnWorkItem) }

func testCommentOnWorkItem(t *testing.T, b backend) {
	h := newHarnessOn(t, b, withDemo)
	sid, cardID := deliveredSummary(t, h)
	connectDemo(t, h, userAdele)
	// A work item to comment on.
	form := dialogCard(t, h.taskFetch(userAdele, chatID, createData(sid)))
	dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, "create.submit", nil)))

	open := map[string]any{"msteams": map[string]any{"type": "task/fetch"}, "sally": "comment", "summaryId": sid, "insightId": "d1"}
	cf := dialogCard(t, h.taskFetch(userAdele, chatID, open))
	if v, _ := cardstest.Inputs(cf)["comment"]["value"].(string); !strings.Contains(v, "Roll back address validation") {
		t.Fatalf("comment prefill: %q", v)
	}
	bad := dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, cf, "comment.submit", map[string]any{"workItemId": "abc"})))
	if !strings.Contains(js(bad), "1234 or #1234") {
		t.Fatalf("bad id: %s", js(bad))
	}
	res := dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, cf, "comment.submit", map[string]any{"workItemId": "#1"})))
	if !strings.Contains(js(res), "Comment added") {
		t.Fatalf("comment result: %s", js(res))
	}
	cs := h.org.Comments(1)
	if len(cs) != 1 || !strings.Contains(cs[0].Text, "Roll back address validation") {
		t.Fatalf("comments in Azure DevOps: %s", js(cs))
	}
	// Same insight, same work item again: no second comment.
	again := dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, cf, "comment.submit", map[string]any{"workItemId": "1"})))
	if !strings.Contains(js(again), "You already did this") || len(h.org.Comments(1)) != 1 {
		t.Fatalf("double comment: %s", js(again))
	}
	if !strings.Contains(cs[0].Text, "with Sally (ref sally-") {
		t.Fatalf("the comment carries no reference: %q", cs[0].Text)
	}
	// A lost answer: the comment landed, the retry finds it instead of posting twice.
	open2 := map[string]any{"msteams": map[string]any{"type": "task/fetch"}, "sally": "comment", "summaryId": sid, "insightId": "t2"}
	cf2 := dialogCard(t, h.taskFetch(userAdele, chatID, open2))
	h.org.DropResponseAfterWrite(1)
	res2 := dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, cf2, "comment.submit", map[string]any{"workItemId": "1"})))
	if !strings.Contains(js(res2), "Comment added") || len(h.org.Comments(1)) != 2 {
		t.Fatalf("after a lost answer: %d comments, %.300s", len(h.org.Comments(1)), js(res2))
	}
	act, _ := h.conn.Activity(chatID, cardID)
	if !strings.Contains(js(act.Attachments), "Commented on Task 1") {
		t.Fatalf("shared card does not show the comment: %s", js(act.Attachments))
	}
}

func TestCardActionRefusedFromAnotherConversation(t *testing.T) {
	h := newHarness(t, withDemo)
	sid, _ := deliveredSummary(t, h)
	connectDemo(t, h, userAdele)
	resp := h.taskFetch(userAdele, "19:other@thread.v2", createData(sid))
	task := resp["task"].(map[string]any)
	if task["type"] != "message" || !strings.Contains(js(task), "another conversation") {
		t.Fatalf("foreign conversation: %s", js(resp))
	}
}

func TestWebhookContract(t *testing.T) { forEachBackend(t, testWebhookContract) }

func testWebhookContract(t *testing.T, b backend) {
	h := newHarnessOn(t, b)
	h.install(chatID)
	body := summaryJSON("weekly-2", chatID)

	resp, out := h.deliver("msg_dry", body, "dryRun=true")
	if resp.StatusCode != http.StatusOK || len(out["insights"].([]any)) != 3 || len(h.conn.Sent()) != 1 {
		t.Fatalf("dry run: %d %s", resp.StatusCode, js(out))
	}
	resp, first := h.deliver("msg_a", body, "")
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("delivery: %d %s", resp.StatusCode, js(first))
	}
	// The sender retries with the same webhook-id: same answer, no second card.
	resp, again := h.deliver("msg_a", body, "")
	if resp.StatusCode != http.StatusAccepted || js(again) != js(first) {
		t.Fatalf("retry: %d %s vs %s", resp.StatusCode, js(again), js(first))
	}
	// Same summary id under a new webhook id: still delivered once.
	_, dup := h.deliver("msg_b", body, "")
	if dup["duplicate"] != true || len(h.conn.Sent()) != 2 {
		t.Fatalf("same summary twice: %s (sent %d)", js(dup), len(h.conn.Sent()))
	}

	resp, out = h.deliver("msg_c", []byte(`{"id":"x","meeting":{},"deliverTo":{},"insights":[{"id":"1","kind":"nope","text":""}]}`), "")
	if resp.StatusCode != http.StatusUnprocessableEntity || len(out["problems"].([]any)) < 3 {
		t.Fatalf("invalid summary: %d %s", resp.StatusCode, js(out))
	}
	resp, _ = h.deliver("msg_d", []byte(`{not json`), "")
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("malformed: %d", resp.StatusCode)
	}
	resp, out = h.deliver("msg_e", summaryJSON("weekly-3", "19:not-installed@thread.v2"), "")
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(js(out), "not installed") {
		t.Fatalf("not installed: %d %s", resp.StatusCode, js(out))
	}

	// Signatures: stale, wrong, missing.
	req := h.signed("msg_f", time.Now().Add(-10*time.Minute), body)
	r, _ := http.DefaultClient.Do(req)
	r.Body.Close()
	if r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("stale timestamp: %d", r.StatusCode)
	}
	req = h.signed("msg_g", time.Now(), body)
	req.Header.Set("webhook-signature", "v1,AAAA")
	r, _ = http.DefaultClient.Do(req)
	var e map[string]any
	_ = json.NewDecoder(r.Body).Decode(&e)
	r.Body.Close()
	if r.StatusCode != http.StatusUnauthorized || e["error"] != "unauthorized" {
		t.Fatalf("bad signature: %d %v", r.StatusCode, e)
	}
	big := make([]byte, 2<<20)
	resp, _ = h.deliver("msg_h", big, "")
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("too large: %d", resp.StatusCode)
	}
}

func TestPastedSummaryBecomesCards(t *testing.T) { forEachBackend(t, testPastedSummaryBecomesCards) }

func testPastedSummaryBecomesCards(t *testing.T, b backend) {
	h := newHarnessOn(t, b, withDemo)
	text := "Sprint 42 review\n\n## Decisions\n- Ship 4.2 to 20% of users on Monday\n\n## Action items\n- [ ] @Lee Gu: update the release notes\n"
	out := h.say(userAdele, "a:personal-adele", text)
	c := cardOf(t, out[0])
	if !strings.Contains(c, "Ship 4.2") || !strings.Contains(strings.ToLower(c), "update the release notes") || !strings.Contains(c, "Create work item") {
		t.Fatalf("pasted summary card: %s", c)
	}
}

func TestSlowDevOpsAnswersCreatingThenUpdatesTheSharedCard(t *testing.T) {
	h := newHarness(t, withDemo, func(h *harness) option {
		return func(c *bot.Config) { c.ActionBudget = 300 * time.Millisecond }
	})
	sid, cardID := deliveredSummary(t, h)
	connectDemo(t, h, userAdele)
	form := openWebPortalForm(t, h, sid)
	h.org.SetLatency(400 * time.Millisecond)
	res := dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, "create.submit", nil)))
	if !strings.Contains(js(res), "Creating the work item") {
		t.Fatalf("slow create should answer at once with a working card: %.400s", js(res))
	}
	// Shutdown waits for the write that outlived its invoke.
	wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.bot.Wait(wctx); err != nil {
		t.Fatalf("the slow write did not finish: %v", err)
	}
	if act, _ := h.conn.Activity(chatID, cardID); !strings.Contains(js(act.Attachments), "Created Task 1") {
		t.Fatalf("shared card never showed the slow result: %.400s", js(act.Attachments))
	}
	if n := h.org.Calls(devopstest.RouteCreate); n != 1 {
		t.Fatalf("create calls = %d", n)
	}
}

// The Agents Playground cannot open dialogs: toward a loopback connector the
// same forms run in place of the card, through Action.Execute.
func TestInCardFormsForThePlayground(t *testing.T) {
	h := newHarness(t, withDemo, func(h *harness) option {
		return func(c *bot.Config) { c.Forms = "auto" }
	})
	h.install(chatID)
	before := len(h.conn.Sent())
	if resp, out := h.deliver("msg_pg", summaryJSON("pg-1", chatID), ""); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("delivery: %d %s", resp.StatusCode, js(out))
	}
	sent := h.conn.Sent()[before]
	create, ok := cardstest.FindAction(sent.Activity.Attachments[0].Content, "create")
	if !ok || create["type"] != "Action.Execute" {
		t.Fatalf("summary button should be Action.Execute here: %v", create)
	}
	connectDemo(t, h, userAdele)
	form := h.execute(userAdele, chatID, create)
	submit, ok := cardstest.FindAction(form, "create.submit")
	if !ok || submit["type"] != "Action.Execute" {
		t.Fatalf("form: %.400s", js(form))
	}
	data := submitFrom(t, form, "create.submit", map[string]any{"title": "From the Playground"})
	res := h.execute(userAdele, chatID, map[string]any{"verb": "create.submit", "data": data})
	if !strings.Contains(js(res), "Created") {
		t.Fatalf("result: %.400s", js(res))
	}
	if act, _ := h.conn.Activity(chatID, sent.ActivityID); !strings.Contains(js(act.Attachments), "Created Task 1") {
		t.Fatal("shared card not updated")
	}
}

func TestDeliverToUsersNamesTheUnreachable(t *testing.T) {
	h := newHarness(t, withDemo)
	h.install("a:personal-adele") // Adele installed the bot for herself
	body := []byte(`{"id":"u-1","meeting":{"title":"1:1"},"deliverTo":{"userAadObjectIds":["` + userAdele + `","` + userAlex + `"]},
"insights":[{"id":"t1","kind":"task","text":"Send the notes"}]}`)
	resp, out := h.deliver("msg_users", body, "")
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("%d %s", resp.StatusCode, js(out))
	}
	if js(out["deliveredTo"]) != `["a:personal-adele"]` || !strings.Contains(js(out["unreachable"]), userAlex) {
		t.Fatalf("answer: %s", js(out))
	}
}

func TestWorkItemTypeaheadSearch(t *testing.T) {
	h := newHarness(t, withDemo)
	sid, _ := deliveredSummary(t, h)
	connectDemo(t, h, userAdele)
	form := openWebPortalForm(t, h, sid)
	dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, "create.submit", map[string]any{"title": "Circuit breaker for checkout"})))
	resp := h.invoke(userAdele, chatID, "application/search", map[string]any{"kind": "search", "queryText": "circuit", "dataset": "workitems", "queryOptions": map[string]any{"skip": 0, "top": 10}})
	if resp["type"] != "application/vnd.microsoft.search.searchResponse" || !strings.Contains(js(resp), "Task 1: Circuit breaker for checkout") {
		t.Fatalf("search: %.400s", js(resp))
	}
	resp = h.invoke(userAlex, chatID, "application/search", map[string]any{"kind": "search", "queryText": "circuit", "dataset": "workitems"})
	if strings.Contains(js(resp), "Circuit") {
		t.Fatalf("a user who is not connected must not see work items: %.300s", js(resp))
	}
}
