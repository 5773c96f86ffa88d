package teamstest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// BotFrameworkIssuer is the issuer the real Bot Framework puts in its tokens.
const BotFrameworkIssuer = "https://api.botframework.com"

// Issuer serves OpenID metadata and a JWKS like login.botframework.com and signs
// tokens the way the Bot Framework does. Point teams.AuthConfig.OpenIDMetadataURL
// at MetadataURL.
type Issuer struct {
	MetadataURL string

	srv *httptest.Server

	mu           sync.Mutex
	key          *rsa.PrivateKey
	kid          string
	kidBase      string
	gen          int
	endorsements []string
	keyFetches   int
	metaFetches  int
	outage       Outage
	now          func() time.Time
}

// Outage is how the issuer's key endpoints fail, for tests of a key outage.
type Outage int

const (
	NoOutage             Outage = iota // both endpoints answer
	MetadataDown                       // the OpenID metadata answers 503
	KeysDown                           // the JWKS answers 500
	KeysGarbage                        // the JWKS answers 200 with a body that is not a key set
	EndpointsUnreachable               // both endpoints drop the connection without answering
)

// SetOutage makes the key endpoints fail as o says, until SetOutage(NoOutage).
func (i *Issuer) SetOutage(o Outage) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.outage = o
}

// failing answers r as the current outage says and reports whether it did.
func (i *Issuer) failing(w http.ResponseWriter, o Outage, down Outage, status int) bool {
	switch o {
	case EndpointsUnreachable:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return true
			}
		}
		w.WriteHeader(http.StatusBadGateway)
		return true
	case down:
		http.Error(w, "unavailable", status)
		return true
	}
	return false
}

// keys are shared across issuers in a test binary: RSA key generation is slow, and a
// kid is what makes a key "new" to the validator.
var (
	keyPoolMu sync.Mutex
	keyPool   []*rsa.PrivateKey
)

func newKey(t testing.TB, i int) *rsa.PrivateKey {
	keyPoolMu.Lock()
	defer keyPoolMu.Unlock()
	for len(keyPool) <= i {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil && t == nil {
			panic("teamstest: generating key: " + err.Error())
		}
		if err != nil {
			t.Fatalf("teamstest: generating key: %v", err)
		}
		keyPool = append(keyPool, k)
	}
	return keyPool[i]
}

var issuerSeq struct {
	sync.Mutex
	n int
}

// NewIssuer starts the fake issuer; keys are endorsed for "msteams".
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	issuerSeq.Lock()
	issuerSeq.n++
	n := issuerSeq.n
	issuerSeq.Unlock()
	i := &Issuer{endorsements: []string{"msteams"}, now: time.Now}
	i.key = newKey(t, 0)
	i.kidBase = "kid-" + strconv.Itoa(n) + "-"
	i.kid = i.kidBase + "0"
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/.well-known/openidconfiguration", func(w http.ResponseWriter, r *http.Request) {
		i.mu.Lock()
		i.metaFetches++
		o := i.outage
		i.mu.Unlock()
		if i.failing(w, o, MetadataDown, http.StatusServiceUnavailable) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                BotFrameworkIssuer,
			"authorization_endpoint":                "https://invalid.example/v1/authorize",
			"jwks_uri":                              i.srv.URL + "/v1/.well-known/keys",
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"token_endpoint_auth_methods_supported": []string{"private_key_jwt"},
		})
	})
	mux.HandleFunc("GET /v1/.well-known/keys", func(w http.ResponseWriter, r *http.Request) {
		i.mu.Lock()
		i.keyFetches++
		pub := i.key.PublicKey
		kid, end := i.kid, append([]string(nil), i.endorsements...)
		o := i.outage
		i.mu.Unlock()
		if i.failing(w, o, KeysDown, http.StatusInternalServerError) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if o == KeysGarbage {
			_, _ = w.Write([]byte(`<html>Service Unavailable</html>`))
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]any{{
			"kty":          "RSA",
			"use":          "sig",
			"kid":          kid,
			"x5t":          kid,
			"n":            base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
			"e":            base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
			"endorsements": end,
		}}})
	})
	i.srv = httptest.NewServer(mux)
	t.Cleanup(i.srv.Close)
	i.MetadataURL = i.srv.URL + "/v1/.well-known/openidconfiguration"
	return i
}

