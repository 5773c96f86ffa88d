package bot_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/sally-devops/devopsbot/bot"
	"github.com/sally-devops/devopsbot/cards"
	"github.com/sally-devops/devopsbot/cards/cardstest"
	"github.com/sally-devops/devopsbot/devops/devopstest"
)

// actionFor finds the action with verb for one insight, wherever it sits.
func actionFor(card any, verb, insightID string) (map[string]any, bool) {
	var found map[string]any
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if d, ok := x["data"].(map[string]any); ok && found == nil && d["sally"] == verb && d["insightId"] == insightID {
				found = x
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case cards.Card:
			walk(map[string]any(x))
		}
	}
	walk(normalizeJSON(card))
	return found, found != nil
}

func normalizeJSON(v any) any {
	raw, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(raw, &out)
	return out
}

// inCardSummary delivers the weekly summary to a chat whose forms show in place.
func inCardSummary(t *testing.T, h *harness) (cards.Card, string) {
	t.Helper()
	h.install(chatID)
	before := len(h.conn.Sent())
	if resp, out := h.deliver("msg_ic", summaryJSON("ic-1", chatID), ""); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("delivery: %d %s", resp.StatusCode, js(out))
	}
	sent := h.conn.Sent()[before]
	return cards.Card(normalizeJSON(sent.Activity.Attachments[0].Content).(map[string]any)), sent.ActivityID
}

// A person using in-card forms (the Agents Playground, FORMS=card) keeps the
// whole summary: the form, the result and Cancel show under the insight
// clicked, and every other insight keeps its buttons.
func TestInCardFormsKeepTheSummary(t *testing.T) {
	h := newHarness(t, withDemo, func(h *harness) option {
		return func(c *bot.Config) { c.Forms = "card" }
	})
	summaryCard, _ := inCardSummary(t, h)
	others := []string{"d1", "t2"}
	keepsOthers := func(what string, c cards.Card) {
		t.Helper()
		for _, id := range others {
			for _, verb := range []string{"create", "comment"} {
				a, ok := actionFor(c, verb, id)
				if !ok {
					t.Fatalf("%s: the %s button of insight %s is gone: %.300s", what, verb, id, js(c))
				}
				if a["associatedInputs"] != "none" {
					t.Fatalf("%s: the %s button of %s would be blocked by the form's required inputs: %v", what, verb, id, a)
				}
			}
		}
		if !strings.Contains(js(c), "Web Portal weekly sync") {
			t.Fatalf("%s: the summary's title is gone", what)
		}
	}
	create, ok := actionFor(summaryCard, "create", "t1")
	if !ok {
		t.Fatal("no create button for t1")
	}

	// Not connected: the connect step shows in place, and Continue (demo) opens the form.
	prompt := h.execute(userAdele, chatID, create)
	keepsOthers("connect step", prompt)
	cont, ok := actionFor(prompt, "dialog.connect", "t1")
	if !ok {
		t.Fatalf("no Continue in the connect step: %.500s", js(prompt))
	}
	form := h.execute(userAdele, chatID, map[string]any{"verb": cont["verb"], "data": cont["data"]})
	keepsOthers("form after connecting", form)
	if _, ok := cardstest.FindAction(form, "create.submit"); !ok {
		t.Fatalf("Continue did not lead to the form: %.500s", js(form))
	}

	// Cancel brings the plain summary back: no inputs left on the card.
	cancel, ok := actionFor(form, cards.VerbCancel, "t1")
	if !ok || cancel["associatedInputs"] != "none" || cancel["title"] != "Cancel" {
		t.Fatalf("form has no Cancel that works without input: %v", cancel)
	}
	plain := h.execute(userAdele, chatID, map[string]any{"verb": cancel["verb"], "data": cancel["data"]})
	keepsOthers("after Cancel", plain)
	if n := len(cardstest.Inputs(plain)); n != 0 {
		t.Fatalf("after Cancel the card still has %d inputs", n)
	}
	if _, ok := actionFor(plain, "create", "t1"); !ok {
		t.Fatal("after Cancel the insight's own button is gone")
	}

	// Create: the result shows in place and the other insights stay.
	form = h.execute(userAdele, chatID, create)
	if _, ok := actionFor(form, "create", "t1"); ok {
		t.Fatal("an open form's insight still shows its own Create button above the form's")
	}
	data := submitFrom(t, form, "create.submit", map[string]any{"title": "From the card"})
	res := h.execute(userAdele, chatID, map[string]any{"verb": "create.submit", "data": data})
	keepsOthers("after Create", res)
	if !strings.Contains(js(res), "Work item created") || !strings.Contains(js(res), "Created Task 1") {
		t.Fatalf("no result in place: %.600s", js(res))
	}

	if _, ok := actionFor(res, "create", "t1"); !ok {
		t.Fatal("after a result, the insight's own Create button should be one click away")
	}
	if closeBtn, ok := actionFor(res, cards.VerbCancel, "t1"); !ok || closeBtn["title"] != "Close" {
		t.Fatalf("a result is closed, not cancelled: %v", closeBtn)
	}
	// Demo links open the fake organization's own page, never the real dev.azure.com.
	if raw := js(res); !strings.Contains(raw, `"type":"Action.OpenUrl"`) || !strings.Contains(raw, `"url":"http://127.0.0.1:`) || !strings.Contains(raw, "/_workitems/edit/1") || strings.Contains(raw, "https://dev.azure.com/fabrikam") {
		t.Fatalf("demo link: %.800s", raw)
	}

	// Create again on the same insight: the same person hears it was them.
	again := h.execute(userAdele, chatID, create)
	keepsOthers("create again", again)
	if !strings.Contains(js(again), "You already did this") {
		t.Fatalf("second create: %.600s", js(again))
	}
	if _, ok := h.org.WorkItem(2); ok {
		t.Fatal("a second work item was created")
	}
}

