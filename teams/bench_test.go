package teams_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sally-devops/devopsbot/teams"
	"github.com/sally-devops/devopsbot/teams/teamstest"
)

// BenchmarkAuthenticatedMessage measures one POST /api/messages with a valid token
// through the Server, keys cached: the cost every Teams message pays before our code.
func BenchmarkAuthenticatedMessage(b *testing.B) {
	iss := teamstest.NewIssuer(b)
	rt := teams.NewRouter()
	rt.OnMessage(func(ctx context.Context, a *teams.Activity) error { return nil })
	s := teams.NewServer(teams.ServerConfig{
		Router: rt,
		Auth:   teams.NewAuthenticator(teams.AuthConfig{AppID: appID, OpenIDMetadataURL: iss.MetadataURL}),
	})
	body, _ := json.Marshal(teams.Activity{
		Type: teams.ActivityMessage, ID: "1", Text: "<at>Sally</at> create task Fix login", ServiceURL: serviceURL, ChannelID: "msteams",
		From:         teams.ChannelAccount{ID: "29:user", AADObjectID: "aad-user"},
		Conversation: teams.ConversationAccount{ID: "19:chat@thread.v2", ConversationType: "groupChat", TenantID: "tenant"},
		Recipient:    teams.ChannelAccount{ID: "28:bot", Name: "Sally"},
		ChannelData:  json.RawMessage(`{"tenant":{"id":"tenant"}}`),
	})
	auth := "Bearer " + iss.Token(b, appID, serviceURL, nil)
	do := func() int {
		req := httptest.NewRequest(http.MethodPost, "/api/messages", bytes.NewReader(body))
		req.Header.Set("Authorization", auth)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		return rec.Code
	}
	if code := do(); code != http.StatusOK { // warms the key cache
		b.Fatalf("status %d", code)
	}
	b.ReportAllocs()
	for b.Loop() {
		if code := do(); code != http.StatusOK {
			b.Fatalf("status %d", code)
		}
	}
	b.StopTimer()
	if err := s.Shutdown(context.Background()); err != nil {
		b.Fatal(err)
	}
	if n := iss.KeyFetches(); n != 1 {
		b.Fatalf("keys fetched %d times, want 1", n)
	}
}
