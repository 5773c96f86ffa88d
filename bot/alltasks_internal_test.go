package bot

import (
	"encoding/json"
	"testing"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/devops"
	"github.com/sally-devops/devopsbot/summary"
)

// parseAllTasks reads a form submitted from outside: whatever arrives, it
// never panics and keeps only rows for this summary's tasks and next steps.
func FuzzParseAllTasks(f *testing.F) {
	f.Add(`{"items":["t1","n1"],"pick_0":"true","title_0":"A","type_0":"Task","owner_0":"a@b.c","pick_1":"false"}`)
	f.Add(`{"items":["d1","t1","t1"],"pick_1":"true","title_1":"\u202eX"}`)
	f.Add(`{"items":"t1"}`)
	f.Add(`{"items":[1,null,{"a":1}],"pick_0":true}`)
	f.Add(`[]`)
	f.Add(`{"items":["t1","n1"],"pick_1":"true","field1_Custom.Severity":"2 - High","field1_Bad Ref":"x","field0_A.B":7,"field9_A.B":"x","field01_A.B":"y"}`)
	sm := &devopsbot.Summary{ID: "s", Insights: []devopsbot.Insight{
		{ID: "d1", Kind: devopsbot.KindDecision, Text: "d"}, {ID: "t1", Kind: devopsbot.KindTask, Text: "t"}, {ID: "n1", Kind: devopsbot.KindNextStep, Text: "n"}}}
	f.Fuzz(func(t *testing.T, raw string) {
		ac := &actionCtx{sm: sm}
		round, _ := parseAllTasks(ac, json.RawMessage(raw))
		if round == nil || round.rows == nil {
			t.Fatal("no round")
		}
		for id, r := range round.rows {
			if id != "t1" && id != "n1" {
				t.Fatalf("a row for %q, which is not a task of the summary", id)
			}
			// A row's field inputs are what the single form would accept.
			if len(r.fields) > maxFieldInputs {
				t.Fatalf("%d field inputs kept for a row", len(r.fields))
			}
			for ref, v := range r.fields {
				if !devops.ValidFieldRef(ref) || v != summary.CleanText(v) {
					t.Fatalf("row %s kept field %q = %q", id, ref, v)
				}
			}
		}
	})
}
