package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/store"
	"github.com/sally-devops/devopsbot/store/storetest"
)

// guarded runs one store call under a guard deadline far shorter than the store's
// own OpTimeout, and reports whether the store answered before the guard expired.
// A store that fails fast answers on its own; one that waits for the database is
// stopped by the guard (and then also says Unavailable, so the kind alone would not
// tell them apart).
func guarded(call func(ctx context.Context) error) (err error, answered bool) {
	g, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	err = call(g)
	return err, g.Err() == nil
}

func TestDatabaseOutageFailsFastAndRecoversWithoutRestart(t *testing.T) {
	srv := storetest.NewServer(t)
	cfg := srv.Config(t)
	cfg.OpTimeout = 30 * time.Second // the driver's default wait: what a user must not sit through
	s := storetest.Open(t, cfg)
	before := store.Prefs{Project: "Web", WorkItemType: "Bug", AreaPath: "Web", IterationPath: `Web\Sprint 1`}
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
		{"save prefs", func(ctx context.Context) error { return s.SavePrefs(ctx, alice, store.Prefs{Project: "Lost"}) }},
		{"get summary", func(ctx context.Context) error { _, err := s.GetSummary(ctx, "s1"); return err }},
		{"lookup webhook", func(ctx context.Context) error { _, _, _, err := s.LookupWebhook(ctx, "msg_1"); return err }},
		{"ping", s.Ping},
	}
	for _, c := range calls {
		err, answered := guarded(c.call)
		if !answered {
			t.Fatalf("%s while the database is down: no answer before the guard deadline (err %v)", c.name, err)
		}
		if !apperr.Is(err, apperr.Unavailable) || !store.IsUnavailable(err) {
			t.Fatalf("%s while the database is down: %v (kind %v), want Unavailable naming the database", c.name, err, apperr.KindOf(err))
		}
	}

	srv.Start()
	// The first call after the return may still find the server unselected (its
	// budget is the outage one); a user would click again. Count the tries.
	tries := 0
	var err error
	for tries < 5 {
		tries++
		if err = s.SavePrefs(ctx, alice, store.Prefs{Project: "Mobile", WorkItemType: "Task", AreaPath: "Mobile", IterationPath: `Mobile\Sprint 2`}); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("after the database returned, %d saves failed; last: %v", tries, err)
	}
	// Back up, calls get their full budget again: ten in a row all succeed.
	for i := range 10 {
		p, err := s.GetPrefs(ctx, alice)
		if err != nil || p.Project != "Mobile" {
			t.Fatalf("read %d after recovery: %+v, %v", i, p, err)
		}
	}
	t.Logf("recovered after %d save attempt(s)", tries)
}
