package bot

import (
	"encoding/json"
	"testing"

	"github.com/sally-devops/devopsbot"
)

// parseAllTasks reads a form submitted from outside: whatever arrives, it
// never panics and keeps only rows for this summary's tasks and next steps.
func FuzzParseAllTasks(f *testing.F) {
	f.Add(`{"items":["t1","n1"],"pick_0":"true","title_0":"A","type_0":"Task","owner_0":"a@b.c","pick_1":"false"}`)
	f.Add(`{"items":["d1","t1","t1"],"pick_1":"true","title_1":"\u202eX"}`)
	f.Add(`{"items":"t1"}`)
	f.Add(`{"items":[1,null,{"a":1}],"pick_0":true}`)
	f.Add(`[]`)
	sm := &devopsbot.Summary{ID: "s", Insights: []devopsbot.Insight{
		{ID: "d1", Kind: devopsbot.KindDecision, Text: "d"}, {ID: "t1", Kind: devopsbot.KindTask, Text: "t"}, {ID: "n1", Kind: devopsbot.KindNextStep, Text: "n"}}}
	f.Fuzz(func(t *testing.T, raw string) {
		ac := &actionCtx{sm: sm}
		round, _ := parseAllTasks(ac, json.RawMessage(raw))
		if round == nil || round.rows == nil {
			t.Fatal("no round")
		}
		for id := range round.rows {
			if id != "t1" && id != "n1" {
				t.Fatalf("a row for %q, which is not a task of the summary", id)
			}
		}
	})
}
