package devops_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/sally-devops/devopsbot/devops"
)

func person(id, name, email string) devops.Identity {
	return devops.Identity{ID: id, DisplayName: name, UniqueName: email}
}

var (
	isaiah  = person("1", "Isaiah Langer", "isaiah.langer@contoso.com")
	jose    = person("2", "José Álvarez", "jose.alvarez@contoso.com")
	alex    = person("3", "Alex Wilber", "alex@contoso.com")
	meganB  = person("4", "Megan Bowen", "megan@contoso.com")
	meganR  = person("5", "Megan Rivera", "meganr@contoso.com")
	lidia   = person("6", "Holloway, Lidia", "lidiah@contoso.com")
	nestor  = person("7", "Wilke, N.", "nestorw@contoso.com")
	adam    = person("8", "Adam Smith", "asmith@contoso.com")
	lukasz  = person("9", "Łukasz Nowak", "lukasz.nowak@contoso.com")
	patti   = person("10", "Patti Fernandez (Contoso)", "pfernandez@contoso.com")
	noEmail = person("11", "Zed Group", "")
	people  = []devops.Identity{isaiah, jose, alex, meganB, meganR, lidia, nestor, adam, lukasz, patti, noEmail}
)

func TestMatchPerson(t *testing.T) {
	alexJ := person("20", "Alex Johnson", "alexj@contoso.com")
	alexTwin := person("21", "Alex Wilber", "alex.wilber@fabrikam.com")
	account := person("22", "isaiahl", "isaiahl@contoso.com")
	for _, tc := range []struct {
		owner  string
		people []devops.Identity // default: people
		want   devops.Identity
		rule   devops.MatchRule
		why    string
		amb    []devops.Identity
	}{
		{owner: "Isaiah Langer", want: isaiah, rule: devops.ExactName, why: "exact name"},
		{owner: "  Isaiah   Langer ", want: isaiah, rule: devops.ExactName, why: "exact name"},
		{owner: "Megan Bowen", want: meganB, rule: devops.ExactName, why: "exact name"}, // another Megan does not matter
		{owner: "Isaiah Langer <isaiah.langer@contoso.com>", want: isaiah, rule: devops.ExactName, why: "exact name"},
		{owner: "Isaiah\u202e Langer", want: isaiah, rule: devops.ExactName, why: "exact name"}, // bidi control dropped
		{owner: "adele@contoso.com", people: append([]devops.Identity{person("30", "Adele Vance", "Adele@Contoso.com")}, people...),
			want: person("30", "Adele Vance", "Adele@Contoso.com"), rule: devops.SameEmail, why: "same e-mail address"},
		{owner: "Izzy <isaiah.langer@contoso.com>", want: isaiah, rule: devops.SameEmail, why: "same e-mail address"},
		{owner: "isaiah langer", want: isaiah, rule: devops.FoldedName, why: "same name ignoring case and accents"},
		{owner: "jose alvarez", want: jose, rule: devops.FoldedName, why: "same name ignoring case and accents"},
		{owner: "JOSÉ ÁLVAREZ", want: jose, rule: devops.FoldedName, why: "same name ignoring case and accents"},
		{owner: "Jose\u0301 A\u0301lvarez", want: jose, rule: devops.FoldedName, why: "same name ignoring case and accents"}, // decomposed input
		{owner: "Lukasz Nowak", want: lukasz, rule: devops.FoldedName, why: "same name ignoring case and accents"},
		{owner: "Lidia Holloway", want: lidia, rule: devops.FoldedName, why: "same name ignoring case and accents"},  // "Last, First"
		{owner: "Patti Fernandez", want: patti, rule: devops.FoldedName, why: "same name ignoring case and accents"}, // "(Contoso)" dropped
		{owner: "@Isaiah", want: isaiah, rule: devops.UniqueFirstName, why: "only person with that first name"},
		{owner: "Alex", want: alex, rule: devops.UniqueFirstName, why: "only person with that first name"},
		{owner: "lidia", want: lidia, rule: devops.UniqueFirstName, why: "only person with that first name"},
		{owner: "jose", want: jose, rule: devops.UniqueFirstName, why: "only person with that first name"},
		{owner: "isaiah.langer", want: isaiah, rule: devops.EmailLocalPart, why: "e-mail isaiah.langer@contoso.com"},
		{owner: "Isaiah_Langer", want: isaiah, rule: devops.EmailLocalPart, why: "e-mail isaiah.langer@contoso.com"},
		{owner: "isaiah.langer@fabrikam.com", want: isaiah, rule: devops.EmailLocalPart, why: "e-mail isaiah.langer@contoso.com"}, // a guest's other address
		{owner: "Nestor Wilke", want: nestor, rule: devops.EmailLocalPart, why: "e-mail nestorw@contoso.com"},                     // first name + initial
		{owner: "P Fernandez", want: patti, rule: devops.EmailLocalPart, why: "e-mail pfernandez@contoso.com"},
		{owner: "Isaiah Langer", people: []devops.Identity{account}, want: account, rule: devops.EmailLocalPart, why: "e-mail isaiahl@contoso.com"},
		{owner: "Isaiah Langer", people: []devops.Identity{person("23", "I. Langer", "ilanger@contoso.com")}, want: person("23", "I. Langer", "ilanger@contoso.com"),
			rule: devops.EmailLocalPart, why: "e-mail ilanger@contoso.com"}, // initial + last name
		{owner: "Isaiah", people: append([]devops.Identity{isaiah}, people...), want: isaiah, rule: devops.UniqueFirstName, why: "only person with that first name"}, // listed twice is one person

		// Ambiguous: two people fit the first rule that finds anybody.
		{owner: "Megan", amb: []devops.Identity{meganB, meganR}},
		{owner: "megan", amb: []devops.Identity{meganB, meganR}},
		{owner: "Alex Wilber", people: []devops.Identity{alex, alexTwin}, amb: []devops.Identity{alex, alexTwin}},
		// The e-mail rule would pick alex@, but a stronger rule found two Alexes.
		{owner: "Alex", people: []devops.Identity{alex, alexJ}, amb: []devops.Identity{alex, alexJ}},

		// Nobody.
		{owner: "Zed"},
		{owner: "Zed Group"}, // no e-mail: cannot be assigned
		{owner: "Al Smith"},  // asmith@ is Adam Smith: his name says otherwise
		{owner: "Langer"},    // a last name alone is not a first name
		{owner: ""},
		{owner: "@"},
		{owner: " \u200b "},
		{owner: "Isaiah", people: []devops.Identity{}},
	} {
		ps := tc.people
		if ps == nil {
			ps = people
		}
		m := devops.MatchPerson(ps, tc.owner)
		if m.Person != tc.want || m.Rule != tc.rule || m.Why != tc.why || m.Matched() != (tc.rule != devops.NoMatch) {
			t.Errorf("MatchPerson(%q) = %+v (rule %d, %q); want %+v (rule %d, %q)", tc.owner, m.Person, m.Rule, m.Why, tc.want, tc.rule, tc.why)
		}
		if len(m.Ambiguous) != len(tc.amb) {
			t.Errorf("MatchPerson(%q) ambiguous = %+v; want %+v", tc.owner, m.Ambiguous, tc.amb)
			continue
		}
		for i := range tc.amb {
			if m.Ambiguous[i] != tc.amb[i] {
				t.Errorf("MatchPerson(%q) ambiguous = %+v; want %+v", tc.owner, m.Ambiguous, tc.amb)
			}
		}
	}
}

