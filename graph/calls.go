package graph

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sally-devops/devopsbot/apperr"
)

// OnlineMeeting is the part of Graph's onlineMeeting the bot reads.
type OnlineMeeting struct {
	ID            string    `json:"id"`
	Subject       string    `json:"subject"`
	JoinWebURL    string    `json:"joinWebUrl"`
	StartDateTime time.Time `json:"startDateTime"`
	EndDateTime   time.Time `json:"endDateTime"`
	Participants  struct {
		Organizer struct {
			Identity struct {
				User struct {
					ID          string `json:"id"`
					DisplayName string `json:"displayName"`
				} `json:"user"`
			} `json:"identity"`
		} `json:"organizer"`
	} `json:"participants"`
}

// OrganizerID is the organizer's Entra object id, when Graph says it.
func (m *OnlineMeeting) OrganizerID() string { return m.Participants.Organizer.Identity.User.ID }

// AIInsight is a callAiInsight: Copilot's notes and action items for a meeting.
type AIInsight struct {
	ID                   string        `json:"id"`
	CallID               string        `json:"callId"`
	ContentCorrelationID string        `json:"contentCorrelationId"`
	CreatedDateTime      time.Time     `json:"createdDateTime"`
	EndDateTime          time.Time     `json:"endDateTime"`
	MeetingNotes         []MeetingNote `json:"meetingNotes"`
	ActionItems          []ActionItem  `json:"actionItems"`
}

// MeetingNote is one Copilot note with its subpoints.
type MeetingNote struct {
	Title     string         `json:"title"`
	Text      string         `json:"text"`
	Subpoints []NoteSubpoint `json:"subpoints"`
}

// NoteSubpoint is a detail of a MeetingNote.
type NoteSubpoint struct {
	Title string `json:"title"`
	Text  string `json:"text"`
}

// ActionItem is one Copilot action item.
type ActionItem struct {
	Title            string `json:"title"`
	Text             string `json:"text"`
	OwnerDisplayName string `json:"ownerDisplayName"`
}

// Transcript is a callTranscript's metadata.
type Transcript struct {
	ID                   string    `json:"id"`
	MeetingID            string    `json:"meetingId"`
	CallID               string    `json:"callId"`
	ContentCorrelationID string    `json:"contentCorrelationId"`
	CreatedDateTime      time.Time `json:"createdDateTime"`
	EndDateTime          time.Time `json:"endDateTime"`
}

func needIDs(what string, ids ...string) error {
	for _, id := range ids {
		if strings.TrimSpace(id) == "" || len(id) > 2048 {
			return apperr.New(apperr.Invalid, "A Microsoft Graph "+what+" request is missing an id.")
		}
	}
	return nil
}

// FindMeetingByJoinURL finds the online meeting behind a join URL:
// GET /users/{userId}/onlineMeetings?$filter=JoinWebUrl eq '{joinUrl}'. The
// join URL is the only meeting handle a meetingEnd event gives that Graph's
// onlineMeeting API takes. NotFound when Graph lists none.
func (c *Client) FindMeetingByJoinURL(ctx context.Context, userID, joinURL string) (*OnlineMeeting, error) {
	if err := needIDs("meeting", userID, joinURL); err != nil {
		return nil, err
	}
	q := url.Values{"$filter": {"JoinWebUrl eq '" + strings.ReplaceAll(joinURL, "'", "''") + "'"}}
	ms, err := list[OnlineMeeting](ctx, c, c.path(q, "users", userID, "onlineMeetings"), "meeting")
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 || ms[0].ID == "" {
		return nil, apperr.New(apperr.NotFound, "Microsoft Graph knows no meeting with that join link.")
	}
	return &ms[0], nil
}

// ListAIInsights lists a meeting's Copilot insights (ids and times):
// GET /copilot/users/{userId}/onlineMeetings/{meetingId}/aiInsights.
func (c *Client) ListAIInsights(ctx context.Context, userID, meetingID string) ([]AIInsight, error) {
	if err := needIDs("meeting insights", userID, meetingID); err != nil {
		return nil, err
	}
	return list[AIInsight](ctx, c, c.copilotPath(nil, "users", userID, "onlineMeetings", meetingID, "aiInsights"), "meeting insights")
}

// GetAIInsight reads one set of Copilot insights with its notes and action items.
func (c *Client) GetAIInsight(ctx context.Context, userID, meetingID, insightID string) (*AIInsight, error) {
	if err := needIDs("meeting insights", userID, meetingID, insightID); err != nil {
		return nil, err
	}
	var in AIInsight
	u := c.copilotPath(nil, "users", userID, "onlineMeetings", meetingID, "aiInsights", insightID)
	if err := c.get(ctx, u, "application/json", "meeting insights", func(r *http.Response) error { return decodeJSON(r, &in, "meeting insights") }); err != nil {
		return nil, err
	}
	return &in, nil
}

// copilotPath is base + /copilot/...: the insights live in the Copilot namespace.
func (c *Client) copilotPath(q url.Values, segments ...string) *url.URL {
	return c.path(q, append([]string{"copilot"}, segments...)...)
}

// ListTranscripts lists a meeting's transcripts:
// GET /users/{userId}/onlineMeetings/{meetingId}/transcripts.
func (c *Client) ListTranscripts(ctx context.Context, userID, meetingID string) ([]Transcript, error) {
	if err := needIDs("transcripts", userID, meetingID); err != nil {
		return nil, err
	}
	return list[Transcript](ctx, c, c.path(nil, "users", userID, "onlineMeetings", meetingID, "transcripts"), "transcripts")
}

// TranscriptContent reads a transcript as WebVTT:
// GET .../transcripts/{id}/content?$format=text/vtt.
func (c *Client) TranscriptContent(ctx context.Context, userID, meetingID, transcriptID string) (string, error) {
	if err := needIDs("transcript", userID, meetingID, transcriptID); err != nil {
		return "", err
	}
	var out string
	u := c.path(url.Values{"$format": {"text/vtt"}}, "users", userID, "onlineMeetings", meetingID, "transcripts", transcriptID, "content")
	err := c.get(ctx, u, "text/vtt", "transcript", func(r *http.Response) error {
		raw, err := io.ReadAll(io.LimitReader(r.Body, maxTranscriptBody+1))
		if err != nil {
			return apperr.Wrap(apperr.Unavailable, "Microsoft Graph's transcript was cut off.", err)
		}
		if len(raw) > maxTranscriptBody {
			return apperr.New(apperr.Invalid, "The meeting transcript is too large to read (over 8 MB).")
		}
		out = string(raw)
		return nil
	})
	return out, err
}
