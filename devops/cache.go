package devops

import (
	"context"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/singleflight"

	"github.com/sally-devops/devopsbot/apperr"
)

// FormData is everything the create-work-item form needs for one project.
type FormData struct {
	Types      []WorkItemType
	Areas      []string
	Iterations []Iteration
	Members    []Identity
	Defaults   TeamDefaults
}

// MetadataCache keeps project metadata for a while so that opening a form does
// not spend the user's Azure DevOps request budget (200 TSTUs per 5 minutes).
// Project lists are per user (visibility differs); form data is per
// organization and project. Concurrent misses for one key share one fetch.
//
// Callers must only ask FormData for a project the user can see (one from that
// user's Projects): the cached entry may have been fetched with another user's token.
type MetadataCache struct {
	ttl  time.Duration
	max  int // entries
	now  func() time.Time
	sf   singleflight.Group
	mu   sync.Mutex
	data map[string]cacheEntry
}

type cacheEntry struct {
	val     any
	expires time.Time
}

// NewMetadataCache returns a cache whose entries live for ttl (default 10 minutes).
func NewMetadataCache(ttl time.Duration) *MetadataCache {
	if ttl <= 0 {
		ttl = 10 * time.Minute
	}
	return newSharedCache(ttl, maxCacheEntries)
}

// newSharedCache is the engine of MetadataCache and StatusCache: entries live
// for ttl, at most max of them, and concurrent misses share one fetch.
func newSharedCache(ttl time.Duration, max int) *MetadataCache {
	return &MetadataCache{ttl: ttl, max: max, now: time.Now, data: map[string]cacheEntry{}}
}

func orgKey(c *Client) string { return strings.ToLower(c.org.URL) }

// Projects returns the user's projects in c's organization.
func (m *MetadataCache) Projects(ctx context.Context, userKey string, c *Client) ([]Project, error) {
	key := "projects\x00" + orgKey(c) + "\x00" + userKey
	v, _, err := m.get(ctx, key, func(ctx context.Context) (any, error) { return c.ListProjects(ctx) })
	if err != nil {
		return nil, err
	}
	return v.([]Project), nil
}

// FormData returns the form metadata of project; a miss reads the five parts in parallel.
func (m *MetadataCache) FormData(ctx context.Context, c *Client, project string) (*FormData, error) {
	key := "form\x00" + orgKey(c) + "\x00" + strings.ToLower(project)
	v, _, err := m.get(ctx, key, func(ctx context.Context) (any, error) {
		fd := &FormData{}
		g, gctx := errgroup.WithContext(ctx)
		g.Go(func() (err error) { fd.Types, err = c.ListWorkItemTypes(gctx, project); return })
		g.Go(func() (err error) { fd.Areas, err = c.ListAreas(gctx, project); return })
		g.Go(func() (err error) { fd.Iterations, err = c.ListIterations(gctx, project); return })
		g.Go(func() (err error) { fd.Members, err = c.ListMembers(gctx, project); return })
		g.Go(func() (err error) { fd.Defaults, err = c.TeamDefaults(gctx, project); return })
		if err := g.Wait(); err != nil {
			return nil, err
		}
		return fd, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*FormData), nil
}

// People searches the organization's people for query (SearchIdentities, which
// needs vso.identity). Results are kept per user: an organization may limit
// what some users see of its directory, so one user's answer is not another's.
func (m *MetadataCache) People(ctx context.Context, userKey string, c *Client, query string) ([]Identity, error) {
	key := "people\x00" + orgKey(c) + "\x00" + userKey + "\x00" + strings.ToLower(strings.TrimSpace(query))
	v, _, err := m.get(ctx, key, func(ctx context.Context) (any, error) { return c.SearchIdentities(ctx, query) })
	if err != nil {
		return nil, err
	}
	return v.([]Identity), nil
}

// maxCacheEntries bounds the metadata cache: people searches are keyed by the owner
// names of meeting notes, which anyone who can deliver a summary chooses.
const maxCacheEntries = 20000

// pruneLocked drops expired entries and, if that is not enough, arbitrary ones
// down to three quarters of the bound (a dropped entry only costs a refetch).
func (m *MetadataCache) pruneLocked() {
	now := m.now()
	for k, e := range m.data {
		if !now.Before(e.expires) {
			delete(m.data, k)
		}
	}
	for k := range m.data {
		if len(m.data) < m.max*3/4 {
			break
		}
		delete(m.data, k)
	}
}

// get serves key from the cache (cached) or fetches it once for all
// concurrent callers. Errors are not cached. The fetch is detached from the
// first caller's cancellation so that one impatient caller does not fail the
// others.
func (m *MetadataCache) get(ctx context.Context, key string, fetch func(context.Context) (any, error)) (v any, cached bool, err error) {
	m.mu.Lock()
	if e, ok := m.data[key]; ok && m.now().Before(e.expires) {
		m.mu.Unlock()
		return e.val, true, nil
	}
	m.mu.Unlock()
	ch := m.sf.DoChan(key, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		v, err := fetch(fctx)
		if err != nil {
			return nil, err
		}
		m.mu.Lock()
		if len(m.data) >= m.max {
			m.pruneLocked()
		}
		m.data[key] = cacheEntry{val: v, expires: m.now().Add(m.ttl)}
		m.mu.Unlock()
		return v, nil
	})
	select {
	case <-ctx.Done():
		return nil, false, apperr.Wrap(apperr.Unavailable, "Azure DevOps took too long to answer. Please try again.", ctx.Err())
	case r := <-ch:
		return r.Val, false, r.Err
	}
}
