package bot_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sally-devops/devopsbot/cards/cardstest"
	"github.com/sally-devops/devopsbot/devops/devopstest"
	"github.com/sally-devops/devopsbot/teams/teamstest"
)

const notes = "Sprint 42 review\n\n## Decisions\n- Ship 4.2 to 20% of users on Monday\n\n## Action items\n- [ ] @Lee Gu: update the release notes\n"

// paste sends text to conv and returns what the bot posted for it, up to and
// including the first card (a re-paste puts a note before the cards) or a post
// the connector refused; with cardless, the single text answer of a paste that
// was refused.
func (h *harness) paste(conv, text string, cardless ...bool) []teamstest.Sent {
	h.t.Helper()
	before := len(h.conn.Sent())
	a := h.activity("message", userAdele, conv)
	a.Text = text
	if code, body := h.post(a); code != http.StatusOK {
		h.t.Fatalf("message answered %d: %s", code, body)
	}
	var sent []teamstest.Sent
	for n := before + 1; ; n++ {
		sent = h.conn.WaitSent(h.t, n, 10*time.Second)[before:]
		if last := sent[len(sent)-1]; len(cardless) > 0 || len(last.Activity.Attachments) > 0 || last.Status >= 300 {
			break
		}
		if len(sent) == 3 {
			h.t.Fatalf("no card among %s", js(sent))
		}
	}
	// Messages are handled after Teams got its 200: once the handler is done,
	// the bot has recorded where the cards went (as a person pasting again
	// later would find).
	last := sent[len(sent)-1]
	if last.Status >= 300 {
		// A refused post is recorded after Teams answered: wait until the bot
		// is done with it (and its delivery lease), or a re-paste at once
		// finds the delivery busy.
		h.settle()
	}
	if len(last.Activity.Attachments) == 1 && last.Status < 300 {
		if act, ok := cardstest.FindAction(last.Activity.Attachments[0].Content, "create"); ok {
			sid, _ := act["data"].(map[string]any)["summaryId"].(string)
			h.settle()
			if sm, err := h.store.GetSummary(context.Background(), sid); err != nil || len(sm.Cards) == 0 || sm.Cards[0].ActivityID != last.ActivityID {
				h.t.Fatalf("the bot did not record the cards of summary %s: %v", sid, err)
			}
		}
	}
	return sent
}

