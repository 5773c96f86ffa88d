// Package teams speaks the Bot Framework protocol the way Microsoft Teams (and the
// Microsoft 365 Agents Playground) uses it: the activity types, the HTTP handler that
// receives them, inbound token validation, the outbound bot token, and the connector
// client that sends, updates and deletes messages.
//
// We own this layer instead of using a Bot Framework SDK for Go: the available one
// cannot return invoke response bodies, drops sent message ids and races on its
// caches (see ARCHITECTURE.md). The surface Teams needs is small.
package teams

import (
	"encoding/json"
	"html"
	"strings"
	"time"

	"github.com/sally-devops/devopsbot/apperr"
)

// Activity types we route. Anything else is acknowledged and ignored, because the
// Bot Framework adds types over time and an unknown one must not look like an error.
const (
	ActivityMessage            = "message"
	ActivityInvoke             = "invoke"
	ActivityConversationUpdate = "conversationUpdate"
	ActivityInstallationUpdate = "installationUpdate"
	ActivityEvent              = "event"

	ContentTypeAdaptiveCard = "application/vnd.microsoft.card.adaptive"
)

// ChannelAccount is a user or bot. In Teams, ID is the channel-specific id ("29:..."
// for users, "28:..." for bots); AADObjectID is the stable Entra ID object id, the
// one to key user data on.
type ChannelAccount struct {
	ID          string `json:"id,omitempty"`
	Name        string `json:"name,omitempty"`
	AADObjectID string `json:"aadObjectId,omitempty"`
	Role        string `json:"role,omitempty"`
}

// ConversationAccount is a chat, channel thread or meeting chat. ConversationType is
// "personal", "groupChat" or "channel".
type ConversationAccount struct {
	ID               string `json:"id,omitempty"`
	Name             string `json:"name,omitempty"`
	ConversationType string `json:"conversationType,omitempty"`
	TenantID         string `json:"tenantId,omitempty"`
	IsGroup          bool   `json:"isGroup,omitempty"`
}

// Attachment carries a card or a file. Content is kept as given: on decode it is a
// json.RawMessage, so a card passes through untouched; on encode any value that
// marshals to JSON will do.
type Attachment struct {
	ContentType string `json:"contentType,omitempty"`
	ContentURL  string `json:"contentUrl,omitempty"`
	Content     any    `json:"content,omitempty"`
	Name        string `json:"name,omitempty"`
}

