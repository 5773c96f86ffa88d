package conformance

import (
	"strings"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
)

// A chat's form defaults: a chat without any reads a zero value; they survive
// the chat's other settings changing (meeting summaries off must not wipe
// them), another replica reads them once its cache has expired, hostile names
// are refused, clearing and removing the bot from the chat forget them.
func testChatDefaults(t *testing.T, e *env) {
	s := e.s
	const chat = "19:defaults@thread.v2"
	pastCaches := func() { e.clk.Advance(2 * time.Minute) } // longer than any backend caches a read
	if d, err := s.GetChatDefaultsCached(ctx, chat); err != nil || d.Project != "" {
		t.Fatalf("a chat without defaults: %+v, %v", d, err)
	}
	want := devopsbot.ChatDefaults{Project: "Web Portal", AreaPath: `Web Portal\Frontend`, IterationPath: "@CurrentIteration", WorkItemType: "Bug",
		SetBy: devopsbot.UserKey{TenantID: "t", AADObjectID: "u"}, SetByName: "Adele Vance"}
	if err := s.SetChatDefaults(ctx, chat, want); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMeetingSummaries(ctx, chat, false); err != nil {
		t.Fatal(err)
	}
	pastCaches()
	got, err := e.replica().GetChatDefaultsCached(ctx, chat)
	if err != nil || got.Project != want.Project || got.AreaPath != want.AreaPath || got.IterationPath != want.IterationPath ||
		got.WorkItemType != want.WorkItemType || got.SetBy != want.SetBy || got.SetByName != want.SetByName {
		t.Fatalf("read back after meeting summaries off: %+v, %v", got, err)
	}
	if on, _ := s.MeetingSummariesOn(ctx, chat); on {
		t.Fatal("saving defaults turned meeting summaries back on")
	}
	if d, _ := s.GetChatDefaultsCached(ctx, "19:other@thread.v2"); d.Project != "" {
		t.Fatalf("another chat got this chat's defaults: %+v", d)
	}
	for _, bad := range []string{strings.Repeat("x", 5000), "a\nb", "a\x00b", "\xff"} {
		wantKind(t, s.SetChatDefaults(ctx, chat, devopsbot.ChatDefaults{Project: bad}), apperr.Invalid)
	}
	wantKind(t, s.SetChatDefaults(ctx, "", want), apperr.Invalid)
	if err := s.SetChatDefaults(ctx, chat, devopsbot.ChatDefaults{}); err != nil {
		t.Fatal(err)
	}
	pastCaches()
	if d, _ := e.replica().GetChatDefaultsCached(ctx, chat); d.Project != "" {
		t.Fatalf("cleared defaults read back: %+v", d)
	}
	if err := s.SetChatDefaults(ctx, chat, want); err != nil {
		t.Fatal(err)
	}
	if err := s.PurgeConversation(ctx, chat); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.GetChatDefaultsCached(ctx, chat); d.Project != "" {
		t.Fatalf("defaults survive the purge on the store that purged: %+v", d)
	}
	pastCaches()
	if d, _ := e.replica().GetChatDefaultsCached(ctx, chat); d.Project != "" {
		t.Fatalf("defaults survive the purge: %+v", d)
	}
}
