package store_test

import (
	"strings"
	"testing"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/store"
	"github.com/sally-devops/devopsbot/store/storetest"
)

// A chat's form defaults are kept beside its other settings: turning meeting
// summaries off keeps them, another replica reads them, clearing and removing
// the bot from the chat (PurgeConversation) forget them.
func TestChatDefaultsKeptAndPurged(t *testing.T) {
	s, clk, cfg := openWithClock(t)
	other := storetest.Open(t, cfg)
	const chat = "19:chat@thread.v2"
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
	clk.Advance(2 * store.MaxCacheTTL) // the other replica's empty read above is not what it serves
	got, err := other.GetChatDefaultsCached(ctx, chat)
	if err != nil || got.Project != want.Project || got.AreaPath != want.AreaPath || got.IterationPath != want.IterationPath ||
		got.WorkItemType != want.WorkItemType || got.SetByName != "Adele Vance" || got.SetBy != want.SetBy {
		t.Fatalf("read back after meeting summaries off: %+v, %v", got, err)
	}
	if on, _ := other.MeetingSummariesOn(ctx, chat); on {
		t.Fatal("setting defaults turned meeting summaries back on")
	}
	if err := s.SetChatDefaults(ctx, chat, devopsbot.ChatDefaults{Project: strings.Repeat("x", 5000)}); err == nil {
		t.Fatal("a 5000-character project name was stored")
	}
	if d, _ := s.GetChatDefaultsCached(ctx, chat); d.Project != want.Project { // now in this replica's cache
		t.Fatalf("read back: %+v", d)
	}
	if err := s.PurgeConversation(ctx, chat); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.GetChatDefaultsCached(ctx, chat); d.Project != "" {
		t.Fatalf("defaults survive the purge on the replica that purged: %+v", d)
	}
	clk.Advance(2 * store.MaxCacheTTL)
	if d, _ := other.GetChatDefaultsCached(ctx, chat); d.Project != "" {
		t.Fatalf("defaults survive the purge: %+v", d)
	}
	// Clearing.
	if err := s.SetChatDefaults(ctx, chat, want); err != nil {
		t.Fatal(err)
	}
	if err := s.SetChatDefaults(ctx, chat, devopsbot.ChatDefaults{}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * store.MaxCacheTTL)
	if d, _ := other.GetChatDefaultsCached(ctx, chat); d.Project != "" {
		t.Fatalf("cleared defaults read back: %+v", d)
	}
}
