package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/sally-devops/devopsbot/devops"
	"github.com/sally-devops/devopsbot/devops/devopstest"
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
		`sally_devops_calls_total{code="200",operation="projects"} 1`,
		`sally_devops_calls_total{code="200",operation="create_work_item"} 1`,
		`sally_devops_calls_total{code="200",operation="add_comment"} 1`,
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
