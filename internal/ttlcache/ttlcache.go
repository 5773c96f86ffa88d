// Package ttlcache is the one small bounded map whose entries expire, for what
// this process keeps a short while: the store's reads, the bot's encoded forms
// and person matches. When full, expired entries go first, then arbitrary ones:
// a miss costs one read or rebuild, so no ordering is worth its bookkeeping.
// Callers pass the time, so a test (or a store with its own clock) sets it.
package ttlcache

import (
	"sync"
	"time"
)

// Cache holds at most max entries, each for ttl; a ttl of zero or less turns
// it off (nothing is kept). Safe for concurrent use.
type Cache[K comparable, V any] struct {
	ttl time.Duration
	max int

	mu sync.Mutex
	m  map[K]entry[V]
}

type entry[V any] struct {
	v       V
	expires time.Time
}

// New returns an empty cache.
func New[K comparable, V any](ttl time.Duration, max int) *Cache[K, V] {
	return &Cache[K, V]{ttl: ttl, max: max, m: map[K]entry[V]{}}
}

// Get returns k's value if it was put less than the TTL before now.
func (c *Cache[K, V]) Get(k K, now time.Time) (V, bool) {
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

// Put keeps v under k from now for the TTL, making room if the cache is full.
func (c *Cache[K, V]) Put(k K, v V, now time.Time) {
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
	c.m[k] = entry[V]{v: v, expires: now.Add(c.ttl)}
}

// Update changes an entry in place, keeping its expiry; absent entries stay absent.
func (c *Cache[K, V]) Update(k K, f func(V) V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[k]; ok {
		e.v = f(e.v)
		c.m[k] = e
	}
}

// Delete drops k's entry.
func (c *Cache[K, V]) Delete(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, k)
}

// Clear drops every entry.
func (c *Cache[K, V]) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.m)
}

// Len is how many entries the cache holds, expired ones included.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
