package bot_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sally-devops/devopsbot/summary"
)

// invisibles are the characters no reader sees but a program acts on.
var invisibles = []string{"\x00", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"}

func holdsInvisible(s string) bool {
	for _, c := range invisibles {
		if strings.Contains(s, c) {
			return true
		}
	}
	return false
}

// A command typed after a paste, or by a keyboard that adds direction marks,
// still is the command the person sees.
func TestHelpWithInvisibleCharactersIsHelp(t *testing.T) {
	h := newHarness(t)
	for _, text := range []string{"help\u200b", "\ufeffhelp", "\u200fhelp", "\u200ehelp", "he\u200dlp", "he\u200clp", "help\u2060", "\u200b/help\u200b", "help\x00", "\u202ehelp\u202c"} {
		out := h.say(userAdele, "a:personal-adele", text)
		if len(out[0].Activity.Attachments) != 1 || !strings.Contains(cardOf(t, out[0]), "disconnect devops") {
			t.Errorf("%+q: want the help card, got %s", text, js(out[0].Activity))
		}
	}
}

// What a person typed into the create and comment forms reaches Azure DevOps
// without NUL or bidi controls, and a delivered summary's card shows none.
func TestTypedAndDeliveredTextIsCleaned(t *testing.T) {
	h := newHarness(t, withDemo)
	sid, _ := deliveredSummary(t, h)
	connectDemo(t, h, userAdele)

	form := openWebPortalForm(t, h, sid)
	res := dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, "create.submit", map[string]any{
		"title": "Pay invoice \u202e0001\u202c\x00 now", "description": "From\x00 the \u2066sync\u2069"})))
	if !strings.Contains(js(res), "Created Task") {
		t.Fatalf("create: %s", js(res))
	}
	wi, ok := h.org.WorkItem(1)
	if !ok || wi.Fields["System.Title"] != "Pay invoice 0001 now" || holdsInvisible(js(wi.Fields["System.Description"])) {
		t.Fatalf("work item fields: %+q", wi.Fields)
	}

	open := map[string]any{"msteams": map[string]any{"type": "task/fetch"}, "sally": "comment", "summaryId": sid, "insightId": "d1"}
	cf := dialogCard(t, h.taskFetch(userAdele, chatID, open))
	res = dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, cf, "comment.submit", map[string]any{"workItemId": "1", "comment": "Agreed \u202eon\u202c it\x00"})))
	if cs := h.org.Comments(1); !strings.Contains(js(res), "Comment added") || len(cs) != 1 || !strings.HasPrefix(cs[0].Text, "Agreed on it") || holdsInvisible(cs[0].Text) {
		t.Fatalf("comment: %s", js(h.org.Comments(1)))
	}

	before := len(h.conn.Sent())
	body := []byte(`{"id":"hidden-1","meeting":{"title":"Weekly\u0000 sync"},"deliverTo":{"conversationId":"` + chatID + `"},
"insights":[{"id":"t9","kind":"task","text":"Pay invoice \u202e0001\u202c now","owner":"Lee\u2066 Gu\u2069"}]}`)
	resp, out := h.deliver("msg_hidden", body, "")
	if resp.StatusCode != http.StatusAccepted || holdsInvisible(js(out)) {
		t.Fatalf("delivery with controls (%d): %+q", resp.StatusCode, js(out))
	}
	card := cardOf(t, h.conn.Sent()[before])
	if holdsInvisible(card) || strings.Contains(card, `\u0000`) || strings.Contains(card, `\u202e`) || !strings.Contains(card, "Pay invoice 0001 now") || !strings.Contains(card, "Weekly sync") {
		t.Fatalf("summary card: %+q", card)
	}
}

// The webhook's body limit is the one limit of a delivery: a summary of exactly
// that size is read and decoded, one byte more is 413 with a JSON answer.
func TestSummaryBodyLimit(t *testing.T) {
	h := newHarness(t)
	h.install(chatID)
	pad := func(n int) []byte {
		b := summaryJSON("big-1", chatID)
		return append(b, bytes.Repeat([]byte(" "), n-len(b))...)
	}
	resp, out := h.deliver("msg_at_limit", pad(summary.MaxDeliveryBytes), "dryRun=true")
	if resp.StatusCode != http.StatusOK || out["dryRun"] != true {
		t.Fatalf("a summary of exactly the limit answered %d: %v", resp.StatusCode, out)
	}
	resp, out = h.deliver("msg_over_limit", pad(summary.MaxDeliveryBytes+1), "")
	if resp.StatusCode != http.StatusRequestEntityTooLarge || out["error"] != "too_large" || !strings.Contains(out["message"].(string), "1 MiB") {
		t.Fatalf("one byte over the limit answered %d: %v", resp.StatusCode, out)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("413 content type %q", ct)
	}
}

// Without OAuth settings the callback will never work on this bot: it says so
// (404, the administrator page), not "try later" (503) that invites retries.
func TestOAuthCallbackWithoutSignInSetUp(t *testing.T) {
	h := newHarness(t)
	for _, u := range []string{"/oauth/callback", "/oauth/callback?state=s&code=c"} {
		r, err := http.Get(h.srv.URL + u)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != http.StatusNotFound || !strings.Contains(string(page), "not set up by your administrator") ||
			strings.Contains(strings.ToLower(string(page)), "try again") || r.Header.Get("Retry-After") != "" {
			t.Errorf("%s answered %d: %s", u, r.StatusCode, page)
		}
	}
}
