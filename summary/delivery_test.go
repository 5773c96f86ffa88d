package summary

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
)

func TestDecodeDeliveryWeeklySync(t *testing.T) {
	d, err := DecodeDelivery(readFixture(t, "weekly-sync.json"))
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != "contoso-weekly-sync-2026-11-24" || d.Meeting.Title != "Web Portal weekly sync" ||
		d.DeliverTo.ConversationID != "19:meeting_NjU2@thread.v2" || len(d.Meeting.Participants) != 4 {
		t.Errorf("header: %+v", d)
	}
	if !d.Meeting.Start.Equal(time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)) || d.Meeting.End.Sub(d.Meeting.Start) != 45*time.Minute {
		t.Errorf("times %v %v", d.Meeting.Start, d.Meeting.End)
	}
	assertInsights(t, d.Insights, []devopsbot.Insight{
		{ID: "i1", Kind: devopsbot.KindInsight, Text: "Checkout latency doubled after the November release; most of it is the new address-validation call."},
		{ID: "d1", Kind: devopsbot.KindDecision, Text: "Roll back address validation to the synchronous v1 endpoint until the vendor fixes the timeout."},
		{ID: "d2", Kind: devopsbot.KindDecision, Text: "Freeze new features on the payment page until the 1 December release."},
		{ID: "n1", Kind: devopsbot.KindNextStep, Text: "Alex to share the latency dashboard with the vendor", Owner: "Alex Wilber"},
		{ID: "t1", Kind: devopsbot.KindTask, Text: "Add a timeout and circuit breaker around the address-validation client", Owner: "Adele Vance", Due: "2026-11-28"},
		{ID: "t2", Kind: devopsbot.KindTask, Text: "Write the rollback runbook for the payment page", Owner: "Lee Gu", Due: "2026-11-26"},
	})
}

