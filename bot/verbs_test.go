package bot_test

import (
	"strings"
	"testing"

	"github.com/sally-devops/devopsbot/cards"
)

// Every verb a card can send gets a real answer from the bot, through the
// invoke Teams sends for it: a dialog step (task/submit) for a button under
// an insight, a card action (adaptiveCard/action) for a chat card's. A verb
// the bot dropped from its switch would answer "not supported" on both.
func TestEveryCardVerbIsAnswered(t *testing.T) {
	h := newHarness(t, withDemo)
	sid, _ := deliveredSummary(t, h)
	connectDemo(t, h, userAdele)
	for _, verb := range cards.Verbs {
		inDialog := js(h.taskSubmit(userAdele, chatID, map[string]any{cards.DataVerb: verb, cards.DataSummaryID: sid, cards.DataInsightID: "t1"}))
		inChat := js(h.invoke(userAdele, "a:personal-"+userAdele, "adaptiveCard/action",
			map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": verb, "data": map[string]any{cards.DataVerb: verb}}, "trigger": "manual"}))
		if strings.Contains(inDialog, "not supported") && strings.Contains(inChat, "not supported") {
			t.Errorf("%s is not handled:\ndialog: %.200s\nchat:   %.200s", verb, inDialog, inChat)
		}
	}
}
