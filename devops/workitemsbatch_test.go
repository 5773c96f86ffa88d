package devops_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/devops"
	"github.com/sally-devops/devopsbot/devops/devopstest"
)

func createTask(t *testing.T, c *devops.Client, title string) int {
	t.Helper()
	wi, err := c.CreateWorkItem(context.Background(), devops.NewWorkItem{Project: "Web Portal", Type: "Task", Title: title, AssignedTo: devopstest.Adele.UniqueName})
	if err != nil {
		t.Fatal(err)
	}
	return wi.ID
}

func TestWorkItemsNowReadsChangesInOneCall(t *testing.T) {
	o, c := newFakeClient(t)
	ctx := context.Background()
	a, b := createTask(t, c, "Add a timeout"), createTask(t, c, "Write the runbook")
	o.ChangeWorkItem(a, map[string]any{"System.State": "Active", "System.AssignedTo": devopstest.Lee.UniqueName, "System.Title": "Add a 2 s timeout"})
	o.DeleteWorkItem(b)

	before := o.Calls(devopstest.RouteBatch)
	got, err := c.WorkItemsNow(ctx, []int{a, b, 999, a, -4})
	if err != nil {
		t.Fatal(err)
	}
	if o.Calls(devopstest.RouteBatch)-before != 1 {
		t.Errorf("%d workitemsbatch calls, want 1", o.Calls(devopstest.RouteBatch)-before)
	}
	want := devops.WorkItemNow{ID: a, Type: "Task", Title: "Add a 2 s timeout", State: "Active", AssignedTo: "Lee Gu"}
	if len(got) != 1 || got[a] != want {
		t.Fatalf("WorkItemsNow = %+v, want only %+v (the deleted and unknown ones omitted)", got, want)
	}

	// Unassigned: no name.
	o.ChangeWorkItem(a, map[string]any{"System.AssignedTo": ""})
	got, err = c.WorkItemsNow(ctx, []int{a})
	if err != nil || got[a].AssignedTo != "" || got[a].State != "Active" {
		t.Fatalf("unassigned: %+v, %v", got, err)
	}

	// Nothing to read: no call.
	before = o.TotalCalls()
	if got, err := c.WorkItemsNow(ctx, []int{0, -1}); err != nil || len(got) != 0 || o.TotalCalls() != before {
		t.Fatalf("no ids: %v, %v, %d calls", got, err, o.TotalCalls()-before)
	}
	many := make([]int, devops.MaxBatchIDs+1)
	for i := range many {
		many[i] = i + 1
	}
	if _, err := c.WorkItemsNow(ctx, many); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("201 ids: %v", err)
	}
}

func TestStatusCacheKeepsOneReadPerViewerAndIDs(t *testing.T) {
	o, c := newFakeClient(t)
	ctx := context.Background()
	a, b := createTask(t, c, "Add a timeout"), createTask(t, c, "Write the runbook")
	cache := devops.NewStatusCache(0)
	before := o.Calls(devopstest.RouteBatch)
	if _, hit, err := cache.WorkItemsNow(ctx, c, "adele", []int{b, a}); err != nil || hit {
		t.Fatalf("first read: hit %v, %v", hit, err)
	}
	o.ChangeWorkItem(a, map[string]any{"System.State": "Active"})
	got, hit, err := cache.WorkItemsNow(ctx, c, "adele", []int{a, b, a}) // same set, other order
	if err != nil || !hit || got[a].State != "New" {
		t.Fatalf("second read: hit %v, %+v, %v", hit, got, err)
	}
	if _, hit, _ := cache.WorkItemsNow(ctx, c, "adele", []int{a}); hit {
		t.Fatal("another set of ids was served from the cache")
	}
	// Another person's view is read with their own token, never from adele's entry.
	if got, hit, err := cache.WorkItemsNow(ctx, c, "alex", []int{a, b}); err != nil || hit || got[a].State != "Active" {
		t.Fatalf("another viewer was served adele's read: hit %v, %+v, %v", hit, got, err)
	}
	if n := o.Calls(devopstest.RouteBatch) - before; n != 3 {
		t.Errorf("%d batch calls for two distinct sets and a second viewer, want 3", n)
	}
	// Failures are not kept.
	o.FailNext(devopstest.RouteBatch, http.StatusServiceUnavailable, "", 10)
	noRetry := devops.NewClient(o.Org(), staticToken("good-token"), devops.Options{Hosts: o.Hosts, MaxRetries: -1})
	if _, _, err := cache.WorkItemsNow(ctx, noRetry, "adele", []int{b}); err == nil {
		t.Fatal("a 503 was not reported")
	}
	o.FailNext(devopstest.RouteBatch, http.StatusServiceUnavailable, "", 0)
	if got, hit, err := cache.WorkItemsNow(ctx, noRetry, "adele", []int{b}); err != nil || hit || got[b].ID != b {
		t.Fatalf("after a failure: hit %v, %+v, %v", hit, got, err)
	}
}

// The fake refuses what the service refuses in a batch body, and with the
// default error policy a missing id fails the whole call.
func TestFakeWorkItemsBatchIsStrict(t *testing.T) {
	o, c := newFakeClient(t)
	id := createTask(t, c, "Add a timeout")
	post := func(body string) int {
		req, _ := http.NewRequest(http.MethodPost, o.Hosts.Dev+"/fabrikam/_apis/wit/workitemsbatch?api-version=7.1", bytes.NewBufferString(body))
		req.Header.Set("Authorization", "Bearer good-token")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	ids := strings.NewReplacer("ID", strconv.Itoa(id)).Replace
	for body, want := range map[string]int{
		ids(`{"ids":[ID],"fields":["System.State"]}`):                          200,
		ids(`{"ids":[ID,999],"fields":["System.State"]}`):                      404,
		ids(`{"ids":[ID,999],"fields":["System.State"],"errorPolicy":"omit"}`): 200,
		ids(`{"ids":[ID],"fields":["System.State"],"$expand":"all"}`):          400,
		ids(`{"ids":[ID],"errorPolicy":"ignore"}`):                             400,
		`{"ids":[]}`: 400,
	} {
		if got := post(body); got != want {
			t.Errorf("%s answered %d, want %d", body, got, want)
		}
	}
}

func staticToken(tok string) oauth2.TokenSource {
	return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok})
}

// FuzzWorkItemsNow answers the batch call with the fuzzed body: no panic, and
// only items that were asked for come back, under their own id.
func FuzzWorkItemsNow(f *testing.F) {
	f.Add(`{"count":2,"value":[null,{"id":7,"fields":{"System.State":"Active","System.AssignedTo":{"displayName":"Lee Gu"}}}]}`)
	f.Add(`{"value":[{"id":8,"fields":{"System.AssignedTo":"Lee Gu <lee@contoso.com>","System.Title":5}}]}`)
	f.Add(`{"value":[{"id":7,"fields":null},{"id":-1}]}`)
	f.Add(`{"value":{}}`)
	f.Fuzz(func(t *testing.T, body string) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			_, _ = w.Write([]byte(body))
		}))
		defer srv.Close()
		c := devops.NewClient(devops.Org{Name: "fabrikam", URL: "https://dev.azure.com/fabrikam"}, staticToken("t"),
			devops.Options{Hosts: devops.Hosts{Dev: srv.URL, VSSPS: srv.URL}, MaxRetries: -1})
		got, err := c.WorkItemsNow(context.Background(), []int{7, 8})
		if err != nil {
			return
		}
		for id, w := range got {
			if (id != 7 && id != 8) || w.ID != id {
				t.Fatalf("got item %d as %+v, asked for 7 and 8", id, w)
			}
		}
	})
}
