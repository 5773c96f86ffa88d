package teams_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/teams"
	"github.com/sally-devops/devopsbot/teams/teamstest"
)

const (
	appID      = "11111111-2222-3333-4444-555555555555"
	serviceURL = "https://smba.trafficmanager.net/emea/"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type authFixture struct {
	issuer  *teamstest.Issuer
	clock   *clock
	server  *teams.Server
	invoked atomic.Int64
}

func newAuthFixture(t *testing.T) *authFixture {
	t.Helper()
	f := &authFixture{issuer: teamstest.NewIssuer(t), clock: &clock{t: time.Now()}}
	f.issuer.SetNow(f.clock.Now)
	r := teams.NewRouter()
	r.OnInvoke("test/ping", func(ctx context.Context, a *teams.Activity) (teams.InvokeResponse, error) {
		f.invoked.Add(1)
		return teams.AdaptiveCardResponse(map[string]any{"text": "pong"}), nil
	})
	f.server = teams.NewServer(teams.ServerConfig{
		Router: r,
		Auth: teams.NewAuthenticator(teams.AuthConfig{
			AppID:             appID,
			OpenIDMetadataURL: f.issuer.MetadataURL,
			Now:               f.clock.Now,
		}),
	})
	return f
}

func pingActivity(service, channel string) []byte {
	b, _ := json.Marshal(teams.Activity{
		Type: teams.ActivityInvoke, Name: "test/ping", ID: "act-1", ServiceURL: service, ChannelID: channel,
		From: teams.ChannelAccount{ID: "29:user"}, Conversation: teams.ConversationAccount{ID: "a:conv"},
	})
	return b
}

// post sends an activity to the server and returns status and body.
func post(t *testing.T, h http.Handler, authorization string, body []byte) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/api/messages", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(b)
}

// expect posts a ping with the given header and checks that it is accepted (and the
// handler ran) or refused with 401 before reaching the router.
func (f *authFixture) expect(t *testing.T, authorization string, body []byte, accepted bool) {
	t.Helper()
	before := f.invoked.Load()
	status, resp := post(t, f.server, authorization, body)
	ran := f.invoked.Load() > before
	if accepted {
		if status != http.StatusOK || !ran || !strings.Contains(resp, "pong") {
			t.Fatalf("valid request: status %d, handler ran %v, body %s", status, ran, resp)
		}
		return
	}
	if status != http.StatusUnauthorized || ran {
		t.Fatalf("forged request: status %d, handler ran %v, body %s; want 401 and no handler", status, ran, resp)
	}
	if strings.Contains(resp, "pong") || !strings.Contains(resp, `"unauthorized"`) {
		t.Fatalf("401 body = %s", resp)
	}
}

