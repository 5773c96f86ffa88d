package teams_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/teams"
	"github.com/sally-devops/devopsbot/teams/teamstest"
)

// newTestConnector returns a connector whose waits are recorded, not slept.
func newTestConnector(cfg teams.ConnectorConfig) (*teams.Connector, func() []time.Duration) {
	c := teams.NewConnector(cfg)
	var mu sync.Mutex
	var waits []time.Duration
	teams.SetSleep(c, func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		return ctx.Err()
	})
	return c, func() []time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return append([]time.Duration(nil), waits...)
	}
}

const teamsConv = "19:meeting_NjY4@thread.v2;messageid=1700000000000"

func TestConnectorSendUpdateDelete(t *testing.T) {
	fake := teamstest.NewConnector(t)
	c, _ := newTestConnector(teams.ConnectorConfig{})
	ctx := context.Background()

	id, err := c.SendToConversation(ctx, fake.URL, teamsConv, teams.NewMessage("hello"))
	if err != nil || id == "" {
		t.Fatalf("send: id %q err %v", id, err)
	}
	got, ok := fake.Activity(teamsConv, id)
	if !ok || got.Text != "hello" || got.Type != "message" {
		t.Fatalf("connector holds %+v (%v)", got, ok)
	}
	sent := fake.Sent()
	if sent[0].ConversationID != teamsConv || sent[0].Authorization != "" {
		t.Fatalf("conversation id arrived as %q (escaping), auth %q", sent[0].ConversationID, sent[0].Authorization)
	}

	card := map[string]any{"type": "AdaptiveCard", "version": "1.5", "body": []any{map[string]any{"type": "TextBlock", "text": "v2"}}}
	if err := c.UpdateActivity(ctx, fake.URL, teamsConv, id, teams.NewCardMessage(card)); err != nil {
		t.Fatalf("update: %v", err)
	}
	got, _ = fake.Activity(teamsConv, id)
	if len(got.Attachments) != 1 || got.Attachments[0].ContentType != teams.ContentTypeAdaptiveCard || !strings.Contains(string(got.Attachments[0].Content.(json.RawMessage)), `"v2"`) {
		t.Fatalf("after update: %+v", got)
	}

	reply, err := c.ReplyToActivity(ctx, fake.URL, teamsConv, id, teams.NewMessage("in thread"))
	if err != nil || reply == "" || reply == id {
		t.Fatalf("reply: %q %v", reply, err)
	}
	if s := fake.Sent(); s[2].ReplyToID != id || s[2].Activity.ReplyToID != id {
		t.Fatalf("reply not addressed to %s: %+v", id, s[2])
	}
}

func TestConnectorTextAndCardAnswered202WithoutID(t *testing.T) {
	fake := teamstest.NewConnector(t)
	c, _ := newTestConnector(teams.ConnectorConfig{})
	act := teams.NewCardMessage(map[string]any{"type": "AdaptiveCard"})
	act.Text = "and text"
	id, err := c.SendToConversation(context.Background(), fake.URL, "a:conv", act)
	if err != nil || id != "" {
		t.Fatalf("id %q err %v, want empty id and no error", id, err)
	}
	if s := fake.Sent(); len(s) != 1 || s[0].Status != http.StatusAccepted {
		t.Fatalf("sent %+v", s)
	}
}

func TestConnectorRetries429HonouringRetryAfter(t *testing.T) {
	fake := teamstest.NewConnector(t)
	c, waits := newTestConnector(teams.ConnectorConfig{MaxBackoff: 10 * time.Second})
	fake.FailNext(http.StatusTooManyRequests, "2", 2)
	id, err := c.SendToConversation(context.Background(), fake.URL, "a:conv", teams.NewMessage("hi"))
	if err != nil || id == "" {
		t.Fatalf("id %q err %v", id, err)
	}
	if w := waits(); len(w) != 2 || w[0] != 2*time.Second || w[1] != 2*time.Second {
		t.Fatalf("waits %v, want [2s 2s] from Retry-After", w)
	}
	if n := len(fake.Sent()); n != 3 {
		t.Fatalf("%d attempts, want 3", n)
	}
}

func TestConnectorRetryAfterBeyondCapFailsRateLimited(t *testing.T) {
	fake := teamstest.NewConnector(t)
	c, waits := newTestConnector(teams.ConnectorConfig{MaxBackoff: 5 * time.Second})
	fake.FailNext(http.StatusTooManyRequests, "120", 1)
	_, err := c.SendToConversation(context.Background(), fake.URL, "a:conv", teams.NewMessage("hi"))
	if !apperr.Is(err, apperr.RateLimited) || apperr.RetryAfterOf(err) != 120*time.Second {
		t.Fatalf("err %v retryAfter %v, want RateLimited 2m", err, apperr.RetryAfterOf(err))
	}
	var ce *teams.ConnectorError
	if !errors.As(err, &ce) || ce.Status != 429 || ce.Code != "Throttled" {
		t.Fatalf("cause %#v, want the connector's error", ce)
	}
	if len(waits()) != 0 || len(fake.Sent()) != 1 {
		t.Fatalf("waited %v over %d attempts, want no retry", waits(), len(fake.Sent()))
	}
}

