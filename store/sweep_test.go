package store_test

import (
	"testing"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
)

// Sweep is how this backend expires records on servers without TTL indexes
// (FerretDB): what expired goes without anyone asking for it, and nothing live.
func TestSweepRemovesExpiredSignIns(t *testing.T) {
	s, clk, _ := openWithClock(t)
	live := &devopsbot.OAuthState{User: alice, CodeVerifier: verifier, ExpiresAt: clk.Now().Add(time.Hour)}
	if err := s.CreateOAuthState(ctx, live); err != nil {
		t.Fatal(err)
	}
	expiredUnasked := &devopsbot.OAuthState{User: alice, CodeVerifier: verifier}
	if err := s.CreateOAuthState(ctx, expiredUnasked); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("early Sweep = %d, %v; want 0", n, err)
	}
	clk.Advance(devopsbot.SignInLifetime)
	n, err := s.Sweep(ctx)
	if err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1", n, err)
	}
	_, err = s.ConsumeOAuthState(ctx, expiredUnasked.ID)
	wantKind(t, err, apperr.NotFound)
	if _, err := s.ConsumeOAuthState(ctx, live.ID); err != nil {
		t.Fatalf("live state was swept: %v", err)
	}
}

func TestSweepRemovesExpiredSummariesWithLinksAndStaleClaims(t *testing.T) {
	s, clk, _ := openWithClock(t)
	sm, _, err := s.InsertSummary(ctx, sampleSummary("19:c", "d"))
	if err != nil {
		t.Fatal(err)
	}
	l, _, err := s.ClaimAction(ctx, devopsbot.ActionKey{SummaryID: sm.ID, InsightID: "i1", Action: devopsbot.ActionCreate}, alice, "A", "m", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	l.WorkItemID = 7
	if err := s.CompleteAction(ctx, l); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.ClaimAction(ctx, devopsbot.ActionKey{SummaryID: "other", InsightID: "i1", Action: devopsbot.ActionCreate}, alice, "A", "m", time.Minute); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("early Sweep = %d, %v; want 0", n, err)
	}
	clk.Advance(48 * time.Hour) // the claim on "other" is abandoned for more than a day
	if n, err := s.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1 stale claim", n, err)
	}
	clk.Advance(devopsbot.SummaryRetention)
	// The summary, its link and the markers of both actions.
	if n, err := s.Sweep(ctx); err != nil || n != 4 {
		t.Fatalf("Sweep = %d, %v; want 4", n, err)
	}
	if links, err := s.ListLinks(ctx, "other"); err != nil || len(links) != 0 {
		t.Fatalf("stale claim survived: %+v, %v", links, err)
	}
	if links, _ := s.ListLinks(ctx, sm.ID); len(links) != 0 {
		t.Fatalf("links survived their summary: %+v", links)
	}
}
