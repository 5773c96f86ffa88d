package teams_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/teams"
)

func mention(id, name, text string) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"type": "mention", "text": text, "mentioned": map[string]string{"id": id, "name": name}})
	return b
}

func TestTextWithoutMention(t *testing.T) {
	bot := teams.ChannelAccount{ID: "28:bot", Name: "Sally"}
	cases := []struct {
		name     string
		text     string
		entities []json.RawMessage
		want     string
	}{
		{"plain", "  connect  ", nil, "connect"},
		{"bot mention entity", "<at>Sally</at> create task", []json.RawMessage{mention("28:bot", "Sally", "<at>Sally</at>")}, "create task"},
		{"mention in the middle", "please <at>Sally</at> help", []json.RawMessage{mention("28:bot", "Sally", "<at>Sally</at>")}, "please  help"},
		{"colleague kept", "<at>Sally</at> assign to <at>Bob</at>", []json.RawMessage{
			mention("28:bot", "Sally", "<at>Sally</at>"), mention("29:bob", "Bob", "<at>Bob</at>"),
		}, "assign to <at>Bob</at>"},
		{"display name differs from recipient name", "<at>Sally for DevOps</at> help", []json.RawMessage{mention("28:bot", "Sally for DevOps", "<at>Sally for DevOps</at>")}, "help"},
		{"leading mention without entity", "<at>Sally</at>&nbsp;help", nil, "help"},
		{"leading colleague without entity kept", "<at>Bob</at> hi", nil, "<at>Bob</at> hi"},
		{"entities decoded", "<at>Sally</at> fix &lt;b&gt; &amp; &quot;x&quot;", []json.RawMessage{mention("28:bot", "Sally", "<at>Sally</at>")}, `fix <b> & "x"`},
		{"malformed entity ignored", "<at>Sally</at> hi", []json.RawMessage{json.RawMessage(`{"type":"mention","mentioned":"nope"}`), json.RawMessage(`[`)}, "hi"},
		{"unclosed at", "<at>Sally help", nil, "<at>Sally help"},
	}
	for _, tc := range cases {
		a := &teams.Activity{Type: "message", Text: tc.text, Entities: tc.entities, Recipient: bot}
		if got := a.TextWithoutMention(); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestOutgoingActivityJSONIsLean(t *testing.T) {
	got := mustJSON(teams.NewMessage("hi"))
	if got != `{"type":"message","text":"hi"}` {
		t.Fatalf("NewMessage encodes as %s", got)
	}
	card := map[string]any{"type": "AdaptiveCard", "version": "1.5"}
	got = mustJSON(teams.NewCardMessage(card))
	if got != `{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":{"type":"AdaptiveCard","version":"1.5"}}]}` {
		t.Fatalf("NewCardMessage encodes as %s", got)
	}
	ts := time.Date(2026, 11, 28, 1, 0, 0, 0, time.UTC)
	a := teams.Activity{Type: "message", Timestamp: &ts}
	if got := mustJSON(a); got != `{"type":"message","timestamp":"2026-11-28T01:00:00Z"}` {
		t.Fatalf("timestamp encodes as %s", got)
	}
}

func TestAttachmentContentRoundTripsUntouched(t *testing.T) {
	in := `{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":{"b":1,"a":[true,null]}}]}`
	a, err := teams.DecodeActivity([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if got := mustJSON(a); got != in {
		t.Fatalf("round trip:\n got %s\nwant %s", got, in)
	}
}

func TestTenantIDFallsBackToConversation(t *testing.T) {
	a := &teams.Activity{Conversation: teams.ConversationAccount{TenantID: "conv-tenant"}}
	if a.TenantID() != "conv-tenant" {
		t.Fatalf("without channel data: %q", a.TenantID())
	}
	a.ChannelData = json.RawMessage(`{"tenant":{"id":"cd-tenant"}}`)
	if a.TenantID() != "cd-tenant" {
		t.Fatalf("with channel data: %q", a.TenantID())
	}
	a.ChannelData = json.RawMessage(`{"tenant":"garbage"}`)
	if a.TenantID() != "conv-tenant" {
		t.Fatalf("with malformed channel data: %q", a.TenantID())
	}
	if _, err := a.TeamsData(); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("malformed channel data: %v", err)
	}
	empty := &teams.Activity{}
	if d, err := empty.TeamsData(); err != nil || d == nil || d.Team != nil {
		t.Fatalf("no channel data: %+v %v", d, err)
	}
}

func TestInvokeValueDecoders(t *testing.T) {
	a := &teams.Activity{Value: json.RawMessage(`{"data":{"ticket":7},"context":{"theme":"dark"}}`)}
	tv, err := a.TaskValue()
	if err != nil || string(tv.Data) != `{"ticket":7}` || string(tv.Context) != `{"theme":"dark"}` {
		t.Fatalf("task value %+v %v", tv, err)
	}
	a.Value = json.RawMessage(`{"kind":"search","queryText":"bug","dataset":"people","queryOptions":{"skip":-5,"top":15}}`)
	sv, err := a.SearchValue()
	if err != nil || sv.QueryText != "bug" || sv.Dataset != "people" || sv.QueryOptions.Skip != 0 || sv.QueryOptions.Top != 15 {
		t.Fatalf("search value %+v %v", sv, err)
	}
	a.Value = json.RawMessage(`{"action":{"type":"Action.Execute","verb":"connect"},"state":"123456"}`)
	av, err := a.ActionValue()
	if err != nil || av.State != "123456" || av.Action.Verb != "connect" {
		t.Fatalf("action value %+v %v", av, err)
	}
	for _, v := range []string{``, `null`, `"str"`, `{"action":1}`} {
		a.Value = json.RawMessage(v)
		if _, err := a.ActionValue(); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("ActionValue(%s) = %v, want Invalid", v, err)
		}
		if _, err := a.SearchValue(); !apperr.Is(err, apperr.Invalid) && v != `{"action":1}` {
			t.Errorf("SearchValue(%s) = %v, want Invalid", v, err)
		}
	}
}

func TestInvokeResponseShapes(t *testing.T) {
	card := map[string]string{"type": "AdaptiveCard"}
	cases := []struct {
		name   string
		resp   teams.InvokeResponse
		status int
		body   string
	}{
		{"card", teams.AdaptiveCardResponse(card), 200, `{"statusCode":200,"type":"application/vnd.microsoft.card.adaptive","value":{"type":"AdaptiveCard"}}`},
		{"error 400", teams.ErrorResponse(400, "bad_title", "The title is empty."), 200, `{"statusCode":400,"type":"application/vnd.microsoft.error","value":{"code":"bad_title","message":"The title is empty."}}`},
		{"error 500", teams.ErrorResponse(500, "internal", "Sorry."), 500, `{"statusCode":500,"type":"application/vnd.microsoft.error","value":{"code":"internal","message":"Sorry."}}`},
		{"login", teams.LoginRequestResponse("Sign in to Azure DevOps", "https://bot.example/oauth/start?s=1"), 200,
			`{"statusCode":401,"type":"application/vnd.microsoft.activity.loginRequest","value":{"text":"Sign in to Azure DevOps","connectionName":"","buttons":[{"type":"signin","title":"Sign in","value":"https://bot.example/oauth/start?s=1"}]}}`},
		{"task card", teams.TaskCardResponse("New task", card), 200, `{"task":{"type":"continue","value":{"title":"New task","card":{"contentType":"application/vnd.microsoft.card.adaptive","content":{"type":"AdaptiveCard"}}}}}`},
		{"task message", teams.TaskMessageResponse("Created"), 200, `{"task":{"type":"message","value":"Created"}}`},
		{"search none", teams.SearchResponse(nil), 200, `{"statusCode":200,"type":"application/vnd.microsoft.search.searchResponse","value":{"results":[]}}`},
	}
	for _, tc := range cases {
		if tc.resp.Status != tc.status || mustJSON(tc.resp.Body) != tc.body {
			t.Errorf("%s: %d %s\nwant %d %s", tc.name, tc.resp.Status, mustJSON(tc.resp.Body), tc.status, tc.body)
		}
	}
}
