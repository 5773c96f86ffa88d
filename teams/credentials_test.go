package teams_test

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/teams"
	"github.com/sally-devops/devopsbot/teams/teamstest"
)

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestBotTokenSourceCachesUnderConcurrency(t *testing.T) {
	tokenURL, count := teamstest.NewTokenEndpoint(t)
	ts := teams.NewBotTokenSource(teams.CredentialsConfig{ClientID: teamstest.ClientID, ClientSecret: teamstest.ClientSecret, TokenURL: tokenURL})
	var wg sync.WaitGroup
	tokens := make([]string, 32)
	for i := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := ts.Token()
			if err != nil {
				t.Error(err)
				return
			}
			tokens[i] = tok.AccessToken
		}()
	}
	wg.Wait()
	for _, tok := range tokens {
		if tok != "bot-token-1" {
			t.Fatalf("tokens %v, want all bot-token-1", tokens)
		}
	}
	if count() != 1 {
		t.Fatalf("%d token requests for 32 concurrent callers, want 1", count())
	}
}

func TestBotTokenSourceAuthorityURL(t *testing.T) {
	tokenURL, count := teamstest.NewTokenEndpoint(t)
	host := strings.TrimSuffix(tokenURL, "/tenant/oauth2/v2.0/token")
	ts := teams.NewBotTokenSource(teams.CredentialsConfig{ClientID: teamstest.ClientID, ClientSecret: teamstest.ClientSecret, TenantID: "tenant", AuthorityHost: host})
	if _, err := ts.Token(); err != nil || count() != 1 {
		t.Fatalf("token from %s/tenant: %v (requests %d)", host, err, count())
	}
	missing := teams.NewBotTokenSource(teams.CredentialsConfig{ClientID: teamstest.ClientID, ClientSecret: teamstest.ClientSecret, AuthorityHost: host})
	if _, err := missing.Token(); err == nil || count() != 1 {
		t.Fatalf("no tenant: err %v, requests %d; want an error without a request", err, count())
	}
}

func TestBotTokenSourceRefusedSecretNotLeaked(t *testing.T) {
	tokenURL, _ := teamstest.NewTokenEndpoint(t)
	ts := teams.NewBotTokenSource(teams.CredentialsConfig{ClientID: teamstest.ClientID, ClientSecret: "s3cret-value", TokenURL: tokenURL})
	_, err := ts.Token()
	if err == nil || strings.Contains(err.Error(), "s3cret-value") || strings.Contains(apperr.UserMessage(err), "AADSTS") {
		t.Fatalf("err = %v", err)
	}
}
