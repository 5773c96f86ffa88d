package bot

import (
	"reflect"
	"strconv"
	"testing"

	"github.com/sally-devops/devopsbot/devops"
)

// A remembered match is MatchPerson's answer to the very same question: the
// same owner and the same people, in the same order, with the same names.
func TestRememberedPersonMatchIsTheAnswerOfItsQuestion(t *testing.T) {
	team := []devops.Identity{
		{ID: "1", DisplayName: "Adele Vance", UniqueName: "adele@contoso.com"},
		{ID: "2", DisplayName: "Alex Wilber", UniqueName: "alex@contoso.com"},
	}
	ask := func(people []devops.Identity, owner string) {
		t.Helper()
		for range 2 { // the first answer is computed, the second remembered
			if got, want := matchPerson(people, owner), devops.MatchPerson(people, owner); !reflect.DeepEqual(got, want) {
				t.Errorf("matchPerson(%v, %q) = %+v, want %+v", people, owner, got, want)
			}
		}
	}
	ask(team, "Adele")
	ask(team, "Alex")
	renamed := []devops.Identity{team[0], {ID: "2", DisplayName: "Adele Wilber", UniqueName: "alex@contoso.com"}}
	ask(renamed, "Adele") // now two Adeles: ambiguous, not the Adele remembered
	ask(team[:1], "Alex") // Alex left the team
	ask(append([]devops.Identity{{ID: "3", DisplayName: "Alex Vance", UniqueName: "av@contoso.com"}}, team...), "Alex")

	// An entry answers only its own question, even under the same key.
	key := matchKey(team, "Adele")
	if _, ok := rememberedMatch(key, renamed, "Adele"); ok {
		t.Error("an entry answered for other people")
	}
	if _, ok := rememberedMatch(key, team, "Alex"); ok {
		t.Error("an entry answered for another owner")
	}

	// Remembered, it costs next to nothing.
	if n := testing.AllocsPerRun(20, func() { matchPerson(team, "Adele") }); n > 1 {
		t.Errorf("a remembered match made %.0f allocations", n)
	}
}

// Owner names come from meeting notes anyone can deliver: the process-wide
// cache of answers stays within its bound however many names arrive.
func TestPersonMatchCacheIsBounded(t *testing.T) {
	team := []devops.Identity{{ID: "1", DisplayName: "Adele Vance", UniqueName: "adele@contoso.com"}}
	for i := range 1000 {
		matchPerson(team, "owner "+strconv.Itoa(i))
		if n := personMatches.Len(); n > 256 {
			t.Fatalf("%d entries, bound 256", n)
		}
	}
}
