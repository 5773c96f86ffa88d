package bot_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/cards"
	"github.com/sally-devops/devopsbot/cards/cardstest"
)

// waitText waits until the bot has sent, since from, a message whose text
// contains want, and returns that text.
func waitText(t *testing.T, h *harness, from int, want string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, s := range h.conn.Sent()[from:] {
			if strings.Contains(s.Activity.Text, want) {
				return s.Activity.Text
			}
		}
		if time.Now().After(deadline) {
			var got []string
			for _, s := range h.conn.Sent()[from:] {
				got = append(got, s.Activity.Text)
			}
			t.Fatalf("no message with %q; sent %q", want, got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// chatCard returns the card the bot answered a chat message with.
func chatCard(t *testing.T, h *harness, user, text string) cards.Card {
	t.Helper()
	for _, s := range h.say(user, chatID, text) {
		if len(s.Activity.Attachments) == 1 {
			return cards.Card(asMap(t, s.Activity.Attachments[0].Content))
		}
	}
	t.Fatalf("%q got no card", text)
	return nil
}

func asMap(t *testing.T, v any) map[string]any {
	t.Helper()
	if m, ok := v.(map[string]any); ok {
		return m
	}
	raw, _ := json.Marshal(v)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// `defaults` in a chat sets where everyone's forms there start: the chat's
// choices win over a person's last ones (which came from another chat), the
// person can still change them in the form, status shows them, a forged
// choice is refused, and removing the bot from the chat forgets them.
func TestChatDefaultsStartEveryonesForms(t *testing.T) {
	h := newHarness(t, withDemo)
	sid, _ := deliveredSummary(t, h)
	connectDemo(t, h, userAdele)
	connectDemo(t, h, userAlex)
	// Adele's last work item was in Web Portal, as a Task.
	if err := h.store.SavePrefs(context.Background(), devopsbot.UserKey{TenantID: tenantID, AADObjectID: userAdele},
		devopsbot.Prefs{Project: "Web Portal", WorkItemType: "Task", AreaPath: `Web Portal\Backend`, IterationPath: `Web Portal\Sprint 2`}); err != nil {
		t.Fatal(err)
	}

	card := chatCard(t, h, userAdele, "defaults")
	if _, ok := cardstest.FindAction(card, cards.VerbDefaultsSave); !ok || !strings.Contains(js(card), "Form defaults for this chat") {
		t.Fatalf("defaults card: %.800s", js(card))
	}
	// Choose Mobile App and load its lists.
	card = h.execute(userAdele, chatID, map[string]any{"verb": cards.VerbDefaultsReload, "data": submitFrom(t, card, cards.VerbDefaultsReload, map[string]any{"project": "Mobile App"})})
	if !strings.Contains(js(card), `Mobile App\\iOS`) {
		t.Fatalf("Mobile App's areas are not offered: %.1500s", js(card))
	}
	// A forged area from another project is refused, nothing saved.
	bad := h.execute(userAdele, chatID, map[string]any{"verb": cards.VerbDefaultsSave, "data": map[string]any{"sally": cards.VerbDefaultsSave, "project": "Mobile App", "areaPath": `Web Portal\Frontend`}})
	if !strings.Contains(js(bad), "not in Mobile App") {
		t.Fatalf("forged area: %.800s", js(bad))
	}
	saved := h.execute(userAdele, chatID, map[string]any{"verb": cards.VerbDefaultsSave, "data": submitFrom(t, card, cards.VerbDefaultsSave, map[string]any{
		"project": "Mobile App", "areaPath": `Mobile App\iOS`, "iterationPath": cards.CurrentIteration, "workItemType": "Bug"})})
	if s := js(saved); !strings.Contains(s, "Saved.") || !strings.Contains(s, "Type Bug") || !strings.Contains(s, "set by Adele Vance") {
		t.Fatalf("after save: %.1200s", s)
	}

	// Both people's forms in this chat start there; Adele's own last choices
	// (Web Portal) do not win, and the iteration follows the current sprint.
	for _, u := range []string{userAdele, userAlex} {
		in := cardstest.Inputs(dialogCard(t, h.taskFetch(u, chatID, createData(sid))))
		for id, want := range map[string]string{"project": "Mobile App", "areaPath": `Mobile App\iOS`, "iterationPath": `Mobile App\Sprint 3`, "workItemType": "Bug"} {
			if got := in[id]["value"]; got != want {
				t.Errorf("%s's form: %s = %v, want %q", u, id, got, want)
			}
		}
	}
	// People can still change them.
	form := dialogCard(t, h.taskFetch(userAdele, chatID, createData(sid)))
	in := cardstest.Inputs(dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, "create.reload", map[string]any{"project": "Web Portal"}))))
	if in["project"]["value"] != "Web Portal" || in["areaPath"]["value"] == `Mobile App\iOS` {
		t.Fatalf("changing the project in the form: %s", js(in))
	}
	// The all-tasks form starts there too.
	_, out := h.deliver("msg_all", fourTasks(chatID), "")
	all := cardstest.Inputs(dialogCard(t, h.taskFetch(userAlex, chatID, allTasksData(out["summaryId"].(string)))))
	if all["project"]["value"] != "Mobile App" || all["areaPath"]["value"] != `Mobile App\iOS` || all[cards.AllTasksTypeID(0)]["value"] != "Bug" {
		t.Fatalf("the all-tasks form ignores the chat's defaults: %s", js(all))
	}

	// status shows them.
	before := len(h.conn.Sent())
	h.say(userAlex, chatID, "status")
	line := waitText(t, h, before, "Form defaults for this chat")
	for _, want := range []string{"Project Mobile App", `Area Mobile App\iOS`, "the current one", "Type Bug", "set by Adele Vance"} {
		if !strings.Contains(line, want) {
			t.Errorf("status line %q lacks %q", line, want)
		}
	}
	// Another chat has none.
	before = len(h.conn.Sent())
	h.say(userAlex, "a:personal-"+userAlex, "status")
	if line := waitText(t, h, before, "Form defaults for this chat"); !strings.Contains(line, "none") {
		t.Fatalf("another chat's status: %q", line)
	}

	// Clear, then set again and remove the bot: the chat's defaults go with it.
	cleared := h.execute(userAlex, chatID, map[string]any{"verb": cards.VerbDefaultsClear, "data": map[string]any{"sally": cards.VerbDefaultsClear}})
	if !strings.Contains(js(cleared), "Cleared.") {
		t.Fatalf("clear: %.600s", js(cleared))
	}
	if in := cardstest.Inputs(dialogCard(t, h.taskFetch(userAdele, chatID, createData(sid)))); in["project"]["value"] != "Web Portal" {
		t.Fatalf("after Clear, Adele's own last project should be back: %v", in["project"]["value"])
	}
	h.execute(userAdele, chatID, map[string]any{"verb": cards.VerbDefaultsSave, "data": map[string]any{"sally": cards.VerbDefaultsSave, "project": "Mobile App"}})
	rm := h.activity("installationUpdate", userAdele, chatID)
	rm.Action = "remove"
	h.post(rm)
	// The purge runs after Teams gets its answer: wait for it (bounded).
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		d, err := h.store.GetChatDefaultsCached(context.Background(), chatID)
		if err == nil && d.Project == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("defaults after the bot was removed: %+v, %v", d, err)
		}
	}
}
