package store_test

import (
	"testing"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
)

// FindPersonalConversation (by tenant and user) is this backend's own; the
// interface's FindPersonalConversationByUser is in the conformance suite.
func TestFindPersonalConversation(t *testing.T) {
	s, clk, _ := openWithClock(t)
	personalOld := &devopsbot.ConversationRef{ConversationID: "a:old", ServiceURL: "https://smba/emea/", TenantID: "tenant-1",
		BotID: "28:bot", ConversationType: "personal", UserAADObjectID: "alice-oid"}
	if err := s.SaveConversationRef(ctx, personalOld); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	personalNew := *personalOld
	personalNew.ConversationID = "a:new"
	if err := s.SaveConversationRef(ctx, &personalNew); err != nil {
		t.Fatal(err)
	}
	p, err := s.FindPersonalConversation(ctx, "tenant-1", "alice-oid")
	if err != nil || p.ConversationID != "a:new" {
		t.Fatalf("FindPersonalConversation = %+v, %v; want the newest personal chat", p, err)
	}
	_, err = s.FindPersonalConversation(ctx, "tenant-1", "bob-oid")
	wantKind(t, err, apperr.NotFound)
	_, err = s.FindPersonalConversation(ctx, "tenant-2", "alice-oid")
	wantKind(t, err, apperr.NotFound)
}