// UnmarshalJSON keeps Content as raw JSON instead of generic maps, so cards survive
// a round trip byte for byte and callers decode them into their own types.
func (at *Attachment) UnmarshalJSON(b []byte) error {
	var w struct {
		ContentType string          `json:"contentType"`
		ContentURL  string          `json:"contentUrl"`
		Content     json.RawMessage `json:"content"`
		Name        string          `json:"name"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*at = Attachment{ContentType: w.ContentType, ContentURL: w.ContentURL, Name: w.Name}
	if len(w.Content) > 0 && string(w.Content) != "null" {
		at.Content = w.Content
	}
	return nil
}

// Activity is one Bot Framework activity, inbound or outbound. Fields we do not use
// are dropped on decode; the ones that are channel specific stay raw JSON so that
// nothing is lost and decoding never fails on shapes we did not anticipate.
type Activity struct {
	Type             string              `json:"type"`
	ID               string              `json:"id,omitempty"`
	Timestamp        *time.Time          `json:"timestamp,omitempty"`
	LocalTimestamp   *time.Time          `json:"localTimestamp,omitempty"`
	ServiceURL       string              `json:"serviceUrl,omitempty"`
	ChannelID        string              `json:"channelId,omitempty"`
	From             ChannelAccount      `json:"from,omitzero"`
	Conversation     ConversationAccount `json:"conversation,omitzero"`
	Recipient        ChannelAccount      `json:"recipient,omitzero"`
	Text             string              `json:"text,omitempty"`
	TextFormat       string              `json:"textFormat,omitempty"`
	Locale           string              `json:"locale,omitempty"`
	Summary          string              `json:"summary,omitempty"`
	InputHint        string              `json:"inputHint,omitempty"`
	AttachmentLayout string              `json:"attachmentLayout,omitempty"`
	ReplyToID        string              `json:"replyToId,omitempty"`
	Name             string              `json:"name,omitempty"`
	Action           string              `json:"action,omitempty"`
	Attachments      []Attachment        `json:"attachments,omitempty"`
	Entities         []json.RawMessage   `json:"entities,omitempty"`
	ChannelData      json.RawMessage     `json:"channelData,omitempty"`
	Value            json.RawMessage     `json:"value,omitempty"`
	MembersAdded     []ChannelAccount    `json:"membersAdded,omitempty"`
	MembersRemoved   []ChannelAccount    `json:"membersRemoved,omitempty"`
}

// TenantInfo identifies the Microsoft Entra tenant an activity comes from.
type TenantInfo struct {
	ID string `json:"id,omitempty"`
}

// TeamInfo is set when the activity happens in a team's channel.
type TeamInfo struct {
	ID         string `json:"id,omitempty"`
	Name       string `json:"name,omitempty"`
	AADGroupID string `json:"aadGroupId,omitempty"`
}

// ChannelInfo is the team channel of the activity.
type ChannelInfo struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// MeetingInfo is set when the activity happens in a meeting chat.
type MeetingInfo struct {
	ID string `json:"id,omitempty"`
}

// SourceInfo says where in the client an activity was triggered ("message", "compose").
type SourceInfo struct {
	Name string `json:"name,omitempty"`
}

// TeamsChannelData is the Teams-specific part of an activity.
type TeamsChannelData struct {
	Tenant    *TenantInfo     `json:"tenant,omitempty"`
	Team      *TeamInfo       `json:"team,omitempty"`
	Channel   *ChannelInfo    `json:"channel,omitempty"`
	Meeting   *MeetingInfo    `json:"meeting,omitempty"`
	Source    *SourceInfo     `json:"source,omitempty"`
	EventType string          `json:"eventType,omitempty"`
	Settings  json.RawMessage `json:"settings,omitempty"`
}

func invalid(msg string, cause error) error {
	return apperr.Wrap(apperr.Invalid, msg, cause)
}

func isJSONEmpty(b json.RawMessage) bool {
	s := strings.TrimSpace(string(b))
	return s == "" || s == "null"
}

// TeamsData decodes the channel data. An activity without channel data gets an empty
// struct, so callers can test fields without a nil check on the result.
func (a *Activity) TeamsData() (*TeamsChannelData, error) {
	var d TeamsChannelData
	if isJSONEmpty(a.ChannelData) {
		return &d, nil
	}
	if err := json.Unmarshal(a.ChannelData, &d); err != nil {
		return nil, invalid("The Teams channel data is not valid.", err)
	}
	return &d, nil
}

// TenantID prefers channelData.tenant.id because Teams always sets it there, while
// conversation.tenantId is missing on some activity types.
func (a *Activity) TenantID() string {
	if d, err := a.TeamsData(); err == nil && d.Tenant != nil && d.Tenant.ID != "" {
		return d.Tenant.ID
	}
	return a.Conversation.TenantID
}

type mentionEntity struct {
	Type      string         `json:"type"`
	Text      string         `json:"text"`
	Mentioned ChannelAccount `json:"mentioned"`
}

// TextWithoutMention returns what the user asked the bot, without the @mention that
// Teams puts into the text of every group and channel message addressed to it.
// Only the bot's own mentions go: a mention of a colleague is part of the request.
func (a *Activity) TextWithoutMention() string {
	text := a.Text
	removed := false
	for _, raw := range a.Entities {
		var m mentionEntity
		if json.Unmarshal(raw, &m) != nil || m.Type != "mention" || m.Text == "" {
			continue
		}
		if a.Recipient.ID == "" || m.Mentioned.ID != a.Recipient.ID {
			continue
		}
		if i := strings.Index(text, m.Text); i >= 0 {
			text = text[:i] + text[i+len(m.Text):]
			removed = true
		}
	}
	if !removed {
		// Some clients (the Playground, older Teams builds) send the mention without
		// an entity; strip a leading one that names the bot.
		t := strings.TrimSpace(text)
		if strings.HasPrefix(strings.ToLower(t), "<at>") {
			if end := strings.Index(strings.ToLower(t), "</at>"); end >= 0 {
				name := strings.TrimSpace(html.UnescapeString(t[len("<at>"):end]))
				if a.Recipient.Name == "" || strings.EqualFold(name, a.Recipient.Name) {
					text = t[end+len("</at>"):]
				}
			}
		}
	}
	return strings.TrimSpace(html.UnescapeString(text))
}

// NewMessage is a plain text message ready to send.
func NewMessage(text string) *Activity {
	return &Activity{Type: ActivityMessage, Text: text}
}

// NewCardMessage is a message with a single Adaptive Card and no text: with text as
// well, Teams (and the Playground) split it into two messages and the send returns
// no id, so the card could never be updated.
func NewCardMessage(card any) *Activity {
	return &Activity{Type: ActivityMessage, Attachments: []Attachment{{ContentType: ContentTypeAdaptiveCard, Content: card}}}
}

// ActionValue is the value of an adaptiveCard/action invoke (Action.Execute).
// State carries the code that teams-js authentication.notifySuccess passed back
// after a loginRequest.
type ActionValue struct {
	Action struct {
		Type string          `json:"type"`
		ID   string          `json:"id"`
		Verb string          `json:"verb"`
		Data json.RawMessage `json:"data"`
	} `json:"action"`
	Trigger string `json:"trigger"`
	State   string `json:"state"`
}

// ActionValue decodes the value of an adaptiveCard/action invoke.
func (a *Activity) ActionValue() (*ActionValue, error) {
	if isJSONEmpty(a.Value) {
		return nil, apperr.New(apperr.Invalid, "The card action carries no value.")
	}
	var v ActionValue
	if err := json.Unmarshal(a.Value, &v); err != nil {
		return nil, invalid("The card action is not valid.", err)
	}
	return &v, nil
}

// TaskValue is the value of a task/fetch or task/submit invoke (dialogs).
type TaskValue struct {
	Data    json.RawMessage `json:"data"`
	Context json.RawMessage `json:"context"`
}

// TaskValue decodes the value of a task/fetch or task/submit invoke.
func (a *Activity) TaskValue() (*TaskValue, error) {
	if isJSONEmpty(a.Value) {
		return nil, apperr.New(apperr.Invalid, "The dialog request carries no value.")
	}
	var v TaskValue
	if err := json.Unmarshal(a.Value, &v); err != nil {
		return nil, invalid("The dialog request is not valid.", err)
	}
	return &v, nil
}

// SearchValue is the value of an application/search invoke (Input.ChoiceSet typeahead).
type SearchValue struct {
	Kind         string `json:"kind"`
	QueryText    string `json:"queryText"`
	Dataset      string `json:"dataset"`
	QueryOptions struct {
		Skip int `json:"skip"`
		Top  int `json:"top"`
	} `json:"queryOptions"`
}

// SearchValue decodes the value of an application/search invoke. Negative paging
// values are hostile or broken input and are clamped to zero.
func (a *Activity) SearchValue() (*SearchValue, error) {
	if isJSONEmpty(a.Value) {
		return nil, apperr.New(apperr.Invalid, "The search request carries no value.")
	}
	var v SearchValue
	if err := json.Unmarshal(a.Value, &v); err != nil {
		return nil, invalid("The search request is not valid.", err)
	}
	v.QueryOptions.Skip = max(v.QueryOptions.Skip, 0)
	v.QueryOptions.Top = max(v.QueryOptions.Top, 0)
	return &v, nil
}
