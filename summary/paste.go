package summary

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
)

// DefaultPasteTitle names a pasted summary that gives no title of its own.
const DefaultPasteTitle = "Pasted meeting summary"

// Pasted is a summary a person pasted into a chat, as text or as JSON.
type Pasted struct {
	Meeting  devopsbot.Meeting
	Insights []devopsbot.Insight
	FromJSON bool // the paste was the webhook's JSON shape
}

// ParsePaste reads a summary pasted into a chat. Text in the webhook's JSON
// shape (as people copy it from a log: pretty or on one line, in a ``` fence,
// after a label such as "summary:") is decoded like a delivery, with its
// deliverTo and id ignored: a paste belongs to the chat it was pasted in, and
// its identity is its content (ContentKey). Anything else is parsed as notes by
// ParseText. Text that starts like a JSON object but does not decode gets an
// error that says so, rather than being read line by line as notes.
// The title is DefaultPasteTitle when the paste gives none.
func ParsePaste(text string) (Pasted, error) {
	if body, ok := jsonCandidate(text); ok {
		return parsePastedJSON(body)
	}
	p, err := ParseText(text)
	if err != nil {
		return Pasted{}, err
	}
	title := p.Title
	if title == "" {
		title = DefaultPasteTitle
	}
	return Pasted{Meeting: devopsbot.Meeting{Title: title}, Insights: p.Insights}, nil
}

// LooksLikeJSON reports whether text would be read as a summary in JSON, so a
// chat message on one line (line breaks lost) is still taken as a paste.
func LooksLikeJSON(text string) bool {
	_, ok := jsonCandidate(text)
	return ok
}

// maxLabelLen bounds the label a log puts before a JSON body ("summary:",
// "2026-11-24 09:00:01 INFO delivery body=").
const maxLabelLen = 200

// jsonCandidate finds a JSON object in a paste: the whole text (fences
// removed), or what follows a one-line label ending in ':' or '=' (on the same
// line or the one before), when that ends with '}'. An object starts with '{'
// and then a quote or '}', so notes such as "{Draft} sprint review" stay notes.
func jsonCandidate(text string) (string, bool) {
	t := unfence(strings.TrimLeft(strings.TrimSpace(text), "\ufeff\u200b"))
	if t == "" || len(t) > MaxDeliveryBytes {
		return "", false
	}
	if strings.HasPrefix(t, "{") {
		return t, objectStart(t)
	}
	i := strings.IndexByte(t, '{')
	if i <= 0 || i > maxLabelLen+8 {
		return "", false
	}
	label := strings.TrimSpace(openFenceRe.ReplaceAllString(t[:i], ""))
	if label == "" || strings.ContainsAny(label, "\r\n") || utf8.RuneCountInString(label) > maxLabelLen ||
		!(strings.HasSuffix(label, ":") || strings.HasSuffix(label, "=")) {
		return "", false
	}
	body := closeFence(t[i:])
	if !strings.HasSuffix(body, "}") || !objectStart(body) {
		return "", false
	}
	return body, true
}

// objectStart reports whether s opens a JSON object: '{', white space, then a
// key's quote (straight, typographic or the single quote of a log's repr) or '}'.
func objectStart(s string) bool {
	rest := strings.TrimLeft(s[1:], " \t\r\n")
	if rest == "" {
		return true // a truncated copy is still JSON, and gets a clear message
	}
	r, _ := utf8.DecodeRuneInString(rest)
	return r == '"' || r == '}' || r == '\'' || r == '\u201c' || r == '\u201d'
}

var (
	// An opening Markdown code fence with its info string ("```json"), at the
	// end of what comes before the body.
	openFenceRe = regexp.MustCompile("(?:`{3,}|~{3,})[A-Za-z0-9_+-]*\\s*$")
	// The same at the start of the text.
	leadFenceRe = regexp.MustCompile("^(?:`{3,}|~{3,})[A-Za-z0-9_+-]*")
)

// unfence removes a Markdown code fence (``` or ~~~, with an info string such
// as "json") around s, on its own lines or on one line.
func unfence(s string) string {
	return closeFence(leadFenceRe.ReplaceAllString(strings.TrimSpace(s), ""))
}

// closeFence removes a closing fence at the end of s.
func closeFence(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "```") || strings.HasSuffix(s, "~~~") {
		s = strings.TrimSpace(strings.TrimRight(s, s[len(s)-1:]))
	}
	return s
}

