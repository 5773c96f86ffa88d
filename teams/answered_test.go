package teams_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/sally-devops/devopsbot/teams"
	"github.com/sally-devops/devopsbot/teams/teamstest"
)

type answer struct {
	typ, name string
	status    int
}

// OnAnswered hears each request once, with the type and name of the activity
// and the status it got; a request without a valid token is answered without
// its body being read at all, so a metric never parses what nobody vouched for.
func TestOnAnsweredLabelsAfterTheTokenCheck(t *testing.T) {
	iss := teamstest.NewIssuer(t)
	var mu sync.Mutex
	var got []answer
	rt := teams.NewRouter()
	rt.OnInvoke("task/fetch", func(context.Context, *teams.Activity) (teams.InvokeResponse, error) {
		return teams.TaskMessageResponse("hi"), nil
	})
	s := teams.NewServer(teams.ServerConfig{
		Router: rt,
		Auth:   teams.NewAuthenticator(teams.AuthConfig{AppID: appID, OpenIDMetadataURL: iss.MetadataURL}),
		OnAnswered: func(typ, name string, status int) {
			mu.Lock()
			got = append(got, answer{typ, name, status})
			mu.Unlock()
		},
	})
	invoke, _ := json.Marshal(teams.Activity{Type: "invoke", Name: "task/fetch", ServiceURL: serviceURL, ChannelID: "msteams", Value: json.RawMessage(`{}`)})
	good := "Bearer " + iss.Token(t, appID, serviceURL, nil)

	send := func(auth string, body []byte) (int, int) {
		cb := teamstest.NewCountingBody(string(body))
		req := httptest.NewRequest(http.MethodPost, "/api/messages", nil)
		req.Body = cb
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		return rec.Code, cb.N
	}
	if code, read := send("", invoke); code != http.StatusUnauthorized || read != 0 {
		t.Fatalf("no token: status %d, %d body bytes read (want 401, 0)", code, read)
	}
	if code, _ := send(good, invoke); code != http.StatusOK {
		t.Fatalf("good invoke: status %d", code)
	}
	if code, _ := send(good, pingActivity(serviceURL, "msteams")); code != http.StatusNotImplemented {
		t.Fatalf("unknown invoke: status %d", code)
	}
	if code, _ := send(good, []byte(`{"type":`)); code != http.StatusBadRequest {
		t.Fatalf("broken body: status %d", code)
	}
	s.Shutdown(context.Background())
	want := []answer{{"", "", 401}, {"invoke", "task/fetch", 200}, {"invoke", "test/ping", 501}, {"", "", 400}}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != len(want) {
		t.Fatalf("answered %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d answered %v, want %v", i, got[i], want[i])
		}
	}
}
