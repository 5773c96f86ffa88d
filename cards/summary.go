package cards

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/sally-devops/devopsbot/summary"
)

// MaxCardBytes keeps each summary card's JSON well under the ~28 KB Teams
// accepts for a whole message, leaving room for the activity around it.
const MaxCardBytes = 24 * 1024

// maxShownText caps an insight's text on the shared card; the full text is
// in the dialog, and a bounded block keeps the split predictable.
const maxShownText = 1000

// SummaryView is what the shared summary card shows.
type SummaryView struct {
	Demo      bool
	SummaryID string
	Meeting   summary.Meeting
	Insights  []InsightView
}

// InsightView is one insight and what people already did with it.
type InsightView struct {
	summary.Insight
	Results []ResultView
}

// ResultView is a work item created from an insight, or a comment added for
// it, as shown on the summary card and in result cards.
type ResultView struct {
	Demo         bool
	Comment      bool   // a comment on WorkItemID rather than a new work item
	WorkItemID   int    //
	WorkItemType string // "Task", "Bug"...
	Title        string // the work item's title
	URL          string // the work item's page for people (https)
	By           string // who did it
	At           time.Time
}

var kindHeading = map[summary.Kind]string{
	summary.KindTask:     "Tasks",
	summary.KindNextStep: "Next steps",
	summary.KindDecision: "Decisions",
	summary.KindInsight:  "Insights",
}

// Summary renders the shared summary as one or more cards, each under
// MaxCardBytes: insights grouped by kind, each with its owner, due date,
// results and the two buttons that open the forms in a dialog.
func Summary(v SummaryView) []Card {
	header := []any{heading(Escape(orDefault(v.Meeting.Title, "Meeting summary")))}
	if when := meetingWhen(v.Meeting); when != "" {
		header = append(header, text(when, "isSubtle", "true", "spacing", "None"))
	}

	// Blocks in display order; a kind heading travels with its first insight.
	var blocks [][]any
	for _, k := range summary.Kinds {
		first := true
		for _, in := range v.Insights {
			if in.Kind != k {
				continue
			}
			var b []any
			if first {
				b = append(b, text(kindHeading[k], "weight", "Bolder", "spacing", "Large", "separator", "true"))
				first = false
			}
			b = append(b, insightBlock(v.SummaryID, in))
			blocks = append(blocks, b)
		}
	}
	if len(blocks) == 0 {
		blocks = append(blocks, []any{text("This summary has no insights.", "isSubtle", "true")})
	}

	// Pack greedily, leaving room for the "part i of n" line added afterwards.
	budget := MaxCardBytes - 512 - size(newCard(Version, v.Demo, header))
	var parts [][]any
	var cur []any
	used := 0
	for _, b := range blocks {
		n := 0
		for _, e := range b {
			n += size(e) + 1
		}
		if len(cur) > 0 && used+n > budget {
			parts = append(parts, cur)
			cur, used = nil, 0
		}
		cur = append(cur, b...)
		used += n
	}
	parts = append(parts, cur)

	cards := make([]Card, 0, len(parts))
	for i, p := range parts {
		body := append([]any{}, header...)
		if len(parts) > 1 {
			body = append(body, text(fmt.Sprintf("Part %d of %d", i+1, len(parts)), "isSubtle", "true", "spacing", "None"))
		}
		body = append(body, p...)
		cards = append(cards, newCard(Version, v.Demo, body))
	}
	return cards
}

func insightBlock(summaryID string, in InsightView) map[string]any {
	items := []any{text(Escape(truncate(in.Text, maxShownText)))}
	var facts []string
	if in.Owner != "" {
		facts = append(facts, "Owner: "+Escape(in.Owner))
	}
	if in.Due != "" {
		facts = append(facts, "Due: "+Escape(in.Due))
	}
	if len(facts) > 0 {
		items = append(items, text(join(facts, " · "), "isSubtle", "true", "spacing", "None"))
	}
	var links []any
	for _, r := range in.Results {
		items = append(items, text(resultLine(r), "color", "Good", "spacing", "Small"))
		if isHTTPS(r.URL) && len(links) < 3 {
			links = append(links, openURL(fmt.Sprintf("Open %s", workItemName(r)), r.URL))
		}
	}
	buttons := append([]any{
		submit("Create work item", map[string]any{"msteams": map[string]any{"type": "task/fetch"}, "sally": "create", "summaryId": summaryID, "insightId": in.ID}),
		submit("Add comment", map[string]any{"msteams": map[string]any{"type": "task/fetch"}, "sally": "comment", "summaryId": summaryID, "insightId": in.ID}),
	}, links...)
	items = append(items, actionSet(buttons...))
	return map[string]any{"type": "Container", "spacing": "Medium", "items": items}
}

// resultLine reads "Created Task 1234: title (by Megan Bowen)".
func resultLine(r ResultView) string {
	var s string
	if r.Comment {
		s = "Commented on " + workItemName(r)
	} else {
		s = "Created " + workItemName(r)
	}
	if r.Title != "" {
		s += ": " + Escape(truncate(r.Title, 255))
	}
	if r.By != "" {
		s += " (by " + Escape(r.By) + ")"
	}
	return s
}

func workItemName(r ResultView) string {
	typ := r.WorkItemType
	if typ == "" {
		typ = "work item"
	}
	return Escape(typ) + " " + strconv.Itoa(r.WorkItemID)
}

// meetingWhen uses Teams' DATE and TIME functions so each reader sees the
// meeting in their own time zone and locale.
func meetingWhen(m summary.Meeting) string {
	if m.Start.IsZero() {
		return ""
	}
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
	s := fmt.Sprintf("{{DATE(%s, SHORT)}} {{TIME(%s)}}", ts(m.Start), ts(m.Start))
	if !m.End.IsZero() && !m.End.Before(m.Start) {
		s += fmt.Sprintf(" – {{TIME(%s)}}", ts(m.End))
	}
	return s
}

func size(v any) int {
	b, _ := json.Marshal(v)
	return len(b)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func join(parts []string, sep string) string {
	out := ""
	for i, p := range parts {
		if i > 0 {
			out += sep
		}
		out += p
	}
	return out
}
