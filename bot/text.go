package bot

import (
	"encoding/json"
	"html"
	"regexp"
	"strings"

	"github.com/sally-devops/devopsbot/teams"
)

// messageText is what the user wrote, as plain text with its line breaks.
// Teams carries a formatted (pasted) message as a text/html attachment beside a
// plain text that may have lost its structure; the Agents Playground drops line
// breaks altogether ("## Decisions- Ship it- Drop the survey"). Both are
// recovered here so a pasted summary parses the same from every client.
func messageText(a *teams.Activity) string {
	text := a.TextWithoutMention()
	if strings.Contains(text, "\n") {
		return text
	}
	for _, att := range a.Attachments {
		if !strings.EqualFold(att.ContentType, "text/html") {
			continue
		}
		var s string
		switch c := att.Content.(type) {
		case string:
			s = c
		case json.RawMessage:
			_ = json.Unmarshal(c, &s)
		}
		if t := strings.TrimSpace(htmlToText(s)); strings.Count(t, "\n") >= 2 {
			return stripLeadingMention(t, a.Recipient.Name)
		}
	}
	return recoverLineBreaks(text)
}

var (
	blockEnd = regexp.MustCompile(`(?i)<br\s*/?>|</p>|</div>|</li>|</h[1-6]>|</tr>`)
	listItem = regexp.MustCompile(`(?i)<li[^>]*>`)
	anyTag   = regexp.MustCompile(`<[^>]*>`)
	// A list marker or heading glued to the end of the previous line.
	gluedMarker = regexp.MustCompile(`([^\s#*])((?:- \[[ xX]\] )|(?:[-*•] )|(?:#{1,6} )|(?:\d{1,2}[.)] )|(?:\*\*[A-Z][A-Za-z ]{1,20}:\*\*))`)
)

func htmlToText(s string) string {
	if len(s) > 64<<10 {
		s = s[:64<<10]
	}
	s = blockEnd.ReplaceAllString(s, "\n")
	s = listItem.ReplaceAllString(s, "\n- ")
	s = anyTag.ReplaceAllString(s, "")
	return html.UnescapeString(s)
}

// recoverLineBreaks re-inserts the line breaks of a pasted summary whose client
// joined its lines. It only acts on text that looks like a list (three or more
// glued markers), so an ordinary sentence with a dash is left alone.
func recoverLineBreaks(s string) string {
	if len(s) < 40 || len(gluedMarker.FindAllStringIndex(s, 4)) < 3 {
		return s
	}
	return gluedMarker.ReplaceAllString(s, "$1\n$2")
}

func stripLeadingMention(s, botName string) string {
	if botName != "" {
		s = strings.TrimSpace(strings.TrimPrefix(s, botName))
	}
	return s
}