func TestConnectorBackoffWithoutRetryAfterGrowsAndIsCapped(t *testing.T) {
	fake := teamstest.NewConnector(t)
	c, waits := newTestConnector(teams.ConnectorConfig{MaxRetries: 5, MaxBackoff: 3 * time.Second})
	fake.FailNext(http.StatusBadGateway, "", 5)
	if _, err := c.SendToConversation(context.Background(), fake.URL, "a:conv", teams.NewMessage("hi")); err != nil {
		t.Fatal(err)
	}
	w := waits()
	if len(w) != 5 {
		t.Fatalf("waits %v, want 5", w)
	}
	for i, d := range w {
		if d <= 0 || d > 3*time.Second {
			t.Errorf("wait %d = %v, want within (0, 3s]", i, d)
		}
	}
	if w[0] > 500*time.Millisecond || w[4] < 1500*time.Millisecond {
		t.Errorf("waits %v do not grow exponentially to the cap", w)
	}
}

func TestConnectorDoesNotRetryPostOn500ButRetriesPut(t *testing.T) {
	fake := teamstest.NewConnector(t)
	c, _ := newTestConnector(teams.ConnectorConfig{})
	ctx := context.Background()
	fake.FailNext(http.StatusInternalServerError, "", 1)
	_, err := c.SendToConversation(ctx, fake.URL, "a:conv", teams.NewMessage("once"))
	if !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("err %v, want Unavailable", err)
	}
	if n := len(fake.Sent()); n != 1 {
		t.Fatalf("POST attempted %d times after a 500, want 1 (no duplicate messages)", n)
	}

	id, err := c.SendToConversation(ctx, fake.URL, "a:conv", teams.NewMessage("v1"))
	if err != nil {
		t.Fatal(err)
	}
	fake.FailNext(http.StatusInternalServerError, "", 1)
	if err := c.UpdateActivity(ctx, fake.URL, "a:conv", id, teams.NewMessage("v2")); err != nil {
		t.Fatalf("update after one 500: %v", err)
	}
	if got, _ := fake.Activity("a:conv", id); got.Text != "v2" {
		t.Fatalf("text %q after update", got.Text)
	}
}

func TestConnectorErrorKinds(t *testing.T) {
	fake := teamstest.NewConnector(t)
	c, _ := newTestConnector(teams.ConnectorConfig{MaxRetries: -1})
	ctx := context.Background()

	fake.ForgetConversation("a:gone")
	if _, err := c.SendToConversation(ctx, fake.URL, "a:gone", teams.NewMessage("x")); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("forgotten conversation: %v", err)
	}
	if _, err := c.SendToConversation(ctx, fake.URL, "a:conv", &teams.Activity{Type: "message"}); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("empty message: %v", err)
	}
	fake.FailNext(http.StatusForbidden, "", 1)
	if _, err := c.SendToConversation(ctx, fake.URL, "a:conv", teams.NewMessage("x")); !apperr.Is(err, apperr.Forbidden) {
		t.Errorf("403: %v", err)
	}
	fake.FailNext(http.StatusServiceUnavailable, "", 1)
	if _, err := c.SendToConversation(ctx, fake.URL, "a:conv", teams.NewMessage("x")); !apperr.Is(err, apperr.Unavailable) {
		t.Errorf("503: %v", err)
	}
	for _, bad := range []string{"", "ftp://x/", "/relative", "http://", "https://user:pw@host/", "::::"} {
		if _, err := c.SendToConversation(ctx, bad, "a:conv", teams.NewMessage("x")); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("serviceUrl %q: %v, want Invalid", bad, err)
		}
	}
	if _, err := c.SendToConversation(ctx, fake.URL, "", teams.NewMessage("x")); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("empty conversation id: %v", err)
	}
	if err := c.UpdateActivity(ctx, fake.URL, "a:conv", "", teams.NewMessage("x")); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("empty activity id: %v", err)
	}
	// None of the refused local checks reached the connector.
	if n := len(fake.Sent()); n != 4 {
		t.Errorf("%d requests reached the connector, want 4", n)
	}
}

func TestConnectorTimeoutIsUnavailable(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	c, _ := newTestConnector(teams.ConnectorConfig{Timeout: 50 * time.Millisecond, MaxRetries: -1})
	_, err := c.SendToConversation(context.Background(), srv.URL, "a:conv", teams.NewMessage("x"))
	if !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("err %v, want Unavailable", err)
	}
}

