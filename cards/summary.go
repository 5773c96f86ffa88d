package cards

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sally-devops/devopsbot"
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
	Meeting   devopsbot.Meeting
	Insights  []InsightView
}

// InsightView is one insight and what people already did with it.
type InsightView struct {
	devopsbot.Insight
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
	// Now, when set, is the work item as it stands now (a live view, status.go).
	Now *ItemNow
}

var kindHeading = map[devopsbot.Kind]string{
	devopsbot.KindTask:     "Tasks",
	devopsbot.KindNextStep: "Next steps",
	devopsbot.KindDecision: "Decisions",
	devopsbot.KindInsight:  "Insights",
}

// SummaryCard is one card of a summary and the insights it shows: the bot
// keeps the ids with the posted card, to know which card to update when one
// of them gets a result, and which card answers a click in place.
type SummaryCard struct {
	Card       Card
	InsightIDs []string // in display order
}

// Summary renders the shared summary as one or more cards, each under
// MaxCardBytes: insights grouped by kind, each with its owner, due date,
// results and the two buttons that open the forms in a dialog.
func Summary(v SummaryView) []SummaryCard {
	l := layoutSummary(v, "", false)
	out := make([]SummaryCard, 0, len(l.parts))
	for i := range l.parts {
		out = append(out, SummaryCard{Card: l.card(v, i, nil), InsightIDs: l.insightIDs[i]})
	}
	return out
}

// SummaryInPlace is the summary card that shows insightID, with panel (a form,
// a result or a message, built by this package's other functions) shown right
// under that insight. It is the answer to an in-card form step (Universal
// Actions): the person who clicked keeps every other insight and its buttons,
// and Cancel brings the plain card back. The packing into parts ignores the
// panel, so the part answered is the part that was posted.
func SummaryInPlace(v SummaryView, insightID string, panel Card) (Card, bool) {
	l := layoutSummary(v, insightID, hasInputs(panel))
	for i, ids := range l.insightIDs {
		for _, id := range ids {
			if id == insightID {
				return l.card(v, i, panelBlock(v.SummaryID, insightID, panel)), true
			}
		}
	}
	return nil, false
}

// maxShownPerKind insights of a kind show at once; the rest wait behind
// "Show N more" so a 20-insight summary can be scanned on a laptop or a phone.
const maxShownPerKind = 5

type summaryLayout struct {
	header     []any
	parts      [][]summaryBlock
	insightIDs [][]string
}

// summaryBlock is one insight's block (with its kind heading if it is the first
// of its kind in its part) or a "Show N more" toggle.
type summaryBlock struct {
	elems     []any
	insightID string
	focus     bool
}

// layoutSummary packs the summary into parts; focusID's insight stays visible,
// and with formOpen its own buttons give way to the form under it.
func layoutSummary(v SummaryView, focusID string, formOpen bool) summaryLayout {
	l := summaryLayout{header: []any{heading(Escape(orDefault(v.Meeting.Title, "Meeting summary")))}}
	if when := meetingWhen(v.Meeting); when != "" {
		l.header = append(l.header, text(when, "isSubtle", "true", "spacing", "None"))
	}
	if u := v.Meeting.JoinURL; strings.HasPrefix(u, "https://") && len(u) <= 2048 {
		// Back to the meeting: its chat, recap and recording live there.
		l.header = append(l.header, actionSet(openURL("Open the meeting", u)))
	}

	// Blocks in display order; a kind heading travels with its first insight.
	type block struct {
		elems   []any
		id      string
		kind    devopsbot.Kind
		ordinal int // position within its kind
	}
	var blocks []block
	allAnchor, allRow := allTasksButton(v) // alltasks.go
	for _, k := range devopsbot.Kinds {
		n := 0
		for i, in := range v.Insights {
			if in.Kind != k {
				continue
			}
			var b []any
			if n == 0 {
				b = append(b, text(kindHeading[k], "weight", "Bolder", "spacing", "Large", "separator", "true"))
			}
			if in.ID == allAnchor && allRow != nil {
				b = append(b, allRow)
			}
			ib := insightBlock(v.SummaryID, in)
			if in.ID == focusID && formOpen {
				// Its form is open right below: a second "Create work item" above
				// the form's own would read as two different buttons. A result
				// or a message keeps them, so the next step is one click away.
				dropFormButtons(ib)
			}
			if n >= maxShownPerKind && in.ID != focusID {
				ib["id"] = fmt.Sprintf("more-%d", i)
				ib["isVisible"] = false
			}
			b = append(b, ib)
			blocks = append(blocks, block{elems: b, id: in.ID, kind: k, ordinal: n})
			n++
		}
	}
	if len(blocks) == 0 {
		blocks = append(blocks, block{elems: []any{text("This summary has no insights.", "isSubtle", "true")}})
	}

	// Pack greedily, leaving room for the "part i of n" line and the toggles.
	budget := MaxCardBytes - 1024 - size(newCard(Version, v.Demo, l.header))
	var cur []summaryBlock
	var ids []string
	used := 0
	flush := func() {
		l.parts = append(l.parts, withToggles(cur))
		l.insightIDs = append(l.insightIDs, ids)
		cur, ids, used = nil, nil, 0
	}
	for _, b := range blocks {
		n := 0
		for _, e := range b.elems {
			n += size(e) + 1
		}
		if len(cur) > 0 && used+n > budget {
			flush()
		}
		cur = append(cur, summaryBlock{elems: b.elems, insightID: b.id, focus: b.id != "" && b.id == focusID})
		if b.id != "" {
			ids = append(ids, b.id)
		}
		used += n
	}
	flush()
	return l
}

