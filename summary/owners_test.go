package summary

import (
	"strings"
	"testing"

	"github.com/sally-devops/devopsbot"
)

// Each place a notes tool or a person puts the owner of an item: the owner
// and the due phrase leave the text, which becomes a clean work item title.
func TestOwnerPlacements(t *testing.T) {
	tests := []struct {
		name, text           string
		wantText, owner, due string
		kind                 devopsbot.Kind
	}{
		{"bracket (Gemini)", "Next steps\n- [ ] [Ana Lima] Send the deck.", "Send the deck.", "Ana Lima", "", devopsbot.KindNextStep},
		{"at and words (Otter, Notion)", "Action items\n- [ ] @Marcus Lee check the renewal dates", "Check the renewal dates", "Marcus Lee", "", devopsbot.KindTask},
		{"at with colon", "Action items\n- @Ana Lima: send the deck", "Send the deck", "Ana Lima", "", devopsbot.KindTask},
		{"trailing at (Notion)", "Action items\n- Publish the status page @Ethan Clark", "Publish the status page", "Ethan Clark", "", devopsbot.KindTask},
		{"name colon", "Action items\n- Ana Lima: send the deck", "Send the deck", "Ana Lima", "", devopsbot.KindTask},
		{"bold name colon (Copilot)", "Action items\n- **Ana Lima**: send the deck", "Send the deck", "Ana Lima", "", devopsbot.KindTask},
		{"name dash with due", "Action items\n- Ana Lima - share the price list by Friday", "Share the price list", "Ana Lima", "Friday", devopsbot.KindTask},
		{"text dash name (Otter, Fathom)", "Action items\n- Send the revised quote - Daniel Park (12:04)", "Send the revised quote", "Daniel Park", "", devopsbot.KindTask},
		{"text then name in parentheses", "Action items\n- Add Fabrikam to the newsletter (Laura Chen)", "Add Fabrikam to the newsletter", "Laura Chen", "", devopsbot.KindTask},
		{"owner parenthesis", "Action items\n- Fix the build (Owner: Adele Vance)", "Fix the build", "Adele Vance", "", devopsbot.KindTask},
		{"assigned and due parenthesis", "Action items\n- Add a health check (Assigned: Omar Haddad, Due: 2026-12-08)", "Add a health check", "Omar Haddad", "2026-12-08", devopsbot.KindTask},
		{"assignee on its own line", "Action items\n- Clean up the flags\n  Assignee: Mateo Alvarez", "Clean up the flags", "Mateo Alvarez", "", devopsbot.KindTask},
		{"owner tail", "To-dos\n[ ] Run the upgrade test — owner: Ben Carter", "Run the upgrade test", "Ben Carter", "", devopsbot.KindTask},
		{"name will", "Tom will write the plan by next Monday.", "Tom will write the plan", "Tom", "next Monday", devopsbot.KindNextStep},
		{"name to", "Diego to book a design review.", "Diego to book a design review.", "Diego", "", devopsbot.KindNextStep},
		{"action for", "Action items\n- Action for Ingrid Olsen: book the planning room", "Book the planning room", "Ingrid Olsen", "", devopsbot.KindTask},
		{"German verb last", "Aufgaben\n- Lena Fischer soll die Preisliste bis Freitag aktualisieren.", "Lena Fischer soll die Preisliste aktualisieren.", "Lena Fischer", "Freitag", devopsbot.KindTask},
		{"French label", "Actions\n- Rédiger la note (Responsable : Manon Girard ; échéance : 12 février)", "Rédiger la note", "Manon Girard", "12 février", devopsbot.KindTask},
		{"Italian future", "Prossimi passi\n- Giulia preparerà un piano entro venerdì.", "Giulia preparerà un piano", "Giulia", "venerdì", devopsbot.KindNextStep},
		{"Spanish future, bare weekday", "Tareas\n- Óscar Prieto enviará la documentación el lunes.", "Óscar Prieto enviará la documentación", "Óscar Prieto", "lunes", devopsbot.KindTask},
		{"Dutch particle name", "Actiepunten\n- Lotte van der Berg: release notes schrijven", "Release notes schrijven", "Lotte van der Berg", "", devopsbot.KindTask},
		{"timestamp kept out", "Notes\n[02:14] Participants struggled to find export. (05:12)", "Participants struggled to find export.", "", "", devopsbot.KindInsight},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseText(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Insights) != 1 {
				t.Fatalf("got %d items, want 1: %+v", len(p.Insights), p.Insights)
			}
			got := p.Insights[0]
			if got.Text != tt.wantText || got.Owner != tt.owner || got.Due != tt.due || got.Kind != tt.kind {
				t.Errorf("got %q owner %q due %q kind %s\nwant %q owner %q due %q kind %s",
					got.Text, got.Owner, got.Due, got.Kind, tt.wantText, tt.owner, tt.due, tt.kind)
			}
		})
	}
}

// Labels and topics that start like "Name: text" are no people.
func TestFalseOwners(t *testing.T) {
	for _, line := range []string{
		"Note: the staging environment was stable.",
		"Q3: planning started too late.",
		"Risk - the vendor may be late.",
		"Friday: release candidate cut.",
		"API - the new endpoint is slow.",
		"**Budget**: Anna said we are 5% under.",
		"Serverumzug: Michael erklärte den Plan.",
		"The team will revisit this in January.",
		"Neue Lieferanten werden geprüft.",
		"Design - finish the mockups.",
	} {
		p, err := ParseText("Notes\n- " + line)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Insights) != 1 || p.Insights[0].Owner != "" {
			t.Errorf("%q: %+v", line, p.Insights)
		}
	}
}

// A line the parser cannot place still becomes an item, and a heading with
// nothing under it is one too.
func TestNothingIsDropped(t *testing.T) {
	text := "Weekly sync\n## Decisions\n- Ship it\n## Budget review\n## Risks\nVendor contract ends in March\nAsk legal\nPricing page"
	p, err := ParseText(text)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range p.Insights {
		got = append(got, in.Text)
	}
	want := []string{"Ship it", "Budget review", "Vendor contract ends in March", "Ask legal", "Pricing page"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("items %q, want %q", got, want)
	}
	if p.Title != "Weekly sync" {
		t.Errorf("title %q", p.Title)
	}
}

// Clients that join the lines of a paste: the structure comes back from the
// markers and heading words, and an ordinary long sentence stays whole.
func TestRecoverLines(t *testing.T) {
	joined := "Weekly ops review Key points: • Disk usage reached 85%. • Two backups failed. Decisions: • Move old logs to cold storage. Next steps: • Yusuf Demir will set up the rule."
	p, err := ParseText(joined)
	if err != nil {
		t.Fatal(err)
	}
	kinds := ""
	for _, in := range p.Insights {
		kinds += string(in.Kind) + " "
	}
	if kinds != "insight insight decision next_step " || p.Insights[3].Owner != "Yusuf Demir" {
		t.Fatalf("kinds %q, items %+v", kinds, p.Insights)
	}
	sentence := "We talked about the roadmap - and about hiring: both matter, said Ana, 1. because of budget and 2. because of time."
	if got := RecoverLines(sentence); got != sentence {
		t.Errorf("sentence split: %q", got)
	}
}
