package teams

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sally-devops/devopsbot/apperr"
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

// MeetingDetails is the Bot Framework's answer to GET
// {serviceUrl}/v1/meetings/{meetingId} (Teams "meeting details" API): who
// organized the meeting and its Microsoft Graph id. Graph serves a meeting's
// insights and transcripts in its organizer's name, and the meetingEnd event
// names whoever the event came from, not necessarily the organizer.
type MeetingDetails struct {
	Details struct {
		ID                string `json:"id"`
		MSGraphResourceID string `json:"msGraphResourceId"`
		JoinURL           string `json:"joinUrl"`
		Title             string `json:"title"`
		Type              string `json:"type"`
	} `json:"details"`
	Organizer struct {
		ID          string `json:"id"`
		AADObjectID string `json:"aadObjectId"`
		TenantID    string `json:"tenantId"`
	} `json:"organizer"`
}

// GetMeetingDetails asks Teams for a meeting's organizer and Graph id. The
// meeting id is the one in the activity's channelData.meeting.id (or the
// meetingEnd event's Id).
func (c *Connector) GetMeetingDetails(ctx context.Context, serviceURL, meetingID string) (*MeetingDetails, error) {
	base, err := baseURL(serviceURL)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(meetingID) == "" || len(meetingID) > 1024 {
		return nil, apperr.New(apperr.Invalid, "The meeting id is missing.")
	}
	var out MeetingDetails
	if err := c.do(ctx, "meetings.get", http.MethodGet, base+"/v1/meetings/"+url.PathEscape(meetingID), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
