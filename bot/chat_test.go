package bot_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot/cards"
)

func TestHelpAnswersEverySpelling(t *testing.T) {
	h := newHarness(t)
	for _, text := range []string{"help", "/help", "HELP", "  Help  ", "<at>Sally</at> help"} {
		out := h.say(userAdele, "a:personal-adele", text)
		card := cardOf(t, out[0])
		for _, want := range []string{"connect devops", "disconnect devops", "status", "help", "@mention"} {
			if !strings.Contains(card, want) {
				t.Errorf("%q: help card lacks %q: %s", text, want, card)
			}
		}
	}
}

func TestUnknownTextGetsAHintNotSilence(t *testing.T) {
	h := newHarness(t)
	out := h.say(userAdele, "a:personal-adele", "what's the weather")
	if out[0].Activity.Text == "" || !strings.Contains(out[0].Activity.Text, "help") {
		t.Fatalf("expected a one-line hint, got %s", js(out[0].Activity))
	}
}

// Teams sends an installationUpdate and a conversationUpdate for one install,
// and may repeat them: the chat is welcomed once. Removing the bot (by either
// event) forgets the chat, so installing it again welcomes it again, once.
func TestWelcomeIsPostedOnceAcrossInstallEvents(t *testing.T) {
	h := newHarness(t)
	const otherChat = "19:other_chat@thread.v2"
	add := func(conv string) {
		a := h.activity("installationUpdate", userAdele, conv)
		a.Action = "add"
		h.post(a)
	}
	joined := func(conv string) {
		cu := h.activity("conversationUpdate", userAdele, conv)
		cu.MembersAdded = append(cu.MembersAdded, cu.Recipient)
		h.post(cu)
	}
	welcomes := func(conv string) int {
		n := 0
		for _, s := range h.conn.Sent() {
			if s.ConversationID == conv && len(s.Activity.Attachments) == 1 && strings.Contains(js(s.Activity.Attachments[0].Content), "Hi, I'm Sally") {
				n++
			}
		}
		return n
	}
	add(chatID)
	joined(chatID)
	add(chatID)
	joined(chatID)
	h.settle() // every handler has run: a second welcome would be there now
	if n := welcomes(chatID); n != 1 || len(h.conn.Sent()) != 1 {
		t.Fatalf("want exactly one welcome card, got %d of %d posts: %s", n, len(h.conn.Sent()), js(h.conn.Sent()))
	}
	// Another chat is welcomed on its own.
	joined(otherChat)
	h.settle()
	if welcomes(otherChat) != 1 || welcomes(chatID) != 1 {
		t.Fatalf("second chat: %d welcomes there, %d in the first", welcomes(otherChat), welcomes(chatID))
	}

	// Uninstalled, then installed again: one more welcome, however often Teams says so.
	rm := h.activity("installationUpdate", userAdele, chatID)
	rm.Action = "remove"
	h.post(rm)
	h.settle()
	if welcomes(chatID) != 1 {
		t.Fatal("removing the bot posted a welcome")
	}
	add(chatID)
	joined(chatID)
	add(chatID)
	h.settle()
	if n := welcomes(chatID); n != 2 {
		t.Fatalf("after reinstalling: %d welcome cards in the chat, want 2", n)
	}

	// The bot removed from the members (conversationUpdate) forgets the chat too.
	left := h.activity("conversationUpdate", userAdele, chatID)
	left.MembersRemoved = append(left.MembersRemoved, left.Recipient)
	h.post(left)
	h.settle()
	joined(chatID)
	joined(chatID)
	h.settle()
	if n := welcomes(chatID); n != 3 || welcomes(otherChat) != 1 {
		t.Fatalf("after being removed and added back: %d welcomes, want 3 (other chat %d)", n, welcomes(otherChat))
	}
}

func TestStatusAndDisconnectWhenNotConnected(t *testing.T) {
	h := newHarness(t)
	out := h.say(userAdele, "a:personal-adele", "status")
	if c := cardOf(t, out[0]); !strings.Contains(c, "Not connected") || !strings.Contains(c, "connect devops") {
		t.Fatalf("status: %s", c)
	}
	out = h.say(userAdele, "a:personal-adele", "disconnect devops")
	if !strings.Contains(out[0].Activity.Text, "weren't connected") {
		t.Fatalf("disconnect: %s", js(out[0].Activity))
	}
}

func TestConnectWithoutConfigurationSaysAdministrator(t *testing.T) {
	h := newHarness(t)
	out := h.say(userAdele, "a:personal-adele", "connect devops")
	if c := cardOf(t, out[0]); !strings.Contains(c, "not configured") {
		t.Fatalf("expected the not-set-up card, got %s", c)
	}
}

