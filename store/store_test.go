package store_test

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/store"
	"github.com/sally-devops/devopsbot/store/storetest"
)

func TestTwoStoresShareTheDatabase(t *testing.T) {
	cfg := storetest.Config(t)
	a, b := storetest.Open(t, cfg), storetest.Open(t, cfg)
	if err := a.SaveConnection(ctx, sampleConn(alice)); err != nil {
		t.Fatal(err)
	}
	if got, err := b.GetConnection(ctx, alice); err != nil || got.AccessToken != accessTok {
		t.Fatalf("replica b: %v, %v", got, err)
	}
	st := &devopsbot.OAuthState{User: alice, CodeVerifier: verifier}
	if err := b.CreateOAuthState(ctx, st); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ConsumeOAuthState(ctx, st.ID); err != nil {
		t.Fatalf("replica a consuming b's state: %v", err)
	}
	if _, err := b.ConsumeOAuthState(ctx, st.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("b consumed a state a already used: %v", err)
	}
	if _, claimed, _ := a.ClaimAction(ctx, key("x"), alice, "A", "m", time.Minute); !claimed {
		t.Fatal("a's claim")
	}
	if _, claimed, _ := b.ClaimAction(ctx, key("x"), bob, "B", "m", time.Minute); claimed {
		t.Fatal("b claimed what a holds")
	}
}

func TestOpenUnreachableFailsClearly(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	keys, err := store.NewKeyring(bytes.Repeat([]byte{3}, store.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.Open(ctx, store.Config{URI: "mongodb://bot:s3cret-pa55@" + addr + "/?directConnection=true", Keys: keys,
		OpTimeout: 300 * time.Millisecond})
	wantKind(t, err, apperr.Unavailable)
	if msg := apperr.UserMessage(err); !strings.Contains(msg, addr) {
		t.Fatalf("message %q does not name the host %s", msg, addr)
	}
	if strings.Contains(err.Error(), "s3cret-pa55") {
		t.Fatalf("error leaks the password: %v", err)
	}
	_, err = store.Open(ctx, store.Config{URI: "mongodb://bot:s3cret-pa55@", Keys: keys})
	if err == nil || strings.Contains(err.Error(), "s3cret-pa55") {
		t.Fatalf("bad URI: %v", err)
	}
	_, err = store.Open(ctx, store.Config{URI: "mongodb://127.0.0.1:1"})
	wantKind(t, err, apperr.Invalid)
}

func TestPingAndClosedStore(t *testing.T) {
	cfg := storetest.Config(t)
	s, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	wantKind(t, s.Ping(ctx), apperr.Unavailable)
	_, err = s.GetConnection(ctx, alice)
	wantKind(t, err, apperr.Unavailable)
	if msg := apperr.UserMessage(err); msg != "The database is unavailable right now" {
		t.Fatalf("message = %q", msg)
	}
}
