package store

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"
)

func topo(kinds ...string) event.TopologyDescription {
	var d event.TopologyDescription
	for _, k := range kinds {
		d.Servers = append(d.Servers, event.ServerDescription{Kind: k})
	}
	return d
}

// What counts as the database being down, and what brings it back.
func TestHealthFollowsTheDriverAndRealFailures(t *testing.T) {
	h := newHealth(slog.New(slog.NewTextHandler(io.Discard, nil)), time.Second)
	changed := h.serverMonitor().TopologyDescriptionChanged
	succeeded := h.commandMonitor().Succeeded
	up := h.upContext()

	// Start-up: no server known yet, then the first heartbeat finds it.
	changed(&event.TopologyDescriptionChangedEvent{PreviousDescription: topo(), NewDescription: topo("Unknown")})
	changed(&event.TopologyDescriptionChangedEvent{PreviousDescription: topo("Unknown"), NewDescription: topo("Standalone")})
	// A caller giving up, or a slow query, says nothing about the server.
	h.observe(context.Canceled)
	h.observe(topology.ServerSelectionError{Wrapped: context.Canceled})
	h.observe(context.DeadlineExceeded)
	if h.isDown() || up.Err() != nil {
		t.Fatal("down without the server being lost")
	}

	// A replica set losing its primary (secondaries left) is down for our writes.
	changed(&event.TopologyDescriptionChangedEvent{PreviousDescription: topo("RSPrimary", "RSSecondary"), NewDescription: topo("RSSecondary", "RSSecondary")})
	if !h.isDown() || up.Err() == nil {
		t.Fatal("losing the primary did not mark the database down (or did not cut waiting calls)")
	}
	succeeded(context.Background(), &event.CommandSucceededEvent{})
	if h.isDown() || h.upContext().Err() != nil {
		t.Fatal("an answered command did not mark the database up")
	}

	// A real call failing to select a server marks it down, too (load balancers
	// never change the topology).
	h.observe(topology.ServerSelectionError{Wrapped: errors.New("no server")})
	if !h.isDown() {
		t.Fatal("a server selection failure did not mark the database down")
	}
	changed(&event.TopologyDescriptionChangedEvent{PreviousDescription: topo("Unknown"), NewDescription: topo("Mongos")})
	if h.isDown() {
		t.Fatal("a writable server found did not mark the database up")
	}

	// Close drops the servers: no outage.
	h.closed.Store(true)
	changed(&event.TopologyDescriptionChangedEvent{PreviousDescription: topo("Standalone"), NewDescription: topo()})
	if h.isDown() {
		t.Fatal("closing the store reported an outage")
	}
}