func TestDemoConnectStatusDisconnect(t *testing.T) {
	h := newHarness(t, withDemo)
	out := h.say(userAdele, "a:personal-adele", "@Sally connect devops")
	c := cardOf(t, out[0])
	if !strings.Contains(c, "Connected to Azure DevOps") || !strings.Contains(c, "Demo mode") || !strings.Contains(c, "adele@contoso.com") {
		t.Fatalf("connect: %s", c)
	}
	c = cardOf(t, h.say(userAdele, "a:personal-adele", "status")[0])
	if !strings.Contains(c, "fabrikam") || !strings.Contains(c, `Permissions: read and write work items (vso.work\\_write)`) || !strings.Contains(c, "Connected since") {
		t.Fatalf("status: %s", c)
	}
	c = cardOf(t, h.say(userAdele, "a:personal-adele", "disconnect devops")[0])
	if !strings.Contains(c, "Disconnected") {
		t.Fatalf("disconnect: %s", c)
	}
	c = cardOf(t, h.say(userAdele, "a:personal-adele", "status")[0])
	if !strings.Contains(c, "Not connected") {
		t.Fatalf("status after disconnect: %s", c)
	}
}

func TestMalformedActivityIs400(t *testing.T) {
	h := newHarness(t)
	resp, err := http.Post(h.srv.URL+"/api/messages", "application/json", strings.NewReader(`{"text":"no type"}`))
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Error struct{ Code, Message string }
	}
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || err != nil || body.Error.Code != "bad_request" || body.Error.Message != "The activity has no type." {
		t.Fatalf("missing type answered %d: %+v (%v)", resp.StatusCode, body, err)
	}
}

func TestStatusInAGroupChatStaysPrivate(t *testing.T) {
	h := newHarness(t, withDemo)
	connectDemo(t, h, userAdele) // also records the 1:1 chat a:personal-<id>
	before := len(h.conn.Sent())
	a := h.activity("message", userAdele, chatID)
	a.Text = "status"
	h.post(a)
	sent := h.conn.WaitSent(t, before+2, 10*time.Second)[before:]
	var private, group int
	for _, s := range sent {
		if s.ConversationID == chatID && strings.Contains(js(s.Activity), "adele@contoso.com") {
			t.Fatalf("account details posted to the group chat: %s", js(s.Activity))
		}
	}
	for _, s := range sent {
		if s.ConversationID == "a:personal-"+userAdele && strings.Contains(js(s.Activity), "Connected since") {
			private++
		}
		if s.ConversationID == chatID && strings.Contains(s.Activity.Text, "1:1 chat") {
			group++
		}
	}
	if private != 1 || group != 1 {
		t.Fatalf("private status cards %d, group notes %d", private, group)
	}
}

