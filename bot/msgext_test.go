package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot/bot"
	"github.com/sally-devops/devopsbot/cards/cardstest"
	"github.com/sally-devops/devopsbot/devops/devopstest"
)

const messageLink = "https://teams.microsoft.com/l/message/19:meeting_chat@thread.v2/1733000000000?context=%7B%7D"

// chatMessage is a messagePayload as Teams sends it with a message action.
func chatMessage(id, html string) map[string]any {
	return map[string]any{
		"id": id, "createdDateTime": "2026-12-01T09:30:00.000Z", "linkToMessage": messageLink,
		"body": map[string]any{"contentType": "html", "content": html},
		"from": map[string]any{"user": map[string]any{"id": "00000000-0000-0000-0000-0000000000b1", "displayName": "Lee Gu"}},
	}
}

// extFetch runs a message action ("…" → More actions) on a message.
func (h *harness) extFetch(user, commandID string, message any) map[string]any {
	h.t.Helper()
	return h.invoke(user, chatID, "composeExtension/fetchTask", map[string]any{"commandId": commandID, "commandContext": "message", "messagePayload": message, "context": map[string]any{"theme": "default"}})
}

// extSubmit sends what a message action's dialog submitted, as Teams does.
func (h *harness) extSubmit(user, commandID string, message any, data map[string]any) map[string]any {
	h.t.Helper()
	return h.invoke(user, chatID, "composeExtension/submitAction", map[string]any{"commandId": commandID, "commandContext": "message", "messagePayload": message, "data": data, "context": map[string]any{"theme": "default"}})
}

func taskMessage(t *testing.T, resp map[string]any) string {
	t.Helper()
	task, _ := resp["task"].(map[string]any)
	if task == nil || task["type"] != "message" {
		t.Fatalf("expected a dialog message, got %.500s", js(resp))
	}
	s, _ := task["value"].(string)
	return s
}

func TestMessageActionCreatesOneWorkItemPerMessage(t *testing.T) {
	h := newHarness(t, withDemo)
	h.install(chatID)
	connectDemo(t, h, userAdele)
	msg := chatMessage("1733000000000", "<p>Fix the <b>login</b> bug &amp; retest</p><p>second line</p>")

	resp := h.extFetch(userAdele, "createWorkItem", msg)
	if v := resp["task"].(map[string]any)["value"].(map[string]any); v["height"] == nil || v["width"] == nil || v["title"] != "Create work item" {
		t.Errorf("dialog answer lacks title or size: %s", js(v))
	}
	form := dialogCard(t, resp)
	in := cardstest.Inputs(form)
	if got := in["title"]["value"]; got != "Fix the login bug & retest" {
		t.Errorf("title prefill = %q", got)
	}
	desc, _ := in["description"]["value"].(string)
	if !strings.HasPrefix(desc, "Fix the login bug & retest\nsecond line") || !strings.Contains(desc, "From a message by Lee Gu in Teams: "+messageLink) {
		t.Errorf("description prefill = %q", desc)
	}
	if in["workItemType"]["value"] != "Task" {
		t.Errorf("type = %v, want Task", in["workItemType"]["value"])
	}

	before := len(h.conn.Sent())
	data := submitFrom(t, form, "create.submit", nil)
	res := dialogCard(t, h.extSubmit(userAdele, "createWorkItem", msg, data))
	if !strings.Contains(js(res), "Created Task 1") {
		t.Fatalf("result: %s", js(res))
	}
	wi, ok := h.org.WorkItem(1)
	if !ok || wi.Fields["System.Title"] != "Fix the login bug & retest" {
		t.Fatalf("work item in Azure DevOps: %s", js(wi.Fields))
	}
	if d, _ := wi.Fields["System.Description"].(string); !strings.Contains(d, "From a message by Lee Gu in Teams") {
		t.Errorf("work item description = %q", d)
	}
	// The message has no summary card: nothing is posted into the chat.
	if sent := h.conn.Sent()[before:]; len(sent) != 0 {
		t.Errorf("the create posted %d activities into the chat: %s", len(sent), js(sent))
	}

	// Teams retries a submitAction it thinks was late: no second work item.
	again := dialogCard(t, h.extSubmit(userAdele, "createWorkItem", msg, data))
	if !strings.Contains(js(again), "You already did this") {
		t.Fatalf("retried submit: %s", js(again))
	}
	// Running the action on the same message again shows what was made.
	if reopened := dialogCard(t, h.extFetch(userAlex, "createWorkItem", msg)); !strings.Contains(js(reopened), "Adele Vance already did this") {
		t.Fatalf("action on the same message again: %s", js(reopened))
	}
	if n := h.org.Calls(devopstest.RouteCreate); n != 1 {
		t.Fatalf("create calls = %d, want 1", n)
	}

	// Another message is another work item.
	other := chatMessage("1733000000999", "Update the runbook")
	form2 := dialogCard(t, h.extFetch(userAdele, "createWorkItem", other))
	dialogCard(t, h.extSubmit(userAdele, "createWorkItem", other, submitFrom(t, form2, "create.submit", nil)))
	if wi, ok := h.org.WorkItem(2); !ok || wi.Fields["System.Title"] != "Update the runbook" {
		t.Fatalf("second message's work item: %v %s", ok, js(wi.Fields))
	}
}

