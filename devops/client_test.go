package devops

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sally-devops/devopsbot/apperr"
)

type recorded struct {
	method, path, query, auth, fedAuth, contentType, body string
}

// recorder answers every request with the next canned response and records it.
type recorder struct {
	mu    sync.Mutex
	reqs  []recorded
	reply func(r *http.Request) (int, http.Header, string)
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, recorded{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Get("Authorization"), r.Header.Get("X-TFS-FedAuthRedirect"), r.Header.Get("Content-Type"), string(b)})
	rc.mu.Unlock()
	st, h, body := 200, http.Header{}, "{}"
	if rc.reply != nil {
		st, h, body = rc.reply(r)
	}
	for k, v := range h {
		w.Header()[k] = v
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(st)
	io.WriteString(w, body)
}

func newRecorded(t *testing.T, reply func(r *http.Request) (int, http.Header, string)) (*recorder, *Client, *[]time.Duration) {
	rc := &recorder{reply: reply}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	c := NewClient(Org{Name: "fabrikam", URL: "https://dev.azure.com/fabrikam"}, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "tok-123"}),
		Options{Hosts: Hosts{Dev: srv.URL, VSSPS: srv.URL + "/vssps"}})
	var waits []time.Duration
	c.sleep = func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	return rc, c, &waits
}