// Every error card offers a next step that works where it is shown: in a
// dialog a submit (task/submit), in a chat an Action.Execute, and both lead
// somewhere (help, or the form again).
func TestErrorCardsOfferANextStep(t *testing.T) {
	h := newHarness(t, withDemo)
	sid, _ := deliveredSummary(t, h)
	connectDemo(t, h, userAdele)
	// Azure DevOps is down while the form loads: an error card with Try again.
	h.org.FailNext(devopstest.RouteProjects, http.StatusServiceUnavailable, "", 10)
	errCard := dialogCard(t, h.taskFetch(userAdele, chatID, createData(sid)))
	retry, ok := actionFor(errCard, "create", "t1")
	if !ok || retry["type"] != "Action.Submit" || retry["title"] != "Try again" {
		t.Fatalf("no Try again a dialog can send: %.800s", js(errCard))
	}
	if help, ok := cardstest.FindAction(errCard, cards.VerbHelp); !ok || help["type"] != "Action.Submit" {
		t.Fatalf("no Open help in the dialog's error card: %.800s", js(errCard))
	}
	// Azure DevOps is back: Try again opens the form.
	h.org.FailNext(devopstest.RouteProjects, http.StatusOK, "", 0)
	form := dialogCard(t, h.taskSubmit(userAdele, chatID, retry["data"].(map[string]any)))
	if _, ok := cardstest.FindAction(form, "create.submit"); !ok {
		t.Fatalf("Try again did not open the form: %.600s", js(form))
	}
	// Open help from a chat card answers with the help card in place.
	helpCard := h.execute(userAdele, chatID, map[string]any{"verb": cards.VerbHelp, "data": map[string]any{"sally": cards.VerbHelp}})
	if !strings.Contains(js(helpCard), "What Sally can do") {
		t.Fatalf("help: %.300s", js(helpCard))
	}
}

// status tells what the next create form will start with, as the manifest promises.
func TestStatusTellsTheNextFormsDefaults(t *testing.T) {
	h := newHarness(t, withDemo)
	sid, _ := deliveredSummary(t, h)
	connectDemo(t, h, userAdele)
	before := cardOf(t, h.say(userAdele, "a:personal-"+userAdele, "status")[0])
	if !strings.Contains(before, "Your first work item form will ask for the project") {
		t.Fatalf("status before any create: %s", before)
	}
	form := openWebPortalForm(t, h, sid)
	res := dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, "create.submit", nil)))
	if !strings.Contains(js(res), "Created") {
		t.Fatalf("create: %.400s", js(res))
	}
	after := cardOf(t, h.say(userAdele, "a:personal-"+userAdele, "status")[0])
	for _, want := range []string{"starts with your last choices", `"title":"Project","value":"Web Portal"`, `"title":"Area"`, `"title":"Iteration"`} {
		if !strings.Contains(after, want) {
			t.Fatalf("status lacks %q: %s", want, after)
		}
	}
}

