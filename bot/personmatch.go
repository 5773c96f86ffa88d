package bot

import (
	"hash/maphash"
	"slices"
	"time"

	"github.com/sally-devops/devopsbot/devops"
	"github.com/sally-devops/devopsbot/internal/ttlcache"
)

// matchPerson is devops.MatchPerson, remembered. MatchPerson is pure, and
// every open and reload of a create form asks it the same question about the
// same team, rebuilding each member's folded names: a quarter of the bot's own
// allocations on a warm form open. An entry keeps its whole question and a hit
// must equal it, so a hash collision cannot hand out another team's answer.
// The answer's Ambiguous list is shared: callers only read it.
func matchPerson(people []devops.Identity, owner string) devops.PersonMatch {
	key := matchKey(people, owner)
	if m, ok := rememberedMatch(key, people, owner); ok {
		return m
	}
	m := devops.MatchPerson(people, owner)
	personMatches.Put(key, matchEntry{owner: owner, people: slices.Clone(people), match: m}, time.Now())
	return m
}

// rememberedMatch is the remembered answer under key if it answers this very
// question (a hash collision is another question).
func rememberedMatch(key uint64, people []devops.Identity, owner string) (devops.PersonMatch, bool) {
	e, ok := personMatches.Get(key, time.Now())
	if !ok || e.owner != owner || !slices.Equal(e.people, people) {
		return devops.PersonMatch{}, false
	}
	return e.match, true
}

var matchSeed = maphash.MakeSeed()

func matchKey(people []devops.Identity, owner string) uint64 {
	var h maphash.Hash
	h.SetSeed(matchSeed)
	h.WriteString(owner)
	for _, p := range people {
		// A zero byte cannot end a field early: IDs, names and e-mails have none
		// that matter, and a collision is caught by the comparison anyway.
		h.WriteByte(0)
		h.WriteString(p.ID)
		h.WriteByte(0)
		h.WriteString(p.DisplayName)
		h.WriteByte(0)
		h.WriteString(p.UniqueName)
	}
	return h.Sum64()
}

// personMatches is shared by every Bot in the process: an entry is the answer
// to the question it holds, whoever asks. Bounded; entries go after a while.
var personMatches = ttlcache.New[uint64, matchEntry](2*time.Minute, 256)

type matchEntry struct {
	owner  string
	people []devops.Identity
	match  devops.PersonMatch
}