// pasteTarget stands in for the deliverTo and id a paste does not need, so the
// delivery rules are checked once, in DecodeDelivery.
var pasteTarget = json.RawMessage(`{"conversationId":"pasted"}`)

func parsePastedJSON(body string) (Pasted, error) {
	body = strings.ToValidUTF8(body, "\uFFFD")
	data := []byte(body)
	// Line breaks and tabs are never valid inside a JSON string and mean nothing
	// outside one; a log viewer that wraps long lines puts them inside strings.
	// Replacing them byte for byte keeps the offsets of the original text.
	data = bytes.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, data)
	var top map[string]json.RawMessage
	err := json.Unmarshal(data, &top)
	if err != nil && strings.ContainsAny(body, "\u201c\u201d") {
		// Word and some chat clients turn quotes typographic.
		fixed := []byte(strings.NewReplacer("\u201c", `"`, "\u201d", `"`).Replace(string(data)))
		if json.Unmarshal(fixed, &top) == nil {
			data, err = fixed, nil
		}
	}
	if err != nil {
		return Pasted{}, apperr.New(apperr.Invalid, "That looks like a summary in JSON, but it is not valid JSON ("+
			syntaxWhere(body, err)+"). Check that it was copied whole, or paste the summary as text.")
	}
	if top == nil {
		return Pasted{}, apperr.New(apperr.Invalid, "That looks like a summary in JSON, but it is empty.")
	}
	for k := range top {
		if strings.EqualFold(k, "id") || strings.EqualFold(k, "deliverTo") {
			delete(top, k)
		}
	}
	top["id"] = json.RawMessage(`"pasted"`)
	top["deliverTo"] = pasteTarget
	defaultTitle(top)
	patched, err := json.Marshal(top)
	if err != nil {
		return Pasted{}, apperr.Wrap(apperr.Invalid, "That looks like a summary in JSON, but I could not read it.", err)
	}
	d, err := DecodeDelivery(patched)
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			return Pasted{}, apperr.New(apperr.Invalid, "That looks like a summary in JSON, but "+describeProblems(ve.Problems)+".")
		}
		return Pasted{}, apperr.Wrap(apperr.Invalid, "That looks like a summary in JSON, but "+apperr.UserMessage(err), err)
	}
	return Pasted{Meeting: d.Meeting, Insights: d.Insights, FromJSON: true}, nil
}

// defaultTitle gives a meeting without a title DefaultPasteTitle: a delivery
// must name its meeting, a paste need not.
func defaultTitle(top map[string]json.RawMessage) {
	found := false
	for k, raw := range top {
		if !strings.EqualFold(k, "meeting") {
			continue
		}
		found = true
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil || m == nil {
			continue // not an object: DecodeDelivery names the problem
		}
		titled := false
		for mk, mv := range m {
			var s string
			if strings.EqualFold(mk, "title") && json.Unmarshal(mv, &s) == nil && strings.TrimSpace(s) != "" {
				titled = true
			}
		}
		if !titled {
			for mk := range m {
				if strings.EqualFold(mk, "title") {
					delete(m, mk)
				}
			}
			m["title"], _ = json.Marshal(DefaultPasteTitle)
			top[k], _ = json.Marshal(m)
		}
	}
	if !found {
		top["meeting"], _ = json.Marshal(map[string]string{"title": DefaultPasteTitle})
	}
}

// describeProblems names at most three problems, so the chat message stays short.
func describeProblems(ps []Problem) string {
	const show = 3
	parts := make([]string, 0, show)
	for i, p := range ps {
		if i == show {
			break
		}
		parts = append(parts, p.Field+": "+p.Message)
	}
	s := strings.Join(parts, "; ")
	if len(ps) > show {
		s += fmt.Sprintf(" (and %d more problems)", len(ps)-show)
	}
	return s
}

// syntaxWhere says where decoding stopped, as a line and column a person can
// find, without echoing the text.
func syntaxWhere(body string, err error) string {
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return "it is not an object"
		}
		return "it ends too early"
	}
	// Offset counts the bytes read, the offending one included.
	off := min(max(int(se.Offset)-1, 0), len(body))
	if off >= len(body)-1 && strings.Contains(se.Error(), "unexpected end") {
		return "it ends too early; was it cut off?"
	}
	before := body[:off]
	line := strings.Count(before, "\n") + 1
	col := utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:]) + 1
	return fmt.Sprintf("line %d, column %d", line, col)
}
