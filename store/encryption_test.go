package store_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/store"
	"github.com/sally-devops/devopsbot/store/storetest"
)

// Tokens, PKCE verifiers and sign-in codes are encrypted (or hashed) at rest:
// what only this backend does, checked on the raw documents.

func TestSecretsAreNotStoredInPlainText(t *testing.T) {
	cfg := storetest.Config(t)
	s := storetest.Open(t, cfg)
	if err := s.SaveConnection(ctx, sampleConn(alice)); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateOAuthState(ctx, &devopsbot.OAuthState{User: alice, CodeVerifier: verifier}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreatePendingLogin(ctx, &devopsbot.PendingLogin{Code: loginCode, User: alice, Conn: *sampleConn(alice)}); err != nil {
		t.Fatal(err)
	}
	dump := rawDump(t, cfg, "connections", "oauth_states", "pending_logins")
	for _, secret := range []string{accessTok, refreshTok, verifier, loginCode} {
		if bytes.Contains(dump, []byte(secret)) {
			t.Errorf("raw database holds %q in plain text", secret)
		}
	}
	// The dump is not empty: the check above looked at real documents.
	if !bytes.Contains(dump, []byte("alice-oid")) || !bytes.Contains(dump, []byte(cfg.Keys.CurrentKeyID())) {
		t.Fatalf("dump does not hold the expected documents")
	}
}

func TestKeyRotation(t *testing.T) {
	cfg := storetest.Config(t)
	oldKey := bytes.Repeat([]byte{1}, store.KeySize)
	newKey := bytes.Repeat([]byte{7}, store.KeySize)
	var err error
	if cfg.Keys, err = store.NewKeyring(oldKey); err != nil {
		t.Fatal(err)
	}
	s1 := storetest.Open(t, cfg)
	if err := s1.SaveConnection(ctx, sampleConn(alice)); err != nil {
		t.Fatal(err)
	}
	if cfg.Keys, err = store.NewKeyring(newKey, oldKey); err != nil {
		t.Fatal(err)
	}
	s2 := storetest.Open(t, cfg)
	got, err := s2.GetConnection(ctx, alice)
	if err != nil || got.AccessToken != accessTok || got.RefreshToken != refreshTok {
		t.Fatalf("old key does not decrypt after rotation: %v", err)
	}
	if err := s2.SaveConnection(ctx, sampleConn(bob)); err != nil {
		t.Fatal(err)
	}
	bobDoc := rawDoc(t, cfg, "connections", "tenant-1|bob-oid")
	if kid, _ := bobDoc.Lookup("accessToken", "kid").StringValueOK(); kid != store.KeyID(newKey) {
		t.Fatalf("new write carries key id %q, want the new key's %q", kid, store.KeyID(newKey))
	}
	// The store that only knows the old key cannot read bob: a clear error, not garbage.
	_, err = s1.GetConnection(ctx, bob)
	wantKind(t, err, apperr.Internal)
	if !errors.Is(err, store.ErrUndecryptable) || !strings.Contains(err.Error(), store.KeyID(newKey)) {
		t.Fatalf("wrong-key error does not name the missing key: %v", err)
	}
	if strings.Contains(err.Error(), accessTok) {
		t.Fatalf("error leaks a token: %v", err)
	}
}

func TestCiphertextMovedToAnotherUserDoesNotDecrypt(t *testing.T) {
	cfg := storetest.Config(t)
	s := storetest.Open(t, cfg)
	if err := s.SaveConnection(ctx, sampleConn(alice)); err != nil {
		t.Fatal(err)
	}
	other := sampleConn(bob)
	other.AccessToken = "bob-token"
	if err := s.SaveConnection(ctx, other); err != nil {
		t.Fatal(err)
	}
	aliceTok := rawDoc(t, cfg, "connections", "tenant-1|alice-oid").Lookup("accessToken")
	c, err := mongo.Connect(options.Client().ApplyURI(cfg.URI))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(ctx)
	if _, err := c.Database(cfg.Database).Collection("connections").UpdateOne(ctx, bson.D{{Key: "_id", Value: "tenant-1|bob-oid"}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "accessToken", Value: aliceTok}}}}); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetConnection(ctx, bob)
	if !errors.Is(err, store.ErrUndecryptable) {
		t.Fatalf("bob's record with alice's ciphertext: err = %v, want ErrUndecryptable", err)
	}
}
