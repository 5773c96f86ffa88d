package teams_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/teams"
)

type fixture struct {
	Kind    string            `json:"kind"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

func loadFixtures(t *testing.T) []fixture {
	t.Helper()
	b, err := os.ReadFile("testdata/playground-activities.json")
	if err != nil {
		t.Fatal(err)
	}
	var fs []fixture
	if err := json.Unmarshal(b, &fs); err != nil {
		t.Fatal(err)
	}
	if len(fs) != 5 {
		t.Fatalf("%d fixtures, want 5", len(fs))
	}
	return fs
}

// routed records which handler got which activity.
type routed struct {
	mu    sync.Mutex
	calls []string
	acts  []*teams.Activity
	ids   []string
	done  chan struct{}
}

func (r *routed) record(kind string, ctx context.Context, a *teams.Activity) {
	r.mu.Lock()
	r.calls = append(r.calls, kind)
	r.acts = append(r.acts, a)
	r.ids = append(r.ids, teams.RequestID(ctx))
	r.mu.Unlock()
	if r.done != nil {
		r.done <- struct{}{}
	}
}

func newRoutedServer(r *routed) *teams.Server {
	rt := teams.NewRouter()
	rt.OnMessage(func(ctx context.Context, a *teams.Activity) error { r.record("message", ctx, a); return nil })
	rt.OnConversationUpdate(func(ctx context.Context, a *teams.Activity) error { r.record("conversationUpdate", ctx, a); return nil })
	rt.OnInstallationUpdate(func(ctx context.Context, a *teams.Activity) error { r.record("installationUpdate", ctx, a); return nil })
	rt.OnInvoke("adaptiveCard/action", func(ctx context.Context, a *teams.Activity) (teams.InvokeResponse, error) {
		r.record("invoke:adaptiveCard/action", ctx, a)
		v, err := a.ActionValue()
		if err != nil {
			return teams.InvokeResponse{}, err
		}
		return teams.AdaptiveCardResponse(map[string]any{"type": "AdaptiveCard", "version": "1.5", "verb": v.Action.Verb}), nil
	})
	return teams.NewServer(teams.ServerConfig{Router: rt})
}

func TestPlaygroundActivitiesRouteToTheirHandlers(t *testing.T) {
	want := map[string]string{
		"message//text":                    "message",
		"message//value":                   "message",
		"invoke/adaptiveCard/action/value": "invoke:adaptiveCard/action",
		"installationUpdate//text":         "installationUpdate",
		"conversationUpdate//text":         "conversationUpdate",
	}
	for _, fx := range loadFixtures(t) {
		t.Run(fx.Kind, func(t *testing.T) {
			r := &routed{}
			s := newRoutedServer(r)
			status, body := post(t, s, "", fx.Body)
			if err := s.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			if status != http.StatusOK {
				t.Fatalf("status %d body %s", status, body)
			}
			if len(r.calls) != 1 || r.calls[0] != want[fx.Kind] {
				t.Fatalf("routed to %v, want [%s]", r.calls, want[fx.Kind])
			}
			if r.ids[0] == "" {
				t.Error("handler context has no request id")
			}
			a := r.acts[0]
			if a.ServiceURL != "http://localhost:56150/_connector" || a.ChannelID != "msteams" ||
				a.Conversation.ID != "3a62da72-3a6c-46f4-9c1d-5df6571daed4" || a.From.AADObjectID != "00000000-0000-0000-0000-0000000000020" {
				t.Errorf("addressing fields lost: %+v", a)
			}
			if a.TenantID() != "00000000-0000-0000-0000-0000000000001" {
				t.Errorf("TenantID = %q", a.TenantID())
			}
			if a.Timestamp == nil || a.Timestamp.IsZero() {
				t.Error("timestamp not decoded")
			}
			switch fx.Kind {
			case "message//text":
				if a.TextWithoutMention() != "hello" || a.Conversation.ConversationType != "personal" || a.Recipient.Name != "Test Bot" {
					t.Errorf("text message decoded as %+v", a)
				}
			case "message//value":
				var v struct{ Kind, Comment, Color string }
				if err := json.Unmarshal(a.Value, &v); err != nil || v.Kind != "submit" || v.Comment != "from script" || a.Text != "" {
					t.Errorf("Action.Submit value = %s (%v)", a.Value, err)
				}
				if a.ReplyToID != "1795829066510-7ced11f2" {
					t.Errorf("replyToId = %q", a.ReplyToID)
				}
				td, err := a.TeamsData()
				if err != nil || td.Source == nil || td.Source.Name != "message" {
					t.Errorf("channel data source = %+v (%v)", td, err)
				}
			case "invoke/adaptiveCard/action/value":
				if !strings.Contains(body, `"type":"application/vnd.microsoft.card.adaptive"`) || !strings.Contains(body, `"verb":"doThing"`) {
					t.Errorf("invoke response body = %s", body)
				}
				v, err := a.ActionValue()
				if err != nil || v.Action.Type != "Action.Execute" || v.Action.Verb != "doThing" || v.Trigger != "manual" || !strings.Contains(compact(v.Action.Data), `"comment":"x"`) {
					t.Errorf("action value = %+v (%v)", v, err)
				}
			case "installationUpdate//text":
				td, err := a.TeamsData()
				if a.Action != "add" || err != nil || !strings.Contains(string(td.Settings), "selectedChannel") {
					t.Errorf("installationUpdate action %q settings %s (%v)", a.Action, td.Settings, err)
				}
			case "conversationUpdate//text":
				if len(a.MembersAdded) != 2 || a.MembersAdded[1].ID != a.Recipient.ID {
					t.Errorf("membersAdded = %+v", a.MembersAdded)
				}
			}
		})
	}
}

func TestInvokeResponseIsTheHTTPBody(t *testing.T) {
	rt := teams.NewRouter()
	rt.OnInvoke("application/search", func(ctx context.Context, a *teams.Activity) (teams.InvokeResponse, error) {
		v, err := a.SearchValue()
		if err != nil {
			return teams.InvokeResponse{}, err
		}
		return teams.SearchResponse([]teams.SearchResult{{Title: "Bug 42 " + v.QueryText, Value: "42"}}), nil
	})
	s := teams.NewServer(teams.ServerConfig{Router: rt})
	status, body := post(t, s, "", []byte(`{"type":"invoke","name":"application/search","value":{"kind":"search","queryText":"login","dataset":"workitems","queryOptions":{"skip":0,"top":15}}}`))
	want := `{"statusCode":200,"type":"application/vnd.microsoft.search.searchResponse","value":{"results":[{"title":"Bug 42 login","value":"42"}]}}`
	if status != 200 || body != want {
		t.Fatalf("got %d %s\nwant 200 %s", status, body, want)
	}
}

// A dialog card the bot has encoded already is sent byte for byte as the same
// card given as a value would be (title escaped, dialog size kept), and a
// broken pre-encoded card is refused rather than sent to Teams as broken JSON.
func TestEncodedDialogCardIsSentAsTheSameJSON(t *testing.T) {
	card := map[string]any{"type": "AdaptiveCard", "body": []any{map[string]any{"type": "TextBlock", "text": "a <b> & \"c\" \u2028"}}}
	enc, err := teams.EncodeCard(card)
	if err != nil {
		t.Fatal(err)
	}
	const title = `Create <work> & "item"`
	answers := map[string]teams.InvokeResponse{
		"value":        teams.TaskCardResponse(title, card),
		"encoded":      teams.TaskCardResponse(title, enc),
		"sized value":  teams.WithDialogSize(teams.TaskCardResponse("", card), teams.DialogMedium, teams.DialogLarge),
		"sized encode": teams.WithDialogSize(teams.TaskCardResponse("", enc), teams.DialogMedium, teams.DialogLarge),
		"broken":       teams.TaskCardResponse(title, json.RawMessage(`{"type":"AdaptiveCard",`)),
	}
	rt := teams.NewRouter()
	rt.OnInvoke("task/fetch", func(ctx context.Context, a *teams.Activity) (teams.InvokeResponse, error) {
		var v struct{ Answer string }
		_ = json.Unmarshal(a.Value, &v)
		return answers[v.Answer], nil
	})
	s := teams.NewServer(teams.ServerConfig{Router: rt, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	open := func(answer string) (int, string) {
		return post(t, s, "", []byte(`{"type":"invoke","name":"task/fetch","value":{"answer":"`+answer+`"}}`))
	}
	for _, pair := range [][2]string{{"value", "encoded"}, {"sized value", "sized encode"}} {
		st1, want := open(pair[0])
		st2, got := open(pair[1])
		if st1 != 200 || st2 != 200 || got != want {
			t.Errorf("%s: %d %s\n%s: %d %s", pair[0], st1, want, pair[1], st2, got)
		}
		if !json.Valid([]byte(got)) || !strings.Contains(got, `"content":{"body"`) {
			t.Errorf("%s: not the card: %s", pair[1], got)
		}
	}
	if status, body := open("broken"); status != 500 || strings.Contains(body, `"type":"AdaptiveCard",`) {
		t.Errorf("a broken encoded card was answered %d %s", status, body)
	}
}

func TestInvokeFailures(t *testing.T) {
	rt := teams.NewRouter()
	rt.OnInvoke("fails", func(ctx context.Context, a *teams.Activity) (teams.InvokeResponse, error) {
		return teams.InvokeResponse{}, apperr.Wrap(apperr.Internal, "secret detail", errors.New("db password=hunter2"))
	})
	rt.OnInvoke("invalid", func(ctx context.Context, a *teams.Activity) (teams.InvokeResponse, error) {
		return teams.InvokeResponse{}, apperr.New(apperr.Invalid, "The title is empty.")
	})
	rt.OnInvoke("panics", func(ctx context.Context, a *teams.Activity) (teams.InvokeResponse, error) {
		panic("boom")
	})
	var deadline time.Time
	rt.OnInvoke("deadline", func(ctx context.Context, a *teams.Activity) (teams.InvokeResponse, error) {
		deadline, _ = ctx.Deadline()
		return teams.InvokeResponse{}, nil
	})
	var logs bytes.Buffer
	s := teams.NewServer(teams.ServerConfig{Router: rt, InvokeTimeout: 3 * time.Second, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})

	status, body := post(t, s, "", []byte(`{"type":"invoke","name":"fails"}`))
	if status != 500 || !strings.Contains(body, "application/vnd.microsoft.error") || strings.Contains(body, "hunter2") || strings.Contains(body, "secret detail") {
		t.Errorf("failing handler: %d %s", status, body)
	}
	if !strings.Contains(logs.String(), "hunter2") || !strings.Contains(logs.String(), `"request_id"`) {
		t.Errorf("the cause and request id should be logged: %s", logs.String())
	}
	status, body = post(t, s, "", []byte(`{"type":"invoke","name":"invalid"}`))
	if status != 500 || !strings.Contains(body, "The title is empty.") {
		t.Errorf("invalid input: %d %s", status, body)
	}
	status, body = post(t, s, "", []byte(`{"type":"invoke","name":"panics"}`))
	if status != 500 || !strings.Contains(body, `"statusCode":500`) {
		t.Errorf("panicking handler: %d %s", status, body)
	}
	status, body = post(t, s, "", []byte(`{"type":"invoke","name":"nobody/handles"}`))
	if status != 501 || !strings.Contains(body, `"statusCode":501`) {
		t.Errorf("unhandled invoke: %d %s", status, body)
	}
	before := time.Now()
	if status, _ = post(t, s, "", []byte(`{"type":"invoke","name":"deadline"}`)); status != 200 {
		t.Errorf("empty invoke response: status %d", status)
	}
	after := time.Now()
	if deadline.Before(before.Add(3*time.Second)) || deadline.After(after.Add(3*time.Second)) {
		t.Errorf("invoke handler deadline %v, want the request time plus InvokeTimeout 3s", deadline.Sub(before))
	}
}

func TestServerRefusesBadRequests(t *testing.T) {
	r := &routed{}
	s := newRoutedServer(r)
	cases := []struct {
		name   string
		body   []byte
		status int
	}{
		{"not JSON", []byte(`hello`), 400},
		{"truncated JSON", []byte(`{"type":"message","text":"hi`), 400},
		{"JSON array", []byte(`[{"type":"message"}]`), 400},
		{"no type", []byte(`{"text":"hi"}`), 400},
		{"wrong field type", []byte(`{"type":"message","from":"me"}`), 400},
		{"too large", append(append([]byte(`{"type":"message","text":"`), bytes.Repeat([]byte("a"), 300<<10)...), []byte(`"}`)...), 413},
		{"unknown type ignored", []byte(`{"type":"typing"}`), 200},
		{"unknown fields ignored", []byte(`{"type":"event","name":"x","brandNew":{"a":1}}`), 200},
	}
	for _, tc := range cases {
		status, body := post(t, s, "", tc.body)
		if status != tc.status {
			t.Errorf("%s: status %d body %s, want %d", tc.name, status, body, tc.status)
		}
		if status >= 400 && !strings.Contains(body, `"error"`) {
			t.Errorf("%s: error body is not JSON: %s", tc.name, body)
		}
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(r.calls) != 0 {
		t.Fatalf("refused requests reached handlers: %v", r.calls)
	}
}

func TestBackgroundHandlersAnswerFirstAndShutdownWaits(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	var finished bool
	var mu sync.Mutex
	rt := teams.NewRouter()
	rt.OnMessage(func(ctx context.Context, a *teams.Activity) error {
		if a.Text == "panic" {
			panic("boom")
		}
		started <- struct{}{}
		<-release
		mu.Lock()
		finished = true
		mu.Unlock()
		return nil
	})
	s := teams.NewServer(teams.ServerConfig{Router: rt})
	if status, _ := post(t, s, "", []byte(`{"type":"message","text":"panic"}`)); status != 200 {
		t.Fatalf("panicking handler: status %d", status)
	}
	// The HTTP answer comes while the handler is still blocked.
	if status, _ := post(t, s, "", []byte(`{"type":"message","text":"slow"}`)); status != 200 {
		t.Fatalf("status %d", status)
	}
	<-started
	shut := make(chan error)
	go func() { shut <- s.Shutdown(context.Background()) }()
	close(release)
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !finished {
		t.Fatal("Shutdown returned before the handler finished")
	}
	// After shutdown, new background work is refused so that Teams retries elsewhere.
	if status, _ := post(t, s, "", []byte(`{"type":"message","text":"late"}`)); status != http.StatusServiceUnavailable {
		t.Fatalf("after shutdown: status %d, want 503", status)
	}
}

func TestShutdownGivesUpAtDeadlineAndCancelsHandlers(t *testing.T) {
	cancelled := make(chan struct{})
	rt := teams.NewRouter()
	rt.OnMessage(func(ctx context.Context, a *teams.Activity) error {
		<-ctx.Done()
		close(cancelled)
		return ctx.Err()
	})
	s := teams.NewServer(teams.ServerConfig{Router: rt})
	post(t, s, "", []byte(`{"type":"message","text":"stuck"}`))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown = %v, want context.Canceled", err)
	}
	<-cancelled
}

func TestRequestIDFromHeaderOnlyWhenPlain(t *testing.T) {
	got := make(chan string, 2)
	rt := teams.NewRouter()
	rt.OnInvoke("id", func(ctx context.Context, a *teams.Activity) (teams.InvokeResponse, error) {
		got <- teams.RequestID(ctx)
		return teams.InvokeResponse{}, nil
	})
	s := teams.NewServer(teams.ServerConfig{Router: rt})
	for _, tc := range []struct{ header, want string }{{"abc-123", "abc-123"}, {"evil\nline", ""}} {
		req, _ := http.NewRequest(http.MethodPost, "/api/messages", strings.NewReader(`{"type":"invoke","name":"id"}`))
		req.Header.Set("X-Request-Id", tc.header)
		s.ServeHTTP(discard{}, req)
		id := <-got
		if tc.want != "" && id != tc.want || tc.want == "" && (id == "" || strings.Contains(id, "\n")) {
			t.Errorf("header %q gave request id %q", tc.header, id)
		}
	}
}

func compact(b []byte) string {
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return string(b)
	}
	return out.String()
}

type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

func TestWithoutAuthOnlyLoopbackServiceURLs(t *testing.T) {
	var logs bytes.Buffer
	var handled []string
	var mu sync.Mutex
	rt := teams.NewRouter()
	rt.OnInvoke("test/ping", func(ctx context.Context, a *teams.Activity) (teams.InvokeResponse, error) {
		mu.Lock()
		handled = append(handled, a.ServiceURL)
		mu.Unlock()
		return teams.AdaptiveCardResponse(map[string]any{"text": "pong"}), nil
	})
	s := teams.NewServer(teams.ServerConfig{Router: rt, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	activity := func(serviceURL string) []byte {
		b, _ := json.Marshal(teams.Activity{Type: teams.ActivityInvoke, Name: "test/ping", ServiceURL: serviceURL, ChannelID: "msteams"})
		return b
	}
	for _, u := range []string{
		"http://localhost:56150/_connector", "http://LOCALHOST:3978/", "http://127.0.0.1:3978", "http://127.5.6.7/",
		"http://[::1]:3978/", "https://localhost/", "",
	} {
		if status, body := post(t, s, "", activity(u)); status != http.StatusOK || !strings.Contains(body, "pong") {
			t.Errorf("serviceUrl %q: %d %s, want 200", u, status, body)
		}
	}
	refused := []string{
		"https://smba.trafficmanager.net/emea/", "http://10.0.0.1:3978/", "http://0.0.0.0:3978/",
		"http://localhost.evil.example/", "http://127.0.0.1.nip.io/", "http://127.0.0.1@evil.example/",
		"http://evil.example#@127.0.0.1/", "http://user:pw@127.0.0.1:3978/", "http://[::ffff:10.0.0.1]/", "ftp://127.0.0.1/", "::::", "/relative",
	}
	for _, u := range refused {
		logs.Reset()
		status, body := post(t, s, "", activity(u))
		if status != http.StatusBadRequest || !strings.Contains(body, `"service_url_not_loopback"`) {
			t.Errorf("serviceUrl %q: %d %s, want 400 service_url_not_loopback", u, status, body)
		}
		if !strings.Contains(logs.String(), "serviceUrl not on loopback") {
			t.Errorf("serviceUrl %q refused without a log line: %s", u, logs.String())
		}
		if strings.Contains(logs.String(), ":pw@") {
			t.Errorf("the log line shows the password of %q: %s", u, logs.String())
		}
	}
	// Background activities too: the handler would reply to that serviceUrl later.
	b, _ := json.Marshal(teams.Activity{Type: teams.ActivityMessage, Text: "hi", ServiceURL: "https://evil.example/"})
	if status, _ := post(t, s, "", b); status != http.StatusBadRequest {
		t.Errorf("message to a remote serviceUrl: status %d, want 400", status)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, u := range handled {
		if slices.Contains(refused, u) {
			t.Errorf("handler ran for refused serviceUrl %q", u)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"localhost": true, "localhost:3978": true, "127.0.0.1:80": true, "127.255.0.1": true, "[::1]:3978": true, "::1": true, "[::1]": true,
		"": false, ":3978": false, "0.0.0.0:3978": false, "example.com": false, "10.0.0.1": false, "localhost.example": false, "[::]:80": false,
	} {
		if got := teams.IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}