func TestAuthTokenCases(t *testing.T) {
	f := newAuthFixture(t)
	good := pingActivity(serviceURL, "msteams")
	bearer := func(mutate func(jwt.MapClaims)) string {
		return "Bearer " + f.issuer.Token(t, appID, serviceURL, mutate)
	}
	now := f.clock.Now()
	cases := []struct {
		name     string
		auth     string
		body     []byte
		accepted bool
	}{
		{"valid", bearer(nil), good, true},
		{"lowercase bearer scheme", "bearer " + f.issuer.Token(t, appID, serviceURL, nil), good, true},
		{"expired beyond skew", bearer(func(c jwt.MapClaims) { c["exp"] = now.Add(-6 * time.Minute).Unix() }), good, false},
		{"expired within skew", bearer(func(c jwt.MapClaims) { c["exp"] = now.Add(-4 * time.Minute).Unix() }), good, true},
		{"no exp", bearer(func(c jwt.MapClaims) { delete(c, "exp") }), good, false},
		{"not yet valid beyond skew", bearer(func(c jwt.MapClaims) { c["nbf"] = now.Add(6 * time.Minute).Unix() }), good, false},
		{"not yet valid within skew", bearer(func(c jwt.MapClaims) { c["nbf"] = now.Add(4 * time.Minute).Unix() }), good, true},
		{"issued a year ahead", bearer(func(c jwt.MapClaims) { c["iat"] = now.AddDate(1, 0, 0).Unix() }), good, false},
		{"issued ahead beyond skew", bearer(func(c jwt.MapClaims) { c["iat"] = now.Add(6 * time.Minute).Unix() }), good, false},
		{"issued ahead within skew", bearer(func(c jwt.MapClaims) { c["iat"] = now.Add(4 * time.Minute).Unix() }), good, true},
		{"no iat", bearer(func(c jwt.MapClaims) { delete(c, "iat") }), good, true},
		{"iat not a number", bearer(func(c jwt.MapClaims) { c["iat"] = "yesterday" }), good, false},
		{"wrong issuer", bearer(func(c jwt.MapClaims) { c["iss"] = "https://sts.windows.net/evil/" }), good, false},
		{"no issuer", bearer(func(c jwt.MapClaims) { delete(c, "iss") }), good, false},
		{"wrong audience", bearer(func(c jwt.MapClaims) { c["aud"] = "99999999-0000-0000-0000-000000000000" }), good, false},
		{"no audience", bearer(func(c jwt.MapClaims) { delete(c, "aud") }), good, false},
		{"api:// audience", bearer(func(c jwt.MapClaims) { c["aud"] = "api://" + appID }), good, true},
		{"array audience", bearer(func(c jwt.MapClaims) { c["aud"] = []string{"someone-else", appID} }), good, true},
		{"array audience without us", bearer(func(c jwt.MapClaims) { c["aud"] = []string{"someone-else", "api://other"} }), good, false},
		{"serviceurl mismatch", bearer(func(c jwt.MapClaims) { c["serviceurl"] = "https://evil.example/" }), good, false},
		{"serviceurl case and slash differ", bearer(func(c jwt.MapClaims) { c["serviceurl"] = "HTTPS://SMBA.trafficmanager.net/emea" }), good, true},
		{"serviceurl path case differs", bearer(func(c jwt.MapClaims) { c["serviceurl"] = "https://smba.trafficmanager.net/EMEA/" }), good, false},
		{"serviceurl path EVIL vs evil", bearer(func(c jwt.MapClaims) { c["serviceurl"] = "https://host.example/EVIL/" }), pingActivity("https://host.example/evil/", "msteams"), false},
		{"serviceurl path same case", bearer(func(c jwt.MapClaims) { c["serviceurl"] = "https://host.example/EVIL/" }), pingActivity("https://HOST.example/EVIL", "msteams"), true},
		{"serviceurl two trailing slashes", bearer(nil), pingActivity(serviceURL+"/", "msteams"), false},
		{"serviceurl other port", bearer(nil), pingActivity("https://smba.trafficmanager.net:8443/emea/", "msteams"), false},
		{"serviceurl with user info", bearer(nil), pingActivity("https://evil@smba.trafficmanager.net/emea/", "msteams"), false},
		{"serviceurl host with Kelvin sign", bearer(func(c jwt.MapClaims) { c["serviceurl"] = "https://kelvin.example/emea/" }), pingActivity("https://\u212aelvin.example/emea/", "msteams"), false},
		{"serviceurl with other query", bearer(nil), pingActivity(serviceURL+"?x=1", "msteams"), false},
		{"serviceurl claim missing", bearer(func(c jwt.MapClaims) { delete(c, "serviceurl") }), good, false},
		{"serviceurl claim not a string", bearer(func(c jwt.MapClaims) { c["serviceurl"] = 42 }), good, false},
		{"activity serviceUrl differs", bearer(nil), pingActivity("https://evil.example/", "msteams"), false},
		{"channel not endorsed", bearer(nil), pingActivity(serviceURL, "webchat"), false},
		{"channel missing", bearer(nil), pingActivity(serviceURL, ""), false},
		{"HS256 forgery", "Bearer " + f.issuer.SignHS256(t, f.issuer.Claims(appID, serviceURL)), good, false},
		{"alg none forgery", "Bearer " + f.issuer.SignNone(t, f.issuer.Claims(appID, serviceURL)), good, false},
		{"known kid, wrong key", "Bearer " + f.issuer.SignWithKnownKidWrongKey(t, f.issuer.Claims(appID, serviceURL)), good, false},
		{"unknown key", "Bearer " + f.issuer.SignWithUnknownKey(t, f.issuer.Claims(appID, serviceURL)), good, false},
		{"missing header", "", good, false},
		{"basic scheme", "Basic dXNlcjpwYXNz", good, false},
		{"bearer without token", "Bearer ", good, false},
		{"not a JWT", "Bearer abc.def", good, false},
		{"garbage JWT", "Bearer a.b.c", good, false},
		{"token with spaces", "Bearer " + strings.Replace(f.issuer.Token(t, appID, serviceURL, nil), ".", ". ", 1), good, false},
		{"tampered payload", "Bearer " + tamper(f.issuer.Token(t, appID, serviceURL, nil)), good, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { f.expect(t, tc.auth, tc.body, tc.accepted) })
	}
}

// tamper swaps the payload for one with another audience, keeping the signature.
func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	parts[1] = strings.TrimRight(parts[1], "A") + "B"
	return strings.Join(parts, ".")
}

