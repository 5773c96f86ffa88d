package store

import (
	"context"
	"sync"
	"sync/atomic"

	"go.mongodb.org/mongo-driver/v2/event"
)

// commandStats counts the commands this store sends to the database, by command
// and collection, from the driver's command monitor. A count is what a test can
// assert about a request's cost (one round trip per form), where a time is not;
// OnCommand carries the same events to the process's metrics.
type commandStats struct {
	total   atomic.Int64
	byOp    sync.Map // "command collection" -> *atomic.Int64
	observe func(command, collection string)
}

func (c *commandStats) started(e *event.CommandStartedEvent) {
	coll := collectionOf(e)
	c.total.Add(1)
	key := e.CommandName
	if coll != "" {
		key += " " + coll
	}
	n, ok := c.byOp.Load(key)
	if !ok {
		n, _ = c.byOp.LoadOrStore(key, new(atomic.Int64))
	}
	n.(*atomic.Int64).Add(1)
	if c.observe != nil {
		c.observe(e.CommandName, coll)
	}
}

// collectionOf names the collection a command works on: for find, insert,
// update, delete, aggregate, count and the index commands it is the value of the
// command's first element; getMore names it in "collection". Commands on no
// collection (ping, buildInfo, endSessions) have none.
func collectionOf(e *event.CommandStartedEvent) string {
	if e.CommandName == "getMore" {
		if v, err := e.Command.LookupErr("collection"); err == nil {
			if s, ok := v.StringValueOK(); ok {
				return s
			}
		}
		return ""
	}
	el, err := e.Command.IndexErr(0)
	if err != nil {
		return ""
	}
	s, ok := el.Value().StringValueOK()
	if !ok {
		return ""
	}
	return s
}

// monitor is the driver's command monitor: it counts every command sent, and
// tells health that the database answered.
func commandMonitor(c *commandStats, h *health) *event.CommandMonitor {
	m := h.commandMonitor()
	m.Started = func(_ context.Context, e *event.CommandStartedEvent) { c.started(e) }
	return m
}

// CommandCount is how many database commands this store has sent since it was
// opened: every find, insert, update, delete, ping. Each is one round trip.
func (s *Store) CommandCount() int64 { return s.commands.total.Load() }

// CommandCounts is CommandCount by "command collection" (for example
// "find connections"; "ping" alone for commands on no collection).
func (s *Store) CommandCounts() map[string]int64 {
	out := map[string]int64{}
	s.commands.byOp.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}
