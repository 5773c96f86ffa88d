package teams_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/sally-devops/devopsbot/teams"
)

// syncBuffer collects JSON log lines written from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns the records logged with the given message.
func (b *syncBuffer) lines(t *testing.T, msg string) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		var rec map[string]any
		if l == "" {
			continue
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("log line is not JSON: %s", l)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// A handler that logs through teams.Logger(ctx) names the request it serves,
// for invokes (answered in the request) and for messages (handled after it).
func TestHandlersLogWithTheirRequestID(t *testing.T) {
	var out syncBuffer
	log := slog.New(slog.NewJSONHandler(&out, nil))
	rt := teams.NewRouter()
	rt.OnInvoke("id", func(ctx context.Context, a *teams.Activity) (teams.InvokeResponse, error) {
		teams.Logger(ctx).InfoContext(ctx, "handled invoke")
		return teams.InvokeResponse{}, nil
	})
	rt.OnMessage(func(ctx context.Context, a *teams.Activity) error {
		teams.Logger(ctx).InfoContext(ctx, "handled message")
		return nil
	})
	s := teams.NewServer(teams.ServerConfig{Router: rt, Logger: log})
	for _, tc := range []struct{ id, body string }{
		{"req-invoke-1", `{"type":"invoke","name":"id","id":"a1","conversation":{"id":"c1"}}`},
		{"req-message-2", `{"type":"message","text":"hi","id":"a2","conversation":{"id":"c2"}}`},
	} {
		req := httptest.NewRequest(http.MethodPost, "/api/messages", strings.NewReader(tc.body))
		req.Header.Set("X-Request-Id", tc.id)
		s.ServeHTTP(httptest.NewRecorder(), req)
	}
	if err := s.Shutdown(context.Background()); err != nil { // waits for the message handler
		t.Fatal(err)
	}
	for msg, want := range map[string][2]string{"handled invoke": {"req-invoke-1", "a1"}, "handled message": {"req-message-2", "a2"}} {
		recs := out.lines(t, msg)
		if len(recs) != 1 || recs[0]["request_id"] != want[0] || recs[0]["activity_id"] != want[1] {
			t.Errorf("%q logged as %v, want request_id %s and activity_id %s", msg, recs, want[0], want[1])
		}
	}
}

func TestRequestLogForOtherRoutes(t *testing.T) {
	var out syncBuffer
	log := slog.New(slog.NewJSONHandler(&out, nil))
	var seen string
	h := teams.WithRequestLog(log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = teams.RequestID(r.Context())
		teams.Logger(r.Context()).InfoContext(r.Context(), "served")
	}))
	req := httptest.NewRequest(http.MethodGet, "/oauth/callback", nil)
	req.Header.Set("X-Request-Id", "cb-7")
	h.ServeHTTP(httptest.NewRecorder(), req)
	recs := out.lines(t, "served")
	if seen != "cb-7" || len(recs) != 1 || recs[0]["request_id"] != "cb-7" || recs[0]["path"] != "/oauth/callback" {
		t.Fatalf("request id %q, log %v", seen, recs)
	}
}

// Outside a request, Logger still returns a usable logger.
func TestLoggerOutsideARequest(t *testing.T) {
	if teams.Logger(context.Background()) != slog.Default() {
		t.Fatal("a context without a logger should give slog.Default()")
	}
	l := slog.New(slog.DiscardHandler)
	if teams.Logger(teams.WithLogger(context.Background(), l)) != l {
		t.Fatal("WithLogger's logger was not returned")
	}
}
