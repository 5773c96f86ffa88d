package teams

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func FuzzDecodeActivity(f *testing.F) {
	b, err := os.ReadFile("testdata/playground-activities.json")
	if err != nil {
		f.Fatal(err)
	}
	var fixtures []struct {
		Body json.RawMessage `json:"body"`
	}
	if err := json.Unmarshal(b, &fixtures); err != nil {
		f.Fatal(err)
	}
	for _, fx := range fixtures {
		f.Add([]byte(fx.Body))
	}
	f.Add([]byte(`{"type":"message","text":"<at>Sally</at> hi","recipient":{"id":"28:b"},"entities":[{"type":"mention","text":"<at>Sally</at>","mentioned":{"id":"28:b"}}]}`))
	f.Add([]byte(`{"type":"invoke","name":"application/search","value":{"queryOptions":{"skip":-1}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := DecodeActivity(body)
		if err != nil {
			return
		}
		if a.Type == "" {
			t.Fatal("decoded an activity without type")
		}
		// Nothing a sender controls may make the helpers panic.
		_ = a.TextWithoutMention()
		_ = a.TenantID()
		_, _ = a.TeamsData()
		_, _ = a.ActionValue()
		_, _ = a.TaskValue()
		if sv, err := a.SearchValue(); err == nil && (sv.QueryOptions.Skip < 0 || sv.QueryOptions.Top < 0) {
			t.Fatalf("negative paging survived: %+v", sv.QueryOptions)
		}
		// What we decoded we can send back, and it decodes to the same thing.
		out, err := json.Marshal(a)
		if err != nil {
			t.Fatalf("re-encoding a decoded activity: %v", err)
		}
		b, err := DecodeActivity(out)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", out, err)
		}
		out2, _ := json.Marshal(b)
		if string(out) != string(out2) {
			t.Fatalf("round trip changed the activity:\n%s\n%s", out, out2)
		}
	})
}

func FuzzAuthorizationHeader(f *testing.F) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	now := time.Now()
	a := NewAuthenticator(AuthConfig{AppID: "app", OpenIDMetadataURL: "http://127.0.0.1:1/none", Now: func() time.Time { return now }})
	// Keys are preloaded and the refresh interval not yet over: the fuzzer never
	// makes a network call.
	a.keys = map[string]signingKey{"k1": {pub: &key.PublicKey, endorsements: []string{"msteams"}}}
	a.fetchedAt, a.attemptedAt = now, now

	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": DefaultIssuer, "aud": "app", "serviceurl": "https://smba.example/", "exp": now.Add(time.Hour).Unix(), "nbf": now.Add(-time.Minute).Unix(),
	})
	tok.Header["kid"] = "k1"
	valid, err := tok.SignedString(key)
	if err != nil {
		f.Fatal(err)
	}
	signed := valid[:strings.LastIndex(valid, ".")]
	act := &Activity{Type: "message", ServiceURL: "https://smba.example", ChannelID: "msteams"}
	if err := a.Authenticate(context.Background(), "Bearer "+valid, act); err != nil {
		f.Fatalf("seed token refused: %v", err)
	}
	f.Add("Bearer " + valid)
	f.Add("bearer  " + valid)
	f.Add("Bearer a.b.c")
	f.Add("Bearer eyJhbGciOiJub25lIiwia2lkIjoiazEifQ.eyJhdWQiOiJhcHAifQ.")
	f.Add("Basic Zm9vOmJhcg==")
	f.Add("")
	f.Fuzz(func(t *testing.T, header string) {
		raw, perr := ParseBearer(header)
		if perr == nil && (strings.Count(raw, ".") != 2 || strings.ContainsAny(raw, " +/=")) {
			t.Fatalf("ParseBearer accepted %q", raw)
		}
		err := a.Authenticate(context.Background(), header, act)
		if err == nil {
			if perr != nil {
				t.Fatalf("authenticated a header ParseBearer refuses: %q", header)
			}
			// The signature covers header and payload: they cannot differ from what
			// was signed.
			if raw[:strings.LastIndex(raw, ".")] != signed {
				t.Fatalf("accepted a token whose signed part was altered: %q", raw)
			}
		}
	})
}

func FuzzServiceURLMatch(f *testing.F) {
	f.Add("https://smba.trafficmanager.net/emea/", "https://SMBA.trafficmanager.net/emea")
	f.Add("https://host/EVIL/", "https://host/evil/")
	f.Add("https://kelvin.example/", "https://\u212aelvin.example/")
	f.Add("https://evil@host/x", "https://host/x")
	f.Add("http://127.0.0.1:3978/_connector", "http://[::1]:3978/_connector?x#y")
	f.Fuzz(func(t *testing.T, claim, activity string) {
		same := sameServiceURL(claim, activity)
		if same != sameServiceURL(activity, claim) {
			t.Fatalf("not symmetric: %q %q", claim, activity)
		}
		if !same {
			return
		}
		// A match means the reply goes where the token was issued for: the
		// same scheme, host (ASCII case aside), port and path.
		c, errC := url.Parse(claim)
		a, errA := url.Parse(activity)
		if errC != nil || errA != nil {
			t.Fatalf("matched unparsable URLs %q %q", claim, activity)
		}
		if c.Scheme != a.Scheme || !strings.EqualFold(c.Host, a.Host) || c.User != nil || a.User != nil ||
			strings.TrimSuffix(c.EscapedPath(), "/") != strings.TrimSuffix(a.EscapedPath(), "/") || c.RawQuery != a.RawQuery {
			t.Fatalf("matched different targets %q %q", claim, activity)
		}
		for _, r := range c.Host + a.Host {
			if r >= 0x80 {
				t.Fatalf("matched a non-ASCII host %q %q", claim, activity)
			}
		}
	})
}