// MetadataFetches counts requests for the OpenID metadata, answered or not: each
// key fetch starts with one.
func (i *Issuer) MetadataFetches() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.metaFetches
}

// KeyFetches counts JWKS requests, answered or not, to check caching and refetch
// rate limits.
func (i *Issuer) KeyFetches() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.keyFetches
}

// SetEndorsements sets the channels the published key is endorsed for.
func (i *Issuer) SetEndorsements(channels ...string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.endorsements = channels
}

// SetNow sets the clock used for iat, nbf and exp of new tokens.
func (i *Issuer) SetNow(now func() time.Time) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.now = now
}

// RotateKeys publishes a new key under a new kid and withdraws the old one; tokens
// from now on are signed with the new key.
func (i *Issuer) RotateKeys() {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.gen++
	i.key = newKey(nil, i.gen%2+1) // alternate keys so that rotation really changes the key
	i.kid = i.kidBase + strconv.Itoa(i.gen)
}

// Claims returns the claims of a valid Bot Framework token for appID and serviceURL.
func (i *Issuer) Claims(appID, serviceURL string) jwt.MapClaims {
	i.mu.Lock()
	now := i.now()
	i.mu.Unlock()
	return jwt.MapClaims{
		"iss":        BotFrameworkIssuer,
		"aud":        appID,
		"serviceurl": serviceURL,
		"iat":        now.Unix(),
		"nbf":        now.Add(-5 * time.Second).Unix(),
		"exp":        now.Add(time.Hour).Unix(),
	}
}

// Token returns a valid token, altered by mutate (which may be nil), as the value
// for an Authorization header without "Bearer ".
func (i *Issuer) Token(t testing.TB, appID, serviceURL string, mutate func(jwt.MapClaims)) string {
	t.Helper()
	c := i.Claims(appID, serviceURL)
	if mutate != nil {
		mutate(c)
	}
	i.mu.Lock()
	key, kid := i.key, i.kid
	i.mu.Unlock()
	return sign(t, jwt.SigningMethodRS256, c, kid, key)
}

// SignWithUnknownKey signs valid-looking claims with a key the issuer never published.
func (i *Issuer) SignWithUnknownKey(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	return sign(t, jwt.SigningMethodRS256, claims, "kid-forged", newKey(t, 3))
}

// SignWithKnownKidWrongKey claims the issuer's current kid but signs with another key.
func (i *Issuer) SignWithKnownKidWrongKey(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	i.mu.Lock()
	kid := i.kid
	i.mu.Unlock()
	return sign(t, jwt.SigningMethodRS256, claims, kid, newKey(t, 3))
}

// SignHS256 forges a token with HMAC, using the issuer's public modulus as the
// secret: the classic algorithm-confusion attack on validators that trust "alg".
func (i *Issuer) SignHS256(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	i.mu.Lock()
	secret, kid := i.key.PublicKey.N.Bytes(), i.kid
	i.mu.Unlock()
	return sign(t, jwt.SigningMethodHS256, claims, kid, secret)
}

// SignNone forges an unsigned token (alg "none") with the issuer's kid.
func (i *Issuer) SignNone(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	i.mu.Lock()
	kid := i.kid
	i.mu.Unlock()
	return sign(t, jwt.SigningMethodNone, claims, kid, jwt.UnsafeAllowNoneSignatureType)
}

func sign(t testing.TB, m jwt.SigningMethod, claims jwt.MapClaims, kid string, key any) string {
	tok := jwt.NewWithClaims(m, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("teamstest: signing token: %v", err)
	}
	return s
}
