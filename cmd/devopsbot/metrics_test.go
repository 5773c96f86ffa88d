package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/sally-devops/devopsbot/devops"
	"github.com/sally-devops/devopsbot/devops/devopstest"
	"github.com/sally-devops/devopsbot/teams/teamstest"
)

func TestDevOpsMetricsCountCallsAndCreatedItems(t *testing.T) {
	org := devopstest.NewOrg(t)
	org.AddToken("tok", devopstest.Adele)
	m := newMetrics()
	hc := &http.Client{Transport: m.devopsTransport(nil)}
	c := devops.NewClient(org.Org(), oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "tok"}), devops.Options{HTTPClient: hc, Hosts: org.Hosts})
	ctx := context.Background()
	if _, err := c.ListProjects(ctx); err != nil {
		t.Fatal(err)
	}
	wi, err := c.CreateWorkItem(ctx, devops.NewWorkItem{Project: "Web Portal", Type: "Task", Title: "Metrics", Marker: "m1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddComment(ctx, "Web Portal", wi.ID, "hi"); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	m.handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`sally_devops_calls_total{code="200",operation="projects.list"} 1`,
		`sally_devops_calls_total{code="200",operation="workitems.create"} 1`,
		`sally_devops_calls_total{code="200",operation="comments.add"} 1`,
		`sally_work_items_created_total 1`,
		`sally_comments_added_total 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// Activity labels are bounded: what a sender names freely becomes "other",
// and a request refused before its activity was read is counted as such.
func TestActivityMetricsLabels(t *testing.T) {
	m := newMetrics()
	a := m.activities()
	a.answered("", "", http.StatusUnauthorized)
	a.answered("invoke", "task/fetch", http.StatusOK)
	a.answered("invoke", "made/up", http.StatusNotImplemented)
	a.answered("madeUp", "x", http.StatusOK)
	a.answered("message", "ignored", http.StatusServiceUnavailable)
	rec := httptest.NewRecorder()
	m.handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`sally_activities_total{name="",outcome="unauthorized",type="other"} 1`,
		`sally_activities_total{name="task/fetch",outcome="ok",type="invoke"} 1`,
		`sally_activities_total{name="other",outcome="error",type="invoke"} 1`,
		`sally_activities_total{name="",outcome="ok",type="other"} 1`,
		`sally_activities_total{name="",outcome="error",type="message"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s:\n%s", want, grepLines(body, "sally_activities_total"))
		}
	}
}

