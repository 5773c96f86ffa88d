package devopsbot

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// DeliveryState is where a delivery stands.
type DeliveryState string

const (
	DeliveryPending DeliveryState = "pending" // not posted yet; NextAttemptAt says when to try
	DeliveryPosted  DeliveryState = "posted"  // the cards are in the chat (ActivityIDs)
	DeliveryFailed  DeliveryState = "failed"  // given up: Reason says why
)

// Delivery is the posting of one summary's cards to one chat.
type Delivery struct {
	SummaryID      string // also the record's id: a summary belongs to one chat
	SourceID       string // the sender's summary id, for the status URL
	ConversationID string
	ServiceURL     string
	State          DeliveryState
	Attempts       int
	NextAttemptAt  time.Time
	GiveUpAt       time.Time // after this a failing delivery is failed for good
	Reason         string    // the last failure, safe to show the sender
	ActivityIDs    []string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	ExpiresAt      time.Time
}

// MeetingJobState is where a meeting job stands.
type MeetingJobState string

const (
	MeetingJobPending MeetingJobState = "pending" // looking; NextAttemptAt says when next
	MeetingJobDone    MeetingJobState = "done"    // a summary was handed to delivery (SummaryID)
	MeetingJobGaveUp  MeetingJobState = "gaveup"  // nothing came in time, or nothing may be read: Reason
)

// MeetingJob is the watch over one ended meeting's content.
type MeetingJob struct {
	ID             string // MeetingJobID(conversation, meeting)
	ConversationID string
	ServiceURL     string
	TenantID       string
	MeetingID      string // Teams' meeting id from the meetingEnd event
	JoinURL        string
	Title          string
	Start, End     time.Time
	UserID         string // whose Graph view reads the meeting: the organizer once known
	GraphMeetingID string // Graph's onlineMeeting id, once found by the join URL
	State          MeetingJobState
	Attempts       int
	NextAttemptAt  time.Time
	GiveUpAt       time.Time
	Reason         string // the last reason content was not read, safe to show
	InsightsDenied string // Graph's 403 for Copilot insights (then only transcripts are tried)
	Source         string // what the summary was built from (SourceCopilot/SourceTranscript)
	SummaryID      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	ExpiresAt      time.Time
}

// MeetingJobID names the job of a meeting in a chat: the same meeting ending
// twice (Teams repeats events; a meeting restarted) is one job.
func MeetingJobID(conversationID, meetingID string) string {
	h := sha256.Sum256([]byte(conversationID + "\x00" + meetingID))
	return "mtg-" + hex.EncodeToString(h[:16])
}

// FillNew gives a delivery being recorded for the first time what it starts
// with where its creator left it empty: pending, created and due now, and kept
// as long as a summary (it names the summary's chat). UpdatedAt is always now.
// Every store applies it when it first records a delivery.
func (d *Delivery) FillNew(now time.Time, keep time.Duration) {
	fillNew(&d.State, DeliveryPending, &d.CreatedAt, &d.NextAttemptAt, &d.ExpiresAt, now, keep)
	d.UpdatedAt = now
}

// FillNew does for a meeting job what Delivery.FillNew does for a delivery.
func (j *MeetingJob) FillNew(now time.Time, keep time.Duration) {
	fillNew(&j.State, MeetingJobPending, &j.CreatedAt, &j.NextAttemptAt, &j.ExpiresAt, now, keep)
	j.UpdatedAt = now
}

func fillNew[S ~string](state *S, pending S, created, next, expires *time.Time, now time.Time, keep time.Duration) {
	if *state == "" {
		*state = pending
	}
	if created.IsZero() {
		*created = now
	}
	if next.IsZero() {
		*next = now
	}
	if expires.IsZero() {
		*expires = now.Add(keep)
	}
}