// summaryCount counts the summaries stored for a chat, straight from the database.
func (h *harness) summaryCount(conv string) int64 {
	h.t.Helper()
	if h.mem != nil {
		return int64(h.mem.SummaryCount(conv))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := mongo.Connect(options.Client().ApplyURI(h.storeCfg.URI))
	if err != nil {
		h.t.Fatal(err)
	}
	defer c.Disconnect(ctx)
	n, err := c.Database(h.storeCfg.Database).Collection("summaries").CountDocuments(ctx, bson.D{{Key: "conversationId", Value: conv}})
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

// taskCreateData returns the data of the Create button of the pasted notes'
// task (their second item, k2: pasted notes number their items in order),
// failing unless the card shows text and carries that button.
func taskCreateData(t *testing.T, card any, text string) map[string]any {
	t.Helper()
	raw, _ := json.Marshal(card)
	if !strings.Contains(string(raw), text) || !strings.Contains(string(raw), `"insightId":"k2"`) {
		t.Fatalf("card lacks %q or the task's buttons: %.600s", text, raw)
	}
	act, ok := cardstest.FindAction(card, "create")
	if !ok {
		t.Fatal("card has no create action")
	}
	data := map[string]any{}
	for k, v := range act["data"].(map[string]any) {
		data[k] = v
	}
	data["insightId"] = "k2"
	return data
}

func TestRePasteReusesTheSummaryAndItsWorkItem(t *testing.T) {
	forEachBackend(t, testRePasteReusesTheSummaryAndItsWorkItem)
}

func testRePasteReusesTheSummaryAndItsWorkItem(t *testing.T, b backend) {
	h := newHarnessOn(t, b, withDemo)
	connectDemo(t, h, userAdele)
	first := h.paste(chatID, notes)
	data := taskCreateData(t, first[0].Activity.Attachments[0].Content, "Update the release notes")
	sid := data["summaryId"].(string)

	form := dialogCard(t, h.taskFetch(userAdele, chatID, data))
	form = dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, "create.reload", map[string]any{"project": "Web Portal"})))
	res := dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, "create.submit", map[string]any{"title": "Update the release notes"})))
	if !strings.Contains(js(res), "Created Task 1") {
		t.Fatalf("first create: %.400s", js(res))
	}

	// The same notes again, typed differently: CRLF, tabs, blank lines, other bullets.
	retyped := strings.NewReplacer("\n", "\r\n\r\n", "- ", "•\t", "Sprint 42", "  Sprint   42").Replace(notes)
	again := h.paste(chatID, retyped)
	card := cardOf(t, again[len(again)-1])
	if !strings.Contains(card, "Created Task 1") {
		t.Fatalf("the re-posted card should show the work item already made: %.600s", card)
	}
	data2 := taskCreateData(t, again[len(again)-1].Activity.Attachments[0].Content, "Ship 4.2")
	if data2["summaryId"] != sid {
		t.Fatalf("re-paste made summary %v, want the first one %s", data2["summaryId"], sid)
	}
	if n := h.summaryCount(chatID); n != 1 {
		t.Fatalf("%d summaries stored for one pasted text", n)
	}
	// Create on the second paste's card finds the first work item.
	dup := dialogCard(t, h.taskFetch(userAdele, chatID, data2))
	if s := js(dup); !strings.Contains(s, "You already did this") || !strings.Contains(s, "nothing new was created") || !strings.Contains(s, "Task 1") {
		t.Fatalf("Create on the re-pasted card: %.400s", s)
	}
	if _, made := h.org.WorkItem(2); made || h.org.Calls(devopstest.RouteCreate) != 1 {
		t.Fatalf("a second work item was created (create calls %d)", h.org.Calls(devopstest.RouteCreate))
	}
	// The cards come after one line that says why they are here again.
	if len(again) != 2 || !strings.Contains(again[0].Activity.Text, "pasted this summary here before") {
		t.Fatalf("a re-paste should say so before the cards: %s", js(again[0].Activity))
	}
	// Acting on the other insight updates the card people see last: the re-posted one.
	data2["insightId"] = "k1"
	form = dialogCard(t, h.taskFetch(userAdele, chatID, data2))
	form = dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, "create.reload", map[string]any{"project": "Web Portal"})))
	if res := js(dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, "create.submit", map[string]any{"title": "Roll out 4.2"})))); !strings.Contains(res, " 2") {
		t.Fatalf("second create: %.400s", res)
	}
	act, _ := h.conn.Activity(chatID, again[len(again)-1].ActivityID)
	if shown := js(act.Attachments); !strings.Contains(shown, "Created Task 1") || !strings.Contains(shown, "Roll out 4.2") {
		t.Fatalf("the re-posted card does not show both results: %.600s", shown)
	}
}

// When Teams refused the first paste's cards, nobody saw them: the re-paste
// shows them without claiming they were shown before.
func TestRePasteAfterAFailedPostIsAFirstShowing(t *testing.T) {
	forEachBackend(t, testRePasteAfterAFailedPostIsAFirstShowing)
}

func testRePasteAfterAFailedPostIsAFirstShowing(t *testing.T, b backend) {
	h := newHarnessOn(t, b, withDemo)
	h.conn.FailNext(http.StatusForbidden, "", 1)
	if first := h.paste(chatID, notes); first[0].Status != http.StatusForbidden {
		t.Fatalf("the fake connector should have refused the first card: %d", first[0].Status)
	}
	again := h.paste(chatID, notes)
	if len(again) != 1 || again[0].Status >= 300 {
		t.Fatalf("re-paste after a failed post: want just the cards, got %s", js(again))
	}
	if n := h.summaryCount(chatID); n != 1 {
		t.Fatalf("%d summaries, want 1", n)
	}
}

func TestDifferentTextOrChatIsANewSummary(t *testing.T) {
	forEachBackend(t, testDifferentTextOrChatIsANewSummary)
}

