package devops

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// MatchRule says how an owner's name was matched to a person.
type MatchRule int

// The rules, strongest first. MatchPerson tries them in this order and stops at
// the first that finds anybody.
const (
	NoMatch         MatchRule = iota
	ExactName                 // "Isaiah Langer" = "Isaiah Langer"
	SameEmail                 // "isaiah.langer@contoso.com" = the person's e-mail
	FoldedName                // "isaiah langer", "Jose Alvarez" = "José Álvarez", "Langer, Isaiah"
	UniqueFirstName           // "Isaiah" and nobody else is called Isaiah
	EmailLocalPart            // "isaiah.langer", "Isaiah Langer" = isaiahl@, ilanger@, isaiah.langer@
)

// PersonMatch is who an owner's name names, and why; or, when nobody could be
// chosen with confidence, the people it could equally be (Ambiguous).
type PersonMatch struct {
	Person    Identity
	Rule      MatchRule
	Why       string     // for people: "exact name", "e-mail isaiah.langer@contoso.com", …
	Ambiguous []Identity // set when the first rule that found anybody found several
}

// Matched reports whether one person was found with confidence.
func (m PersonMatch) Matched() bool { return m.Rule != NoMatch }

// MatchPerson finds the one person among people that owner (a name as written
// in meeting notes: "Isaiah Langer", "@Isaiah", "isaiah.langer",
// "Isaiah Langer <isaiah.langer@contoso.com>") names. The rules run strongest
// first and the first rule that finds anybody decides: one person is a match,
// several are ambiguous and no match, because a weaker rule must never
// overrule a stronger one that found two people (two Alexes stay two Alexes
// even if one of them has the e-mail alex@). People without a unique name
// (e-mail) cannot be assigned work and are ignored.
func MatchPerson(people []Identity, owner string) PersonMatch {
	o := parseOwner(owner)
	if o.display == "" && o.email == "" {
		return PersonMatch{}
	}
	cands := make([]candidate, 0, len(people))
	seen := make(map[string]bool, 2*len(people))
	for _, p := range people {
		un := strings.ToLower(strings.TrimSpace(p.UniqueName))
		id := strings.ToLower(p.ID)
		if un == "" || seen["u:"+un] || (id != "" && seen["i:"+id]) {
			continue // the same person listed twice (by a team and by the search)
		}
		seen["u:"+un] = true
		if id != "" {
			seen["i:"+id] = true
		}
		cands = append(cands, newCandidate(p))
	}
	rules := []struct {
		rule MatchRule
		why  func(candidate) string
		ok   func(candidate) bool
	}{
		{ExactName, fixed("exact name"), func(c candidate) bool { return o.display != "" && collapse(c.id.DisplayName) == o.display }},
		{SameEmail, fixed("same e-mail address"), func(c candidate) bool { return o.email != "" && strings.EqualFold(c.id.UniqueName, o.email) }},
		{FoldedName, fixed("same name ignoring case and accents"), func(c candidate) bool {
			return o.folded != "" && (c.folded == o.folded || (c.reordered != "" && c.reordered == o.folded))
		}},
		{UniqueFirstName, fixed("only person with that first name"), func(c candidate) bool {
			return o.single && c.given != "" && c.given == o.folded
		}},
		{EmailLocalPart, func(c candidate) string { return "e-mail " + c.id.UniqueName }, o.localPartMatches},
	}
	for _, r := range rules {
		var hits []candidate
		for _, c := range cands {
			if r.ok(c) {
				hits = append(hits, c)
			}
		}
		switch len(hits) {
		case 0:
			continue
		case 1:
			return PersonMatch{Person: hits[0].id, Rule: r.rule, Why: r.why(hits[0])}
		}
		amb := make([]Identity, len(hits))
		for i, h := range hits {
			amb[i] = h.id
		}
		return PersonMatch{Ambiguous: amb}
	}
	return PersonMatch{}
}

func fixed(s string) func(candidate) string { return func(candidate) string { return s } }

// initial is the first letter of a word.
func initial(s string) string {
	for _, r := range s {
		return string(r)
	}
	return ""
}

// owner is the parsed owner text.
type owner struct {
	display string // as written, whitespace collapsed
	email   string // when the owner is or carries an e-mail address
	folded  string // display folded (see fold); "" when the owner is only an e-mail
	single  bool   // folded is one word: a first name, or a handle like isaiahl
	compact string // for e-mail local parts: folded without separators
	given   string // first and last word of a name of two words or more
	family  string
}

