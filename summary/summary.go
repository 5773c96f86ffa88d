// Package summary holds a meeting summary and its insights as the bot understands
// them, whether a meeting-notes service delivered them as JSON or a person pasted
// them into the chat. It does no I/O.
package summary

import "time"

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
	Title        string    `json:"title" bson:"title"`
	Start        time.Time `json:"start,omitzero" bson:"start,omitempty"`
	End          time.Time `json:"end,omitzero" bson:"end,omitempty"`
	Organizer    string    `json:"organizer,omitempty" bson:"organizer,omitempty"`
	Participants []string  `json:"participants,omitempty" bson:"participants,omitempty"`
	JoinURL      string    `json:"joinUrl,omitempty" bson:"joinUrl,omitempty"`
}

// Insight is one thing worth acting on. ID is unique within its summary.
type Insight struct {
	ID    string `json:"id" bson:"id"`
	Kind  Kind   `json:"kind" bson:"kind"`
	Text  string `json:"text" bson:"text"`
	Owner string `json:"owner,omitempty" bson:"owner,omitempty"`
	Due   string `json:"due,omitempty" bson:"due,omitempty"` // as given (often YYYY-MM-DD); shown, never parsed for logic
	// Source says where an insight came from when it was not written by a
	// person: SourceTranscript (the bot read it out of what was said, so people
	// should check it before creating work) or SourceCopilot. Empty for pasted
	// and delivered summaries.
	Source string `json:"source,omitempty" bson:"source,omitempty"`
}

// Sources of insights that no person wrote.
const (
	SourceTranscript = "transcript"
	SourceCopilot    = "copilot"
)