// Every Azure DevOps and Entra ID request the bot makes is labelled by the
// name its call gives it, none as "unnamed": the test drives every exported
// call of devops.Client (a new one fails here until it is added, and so
// until its name is checked), the tenant lookup, the code exchange and a
// token refresh through the metrics transport.
func TestEveryDevOpsCallIsNamed(t *testing.T) {
	const clientID, secret = "0a1b2c3d-1111-4222-8333-444455556666", "s3cr3t~value"
	org := devopstest.NewOrg(t)
	idp := devopstest.NewIdentityProvider(t, org, clientID, secret)
	m := newMetrics()
	hc := &http.Client{Transport: m.devopsTransport(nil)}
	ctx := context.Background()

	// Sign-in: the code exchange (as the OAuth callback does it) and a refresh.
	cfg := devops.OAuthSettings{ClientID: clientID, ClientSecret: secret, RedirectURL: "https://bot.example.com/auth/callback",
		AuthorityHost: idp.URL, WithIdentity: true}.Config(devopstest.DefaultTenant)
	verifier := oauth2.GenerateVerifier()
	loc := idp.Authorize(t, cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "n"), oauth2.SetAuthURLParam("response_mode", "query")))
	tok, err := cfg.Exchange(devops.TokenContext(ctx, hc), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	ts := devops.NewUserTokenSource(context.WithValue(ctx, oauth2.HTTPClient, hc), cfg, &oauth2.Token{RefreshToken: tok.RefreshToken}, nil)
	if _, err := devops.NewTenantResolver(hc, org.Hosts).Resolve(ctx, org.Org()); err != nil {
		t.Fatalf("tenant: %v", err)
	}

	c := devops.NewClient(org.Org(), ts, devops.Options{HTTPClient: hc, Hosts: org.Hosts})
	const project = "Web Portal"
	var item *devops.WorkItem
	calls := map[string]func() error{
		"ListProjects":      func() error { _, err := c.ListProjects(ctx); return err },
		"ListWorkItemTypes": func() error { _, err := c.ListWorkItemTypes(ctx, project); return err },
		"ListAreas":         func() error { _, err := c.ListAreas(ctx, project); return err },
		"ListIterations":    func() error { _, err := c.ListIterations(ctx, project); return err },
		"TeamDefaults":      func() error { _, err := c.TeamDefaults(ctx, project); return err },
		"ListMembers":       func() error { _, err := c.ListMembers(ctx, project); return err },
		"SearchIdentities":  func() error { _, err := c.SearchIdentities(ctx, "adele"); return err },
		"CreateWorkItem": func() (err error) {
			item, err = c.CreateWorkItem(ctx, devops.NewWorkItem{Project: project, Type: "Task", Title: "Named calls", Marker: "named-1"})
			return err
		},
		"FindByMarker":        func() error { _, err := c.FindByMarker(ctx, project, "named-1"); return err },
		"AddComment":          func() error { _, err := c.AddComment(ctx, project, item.ID, "ref named-2"); return err },
		"FindCommentByMarker": func() error { _, err := c.FindCommentByMarker(ctx, project, item.ID, "named-2"); return err },
		"GetWorkItem":         func() error { _, err := c.GetWorkItem(ctx, item.ID); return err },
		"SearchWorkItems":     func() error { _, err := c.SearchWorkItems(ctx, project, "named calls", 5); return err },
		"ListTypeFields":      func() error { _, err := c.ListTypeFields(ctx, project, "Task"); return err },
		"ParentTypes":         func() error { _, err := c.ParentTypes(ctx, project); return err },
		"SearchParents": func() error {
			_, err := c.SearchParents(ctx, project, []string{"Feature", "User Story"}, "", 5)
			return err
		},
		"WorkItemsNow": func() error { _, err := c.WorkItemsNow(ctx, []int{item.ID}); return err },
	}
	order := []string{"ListProjects", "ListWorkItemTypes", "ListAreas", "ListIterations", "TeamDefaults", "ListMembers",
		"SearchIdentities", "CreateWorkItem", "FindByMarker", "AddComment", "FindCommentByMarker", "GetWorkItem", "SearchWorkItems",
		"ListTypeFields", "ParentTypes", "SearchParents", "WorkItemsNow"}
	noRequest := map[string]bool{"Org": true, "CallCount": true, "ParseParentRef": true} // they send nothing
	ct := reflect.TypeOf(c)
	for i := range ct.NumMethod() {
		if name := ct.Method(i).Name; calls[name] == nil && !noRequest[name] {
			t.Errorf("devops.Client.%s is not driven by this test: add it, so its requests' names are checked", name)
		}
	}
	for _, name := range order {
		if err := calls[name](); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}

	rec := httptest.NewRecorder()
	m.handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	ops := map[string]bool{}
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if !strings.HasPrefix(line, "sally_devops_calls_total{") {
			continue
		}
		_, rest, _ := strings.Cut(line, `operation="`)
		op, _, _ := strings.Cut(rest, `"`)
		ops[op] = true
		// The tenant lookup is answered 401, with the tenant in a header, as Azure DevOps does.
		if !strings.Contains(line, `code="200"`) && !(op == "tenant.discover" && strings.Contains(line, `code="401"`)) {
			t.Errorf("a call failed: %s", line)
		}
	}
	var got []string
	for op := range ops {
		got = append(got, op)
	}
	sort.Strings(got)
	want := []string{"areas.list", "comments.add", "comments.list", "entra.token", "identities.search", "iterations.current", "iterations.list",
		"projects.get", "projects.list", "teams.fieldvalues", "teams.list", "teams.members", "tenant.discover", "types.categories", "types.fields", "types.list",
		"workitems.batch", "workitems.create", "workitems.get", "workitems.query", "workitems.status"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("operations labelled\n got %v\nwant %v", got, want)
	}
}

// Through the real wiring (authentication on): a request without a valid token
// is refused before anyone reads its body, metrics included, and is counted as
// an unauthorized activity of no type, whatever the body claims to be.
func TestUnauthenticatedActivityIsNotReadForMetrics(t *testing.T) {
	iss := teamstest.NewIssuer(t)
	issURL, _ := url.Parse(iss.MetadataURL)
	cfg, err := loadConfig(env(map[string]string{
		"LISTEN_ADDR": "127.0.0.1:0", "DATA_DIR": t.TempDir(), "DEMO_MODE": "true",
		"CLIENT_ID": benchAppID, "CLIENT_SECRET": "not-used", "TENANT_ID": "00000000-0000-0000-0000-000000000001",
	}))
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: toIssuer{issuer: issURL, next: http.DefaultTransport}}
	a, err := buildApp(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), hc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)

	// A large body that is a well-formed invoke, padded to just under the 256 KiB limit.
	pad := strings.Repeat("x", 250<<10)
	big := `{"type":"invoke","name":"task/fetch","serviceUrl":"https://smba.trafficmanager.net/teams/","channelId":"msteams","text":"` + pad + `"}`
	for _, auth := range []string{"", "Bearer not-a-token"} {
		body := teamstest.NewCountingBody(big)
		req := httptest.NewRequest(http.MethodPost, "/api/messages", nil)
		req.Body = body
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized || body.N != 0 {
			t.Fatalf("authorization %q: status %d, %d body bytes read; want 401 and none", auth, rec.Code, body.N)
		}
	}
	rec := httptest.NewRecorder()
	a.admin.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	got := grepLines(rec.Body.String(), "sally_activities_total{")
	if got != `sally_activities_total{name="",outcome="unauthorized",type="other"} 2` {
		t.Fatalf("activity metrics after two unauthenticated invokes:\n%s", got)
	}
}
