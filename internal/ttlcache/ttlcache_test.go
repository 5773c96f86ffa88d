package ttlcache

import (
	"testing"
	"time"
)

// The caches are bounded: a flood of distinct keys (clicks on many summaries,
// many users) never grows them past their size, and expired entries go first.
func TestTTLCacheIsBounded(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	later := now.Add(time.Minute) // 1 has expired, 2 and 3 have not
	var c *Cache[int, int]
	// Which live entry a full cache drops is up to map order: repeat, so
	// dropping a live one while an expired one is there cannot pass by luck.
	for range 20 {
		c = New[int, int](time.Minute, 3)
		c.Put(1, 1, now)
		c.Put(2, 2, now.Add(30*time.Second))
		c.Put(3, 3, now.Add(30*time.Second))
		c.Put(4, 4, later)
		if c.Len() != 3 {
			t.Fatalf("%d entries, want at most 3", c.Len())
		}
		for _, k := range []int{2, 3, 4} {
			if v, ok := c.Get(k, later); !ok || v != k {
				t.Fatalf("entry %d lost while an expired one was there to drop", k)
			}
		}
	}
	for i := range 100 {
		c.Put(10+i, i, later)
	}
	if c.Len() != 3 {
		t.Fatalf("%d entries after a flood, want at most 3", c.Len())
	}
	if _, ok := c.Get(4, later.Add(time.Minute)); ok {
		t.Fatal("an entry outlived its TTL")
	}
}
