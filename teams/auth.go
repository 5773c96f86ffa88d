package teams

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/sync/singleflight"

	"github.com/sally-devops/devopsbot/apperr"
)

// Defaults for validating tokens issued by the Bot Framework.
const (
	DefaultOpenIDMetadataURL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
	DefaultIssuer            = "https://api.botframework.com"
)

// AuthConfig configures inbound token validation. Every URL is configurable so that
// tests can point at a local issuer (teamstest.Issuer).
type AuthConfig struct {
	AppID              string
	OpenIDMetadataURL  string        // default DefaultOpenIDMetadataURL
	Issuers            []string      // default [DefaultIssuer]
	ClockSkew          time.Duration // default 5m
	MinRefreshInterval time.Duration // default 1m: at most one refetch per interval for unknown kids
	HTTPClient         *http.Client  // default: a client with a 10s timeout
	// Now is the clock for token lifetimes and for the key fetch schedule (the
	// refresh interval and the retry backoff), so tests can move time.
	Now func() time.Time
}

// Authenticator validates the Bearer token the Bot Framework puts on every activity.
// It is safe for concurrent use.
type Authenticator struct {
	appID       string
	metadataURL string
	issuers     []string
	skew        time.Duration
	minRefresh  time.Duration
	client      *http.Client
	now         func() time.Time
	parser      *jwt.Parser

	group singleflight.Group

	// verified remembers tokens whose signature and claims were checked, by the
	// hash of the token string: the Bot Connector re-presents one token on every
	// activity for as long as it is valid, and checking an RSA signature and
	// decoding the claims again each time is most of a request's auth cost.
	verifiedMu sync.Mutex
	verified   map[[sha256.Size]byte]verifiedEntry

	mu          sync.RWMutex
	keys        map[string]signingKey
	fetchedAt   time.Time // last successful fetch
	attemptedAt time.Time // last fetch attempt, successful or not
	failures    int       // failed fetches since the last successful one
	retryAt     time.Time // while failures > 0: no fetch before this
	lastErr     error     // why the last fetch failed, for the logs
	fetching    bool      // a fetch is under way: wait for it rather than judge without it
}

type signingKey struct {
	pub          *rsa.PublicKey
	endorsements []string
}

// keyMaxAge makes removed keys stop working even when no unknown kid ever shows up.
const keyMaxAge = 24 * time.Hour

// A failed key fetch is retried after keyRetryFirst, doubling up to keyRetryMax,
// not after MinRefreshInterval: the failure is ours, every valid token waits on
// it, and the key endpoint is usually back within seconds.
const (
	keyRetryFirst = time.Second
	keyRetryMax   = 30 * time.Second
)

// maxTokenBytes bounds the header we are willing to parse; real tokens are ~1.5 KB.
const maxTokenBytes = 16 << 10

// NewAuthenticator returns an Authenticator. It fetches keys lazily, on first use.
func NewAuthenticator(cfg AuthConfig) *Authenticator {
	a := &Authenticator{
		appID:       cfg.AppID,
		metadataURL: cfg.OpenIDMetadataURL,
		issuers:     cfg.Issuers,
		skew:        cfg.ClockSkew,
		minRefresh:  cfg.MinRefreshInterval,
		client:      cfg.HTTPClient,
		now:         cfg.Now,
	}
	if a.metadataURL == "" {
		a.metadataURL = DefaultOpenIDMetadataURL
	}
	if len(a.issuers) == 0 {
		a.issuers = []string{DefaultIssuer}
	}
	if a.skew <= 0 {
		a.skew = 5 * time.Minute
	}
	if a.minRefresh <= 0 {
		a.minRefresh = time.Minute
	}
	if a.client == nil {
		a.client = &http.Client{Timeout: 10 * time.Second}
	}
	if a.now == nil {
		a.now = time.Now
	}
	// Some rules here are stricter than Microsoft's validator (botbuilder-js's
	// JwtTokenExtractor, on jsonwebtoken), on purpose:
	//   - exp is required. jsonwebtoken checks exp only when the token has one;
	//     a token without one would be good forever once it leaked (a log, a proxy).
	//   - RS256 only. botbuilder allows RS256, RS384 and RS512; the Bot Framework
	//     signs with RS256, and an algorithm we accept but never see is attack
	//     surface for nothing.
	//   - iat may not be in the future beyond the clock skew. jsonwebtoken ignores
	//     such an iat; a token "issued" next year comes from a broken or forged
	//     issuer, and would stay usable for as long as its exp says.
	//   - The channel endorsement is required (checkActivity): botbuilder's
	//     EndorsementsValidator lets an activity without channelId pass; we refuse
	//     it, so a key published for other channels never vouches for ours.
	a.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithLeeway(a.skew),
		jwt.WithTimeFunc(a.now),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithAudience(a.appID, "api://"+a.appID),
	)
	return a
}

