package teams_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sally-devops/devopsbot/teams"
	"github.com/sally-devops/devopsbot/teams/teamstest"
)

// A message handler replies through the connector after the HTTP answer, the way
// the bot answers every command.
func TestMessageHandlerRepliesThroughConnector(t *testing.T) {
	fake := teamstest.NewConnector(t)
	conn := teams.NewConnector(teams.ConnectorConfig{})
	rt := teams.NewRouter()
	rt.OnMessage(func(ctx context.Context, a *teams.Activity) error {
		_, err := conn.SendToConversation(ctx, a.ServiceURL, a.Conversation.ID, teams.NewMessage("You said: "+a.TextWithoutMention()))
		return err
	})
	s := teams.NewServer(teams.ServerConfig{Router: rt})
	body, _ := json.Marshal(teams.Activity{
		Type: "message", Text: "<at>Sally</at> help", ServiceURL: fake.URL, ChannelID: "msteams",
		Conversation: teams.ConversationAccount{ID: "19:abc@thread.v2"},
		Recipient:    teams.ChannelAccount{ID: "28:bot", Name: "Sally"},
	})
	if status, _ := post(t, s, "", body); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	sent := fake.WaitSent(t, 1, 5*time.Second)
	if sent[0].ConversationID != "19:abc@thread.v2" || sent[0].Activity.Text != "You said: help" {
		t.Fatalf("sent %+v", sent[0])
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestRejectedRequestIsLoggedWithReason(t *testing.T) {
	iss := teamstest.NewIssuer(t)
	var logs bytes.Buffer
	s := teams.NewServer(teams.ServerConfig{
		Auth:   teams.NewAuthenticator(teams.AuthConfig{AppID: appID, OpenIDMetadataURL: iss.MetadataURL}),
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	tok := iss.Token(t, appID, serviceURL, func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() })
	status, _ := post(t, s, "Bearer "+tok, pingActivity(serviceURL, "msteams"))
	if status != http.StatusUnauthorized {
		t.Fatalf("status %d", status)
	}
	line := logs.String()
	if !strings.Contains(line, "activity rejected") || !strings.Contains(line, "expired") || !strings.Contains(line, "request_id=") {
		t.Fatalf("log does not say why: %s", line)
	}
	if strings.Contains(line, tok) || strings.Contains(line, strings.Split(tok, ".")[2]) {
		t.Fatal("the token was logged")
	}
}