func TestRequestsOnTheWire(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		call  func(c *Client) error
		want  []recorded // auth and fedAuth checked for all
		reply string
	}{
		{"projects", func(c *Client) error { _, err := c.ListProjects(ctx); return err },
			[]recorded{{method: "GET", path: "/fabrikam/_apis/projects", query: "%24top=500&api-version=7.1&stateFilter=wellFormed"}}, `{"value":[]}`},
		{"areas", func(c *Client) error { _, err := c.ListAreas(ctx, "Web Portal"); return err },
			[]recorded{{method: "GET", path: "/fabrikam/Web%20Portal/_apis/wit/classificationnodes/areas", query: "%24depth=5&api-version=7.1"}}, `{"name":"Web Portal"}`},
		{"iterations", func(c *Client) error { _, err := c.ListIterations(ctx, "Web Portal"); return err },
			[]recorded{{method: "GET", path: "/fabrikam/Web%20Portal/_apis/work/teamsettings/iterations", query: "api-version=7.1"}}, `{"value":[]}`},
		{"identities", func(c *Client) error { _, err := c.SearchIdentities(ctx, "ad&le"); return err },
			[]recorded{{method: "GET", path: "/vssps/fabrikam/_apis/identities", query: "api-version=7.1&filterValue=ad%26le&queryMembership=none&searchFilter=General"}}, `{"value":[]}`},
		{"get", func(c *Client) error { _, err := c.GetWorkItem(ctx, 12); return err },
			[]recorded{{method: "GET", path: "/fabrikam/_apis/wit/workitems/12", query: "%24expand=links&api-version=7.1"}}, `{"id":12,"fields":{}}`},
		{"create", func(c *Client) error {
			_, err := c.CreateWorkItem(ctx, NewWorkItem{Project: "Web Portal", Type: "User Story", Title: "Hi", Description: "a<b", AssignedTo: "adele@contoso.com", AreaPath: `Web Portal\A`, IterationPath: `Web Portal\S1`, Tags: []string{"x;y"}, Marker: "m1"})
			return err
		}, []recorded{{method: "POST", path: "/fabrikam/Web%20Portal/_apis/wit/workitems/$User%20Story", query: "api-version=7.1", contentType: "application/json-patch+json",
			body: `[{"op":"add","path":"/fields/System.Title","value":"Hi"},{"op":"add","path":"/fields/System.Description","value":"a\u0026lt;b"},{"op":"add","path":"/fields/System.AssignedTo","value":"adele@contoso.com"},{"op":"add","path":"/fields/System.AreaPath","value":"Web Portal\\A"},{"op":"add","path":"/fields/System.IterationPath","value":"Web Portal\\S1"},{"op":"add","path":"/fields/System.Tags","value":"x y; sally-ref-m1"}]`}}, `{"id":1,"fields":{}}`},
		{"comment", func(c *Client) error { _, err := c.AddComment(ctx, "Web Portal", 7, "<b>hi</b>"); return err },
			[]recorded{{method: "POST", path: "/fabrikam/Web%20Portal/_apis/wit/workItems/7/comments", query: "api-version=7.1-preview.4", contentType: "application/json", body: `{"text":"\u0026lt;b\u0026gt;hi\u0026lt;/b\u0026gt;"}`}}, `{"id":3}`},
		{"search words", func(c *Client) error { _, err := c.SearchWorkItems(ctx, "P", "it's broken", 5); return err },
			[]recorded{{method: "POST", path: "/fabrikam/P/_apis/wit/wiql", query: "%24top=5&api-version=7.1", contentType: "application/json",
				body: `{"query":"SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project AND [System.Title] CONTAINS 'it''s' AND [System.Title] CONTAINS 'broken' ORDER BY [System.ChangedDate] DESC"}`}}, `{"workItems":[]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rc, c, _ := newRecorded(t, func(*http.Request) (int, http.Header, string) { return 200, nil, tc.reply })
			if err := tc.call(c); err != nil {
				t.Fatal(err)
			}
			if len(rc.reqs) != len(tc.want) {
				t.Fatalf("%d requests, want %d: %+v", len(rc.reqs), len(tc.want), rc.reqs)
			}
			for i, w := range tc.want {
				g := rc.reqs[i]
				if g.auth != "Bearer tok-123" || g.fedAuth != "Suppress" {
					t.Errorf("headers: auth %q fedauth %q", g.auth, g.fedAuth)
				}
				w.auth, w.fedAuth = g.auth, g.fedAuth
				if w.body != "" && g.body != w.body {
					var a, b any
					if json.Unmarshal([]byte(g.body), &a) != nil || json.Unmarshal([]byte(w.body), &b) != nil || !jsonEqual(a, b) {
						t.Errorf("body\n got %s\nwant %s", g.body, w.body)
					}
				}
				w.body, g.body = "", ""
				if g != w {
					t.Errorf("request\n got %+v\nwant %+v", g, w)
				}
			}
		})
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestErrorKinds(t *testing.T) {
	cases := []struct {
		status int
		ctype  string
		body   string
		kind   apperr.Kind
		msg    string
	}{
		{401, "application/json", `{"message":"TF400813: The user 'x' is not authorized to access this resource."}`, apperr.Unauthorized, "connect again"},
		{203, "text/html", `<html>Sign in</html>`, apperr.Unauthorized, "connect again"},
		{200, "text/html", `<html>Sign in</html>`, apperr.Unauthorized, "connect again"},
		{403, "application/json", `{"message":"TF50309: You do not have sufficient permissions.","typeKey":"UnauthorizedException"}`, apperr.Forbidden, "You do not have sufficient permissions. [code TF50309]"},
		{404, "application/json", `{"message":"TF401232: Work item 5 does not exist."}`, apperr.NotFound, "does not exist, or you can't see it. [code TF401232]"},
		{400, "application/json", `{"message":"TF401320: Rule Error for field Title.","typeKey":"RuleValidationException","errorCode":600171}`, apperr.Invalid, "valid value for the field \"Title\". Change it and try again; if the form has no such field, ask a project administrator. [code TF401320]"},
		{400, "text/plain", `bad`, apperr.Invalid, "refused"},
		{429, "application/json", `{"message":"throttled"}`, apperr.RateLimited, "slow down"},
		{500, "application/json", `{"message":"boom"}`, apperr.Unavailable, "unavailable"},
		{503, "text/html", `<html>down</html>`, apperr.Unavailable, "unavailable"},
	}
	for _, tc := range cases {
		_, c, _ := newRecorded(t, func(*http.Request) (int, http.Header, string) {
			return tc.status, http.Header{"Content-Type": {tc.ctype}, "Retry-After": {"2"}}, tc.body
		})
		c.retries = 0
		_, err := c.CreateWorkItem(context.Background(), NewWorkItem{Project: "P", Type: "Task", Title: "t"})
		if got := apperr.UserMessage(err) + " [code " + apperr.CodeOf(err) + "]"; !apperr.Is(err, tc.kind) || !strings.Contains(got, tc.msg) {
			t.Errorf("%d %s: %v (%v), want %v containing %q", tc.status, tc.ctype, err, apperr.KindOf(err), tc.kind, tc.msg)
		}
		if strings.Contains(err.Error(), "tok-123") {
			t.Errorf("token in error: %v", err)
		}
		if tc.kind == apperr.RateLimited && apperr.RetryAfterOf(err) != 2*time.Second {
			t.Errorf("RetryAfter = %v", apperr.RetryAfterOf(err))
		}
	}
}

func TestReadRetryHonoursRetryAfter(t *testing.T) {
	n := 0
	rc, c, waits := newRecorded(t, func(*http.Request) (int, http.Header, string) {
		n++
		if n <= 2 {
			return 429, http.Header{"Retry-After": {"3"}}, `{"message":"slow"}`
		}
		return 200, nil, `{"value":[{"id":"1","name":"P"}]}`
	})
	ps, err := c.ListProjects(context.Background())
	if err != nil || len(ps) != 1 {
		t.Fatalf("%v %v", ps, err)
	}
	if len(rc.reqs) != 3 || len(*waits) != 2 || (*waits)[0] != 3*time.Second || (*waits)[1] != 3*time.Second {
		t.Errorf("requests %d, waits %v; want 3 requests and two 3s waits", len(rc.reqs), *waits)
	}
	// A Retry-After beyond what a user would wait gives up at once.
	rc2, c2, _ := newRecorded(t, func(*http.Request) (int, http.Header, string) {
		return 429, http.Header{"Retry-After": {"120"}}, `{}`
	})
	_, err = c2.ListProjects(context.Background())
	if !apperr.Is(err, apperr.RateLimited) || apperr.RetryAfterOf(err) != 120*time.Second || len(rc2.reqs) != 1 {
		t.Errorf("long Retry-After: %v, %d requests", err, len(rc2.reqs))
	}
	// Writes are never retried.
	rc3, c3, _ := newRecorded(t, func(*http.Request) (int, http.Header, string) { return 503, nil, `{}` })
	if _, err := c3.AddComment(context.Background(), "P", 1, "x"); !apperr.Is(err, apperr.Unavailable) || len(rc3.reqs) != 1 {
		t.Errorf("comment after 503: %v, %d requests", err, len(rc3.reqs))
	}
}

func TestShortenTitle(t *testing.T) {
	short, cut := ShortenTitle("  a   short\ttitle ")
	if cut || short != "a short title" {
		t.Errorf("%q %v", short, cut)
	}
	long := strings.Repeat("ab ", 100)
	got, cut := ShortenTitle(long)
	if !cut || len([]rune(got)) > 255 || !strings.HasSuffix(got, "ab…") {
		t.Errorf("%q", got)
	}
	noSpace := strings.Repeat("é", 300)
	got, _ = ShortenTitle(noSpace)
	if len([]rune(got)) != 255 {
		t.Errorf("unbroken text: %d runes", len([]rune(got)))
	}
}

func TestScopesAndOAuthConfig(t *testing.T) {
	if got := strings.Join(Scopes(false), " "); got != ResourceID+"/vso.work_write "+ResourceID+"/vso.project offline_access openid profile email" {
		t.Errorf("scopes %s", got)
	}
	if !strings.Contains(strings.Join(Scopes(true), " "), ResourceID+"/vso.identity") {
		t.Error("identity scope missing")
	}
	s := OAuthSettings{ClientID: "cid", ClientSecret: "sec", RedirectURL: "https://bot.example/oauth/callback"}
	cfg := s.Config("tid-1")
	if cfg.Endpoint.AuthURL != "https://login.microsoftonline.com/tid-1/oauth2/v2.0/authorize" || cfg.Endpoint.TokenURL != "https://login.microsoftonline.com/tid-1/oauth2/v2.0/token" {
		t.Errorf("endpoints %+v", cfg.Endpoint)
	}
	u, err := url.Parse(s.AdminConsentURL("tid-1"))
	if err != nil || u.Path != "/tid-1/v2.0/adminconsent" || u.Query().Get("client_id") != "cid" || u.Query().Get("scope") != ResourceID+"/.default" || strings.Contains(u.String(), "sec") {
		t.Errorf("admin consent URL %v", u)
	}
}

// roundTripFunc lets a test stand between the client and the server.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A create is sent again only when it never left (the connection could not be
// made); once it may have reached Azure DevOps, a lost answer is not a reason
// to send it twice.
func TestCreateRetriedOnlyWhenNothingWasSent(t *testing.T) {
	for _, tc := range []struct {
		name        string
		failFirst   func(r *http.Request) (*http.Response, error)
		wantErr     bool
		wantArrived int
	}{
		{"could not connect", func(*http.Request) (*http.Response, error) {
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
		}, false, 1},
		{"answer lost after sending", func(r *http.Request) (*http.Response, error) {
			resp, err := http.DefaultTransport.RoundTrip(r)
			if err == nil {
				resp.Body.Close()
			}
			return nil, io.ErrUnexpectedEOF
		}, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := &recorder{reply: func(*http.Request) (int, http.Header, string) { return 200, nil, `{"id":5,"fields":{}}` }}
			srv := httptest.NewServer(rc)
			defer srv.Close()
			tries := 0
			hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				tries++
				if tries == 1 {
					return tc.failFirst(r)
				}
				return http.DefaultTransport.RoundTrip(r)
			})}
			c := NewClient(Org{Name: "fabrikam", URL: "https://dev.azure.com/fabrikam"}, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "tok"}),
				Options{HTTPClient: hc, Hosts: Hosts{Dev: srv.URL, VSSPS: srv.URL}})
			c.sleep = func(context.Context, time.Duration) error { return nil }
			_, err := c.CreateWorkItem(context.Background(), NewWorkItem{Project: "P", Type: "Task", Title: "once"})
			if (err != nil) != tc.wantErr || len(rc.reqs) != tc.wantArrived {
				t.Fatalf("err %v, %d creates reached the server; want error %v and %d", err, len(rc.reqs), tc.wantErr, tc.wantArrived)
			}
		})
	}
}

// A Retry-After beyond an hour used to be dropped as unreadable, so the read
// was retried within a second against the server's ask; now it counts (at
// most an hour), and being longer than a user waits, ends the call at once.
func TestRetryAfterOverAnHourIsNotIgnored(t *testing.T) {
	rc, c, waits := newRecorded(t, func(*http.Request) (int, http.Header, string) {
		return 429, http.Header{"Retry-After": {"7200"}}, `{}`
	})
	_, err := c.ListProjects(context.Background())
	if !apperr.Is(err, apperr.RateLimited) || apperr.RetryAfterOf(err) != time.Hour || len(rc.reqs) != 1 || len(*waits) != 0 {
		t.Fatalf("err %v (retry after %v), %d requests, waits %v; want RateLimited after 1h, one request, no wait", err, apperr.RetryAfterOf(err), len(rc.reqs), *waits)
	}
}
