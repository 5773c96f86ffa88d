package conformance

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
)

func testConnectionRoundTrip(t *testing.T, e *env) {
	s, clk := e.s, e.clk
	if _, err := s.GetConnection(ctx, alice); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("GetConnection before save: %v, want NotFound", err)
	}
	c := sampleConn(alice)
	if err := s.SaveConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	firstCreated := c.CreatedAt
	got, err := s.GetConnection(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	want := *sampleConn(alice)
	want.Status, want.CreatedAt, want.UpdatedAt = devopsbot.StatusActive, clk.Now(), clk.Now()
	if fmt.Sprint(*got) != fmt.Sprint(want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", *got, want)
	}
	// What the caller holds is a copy: changing it changes nothing stored.
	got.Scopes[0], got.AccessToken = "changed", "changed"
	c.Scopes[1] = "changed"
	if again, _ := s.GetConnection(ctx, alice); fmt.Sprint(*again) != fmt.Sprint(want) {
		t.Fatalf("stored connection changed through a returned or saved value: %+v", *again)
	}

	// Reconnecting replaces the tokens but keeps when the user first connected.
	clk.Advance(time.Hour)
	c2 := sampleConn(alice)
	c2.AccessToken, c2.OrgName = "new-access", "fabrikam"
	if err := s.SaveConnection(ctx, c2); err != nil {
		t.Fatal(err)
	}
	got, err = s.GetConnection(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken != "new-access" || got.OrgName != "fabrikam" || !got.CreatedAt.Equal(firstCreated) || !got.UpdatedAt.Equal(clk.Now()) {
		t.Fatalf("after reconnect: %+v (first created %v)", got, firstCreated)
	}
	if !c2.CreatedAt.Equal(firstCreated) {
		t.Fatalf("SaveConnection reported CreatedAt %v, want %v", c2.CreatedAt, firstCreated)
	}

	if err := s.MarkNeedsReconnect(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetConnection(ctx, alice); got.Status != devopsbot.StatusNeedsReconnect {
		t.Fatalf("status = %q, want needs_reconnect", got.Status)
	}
	wantKind(t, s.MarkNeedsReconnect(ctx, bob), apperr.NotFound)

	if del, err := s.DeleteConnection(ctx, alice); err != nil || !del {
		t.Fatalf("DeleteConnection = %v, %v; want true", del, err)
	}
	if del, err := s.DeleteConnection(ctx, alice); err != nil || del {
		t.Fatalf("second DeleteConnection = %v, %v; want false", del, err)
	}
	_, err = s.GetConnection(ctx, alice)
	wantKind(t, err, apperr.NotFound)
}

// A chat's live card asks which of its members are connected: only active
// connections of the very user (tenant and object id) count, and keys from the
// network that are malformed match nobody instead of failing the lookup.
func testConnectedUsers(t *testing.T, e *env) {
	s := e.s
	carol := devopsbot.UserKey{TenantID: alice.TenantID, AADObjectID: "carol"}
	otherTenant := devopsbot.UserKey{TenantID: "another-tenant", AADObjectID: alice.AADObjectID}
	for _, u := range []devopsbot.UserKey{alice, carol, bob} {
		if err := s.SaveConnection(ctx, sampleConn(u)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.MarkNeedsReconnect(ctx, carol); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteConnection(ctx, bob); err != nil {
		t.Fatal(err)
	}
	ask := append([]devopsbot.UserKey{alice, carol, bob, otherTenant, {TenantID: alice.TenantID, AADObjectID: "never-connected"}, alice},
		hostileUsers()...)
	got, err := e.replica().ConnectedUsers(ctx, ask)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got[alice] {
		t.Fatalf("ConnectedUsers = %v, want only alice (active, that tenant)", got)
	}
	if got, err := s.ConnectedUsers(ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("nobody asked about: %v, %v", got, err)
	}
	// A reconnect makes carol count again.
	if err := s.UpdateTokens(ctx, carol, "a", "r", time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ConnectedUsers(ctx, []devopsbot.UserKey{carol}); !got[carol] {
		t.Fatalf("carol after new tokens: %v", got)
	}
}

func hostileUsers() []devopsbot.UserKey {
	return []devopsbot.UserKey{{}, {TenantID: "t"}, {TenantID: "a|b", AADObjectID: "c"},
		{TenantID: "t", AADObjectID: "x\x00y"}, {TenantID: "t", AADObjectID: strings.Repeat("a", 10000)}}
}

func testHostileUserKeys(t *testing.T, e *env) {
	s := e.s
	for _, u := range hostileUsers() {
		_, err := s.GetConnection(ctx, u)
		wantKind(t, err, apperr.Invalid)
		wantKind(t, s.SaveConnection(ctx, sampleConn(u)), apperr.Invalid)
		wantKind(t, s.UpdateTokens(ctx, u, "a", "r", e.clk.Now()), apperr.Invalid)
		wantKind(t, s.MarkNeedsReconnect(ctx, u), apperr.Invalid)
		_, err = s.DeleteConnection(ctx, u)
		wantKind(t, err, apperr.Invalid)
		_, err = s.GetPrefs(ctx, u)
		wantKind(t, err, apperr.Invalid)
		wantKind(t, s.SavePrefs(ctx, u, devopsbot.Prefs{Project: "p"}), apperr.Invalid)
		wantKind(t, s.AddAudit(ctx, devopsbot.AuditRecord{User: u, Action: "create"}), apperr.Invalid)
		_, _, err = s.ClaimAction(ctx, key("i1"), u, "X", "m", time.Minute)
		wantKind(t, err, apperr.Invalid)
		wantKind(t, s.CreateOAuthState(ctx, &devopsbot.OAuthState{User: u}), apperr.Invalid)
		wantKind(t, s.CreatePendingLogin(ctx, &devopsbot.PendingLogin{Code: loginCode, User: u}), apperr.Invalid)
	}
	// Nothing refused was stored: the only claim possible is a fresh one.
	if _, claimed, err := s.ClaimAction(ctx, key("i1"), alice, "Alice", "m", time.Minute); err != nil || !claimed {
		t.Fatalf("claim after refused claims = %v, %v; want a fresh claim", claimed, err)
	}
}

// Ids from the network (conversation ids, keys, webhook ids) are checked before
// anything is stored: huge ones and ones with control characters are refused.
func testHostileIDs(t *testing.T, e *env) {
	s := e.s
	for _, conv := range []string{"", "19:x\x00y", "19:a\nb", strings.Repeat("c", 10000)} {
		wantKind(t, s.SaveConversationRef(ctx, &devopsbot.ConversationRef{ConversationID: conv}), apperr.Invalid)
		_, _, err := s.InsertSummary(ctx, sampleSummary(conv, "src"))
		wantKind(t, err, apperr.Invalid)
		_, _, err = s.CreateDelivery(ctx, &devopsbot.Delivery{SummaryID: "s1", ConversationID: conv})
		wantKind(t, err, apperr.Invalid)
		_, _, err = s.CreateMeetingJob(ctx, &devopsbot.MeetingJob{ID: "job-1", ConversationID: conv})
		wantKind(t, err, apperr.Invalid)
		wantKind(t, s.SetMeetingSummaries(ctx, conv, false), apperr.Invalid)
		wantKind(t, s.PurgeConversation(ctx, conv), apperr.Invalid)
		_, err = s.GetConversationRef(ctx, conv)
		wantKind(t, err, apperr.NotFound)
		if jobs, err := s.MeetingJobsOf(ctx, conv, 10); err != nil || len(jobs) != 0 {
			t.Fatalf("MeetingJobsOf(%q) = %v, %v", conv, jobs, err)
		}
	}
	for _, k := range []string{"", "x\x00y", "a|b", strings.Repeat("k", 10000)} {
		_, err := s.FirstTime(ctx, k)
		wantKind(t, err, apperr.Invalid)
		wantKind(t, s.ForgetOnce(ctx, k), apperr.Invalid)
		_, _, err = s.AcquireLease(ctx, k, time.Minute)
		wantKind(t, err, apperr.Invalid)
		_, _, err = s.CreateDelivery(ctx, &devopsbot.Delivery{SummaryID: k, ConversationID: "19:c"})
		wantKind(t, err, apperr.Invalid)
		_, _, err = s.CreateMeetingJob(ctx, &devopsbot.MeetingJob{ID: k, ConversationID: "19:c"})
		wantKind(t, err, apperr.Invalid)
		_, err = s.ConsumeOAuthState(ctx, k)
		wantKind(t, err, apperr.NotFound)
		_, err = s.GetSummary(ctx, k)
		wantKind(t, err, apperr.NotFound)
		_, err = s.GetDelivery(ctx, k)
		wantKind(t, err, apperr.NotFound)
		_, err = s.GetMeetingJob(ctx, k)
		wantKind(t, err, apperr.NotFound)
	}
	for _, id := range []string{"", strings.Repeat("w", 10000)} {
		_, _, _, err := s.RememberWebhook(ctx, id, 200, nil)
		wantKind(t, err, apperr.Invalid)
		_, _, _, err = s.LookupWebhook(ctx, id)
		wantKind(t, err, apperr.Invalid)
	}
	_, _, _, err := s.RememberWebhook(ctx, "msg_big", 200, make([]byte, 1<<20))
	wantKind(t, err, apperr.Invalid)
	for _, k := range []devopsbot.ActionKey{
		{SummaryID: "s", InsightID: "i", Action: "delete"},
		{SummaryID: "s", InsightID: "i", Action: devopsbot.ActionComment},             // a comment needs a target
		{SummaryID: "s", InsightID: "i", Action: devopsbot.ActionCreate, Target: "1"}, // a create has none
		{SummaryID: "", InsightID: "i", Action: devopsbot.ActionCreate},
		{SummaryID: strings.Repeat("s", 10000), InsightID: "i", Action: devopsbot.ActionCreate},
	} {
		_, _, err := s.ClaimAction(ctx, k, alice, "Alice", "m", time.Minute)
		wantKind(t, err, apperr.Invalid)
		wantKind(t, s.ReleaseAction(ctx, k), apperr.Invalid)
		wantKind(t, s.CompleteAction(ctx, &devopsbot.InsightLink{Key: k}), apperr.Invalid)
	}
	// Refused means not stored.
	if _, err := s.GetConversationRef(ctx, "19:x\x00y"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("a refused conversation was stored: %v", err)
	}
	if first, err := s.FirstTime(ctx, "x"); err != nil || !first {
		t.Fatalf("FirstTime after refusals = %v, %v", first, err)
	}
}

func testUpdateTokensKeepsTheNewest(t *testing.T, e *env) {
	s, clk := e.s, e.clk
	wantKind(t, s.UpdateTokens(ctx, alice, "a", "r", clk.Now()), apperr.NotFound)
	c := sampleConn(alice)
	if err := s.SaveConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkNeedsReconnect(ctx, alice); err != nil {
		t.Fatal(err)
	}
	newer := c.Expiry.Add(time.Hour)
	if err := s.UpdateTokens(ctx, alice, "access-2", "refresh-2", newer); err != nil {
		t.Fatal(err)
	}
	// A slower replica finishing its refresh later with an older token must not win.
	if err := e.replica().UpdateTokens(ctx, alice, "access-old", "refresh-old", newer.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetConnection(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken != "access-2" || got.RefreshToken != "refresh-2" || !got.Expiry.Equal(newer) || got.Status != devopsbot.StatusActive {
		t.Fatalf("after updates: access %q refresh %q expiry %v status %q", got.AccessToken, got.RefreshToken, got.Expiry, got.Status)
	}
}

func testOAuthStateConsumedOnce(t *testing.T, e *env) {
	s, clk := e.s, e.clk
	st := &devopsbot.OAuthState{User: alice, UserName: "Alice", ConversationID: "a:1", ServiceURL: "https://smba.trafficmanager.net/emea/",
		OrgURL: "https://dev.azure.com/contoso", EntraTenantID: "entra-1", CodeVerifier: verifier, Nonce: "n-1"}
	if err := s.CreateOAuthState(ctx, st); err != nil {
		t.Fatal(err)
	}
	if len(st.ID) < 32 || !st.ExpiresAt.Equal(clk.Now().Add(e.StateLifetime)) {
		t.Fatalf("defaults not filled: id %q expires %v", st.ID, st.ExpiresAt)
	}
	wantKind(t, s.CreateOAuthState(ctx, &devopsbot.OAuthState{ID: st.ID, User: alice}), apperr.Conflict)
	got, err := e.replica().ConsumeOAuthState(ctx, st.ID)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(*got) != fmt.Sprint(*st) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", *got, *st)
	}
	_, err = s.ConsumeOAuthState(ctx, st.ID)
	wantKind(t, err, apperr.NotFound)
	_, err = s.ConsumeOAuthState(ctx, "")
	wantKind(t, err, apperr.NotFound)
}

func testOAuthStateConcurrentConsume(t *testing.T, e *env) {
	s := e.s
	st := &devopsbot.OAuthState{User: alice, CodeVerifier: verifier}
	if err := s.CreateOAuthState(ctx, st); err != nil {
		t.Fatal(err)
	}
	pick := e.either()
	wins, notFound := race(t, 50, func(i int) error { _, err := pick(i).ConsumeOAuthState(ctx, st.ID); return err })
	if wins != 1 || notFound != 49 {
		t.Fatalf("wins = %d, not found = %d; want 1 and 49", wins, notFound)
	}
}

// An expired sign-in is refused with a message that says so, and is gone.
func testSignInsExpire(t *testing.T, e *env) {
	s, clk := e.s, e.clk
	st := &devopsbot.OAuthState{User: alice, CodeVerifier: verifier}
	if err := s.CreateOAuthState(ctx, st); err != nil {
		t.Fatal(err)
	}
	live := &devopsbot.OAuthState{User: alice, CodeVerifier: verifier, ExpiresAt: clk.Now().Add(time.Hour)}
	if err := s.CreateOAuthState(ctx, live); err != nil {
		t.Fatal(err)
	}
	if err := s.CreatePendingLogin(ctx, &devopsbot.PendingLogin{Code: loginCode, User: alice, Conn: *sampleConn(alice)}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(e.StateLifetime)
	_, err := s.ConsumeOAuthState(ctx, st.ID)
	wantKind(t, err, apperr.Invalid)
	if msg := apperr.UserMessage(err); !strings.Contains(msg, "expired") {
		t.Fatalf("message %q does not say expired", msg)
	}
	_, err = s.ConsumePendingLogin(ctx, loginCode)
	wantKind(t, err, apperr.Invalid)

	// A refused state is gone: it cannot be tried again.
	_, err = s.ConsumeOAuthState(ctx, st.ID)
	wantKind(t, err, apperr.NotFound)
	_, err = s.ConsumePendingLogin(ctx, loginCode)
	wantKind(t, err, apperr.NotFound)
	if _, err := s.ConsumeOAuthState(ctx, live.ID); err != nil {
		t.Fatalf("a state with its own later expiry expired early: %v", err)
	}
}

func testPendingLogin(t *testing.T, e *env) {
	s, clk := e.s, e.clk
	wantKind(t, s.CreatePendingLogin(ctx, &devopsbot.PendingLogin{Code: "short", User: alice}), apperr.Invalid)
	p := &devopsbot.PendingLogin{Code: loginCode, User: alice, Conn: *sampleConn(alice)}
	if err := s.CreatePendingLogin(ctx, p); err != nil {
		t.Fatal(err)
	}
	if !p.ExpiresAt.Equal(clk.Now().Add(e.StateLifetime)) {
		t.Fatalf("ExpiresAt = %v", p.ExpiresAt)
	}
	wantKind(t, s.CreatePendingLogin(ctx, &devopsbot.PendingLogin{Code: loginCode, User: bob}), apperr.Conflict)
	_, err := s.ConsumePendingLogin(ctx, loginCode+"x")
	wantKind(t, err, apperr.NotFound)
	got, err := s.ConsumePendingLogin(ctx, loginCode)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(*got) != fmt.Sprint(*p) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", *got, *p)
	}

	p2 := &devopsbot.PendingLogin{Code: loginCode + "-2", User: alice, Conn: *sampleConn(alice)}
	if err := s.CreatePendingLogin(ctx, p2); err != nil {
		t.Fatal(err)
	}
	pick := e.either()
	wins, lost := race(t, 50, func(i int) error { _, err := pick(i).ConsumePendingLogin(ctx, p2.Code); return err })
	if wins != 1 || lost != 49 {
		t.Fatalf("wins = %d, lost = %d; want 1 and 49", wins, lost)
	}
}
