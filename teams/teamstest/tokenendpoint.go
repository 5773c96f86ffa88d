package teamstest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// Client credentials NewTokenEndpoint accepts.
const (
	ClientID     = "00000000-0000-0000-0000-0000000000aa"
	ClientSecret = "test-client-secret"
)

// NewTokenEndpoint starts a fake Entra ID client-credentials endpoint. It accepts
// ClientID and ClientSecret in the form (as Entra does), answers a fresh token that
// lasts an hour, and counts the tokens it issued.
func NewTokenEndpoint(t testing.TB) (url string, count func() int) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method != http.MethodPost || r.ParseForm() != nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"invalid_request"}`)
			return
		}
		if r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("scope") == "" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"invalid_request"}`)
			return
		}
		if r.PostForm.Get("client_id") != ClientID || r.PostForm.Get("client_secret") != ClientSecret {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}`)
			return
		}
		id := n.Add(1)
		fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"bot-token-%d"}`, id)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/tenant/oauth2/v2.0/token", func() int { return int(n.Load()) }
}