// verifiedEntry is a token already verified: what it says and when it is good.
type verifiedEntry struct {
	kid        string
	serviceURL string
	from, till time.Time // nbf/iat and exp, widened by the clock skew as the parser does
}

// maxVerified bounds the verified-token cache; a token takes about 100 bytes.
const maxVerified = 4096

// cachedToken returns a token verified before, still within its lifetime,
// whose signing key is still published; else ok is false and the token must
// be verified in full (which also says why it fails).
func (a *Authenticator) cachedToken(ctx context.Context, sum [sha256.Size]byte) (*verifiedToken, bool) {
	a.verifiedMu.Lock()
	e, ok := a.verified[sum]
	a.verifiedMu.Unlock()
	if !ok {
		return nil, false
	}
	now := a.now()
	if now.Before(e.from) || !now.Before(e.till) {
		return nil, false
	}
	// The key must still be one the issuer publishes: a withdrawn key stops
	// vouching for the tokens it signed at once, cached or not.
	key, err := a.key(ctx, e.kid)
	if err != nil {
		return nil, false
	}
	return &verifiedToken{serviceURL: e.serviceURL, endorsements: key.endorsements}, true
}

func (a *Authenticator) rememberToken(sum [sha256.Size]byte, kid, serviceURL string, claims jwt.MapClaims) {
	exp, err := claims.GetExpirationTime()
	if err != nil || exp == nil {
		return
	}
	e := verifiedEntry{kid: kid, serviceURL: serviceURL, till: exp.Add(a.skew)}
	for _, get := range []func() (*jwt.NumericDate, error){claims.GetNotBefore, claims.GetIssuedAt} {
		if t, err := get(); err == nil && t != nil && t.Add(-a.skew).After(e.from) {
			e.from = t.Add(-a.skew)
		}
	}
	now := a.now()
	a.verifiedMu.Lock()
	defer a.verifiedMu.Unlock()
	if a.verified == nil {
		a.verified = make(map[[sha256.Size]byte]verifiedEntry)
	}
	if len(a.verified) >= maxVerified {
		for k, v := range a.verified {
			if !now.Before(v.till) {
				delete(a.verified, k)
			}
		}
		if len(a.verified) >= maxVerified {
			clear(a.verified) // a flood of distinct valid tokens: start over
		}
	}
	a.verified[sum] = e
}

// verifiedToken is what the token says about the request, for the activity checks.
type verifiedToken struct {
	serviceURL   string
	endorsements []string
}

func unauthenticated(cause error) error {
	return apperr.Wrap(apperr.Unauthorized, "The request is not authenticated.", cause)
}

// Authenticate checks the Authorization header of an inbound activity: a Bot
// Framework token for this bot, for the activity's serviceUrl and channel. The
// error is of kind apperr.Unauthorized when the request is at fault, and of kind
// apperr.Unavailable (with a RetryAfter) when the signing keys cannot be had: that
// is ours to fix, and the caller should answer so that the sender retries.
func (a *Authenticator) Authenticate(ctx context.Context, authorization string, act *Activity) error {
	tok, err := a.verifyHeader(ctx, authorization)
	if err != nil {
		return err
	}
	return a.checkActivity(tok, act)
}

// ParseBearer extracts the token from an Authorization header value. It refuses
// anything that is not a single "Bearer <three base64url parts>" so that garbage
// never reaches the JWT parser or the key fetcher.
func ParseBearer(authorization string) (string, error) {
	if authorization == "" {
		return "", errors.New("no Authorization header")
	}
	if len(authorization) > maxTokenBytes {
		return "", errors.New("authorization header too long")
	}
	scheme, tok, ok := strings.Cut(authorization, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", errors.New("authorization scheme is not Bearer")
	}
	tok = strings.TrimLeft(tok, " ")
	if tok == "" {
		return "", errors.New("empty bearer token")
	}
	if strings.Count(tok, ".") != 2 {
		return "", errors.New("bearer token is not a JWT")
	}
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return "", errors.New("bearer token has characters outside base64url")
		}
	}
	return tok, nil
}