// The comment form offers, before anyone types, the work items already made
// from this meeting, and searches the rest (Teams runs the typeahead).
func TestCommentFormOffersThisMeetingsWorkItems(t *testing.T) {
	h := newHarness(t, withDemo)
	sid, _ := deliveredSummary(t, h)
	connectDemo(t, h, userAdele)
	data := map[string]any{"msteams": map[string]any{"type": "task/fetch"}, "sally": "comment", "summaryId": sid, "insightId": "d1"}
	first := dialogCard(t, h.taskFetch(userAdele, chatID, data))
	if in := cardstest.Inputs(first); in["workItemSearch"] != nil || in["workItemId"]["isRequired"] != true {
		t.Fatalf("nothing was created yet: the number is the way, required: %.600s", js(first))
	}
	form := openWebPortalForm(t, h, sid)
	if res := dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, "create.submit", nil))); !strings.Contains(js(res), "Created") {
		t.Fatalf("create: %.300s", js(res))
	}
	cf := dialogCard(t, h.taskFetch(userAdele, chatID, data))
	ws := cardstest.Inputs(cf)["workItemSearch"]
	if ws == nil || !strings.Contains(js(ws["choices"]), `"value":"1"`) || ws["choices.data"] == nil {
		t.Fatalf("search does not offer Task 1: %.600s", js(cf))
	}
}

// In a personal chat with in-card forms the person who clicked is the card's
// only reader: the result shows in place and the message itself is updated
// when they close it, not while they look at it (a later update would replace
// their view). In a group chat everyone else needs the result at once.
func TestInCardResultStaysUntilClosedInAPersonalChat(t *testing.T) {
	h := newHarness(t, withDemo, func(h *harness) option {
		return func(c *bot.Config) { c.Forms = "card" }
	})
	personal := "a:personal-" + userAdele
	h.install(personal)
	before := len(h.conn.Sent())
	if resp, out := h.deliver("msg_icp", summaryJSON("icp-1", personal), ""); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("delivery: %d %s", resp.StatusCode, js(out))
	}
	sent := h.conn.Sent()[before]
	card := cards.Card(normalizeJSON(sent.Activity.Attachments[0].Content).(map[string]any))
	updates := func() int {
		n := 0
		for _, s := range h.conn.Sent() {
			if s.Method == http.MethodPut && s.ActivityID == sent.ActivityID {
				n++
			}
		}
		return n
	}
	connectDemo(t, h, userAdele)
	create, ok := actionFor(card, "create", "t1")
	if !ok {
		t.Fatal("no create button for t1")
	}
	form := h.execute(userAdele, personal, create)
	data := submitFrom(t, form, "create.submit", map[string]any{"title": "From the card"})
	res := h.execute(userAdele, personal, map[string]any{"verb": "create.submit", "data": data})
	if !strings.Contains(js(res), "Work item created") {
		t.Fatalf("no result in place: %.600s", js(res))
	}
	if n := updates(); n != 0 {
		t.Fatalf("the message was updated %d times while its only reader looks at the result", n)
	}
	closeBtn, ok := actionFor(res, cards.VerbCancel, "t1")
	if !ok {
		t.Fatalf("no Close on the result: %.600s", js(res))
	}
	plain := h.execute(userAdele, personal, map[string]any{"verb": closeBtn["verb"], "data": closeBtn["data"]})
	if !strings.Contains(js(plain), "Created Task") {
		t.Fatalf("after Close the card lost the result: %.600s", js(plain))
	}
	act, _ := h.conn.Activity(personal, sent.ActivityID)
	if updates() != 1 || !strings.Contains(js(act.Attachments), "Created Task") {
		t.Fatalf("after Close the message was updated %d times and reads %.400s", updates(), js(act.Attachments))
	}

	// A group chat's card is updated for everyone at the create.
	groupCard, groupID := inCardSummary(t, h)
	gcreate, _ := actionFor(groupCard, "create", "t2")
	gform := h.execute(userAdele, chatID, gcreate)
	h.execute(userAdele, chatID, map[string]any{"verb": "create.submit", "data": submitFrom(t, gform, "create.submit", nil)})
	if act, _ := h.conn.Activity(chatID, groupID); !strings.Contains(js(act.Attachments), "Created Task") {
		t.Fatalf("the group chat's card was not updated at the create: %.400s", js(act.Attachments))
	}
}
