package devops

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// Owner names come from meeting notes anyone can deliver: the cache of people
// searches must not grow without bound.
func TestMetadataCacheIsBounded(t *testing.T) {
	m := NewMetadataCache(time.Hour)
	clock := time.Unix(1_800_000_000, 0)
	m.now = func() time.Time { return clock }
	ctx := context.Background()
	fetch := func(context.Context) (any, error) { return []Identity{}, nil }
	for i := range maxCacheEntries + 100 {
		if _, _, err := m.get(ctx, "people\x00k"+strconv.Itoa(i), fetch); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(m.data); n > maxCacheEntries {
		t.Fatalf("cache holds %d entries, bound %d", n, maxCacheEntries)
	}
	// Expired entries go first: after the TTL, a prune leaves only the new one.
	clock = clock.Add(2 * time.Hour)
	for len(m.data) < maxCacheEntries {
		m.data["filler"+strconv.Itoa(len(m.data))] = cacheEntry{expires: clock.Add(-time.Second)}
	}
	if _, _, err := m.get(ctx, "fresh", fetch); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.data["fresh"]; !ok || len(m.data) != 1 {
		t.Fatalf("after expiry the cache holds %d entries, want just the new one", len(m.data))
	}
}