func TestMessageActionConnectsFirstThenShowsForm(t *testing.T) {
	h := newHarness(t, withDemo)
	msg := chatMessage("1733000000001", "<p>Rotate the API keys</p>")
	c := dialogCard(t, h.extFetch(userAdele, "createWorkItem", msg))
	if _, ok := cardstest.FindAction(c, "dialog.connect"); !ok {
		t.Fatalf("not connected: expected the connect step, got %.400s", js(c))
	}
	form := dialogCard(t, h.extSubmit(userAdele, "createWorkItem", msg, submitFrom(t, c, "dialog.connect", nil)))
	if _, ok := cardstest.FindAction(form, "create.submit"); !ok {
		t.Fatalf("after connecting, the create form should follow: %.400s", js(form))
	}
	if got := cardstest.Inputs(form)["title"]["value"]; got != "Rotate the API keys" {
		t.Errorf("title after connecting = %q", got)
	}
}

func TestMessageActionAddsCommentOnce(t *testing.T) {
	h := newHarness(t, withDemo)
	connectDemo(t, h, userAdele)
	first := chatMessage("1733000000002", "<p>Checkout fails on Safari</p>")
	form := dialogCard(t, h.extFetch(userAdele, "createWorkItem", first))
	dialogCard(t, h.extSubmit(userAdele, "createWorkItem", first, submitFrom(t, form, "create.submit", nil)))

	msg := chatMessage("1733000000003", "<div>Repro: Safari 17 &lt;&gt; iOS only</div>")
	cf := dialogCard(t, h.extFetch(userAdele, "addComment", msg))
	comment, _ := cardstest.Inputs(cf)["comment"]["value"].(string)
	if !strings.HasPrefix(comment, "Repro: Safari 17 <> iOS only") || !strings.Contains(comment, "From a message by Lee Gu in Teams: "+messageLink) {
		t.Fatalf("comment prefill = %q", comment)
	}
	data := submitFrom(t, cf, "comment.submit", map[string]any{"workItemId": "1"})
	if res := dialogCard(t, h.extSubmit(userAdele, "addComment", msg, data)); !strings.Contains(js(res), "Comment added") {
		t.Fatalf("comment result: %s", js(res))
	}
	again := dialogCard(t, h.extSubmit(userAdele, "addComment", msg, data))
	if !strings.Contains(js(again), "You already did this") {
		t.Fatalf("retried comment: %s", js(again))
	}
	cs := h.org.Comments(1)
	if len(cs) != 1 || !strings.Contains(cs[0].Text, "Repro: Safari 17 &lt;&gt; iOS only") {
		t.Fatalf("comments in Azure DevOps: %s", js(cs))
	}
}

