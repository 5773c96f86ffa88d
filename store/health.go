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

// DefaultOutageTimeout is how long a call already waiting when the database is
// found down may go on waiting, and the budget of each probe while it is down:
// long enough for a server that just came back to be selected, short enough that
// a user or a webhook sender hears "try again" in a second, not after OpTimeout.
const DefaultOutageTimeout = time.Second

// probeEvery is how often a store that knows the database is down asks whether
// it is back: the longest a user waits after the database returns.
const probeEvery = 500 * time.Millisecond

// health is what the store knows about reaching the database. The driver's own
// server monitoring feeds it (the topology loses or regains a writable server),
// and so do real calls: a server-selection or connection failure marks it down,
// any answered command marks it up. While it is down, calls are refused at once
// (a request making three calls must not wait three times) and a probe pings the
// database every probeEvery until it answers.
type health struct {
	log    *slog.Logger
	budget time.Duration                   // of one probe
	probe  func(ctx context.Context) error // pings the primary, bypassing the refusal

	down   atomic.Bool
	closed atomic.Bool // Close drops the servers; that is no outage to report

	mu sync.Mutex
	// up is cancelled when the database goes down, so calls already waiting
	// get cut short too; a new one replaces it when the database is back.
	up       context.Context
	cancelUp context.CancelFunc
	since    time.Time
	probing  bool
	// closing ends the probe when the store closes.
	closing context.Context
	close   context.CancelFunc
}

func newHealth(log *slog.Logger, budget time.Duration) *health {
	h := &health{log: log, budget: budget}
	h.up, h.cancelUp = context.WithCancel(context.Background())
	h.closing, h.close = context.WithCancel(context.Background())
	return h
}

// setProbe installs the ping, once the client exists; the driver may already
// have reported an outage by then.
func (h *health) setProbe(probe func(ctx context.Context) error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.probe = probe
	if h.down.Load() && !h.probing {
		h.probing = true
		go h.runProbe()
	}
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
	if h.down.Load() || h.closed.Load() {
		return
	}
	h.down.Store(true)
	h.since = time.Now()
	h.cancelUp()
	h.log.Warn("store: the database is unreachable; calls fail at once until it answers again", "reason", reason)
	if h.probe != nil && !h.probing {
		h.probing = true
		go h.runProbe()
	}
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

// runProbe pings until the database answers (or the store closes). The ping's
// success marks it up through the command monitor; marking it here as well keeps
// the probe right if that monitor is ever not installed.
func (h *health) runProbe() {
	t := time.NewTicker(probeEvery)
	defer t.Stop()
	for {
		select {
		case <-h.closing.Done():
			return
		case <-t.C:
		}
		h.mu.Lock()
		if !h.down.Load() {
			h.probing = false
			h.mu.Unlock()
			return
		}
		h.mu.Unlock()
		ctx, cancel := context.WithTimeout(h.closing, h.budget)
		if h.probe(ctx) == nil {
			h.markUp()
		}
		cancel()
	}
}

// stop ends the probe and reports no outage from here on.
func (h *health) stop() {
	h.closed.Store(true)
	h.close()
}

// observe reports a call's failure: only failures that say the server could not
// be reached count. A caller's own cancellation, a refused call or a slow query
// (a timeout on a live connection) does not.
func (h *health) observe(err error) {
	if errors.Is(err, context.Canceled) {
		return // the caller gave up, or op refused the call: also a selection "error"
	}
	var sse topology.ServerSelectionError
	if errors.As(err, &sse) || (mongo.IsNetworkError(err) && !mongo.IsTimeout(err)) {
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
