package devops_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/devops"
	"github.com/sally-devops/devopsbot/devops/devopstest"
)

func newFakeClient(t *testing.T) (*devopstest.Org, *devops.Client) {
	t.Helper()
	o := devopstest.NewOrg(t)
	o.AddToken("good-token", devopstest.Adele)
	c := devops.NewClient(o.Org(), oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "good-token"}), devops.Options{Hosts: o.Hosts})
	return o, c
}

func TestFakeFormMetadata(t *testing.T) {
	_, c := newFakeClient(t)
	ctx := context.Background()
	ps, err := c.ListProjects(ctx)
	if err != nil || len(ps) != 2 || ps[0].Name != "Mobile App" || ps[1].Name != "Web Portal" {
		t.Fatalf("ListProjects = %+v, %v", ps, err)
	}
	types, err := c.ListWorkItemTypes(ctx, "Web Portal")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ty := range types {
		names = append(names, ty.Name)
	}
	if got := strings.Join(names, ","); got != "Bug,Task,User Story,Feature,Epic,"+devopstest.CustomType {
		t.Errorf("types = %s; disabled Issue and hidden Test Case must be left out", got)
	}
	areas, err := c.ListAreas(ctx, "Web Portal")
	if err != nil || strings.Join(areas, "|") != `Web Portal|Web Portal\Frontend|Web Portal\Frontend\Accessibility|Web Portal\Backend` {
		t.Errorf("areas = %q, %v", areas, err)
	}
	its, err := c.ListIterations(ctx, "Web Portal")
	if err != nil || len(its) != 4 || its[2].Path != `Web Portal\Sprint 3` || its[2].TimeFrame != "current" || its[2].Start.IsZero() {
		t.Errorf("iterations = %+v, %v", its, err)
	}
	td, err := c.TeamDefaults(ctx, "Web Portal")
	if err != nil || td.Team != "Web Portal Team" || td.DefaultArea != `Web Portal\Frontend` || td.CurrentIteration == nil || td.CurrentIteration.Name != "Sprint 3" {
		t.Errorf("TeamDefaults = %+v, %v", td, err)
	}
	ms, err := c.ListMembers(ctx, "Web Portal")
	if err != nil {
		t.Fatal(err)
	}
	var who []string
	for _, m := range ms {
		who = append(who, m.DisplayName)
	}
	// Both teams, each person once (Adele is in both), sorted.
	if got := strings.Join(who, ","); got != "Adele Vance,Alex Wilber,Isaiah Langer,José Álvarez,Lee Gu,Megan Bowen,Megan Rivera,N. Wilke" {
		t.Errorf("members = %s; want deduped and sorted", got)
	}
	ids, err := c.SearchIdentities(ctx, "meg")
	if err != nil || len(ids) != 2 || ids[0].UniqueName != "megan@contoso.com" || ids[1].UniqueName != "megan.rivera@contoso.com" {
		t.Errorf("SearchIdentities = %+v, %v", ids, err)
	}
	// Lynne is in no team, but in the organization.
	ids, err = c.SearchIdentities(ctx, "Lynne Robbins")
	if err != nil || len(ids) != 1 || ids[0] != devopstest.Lynne {
		t.Errorf("SearchIdentities(Lynne Robbins) = %+v, %v", ids, err)
	}
}

func TestSearchIdentitiesLeavesOutGroups(t *testing.T) {
	o, c := newFakeClient(t)
	// "Quality" is a team of Web Portal, which the search finds as a group.
	ids, err := c.SearchIdentities(context.Background(), "quality")
	if err != nil || len(ids) != 0 {
		t.Errorf("SearchIdentities(quality) = %+v, %v; want no groups", ids, err)
	}
	if o.Calls(devopstest.RouteIdentities) != 1 {
		t.Errorf("identities calls = %d", o.Calls(devopstest.RouteIdentities))
	}
}

