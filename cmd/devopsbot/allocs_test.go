package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// warmFormOpenAllocBudget bounds the allocations of one warm form open
// through the bot's whole handler: authentication, the activity, the one
// connection read on both sides of the embedded database (FerretDB's share is
// about two thirds), the card. Measured at 1,721 when set (about 100 more
// before person matches were remembered); an allocation count is the same on
// every machine, so a change that adds work on the path a user waits on fails here,
// not in a benchmark nobody ran. The race detector allocates more
// (race_test.go).
const warmFormOpenAllocBudget = 1800 + raceExtraAllocs

func TestWarmFormOpenAllocations(t *testing.T) {
	f := newFormOpenFixture(t, "")
	open := func() {
		r := httptest.NewRequest(http.MethodPost, "/api/messages", bytes.NewReader(f.body))
		r.Header.Set("Authorization", f.auth)
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		f.handler.ServeHTTP(w, r)
		if w.Code != http.StatusOK || !bytes.Contains(w.Body.Bytes(), []byte("create.submit")) {
			t.Fatalf("the form did not open: %d %.200s", w.Code, w.Body.Bytes())
		}
	}
	got := testing.AllocsPerRun(100, open)
	t.Logf("a warm form open allocates %.0f times", got)
	if got > warmFormOpenAllocBudget {
		t.Errorf("a warm form open allocated %.0f times, budget %d", got, warmFormOpenAllocBudget)
	}
}