func TestMessageActionHostileInput(t *testing.T) {
	h := newHarness(t, withDemo)
	connectDemo(t, h, userAdele)
	for name, tc := range map[string]struct {
		value any
		want  string
	}{
		"no value":        {nil, "carries no value"},
		"not an object":   {"hello", "not valid"},
		"unknown command": {map[string]any{"commandId": "deleteEverything", "commandContext": "message", "messagePayload": chatMessage("1", "x")}, "not supported"},
		"no message":      {map[string]any{"commandId": "createWorkItem", "commandContext": "compose"}, "Run this from a message"},
		"no payload":      {map[string]any{"commandId": "addComment", "commandContext": "message"}, "Run this from a message"},
		"no message id":   {map[string]any{"commandId": "createWorkItem", "commandContext": "message", "messagePayload": chatMessage("", "x")}, "can't read that message"},
		"only markup":     {map[string]any{"commandId": "createWorkItem", "commandContext": "message", "messagePayload": chatMessage("2", "<p> <img src=x> </p>")}, "no text"},
	} {
		got := taskMessage(t, h.invoke(userAdele, chatID, "composeExtension/fetchTask", tc.value))
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s: message %q, want it to say %q", name, got, tc.want)
		}
	}
	if got := taskMessage(t, h.invoke(userAdele, chatID, "composeExtension/submitAction", map[string]any{"commandId": "createWorkItem"})); !strings.Contains(got, "could not be read") {
		t.Errorf("submit without data: %q", got)
	}
	if got := taskMessage(t, h.extSubmit(userAdele, "createWorkItem", nil, map[string]any{"sally": "create.submit", "summaryId": "nope", "insightId": "message"})); !strings.Contains(got, "no longer available") {
		t.Errorf("submit for an unknown message: %q", got)
	}

	// Script tags stay text; a huge body is cut so the form still submits.
	huge := "<p><script>alert('x')</script>Ship &lt;b&gt;it&lt;/b&gt;</p>" + strings.Repeat("<p>"+strings.Repeat("long words ", 50)+"</p>", 300) // ~170 KB: under the 256 KB activity limit
	msg := chatMessage("1733000000004", huge)
	form := dialogCard(t, h.extFetch(userAdele, "createWorkItem", msg))
	in := cardstest.Inputs(form)
	title, _ := in["title"]["value"].(string)
	if title != "Ship <b>it</b>" {
		t.Errorf("title = %q", title)
	}
	desc, _ := in["description"]["value"].(string)
	if len(desc) > 32000 || strings.Contains(desc, "<script") || !strings.Contains(desc, messageLink) {
		t.Errorf("description: %d bytes, link kept %v, script tag %v", len(desc), strings.Contains(desc, messageLink), strings.Contains(desc, "<script"))
	}
	res := dialogCard(t, h.extSubmit(userAdele, "createWorkItem", msg, submitFrom(t, form, "create.submit", nil)))
	if !strings.Contains(js(res), "Created Task") {
		t.Fatalf("huge message's work item: %.500s", js(res))
	}
	if wi, _ := h.org.WorkItem(1); strings.Contains(js(wi.Fields), "<script") {
		t.Errorf("a script tag reached Azure DevOps: %.300s", js(wi.Fields))
	}
}

// Teams gives a submitAction 5 s and then retries: with a slow Azure DevOps the
// answer is the "working" card before that, even when the configured budget
// for card actions is longer, and the write still lands once.
func TestMessageActionAnswersBeforeTeamsGivesUp(t *testing.T) {
	h := newHarness(t, withDemo, func(h *harness) option {
		return func(c *bot.Config) { c.ActionBudget = time.Hour }
	})
	connectDemo(t, h, userAdele)
	msg := chatMessage("1733000000005", "<p>Renew the TLS certificate</p>")
	form := dialogCard(t, h.extFetch(userAdele, "createWorkItem", msg))
	data := submitFrom(t, form, "create.submit", nil)
	h.org.SetLatency(2500 * time.Millisecond) // the marker lookup and the create: 5 s
	if res := dialogCard(t, h.extSubmit(userAdele, "createWorkItem", msg, data)); !strings.Contains(js(res), "Creating the work item") || !strings.Contains(js(res), "on the message again") {
		t.Fatalf("a slow create should answer with the working card: %.400s", js(res))
	}
	h.org.SetLatency(0)
	wctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := h.bot.Wait(wctx); err != nil {
		t.Fatalf("the slow write did not finish: %v", err)
	}
	if again := dialogCard(t, h.extSubmit(userAdele, "createWorkItem", msg, data)); !strings.Contains(js(again), "You already did this") {
		t.Fatalf("retry after the slow create: %.400s", js(again))
	}
	if n := h.org.Calls(devopstest.RouteCreate); n != 1 {
		t.Fatalf("create calls = %d, want 1", n)
	}
}
