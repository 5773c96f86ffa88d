package store_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/store/storetest"
)

// guard is a deadline far shorter than the store's own OpTimeout: a store that
// fails fast answers before it; one that waits for the database is stopped by it
// (and then also says Unavailable, so the error kind alone would not tell).
func guard() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 4*time.Second)
}

func TestDatabaseOutageFailsFastAndRecoversWithoutRestart(t *testing.T) {
	srv := storetest.NewServer(t)
	cfg := srv.Config(t)
	cfg.OpTimeout = 30 * time.Second // the driver's default wait: what a user must not sit through
	// The driver's own heartbeat slowed to a minute: noticing the return is the
	// store's doing (its probe), not a lucky tick.
	cfg.URI = withQuery(cfg.URI, "heartbeatFrequencyMS=60000")
	back := make(chan struct{}, 1)
	cfg.Logger = slog.New(onMessage{"store: the database answers again", back})
	s := storetest.Open(t, cfg)
	before := devopsbot.Prefs{Project: "Web", WorkItemType: "Bug", AreaPath: "Web", IterationPath: `Web\Sprint 1`}
	if err := s.SavePrefs(ctx, alice, before); err != nil {
		t.Fatal(err)
	}

	srv.Stop()
	// Every call, the first (which discovers the outage) included, answers by itself.
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"get prefs", func(ctx context.Context) error { _, err := s.GetPrefs(ctx, alice); return err }},
		{"save prefs", func(ctx context.Context) error { return s.SavePrefs(ctx, alice, devopsbot.Prefs{Project: "Lost"}) }},
		{"get summary", func(ctx context.Context) error { _, err := s.GetSummary(ctx, "s1"); return err }},
		{"lookup webhook", func(ctx context.Context) error { _, _, _, err := s.LookupWebhook(ctx, "msg_1"); return err }},
		{"ping", s.Ping},
	}
	// Twice through, under one guard: one request makes several calls (a click
	// reads the summary, the connection, the links), and none may wait its turn.
	g, cancel := guard()
	defer cancel()
	for round := range 2 {
		for _, c := range calls {
			err := c.call(g)
			if g.Err() != nil {
				t.Fatalf("round %d, %s while the database is down: the guard expired first (err %v)", round, c.name, err)
			}
			if !apperr.Is(err, apperr.Unavailable) || !devopsbot.IsStoreUnavailable(err) {
				t.Fatalf("%s while the database is down: %v (kind %v), want Unavailable naming the database", c.name, err, apperr.KindOf(err))
			}
		}
	}

	// Quiet for a while: the checks those calls asked of the driver are spent (it
	// runs at most one per 500 ms), as after an outage at night.
	time.Sleep(1500 * time.Millisecond)
	srv.Start()
	// Nobody calls: the store finds out by itself that the database is back, and
	// then the very first call works.
	select {
	case <-back:
	case <-time.After(5 * time.Second):
		t.Fatal("the store did not notice that the database is back")
	}
	if err := s.SavePrefs(ctx, bob, devopsbot.Prefs{Project: "Mobile", WorkItemType: "Task", AreaPath: "Mobile", IterationPath: `Mobile\Sprint 2`}); err != nil {
		t.Fatalf("first save after the database returned: %v", err)
	}
	// Nothing from before is lost, nothing refused during the outage was written,
	// and calls keep working (ten in a row).
	for i := range 10 {
		a, aerr := s.GetPrefs(ctx, alice)
		b, berr := s.GetPrefs(ctx, bob)
		if aerr != nil || berr != nil || a.Project != before.Project || b.Project != "Mobile" {
			t.Fatalf("read %d after recovery: alice %+v (%v), bob %+v (%v)", i, a, aerr, b, berr)
		}
	}
}

// onMessage is a log handler that signals when a given message is logged.
type onMessage struct {
	msg string
	hit chan struct{}
}

func (h onMessage) Enabled(context.Context, slog.Level) bool { return true }
func (h onMessage) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		select {
		case h.hit <- struct{}{}:
		default:
		}
	}
	return nil
}
func (h onMessage) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h onMessage) WithGroup(string) slog.Handler      { return h }

func withQuery(uri, q string) string {
	if strings.Contains(uri, "?") {
		return uri + "&" + q
	}
	if !strings.HasSuffix(uri, "/") {
		uri += "/"
	}
	return uri + "?" + q
}
