package devopsbot

import "time"

// Actions on an insight.
const (
	ActionCreate  = "create"
	ActionComment = "comment"
)

// ActionKey names one thing done to one insight: creating its work item, or adding
// it as a comment to a given work item. At most one of each may happen.
type ActionKey struct {
	SummaryID, InsightID string
	Action               string // "create" | "comment"
	Target               string // work item id for comments, "" for create
}

// LinkState is where an action is: claimed and running, or finished.
type LinkState string

const (
	LinkPending LinkState = "pending"
	LinkDone    LinkState = "done"
)

// InsightLink is the record that an insight was (or is being) turned into a work
// item or a comment, and by whom. It is what stops two clicks, two people or two
// replicas from creating the same work item twice.
type InsightLink struct {
	Key           ActionKey
	State         LinkState
	User          UserKey
	UserName      string
	OrgURL        string
	Project       string
	WorkItemID    int
	WorkItemType  string
	WorkItemTitle string
	WorkItemURL   string
	CommentID     int
	// Marker is written into the work item (or comment) the action creates, so that
	// after a crash a retry can search for it instead of creating a duplicate.
	Marker         string
	CreatedAt      time.Time
	CompletedAt    time.Time
	ClaimExpiresAt time.Time
}
