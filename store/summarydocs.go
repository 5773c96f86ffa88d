package store

import (
	"time"

	"github.com/sally-devops/devopsbot"
)

// The nested parts of a stored summary. They mirror the domain types field for
// field (Go converts between structs that differ only in tags), so the domain
// carries no storage tags while the stored field names stay what they have
// always been; adding a field to the domain type breaks these conversions at
// compile time until the store names it.

type meetingDoc struct {
	Title        string    `bson:"title"`
	Start        time.Time `bson:"start,omitempty"`
	End          time.Time `bson:"end,omitempty"`
	Organizer    string    `bson:"organizer,omitempty"`
	Participants []string  `bson:"participants,omitempty"`
	JoinURL      string    `bson:"joinUrl,omitempty"`
}

type insightDoc struct {
	ID     string         `bson:"id"`
	Kind   devopsbot.Kind `bson:"kind"`
	Text   string         `bson:"text"`
	Owner  string         `bson:"owner,omitempty"`
	Due    string         `bson:"due,omitempty"`
	Source string         `bson:"source,omitempty"`
}

type postedCardDoc struct {
	ActivityID string   `bson:"activityId"`
	InsightIDs []string `bson:"insightIds"`
}

// insightDocs never returns nil: a stored summary always has an insights array.
func insightDocs(in []devopsbot.Insight) []insightDoc {
	out := make([]insightDoc, len(in))
	for i, x := range in {
		out[i] = insightDoc(x)
	}
	return out
}

func insightsOf(in []insightDoc) []devopsbot.Insight {
	if in == nil {
		return nil
	}
	out := make([]devopsbot.Insight, len(in))
	for i, x := range in {
		out[i] = devopsbot.Insight(x)
	}
	return out
}

// postedCardDocs never returns nil: a stored summary always has a cards array.
func postedCardDocs(in []devopsbot.PostedCard) []postedCardDoc {
	out := make([]postedCardDoc, len(in))
	for i, x := range in {
		out[i] = postedCardDoc(x)
	}
	return out
}

func postedCardsOf(in []postedCardDoc) []devopsbot.PostedCard {
	if in == nil {
		return nil
	}
	out := make([]devopsbot.PostedCard, len(in))
	for i, x := range in {
		out[i] = devopsbot.PostedCard(x)
	}
	return out
}
