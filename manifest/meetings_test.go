package manifest

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// --meetings asks for the meeting permissions (and keeps --chat-read's), offers
// the on/off commands where meetings happen (not in the personal chat), and
// the result is a manifest Microsoft's schema accepts.
func TestMeetingSummariesManifest(t *testing.T) {
	c := validConfig()
	c.MeetingSummaries = true
	c.ChatMessageReadRSC = true
	b, err := Build(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := validateAgainstSchema(t, b); err != nil {
		t.Fatalf("schema: %v", err)
	}
	m := decode(t, b)
	want := []any{
		map[string]any{"name": "ChatMessage.Read.Chat", "type": "Application"},
		map[string]any{"name": "OnlineMeeting.ReadBasic.Chat", "type": "Application"},
		map[string]any{"name": "ChannelMeeting.ReadBasic.Group", "type": "Application"},
		map[string]any{"name": "OnlineMeetingTranscript.Read.Chat", "type": "Application"},
	}
	if got := at(t, m, "authorization", "permissions", "resourceSpecific"); !reflect.DeepEqual(got, want) {
		t.Errorf("resourceSpecific = %v, want %v", got, want)
	}
	if at(t, m, "webApplicationInfo", "id") != testAppID {
		t.Errorf("webApplicationInfo = %v", m["webApplicationInfo"])
	}
	for _, l := range at(t, m, "bots").([]any)[0].(map[string]any)["commandLists"].([]any) {
		cl := l.(map[string]any)
		scope := cl["scopes"].([]any)[0]
		has := strings.Contains(js(cl["commands"]), "meeting summaries off")
		if has != (scope != "personal") {
			t.Errorf("scope %v: meeting commands offered = %v", scope, has)
		}
	}
	// Without --meetings nothing about meetings is asked for.
	plain, _ := Build(validConfig())
	if strings.Contains(string(plain), "OnlineMeeting") || strings.Contains(string(plain), "meeting summaries") {
		t.Errorf("meeting permissions without --meetings: %s", plain)
	}
}

func js(v any) string { b, _ := json.Marshal(v); return string(b) }
