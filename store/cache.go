package store

import (
	"context"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/internal/ttlcache"
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
	summaries *ttlcache.Cache[string, *devopsbot.Summary]
	done      *ttlcache.Cache[string, []devopsbot.InsightLink] // by summary id
	prefs     *ttlcache.Cache[string, devopsbot.Prefs]         // by userDocID
	chatDefs  *ttlcache.Cache[string, devopsbot.ChatDefaults]  // by conversation id (chatdefaults.go)
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
		summaries: ttlcache.New[string, *devopsbot.Summary](ttl, maxCachedSummaries),
		done:      ttlcache.New[string, []devopsbot.InsightLink](ttl, maxCachedLinkSets),
		prefs:     ttlcache.New[string, devopsbot.Prefs](ttl, maxCachedPrefs),
		chatDefs:  ttlcache.New[string, devopsbot.ChatDefaults](ttl, maxCachedPrefs),
	}
}

// GetSummaryCached is GetSummary from this process's cache when it read or wrote
// the summary less than CacheTTL ago: for clicks, which need the meeting and its
// insights, never the posted-cards list (which may be that old here).
func (s *Store) GetSummaryCached(ctx context.Context, id string) (*devopsbot.Summary, error) {
	now := s.nowUTC()
	if sm, ok := s.summaries.Get(id, now); ok && sm.ExpiresAt.After(now) {
		cp := *sm
		return &cp, nil
	}
	return s.GetSummary(ctx, id)
}

func (s *Store) cacheSummary(sm *devopsbot.Summary) {
	cp := *sm
	s.summaries.Put(sm.ID, &cp, s.nowUTC())
}

// forgetSummaries drops what this process caches about summaries it deleted.
func (s *Store) forgetSummaries(ids []string) {
	for _, id := range ids {
		s.summaries.Delete(id)
		s.done.Delete(id)
	}
}

// KnownDoneLinks returns the finished results of a summary that this process has
// seen in the last CacheTTL (listed, completed, or met when claiming), without
// asking the database: enough for a form to say "already done" when it is known;
// the claim at submit is what guards against a second work item.
func (s *Store) KnownDoneLinks(summaryID string) []devopsbot.InsightLink {
	links, _ := s.done.Get(summaryID, s.nowUTC())
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
	s.done.Put(summaryID, done, s.nowUTC())
}

func (s *Store) rememberDone(l devopsbot.InsightLink) {
	if l.State != devopsbot.LinkDone {
		return
	}
	now := s.nowUTC()
	known, _ := s.done.Get(l.Key.SummaryID, now)
	out := make([]devopsbot.InsightLink, 0, len(known)+1)
	for _, k := range known {
		if k.Key != l.Key {
			out = append(out, k)
		}
	}
	s.done.Put(l.Key.SummaryID, append(out, l), now)
}

// GetPrefsCached is GetPrefs from this process's write-through cache when it is
// less than CacheTTL old: preferences only pre-fill a form.
func (s *Store) GetPrefsCached(ctx context.Context, u devopsbot.UserKey) (*devopsbot.Prefs, error) {
	if err := devopsbot.CheckUser(u); err != nil {
		return nil, err
	}
	if p, ok := s.prefs.Get(userDocID(u), s.nowUTC()); ok {
		return &p, nil
	}
	return s.GetPrefs(ctx, u)
}