func (a *Authenticator) verifyHeader(ctx context.Context, authorization string) (*verifiedToken, error) {
	if a.appID == "" {
		return nil, unauthenticated(errors.New("authenticator has no app id configured"))
	}
	raw, err := ParseBearer(authorization)
	if err != nil {
		return nil, unauthenticated(err)
	}
	sum := sha256.Sum256([]byte(raw))
	if tok, ok := a.cachedToken(ctx, sum); ok {
		return tok, nil
	}
	var key signingKey
	var kid string
	var keyErr error
	claims := jwt.MapClaims{}
	_, err = a.parser.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ = t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("token has no kid")
		}
		key, keyErr = a.key(ctx, kid)
		if keyErr != nil {
			return nil, keyErr
		}
		return key.pub, nil
	})
	if apperr.Is(keyErr, apperr.Unavailable) {
		return nil, keyErr
	}
	if err != nil {
		return nil, unauthenticated(err)
	}
	iss, _ := claims.GetIssuer()
	if !slices.Contains(a.issuers, iss) {
		return nil, unauthenticated(fmt.Errorf("issuer %q is not trusted", iss))
	}
	su, _ := claims["serviceurl"].(string)
	if su == "" {
		return nil, unauthenticated(errors.New("token has no serviceurl claim"))
	}
	a.rememberToken(sum, kid, su, claims)
	return &verifiedToken{serviceURL: su, endorsements: key.endorsements}, nil
}

func (a *Authenticator) checkActivity(tok *verifiedToken, act *Activity) error {
	if tok == nil || act == nil {
		return unauthenticated(errors.New("nothing to check"))
	}
	if !sameServiceURL(tok.serviceURL, act.ServiceURL) {
		return unauthenticated(fmt.Errorf("serviceurl claim %q does not match activity serviceUrl %q", tok.serviceURL, act.ServiceURL))
	}
	if act.ChannelID == "" || !slices.Contains(tok.endorsements, act.ChannelID) {
		return unauthenticated(fmt.Errorf("signing key is not endorsed for channel %q", act.ChannelID))
	}
	return nil
}

// sameServiceURL reports whether the activity's serviceUrl is the one the token
// was issued for: replies go there, with our token. Scheme and host are compared
// without ASCII case (they have none), the rest exactly: paths are case-sensitive,
// and /EVIL/ is not /evil/. One trailing slash is tolerated because the Bot
// Framework writes serviceUrls both ways. Anything that is not a plain http(s)
// URL with an ASCII host and no user info matches nothing.
func sameServiceURL(claim, activity string) bool {
	cs, ca, cr, ok1 := splitServiceURL(claim)
	as, aa, ar, ok2 := splitServiceURL(activity)
	return ok1 && ok2 && asciiEqualFold(cs, as) && asciiEqualFold(ca, aa) && cr == ar
}

// splitServiceURL cuts s into scheme, authority (host and port) and the rest
// (path, query), with one trailing slash removed.
func splitServiceURL(s string) (scheme, authority, rest string, ok bool) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Opaque != "" {
		return "", "", "", false
	}
	scheme, after, ok := strings.Cut(s, "://")
	if !ok {
		return "", "", "", false
	}
	end := strings.IndexAny(after, "/?#")
	if end < 0 {
		end = len(after)
	}
	authority, rest = after[:end], after[end:]
	for i := 0; i < len(authority); i++ {
		// Unicode folding would make a Kelvin sign match a k: another host.
		if authority[i] >= 0x80 || authority[i] <= ' ' {
			return "", "", "", false
		}
	}
	return scheme, authority, strings.TrimSuffix(rest, "/"), true
}

func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

var errUnknownKey = errors.New("signing key is unknown")

// keysUnavailable is the answer while no key for the token can be had because
// fetching the key set fails: a 503 with retryAfter, not a 401, since the Bot
// Connector retries the one and drops the message on the other.
func keysUnavailable(retryAfter time.Duration, cause error) error {
	if retryAfter < keyRetryFirst {
		retryAfter = keyRetryFirst
	}
	if cause == nil {
		cause = errors.New("signing keys could not be fetched")
	}
	return &apperr.Error{
		Kind: apperr.Unavailable, Message: "The bot cannot check signatures right now. Please try again shortly.",
		RetryAfter: retryAfter, Cause: fmt.Errorf("fetching signing keys: %w", cause),
	}
}

// keyRetryDelay is the wait after the n-th failed fetch in a row: 1s, 2s, 4s ... 30s.
func keyRetryDelay(failures int) time.Duration {
	d := keyRetryFirst
	for i := 1; i < failures && d < keyRetryMax; i++ {
		d *= 2
	}
	return min(d, keyRetryMax)
}

