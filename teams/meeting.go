package teams

import (
	"encoding/json"
	"strings"
	"time"
)

// Meeting event names: event activities Teams sends to a bot installed in a
// meeting's chat when the app has the OnlineMeeting.ReadBasic.Chat (channel
// meetings: ChannelMeeting.ReadBasic.Group) resource-specific permission, and
// only for meetings that were actually started.
const (
	EventMeetingStart = "application/vnd.microsoft.meetingStart"
	EventMeetingEnd   = "application/vnd.microsoft.meetingEnd"
)

// MeetingEvent is the value of a meetingStart or meetingEnd event. Teams spells
// its keys with capitals ("Id", "JoinUrl", "Title", "MeetingType",
// "StartTime"/"EndTime"); encoding/json matches them case-insensitively.
type MeetingEvent struct {
	ID          string `json:"Id"`
	JoinURL     string `json:"JoinUrl"`
	Title       string `json:"Title"`
	MeetingType string `json:"MeetingType"`
	StartTime   string `json:"StartTime"`
	EndTime     string `json:"EndTime"`
}

// Start and End are the event's times; zero when absent or unreadable (they
// are shown, never relied on).
func (e *MeetingEvent) Start() time.Time { return parseEventTime(e.StartTime) }
func (e *MeetingEvent) End() time.Time   { return parseEventTime(e.EndTime) }

func parseEventTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// MeetingEvent decodes the value of a meeting event activity.
func (a *Activity) MeetingEvent() (*MeetingEvent, error) {
	var v MeetingEvent
	if isJSONEmpty(a.Value) {
		return nil, invalid("The meeting event has no value.", nil)
	}
	if err := json.Unmarshal(a.Value, &v); err != nil {
		return nil, invalid("The meeting event's value is not valid.", err)
	}
	return &v, nil
}
