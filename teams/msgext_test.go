package teams

import (
	"encoding/json"
	"strings"
	"testing"
)

// A message action from a message, as Teams sends it (msteams-docs,
// "Respond to the dialog submit action": value of composeExtension/submitAction).
const extensionValue = `{"commandId":"createWorkItem","commandContext":"message","data":{"sally":"create.submit","title":"T"},
"messagePayload":{"id":"1733000000000","createdDateTime":"2026-12-01T09:30:00.000Z","linkToMessage":"https://teams.microsoft.com/l/message/19:x/1733000000000",
"body":{"contentType":"html","content":"<p>Fix it</p>"},"from":{"user":{"id":"u1","displayName":"Lee Gu","userIdentityType":"aadUser"}}}}`

func TestExtensionActionDecodesTheMessage(t *testing.T) {
	a := &Activity{Type: ActivityInvoke, Name: InvokeExtensionSubmitAction, Value: json.RawMessage(extensionValue)}
	v, err := a.ExtensionAction()
	if err != nil {
		t.Fatal(err)
	}
	m := v.MessagePayload
	if v.CommandID != "createWorkItem" || v.CommandContext != "message" || m == nil || m.ID != "1733000000000" ||
		m.Body.ContentType != "html" || m.Body.Content != "<p>Fix it</p>" || m.SenderName() != "Lee Gu" ||
		!strings.HasSuffix(m.LinkToMessage, "/1733000000000") || !strings.Contains(string(v.Data), `"create.submit"`) {
		t.Fatalf("decoded %+v, message %+v", v, m)
	}
	// A message from an app has no user; a missing payload has no sender.
	if (&MessagePayload{}).SenderName() != "" || (*MessagePayload)(nil).SenderName() != "" {
		t.Fatal("a message without a user has a sender name")
	}
	for _, bad := range []string{``, `null`, `[1]`, `{"commandId":5}`} {
		if _, err := (&Activity{Value: json.RawMessage(bad)}).ExtensionAction(); err == nil {
			t.Errorf("value %q decoded without error", bad)
		}
	}
}

func TestWithDialogSizeSizesOnlyDialogs(t *testing.T) {
	sized := WithDialogSize(TaskCardResponse("Create work item", map[string]any{"type": "AdaptiveCard"}), DialogMedium, DialogLarge)
	b, _ := json.Marshal(sized.Body)
	if !strings.Contains(string(b), `"title":"Create work item","height":"large","width":"medium","card":{`) {
		t.Fatalf("sized dialog: %s", b)
	}
	msg := WithDialogSize(TaskMessageResponse("Done"), DialogMedium, DialogLarge)
	if b, _ := json.Marshal(msg.Body); string(b) != `{"task":{"type":"message","value":"Done"}}` {
		t.Fatalf("a message answer changed: %s", b)
	}
}

func FuzzExtensionAction(f *testing.F) {
	f.Add([]byte(extensionValue))
	f.Add([]byte(`{"messagePayload":{"from":{"user":null}}}`))
	f.Add([]byte(`{"messagePayload":null,"data":"x"}`))
	f.Fuzz(func(t *testing.T, value []byte) {
		v, err := (&Activity{Value: value}).ExtensionAction()
		if err != nil {
			return
		}
		_ = v.MessagePayload.SenderName() // nil payloads and users included: never a panic
	})
}