// withToggles adds, after the last block of each run of hidden insights, the
// button that shows them.
func withToggles(blocks []summaryBlock) []summaryBlock {
	var out []summaryBlock
	var hidden []any
	emit := func() {
		if len(hidden) == 0 {
			return
		}
		title := fmt.Sprintf("Show %d more", len(hidden))
		out = append(out, summaryBlock{elems: []any{actionSet(map[string]any{
			"type": "Action.ToggleVisibility", "title": title, "targetElements": hidden,
		})}})
		hidden = nil
	}
	for _, b := range blocks {
		isHidden := false
		for _, e := range b.elems {
			if m, ok := e.(map[string]any); ok && m["isVisible"] == false {
				hidden = append(hidden, m["id"])
				isHidden = true
			}
		}
		if !isHidden {
			emit()
		}
		out = append(out, b)
	}
	emit()
	return out
}

// card renders part i, with panel (if any) under the focused insight.
func (l summaryLayout) card(v SummaryView, i int, panel map[string]any) Card {
	body := append([]any{}, l.header...)
	if len(l.parts) > 1 {
		body = append(body, text(fmt.Sprintf("Part %d of %d", i+1, len(l.parts)), "isSubtle", "true", "spacing", "None"))
	}
	version := Version
	for _, b := range l.parts[i] {
		body = append(body, b.elems...)
		if b.focus && panel != nil {
			body = append(body, panel)
			if pv, _ := panel["version"].(string); pv != "" {
				version = pv
			}
			delete(panel, "version")
		}
	}
	return newCard(version, v.Demo, body)
}

// panelBlock turns a standalone card (a form, a result, a message) into a block
// shown in place under an insight: its body and actions in an emphasis
// container, plus Cancel, which brings the plain summary back. The panel's own
// demo banner is dropped: the summary card carries one.
func panelBlock(summaryID, insightID string, panel Card) map[string]any {
	c := AsUniversalActions(panel)
	body, _ := c["body"].([]any)
	if len(body) > 0 {
		if m, ok := body[0].(map[string]any); ok && isDemoBanner(m) {
			body = body[1:]
		}
	}
	items := append([]any{}, body...)
	actions, _ := c["actions"].([]any)
	// A form is cancelled; a result or a message is only closed.
	closeTitle := "Close"
	if hasInputs(c) {
		closeTitle = "Cancel"
	}
	actions = append(append([]any{}, actions...), withAssociated(map[string]any{
		"type": "Action.Execute", "title": closeTitle, "verb": VerbCancel,
		"data": map[string]any{DataVerb: VerbCancel, DataSummaryID: summaryID, DataInsightID: insightID},
	}, "none"))
	items = append(items, actionRows(inCardActionsWidth, actions)...)
	m := map[string]any{"type": "Container", "style": "emphasis", "spacing": "Small", "items": items}
	if ver, _ := c["version"].(string); ver != "" && ver != Version {
		m["version"] = ver // read back by summaryLayout.card, never rendered
	}
	return m
}

// hasInputs reports whether a card asks for any input.
func hasInputs(c Card) bool {
	found := false
	walk(map[string]any(c), func(m map[string]any) bool {
		if t, _ := m["type"].(string); strings.HasPrefix(t, "Input.") {
			found = true
			return false
		}
		return true
	})
	return found
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
	if in.Source == devopsbot.SourceTranscript {
		facts = append(facts, "From the transcript: check it before creating work")
	}
	if len(facts) > 0 {
		items = append(items, text(join(facts, " · "), "isSubtle", "true", "spacing", "None"))
	}
	var links []any
	for _, r := range in.Results {
		items = append(items, withSpacing(callout("good", text(resultLine(r))), "Small"))
		if linkable(r) && len(links) < 3 {
			links = append(links, openURL(fmt.Sprintf("Open %s", workItemName(r)), r.URL))
		}
	}
	buttons := append([]any{
		// "none": an in-card form open under another insight must not block these.
		withAssociated(submit("Create work item", map[string]any{"msteams": map[string]any{"type": "task/fetch"}, DataVerb: VerbCreate, DataSummaryID: summaryID, DataInsightID: in.ID}), "none"),
		withAssociated(submit("Add comment", map[string]any{"msteams": map[string]any{"type": "task/fetch"}, DataVerb: VerbComment, DataSummaryID: summaryID, DataInsightID: in.ID}), "none"),
	}, links...)
	items = append(items, actionRows(cardActionsWidth, buttons)...)
	return map[string]any{"type": "Container", "spacing": "Medium", "items": items}
}

// dropFormButtons removes an insight block's Create and Comment buttons,
// keeping its links (in rows again, only if a link is left). The block's
// buttons are its trailing ActionSets (insightBlock).
func dropFormButtons(block map[string]any) {
	items, _ := block["items"].([]any)
	var keep []any
	n := len(items)
	for ; n > 0; n-- {
		set, _ := items[n-1].(map[string]any)
		if set["type"] != "ActionSet" {
			break
		}
		acts, _ := set["actions"].([]any)
		for i := len(acts) - 1; i >= 0; i-- {
			if m, _ := acts[i].(map[string]any); m["type"] == "Action.OpenUrl" {
				keep = append([]any{acts[i]}, keep...)
			}
		}
	}
	block["items"] = append(items[:n:n], actionRows(cardActionsWidth, keep)...)
}

// resultLine reads "Created Task 1234: title (by Megan Bowen)".
func resultLine(r ResultView) string {
	if r.Now != nil && !r.Comment {
		return liveResultLine(r)
	}
	var s string
	if r.Comment {
		s = "Commented on " + workItemName(r)
	} else {
		s = "Created " + workItemName(r)
	}
	if r.Title != "" {
		s += ": " + Escape(truncate(r.Title, MaxTitleLen))
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
func meetingWhen(m devopsbot.Meeting) string {
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
