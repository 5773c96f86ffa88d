package bot

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot/cards"
	"github.com/sally-devops/devopsbot/internal/ttlcache"
	"github.com/sally-devops/devopsbot/teams"
)

func sampleCreateForm() *cards.CreateFormView {
	return &cards.CreateFormView{
		SummaryID: "s1", InsightID: "t1", Insight: "Add a timeout",
		Projects:      []cards.Choice{{Title: "Web Portal", Value: "Web Portal"}, {Title: "Mobile", Value: "Mobile"}},
		WorkItemTypes: []cards.Choice{{Title: "Task", Value: "Task"}, {Title: "Bug", Value: "Bug"}},
		People:        []cards.Choice{{Title: "Adele Vance (adele@contoso.com)", Value: "adele@contoso.com"}},
		Areas:         []cards.Choice{{Title: "Web Portal", Value: "Web Portal"}},
		Iterations:    []cards.Choice{{Title: "Web Portal\\Sprint 1", Value: "Web Portal\\Sprint 1"}},
		Values: cards.CreateValues{Project: "Web Portal", WorkItemType: "Task", AssignedTo: "adele@contoso.com", AreaPath: "Web Portal",
			IterationPath: "Web Portal\\Sprint 1", Title: "Add a timeout", Description: "From the meeting"},
	}
}

// The encoded form is the card the view makes, byte for byte, on the first
// open and on every open after it; any difference in what the form shows,
// however small, is a different card, never the one cached before.
func TestEncodedCreateFormIsAlwaysTheCardOfItsContent(t *testing.T) {
	b := &Bot{}
	fresh := func(v *cards.CreateFormView) []byte {
		want, err := json.Marshal(b.createFormCard(v))
		if err != nil {
			t.Fatal(err)
		}
		return want
	}
	encoded := func(v *cards.CreateFormView) []byte {
		enc, ok := b.encodedCreateForm(v).(teams.EncodedCard)
		if !ok {
			t.Fatalf("not encoded: %T", b.encodedCreateForm(v))
		}
		return enc.JSON()
	}
	v := sampleCreateForm()
	for range 2 {
		if got := encoded(v); !bytes.Equal(got, fresh(v)) {
			t.Fatalf("encoded form differs from the card:\n%s\n%s", got, fresh(v))
		}
	}
	for name, change := range map[string]func(*cards.CreateFormView){
		"a member's name": func(v *cards.CreateFormView) { v.People[0].Title = "Adele V." },
		"the selection":   func(v *cards.CreateFormView) { v.Values.WorkItemType = "Bug" },
		"an error":        func(v *cards.CreateFormView) { v.Error, v.ErrorCode = "Title is required.", "title" },
		"the owner note":  func(v *cards.CreateFormView) { v.ResponsibleNote = "Matched Adele" },
		"another insight": func(v *cards.CreateFormView) { v.InsightID = "t2" },
		"one more project": func(v *cards.CreateFormView) {
			v.Projects = append(v.Projects, cards.Choice{Title: "Ops", Value: "Ops"})
		},
	} {
		w := sampleCreateForm()
		encoded(w) // cached as it was
		change(w)
		if got := encoded(w); !bytes.Equal(got, fresh(w)) {
			t.Errorf("after changing %s the form is stale", name)
		}
	}
	// The demo banner is part of the content too.
	demo := &Bot{cfg: Config{Demo: &Demo{}}}
	raw := demo.encodedCreateForm(sampleCreateForm()).(teams.EncodedCard).JSON()
	if !strings.Contains(string(raw), "Demo") || bytes.Equal(raw, encoded(sampleCreateForm())) {
		t.Errorf("a demo bot got the card without the banner: %.200s", raw)
	}
}

// A warm open of the same form does not build the card again: it costs a
// small, fixed number of allocations instead of the card's hundreds.
func TestEncodedCreateFormIsBuiltOnce(t *testing.T) {
	b := &Bot{}
	v := sampleCreateForm()
	cold := testing.AllocsPerRun(1, func() { encodedForms.Clear(); b.encodedCreateForm(v) })
	warm := testing.AllocsPerRun(20, func() { b.encodedCreateForm(v) })
	if warm > 10 || warm*5 > cold {
		t.Fatalf("a warm encode made %.0f allocations (a cold one %.0f)", warm, cold)
	}
}

func TestFormCacheIsBoundedAndForgets(t *testing.T) {
	c := ttlcache.New[[sha256.Size]byte, teams.EncodedCard](time.Hour, 4)
	now := time.Now()
	for i := range 10 {
		c.Put(sha256.Sum256([]byte{byte(i)}), emptyCard, now)
		if c.Len() > 4 {
			t.Fatalf("%d entries, bound 4", c.Len())
		}
	}
	if _, ok := c.Get(sha256.Sum256([]byte{9}), now); !ok {
		t.Fatal("the newest entry is gone")
	}
	k := sha256.Sum256([]byte("old"))
	c.Put(k, emptyCard, now)
	if _, ok := c.Get(k, now.Add(time.Hour)); ok {
		t.Fatal("an expired entry was served")
	}
}

var emptyCard, _ = teams.EncodeCard(struct{}{})
