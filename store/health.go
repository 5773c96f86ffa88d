package store

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"
)

// DefaultOutageTimeout bounds a call while the database is known to be down: long
// enough for a server that just came back to be selected (the driver re-checks it
// as soon as a call waits), short enough that a user or a webhook sender hears
// "try again" in a second instead of after the full OpTimeout.
const DefaultOutageTimeout = time.Second

// ErrUnavailable is in the chain of every error the store returns because the
// database cannot be reached (beside its apperr.Unavailable kind), so callers can
// tell our outage from another service's.
var ErrUnavailable = errors.New("the database cannot be reached")

// IsUnavailable reports whether err says the database could not be reached.
func IsUnavailable(err error) bool { return errors.Is(err, ErrUnavailable) }

// health is what the store knows about reaching the database. The driver's own
// server monitoring feeds it (the topology loses or regains a writable server),
// and so do real calls: a network or server-selection failure marks it down, any
// successful command marks it up. Nothing polls besides the driver's heartbeat;
// while down every call is still tried, with the short outage budget, so the first
// one after the database returns succeeds and flips the state back.
type health struct {
	log *slog.Logger

	down   atomic.Bool
	closed atomic.Bool // Close drops the servers; that is no outage to report
	mu     sync.Mutex
	// up is cancelled when the database goes down, so calls already waiting on
	// the full timeout are cut to the outage budget too; a new one replaces it
	// when the database is back.
	up       context.Context
	cancelUp context.CancelFunc
	since    time.Time
}

func newHealth(log *slog.Logger) *health {
	h := &health{log: log}
	h.up, h.cancelUp = context.WithCancel(context.Background())
	return h
}

func (h *health) isDown() bool { return h.down.Load() }

// upContext ends when the database is next found down.
func (h *health) upContext() context.Context {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.up
}

func (h *health) markDown(reason string) {
	if h.down.Load() || h.closed.Load() {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.down.Load() {
		return
	}
	h.down.Store(true)
	h.since = time.Now()
	h.cancelUp()
	h.log.Warn("store: the database is unreachable; calls fail fast until it answers again", "reason", reason)
}

func (h *health) markUp() {
	if !h.down.Load() {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.down.Load() {
		return
	}
	h.up, h.cancelUp = context.WithCancel(context.Background())
	h.down.Store(false)
	h.log.Info("store: the database answers again", "down_for", time.Since(h.since).Round(time.Millisecond).String())
}

// observe reports a call's failure: only failures that say the server could not
// be reached count. A caller's own cancellation or a slow query does not.
func (h *health) observe(err error) {
	var sse topology.ServerSelectionError
	if errors.As(err, &sse) || mongo.IsNetworkError(err) {
		h.markDown(err.Error())
	}
}

// writable kinds of server, as the driver's events name them: what our writes
// and primary reads need.
var writableKinds = map[string]bool{"Standalone": true, "RSPrimary": true, "Mongos": true, "LoadBalancer": true}

func hasWritable(d event.TopologyDescription) bool {
	for _, s := range d.Servers {
		if writableKinds[s.Kind] {
			return true
		}
	}
	return false
}

// serverMonitor follows the driver's view of the deployment. Only a change counts
// as down: the first topology, before any heartbeat, has no known server yet.
func (h *health) serverMonitor() *event.ServerMonitor {
	return &event.ServerMonitor{
		TopologyDescriptionChanged: func(e *event.TopologyDescriptionChangedEvent) {
			switch now := hasWritable(e.NewDescription); {
			case now:
				h.markUp()
			case hasWritable(e.PreviousDescription):
				h.markDown("the driver lost the server")
			}
		},
	}
}

// commandMonitor marks the database up on any answered command; behind a load
// balancer the topology never changes, so this is how recovery is seen there.
func (h *health) commandMonitor() *event.CommandMonitor {
	return &event.CommandMonitor{
		Succeeded: func(context.Context, *event.CommandSucceededEvent) { h.markUp() },
	}
}