// fetchWait is how long until the key set may be fetched again; <= 0 means now.
// After a success that is MinRefreshInterval, so that a flood of forged kids is
// not a flood of requests to the issuer; after a failure it is the short retry
// backoff. The caller holds a.mu.
func (a *Authenticator) fetchWait(now time.Time) time.Duration {
	switch {
	case a.attemptedAt.IsZero():
		return 0
	case a.failures > 0:
		return a.retryAt.Sub(now)
	default:
		return a.attemptedAt.Add(a.minRefresh).Sub(now)
	}
}

// key returns the key for kid, fetching the key set when kid is unknown (keys rotate)
// or the set is old, as often as fetchWait allows however many requests ask. A
// request that needs a key while a fetch is under way waits for its outcome. When
// a refresh fails the keys we had stay in use.
func (a *Authenticator) key(ctx context.Context, kid string) (signingKey, error) {
	now := a.now()
	a.mu.RLock()
	k, ok := a.keys[kid]
	stale := now.Sub(a.fetchedAt) > keyMaxAge
	wait := a.fetchWait(now)
	failing, lastErr, fetching := a.failures > 0, a.lastErr, a.fetching
	a.mu.RUnlock()
	if ok && !stale {
		return k, nil
	}
	if wait > 0 && (ok || !fetching) {
		switch {
		case ok:
			return k, nil // stale, but the last good key beats none
		case failing:
			return signingKey{}, keysUnavailable(wait, lastErr)
		default:
			return signingKey{}, errUnknownKey
		}
	}
	_, _, _ = a.group.Do("keys", func() (any, error) {
		// Re-check under the flight: a concurrent call may just have fetched.
		a.mu.Lock()
		if a.fetchWait(a.now()) > 0 {
			a.mu.Unlock()
			return nil, nil
		}
		a.attemptedAt, a.fetching = a.now(), true
		a.mu.Unlock()
		// A caller's cancellation must not fail the fetch for everyone sharing it.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		keys, err := a.fetchKeys(fctx)
		a.mu.Lock()
		defer a.mu.Unlock()
		a.fetching = false
		if err != nil {
			a.failures++
			a.retryAt = a.now().Add(keyRetryDelay(a.failures))
			a.lastErr = err
			return nil, err
		}
		a.keys, a.fetchedAt = keys, a.now()
		a.failures, a.retryAt, a.lastErr = 0, time.Time{}, nil
		return nil, nil
	})
	a.mu.RLock()
	k, ok = a.keys[kid]
	failing, lastErr = a.failures > 0, a.lastErr
	wait = a.retryAt.Sub(a.now())
	a.mu.RUnlock()
	switch {
	case ok:
		return k, nil
	case failing:
		return signingKey{}, keysUnavailable(wait, lastErr)
	default:
		return signingKey{}, errUnknownKey
	}
}

const maxMetadataBytes = 1 << 20

func (a *Authenticator) getJSON(ctx context.Context, u string, v any) error {
	pu, err := url.Parse(u)
	if err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" {
		return fmt.Errorf("bad URL %q", u)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", u, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadataBytes+1))
	if err != nil {
		return err
	}
	if len(b) > maxMetadataBytes {
		return fmt.Errorf("GET %s: response too large", u)
	}
	return json.Unmarshal(b, v)
}

type jwk struct {
	Kty          string   `json:"kty"`
	Use          string   `json:"use"`
	Kid          string   `json:"kid"`
	N            string   `json:"n"`
	E            string   `json:"e"`
	Endorsements []string `json:"endorsements"`
}

func (a *Authenticator) fetchKeys(ctx context.Context) (map[string]signingKey, error) {
	var meta struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := a.getJSON(ctx, a.metadataURL, &meta); err != nil {
		return nil, fmt.Errorf("openid metadata: %w", err)
	}
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := a.getJSON(ctx, meta.JWKSURI, &set); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	keys := make(map[string]signingKey, len(set.Keys))
	for _, k := range set.Keys {
		if k.Kty != "RSA" || k.Kid == "" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		pub, err := rsaKey(k.N, k.E)
		if err != nil {
			continue
		}
		keys[k.Kid] = signingKey{pub: pub, endorsements: k.Endorsements}
	}
	if len(keys) == 0 {
		return nil, errors.New("jwks has no usable RSA keys")
	}
	return keys, nil
}

func rsaKey(n, e string) (*rsa.PublicKey, error) {
	nb, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(n, "="))
	if err != nil {
		return nil, err
	}
	eb, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(e, "="))
	if err != nil {
		return nil, err
	}
	if len(nb) < 256 || len(eb) == 0 || len(eb) > 4 {
		return nil, errors.New("rsa key too small or exponent invalid")
	}
	exp := int(new(big.Int).SetBytes(eb).Int64())
	if exp < 3 {
		return nil, errors.New("rsa exponent invalid")
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: exp}, nil
}