func TestIdentitySearchNeedsTheIdentityScope(t *testing.T) {
	o := devopstest.NewOrg(t)
	o.AddScopedToken("narrow", devopstest.Adele, devops.Scopes(false))
	o.AddScopedToken("wide", devopstest.Adele, devops.Scopes(true))
	ctx := context.Background()
	narrow := devops.NewClient(o.Org(), oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "narrow"}), devops.Options{Hosts: o.Hosts})
	if _, err := narrow.SearchIdentities(ctx, "Lynne"); !apperr.Is(err, apperr.Unauthorized) {
		t.Errorf("search without vso.identity: %v; want Unauthorized (401 TF400813)", err)
	}
	if _, err := narrow.ListMembers(ctx, "Web Portal"); err != nil {
		t.Errorf("team members need only vso.project: %v", err)
	}
	wide := devops.NewClient(o.Org(), oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "wide"}), devops.Options{Hosts: o.Hosts})
	if ids, err := wide.SearchIdentities(ctx, "Lynne"); err != nil || len(ids) != 1 {
		t.Errorf("search with vso.identity = %+v, %v", ids, err)
	}
}

func TestMetadataCachePeoplePerUser(t *testing.T) {
	o, c := newFakeClient(t)
	m := devops.NewMetadataCache(0)
	ctx := context.Background()
	for range 3 {
		ids, err := m.People(ctx, "u1", c, "Lynne Robbins")
		if err != nil || len(ids) != 1 || ids[0] != devopstest.Lynne {
			t.Fatalf("People = %+v, %v", ids, err)
		}
	}
	if _, err := m.People(ctx, "u1", c, " lynne robbins "); err != nil {
		t.Fatal(err)
	}
	if n := o.Calls(devopstest.RouteIdentities); n != 1 {
		t.Errorf("warm people search made %d calls, want 1 in all", n)
	}
	if _, err := m.People(ctx, "u2", c, "Lynne Robbins"); err != nil || o.Calls(devopstest.RouteIdentities) != 2 {
		t.Errorf("people searches are per user: %d calls, %v", o.Calls(devopstest.RouteIdentities), err)
	}
}