func testDifferentTextOrChatIsANewSummary(t *testing.T, b backend) {
	h := newHarnessOn(t, b, withDemo)
	first := h.paste(chatID, notes)
	sid := taskCreateData(t, first[0].Activity.Attachments[0].Content, "Ship 4.2")["summaryId"]

	changed := h.paste(chatID, strings.Replace(notes, "Monday", "Tuesday", 1))
	if !strings.Contains(cardOf(t, changed[0]), "Tuesday") {
		t.Fatalf("changed text: %.400s", cardOf(t, changed[0]))
	}
	if got := taskCreateData(t, changed[0].Activity.Attachments[0].Content, "Ship 4.2")["summaryId"]; got == sid {
		t.Fatal("a changed text reused the first summary")
	}
	if n := h.summaryCount(chatID); n != 2 {
		t.Fatalf("%d summaries, want 2", n)
	}

	const otherChat = "19:other_chat@thread.v2"
	other := h.paste(otherChat, notes)
	if other[0].ConversationID != otherChat || other[0].Activity.Text != "" {
		t.Fatalf("same text in another chat should post plain cards there: %s", js(other[0].Activity))
	}
	if got := taskCreateData(t, other[0].Activity.Attachments[0].Content, "Ship 4.2")["summaryId"]; got == sid {
		t.Fatal("another chat reused this chat's summary")
	}
	if n := h.summaryCount(otherChat); n != 1 {
		t.Fatalf("%d summaries in the other chat, want 1", n)
	}
}

func TestPastedJSONBecomesItsSummary(t *testing.T) {
	forEachBackend(t, testPastedJSONBecomesItsSummary)
}

func testPastedJSONBecomesItsSummary(t *testing.T, b backend) {
	raw, err := os.ReadFile("../summary/testdata/weekly-sync.json")
	if err != nil {
		t.Fatal(err)
	}
	pretty := string(raw)
	var v any
	_ = json.Unmarshal(raw, &v)
	oneLine, _ := json.Marshal(v)
	for name, text := range map[string]string{
		"pretty":   pretty,
		"one line": string(oneLine),
		"fenced":   "summary:\n```json\n" + pretty + "\n```",
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarnessOn(t, b, withDemo)
			sent := h.paste(chatID, text)
			if sent[0].ConversationID != chatID {
				t.Fatalf("posted to %s; a paste belongs to the chat it was pasted in", sent[0].ConversationID)
			}
			card := cardOf(t, sent[0])
			for _, want := range []string{"Web Portal weekly sync", "Roll back address validation", "Write the rollback runbook", "Lee Gu"} {
				if !strings.Contains(card, want) {
					t.Fatalf("card lacks %q: %.800s", want, card)
				}
			}
			for _, bad := range []string{`\"kind\"`, "deliverTo", "contoso-weekly-sync"} {
				if strings.Contains(card, bad) {
					t.Fatalf("card shows JSON (%s) as an insight: %.800s", bad, card)
				}
			}
			if _, ok := cardstest.FindAction(sent[0].Activity.Attachments[0].Content, "create"); !ok {
				t.Fatal("no Create button")
			}
			// Pasted again (as the other shape): the same summary.
			if re := h.paste(chatID, text); len(re) != 2 || !strings.Contains(re[0].Activity.Text, "before") {
				t.Fatalf("re-paste: %s", js(re[0].Activity))
			}
			if n := h.summaryCount(chatID); n != 1 {
				t.Fatalf("%d summaries for one JSON pasted twice", n)
			}
		})
	}
}

func TestBrokenPastedJSONSaysSo(t *testing.T) {
	raw, err := os.ReadFile("../summary/testdata/weekly-sync.json")
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, withDemo)
	cut := string(raw[:len(raw)*2/3]) // copied only in part
	sent := h.paste(chatID, cut, true)
	msg := sent[0].Activity.Text
	if len(sent[0].Activity.Attachments) != 0 || !strings.Contains(msg, "looks like a summary in JSON") || !strings.Contains(msg, "cut off") {
		t.Fatalf("broken JSON answer: %s", js(sent[0].Activity))
	}
	if n := h.summaryCount(chatID); n != 0 {
		t.Fatalf("broken JSON stored %d summaries", n)
	}
}
