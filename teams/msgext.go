package teams

import (
	"encoding/json"

	"github.com/sally-devops/devopsbot/apperr"
)

// Invoke names of a message extension's action commands ("…" → More actions on
// a message): fetchTask asks for the dialog to open, submitAction carries what
// the dialog's card submitted. Teams waits 5 s for either and retries
// submitAction twice when the answer is late.
const (
	InvokeExtensionFetchTask    = "composeExtension/fetchTask"
	InvokeExtensionSubmitAction = "composeExtension/submitAction"
)

// ExtensionAction is the value of a composeExtension/fetchTask or
// composeExtension/submitAction invoke. CommandContext is "message" when the
// command was run from a message's menu, and then MessagePayload is that
// message. Data is what the dialog's card submitted (its action data merged
// with its inputs), only on submitAction.
type ExtensionAction struct {
	CommandID      string          `json:"commandId"`
	CommandContext string          `json:"commandContext"`
	MessagePayload *MessagePayload `json:"messagePayload"`
	Data           json.RawMessage `json:"data"`
}

// MessagePayload is the message an action command was run on, in Microsoft
// Graph's chatMessage shape (reduced to what a bot can use).
type MessagePayload struct {
	ID              string `json:"id"`
	CreatedDateTime string `json:"createdDateTime"`
	LinkToMessage   string `json:"linkToMessage"`
	Body            struct {
		ContentType string `json:"contentType"` // "html" or "text"
		Content     string `json:"content"`
	} `json:"body"`
	From struct {
		User *struct {
			ID          string `json:"id"`
			DisplayName string `json:"displayName"`
		} `json:"user"`
	} `json:"from"`
}

// SenderName is the display name of the message's author, "" when the
// message was sent by an app or the name is not given.
func (m *MessagePayload) SenderName() string {
	if m == nil || m.From.User == nil {
		return ""
	}
	return m.From.User.DisplayName
}

// ExtensionAction decodes the value of a message extension action invoke.
func (a *Activity) ExtensionAction() (*ExtensionAction, error) {
	if isJSONEmpty(a.Value) {
		return nil, apperr.New(apperr.Invalid, "The message action carries no value.")
	}
	var v ExtensionAction
	if err := json.Unmarshal(a.Value, &v); err != nil {
		return nil, invalid("The message action is not valid.", err)
	}
	return &v, nil
}

// Dialog sizes Teams accepts besides pixels.
const (
	DialogSmall  = "small"
	DialogMedium = "medium"
	DialogLarge  = "large"
)

// WithDialogSize sets the width and height of a dialog that resp opens
// (TaskCardResponse); other answers pass through unchanged. A message
// extension's dialog has no size of its own, unlike one opened from a card.
func WithDialogSize(resp InvokeResponse, width, height string) InvokeResponse {
	b, ok := resp.Body.(taskBody)
	if !ok {
		return resp
	}
	c, ok := b.Task.Value.(taskContinue)
	if !ok {
		return resp
	}
	c.Width, c.Height = width, height
	b.Task.Value = c
	resp.Body = b
	return resp
}
