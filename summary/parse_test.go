package summary

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
)

const fixtures = "testdata"

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return b
}

func TestParseTextFixtures(t *testing.T) {
	tests := []struct {
		file  string
		title string
		want  []devopsbot.Insight
	}{
		{"copilot-recap.txt", "Quarterly planning: Platform team", []devopsbot.Insight{
			{ID: "k1", Kind: devopsbot.KindDecision, Text: "The team agreed that two engineers move to the data-migration project for the whole quarter. Nestor noted that on-call coverage drops to four people."},
			{ID: "k2", Kind: devopsbot.KindDecision, Text: "Decided to postpone the Kubernetes upgrade to February so it does not collide with the migration."},
			{ID: "k3", Kind: devopsbot.KindInsight, Text: "Grady said log volume grew 40% since October; most of it is debug logging left on in the billing service."},
			{ID: "k4", Kind: devopsbot.KindTask, Owner: "Nestor Wilke", Text: "Nestor Wilke will draft the new on-call rotation for Q1."},
			{ID: "k5", Kind: devopsbot.KindTask, Owner: "Grady Archie", Text: "Grady Archie will turn off debug logging in the billing service and report the cost change."},
			{ID: "k6", Kind: devopsbot.KindTask, Owner: "Patti Fernandez", Text: "Patti Fernandez will write the migration plan and share it before the next planning meeting."},
		}},
		{"sprint-review.md", "Sprint 42 review — Mobile app", []devopsbot.Insight{
			{ID: "k1", Kind: devopsbot.KindInsight, Text: "Crash-free sessions rose to 99.6% after the image-cache fix."},
			{ID: "k2", Kind: devopsbot.KindInsight, Text: "Android users on version 13 still see the login loop (about 2% of logins)."},
			{ID: "k3", Kind: devopsbot.KindDecision, Text: "Ship 4.2 to 20% of users on Monday, full rollout Thursday if crash-free stays above 99.5%."},
			{ID: "k4", Kind: devopsbot.KindDecision, Text: "Drop the in-app survey from this release."},
			{ID: "k5", Kind: devopsbot.KindNextStep, Owner: "Johanna", Text: "Johanna will ask Support for the affected Android device models."},
			{ID: "k6", Kind: devopsbot.KindNextStep, Owner: "Diego", Text: "Diego to book a design review for the new onboarding flow."},
			{ID: "k7", Kind: devopsbot.KindTask, Owner: "Isaiah Langer", Due: "Friday", Text: "Reproduce the Android 13 login loop and open a bug with logs"},
			{ID: "k8", Kind: devopsbot.KindTask, Owner: "Lynne Robbins", Text: "Update the release notes for 4.2"},
			{ID: "k9", Kind: devopsbot.KindTask, Owner: "Diego Siciliani", Text: "Remove the survey SDK from the build"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			text := string(readFixture(t, tt.file))
			p, err := ParseText(text)
			if err != nil {
				t.Fatal(err)
			}
			if p.Title != tt.title {
				t.Errorf("title = %q, want %q", p.Title, tt.title)
			}
			assertInsights(t, p.Insights, tt.want)
			// The same paste (even with Windows line ends) gives the same ids.
			again, err := ParseText(strings.ReplaceAll(text, "\n", "\r\n"))
			if err != nil {
				t.Fatal(err)
			}
			assertInsights(t, again.Insights, tt.want)
		})
	}
}

func assertInsights(t *testing.T, got, want []devopsbot.Insight) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d items, want %d: %+v", len(got), len(want), got)
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Errorf("item %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestParseTextForms(t *testing.T) {
	tests := []struct {
		name, text string
		want       []devopsbot.Insight
	}{
		{"plain heading with colon and numbers", "Action items:\n1. Update the docs\n2) **Fix** the _build_ (owner: Adele Vance) — due 2026-11-28", []devopsbot.Insight{
			{ID: "k1", Kind: devopsbot.KindTask, Text: "Update the docs"},
			{ID: "k2", Kind: devopsbot.KindTask, Text: "Fix the build", Owner: "Adele Vance", Due: "2026-11-28"},
		}},
		{"bold heading, bullets and check boxes", "**Next steps**\n• [x] @Megan Bowen: send the deck\n* [ ] We will revisit in January", []devopsbot.Insight{
			{ID: "k1", Kind: devopsbot.KindNextStep, Text: "Send the deck", Owner: "Megan Bowen"},
			{ID: "k2", Kind: devopsbot.KindNextStep, Text: "We will revisit in January"},
		}},
		{"no heading: sentence decides", "We will keep the old API until March.\nLatency is fine.\nAlex to ping the vendor.", []devopsbot.Insight{
			{ID: "k1", Kind: devopsbot.KindDecision, Text: "We will keep the old API until March."},
			{ID: "k2", Kind: devopsbot.KindInsight, Text: "Latency is fine."},
			{ID: "k3", Kind: devopsbot.KindNextStep, Text: "Alex to ping the vendor.", Owner: "Alex"},
		}},
		{"inline bold section label", "**Decisions:** Ship on Monday", []devopsbot.Insight{
			{ID: "k1", Kind: devopsbot.KindDecision, Text: "Ship on Monday"},
		}},
		{"links and code stripped to text", "## Highlights\n- See [the dashboard](https://example.com/d) for `p95`", []devopsbot.Insight{
			{ID: "k1", Kind: devopsbot.KindInsight, Text: "See the dashboard (https://example.com/d) for p95"},
		}},
		{"sentence starters are no owners", "Tasks\n- The team to review budgets\n- Need to fix CI", []devopsbot.Insight{
			{ID: "k1", Kind: devopsbot.KindTask, Text: "The team to review budgets"},
			{ID: "k2", Kind: devopsbot.KindTask, Text: "Need to fix CI"},
		}},
		{"markup stays text", "Tasks\n- <script>alert('x')</script> stays literal", []devopsbot.Insight{
			{ID: "k1", Kind: devopsbot.KindTask, Text: "<script>alert('x')</script> stays literal"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseText(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			assertInsights(t, p.Insights, tt.want)
		})
	}
}

func TestParseTextRejects(t *testing.T) {
	tests := []struct{ name, text, wantMsg string }{
		{"empty", "   \n\n", "found no"},
		{"only headings", "# Weekly sync\n## Decisions\n## Tasks\n", "found no"},
		{"too long", strings.Repeat("a", MaxTextLen+1), "too long"},
		{"too many items", "Tasks\n" + strings.Repeat("- do it\n", MaxInsights+1), "more than 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseText(tt.text)
			if !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("err = %v, want Invalid", err)
			}
			if msg := apperr.UserMessage(err); !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("message %q does not say %q", msg, tt.wantMsg)
			}
		})
	}
	// Exactly the limit is fine.
	p, err := ParseText("Tasks\n" + strings.Repeat("- do it\n", MaxInsights))
	if err != nil || len(p.Insights) != MaxInsights {
		t.Fatalf("100 items: %d, %v", len(p.Insights), err)
	}
}

