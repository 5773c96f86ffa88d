package devops

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sally-devops/devopsbot/apperr"
)

func TestUserTokenSourceRefreshRotationAndInvalidGrant(t *testing.T) {
	var calls atomic.Int32
	var mode atomic.Value
	mode.Store("ok")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		if mode.Load() == "dead" || r.Form.Get("refresh_token") != "rt-1" {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":"invalid_grant","error_description":"AADSTS70000: The refresh token has expired."}`)
			return
		}
		fmt.Fprintf(w, `{"access_token":"at-%d","refresh_token":"rt-1","expires_in":3600,"token_type":"Bearer"}`, calls.Load())
	}))
	defer srv.Close()
	cfg := OAuthSettings{ClientID: "c", ClientSecret: "s", AuthorityHost: srv.URL}.Config("tid")
	var saved []string
	var mu sync.Mutex
	ts := NewUserTokenSource(context.Background(), cfg, &oauth2.Token{AccessToken: "old", RefreshToken: "rt-1", Expiry: time.Now().Add(-time.Minute)}, func(tk *oauth2.Token) error {
		mu.Lock()
		defer mu.Unlock()
		saved = append(saved, tk.AccessToken+"/"+tk.RefreshToken)
		return nil
	})
	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if tk, err := ts.Token(); err != nil || tk.AccessToken != "at-1" {
				t.Errorf("Token = %v, %v", tk, err)
			}
		}()
	}
	wg.Wait()
	if calls.Load() != 1 || len(saved) != 1 || saved[0] != "at-1/rt-1" {
		t.Errorf("refreshes %d, saved %v; want one refresh handed to onRefresh", calls.Load(), saved)
	}

	dead := NewUserTokenSource(context.Background(), cfg, &oauth2.Token{RefreshToken: "rt-revoked-7f3a"}, nil)
	_, err := dead.Token()
	if !errors.Is(err, ErrNeedsReconnect) || !apperr.Is(err, apperr.Unauthorized) {
		t.Fatalf("err = %v, want ErrNeedsReconnect", err)
	}
	before := calls.Load()
	if _, err := dead.Token(); !errors.Is(err, ErrNeedsReconnect) || calls.Load() != before {
		t.Errorf("a dead refresh token must not be tried again")
	}
	if strings.Contains(fmt.Sprint(err), "rt-revoked-7f3a") {
		t.Error("refresh token in error")
	}
}

func TestTenantResolver(t *testing.T) {
	var tenant atomic.Value
	tenant.Store("72F988BF-86F1-41AF-91AB-2D7CD011DB47")
	var heads atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodHead {
			t.Errorf("method %s", r.Method)
		}
		heads.Add(1)
		switch r.URL.Path {
		case "/fabrikam":
			w.Header().Set("X-VSS-ResourceTenant", tenant.Load().(string))
		case "/personal":
			w.Header().Set("X-VSS-ResourceTenant", "00000000-0000-0000-0000-000000000000")
		}
		w.WriteHeader(401)
	}))
	defer srv.Close()
	r := NewTenantResolver(srv.Client(), Hosts{VSSPS: srv.URL})
	ctx := context.Background()
	for range 3 {
		got, err := r.Resolve(ctx, Org{Name: "fabrikam"})
		if err != nil || got != "72f988bf-86f1-41af-91ab-2d7cd011db47" {
			t.Fatalf("Resolve = %q, %v", got, err)
		}
	}
	if heads.Load() != 1 {
		t.Errorf("HEAD sent %d times, want 1 (cached)", heads.Load())
	}
	r.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	tenant.Store("11111111-2222-3333-4444-555555555555")
	if got, _ := r.Resolve(ctx, Org{Name: "fabrikam"}); got != "11111111-2222-3333-4444-555555555555" || heads.Load() != 2 {
		t.Errorf("after TTL: %q, %d HEADs", got, heads.Load())
	}
	_, err := r.Resolve(ctx, Org{Name: "personal"})
	if !apperr.Is(err, apperr.Invalid) || !strings.Contains(apperr.UserMessage(err), "personal Microsoft accounts") {
		t.Errorf("all-zero tenant: %v", err)
	}
	if _, err := r.Resolve(ctx, Org{Name: "nobody"}); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("no header: %v", err)
	}
	tenant.Store("<script>")
	r.now = func() time.Time { return time.Now().Add(4 * time.Hour) }
	if _, err := r.Resolve(ctx, Org{Name: "fabrikam"}); !apperr.Is(err, apperr.Unavailable) {
		t.Errorf("malformed tenant: %v", err)
	}
}
