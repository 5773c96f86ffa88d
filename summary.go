package devopsbot

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/sally-devops/devopsbot/apperr"
)

// Kind is what an insight is. The four kinds are the ones the product promises.
type Kind string

const (
	KindInsight  Kind = "insight"
	KindDecision Kind = "decision"
	KindNextStep Kind = "next_step"
	KindTask     Kind = "task"
)

// Kinds lists the kinds in the order cards show them.
var Kinds = []Kind{KindTask, KindNextStep, KindDecision, KindInsight}

// Meeting describes the meeting an insight came from. Everything but Title is optional.
type Meeting struct {
	Title        string    `json:"title"`
	Start        time.Time `json:"start,omitzero"`
	End          time.Time `json:"end,omitzero"`
	Organizer    string    `json:"organizer,omitempty"`
	Participants []string  `json:"participants,omitempty"`
	JoinURL      string    `json:"joinUrl,omitempty"`
}

// Insight is one thing worth acting on. ID is unique within its summary.
type Insight struct {
	ID    string `json:"id"`
	Kind  Kind   `json:"kind"`
	Text  string `json:"text"`
	Owner string `json:"owner,omitempty"`
	Due   string `json:"due,omitempty"` // as given (often YYYY-MM-DD); shown, never parsed for logic
	// Source says where an insight came from when it was not written by a
	// person: SourceTranscript (the bot read it out of what was said, so people
	// should check it before creating work) or SourceCopilot. Empty for pasted
	// and delivered summaries.
	Source string `json:"source,omitempty"`
}

// Sources of insights that no person wrote.
const (
	SourceTranscript = "transcript"
	SourceCopilot    = "copilot"
)

// Prefs are a user's defaults for new work items, so the form comes pre-filled.
type Prefs struct {
	Project, WorkItemType, AreaPath, IterationPath string
	UpdatedAt                                      time.Time
}

// AuditRecord is one thing the bot did on a user's behalf in Azure DevOps (or
// failed to do), kept for AuditRetention so admins and users can see who did what.
type AuditRecord struct {
	Time                  time.Time
	User                  UserKey
	UserName, Action      string
	OrgURL, Project       string
	WorkItemID, CommentID int
	SummaryID, InsightID  string
	Outcome, Detail       string
}

// ConversationRef is what the bot needs to write into a chat later (proactively):
// the Bot Framework's conversation reference, reduced to our fields.
type ConversationRef struct {
	ConversationID, ServiceURL, TenantID, BotID, BotName, ConversationType string
	UserAADObjectID                                                        string // personal chats: the user
	UpdatedAt                                                              time.Time
}

// PostedCard records a card the bot posted for a summary, so it can be updated when
// an insight is acted on.
type PostedCard struct {
	ActivityID string
	InsightIDs []string
}

// Summary is a meeting summary as delivered to one chat.
type Summary struct {
	ID             string // ours: derived from SourceID+ConversationID when SourceID is set
	SourceID       string // the sender's id, or "" for pasted text
	ContentKey     string // summary.ContentKey of what it says; a paste's ID is derived from it
	ConversationID string
	Meeting        Meeting
	Insights       []Insight
	Cards          []PostedCard
	PostedBy       string
	CreatedAt      time.Time
	ExpiresAt      time.Time
}

// SummaryID is the id a summary with a source id is stored under: the same
// delivery to the same chat always maps to the same summary, in every store.
func SummaryID(sourceID, conversationID string) string {
	return summaryHash("summary", sourceID, conversationID)
}

// ContentSummaryID is the id a summary without a source id but with a content
// key (a paste) is stored under: the same content pasted into the same chat
// always maps to the same summary.
func ContentSummaryID(contentKey, conversationID string) string {
	return summaryHash("pasted", contentKey, conversationID)
}

// StoredSummaryID is the id a store keeps sm under: derived from its source
// id (SummaryID) or else its content key (ContentSummaryID) in its chat, so a
// repeat finds the first one; else its own ID, checked. "" means sm names
// none and the store picks a random one. An error says why sm cannot be kept.
func StoredSummaryID(sm *Summary) (string, error) {
	if sm == nil {
		return "", apperr.New(apperr.Invalid, "No summary to save.")
	}
	if err := CheckConversationID(sm.ConversationID); err != nil {
		return "", err
	}
	switch {
	case sm.SourceID != "":
		if len(sm.SourceID) > MaxIDLen {
			return "", apperr.New(apperr.Invalid, "The summary id is too long.")
		}
		return SummaryID(sm.SourceID, sm.ConversationID), nil
	case sm.ContentKey != "":
		if len(sm.ContentKey) > MaxIDLen {
			return "", apperr.New(apperr.Invalid, "The summary's content key is too long.")
		}
		return ContentSummaryID(sm.ContentKey, sm.ConversationID), nil
	case sm.ID == "":
		return "", nil
	}
	return sm.ID, CheckID("summary id", sm.ID)
}

// summaryHash is a fixed-length id (the bot puts summary ids into other ids
// and card data); the length prefixes keep ("ab","c") and ("a","bc") apart.
// Stored summaries carry it: it must never change.
func summaryHash(kind, part, conversationID string) string {
	h := sha256.New()
	for _, p := range []string{kind, part, conversationID} {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// MaxAuditDetail bounds an audit record's free text, in bytes: the detail is
// an error's kind or a short reason, never a payload.
const MaxAuditDetail = 4096

// Bounded returns r with Detail cut to at most MaxAuditDetail bytes, at a
// character boundary (a cut inside a UTF-8 sequence would store invalid text).
func (r AuditRecord) Bounded() AuditRecord {
	if len(r.Detail) <= MaxAuditDetail {
		return r
	}
	cut := MaxAuditDetail
	for cut > 0 && !utf8.RuneStart(r.Detail[cut]) {
		cut--
	}
	r.Detail = r.Detail[:cut]
	return r
}