func TestHasIdentityScope(t *testing.T) {
	for _, tc := range []struct {
		scopes []string
		want   bool
	}{
		{devops.Scopes(true), true},
		{devops.Scopes(false), false},
		{[]string{"vso.identity"}, true},
		{[]string{devops.ResourceID + "/vso.identity_manage"}, false},
		{nil, false},
	} {
		if got := devops.HasIdentityScope(tc.scopes); got != tc.want {
			t.Errorf("HasIdentityScope(%v) = %v", tc.scopes, got)
		}
	}
}

// FuzzMatchPerson: any owner text, never a panic, and a match is always one of
// the people given, assignable, with a reason.
func FuzzMatchPerson(f *testing.F) {
	for _, s := range []string{"Isaiah Langer", "@Isaiah", "jose alvarez", "isaiah.langer@fabrikam.com", "Megan", "Izzy <isaiah.langer@contoso.com>",
		"Langer, Isaiah", "(", ")]", "@@@", "a@b.c", "\u0301", "İ", "ß", "Ł. W"} {
		f.Add(s, "")
	}
	f.Add("Zed", "Zed, ")
	f.Fuzz(func(t *testing.T, owner, extraName string) {
		ps := append([]devops.Identity{person("x", extraName, "x@contoso.com")}, people...)
		m := devops.MatchPerson(ps, owner)
		if m.Matched() {
			if m.Why == "" || m.Person.UniqueName == "" || len(m.Ambiguous) != 0 {
				t.Fatalf("MatchPerson(%q) = %+v", owner, m)
			}
			found := false
			for _, p := range ps {
				found = found || p == m.Person
			}
			if !found {
				t.Fatalf("MatchPerson(%q) matched someone not given: %+v", owner, m.Person)
			}
		}
		if len(m.Ambiguous) == 1 {
			t.Fatalf("MatchPerson(%q): one ambiguous person is a match: %+v", owner, m)
		}
		// A unique person's exact name always finds that person.
		if utf8.ValidString(owner) && strings.TrimSpace(owner) == owner && owner != "" && !strings.ContainsAny(owner, "<>@") {
			if got := devops.MatchPerson([]devops.Identity{person("y", owner, "y@contoso.com")}, owner); !got.Matched() && strings.Join(strings.Fields(owner), " ") == owner && printable(owner) {
				t.Fatalf("exact name %q not matched: %+v", owner, got)
			}
		}
	})
}

// printable: no controls or format characters, which owners lose (bidi tricks).
func printable(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return false
		}
	}
	return true
}
