package summary

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
)

// Limits a delivery must respect. They keep one delivery within what a card, a
// database document and a person can reasonably handle.
const (
	// MaxDeliveryBytes is the one size limit of a delivery's JSON. The edge
	// that reads it (the webhook's body limit) enforces it; DecodeDelivery
	// does not check it again, so no second, different limit hides behind it.
	// It has always been what the webhook accepts; 100 insights of 4000
	// characters (the limits below) fit when written mostly in ASCII.
	MaxDeliveryBytes = 1 << 20
	MaxIDLen         = 200
	MaxTitleLen      = 500
	MaxInsightText   = 4000
	MaxInsights      = 100
	MaxOwnerLen      = 200
	MaxDueLen        = 100
	MaxTextLen       = 20000 // pasted or delivered free text
	MaxRecipients    = 50
)

// Target says where a summary goes: a conversation the bot is in, or the
// personal chats of some users (by Entra ID object id). Exactly one is set.
type Target struct {
	ConversationID   string   `json:"conversationId,omitempty"`
	UserAADObjectIDs []string `json:"userAadObjectIds,omitempty"`
}

// Delivery is a summary as the meeting-notes service posts it. Either Insights
// or Text arrives; after DecodeDelivery, Insights is always filled (from Text
// when that is what came) and every Kind is one of the four.
type Delivery struct {
	ID        string              `json:"id"`
	Meeting   devopsbot.Meeting   `json:"meeting"`
	DeliverTo Target              `json:"deliverTo"`
	Insights  []devopsbot.Insight `json:"insights,omitempty"`
	Text      string              `json:"text,omitempty"`
}

// Problem is one thing wrong with a delivery, named by its JSON path so the
// sender can fix it without guessing.
type Problem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists every problem of a well-formed but unacceptable
// delivery at once, so a sender fixes them in one round trip (HTTP 422).
// It unwraps to an apperr.Invalid so callers that only know apperr still
// treat it as the user's mistake.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	parts := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		parts = append(parts, p.Field+": "+p.Message)
	}
	return "invalid summary: " + strings.Join(parts, "; ")
}

func (e *ValidationError) Unwrap() error {
	return apperr.New(apperr.Invalid, e.Error())
}

// The wire shape keeps times as strings so a bad date is reported as a
// problem of its field rather than aborting the whole decode.
type wireDelivery struct {
	ID        string        `json:"id"`
	Meeting   wireMeeting   `json:"meeting"`
	DeliverTo Target        `json:"deliverTo"`
	Insights  []wireInsight `json:"insights"`
	Text      *string       `json:"text"`
}

type wireMeeting struct {
	Title        string   `json:"title"`
	Start        string   `json:"start"`
	End          string   `json:"end"`
	Organizer    string   `json:"organizer"`
	Participants []string `json:"participants"`
	JoinURL      string   `json:"joinUrl"`
}

type wireInsight struct {
	ID    string `json:"id"`
	Kind  string `json:"kind"`
	Text  string `json:"text"`
	Owner string `json:"owner"`
	Due   string `json:"due"`
}

var guidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// DecodeDelivery decodes and validates a delivery. Malformed JSON is an
// apperr.Invalid (the sender's bytes are broken: 400); a well-formed delivery
// that breaks the rules is a *ValidationError listing every problem (422).
// Unknown fields are ignored so that a sender on a newer contract still works.
// Text fields go through CleanText before they are checked. The caller bounds
// data by MaxDeliveryBytes.
func DecodeDelivery(data []byte) (*Delivery, error) {
	var problems problemList
	w, err := decodeWire(data, &problems)
	if err != nil {
		return nil, err
	}
	d := &Delivery{ID: strings.TrimSpace(w.ID)}
	checkID(problems.add, "id", d.ID)
	d.Meeting = checkMeeting(&w.Meeting, &problems)
	d.DeliverTo = checkTarget(&w.DeliverTo, &problems)
	d.Text, d.Insights = checkContent(w, &problems)
	if len(problems) > 0 {
		return nil, &ValidationError{Problems: problems}
	}
	return d, nil
}

// problemList collects what is wrong with a delivery, one problem per field:
// a wrong type already says what an "is required" would.
type problemList []Problem

func (l *problemList) add(field, msg string) {
	for _, p := range *l {
		if p.Field == field {
			return
		}
	}
	*l = append(*l, Problem{Field: field, Message: msg})
}

