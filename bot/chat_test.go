package bot_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
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
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("missing type answered %d", resp.StatusCode)
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

// Hostile or broken invokes get a clear answer, never a 500 or a panic.
func TestHostileInvokes(t *testing.T) {
	h := newHarness(t, withDemo)
	for _, tc := range []struct {
		name  string
		value string
	}{
		{"task/fetch", `"just a string"`},
		{"task/fetch", `{"data":"nope"}`},
		{"task/fetch", `{"data":{"sally":"create"}}`},
		{"task/fetch", `{"data":{"sally":"create","summaryId":"` + strings.Repeat("x", 5000) + `","insightId":"t1"}}`},
		{"task/submit", `{"data":{"sally":"create.submit","summaryId":"nope","insightId":"t1"}}`},
		{"task/submit", `{"data":{"sally":"rm -rf","summaryId":"s","insightId":"i"}}`},
		{"adaptiveCard/action", `{"action":{"type":"Action.Execute","verb":"create","data":[1,2]}}`},
		{"adaptiveCard/action", `{"action":{"type":"Action.Execute","verb":"connect.code","data":{"code":"` + strings.Repeat("A", 100) + `"}}}`},
		{"adaptiveCard/action", `{"action":{"type":"Action.Execute","verb":"connect.org","data":{"orgUrl":"https://user:pw@dev.azure.com/x"}}}`},
		{"application/search", `{"dataset":"other","queryText":"x"}`},
		{"application/search", `{"dataset":"workitems","queryText":"` + strings.Repeat("'", 300) + `"}`},
	} {
		a := h.activity("invoke", userAdele, chatID)
		a.Name = tc.name
		a.Value = []byte(tc.value)
		code, body := h.post(a)
		if code >= 500 || len(body) == 0 {
			t.Errorf("%s %.60s: %d %.200s", tc.name, tc.value, code, body)
		}
	}
}
