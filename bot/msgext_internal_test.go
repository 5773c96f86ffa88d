package bot

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sally-devops/devopsbot/devops"
	"github.com/sally-devops/devopsbot/teams"
)

func FuzzMessagePayloadText(f *testing.F) {
	f.Add("html", "<p>Fix the <b>login</b> bug &amp; retest</p><p>second line</p>")
	f.Add("html", "<script>alert(1)</script><style>p{}</style><div>a<br/>b</div>\u202e\x00")
	f.Add("text", "plain\r\n\r\n  text  \n")
	f.Add("html", "&lt;script&gt;"+strings.Repeat("é", 300))
	f.Fuzz(func(t *testing.T, contentType, content string) {
		m := &teams.MessagePayload{}
		m.Body.ContentType, m.Body.Content = contentType, content
		s := messagePayloadText(m)
		if !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxMessageText {
			t.Fatalf("text not valid UTF-8 or too long: %d runes", utf8.RuneCountInString(s))
		}
		if strings.Contains(s, "\n\n") || s != strings.TrimSpace(s) {
			t.Fatalf("blank lines or edges kept: %q", s)
		}
		if title := messageTitle(s); utf8.RuneCountInString(title) > devops.MaxTitleLen || strings.Contains(title, "\n") {
			t.Fatalf("title %q", title)
		}
	})
}
