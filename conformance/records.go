package conformance

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
)

func testPrefs(t *testing.T, e *env) {
	s, clk := e.s, e.clk
	p, err := s.GetPrefs(ctx, alice)
	if err != nil || *p != (devopsbot.Prefs{}) {
		t.Fatalf("GetPrefs before save = %+v, %v; want zero", p, err)
	}
	want := devopsbot.Prefs{Project: "Web", WorkItemType: "User Story", AreaPath: `Web\Team A`, IterationPath: `Web\Sprint 9`}
	if err := s.SavePrefs(ctx, alice, want); err != nil {
		t.Fatal(err)
	}
	want.UpdatedAt = clk.Now()
	if p, err := s.GetPrefs(ctx, alice); err != nil || *p != want {
		t.Fatalf("GetPrefs = %+v, %v; want %+v", p, err, want)
	}
	// Preferences are written through: this process sees its own save at once.
	if p, err := s.GetPrefsCached(ctx, alice); err != nil || *p != want {
		t.Fatalf("GetPrefsCached = %+v, %v; want %+v", p, err, want)
	}
	if p, err := e.replica().GetPrefs(ctx, alice); err != nil || *p != want {
		t.Fatalf("GetPrefs on a replica = %+v, %v; want %+v", p, err, want)
	}
	if p, _ := s.GetPrefs(ctx, bob); *p != (devopsbot.Prefs{}) {
		t.Fatalf("bob sees alice's prefs: %+v", p)
	}
}

// The audit interface only appends; reading it back is each backend's own.
func testAudit(t *testing.T, e *env) {
	s := e.s
	if err := s.AddAudit(ctx, devopsbot.AuditRecord{User: alice, UserName: "Alice", Action: "create", WorkItemID: 100, Outcome: "ok"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddAudit(ctx, devopsbot.AuditRecord{User: alice, Action: "comment", Outcome: "failed", Detail: strings.Repeat("x", 1<<20)}); err != nil {
		t.Fatalf("a long detail is cut, not refused: %v", err)
	}
}

func testRememberWebhook(t *testing.T, e *env) {
	s, clk := e.s, e.clk
	st, body, first, err := s.RememberWebhook(ctx, "msg_1", 202, []byte(`{"ok":true}`))
	if err != nil || !first || st != 202 || string(body) != `{"ok":true}` {
		t.Fatalf("first = %d %q %v %v", st, body, first, err)
	}
	st, body, first, err = e.replica().RememberWebhook(ctx, "msg_1", 500, []byte("other"))
	if err != nil || first || st != 202 || string(body) != `{"ok":true}` {
		t.Fatalf("repeat = %d %q %v %v; want the first answer", st, body, first, err)
	}
	body[0] = 'X' // a caller's copy
	clk.Advance(e.WebhookRetention - 1)
	if st, body, _, _ := s.RememberWebhook(ctx, "msg_1", 200, nil); st != 202 || string(body) != `{"ok":true}` {
		t.Fatalf("just before retention ends = %d %q", st, body)
	}
	clk.Advance(1)
	if _, _, first, err := s.RememberWebhook(ctx, "msg_1", 200, nil); err != nil || !first {
		t.Fatalf("after retention = %v, %v; want a new first", first, err)
	}
	_, _, _, err = s.RememberWebhook(ctx, "", 200, nil)
	wantKind(t, err, apperr.Invalid)

	pick := e.either()
	var firsts atomic.Int32
	race(t, 20, func(i int) error {
		_, _, first, err := pick(i).RememberWebhook(ctx, "msg_race", 200, nil)
		if first {
			firsts.Add(1)
		}
		return err
	})
	if firsts.Load() != 1 {
		t.Fatalf("%d callers were first, want 1", firsts.Load())
	}
}

func testLookupWebhook(t *testing.T, e *env) {
	s, clk := e.s, e.clk
	if _, _, found, err := s.LookupWebhook(ctx, "msg_1"); err != nil || found {
		t.Fatalf("unknown id: found=%v err=%v", found, err)
	}
	if _, _, _, err := s.RememberWebhook(ctx, "msg_1", 202, []byte(`{"ok":true}`)); err != nil {
		t.Fatal(err)
	}
	st, body, found, err := e.replica().LookupWebhook(ctx, "msg_1")
	if err != nil || !found || st != 202 || string(body) != `{"ok":true}` {
		t.Fatalf("lookup: %d %s %v %v", st, body, found, err)
	}
	clk.Advance(e.WebhookRetention)
	if _, _, found, err := s.LookupWebhook(ctx, "msg_1"); err != nil || found {
		t.Fatalf("expired id: found=%v err=%v", found, err)
	}
}

func testFirstTime(t *testing.T, e *env) {
	pick := e.either()
	var firsts atomic.Int32
	race(t, 20, func(i int) error {
		ok, err := pick(i).FirstTime(ctx, "welcome:19:chat")
		if ok {
			firsts.Add(1)
		}
		return err
	})
	if firsts.Load() != 1 {
		t.Fatalf("%d callers were first", firsts.Load())
	}
	if ok, err := e.s.FirstTime(ctx, "welcome:19:other"); err != nil || !ok {
		t.Fatalf("another key: %v, %v", ok, err)
	}
	if err := e.s.ForgetOnce(ctx, "welcome:19:chat"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := e.replica().FirstTime(ctx, "welcome:19:chat"); !ok {
		t.Fatal("a forgotten key is not first again")
	}
	if ok, _ := e.s.FirstTime(ctx, "welcome:19:chat"); ok {
		t.Fatal("first twice after forgetting once")
	}
	if err := e.s.ForgetOnce(ctx, "welcome:19:never"); err != nil {
		t.Fatalf("forgetting an unknown key: %v", err)
	}
	if err := e.s.ForgetOnce(ctx, ""); err == nil {
		t.Fatal("empty key accepted")
	}
}
