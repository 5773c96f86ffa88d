package httpretry

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{" 120 ", 2 * time.Minute},
		{"1.5", 1500 * time.Millisecond},
		{"0", 0},
		{"-1", 0},
		{"soon", 0},
		{"Inf", 0},
		{"1e3", 0},
		{"0x10", 0},
		{".5", 0},
		{"99999999999999999999", time.Hour}, // absurd: at most an hour
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(90 * time.Second).Format(time.RFC850), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0}, // past
		{now.Add(48 * time.Hour).Format(http.TimeFormat), time.Hour},
		{"Tue, 01 Dec 2026 14:00:30", 0}, // no zone: not an HTTP-date
	}
	for _, tc := range cases {
		if got := ParseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"3", "1.5", "Tue, 01 Dec 2026 14:00:30 GMT", "-1", "1e9", "9999999999999"} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		if d := ParseRetryAfter(s, now); d < 0 || d > time.Hour {
			t.Fatalf("ParseRetryAfter(%q) = %v, outside [0, 1h]", s, d)
		}
	})
}

// recordWaits returns a policy sleep that records waits instead of spending them.
func recordWaits(waits *[]time.Duration) func(context.Context, time.Duration) error {
	return func(ctx context.Context, d time.Duration) error {
		*waits = append(*waits, d)
		return ctx.Err()
	}
}

func TestBackoffGrowsWithJitterUpToTheCap(t *testing.T) {
	p := Policy{Base: 500 * time.Millisecond, Cap: 3 * time.Second}
	for attempt := 0; attempt < 64; attempt++ {
		want := min(500*time.Millisecond<<min(attempt, 20), 3*time.Second)
		for range 50 {
			if d := p.Backoff(attempt); d < want/2 || d > want {
				t.Fatalf("Backoff(%d) = %v, want within [%v, %v]", attempt, d, want/2, want)
			}
		}
	}
}

func TestRetryAfterIsHonouredUpToMaxRetryAfter(t *testing.T) {
	var waits []time.Duration
	p := Policy{Retries: 3, Base: time.Second, Cap: 8 * time.Second, MaxRetryAfter: 10 * time.Second,
		RetryStatus: func(st int, _ bool) bool { return st == 429 }, Sleep: recordWaits(&waits)}
	tries := 0
	err := p.Do(context.Background(), Call{Name: "x", Idempotent: true}, func(context.Context) Outcome {
		tries++
		if tries < 3 {
			return Outcome{Err: errors.New("throttled"), Status: 429, RetryAfter: 9 * time.Second}
		}
		return Outcome{}
	})
	if err != nil || tries != 3 || len(waits) != 2 || waits[0] != 9*time.Second || waits[1] != 9*time.Second {
		t.Fatalf("err %v after %d tries, waits %v; want success after 3 tries and two 9s waits (Retry-After above the backoff cap)", err, tries, waits)
	}

	// Beyond MaxRetryAfter: no wait inside the call, the error goes back.
	waits, tries = nil, 0
	throttled := errors.New("throttled for long")
	err = p.Do(context.Background(), Call{Name: "x", Idempotent: true}, func(context.Context) Outcome {
		tries++
		return Outcome{Err: throttled, Status: 429, RetryAfter: 11 * time.Second}
	})
	if err != throttled || tries != 1 || len(waits) != 0 {
		t.Fatalf("long Retry-After: err %v, %d tries, waits %v; want the error after one try, no wait", err, tries, waits)
	}
}

func TestWhatIsRetried(t *testing.T) {
	boom := errors.New("boom")
	dialErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	cases := []struct {
		name      string
		call      Call
		outcome   Outcome
		wantTries int
	}{
		{"read after a retryable status", Call{Idempotent: true}, Outcome{Err: boom, Status: 503}, 3},
		{"status the policy refuses", Call{Idempotent: true}, Outcome{Err: boom, Status: 400}, 1},
		{"write after a status retried only for idempotent calls", Call{}, Outcome{Err: boom, Status: 503}, 1},
		{"write after a status retried for every call", Call{}, Outcome{Err: boom, Status: 429}, 3},
		{"read after a lost connection", Call{Idempotent: true}, Outcome{Err: boom}, 3},
		{"write after a lost connection", Call{}, Outcome{Err: boom}, 1},
		{"write that never connected", Call{}, Outcome{Err: dialErr}, 3},
		{"final failure", Call{Idempotent: true}, Outcome{Err: boom, Status: 503, Final: true}, 1},
	}
	for _, tc := range cases {
		var waits []time.Duration
		p := Policy{Retries: 2, Base: time.Millisecond, Cap: time.Second, Sleep: recordWaits(&waits),
			RetryStatus: func(st int, idem bool) bool { return st == 429 || st >= 500 && idem }}
		tries := 0
		err := p.Do(context.Background(), tc.call, func(context.Context) Outcome { tries++; return tc.outcome })
		if err != tc.outcome.Err || tries != tc.wantTries {
			t.Errorf("%s: %d tries, err %v; want %d tries and the try's error", tc.name, tries, err, tc.wantTries)
		}
	}
}