func TestAuthChannelEndorsementComesFromKey(t *testing.T) {
	f := newAuthFixture(t)
	f.issuer.SetEndorsements("skype", "webchat")
	f.expect(t, "Bearer "+f.issuer.Token(t, appID, serviceURL, nil), pingActivity(serviceURL, "msteams"), false)
}

func TestAuthRotatedKeysAreRefetched(t *testing.T) {
	f := newAuthFixture(t)
	old := "Bearer " + f.issuer.Token(t, appID, serviceURL, nil)
	body := pingActivity(serviceURL, "msteams")
	f.expect(t, old, body, true)
	f.expect(t, old, body, true)
	if n := f.issuer.KeyFetches(); n != 1 {
		t.Fatalf("keys fetched %d times for two requests, want 1 (cached)", n)
	}

	f.issuer.RotateKeys()
	f.clock.Advance(2 * time.Minute)
	fresh := "Bearer " + f.issuer.Token(t, appID, serviceURL, nil)
	f.expect(t, fresh, body, true)
	if n := f.issuer.KeyFetches(); n != 2 {
		t.Fatalf("keys fetched %d times, want 2 (refetch on the new kid)", n)
	}
	// The withdrawn key no longer validates anything.
	f.expect(t, old, body, false)
}

func TestAuthUnknownKidRefetchIsRateLimited(t *testing.T) {
	f := newAuthFixture(t)
	body := pingActivity(serviceURL, "msteams")
	f.expect(t, "Bearer "+f.issuer.Token(t, appID, serviceURL, nil), body, true)

	forged := "Bearer " + f.issuer.SignWithUnknownKey(t, f.issuer.Claims(appID, serviceURL))
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if status, _ := post(t, f.server, forged, body); status != http.StatusUnauthorized {
				t.Errorf("status %d, want 401", status)
			}
		}()
	}
	wg.Wait()
	if n := f.issuer.KeyFetches(); n != 1 {
		t.Fatalf("20 unknown kids within the refresh interval caused %d key fetches, want 1", n)
	}

	// A rotation right after the last fetch waits for the interval: no fetch, 401.
	f.issuer.RotateKeys()
	f.expect(t, "Bearer "+f.issuer.Token(t, appID, serviceURL, nil), body, false)
	if n := f.issuer.KeyFetches(); n != 1 {
		t.Fatalf("key fetches = %d within the interval, want 1", n)
	}
	f.clock.Advance(61 * time.Second)
	f.expect(t, "Bearer "+f.issuer.Token(t, appID, serviceURL, nil), body, true)
	if n := f.issuer.KeyFetches(); n != 2 {
		t.Fatalf("key fetches = %d after the interval, want 2", n)
	}
}

func TestAuthenticateReturnsUnauthorized(t *testing.T) {
	iss := teamstest.NewIssuer(t)
	a := teams.NewAuthenticator(teams.AuthConfig{AppID: appID, OpenIDMetadataURL: iss.MetadataURL})
	act := &teams.Activity{Type: "message", ServiceURL: serviceURL, ChannelID: "msteams"}
	tok := iss.Token(t, appID, serviceURL, nil)
	if err := a.Authenticate(context.Background(), "Bearer "+tok, act); err != nil {
		t.Fatalf("valid token refused: %v", err)
	}
	err := a.Authenticate(context.Background(), "Bearer "+tok, &teams.Activity{Type: "message", ServiceURL: "https://evil.example", ChannelID: "msteams"})
	if !apperr.Is(err, apperr.Unauthorized) {
		t.Fatalf("err = %v, want Unauthorized", err)
	}
	if strings.Contains(err.Error(), tok) || strings.Contains(apperr.UserMessage(err), "evil") {
		t.Fatalf("error leaks the token or details to users: %v", err)
	}
}

func TestAuthWithoutAppIDRefusesEverything(t *testing.T) {
	iss := teamstest.NewIssuer(t)
	a := teams.NewAuthenticator(teams.AuthConfig{OpenIDMetadataURL: iss.MetadataURL})
	act := &teams.Activity{Type: "message", ServiceURL: serviceURL, ChannelID: "msteams"}
	if err := a.Authenticate(context.Background(), "Bearer "+iss.Token(t, "", serviceURL, nil), act); !apperr.Is(err, apperr.Unauthorized) {
		t.Fatalf("err = %v, want Unauthorized", err)
	}
}