// decodeWire parses the JSON. Broken JSON is an error; a field of the wrong
// type is a problem reported with the rest, since encoding/json keeps
// decoding after a type mismatch.
func decodeWire(data []byte, problems *problemList) (*wireDelivery, error) {
	if !utf8.Valid(data) {
		return nil, apperr.New(apperr.Invalid, "malformed JSON: not valid UTF-8")
	}
	var w wireDelivery
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&w); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			return nil, apperr.Wrap(apperr.Invalid, "malformed JSON: "+jsonSyntaxMessage(err), err)
		}
		field := te.Field
		if field == "" {
			field = "(root)"
		}
		problems.add(field, "must be "+jsonTypeName(te.Type.Kind().String()))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, apperr.New(apperr.Invalid, "malformed JSON: unexpected data after the summary object")
	}
	return &w, nil
}

func checkMeeting(w *wireMeeting, problems *problemList) devopsbot.Meeting {
	add := problems.add
	var m devopsbot.Meeting
	m.Title = strings.TrimSpace(CleanText(w.Title))
	switch {
	case m.Title == "":
		add("meeting.title", "is required")
	case utf8.RuneCountInString(m.Title) > MaxTitleLen:
		add("meeting.title", fmt.Sprintf("must be at most %d characters", MaxTitleLen))
	case hasControl(m.Title):
		add("meeting.title", "must not contain control characters")
	}
	m.Start = parseTime(add, "meeting.start", w.Start)
	m.End = parseTime(add, "meeting.end", w.End)
	if !m.Start.IsZero() && !m.End.IsZero() && m.End.Before(m.Start) {
		add("meeting.end", "must not be before meeting.start")
	}
	m.Organizer = strings.TrimSpace(CleanText(w.Organizer))
	if utf8.RuneCountInString(m.Organizer) > MaxOwnerLen || hasControl(m.Organizer) {
		add("meeting.organizer", fmt.Sprintf("must be at most %d printable characters", MaxOwnerLen))
	}
	if len(w.Participants) > 1000 {
		add("meeting.participants", "must list at most 1000 people")
	} else {
		for i, p := range w.Participants {
			p = strings.TrimSpace(CleanText(p))
			if p == "" || utf8.RuneCountInString(p) > MaxOwnerLen || hasControl(p) {
				add(fmt.Sprintf("meeting.participants[%d]", i), fmt.Sprintf("must be a name of 1 to %d printable characters", MaxOwnerLen))
				continue
			}
			m.Participants = append(m.Participants, p)
		}
	}
	if j := strings.TrimSpace(w.JoinURL); j != "" {
		u, err := url.Parse(j)
		if err != nil || u.Scheme != "https" || u.Host == "" || len(j) > 2000 {
			add("meeting.joinUrl", "must be an https URL")
		} else {
			m.JoinURL = j
		}
	}
	return m
}

// checkTarget accepts exactly one target: a chat, or users' personal chats.
func checkTarget(w *Target, problems *problemList) Target {
	add := problems.add
	var t Target
	conv := strings.TrimSpace(w.ConversationID)
	users := w.UserAADObjectIDs
	switch {
	case conv != "" && len(users) > 0:
		add("deliverTo", "must have exactly one target: conversationId or userAadObjectIds, not both")
	case conv == "" && len(users) == 0:
		add("deliverTo", "must have exactly one target: conversationId or userAadObjectIds")
	case conv != "":
		if len(conv) > 1000 || hasControl(conv) {
			add("deliverTo.conversationId", "must be at most 1000 printable characters")
		}
		t.ConversationID = conv
	case len(users) > MaxRecipients:
		add("deliverTo.userAadObjectIds", fmt.Sprintf("must list at most %d users", MaxRecipients))
	default:
		seen := map[string]bool{}
		for i, u := range users {
			u = strings.ToLower(strings.TrimSpace(u))
			if !guidRe.MatchString(u) {
				add(fmt.Sprintf("deliverTo.userAadObjectIds[%d]", i), "must be a Microsoft Entra object id (a GUID)")
				continue
			}
			if !seen[u] {
				seen[u] = true
				t.UserAADObjectIDs = append(t.UserAADObjectIDs, u)
			}
		}
	}
	return t
}

