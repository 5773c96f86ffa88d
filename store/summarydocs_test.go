package store

import (
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sally-devops/devopsbot"
)

// Stored field names are a contract with every summary already in a database:
// the domain types carry no tags, so this pins the names the store writes.
func TestStoredSummaryFieldNames(t *testing.T) {
	sm := devopsbot.Summary{
		Meeting: devopsbot.Meeting{Title: "Sync", Start: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC),
			JoinURL: "https://teams.microsoft.com/l/meetup-join/x"},
		Insights: []devopsbot.Insight{
			{ID: "i1", Kind: devopsbot.KindTask, Text: "Fix login", Owner: "Lee Gu", Due: "2026-03-05"},
			{ID: "i2", Kind: devopsbot.KindDecision, Text: "Ship Friday"},
		},
		Cards: []devopsbot.PostedCard{{ActivityID: "a1", InsightIDs: []string{"i1"}}},
	}
	raw, err := bson.Marshal(summaryDoc{ID: "s", Meeting: meetingDoc(sm.Meeting), Insights: insightDocs(sm.Insights),
		Cards: postedCardDocs(sm.Cards)})
	if err != nil {
		t.Fatal(err)
	}
	doc := bson.Raw(raw)
	for _, path := range [][]string{
		{"meeting", "title"}, {"meeting", "start"}, {"meeting", "joinUrl"},
		{"insights", "0", "id"}, {"insights", "0", "kind"}, {"insights", "0", "text"}, {"insights", "0", "owner"},
		{"insights", "0", "due"}, {"cards", "0", "activityId"}, {"cards", "0", "insightIds"},
	} {
		if _, err := doc.LookupErr(path...); err != nil {
			t.Errorf("stored summary has no %v: %v", path, err)
		}
	}
	// Empty optional parts are left out, as they always were.
	for _, path := range [][]string{{"meeting", "end"}, {"meeting", "organizer"}, {"insights", "1", "owner"}, {"insights", "1", "source"}} {
		if _, err := doc.LookupErr(path...); err == nil {
			t.Errorf("stored summary writes empty %v", path)
		}
	}
	back := (&summaryDoc{Meeting: meetingDoc(sm.Meeting), Insights: insightDocs(sm.Insights), Cards: postedCardDocs(sm.Cards)}).summary()
	if back.Insights[0] != sm.Insights[0] || back.Meeting.JoinURL != sm.Meeting.JoinURL || back.Cards[0].InsightIDs[0] != "i1" {
		t.Errorf("summary does not survive its document: %+v", back)
	}
}