func TestAuthIssuerDownIsUnavailableNotUnauthorized(t *testing.T) {
	iss := teamstest.NewIssuer(t)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	a := teams.NewAuthenticator(teams.AuthConfig{AppID: appID, OpenIDMetadataURL: down.URL + "/meta"})
	act := &teams.Activity{Type: "message", ServiceURL: serviceURL, ChannelID: "msteams"}
	tok := iss.Token(t, appID, serviceURL, nil)
	err := a.Authenticate(context.Background(), "Bearer "+tok, act)
	if !apperr.Is(err, apperr.Unavailable) || apperr.RetryAfterOf(err) <= 0 {
		t.Fatalf("err = %v (retry after %v), want Unavailable with a RetryAfter", err, apperr.RetryAfterOf(err))
	}
	if strings.Contains(apperr.UserMessage(err), "127.0.0.1") || strings.Contains(err.Error(), tok) {
		t.Fatalf("error leaks the key URL to users or the token to logs: %v", err)
	}
	// A forged token is still refused as such, outage or not: it never needs a key.
	if err := a.Authenticate(context.Background(), "Bearer "+iss.SignNone(t, iss.Claims(appID, serviceURL)), act); !apperr.Is(err, apperr.Unauthorized) {
		t.Fatalf("alg none during an outage: %v, want Unauthorized", err)
	}
}

// postFull is post with the response headers.
func postFull(t *testing.T, h http.Handler, authorization string, body []byte) (int, http.Header, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/api/messages", bytes.NewReader(body))
	req.Header.Set("Authorization", authorization)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Header(), rec.Body.String()
}

// expectUnavailable posts a valid ping and checks the 503 a key outage gives:
// Retry-After as wanted, a JSON error, no handler run.
func (f *authFixture) expectUnavailable(t *testing.T, authorization, retryAfter string) {
	t.Helper()
	before := f.invoked.Load()
	status, hdr, body := postFull(t, f.server, authorization, pingActivity(serviceURL, "msteams"))
	if status != http.StatusServiceUnavailable || f.invoked.Load() != before {
		t.Fatalf("during a key outage: status %d (handler ran %v) body %s, want 503", status, f.invoked.Load() != before, body)
	}
	if got := hdr.Get("Retry-After"); got != retryAfter {
		t.Fatalf("Retry-After = %q, want %q", got, retryAfter)
	}
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Code != "keys_unavailable" || e.Error.Message == "" {
		t.Fatalf("503 body = %s, want a JSON error keys_unavailable", body)
	}
	if !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
		t.Fatalf("503 Content-Type = %q", hdr.Get("Content-Type"))
	}
}

func TestAuthKeyOutageAnswers503AndRecoversWithinSeconds(t *testing.T) {
	outages := map[string]teamstest.Outage{
		"metadata 503": teamstest.MetadataDown, "jwks 500": teamstest.KeysDown,
		"jwks garbage": teamstest.KeysGarbage, "unreachable": teamstest.EndpointsUnreachable,
	}
	for name, outage := range outages {
		t.Run(name, func(t *testing.T) {
			f := newAuthFixture(t)
			f.issuer.SetOutage(outage)
			valid := "Bearer " + f.issuer.Token(t, appID, serviceURL, nil)

			// Cold start during the outage: 503, and the retry schedule doubles.
			f.expectUnavailable(t, valid, "1")
			f.expectUnavailable(t, valid, "1") // within the wait: no new fetch
			if n := f.issuer.MetadataFetches(); n != 1 {
				t.Fatalf("%d fetch attempts before the backoff ran out, want 1", n)
			}
			f.clock.Advance(time.Second)
			f.expectUnavailable(t, valid, "2")
			f.clock.Advance(2 * time.Second)
			f.expectUnavailable(t, valid, "4")
			if n := f.issuer.MetadataFetches(); n != 3 {
				t.Fatalf("%d fetch attempts after 1s and 2s of backoff, want 3", n)
			}

			// Back: the first request after the 4s wait gets through, not one a
			// minute later.
			f.issuer.SetOutage(teamstest.NoOutage)
			f.clock.Advance(4 * time.Second)
			f.expect(t, valid, pingActivity(serviceURL, "msteams"), true)
			f.expect(t, valid, pingActivity(serviceURL, "msteams"), true)
			if n := f.issuer.MetadataFetches(); n != 4 {
				t.Fatalf("%d fetch attempts, want 4 (the good keys are cached)", n)
			}
		})
	}
}

func TestAuthKeyOutageFloodMakesOneFetch(t *testing.T) {
	f := newAuthFixture(t)
	f.issuer.SetOutage(teamstest.EndpointsUnreachable)
	valid := "Bearer " + f.issuer.Token(t, appID, serviceURL, nil)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if status, _ := post(t, f.server, valid, pingActivity(serviceURL, "msteams")); status != http.StatusServiceUnavailable {
				t.Errorf("status %d during the outage, want 503", status)
			}
		}()
	}
	wg.Wait()
	if n := f.issuer.MetadataFetches(); n != 1 {
		t.Fatalf("20 requests during an outage made %d fetch attempts, want 1", n)
	}
}