func TestDecodeDeliveryEdgeCases(t *testing.T) {
	d, err := DecodeDelivery(readFixture(t, "edge-cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Meeting.Title != "Edge <cases> & \"quotes\" — ünïcödé 会议" {
		t.Errorf("title %q", d.Meeting.Title)
	}
	kinds := []devopsbot.Kind{devopsbot.KindTask, devopsbot.KindTask, devopsbot.KindTask, devopsbot.KindDecision, devopsbot.KindInsight, devopsbot.KindNextStep}
	if len(d.Insights) != len(kinds) {
		t.Fatalf("%d insights", len(d.Insights))
	}
	for i, k := range kinds {
		if d.Insights[i].Kind != k {
			t.Errorf("insight %d kind %q, want %q", i, d.Insights[i].Kind, k)
		}
	}
	if d.Insights[0].Text != "<script>alert('x')</script> must appear as text, never as markup, in the card and in Azure DevOps" {
		t.Errorf("markup was altered: %q", d.Insights[0].Text)
	}
	if d.Insights[5].Owner != "" {
		t.Errorf("blank owner became %q", d.Insights[5].Owner)
	}
}

func TestDecodeDeliveryText(t *testing.T) {
	body, _ := json.Marshal(map[string]any{
		"id": "paste-1", "meeting": map[string]any{"title": "Sprint review"},
		"deliverTo": map[string]any{"userAadObjectIds": []string{"6E1D2A3B-0000-4000-8000-000000000001"}},
		"text":      string(readFixture(t, "sprint-review.md")),
	})
	d, err := DecodeDelivery(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Insights) != 9 || d.Insights[6].Owner != "Isaiah Langer" {
		t.Errorf("insights from text: %+v", d.Insights)
	}
	if got := d.DeliverTo.UserAADObjectIDs; len(got) != 1 || got[0] != "6e1d2a3b-0000-4000-8000-000000000001" {
		t.Errorf("users %v", got)
	}
}

func TestDecodeDeliveryMalformed(t *testing.T) {
	for _, in := range []string{``, `{`, `{"id": }`, `[1,2]x`, `{"id":"a"} {"id":"b"}`, "\xff\xfe"} {
		_, err := DecodeDelivery([]byte(in))
		var ve *ValidationError
		if errors.As(err, &ve) || !apperr.Is(err, apperr.Invalid) {
			t.Errorf("%q: err = %v, want plain Invalid", in, err)
			continue
		}
		if !strings.HasPrefix(apperr.UserMessage(err), "malformed JSON") {
			t.Errorf("%q: message %q", in, apperr.UserMessage(err))
		}
	}
}

func TestDecodeDeliveryProblems(t *testing.T) {
	ins := func(n int) []map[string]any {
		out := []map[string]any{}
		for i := range n {
			out = append(out, map[string]any{"id": fmt.Sprint("i", i), "kind": "task", "text": "t"})
		}
		return out
	}
	tests := []struct {
		name string
		doc  map[string]any
		want []string // fields that must be reported
	}{
		{"everything missing", map[string]any{}, []string{"id", "meeting.title", "deliverTo", "insights"}},
		{"many at once", map[string]any{
			"id":        strings.Repeat("x", 201),
			"meeting":   map[string]any{"title": strings.Repeat("t", 501), "start": "2026-11-24T10:00:00Z", "end": "2026-11-24T09:00:00Z", "joinUrl": "http://teams.example"},
			"deliverTo": map[string]any{"conversationId": "c", "userAadObjectIds": []string{"x"}},
			"insights": []map[string]any{
				{"id": "a", "kind": "idea", "text": ""},
				{"id": "a", "kind": "task", "text": strings.Repeat("w", 4001)},
				{"id": "", "kind": "nextStep", "text": "ok"},
			},
		}, []string{"id", "meeting.title", "meeting.end", "meeting.joinUrl", "deliverTo", "insights[0].kind", "insights[0].text", "insights[1].id", "insights[1].text", "insights[2].id"}},
		{"both insights and text", map[string]any{"id": "x", "meeting": map[string]any{"title": "m"}, "deliverTo": map[string]any{"conversationId": "c"}, "insights": ins(1), "text": "Tasks\n- a"}, []string{"insights"}},
		{"too many insights", map[string]any{"id": "x", "meeting": map[string]any{"title": "m"}, "deliverTo": map[string]any{"conversationId": "c"}, "insights": ins(101)}, []string{"insights"}},
		{"text without items", map[string]any{"id": "x", "meeting": map[string]any{"title": "m"}, "deliverTo": map[string]any{"conversationId": "c"}, "text": "# Only a title"}, []string{"text"}},
		{"text still needs a title", map[string]any{"id": "x", "deliverTo": map[string]any{"conversationId": "c"}, "text": "# Title here\n- a"}, []string{"meeting.title"}},
		{"bad dates and users", map[string]any{"id": "x\u0007", "meeting": map[string]any{"title": "m", "start": "tomorrow"}, "deliverTo": map[string]any{"userAadObjectIds": []string{"not-a-guid"}}, "insights": ins(1)}, []string{"id", "meeting.start", "deliverTo.userAadObjectIds[0]"}},
		{"wrong JSON type", map[string]any{"id": 5, "meeting": map[string]any{"title": "m"}, "deliverTo": map[string]any{"conversationId": "c"}, "insights": ins(1)}, []string{"id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, _ := json.Marshal(tt.doc)
			_, err := DecodeDelivery(body)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want *ValidationError", err)
			}
			if !apperr.Is(err, apperr.Invalid) {
				t.Errorf("ValidationError is not apperr.Invalid")
			}
			got := map[string]bool{}
			for _, p := range ve.Problems {
				got[p.Field] = true
				if p.Message == "" {
					t.Errorf("%s has no message", p.Field)
				}
			}
			for _, f := range tt.want {
				if !got[f] {
					t.Errorf("problem for %s missing; got %+v", f, ve.Problems)
				}
			}
			if len(ve.Problems) != len(tt.want) {
				t.Errorf("got %d problems, want %d: %+v", len(ve.Problems), len(tt.want), ve.Problems)
			}
		})
	}
}

func TestParseKindAliases(t *testing.T) {
	for in, want := range map[string]devopsbot.Kind{"insight": devopsbot.KindInsight, "Decision": devopsbot.KindDecision, "next step": devopsbot.KindNextStep,
		"nextStep": devopsbot.KindNextStep, "next_step": devopsbot.KindNextStep, "action_item": devopsbot.KindTask, "TODO": devopsbot.KindTask, "tasks": devopsbot.KindTask} {
		if got, ok := ParseKind(in); !ok || got != want {
			t.Errorf("ParseKind(%q) = %q, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "idea", "risk"} {
		if _, ok := ParseKind(in); ok {
			t.Errorf("ParseKind(%q) accepted", in)
		}
	}
}

func FuzzDecodeDelivery(f *testing.F) {
	for _, n := range []string{"weekly-sync.json", "edge-cases.json"} {
		f.Add(readFixture(f, n))
	}
	f.Add([]byte(`{"id":"x","meeting":{"title":"m"},"deliverTo":{"conversationId":"c"},"text":"Tasks\n- a"}`))
	f.Add([]byte(`{"insights":[{"id":1}],"deliverTo":{"userAadObjectIds":"x"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := DecodeDelivery(data)
		if err != nil {
			if !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("error of kind %v: %v", apperr.KindOf(err), err)
			}
			return
		}
		if d.ID == "" || d.Meeting.Title == "" || len(d.Insights) == 0 || len(d.Insights) > MaxInsights {
			t.Fatalf("accepted an invalid delivery: %+v", d)
		}
		if (d.DeliverTo.ConversationID == "") == (len(d.DeliverTo.UserAADObjectIDs) == 0) {
			t.Fatalf("accepted without exactly one target: %+v", d.DeliverTo)
		}
		if strings.ContainsFunc(d.Meeting.Title+d.Meeting.Organizer+strings.Join(d.Meeting.Participants, ""), invisible) {
			t.Fatalf("meeting keeps a control or bidi character: %+v", d.Meeting)
		}
		seen := map[string]bool{}
		for _, in := range d.Insights {
			if seen[in.ID] || in.Text == "" {
				t.Fatalf("bad insight %+v", in)
			}
			if strings.ContainsFunc(in.Text+in.Owner+in.Due, invisible) {
				t.Fatalf("insight keeps a control or bidi character: %+v", in)
			}
			seen[in.ID] = true
		}
	})
}