func FuzzParseText(f *testing.F) {
	for _, n := range []string{"copilot-recap.txt", "sprint-review.md"} {
		f.Add(string(readFixture(f, n)))
	}
	f.Add("**Decisions:** x\n- [ ] @A: b — due Friday (owner: C)\n1) [x](y)")
	f.Add("***\n# \n**__**\n- \n@: \n([](")
	// The corpus seeds every tool's layout and the joined pastes.
	corpus, _ := filepath.Glob(filepath.Join(fixtures, "corpus", "*.txt"))
	for _, n := range corpus {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseText(s)
		if err != nil {
			if !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("non-Invalid error %v", err)
			}
			return
		}
		if len(p.Insights) == 0 || len(p.Insights) > MaxInsights {
			t.Fatalf("%d insights without error", len(p.Insights))
		}
		if strings.ContainsFunc(p.Title, invisible) {
			t.Fatalf("title keeps a control or bidi character: %+q", p.Title)
		}
		for i, in := range p.Insights {
			if in.Text == "" || in.ID == "" {
				t.Fatalf("item %d empty: %+v", i, in)
			}
			if _, ok := ParseKind(string(in.Kind)); !ok {
				t.Fatalf("item %d kind %q", i, in.Kind)
			}
			if strings.ContainsFunc(in.Text+in.Owner+in.Due, invisible) {
				t.Fatalf("item %d keeps a control or bidi character: %+v", i, in)
			}
			if utf8.RuneCountInString(in.Owner) > MaxOwnerLen || utf8.RuneCountInString(in.Due) > MaxDueLen || utf8.RuneCountInString(in.Text) > MaxInsightText {
				t.Fatalf("item %d over a limit: %+v", i, in)
			}
		}
	})
}