// At a cold start the first requests arrive together; those that come while the
// first fetch runs wait for it instead of being refused for want of keys.
func TestAuthColdStartConcurrentRequestsAllPass(t *testing.T) {
	f := newAuthFixture(t)
	valid := "Bearer " + f.issuer.Token(t, appID, serviceURL, nil)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if status, body := post(t, f.server, valid, pingActivity(serviceURL, "msteams")); status != http.StatusOK {
				t.Errorf("cold start: status %d %s, want 200", status, body)
			}
		}()
	}
	wg.Wait()
	if n := f.issuer.KeyFetches(); n != 1 {
		t.Fatalf("20 requests at a cold start made %d key fetches, want 1", n)
	}
}

func TestAuthKeyRetryBackoffIsCapped(t *testing.T) {
	f := newAuthFixture(t)
	f.issuer.SetOutage(teamstest.KeysDown)
	valid := "Bearer " + f.issuer.Token(t, appID, serviceURL, nil)
	for i, want := range []int{1, 2, 4, 8, 16, 30, 30, 30} {
		f.expectUnavailable(t, valid, strconv.Itoa(want))
		if n := f.issuer.KeyFetches(); n != i+1 {
			t.Fatalf("after %d waits: %d fetches, want %d", i, n, i+1)
		}
		f.clock.Advance(time.Duration(want) * time.Second)
	}
}

func TestAuthRefreshFailureKeepsLastGoodKeys(t *testing.T) {
	f := newAuthFixture(t)
	body := pingActivity(serviceURL, "msteams")
	valid := "Bearer " + f.issuer.Token(t, appID, serviceURL, nil)
	f.expect(t, valid, body, true)

	// A day later the keys are due for a refresh, and the endpoint is down: the
	// keys we have keep working.
	f.issuer.SetOutage(teamstest.KeysDown)
	f.clock.Advance(25 * time.Hour)
	valid = "Bearer " + f.issuer.Token(t, appID, serviceURL, nil)
	f.expect(t, valid, body, true)
	if n := f.issuer.KeyFetches(); n != 2 {
		t.Fatalf("%d key fetches, want 2 (the refresh was tried)", n)
	}
	f.expect(t, valid, body, true)

	// A rotation during the outage: the new kid is unknown and cannot be
	// fetched, which is ours to fix (503), not the caller's (401).
	f.issuer.RotateKeys()
	f.clock.Advance(time.Second)
	rotated := "Bearer " + f.issuer.Token(t, appID, serviceURL, nil)
	f.expectUnavailable(t, rotated, "2")
	f.issuer.SetOutage(teamstest.NoOutage)
	f.clock.Advance(2 * time.Second)
	f.expect(t, rotated, body, true)
}

// A token re-presented is not checked from scratch, but it is no less checked:
// it stops working when it expires, and each activity it comes with must still
// be for the serviceUrl and channel it vouches for.
func TestAuthReusedTokenKeepsEveryCheck(t *testing.T) {
	f := newAuthFixture(t)
	tok := "Bearer " + f.issuer.Token(t, appID, serviceURL, nil)
	body := pingActivity(serviceURL, "msteams")
	f.expect(t, tok, body, true)
	f.expect(t, tok, body, true)
	f.expect(t, tok, pingActivity("https://evil.example.com/", "msteams"), false)
	f.expect(t, tok, pingActivity(serviceURL, "skype"), false)
	f.expect(t, tok, body, true)
	// Valid for an hour, plus the five minutes of clock skew.
	f.clock.Advance(time.Hour + 4*time.Minute)
	f.expect(t, tok, body, true)
	f.clock.Advance(2 * time.Minute)
	f.expect(t, tok, body, false)
}

// A token verified before a clock step back is not good before its nbf.
func TestAuthReusedTokenNotBeforeItsTime(t *testing.T) {
	f := newAuthFixture(t)
	tok := "Bearer " + f.issuer.Token(t, appID, serviceURL, func(c jwt.MapClaims) {
		c["nbf"] = f.clock.Now().Add(-time.Minute).Unix()
		c["iat"] = f.clock.Now().Add(-time.Minute).Unix()
	})
	body := pingActivity(serviceURL, "msteams")
	f.expect(t, tok, body, true)
	f.clock.Advance(-7 * time.Minute)
	f.expect(t, tok, body, false)
}
