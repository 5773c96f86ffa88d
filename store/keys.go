package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/sally-devops/devopsbot/apperr"
)

// KeySize is the length of a token encryption key: AES-256.
const KeySize = 32

// ErrUndecryptable marks a stored secret this process cannot decrypt: the key that
// sealed it is not in the keyring, or the ciphertext was altered or moved to another
// record. It is wrapped in an *apperr.Error of kind Internal, because the fix is the
// operator's (restore the old key as an "old" key), not the user's.
var ErrUndecryptable = errors.New("stored secret cannot be decrypted with the configured keys")

// Keyring seals OAuth tokens and PKCE verifiers before they reach the database, so a
// leaked dump or backup holds no usable credential. Old keys stay in the ring to
// read what they sealed while new writes use the current key: that is key rotation
// without a migration. A Keyring is safe for concurrent use.
type Keyring struct {
	currentID string
	aeads     map[string]cipher.AEAD
}

// NewKeyring builds a keyring from the current key and any older keys still needed to
// read existing records. Every key must be exactly 32 random bytes.
func NewKeyring(current []byte, old ...[]byte) (*Keyring, error) {
	k := &Keyring{aeads: make(map[string]cipher.AEAD, 1+len(old))}
	id, err := k.add(current)
	if err != nil {
		return nil, apperr.Wrap(apperr.Invalid, "The current token encryption key is invalid: it must be 32 bytes.", err)
	}
	k.currentID = id
	for i, o := range old {
		if _, err := k.add(o); err != nil {
			return nil, apperr.Wrap(apperr.Invalid, fmt.Sprintf("Old token encryption key #%d is invalid: it must be 32 bytes.", i+1), err)
		}
	}
	return k, nil
}

func (k *Keyring) add(key []byte) (string, error) {
	if len(key) != KeySize {
		return "", fmt.Errorf("key has %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return "", err
	}
	id := KeyID(key)
	k.aeads[id] = aead
	return id, nil
}

// KeyID names a key without revealing it, so records say which key sealed them
// and operators can tell which keys are still in use.
func KeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:8])
}

// CurrentKeyID is the id new writes are sealed with; safe to log.
func (k *Keyring) CurrentKeyID() string { return k.currentID }

// ParseKeyring reads keys as configured in the environment: standard or URL-safe
// base64, padded or not; oldB64 is a comma-separated list and may be empty. Error
// messages never echo key material.
func ParseKeyring(currentB64 string, oldB64 string) (*Keyring, error) {
	cur, err := decodeKey(currentB64)
	if err != nil {
		return nil, apperr.Wrap(apperr.Invalid, "The current token encryption key is not 32 bytes of base64.", err)
	}
	var olds [][]byte
	n := 0
	for _, part := range strings.Split(oldB64, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		n++
		o, err := decodeKey(part)
		if err != nil {
			return nil, apperr.Wrap(apperr.Invalid, fmt.Sprintf("Old token encryption key #%d is not 32 bytes of base64.", n), err)
		}
		olds = append(olds, o)
	}
	return NewKeyring(cur, olds...)
}

func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("empty key")
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, fmt.Errorf("key decodes to %d bytes, want %d", len(b), KeySize)
			}
			return b, nil
		}
	}
	return nil, errors.New("key is not base64")
}

// LoadOrCreateKeyFile gives development setups a working key without configuration:
// it reads the base64 key in path, or creates one (mode 0600, in a 0700 directory)
// when the file does not exist. Two processes racing to create it end up with the
// same key. A key file readable by others is refused, as ssh refuses such a key.
func LoadOrCreateKeyFile(path string) (key []byte, created bool, err error) {
	if strings.TrimSpace(path) == "" {
		return nil, false, apperr.New(apperr.Invalid, "The key file path is empty.")
	}
	key, err = readKeyFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, apperr.Wrap(apperr.Internal, "Cannot create the directory for the key file.", err)
	}
	key = make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, false, apperr.Wrap(apperr.Internal, "Cannot generate a key.", err)
	}
	tmp, err := os.CreateTemp(dir, ".key-*")
	if err != nil {
		return nil, false, apperr.Wrap(apperr.Internal, "Cannot write the key file.", err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if werr == nil {
		werr = tmp.Chmod(0o600)
	}
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, false, apperr.Wrap(apperr.Internal, "Cannot write the key file.", werr)
	}
	// A hard link publishes the complete file atomically and fails if another
	// process got there first; then its key wins and we read it.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			key, err = readKeyFile(path)
			return key, false, err
		}
		return nil, false, apperr.Wrap(apperr.Internal, "Cannot write the key file.", err)
	}
	return key, true, nil
}

func readKeyFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, apperr.Wrap(apperr.Internal, "Cannot read the key file.", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, apperr.New(apperr.Invalid, "The key file is not a regular file.")
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, apperr.New(apperr.Invalid, fmt.Sprintf("The key file %s is readable by other users; run chmod 600 on it.", path))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, apperr.Wrap(apperr.Internal, "Cannot read the key file.", err)
	}
	key, err := decodeKey(string(b))
	if err != nil {
		return nil, apperr.Wrap(apperr.Invalid, fmt.Sprintf("The key file %s does not hold 32 bytes of base64.", path), err)
	}
	return key, nil
}

// sealed is a secret at rest. The key id travels with the ciphertext so rotation
// needs no migration; the record's identity is bound in as additional data so a
// ciphertext copied into another user's record does not decrypt.
type sealed struct {
	KeyID string `bson:"kid"`
	Data  []byte `bson:"ct"` // nonce || ciphertext || tag
}

func (k *Keyring) seal(plain, aad string) (sealed, error) {
	aead := k.aeads[k.currentID]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return sealed{}, apperr.Wrap(apperr.Internal, "", err)
	}
	return sealed{KeyID: k.currentID, Data: aead.Seal(nonce, nonce, []byte(plain), []byte(aad))}, nil
}

func (k *Keyring) open(s sealed, aad string) (string, error) {
	aead, ok := k.aeads[s.KeyID]
	if !ok {
		return "", apperr.Wrap(apperr.Internal, "A stored sign-in cannot be read with the configured encryption keys.",
			fmt.Errorf("%w: sealed with key %q, which is not in the keyring (current %q)", ErrUndecryptable, s.KeyID, k.currentID))
	}
	if len(s.Data) < aead.NonceSize()+aead.Overhead() {
		return "", apperr.Wrap(apperr.Internal, "A stored sign-in is damaged.", fmt.Errorf("%w: ciphertext too short", ErrUndecryptable))
	}
	ns := aead.NonceSize()
	plain, err := aead.Open(nil, s.Data[:ns], s.Data[ns:], []byte(aad))
	if err != nil {
		return "", apperr.Wrap(apperr.Internal, "A stored sign-in is damaged.", fmt.Errorf("%w: key %q: authentication failed", ErrUndecryptable, s.KeyID))
	}
	return string(plain), nil
}
