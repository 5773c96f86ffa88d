package bot

import (
	"hash/maphash"
	"slices"
	"sync"
	"time"

	"github.com/sally-devops/devopsbot/devops"
)

// matchPerson is devops.MatchPerson, remembered. MatchPerson is pure, and
// every open and reload of a create form asks it the same question about the
// same team, rebuilding each member's folded names: a quarter of the bot's own
// allocations on a warm form open. An entry keeps its whole question and a hit
// must equal it, so a hash collision cannot hand out another team's answer.
// The answer's Ambiguous list is shared: callers only read it.
func matchPerson(people []devops.Identity, owner string) devops.PersonMatch {
	key := matchKey(people, owner)
	if m, ok := personMatches.get(key, people, owner); ok {
		return m
	}
	m := devops.MatchPerson(people, owner)
	personMatches.put(key, matchEntry{owner: owner, people: slices.Clone(people), match: m})
	return m
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
var personMatches = &matchCache{max: 256, ttl: 2 * time.Minute, m: map[uint64]matchEntry{}}

type matchEntry struct {
	owner   string
	people  []devops.Identity
	match   devops.PersonMatch
	expires time.Time
}

type matchCache struct {
	max int
	ttl time.Duration
	mu  sync.Mutex
	m   map[uint64]matchEntry
}

func (c *matchCache) get(key uint64, people []devops.Identity, owner string) (devops.PersonMatch, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || time.Now().After(e.expires) || e.owner != owner || !slices.Equal(e.people, people) {
		return devops.PersonMatch{}, false
	}
	return e.match, true
}

func (c *matchCache) put(key uint64, e matchEntry) {
	now := time.Now()
	e.expires = now.Add(c.ttl)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for k, old := range c.m {
			if now.After(old.expires) {
				delete(c.m, k)
			}
		}
		for k := range c.m {
			if len(c.m) < c.max {
				break
			}
			delete(c.m, k) // any: map order is random
		}
	}
	c.m[key] = e
}
