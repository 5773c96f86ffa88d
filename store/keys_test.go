package store

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sally-devops/devopsbot/apperr"
)

func TestKeyringRefusesBadKeys(t *testing.T) {
	good := bytes.Repeat([]byte{1}, KeySize)
	for _, k := range [][]byte{nil, make([]byte, 16), make([]byte, 33)} {
		if _, err := NewKeyring(k); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("NewKeyring(%d bytes) = %v, want Invalid", len(k), err)
		}
		if _, err := NewKeyring(good, k); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("old key of %d bytes accepted: %v", len(k), err)
		}
	}
	secret := "c2VjcmV0LWtleS1tYXRlcmlhbA=="
	for _, in := range []string{"", "not base64!", secret} {
		_, err := ParseKeyring(in, "")
		if !apperr.Is(err, apperr.Invalid) {
			t.Errorf("ParseKeyring(%q) = %v, want Invalid", in, err)
		}
		if err != nil && in != "" && strings.Contains(err.Error(), in) {
			t.Errorf("error echoes the key: %v", err)
		}
	}
}

func TestParseKeyringAcceptsEnvFormats(t *testing.T) {
	cur := bytes.Repeat([]byte{0xfb}, KeySize) // exercises + / - _ in the encodings
	old1, old2 := bytes.Repeat([]byte{2}, KeySize), bytes.Repeat([]byte{3}, KeySize)
	k, err := ParseKeyring(" "+base64.RawURLEncoding.EncodeToString(cur)+"\n",
		base64.StdEncoding.EncodeToString(old1)+", ,"+base64.URLEncoding.EncodeToString(old2))
	if err != nil {
		t.Fatal(err)
	}
	if k.CurrentKeyID() != KeyID(cur) || len(k.aeads) != 3 {
		t.Fatalf("current %s, %d keys", k.CurrentKeyID(), len(k.aeads))
	}
	if len(KeyID(cur)) != 16 {
		t.Fatalf("key id %q is not 8 bytes of hex", KeyID(cur))
	}
}

func TestSealOpen(t *testing.T) {
	k1, _ := NewKeyring(bytes.Repeat([]byte{1}, KeySize))
	k2, _ := NewKeyring(bytes.Repeat([]byte{2}, KeySize), bytes.Repeat([]byte{1}, KeySize))
	s, err := k1.seal("token", "conn|a")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := k1.seal("token", "conn|a")
	if bytes.Equal(s.Data, again.Data) {
		t.Fatal("two seals of the same text are identical: nonce reuse")
	}
	if got, err := k2.open(s, "conn|a"); err != nil || got != "token" {
		t.Fatalf("old key: %q, %v", got, err)
	}
	if _, err := k2.open(s, "conn|b"); !errors.Is(err, ErrUndecryptable) {
		t.Fatalf("other record's aad: %v", err)
	}
	s2, _ := k2.seal("token", "x")
	if _, err := k1.open(s2, "x"); !errors.Is(err, ErrUndecryptable) || !strings.Contains(err.Error(), k2.CurrentKeyID()) {
		t.Fatalf("unknown key: %v", err)
	}
	s2.Data[len(s2.Data)-1] ^= 1
	if _, err := k2.open(s2, "x"); !errors.Is(err, ErrUndecryptable) {
		t.Fatalf("tampered: %v", err)
	}
}

// FuzzOpen feeds arbitrary stored ciphertexts to open: whatever is in the database,
// open must not panic and must not return text it did not authenticate.
func FuzzOpen(f *testing.F) {
	k, _ := NewKeyring(bytes.Repeat([]byte{9}, KeySize))
	good, _ := k.seal("secret", "aad")
	f.Add(good.KeyID, good.Data, "aad")
	f.Add(good.KeyID, []byte{}, "")
	f.Add("", []byte("x"), "aad")
	f.Fuzz(func(t *testing.T, kid string, data []byte, aad string) {
		got, err := k.open(sealed{KeyID: kid, Data: data}, aad)
		// Only a genuine seal opens; good is sealed again in each fuzz worker (random
		// nonce), so compare what it says, not its bytes.
		if err == nil && !(kid == good.KeyID && aad == "aad" && got == "secret") {
			t.Fatalf("forged ciphertext opened: kid %q aad %q -> %q", kid, aad, got)
		}
		if err != nil && !errors.Is(err, ErrUndecryptable) {
			t.Fatalf("error without ErrUndecryptable: %v", err)
		}
	})
}

// FuzzParseKeyring checks that configuration text never panics the parser and never
// appears in its errors (it may be a key).
func FuzzParseKeyring(f *testing.F) {
	f.Add(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, KeySize)), "")
	f.Add("abc", "def,ghi")
	f.Add("", ",,,")
	f.Fuzz(func(t *testing.T, cur, old string) {
		k, err := ParseKeyring(cur, old)
		if err != nil {
			if !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("kind %v: %v", apperr.KindOf(err), err)
			}
			if c := strings.TrimSpace(cur); len(c) >= 8 && strings.Contains(err.Error(), c) {
				t.Fatalf("error echoes input: %v", err)
			}
			return
		}
		if len(k.CurrentKeyID()) != 16 {
			t.Fatalf("key id %q", k.CurrentKeyID())
		}
	})
}

func TestLoadOrCreateKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "token.key")
	k1, created, err := LoadOrCreateKeyFile(path)
	if err != nil || !created || len(k1) != KeySize {
		t.Fatalf("create: %d bytes, %v, %v", len(k1), created, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	k2, created, err := LoadOrCreateKeyFile(path)
	if err != nil || created || !bytes.Equal(k1, k2) {
		t.Fatalf("reload: created %v, same %v, %v", created, bytes.Equal(k1, k2), err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateKeyFile(path); !apperr.Is(err, apperr.Invalid) || !strings.Contains(apperr.UserMessage(err), "chmod 600") {
		t.Fatalf("world-readable key file: %v", err)
	}
	bad := filepath.Join(dir, "bad.key")
	if err := os.WriteFile(bad, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateKeyFile(bad); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("bad key file: %v", err)
	}
}

func TestLoadOrCreateKeyFileRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token.key")
	var wg sync.WaitGroup
	keys := make([][]byte, 10)
	createdN := 0
	var mu sync.Mutex
	for i := range keys {
		wg.Go(func() {
			k, created, err := LoadOrCreateKeyFile(path)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			defer mu.Unlock()
			keys[i] = k
			if created {
				createdN++
			}
		})
	}
	wg.Wait()
	for _, k := range keys {
		if !bytes.Equal(k, keys[0]) {
			t.Fatal("racing creators ended up with different keys")
		}
	}
	if createdN != 1 {
		t.Fatalf("%d callers created the key, want 1", createdN)
	}
}