func TestFakeCreateCommentSearch(t *testing.T) {
	o, c := newFakeClient(t)
	ctx := context.Background()
	long := strings.Repeat("word ", 60) // 300 characters
	wi, err := c.CreateWorkItem(ctx, devops.NewWorkItem{
		Project: "Web Portal", Type: "User Story", Title: long, Description: `Fix <script>alert("x")</script> & co`,
		AssignedTo: "Adele Vance <adele@contoso.com>", AreaPath: `Web Portal\Frontend`, IterationPath: `Web Portal\Sprint 3`,
		Tags: []string{"meeting"}, Marker: "ins-42",
	})
	if err != nil {
		t.Fatal(err)
	}
	if wi.ID == 0 || wi.Type != "User Story" || wi.State != "New" || wi.Project != "Web Portal" || !strings.HasSuffix(wi.URL, "/_workitems/edit/1") {
		t.Errorf("created %+v", wi)
	}
	// The link for people opens a page of the fake organization, never the real dev.azure.com.
	page, err := http.Get(wi.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if page.StatusCode != 200 || !strings.Contains(string(body), "Demo mode") || !strings.Contains(string(body), "User Story 1: word word") ||
		strings.Contains(string(body), "&lt;br&gt;") || strings.Contains(string(body), "&amp;#") ||
		strings.Contains(string(body), "<script>") || !strings.Contains(string(body), "Fix &lt;script&gt;alert(&#34;x&#34;)") {
		t.Errorf("work item page: %d %s", page.StatusCode, body)
	}
	stored, ok := o.WorkItem(wi.ID)
	if !ok {
		t.Fatal("fake did not keep the item")
	}
	title := stored.Fields["System.Title"].(string)
	if len([]rune(title)) > 255 || !strings.HasSuffix(title, "…") || strings.HasSuffix(title, "wor…") {
		t.Errorf("title not shortened at a word boundary: %q", title)
	}
	desc := stored.Fields["System.Description"].(string)
	if strings.Contains(desc, "<script>") || !strings.Contains(desc, "&lt;script&gt;") || !strings.Contains(desc, strings.TrimSpace(long)) {
		t.Errorf("description must be escaped and hold the full title: %q", desc)
	}
	if stored.Fields["System.AssignedTo"] != "adele@contoso.com" || !strings.Contains(stored.Fields["System.Tags"].(string), "sally-ref-ins-42") {
		t.Errorf("fields = %v", stored.Fields)
	}

	found, err := c.FindByMarker(ctx, "Web Portal", "ins-42")
	if err != nil || found.ID != wi.ID {
		t.Errorf("FindByMarker = %+v, %v", found, err)
	}
	if _, err := c.FindByMarker(ctx, "Web Portal", "ins-43"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("FindByMarker of unknown marker: %v, want NotFound", err)
	}

	cm, err := c.AddComment(ctx, "Web Portal", wi.ID, "see <img src=x onerror=alert(1)>\nline two")
	if err != nil {
		t.Fatal(err)
	}
	got := o.Comments(wi.ID)
	if len(got) != 1 || got[0].Text != "see &lt;img src=x onerror=alert(1)&gt;<br>line two" || cm.ID != got[0].ID || cm.WorkItemID != wi.ID {
		t.Errorf("comment = %+v stored %+v", cm, got)
	}

	other, err := c.CreateWorkItem(ctx, devops.NewWorkItem{Project: "Web Portal", Type: "Bug", Title: "Login fails on Safari"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.SearchWorkItems(ctx, "Web Portal", "safari LOGIN", 10)
	if err != nil || len(res) != 1 || res[0].ID != other.ID || res[0].Title != "Login fails on Safari" {
		t.Errorf("search by words = %+v, %v", res, err)
	}
	res, err = c.SearchWorkItems(ctx, "Web Portal", "#"+itoa(other.ID), 10)
	if err != nil || len(res) != 1 || res[0].ID != other.ID {
		t.Errorf("search by #id = %+v, %v", res, err)
	}
	// A quote cannot break out of the WIQL literal.
	res, err = c.SearchWorkItems(ctx, "Web Portal", "x' OR [System.Title] CONTAINS 'Login", 10)
	if err != nil || len(res) != 0 {
		t.Errorf("injection attempt returned %+v, %v", res, err)
	}
	if res, err := c.SearchWorkItems(ctx, "Mobile App", itoa(other.ID), 10); err != nil || len(res) != 0 {
		t.Errorf("item of another project found: %+v, %v", res, err)
	}
	if g, err := c.GetWorkItem(ctx, other.ID); err != nil || g.Title != "Login fails on Safari" || g.URL == "" {
		t.Errorf("GetWorkItem = %+v, %v", g, err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestFakeValidationErrors(t *testing.T) {
	o, c := newFakeClient(t)
	ctx := context.Background()
	cases := []struct {
		name string
		w    devops.NewWorkItem
		kind apperr.Kind
		msg  string
	}{
		{"unknown area", devops.NewWorkItem{Project: "Web Portal", Type: "Task", Title: "t", AreaPath: `Web Portal\Nope`}, apperr.Invalid, "area you chose does not exist"},
		{"unknown iteration", devops.NewWorkItem{Project: "Web Portal", Type: "Task", Title: "t", IterationPath: `Web Portal\Sprint 99`}, apperr.Invalid, "iteration you chose does not exist"},
		{"unknown person", devops.NewWorkItem{Project: "Web Portal", Type: "Task", Title: "t", AssignedTo: "nobody@contoso.com"}, apperr.Invalid, "Assigned To"},
		{"disabled type", devops.NewWorkItem{Project: "Web Portal", Type: "Issue", Title: "t"}, apperr.NotFound, "[code VS402323]"},
		{"unknown project", devops.NewWorkItem{Project: "Nope", Type: "Task", Title: "t"}, apperr.NotFound, "[code TF200016]"},
		{"empty title", devops.NewWorkItem{Project: "Web Portal", Type: "Task", Title: "   "}, apperr.Invalid, "needs a title"},
	}
	for _, tc := range cases {
		_, err := c.CreateWorkItem(ctx, tc.w)
		if !apperr.Is(err, tc.kind) || !strings.Contains(apperr.UserMessage(err)+" [code "+apperr.CodeOf(err)+"]", tc.msg) {
			t.Errorf("%s: %v (kind %v), want %v with %q", tc.name, err, apperr.KindOf(err), tc.kind, tc.msg)
		}
		// A person reads words; the code goes to small print, never at the start of the message.
		if m := apperr.UserMessage(err); strings.HasPrefix(m, "TF") || strings.HasPrefix(m, "VS") {
			t.Errorf("%s: the message starts with a raw code: %q", tc.name, m)
		}
	}
	var ae *devops.APIError
	_, err := c.CreateWorkItem(ctx, devops.NewWorkItem{Project: "Web Portal", Type: "Task", Title: "t", AreaPath: "x"})
	if !errors.As(err, &ae) || ae.Status != 400 || ae.TypeKey != "WorkItemFieldInvalidTreeNameException" {
		t.Errorf("cause = %#v", ae)
	}
	if _, err := c.GetWorkItem(ctx, 999); !apperr.Is(err, apperr.NotFound) || apperr.CodeOf(err) != "TF401232" {
		t.Errorf("missing item: %v", err)
	}
	if n := o.Calls(devopstest.RouteCreate); n != 5 { // the empty title never left the client
		t.Errorf("create calls = %d, want 5", n)
	}
}

func TestFakeBadTokenIsSignInAgain(t *testing.T) {
	o := devopstest.NewOrg(t)
	c := devops.NewClient(o.Org(), oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "stale"}), devops.Options{Hosts: o.Hosts})
	_, err := c.ListProjects(context.Background())
	if !apperr.Is(err, apperr.Unauthorized) || !strings.Contains(apperr.UserMessage(err), "connect again") {
		t.Fatalf("err = %v, want Unauthorized", err)
	}
	if strings.Contains(err.Error(), "stale") {
		t.Error("token leaked into error")
	}
	if o.Calls(devopstest.RouteProjects) != 1 {
		t.Errorf("a sign-in failure must not be retried: %d calls", o.Calls(devopstest.RouteProjects))
	}
}

func TestFakeRetriesReadsNotWrites(t *testing.T) {
	o, c := newFakeClient(t)
	ctx := context.Background()
	o.FailNext(devopstest.RouteProjects, http.StatusTooManyRequests, "0", 2)
	if ps, err := c.ListProjects(ctx); err != nil || len(ps) != 2 {
		t.Fatalf("ListProjects after two 429s = %v, %v", ps, err)
	}
	if n := o.Calls(devopstest.RouteProjects); n != 3 {
		t.Errorf("projects calls = %d, want 3", n)
	}
	o.FailNext(devopstest.RouteCreate, http.StatusServiceUnavailable, "", 1)
	_, err := c.CreateWorkItem(ctx, devops.NewWorkItem{Project: "Web Portal", Type: "Task", Title: "once"})
	if !apperr.Is(err, apperr.Unavailable) || o.Calls(devopstest.RouteCreate) != 1 {
		t.Errorf("create after 503: %v, calls %d; want Unavailable and no retry", err, o.Calls(devopstest.RouteCreate))
	}
	o.FailNext(devopstest.RouteCreate, http.StatusTooManyRequests, "7", 1)
	_, err = c.CreateWorkItem(ctx, devops.NewWorkItem{Project: "Web Portal", Type: "Task", Title: "once"})
	if !apperr.Is(err, apperr.RateLimited) || apperr.RetryAfterOf(err).Seconds() != 7 || o.Calls(devopstest.RouteCreate) != 2 {
		t.Errorf("create after 429: %v (retry after %v), calls %d", err, apperr.RetryAfterOf(err), o.Calls(devopstest.RouteCreate))
	}
}

func TestFakeAmbiguousCreateThenFindByMarker(t *testing.T) {
	o, c := newFakeClient(t)
	ctx := context.Background()
	o.DropResponseAfterWrite(1)
	_, err := c.CreateWorkItem(ctx, devops.NewWorkItem{Project: "Web Portal", Type: "Task", Title: "lost answer", Marker: "m-1"})
	if !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("err = %v, want Unavailable", err)
	}
	if o.Calls(devopstest.RouteCreate) != 1 {
		t.Errorf("create sent %d times; must never be retried blindly", o.Calls(devopstest.RouteCreate))
	}
	w, err := c.FindByMarker(ctx, "Web Portal", "m-1")
	if err != nil || w.Title != "lost answer" {
		t.Fatalf("FindByMarker = %+v, %v", w, err)
	}
}

func TestMetadataCacheColdWarmAndSingleFlight(t *testing.T) {
	o, c := newFakeClient(t)
	m := devops.NewMetadataCache(0)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fd, err := m.FormData(ctx, c, "Web Portal")
			if err == nil && (len(fd.Types) != 6 || len(fd.Members) != 8 || fd.Defaults.CurrentIteration == nil) {
				err = errors.New("incomplete form data")
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	cold := o.TotalCalls()
	// types+categories, areas, iterations, teams+2 members, project+teamfieldvalues+current iteration
	if cold != 10 {
		t.Errorf("cold form open (8 concurrent) made %d calls, want 10 (one fetch)", cold)
	}
	if _, err := m.FormData(ctx, c, "web portal"); err != nil {
		t.Fatal(err)
	}
	if o.TotalCalls() != cold {
		t.Errorf("warm form open made %d calls, want 0", o.TotalCalls()-cold)
	}
	if _, err := m.Projects(ctx, "u1", c); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Projects(ctx, "u1", c); err != nil || o.Calls(devopstest.RouteProjects) != 1 {
		t.Errorf("projects warm: %d calls, %v", o.Calls(devopstest.RouteProjects), err)
	}
	if _, err := m.Projects(ctx, "u2", c); err != nil || o.Calls(devopstest.RouteProjects) != 2 {
		t.Errorf("projects are per user: %d calls, %v", o.Calls(devopstest.RouteProjects), err)
	}
}

func BenchmarkFormOpen(b *testing.B) {
	o := devopstest.NewOrg(b)
	o.AddToken("good-token", devopstest.Adele)
	c := devops.NewClient(o.Org(), oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "good-token"}), devops.Options{Hosts: o.Hosts})
	ctx := context.Background()
	b.Run("cold", func(b *testing.B) {
		start := o.TotalCalls()
		for b.Loop() {
			m := devops.NewMetadataCache(0)
			if _, err := m.FormData(ctx, c, "Web Portal"); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(o.TotalCalls()-start)/float64(b.N), "calls/op")
	})
	b.Run("warm", func(b *testing.B) {
		m := devops.NewMetadataCache(0)
		if _, err := m.FormData(ctx, c, "Web Portal"); err != nil {
			b.Fatal(err)
		}
		start := o.TotalCalls()
		for b.Loop() {
			if _, err := m.FormData(ctx, c, "Web Portal"); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(o.TotalCalls()-start)/float64(b.N), "calls/op")
	})
}

func TestFakeTenant(t *testing.T) {
	o := devopstest.NewOrg(t)
	r := devops.NewTenantResolver(nil, o.Hosts)
	if got, err := r.Resolve(context.Background(), o.Org()); err != nil || got != devopstest.DefaultTenant {
		t.Errorf("Resolve = %q, %v", got, err)
	}
	o.SetTenant("00000000-0000-0000-0000-000000000000")
	r = devops.NewTenantResolver(nil, o.Hosts)
	if _, err := r.Resolve(context.Background(), o.Org()); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("personal-account org: %v", err)
	}
}

func TestFindCommentByMarkerAgainstFake(t *testing.T) {
	o, c := newFakeClient(t)
	ctx := context.Background()
	wi, err := c.CreateWorkItem(ctx, devops.NewWorkItem{Project: "Web Portal", Type: "Task", Title: "Has comments", Marker: "m-item"})
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"first", "second (ref sally-abc123)", "third"} {
		if _, err := c.AddComment(ctx, "Web Portal", wi.ID, text); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.FindCommentByMarker(ctx, "Web Portal", wi.ID, "sally-abc123")
	if err != nil || got.ID != 2 || !strings.Contains(got.Text, "second") {
		t.Fatalf("found %+v, %v", got, err)
	}
	if _, err := c.FindCommentByMarker(ctx, "Web Portal", wi.ID, "sally-none"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("missing marker: %v", err)
	}
	if n := o.Calls(devopstest.RouteComments); n != 2 {
		t.Fatalf("list calls = %d", n)
	}
}