// Hostile or broken invokes get a clear answer: the status Teams expects and
// the words the person sees (a dialog message, a warning on a card, or an
// invoke error with its code), never a 500, a panic or a secret.
func TestHostileInvokes(t *testing.T) {
	h := newHarness(t, withDemo)
	sid, _ := deliveredSummary(t, h)
	type answer struct {
		kind string // "dialog" (task message), "error" (invoke error), "card" (warning or heading), "search"
		code string // the invoke error's code
		text string // exactly what the person sees; for "card", a warning or the heading
	}
	for _, tc := range []struct {
		name, value string
		status      int
		want        answer
	}{
		{"task/fetch", `"just a string"`, 200, answer{kind: "dialog", text: "That action could not be read."}},
		{"task/fetch", `{"data":"nope"}`, 200, answer{kind: "dialog", text: "That action could not be read."}},
		{"task/fetch", `{"data":{"sally":"create"}}`, 200, answer{kind: "dialog", text: "That action does not name a meeting insight."}},
		{"task/fetch", `{"data":{"sally":"create","summaryId":"` + strings.Repeat("x", 5000) + `","insightId":"t1"}}`, 200, answer{kind: "dialog", text: "That action does not name a meeting insight."}},
		{"task/fetch", `{"data":{"sally":"create","summaryId":"` + sid + `","insightId":"nope"}}`, 200, answer{kind: "dialog", text: "That insight is not part of this meeting summary."}},
		{"task/submit", `{"data":{"sally":"create.submit","summaryId":"nope","insightId":"t1"}}`, 200, answer{kind: "dialog", text: "This meeting summary is no longer available (summaries are kept for a limited time)."}},
		{"task/submit", `{"data":{"sally":"rm -rf","summaryId":"s","insightId":"i"}}`, 200, answer{kind: "dialog", text: "This meeting summary is no longer available (summaries are kept for a limited time)."}},
		{"task/submit", `{"data":{"sally":"rm -rf","summaryId":"` + sid + `","insightId":"t1"}}`, 200, answer{kind: "dialog", text: "This form action is not supported."}},
		{"adaptiveCard/action", `{"action":{"type":"Action.Execute","verb":"create","data":[1,2]}}`, 200, answer{kind: "error", code: "BadRequest", text: "That card action could not be read."}},
		{"adaptiveCard/action", `{"action":{"type":"Action.Execute","verb":"rm -rf","data":{}}}`, 200, answer{kind: "error", code: "UnknownAction", text: "This card action is not supported."}},
		{"adaptiveCard/action", `{"action":{"type":"Action.Execute","verb":"connect.code","data":{"code":"` + strings.Repeat("A", 100) + `"}}}`, 200, answer{kind: "card", text: `That sign-in code is not valid. Type connect devops to start again.`}},
		// Demo mode connects to its own organization whatever was typed; the credentials are not repeated.
		{"adaptiveCard/action", `{"action":{"type":"Action.Execute","verb":"connect.org","data":{"orgUrl":"https://user:pw@dev.azure.com/x"}}}`, 200, answer{kind: "card", text: "Connected to Azure DevOps"}},
		{"application/search", `{"dataset":"other","queryText":"x"}`, 200, answer{kind: "error", code: "BadRequest", text: "Unknown search."}},
		{"application/search", `{"dataset":"workitems","queryText":"` + strings.Repeat("'", 300) + `"}`, 200, answer{kind: "search"}},
		{"composeExtension/fetchTask", `"x"`, 200, answer{kind: "dialog", text: "The message action is not valid."}},
		{"composeExtension/fetchTask", `{"commandId":"nope"}`, 200, answer{kind: "dialog", text: "This command is not supported."}},
		{"composeExtension/submitAction", `{"commandId":"createWorkItem","data":{"sally":"create.submit"}}`, 200, answer{kind: "dialog", text: "That action does not name a meeting insight."}},
		// The one 5xx: an invoke nobody handles is 501, as the Bot Framework SDKs answer it.
		{"no/such/invoke", `{}`, 501, answer{kind: "error", code: "not_implemented", text: "This action is not supported."}},
	} {
		a := h.activity("invoke", userAdele, chatID)
		a.Name = tc.name
		a.Value = []byte(tc.value)
		code, body := h.post(a)
		label := fmt.Sprintf("%s %.60s", tc.name, tc.value)
		if code != tc.status {
			t.Errorf("%s: answered %d, want %d: %.300s", label, code, tc.status, body)
		}
		for _, secret := range []string{"panic", "goroutine", "runtime error", "demo-token", "user:pw", "pw@", webhookKey} {
			if strings.Contains(string(body), secret) {
				t.Errorf("%s: the answer shows %q: %.300s", label, secret, body)
			}
		}
		got := seenAnswer(body)
		text := got.text == tc.want.text
		if got.kind == "card" {
			text = slices.Contains(got.texts, tc.want.text)
		}
		if got.kind != tc.want.kind || got.code != tc.want.code || !text {
			t.Errorf("%s: the person sees %+v, want %+v", label, got, tc.want)
		}
	}
}

// seen is what a person (or Teams) gets from an invoke answer.
type seen struct {
	kind, code, text string
	texts            []string // for a card: its warnings and its heading
}

func seenAnswer(body []byte) seen {
	var r struct {
		StatusCode int             `json:"statusCode"`
		Type       string          `json:"type"`
		Value      json.RawMessage `json:"value"`
		Task       *struct {
			Type  string `json:"type"`
			Value any    `json:"value"`
		} `json:"task"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return seen{kind: "not JSON: " + string(body)}
	}
	switch {
	case r.Task != nil && r.Task.Type == "message":
		msg, _ := r.Task.Value.(string)
		return seen{kind: "dialog", text: msg}
	case r.Type == "application/vnd.microsoft.error" && r.StatusCode >= 400 && r.StatusCode < 500 || r.StatusCode == 501:
		var e struct{ Code, Message string }
		_ = json.Unmarshal(r.Value, &e)
		return seen{kind: "error", code: e.Code, text: e.Message}
	case r.Type == "application/vnd.microsoft.card.adaptive" && r.StatusCode == 200:
		var c map[string]any
		_ = json.Unmarshal(r.Value, &c)
		texts := attentionTexts(cards.Card(c))
		if body, _ := c["body"].([]any); body != nil {
			for _, el := range body {
				if m, _ := el.(map[string]any); m["style"] == "heading" {
					texts = append(texts, fmt.Sprint(m["text"]))
				}
			}
		}
		return seen{kind: "card", texts: texts}
	case r.Type == "application/vnd.microsoft.search.searchResponse" && r.StatusCode == 200:
		var v struct{ Results []any }
		if json.Unmarshal(r.Value, &v) != nil || v.Results == nil {
			return seen{kind: "search without results: " + string(r.Value)}
		}
		return seen{kind: "search"}
	}
	return seen{kind: "unexpected: " + string(body)}
}