// checkContent accepts either structured insights or notes as text (parsed
// like a paste), never both.
func checkContent(w *wireDelivery, problems *problemList) (string, []devopsbot.Insight) {
	hasText := w.Text != nil && strings.TrimSpace(*w.Text) != ""
	switch {
	case hasText && len(w.Insights) > 0:
		problems.add("insights", "give either insights or text, not both")
	case !hasText && len(w.Insights) == 0:
		problems.add("insights", "give either insights or text")
	case hasText:
		text := CleanText(*w.Text)
		p, err := ParseText(text)
		if err != nil {
			problems.add("text", apperr.UserMessage(err))
			return text, nil
		}
		return text, p.Insights
	case len(w.Insights) > MaxInsights:
		problems.add("insights", fmt.Sprintf("must hold at most %d insights", MaxInsights))
	default:
		return "", checkInsights(w.Insights, problems)
	}
	return "", nil
}

func checkInsights(wire []wireInsight, problems *problemList) []devopsbot.Insight {
	add := problems.add
	var out []devopsbot.Insight
	ids := map[string]int{}
	for i, wi := range wire {
		f := func(s string) string { return fmt.Sprintf("insights[%d].%s", i, s) }
		in := devopsbot.Insight{ID: strings.TrimSpace(wi.ID), Text: strings.TrimSpace(CleanText(wi.Text)),
			Owner: strings.TrimSpace(CleanText(wi.Owner)), Due: strings.TrimSpace(CleanText(wi.Due))}
		if checkID(add, f("id"), in.ID) {
			if j, dup := ids[in.ID]; dup {
				add(f("id"), fmt.Sprintf("duplicates insights[%d].id", j))
			} else {
				ids[in.ID] = i
			}
		}
		k, ok := ParseKind(wi.Kind)
		if !ok {
			add(f("kind"), `must be one of "insight", "decision", "next_step", "task"`)
		}
		in.Kind = k
		switch {
		case in.Text == "":
			add(f("text"), "is required")
		case utf8.RuneCountInString(in.Text) > MaxInsightText:
			add(f("text"), fmt.Sprintf("must be at most %d characters", MaxInsightText))
		}
		if utf8.RuneCountInString(in.Owner) > MaxOwnerLen || hasControl(in.Owner) {
			add(f("owner"), fmt.Sprintf("must be at most %d printable characters", MaxOwnerLen))
		}
		if utf8.RuneCountInString(in.Due) > MaxDueLen || hasControl(in.Due) {
			add(f("due"), fmt.Sprintf("must be at most %d printable characters", MaxDueLen))
		}
		out = append(out, in)
	}
	return out
}

// ParseKind maps the spellings senders use to one of the four kinds. Besides
// the canonical names it accepts, case-insensitively, "next step", "nextStep",
// "next-step", "action item", "action_item", "actionItem", "todo" and "to-do"
// (the last five are tasks), and plurals, because note takers disagree.
func ParseKind(s string) (devopsbot.Kind, bool) {
	k := strings.ToLower(strings.TrimSpace(s))
	k = strings.NewReplacer(" ", "", "_", "", "-", "").Replace(k)
	k = strings.TrimSuffix(k, "s")
	switch k {
	case "insight", "highlight", "keyinsight":
		return devopsbot.KindInsight, true
	case "decision":
		return devopsbot.KindDecision, true
	case "nextstep", "followup":
		return devopsbot.KindNextStep, true
	case "task", "actionitem", "todo", "action":
		return devopsbot.KindTask, true
	}
	return "", false
}

// checkID reports whether id is acceptable, adding a problem when it is not.
func checkID(add func(string, string), field, id string) bool {
	switch {
	case id == "":
		add(field, "is required")
	case utf8.RuneCountInString(id) > MaxIDLen:
		add(field, fmt.Sprintf("must be at most %d characters", MaxIDLen))
	case !isPrintable(id):
		add(field, "must contain only printable characters")
	default:
		return true
	}
	return false
}

func parseTime(add func(string, string), field, s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		add(field, "must be an RFC 3339 date-time such as 2026-11-24T09:00:00Z")
		return time.Time{}
	}
	return t
}

func isPrintable(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}

func jsonTypeName(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	case "bool":
		return "true or false"
	case "ptr":
		return "a string"
	}
	return "of another type"
}

// jsonSyntaxMessage keeps the position but never echoes the sender's bytes.
func jsonSyntaxMessage(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of input"
	}
	return "cannot be decoded"
}
