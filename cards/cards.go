// Package cards turns the bot's data into Adaptive Card JSON. It does no I/O,
// so every card can be checked against the official schema in tests.
//
// Cards use schema 1.5, the newest every Teams client renders; only the
// comment form with work item search is 1.6, because Data.Query needs it.
// Everything a user or a meeting supplied goes through Escape: TextBlock
// renders Markdown in Teams, and "**" or "[x](y)" in a task must stay text.
package cards

import (
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Card is one Adaptive Card, ready to marshal as an attachment's content.
type Card map[string]any

// Version is the schema version Teams renders on every client.
const (
	Version       = "1.5"
	VersionSearch = "1.6" // only for Input.ChoiceSet with Data.Query
	ContentType   = "application/vnd.microsoft.card.adaptive"
)

// DemoBannerText marks every card shown while the bot runs against its fake
// organization, so nobody mistakes demo work items for real ones.
const DemoBannerText = "Demo mode: fake Azure DevOps organization"

func newCard(version string, demo bool, body []any, actions ...any) Card {
	if demo {
		body = append([]any{demoBanner()}, body...)
	}
	c := Card{
		"type":    "AdaptiveCard",
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"version": version,
		"body":    body,
		// Full width: the summary lists long sentences and forms hold long titles.
		"msteams": map[string]any{"width": "Full"},
	}
	if len(actions) > 0 {
		c["actions"] = actions
	}
	return c
}

func demoBanner() map[string]any {
	return callout("warning", text(DemoBannerText, "weight", "Bolder"))
}

// WithDemoBanner adds the demo line to a card built without a view (Help,
// Welcome, Reconnect...). It is a no-op when the card already has it.
func WithDemoBanner(c Card) Card {
	body, _ := c["body"].([]any)
	if len(body) > 0 {
		if m, ok := body[0].(map[string]any); ok && isDemoBanner(m) {
			return c
		}
	}
	out := Card{}
	for k, v := range c {
		out[k] = v
	}
	out["body"] = append([]any{demoBanner()}, body...)
	return out
}

func isDemoBanner(m map[string]any) bool {
	if m["type"] != "Container" {
		return false
	}
	items, _ := m["items"].([]any)
	if len(items) != 1 {
		return false
	}
	tb, _ := items[0].(map[string]any)
	return tb != nil && tb["text"] == DemoBannerText
}

// text is a TextBlock of our own words (may use Markdown). User text must be
// passed through Escape first.
func text(s string, opts ...string) map[string]any {
	tb := map[string]any{"type": "TextBlock", "text": s, "wrap": true}
	for i := 0; i+1 < len(opts); i += 2 {
		switch opts[i+1] {
		case "true":
			tb[opts[i]] = true // isSubtle, separator
		default:
			tb[opts[i]] = opts[i+1]
		}
	}
	return tb
}

func heading(s string) map[string]any {
	return text(s, "size", "Medium", "weight", "Bolder", "style", "heading")
}

func attention(s string) map[string]any {
	return callout("attention", text(s))
}

// callout sets text apart with one of the host config's semantic container
// styles ("good", "attention", "warning", "emphasis"). The text keeps the
// default color: each style defines a readable foreground for its own
// background in light, dark and high-contrast themes, while a colored text
// on a colored container (yellow on orange) is not readable in any.
func callout(style string, items ...any) map[string]any {
	return map[string]any{"type": "Container", "style": style, "items": items}
}

func withSpacing(e map[string]any, spacing string) map[string]any {
	e["spacing"] = spacing
	return e
}

func submit(title string, data map[string]any) map[string]any {
	return map[string]any{"type": "Action.Submit", "title": title, "data": data}
}

func execute(title, verb string, data map[string]any) map[string]any {
	return map[string]any{"type": "Action.Execute", "title": title, "verb": verb, "data": data}
}

func openURL(title, url string) map[string]any {
	return map[string]any{"type": "Action.OpenUrl", "title": title, "url": url}
}

func actionSet(actions ...any) map[string]any {
	return map[string]any{"type": "ActionSet", "actions": actions}
}

// markdownSpecial are the characters that start Markdown anywhere in a line,
// or would be read as HTML, an entity, a mention (<at>) or a date function
// ({{DATE(...)}}) in a TextBlock.
const markdownSpecial = "\\`*_{}[]<>~&"

// Escape makes s show literally in a TextBlock: Markdown emphasis, links,
// lists and headings, HTML-looking tags and {{DATE()}} functions all become
// plain characters. Teams' Markdown follows CommonMark's backslash escapes.
// Control characters and line breaks collapse to spaces so one item stays one
// paragraph.
func Escape(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	space := false
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' {
			r = ' '
		}
		if r == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		if r < utf8.RuneSelf && strings.ContainsRune(markdownSpecial, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	out := strings.TrimSpace(b.String())
	// Block syntax only counts at the start of a line, and Escape leaves one line.
	if m := listStart.FindStringIndex(out); m != nil {
		out = out[:m[1]-1] + "\\" + out[m[1]-1:]
	}
	return out
}

// listStart finds "# ", "- ", "+ " or "12. " / "12) " at the start of a line,
// up to the character that must be escaped.
var listStart = regexp.MustCompile(`^(?:[#+-]|[0-9]{1,9}[.)])`)

// truncate shortens s to at most n runes at a word boundary with an ellipsis.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n-1]
	cut := string(r)
	if i := strings.LastIndexAny(cut, " \t"); i > len(cut)/2 {
		cut = cut[:i]
	}
	return strings.TrimSpace(cut) + "…"
}

// walk visits every object depth first until visit returns false.
func walk(v any, visit func(map[string]any) bool) bool {
	switch x := v.(type) {
	case map[string]any:
		if !visit(x) {
			return false
		}
		for _, e := range x {
			if !walk(e, visit) {
				return false
			}
		}
	case []any:
		for _, e := range x {
			if !walk(e, visit) {
				return false
			}
		}
	}
	return true
}

// isLoopbackHTTP accepts an http link to this machine: the demo organization's
// pages and, in development and tests, sign-in pages served on loopback. Only
// the bot's own builders pass such links; nothing a user typed.
func isLoopbackHTTP(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "http" || strings.ContainsAny(s, " \n") {
		return false
	}
	h := u.Hostname()
	return h == "localhost" || h == "127.0.0.1" || h == "::1"
}

func isHTTPS(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != "" && !strings.ContainsAny(s, " \n")
}
