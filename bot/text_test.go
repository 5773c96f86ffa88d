package bot

import (
	"strings"
	"testing"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/summary"
	"github.com/sally-devops/devopsbot/teams"
)

func TestPlaygroundJoinedPasteIsRecovered(t *testing.T) {
	// Exactly what the Agents Playground 0.2.28 sent for a pasted Markdown summary.
	joined := "## Decisions- Ship 4.2 to 20% of users on Monday.- Drop the in-app survey.## Action items- [ ] @Lynne Robbins: update the release notes for 4.2- [ ] Remove the survey SDK (owner: Diego Siciliani)"
	a := &teams.Activity{Type: "message", Text: joined}
	got := messageText(a)
	p, err := summary.ParseText(got)
	if err != nil {
		t.Fatalf("recovered text does not parse: %v\n%s", err, got)
	}
	if len(p.Insights) != 4 || p.Insights[0].Kind != devopsbot.KindDecision || p.Insights[2].Owner != "Lynne Robbins" {
		t.Fatalf("insights: %+v\n%s", p.Insights, got)
	}
}

func TestPlaygroundJoinedHeaderKeepsTitle(t *testing.T) {
	joined := "# Sprint 42 review — Mobile app**Date:** 26 November 2026 · **Attendees:** Diego## Decisions- Ship 4.2 on Monday.- Drop the survey.## Next steps- Diego to book a design review"
	p, err := summary.ParseText(messageText(&teams.Activity{Text: joined}))
	if err != nil {
		t.Fatal(err)
	}
	if p.Title != "Sprint 42 review — Mobile app" || len(p.Insights) != 3 {
		t.Fatalf("title %q, %d insights", p.Title, len(p.Insights))
	}
}

func TestOrdinaryTextIsNotSplit(t *testing.T) {
	for _, s := range []string{"connect devops https://dev.azure.com/fabrikam", "the well-known - and only - option is 1. fine", "help"} {
		if got := messageText(&teams.Activity{Text: s}); got != s {
			t.Errorf("%q became %q", s, got)
		}
	}
}

func TestHTMLAttachmentGivesLines(t *testing.T) {
	a := &teams.Activity{Text: "Decisions Ship it Drop it", Attachments: []teams.Attachment{{ContentType: "text/html",
		Content: "<p>Decisions</p><ul><li>Ship it &amp; celebrate</li><li>Drop it</li></ul>"}}}
	got := messageText(a)
	if !strings.Contains(got, "\n- Ship it & celebrate") || strings.Count(got, "\n") < 2 {
		t.Fatalf("got %q", got)
	}
}

func FuzzMessageText(f *testing.F) {
	f.Add("## Decisions- Ship it.- Drop it.## Next steps- Diego to book a review", "")
	f.Add("help", "<p>a</p><ul><li>b</li><li>c &amp; d</li></ul>")
	f.Add("<at>Sally</at> connect devops", "<div>x<br>y<br/>z</div>")
	f.Fuzz(func(t *testing.T, text, htmlBody string) {
		a := &teams.Activity{Text: text, Recipient: teams.ChannelAccount{ID: "b", Name: "Sally"}}
		if htmlBody != "" {
			a.Attachments = []teams.Attachment{{ContentType: "text/html", Content: htmlBody}}
		}
		got := messageText(a)
		// Recovering lines only ever adds line breaks to the text it was given.
		if htmlBody == "" && strings.ReplaceAll(got, "\n", "") != strings.ReplaceAll(a.TextWithoutMention(), "\n", "") {
			t.Fatalf("text changed beyond line breaks: %q -> %q", a.TextWithoutMention(), got)
		}
		_, _ = summary.ParseText(got) // must not panic
	})
}
