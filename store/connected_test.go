package store_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/sally-devops/devopsbot"
)

func TestConnectedUsersIsOneQueryForTheWholeChat(t *testing.T) {
	s, _, _ := openWithClock(t)
	carol := devopsbot.UserKey{TenantID: alice.TenantID, AADObjectID: "carol"}
	otherTenant := devopsbot.UserKey{TenantID: "another-tenant", AADObjectID: alice.AADObjectID}
	for _, u := range []devopsbot.UserKey{alice, carol} {
		if err := s.SaveConnection(ctx, sampleConn(u)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.MarkNeedsReconnect(ctx, carol); err != nil {
		t.Fatal(err)
	}
	ask := []devopsbot.UserKey{alice, carol, otherTenant, {TenantID: alice.TenantID, AADObjectID: "never-connected"},
		{TenantID: alice.TenantID, AADObjectID: "bad|id"}, {}, alice}
	before := s.CommandCount()
	got, err := s.ConnectedUsers(ctx, ask)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[devopsbot.UserKey]bool{alice: true}; !maps.Equal(got, want) {
		t.Fatalf("ConnectedUsers = %v, want only the active connection of that tenant", got)
	}
	if n := s.CommandCount() - before; n != 1 {
		t.Errorf("%d database commands, want 1", n)
	}
	// Nobody valid to ask about: no query at all.
	before = s.CommandCount()
	if got, err := s.ConnectedUsers(ctx, []devopsbot.UserKey{{}, {TenantID: "t", AADObjectID: strings.Repeat("x", 600)}}); err != nil || len(got) != 0 || s.CommandCount() != before {
		t.Fatalf("malformed keys: %v, %v, %d commands", got, err, s.CommandCount()-before)
	}
}
