package store

import (
	"context"
	"sync"
	"time"

	"github.com/sally-devops/devopsbot"
)

// Caching: what a click reads that does not change, or is only a hint, is kept
// in this process for a short while, so opening a form costs one round trip (the
// user's connection, which is never cached: a disconnect or new tokens must take
// effect at once on every replica). Each entry lives CacheTTL at most: a purge or
// an uninstall handled by another replica reaches this one within it; this
// process's own writes update or drop its entries at once.
//   - Summaries are immutable once stored, except their posted-cards list, which
//     GetSummaryCached may return up to CacheTTL old (GetSummary reads it fresh),
//     and a meeting summary's insights when Copilot's replace the transcript's
//     (ReplaceSummaryContent): other replicas see those within CacheTTL, and at
//     once for a click on an insight they do not know (the bot reads it fresh).
//   - Done results (links) are final: only a purge removes them.
//   - Preferences are a hint: written through, another replica's newer choice
//     shows within CacheTTL.

const (
	DefaultCacheTTL = 30 * time.Second
	MaxCacheTTL     = time.Minute

	maxCachedSummaries = 512    // a summary document is a few KB
	maxCachedLinkSets  = 1024   // done links per summary
	maxCachedPrefs     = 10_000 // a hundred bytes each
)

type caches struct {
	summaries *ttlCache[string, *devopsbot.Summary]
	done      *ttlCache[string, []devopsbot.InsightLink] // by summary id
	prefs     *ttlCache[string, devopsbot.Prefs]         // by userDocID
	chatDefs  *ttlCache[string, devopsbot.ChatDefaults]  // by conversation id (chatdefaults.go)
}

func newCaches(ttl time.Duration) caches {
	switch {
	case ttl == 0:
		ttl = DefaultCacheTTL
	case ttl > MaxCacheTTL:
		ttl = MaxCacheTTL
	case ttl < 0:
		ttl = 0 // off
	}
	return caches{
		summaries: newTTLCache[string, *devopsbot.Summary](ttl, maxCachedSummaries),
		done:      newTTLCache[string, []devopsbot.InsightLink](ttl, maxCachedLinkSets),
		prefs:     newTTLCache[string, devopsbot.Prefs](ttl, maxCachedPrefs),
		chatDefs:  newTTLCache[string, devopsbot.ChatDefaults](ttl, maxCachedPrefs),
	}
}

// ttlCache is a small bounded map whose entries expire. When full, expired
// entries go first, then arbitrary ones: a miss costs one read, so no ordering
// is worth its bookkeeping.
type ttlCache[K comparable, V any] struct {
	ttl time.Duration
	max int

	mu sync.Mutex
	m  map[K]cached[V]
}

type cached[V any] struct {
	v       V
	expires time.Time
}

func newTTLCache[K comparable, V any](ttl time.Duration, max int) *ttlCache[K, V] {
	return &ttlCache[K, V]{ttl: ttl, max: max, m: map[K]cached[V]{}}
}

func (c *ttlCache[K, V]) get(k K, now time.Time) (V, bool) {
	var zero V
	if c.ttl <= 0 {
		return zero, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		return zero, false
	}
	if !now.Before(e.expires) {
		delete(c.m, k)
		return zero, false
	}
	return e.v, true
}

func (c *ttlCache[K, V]) put(k K, v V, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		for key, e := range c.m {
			if !now.Before(e.expires) {
				delete(c.m, key)
			}
		}
		for key := range c.m {
			if len(c.m) < c.max {
				break
			}
			delete(c.m, key)
		}
	}
	c.m[k] = cached[V]{v: v, expires: now.Add(c.ttl)}
}

// update changes an entry in place, keeping its expiry; absent entries stay absent.
func (c *ttlCache[K, V]) update(k K, f func(V) V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[k]; ok {
		e.v = f(e.v)
		c.m[k] = e
	}
}

func (c *ttlCache[K, V]) del(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, k)
}

// GetSummaryCached is GetSummary from this process's cache when it read or wrote
// the summary less than CacheTTL ago: for clicks, which need the meeting and its
// insights, never the posted-cards list (which may be that old here).
func (s *Store) GetSummaryCached(ctx context.Context, id string) (*devopsbot.Summary, error) {
	now := s.nowUTC()
	if sm, ok := s.summaries.get(id, now); ok && sm.ExpiresAt.After(now) {
		cp := *sm
		return &cp, nil
	}
	return s.GetSummary(ctx, id)
}

func (s *Store) cacheSummary(sm *devopsbot.Summary) {
	cp := *sm
	s.summaries.put(sm.ID, &cp, s.nowUTC())
}

// forgetSummaries drops what this process caches about summaries it deleted.
func (s *Store) forgetSummaries(ids []string) {
	for _, id := range ids {
		s.summaries.del(id)
		s.done.del(id)
	}
}

// KnownDoneLinks returns the finished results of a summary that this process has
// seen in the last CacheTTL (listed, completed, or met when claiming), without
// asking the database: enough for a form to say "already done" when it is known;
// the claim at submit is what guards against a second work item.
func (s *Store) KnownDoneLinks(summaryID string) []devopsbot.InsightLink {
	links, _ := s.done.get(summaryID, s.nowUTC())
	return links
}

// rememberDone records done links of one summary as the full set (listed) or
// adds one (completed, or found when claiming).
func (s *Store) rememberDoneList(summaryID string, all []devopsbot.InsightLink) {
	var done []devopsbot.InsightLink
	for _, l := range all {
		if l.State == devopsbot.LinkDone {
			done = append(done, l)
		}
	}
	s.done.put(summaryID, done, s.nowUTC())
}

func (s *Store) rememberDone(l devopsbot.InsightLink) {
	if l.State != devopsbot.LinkDone {
		return
	}
	now := s.nowUTC()
	known, _ := s.done.get(l.Key.SummaryID, now)
	out := make([]devopsbot.InsightLink, 0, len(known)+1)
	for _, k := range known {
		if k.Key != l.Key {
			out = append(out, k)
		}
	}
	s.done.put(l.Key.SummaryID, append(out, l), now)
}

// GetPrefsCached is GetPrefs from this process's write-through cache when it is
// less than CacheTTL old: preferences only pre-fill a form.
func (s *Store) GetPrefsCached(ctx context.Context, u devopsbot.UserKey) (*devopsbot.Prefs, error) {
	if err := validUser(u); err != nil {
		return nil, err
	}
	if p, ok := s.prefs.get(userDocID(u), s.nowUTC()); ok {
		return &p, nil
	}
	return s.GetPrefs(ctx, u)
}