func TestCreateConversation(t *testing.T) {
	fake := teamstest.NewConnector(t)
	c, _ := newTestConnector(teams.ConnectorConfig{})
	ctx := context.Background()
	p := teams.ConversationParameters{
		Bot:      teams.ChannelAccount{ID: "28:bot"},
		Members:  []teams.ChannelAccount{{AADObjectID: "user-1"}},
		TenantID: "tenant-1",
	}
	id, err := c.CreateConversation(ctx, fake.URL, p)
	if err != nil || id == "" {
		t.Fatalf("id %q err %v", id, err)
	}
	if _, err := c.SendToConversation(ctx, fake.URL, id, teams.NewMessage("welcome")); err != nil {
		t.Fatalf("send to new conversation: %v", err)
	}
	s := fake.Sent()[0]
	if s.Conversation == nil || s.Conversation.TenantID != "tenant-1" || s.Conversation.Members[0].AADObjectID != "user-1" {
		t.Fatalf("create sent %+v", s.Conversation)
	}
	if cd, _ := s.Conversation.ChannelData.(map[string]any); cd == nil || !strings.Contains(mustJSON(cd), `"tenant":{"id":"tenant-1"}`) {
		t.Fatalf("channelData %v, want the tenant for Teams", s.Conversation.ChannelData)
	}

	fake.RefuseUser("user-2")
	p.Members = []teams.ChannelAccount{{AADObjectID: "user-2"}}
	if _, err := c.CreateConversation(ctx, fake.URL, p); !apperr.Is(err, apperr.Forbidden) {
		t.Fatalf("user without the app: %v, want Forbidden", err)
	}
	p.Members = nil
	if _, err := c.CreateConversation(ctx, fake.URL, p); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("no members: %v, want Invalid", err)
	}
}

func TestConnectorSendsBotToken(t *testing.T) {
	fake := teamstest.NewConnector(t)
	tokenURL, count := teamstest.NewTokenEndpoint(t)
	ts := teams.NewBotTokenSource(teams.CredentialsConfig{ClientID: teamstest.ClientID, ClientSecret: teamstest.ClientSecret, TokenURL: tokenURL})
	c, _ := newTestConnector(teams.ConnectorConfig{TokenSource: ts})
	for range 3 {
		if _, err := c.SendToConversation(context.Background(), fake.URL, "a:conv", teams.NewMessage("x")); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range fake.Sent() {
		if s.Authorization != "Bearer bot-token-1" {
			t.Fatalf("Authorization %q", s.Authorization)
		}
	}
	if count() != 1 {
		t.Fatalf("%d tokens fetched for 3 sends, want 1", count())
	}

	bad := teams.NewBotTokenSource(teams.CredentialsConfig{ClientID: teamstest.ClientID, ClientSecret: "wrong", TokenURL: tokenURL})
	c2, _ := newTestConnector(teams.ConnectorConfig{TokenSource: bad})
	_, err := c2.SendToConversation(context.Background(), fake.URL, "a:conv", teams.NewMessage("x"))
	if err == nil || apperr.KindOf(err) != apperr.Internal || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("refused credentials: %v", err)
	}
	if n := len(fake.Sent()); n != 3 {
		t.Fatalf("a send without a token reached the connector")
	}
}

func TestConnectorEscapesIDsOnTheWire(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.RequestURI)
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(`{"id":"x"}`))
	}))
	defer srv.Close()
	c, _ := newTestConnector(teams.ConnectorConfig{})
	ctx := context.Background()
	if _, err := c.ReplyToActivity(ctx, srv.URL+"/amer/", teamsConv, "1700000000000", teams.NewMessage("x")); err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateActivity(ctx, srv.URL, "a:1/../../v3", "id?x=1 2", teams.NewMessage("x")); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"POST /amer/v3/conversations/19%3Ameeting_NjY4%40thread.v2%3Bmessageid%3D1700000000000/activities/1700000000000",
		"PUT /v3/conversations/a%3A1%2F..%2F..%2Fv3/activities/id%3Fx%3D1%202",
	}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("requests\n%q\nwant\n%q", got, want)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A message is posted again only when the first try never connected; once it
// may have reached Teams, a lost answer gives an error, not a second message.
func TestConnectorRetriesPostOnlyWhenNothingWasSent(t *testing.T) {
	for _, tc := range []struct {
		name      string
		failFirst func(*http.Request) (*http.Response, error)
		wantErr   bool
	}{
		{"could not connect", func(*http.Request) (*http.Response, error) {
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
		}, false},
		{"answer lost after sending", func(r *http.Request) (*http.Response, error) {
			if resp, err := http.DefaultTransport.RoundTrip(r); err == nil {
				resp.Body.Close()
			}
			return nil, io.ErrUnexpectedEOF
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := teamstest.NewConnector(t)
			tries := 0
			hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				tries++
				if tries == 1 {
					return tc.failFirst(r)
				}
				return http.DefaultTransport.RoundTrip(r)
			})}
			c, _ := newTestConnector(teams.ConnectorConfig{HTTPClient: hc})
			_, err := c.SendToConversation(context.Background(), fake.URL, "a:conv", teams.NewMessage("once"))
			if (err != nil) != tc.wantErr || len(fake.Sent()) != 1 {
				t.Fatalf("err %v, %d messages posted; want error %v and exactly 1", err, len(fake.Sent()), tc.wantErr)
			}
		})
	}
}
