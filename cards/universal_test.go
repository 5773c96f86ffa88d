package cards

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/cards/cardstest"
)

func TestAsUniversalActionsTurnsDialogButtonsIntoExecute(t *testing.T) {
	in := summaryCards(SummaryView{SummaryID: "s1", Meeting: devopsbot.Meeting{Title: "Sync"},
		Insights: []InsightView{{Insight: devopsbot.Insight{ID: "t1", Kind: devopsbot.KindTask, Text: "Do it"}}}})[0]
	before, _ := json.Marshal(in)
	out := AsUniversalActions(in)
	validate(t, "universal summary", out)
	a, ok := cardstest.FindAction(out, "create")
	if !ok || a["type"] != "Action.Execute" || a["verb"] != "create" {
		t.Fatalf("create button: %v", a)
	}
	if d := a["data"].(map[string]any); d["msteams"] != nil || d["summaryId"] != "s1" || d["insightId"] != "t1" {
		t.Fatalf("data: %v", d)
	}
	after, _ := json.Marshal(in)
	if string(before) != string(after) {
		t.Fatal("the input card was modified")
	}
	form := AsUniversalActions(CreateForm(CreateFormView{SummaryID: "s1", InsightID: "t1", Projects: []Choice{{"P", "P"}}}))
	validate(t, "universal form", form)
	if a, _ := cardstest.FindAction(form, "create.reload"); a["type"] != "Action.Execute" || a["associatedInputs"] != "auto" {
		t.Fatalf("reload: %v", a)
	}
	if raw, _ := json.Marshal(form); strings.Contains(string(raw), "Action.Submit") {
		t.Fatalf("an Action.Submit is left: %s", raw)
	}
}