func parseOwner(s string) owner {
	s = collapse(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, s))
	s = strings.TrimSpace(strings.TrimLeft(s, "@"))
	var o owner
	// "Isaiah Langer <isaiah.langer@contoso.com>", as mail clients write it.
	if i := strings.LastIndexByte(s, '<'); i >= 0 && strings.HasSuffix(s, ">") {
		if e := strings.TrimSpace(s[i+1 : len(s)-1]); isEmail(e) {
			o.email = e
			s = strings.TrimSpace(s[:i])
		}
	}
	if o.email == "" && isEmail(s) {
		o.email, s = s, ""
	}
	o.display = s
	o.folded = nameKey(s)
	local := o.folded
	if o.email != "" {
		local = fold(o.email[:strings.LastIndexByte(o.email, '@')])
	}
	o.compact = compact(local)
	words := strings.Fields(o.folded)
	o.single = len(words) == 1
	if len(words) >= 2 {
		o.given, o.family = words[0], words[len(words)-1]
	}
	return o
}

// localPartMatches is the e-mail rule: the local part of the person's e-mail
// equals the owner written without spaces and dots (isaiah.langer@ for
// "Isaiah Langer" or "isaiah.langer"), or the usual short forms first name +
// initial (isaiahl@) and initial + last name (ilanger@). The short forms are
// weaker, so they count only when the person's display name does not say
// otherwise: Adam Smith's asmith@ is not "Al Smith".
func (o owner) localPartMatches(c candidate) bool {
	if c.local == "" || o.compact == "" {
		return false
	}
	if c.local == o.compact {
		return true
	}
	if o.given == "" || o.family == "" {
		return false
	}
	firstInitial := o.given + initial(o.family)
	initialLast := initial(o.given) + o.family
	if c.local != firstInitial && c.local != initialLast {
		return false
	}
	agrees := func(got, want string) bool {
		return got == "" || got == want || got == initial(want)
	}
	return agrees(c.given, o.given) && agrees(c.family, o.family)
}

// candidate is a person with the keys the rules compare.
type candidate struct {
	id        Identity
	folded    string // display name key
	reordered string // "Langer, Isaiah" as "isaiah langer"
	given     string // first name, folded; "" when the display name does not tell
	family    string
	local     string // e-mail local part, folded, without separators
}

func newCandidate(p Identity) candidate {
	c := candidate{id: p, folded: nameKey(p.DisplayName)}
	if at := strings.LastIndexByte(p.UniqueName, '@'); at > 0 {
		c.local = compact(fold(p.UniqueName[:at]))
	}
	name := c.folded
	// Directories often write "Last, First": read it as "First Last".
	if last, first, ok := strings.Cut(name, ","); ok && strings.TrimSpace(first) != "" && !strings.Contains(first, ",") {
		name = collapse(strings.TrimSpace(first) + " " + strings.TrimSpace(last))
		c.reordered = name
	}
	// A display name that is only the account name ("isaiahl") says nothing about
	// first and last names.
	if c.local != "" && !strings.Contains(name, " ") && compact(name) == c.local {
		return c
	}
	words := strings.Fields(name)
	for i, w := range words {
		words[i] = strings.TrimRight(w, ".")
	}
	if len(words) > 0 {
		c.given = words[0]
	}
	if len(words) >= 2 {
		c.family = words[len(words)-1]
	}
	return c
}

// nameKey folds a display name and drops decorations directories add, such as
// "(Contoso)" or "[External]".
func nameKey(s string) string {
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch r {
		case '(', '[':
			depth++
			continue
		case ')', ']':
			if depth > 0 {
				depth--
			}
			continue
		}
		if depth == 0 {
			b.WriteRune(r)
		}
	}
	return fold(b.String())
}

// fold lower-cases s and removes accents (NFD, then drop the combining marks),
// mapping the few Latin letters that do not decompose, so that "José Álvarez",
// "JOSE ALVAREZ" and "jose alvarez" compare equal; whitespace is collapsed.
func fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		r = unicode.ToLower(r)
		if rep, ok := undecomposed[r]; ok {
			b.WriteString(rep)
			continue
		}
		b.WriteRune(r)
	}
	return collapse(b.String())
}

var undecomposed = map[rune]string{
	'ł': "l", 'ø': "o", 'đ': "d", 'ð': "d", 'ħ': "h", 'ı': "i", 'ß': "ss", 'æ': "ae", 'œ': "oe", 'þ': "th",
}

func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

// compact drops the separators people put in e-mail local parts.
func compact(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '.', '_', '-', '\'', '’':
			return -1
		}
		return r
	}, s)
}

func isEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " <>,;") && strings.Contains(s[at:], ".")
}

// HasIdentityScope reports whether granted (the scopes a token response
// listed) includes vso.identity, which organization-wide people search needs.
func HasIdentityScope(granted []string) bool {
	for _, s := range granted {
		if s == ResourceID+"/vso.identity" || s == "vso.identity" {
			return true
		}
	}
	return false
}