// A cancelled context ends the wait between tries at once, and no try follows.
func TestCancelDuringTheWaitReturns(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	waiting := make(chan struct{})
	p := Policy{Retries: 5, MaxRetryAfter: time.Hour, RetryStatus: func(int, bool) bool { return true },
		Sleep: func(ctx context.Context, d time.Duration) error { close(waiting); return SleepCtx(ctx, d) }}
	tries := 0
	done := make(chan error, 1)
	go func() {
		done <- p.Do(ctx, Call{Idempotent: true}, func(context.Context) Outcome {
			tries++
			return Outcome{Err: errors.New("busy"), Status: 503, RetryAfter: 50 * time.Minute}
		})
	}()
	<-waiting
	cancel()
	select {
	case err := <-done:
		if err == nil || err.Error() != "busy" || tries != 1 {
			t.Fatalf("err %v after %d tries, want the last error after 1 try", err, tries)
		}
	case <-time.After(20 * time.Second): // a hang detector, not a measurement
		t.Fatal("Do kept sleeping after its context was cancelled")
	}
	if err := SleepCtx(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("SleepCtx on a cancelled context: %v", err)
	}
}

// No wait starts that would outlast the deadline: the error comes back instead.
func TestNoWaitBeyondTheDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var waits []time.Duration
	p := Policy{Retries: 3, MaxRetryAfter: time.Hour, RetryStatus: func(int, bool) bool { return true }, Sleep: recordWaits(&waits)}
	tries := 0
	err := p.Do(ctx, Call{Idempotent: true}, func(context.Context) Outcome {
		tries++
		return Outcome{Err: errors.New("busy"), Status: 503, RetryAfter: 10 * time.Minute}
	})
	if err == nil || tries != 1 || len(waits) != 0 {
		t.Fatalf("err %v, %d tries, waits %v; want one try and no wait", err, tries, waits)
	}
}

// Against a real server: a POST that reached it and lost its answer is not
// sent again; a GET is; a POST to a port nobody listens on is.
func TestPostNotRepeatedOnceSent(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.ReadAll(r.Body)
		conn, _, err := w.(http.Hijacker).Hijack() // hang up without an answer
		if err == nil {
			conn.Close()
		}
	}))
	defer srv.Close()
	p := Policy{Retries: 2, Base: time.Millisecond, Cap: time.Millisecond, RetryStatus: func(int, bool) bool { return true }}
	send := func(method, u string, call Call) error {
		return p.Do(context.Background(), call, func(ctx context.Context) Outcome {
			req, err := http.NewRequestWithContext(ctx, method, u, strings.NewReader("{}"))
			if err != nil {
				return Outcome{Err: err, Final: true}
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return Outcome{Err: err}
			}
			resp.Body.Close()
			return Outcome{Status: resp.StatusCode}
		})
	}
	if err := send(http.MethodPost, srv.URL, Call{Name: "items.create"}); err == nil || hits.Load() != 1 {
		t.Fatalf("POST after a hang-up: err %v, server saw it %d times, want an error and 1", err, hits.Load())
	}
	hits.Store(0)
	if err := send(http.MethodGet, srv.URL, Call{Name: "items.get", Idempotent: true}); err == nil || hits.Load() != 3 {
		t.Fatalf("GET after hang-ups: err %v, server saw it %d times, want 3", err, hits.Load())
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	tries := 0
	_ = p.Do(context.Background(), Call{Name: "items.create"}, func(ctx context.Context) Outcome {
		tries++
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, closed, strings.NewReader("{}"))
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			return Outcome{Status: resp.StatusCode}
		}
		return Outcome{Err: err}
	})
	if tries != 3 {
		t.Fatalf("POST that could not connect tried %d times, want 3 (nothing was sent)", tries)
	}
}

// The call's name reaches the transport with every try.
func TestNameReachesTheTransport(t *testing.T) {
	var names []string
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		names = append(names, Name(r))
		return &http.Response{StatusCode: 503, Body: http.NoBody, Request: r}, nil
	})
	hc := &http.Client{Transport: rt}
	var waits []time.Duration
	p := Policy{Retries: 1, Base: time.Millisecond, RetryStatus: func(int, bool) bool { return true }, Sleep: recordWaits(&waits)}
	_ = p.Do(context.Background(), Call{Name: "workitems.get", Idempotent: true}, func(ctx context.Context) Outcome {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://example.invalid/", nil)
		resp, err := hc.Do(req)
		if err != nil {
			return Outcome{Err: err}
		}
		resp.Body.Close()
		return Outcome{Err: errors.New("unavailable"), Status: resp.StatusCode}
	})
	if len(names) != 2 || names[0] != "workitems.get" || names[1] != "workitems.get" {
		t.Fatalf("transport saw names %q, want the call's name on both tries", names)
	}
	if Name(httptestRequest()) != "" {
		t.Fatal("an unnamed request has a name")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func httptestRequest() *http.Request { return httptest.NewRequest(http.MethodGet, "/", nil) }
