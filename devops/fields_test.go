package devops_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/devops"
	"github.com/sally-devops/devopsbot/devops/devopstest"
)

func TestTypeFieldsOfACustomTypeAndDueDates(t *testing.T) {
	_, c := newFakeClient(t)
	ctx := context.Background()
	fields, err := c.ListTypeFields(ctx, "Web Portal", devopstest.CustomType)
	if err != nil {
		t.Fatal(err)
	}
	ask := devops.FieldsToAsk(fields)
	if len(ask) != 1 || ask[0].RefName != devopstest.SeverityField || ask[0].Name != "Severity" || strings.Join(ask[0].Allowed, "|") != strings.Join(devopstest.SeverityValues, "|") {
		t.Fatalf("fields to ask of %s = %+v; want only Severity with its allowed values (Title is the form's, State has a default, AreaId is the service's)", devopstest.CustomType, ask)
	}
	for typ, want := range map[string]string{devopstest.CustomType: devops.FieldTargetDate, "Task": devops.FieldDueDate, "Feature": devops.FieldTargetDate, "Bug": "", "User Story": ""} {
		fs, err := c.ListTypeFields(ctx, "Web Portal", typ)
		if err != nil {
			t.Fatal(err)
		}
		if got := devops.DueDateField(fs); got != want {
			t.Errorf("due-date field of %s = %q, want %q", typ, got, want)
		}
		if typ != devopstest.CustomType && len(devops.FieldsToAsk(fs)) != 0 {
			t.Errorf("%s asks for %+v; its required fields all have defaults or are the form's", typ, devops.FieldsToAsk(fs))
		}
	}
	for _, f := range fields {
		if f.RefName == "System.AssignedTo" && (!f.Identity || len(f.Allowed) != 0) {
			t.Errorf("Assigned To's allowed values are people, not text choices: %+v", f)
		}
	}
}

func TestCreateWithParentHyperlinkAndFields(t *testing.T) {
	o, c := newFakeClient(t)
	ctx := context.Background()
	epic, _, _ := o.SeedBacklog()
	wi, err := c.CreateWorkItem(ctx, devops.NewWorkItem{Project: "Web Portal", Type: devopstest.CustomType, Title: "Refund flow times out",
		Fields:   map[string]string{devopstest.SeverityField: "2 - High", devops.FieldTargetDate: "2026-12-24T00:00:00Z"},
		ParentID: epic, Hyperlink: "https://teams.microsoft.com/l/meetup-join/x", HyperlinkComment: "Weekly sync"})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := o.WorkItem(wi.ID)
	if got.Fields[devopstest.SeverityField] != "2 - High" || got.Fields[devops.FieldTargetDate] != "2026-12-24T00:00:00Z" {
		t.Errorf("fields = %v", got.Fields)
	}
	var rels []string
	for _, r := range got.Relations {
		rels = append(rels, r.Rel+" "+r.URL+" "+r.Comment)
	}
	want := []string{devops.RelParent + " " + o.Hosts.Dev + "/fabrikam/_apis/wit/workItems/1 ", devops.RelHyperlink + " https://teams.microsoft.com/l/meetup-join/x Weekly sync"}
	if strings.Join(rels, "\n") != strings.Join(want, "\n") {
		t.Errorf("relations:\n%s\nwant:\n%s", strings.Join(rels, "\n"), strings.Join(want, "\n"))
	}

	// The fake holds the service's rules: the required custom field, its allowed values.
	_, err = c.CreateWorkItem(ctx, devops.NewWorkItem{Project: "Web Portal", Type: devopstest.CustomType, Title: "No severity"})
	if !apperr.Is(err, apperr.Invalid) || apperr.CodeOf(err) != "TF401320" || !strings.Contains(apperr.UserMessage(err), `"Severity"`) {
		t.Errorf("missing required field: %v (%s)", err, apperr.UserMessage(err))
	}
	_, err = c.CreateWorkItem(ctx, devops.NewWorkItem{Project: "Web Portal", Type: devopstest.CustomType, Title: "Bad severity", Fields: map[string]string{devopstest.SeverityField: "0 - Apocalyptic"}})
	if apperr.CodeOf(err) != "TF401320" || !strings.Contains(apperr.UserMessage(err), `"Severity"`) {
		t.Errorf("value outside allowed values: %v", err)
	}
	// Our client refuses what it must never send, before any request.
	before := o.Calls(devopstest.RouteCreate)
	for name, nw := range map[string]devops.NewWorkItem{
		"a System field":       {Fields: map[string]string{"System.State": "Closed"}},
		"a path in a field":    {Fields: map[string]string{"Custom.Severity/../../relations/-": "x"}},
		"an http link":         {Hyperlink: "http://teams.microsoft.com/l/meetup-join/x"},
		"a link with userinfo": {Hyperlink: "https://teams.microsoft.com@evil.example/x"},
		"a negative parent":    {ParentID: -4},
		"a control character":  {Fields: map[string]string{devopstest.SeverityField: "2 - High\x00"}},
	} {
		nw.Project, nw.Type, nw.Title = "Web Portal", devopstest.CustomType, "x"
		if _, err := c.CreateWorkItem(ctx, nw); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("%s: err = %v, want Invalid", name, err)
		}
	}
	if n := o.Calls(devopstest.RouteCreate) - before; n != 0 {
		t.Errorf("%d hostile creates reached Azure DevOps", n)
	}
	// A parent that does not exist is the service's 404, in plain words.
	_, err = c.CreateWorkItem(ctx, devops.NewWorkItem{Project: "Web Portal", Type: "Task", Title: "Orphan", ParentID: 999})
	if !apperr.Is(err, apperr.NotFound) {
		t.Errorf("missing parent: %v", err)
	}
}

func TestParseParentRef(t *testing.T) {
	_, c := newFakeClient(t)
	for in, want := range map[string]int{
		"123": 123, " #45 ": 45, "https://dev.azure.com/fabrikam/Web%20Portal/_workitems/edit/7": 7,
		"https://dev.azure.com/fabrikam/_apis/wit/workItems/8": 8,
	} {
		if got, err := c.ParseParentRef(in); err != nil || got != want {
			t.Errorf("ParseParentRef(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-3", "+3", "abc", "https://dev.azure.com/fabrikam/Web%20Portal/_workitems/edit/x",
		"https://dev.azure.com/fabrikam/Web%20Portal/_git/repo/7", "javascript:alert(1)", "https://dev.azure.com@evil.example/fabrikam/_workitems/edit/3"} {
		if _, err := c.ParseParentRef(in); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("ParseParentRef(%q) accepted", in)
		}
	}
	for _, in := range []string{"https://dev.azure.com/contoso/Web%20Portal/_workitems/edit/7", "https://dev.azure.com/fabrikamx/_apis/wit/workItems/8", "https://evil.example/fabrikam/_workitems/edit/7"} {
		_, err := c.ParseParentRef(in)
		if !apperr.Is(err, apperr.Invalid) || !strings.Contains(apperr.UserMessage(err), "another organization") {
			t.Errorf("ParseParentRef(%q) = %v; want it refused as another organization", in, err)
		}
	}
}

func TestSearchParents(t *testing.T) {
	o, c := newFakeClient(t)
	ctx := context.Background()
	epic, feature, story := o.SeedBacklog()
	task, err := c.CreateWorkItem(ctx, devops.NewWorkItem{Project: "Web Portal", Type: "Task", Title: "Address validation timeout"})
	if err != nil {
		t.Fatal(err)
	}
	types, err := c.ParentTypes(ctx, "Web Portal")
	if err != nil || strings.Join(types, ",") != "Epic,Feature,User Story,"+devopstest.CustomType {
		t.Fatalf("parent types = %v, %v", types, err)
	}
	ids := func(ws []devops.WorkItem) (out []int) {
		for _, w := range ws {
			out = append(out, w.ID)
		}
		return out
	}
	recent, err := c.SearchParents(ctx, "Web Portal", types, "", 10)
	if err != nil || len(recent) != 3 || recent[0].ID != story || recent[2].ID != epic {
		t.Errorf("recent parents = %v, %v; want the story, feature and epic, newest first, and no task", ids(recent), err)
	}
	hits, err := c.SearchParents(ctx, "Web Portal", types, "address validation", 10)
	if err != nil || len(hits) != 1 || hits[0].ID != feature {
		t.Errorf("search = %v, %v; want the feature only (the task matches too but can't be a parent)", ids(hits), err)
	}
	if hits, _ := c.SearchParents(ctx, "Web Portal", types, "#"+strconv.Itoa(task.ID), 10); len(hits) != 0 {
		t.Errorf("a task by number was offered as a parent: %v", ids(hits))
	}
	if hits, _ := c.SearchParents(ctx, "Mobile App", types, "#"+strconv.Itoa(epic), 10); len(hits) != 0 {
		t.Errorf("another project's epic was offered: %v", ids(hits))
	}
}

func FuzzParseParentRef(f *testing.F) {
	o := devopstest.NewOrg(f)
	c := devops.NewClient(o.Org(), nil, devops.Options{Hosts: o.Hosts})
	for _, s := range []string{"123", "#4", "https://dev.azure.com/fabrikam/P/_workitems/edit/7", "https://dev.azure.com/contoso/_apis/wit/workItems/1", "%zz", "https://x@y/z/1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := c.ParseParentRef(s)
		if err == nil && n <= 0 {
			t.Fatalf("ParseParentRef(%q) = %d without an error", s, n)
		}
		if err != nil && apperr.UserMessage(err) == "" {
			t.Fatalf("ParseParentRef(%q): an error without words", s)
		}
	})
}

func FuzzParseDueDate(f *testing.F) {
	for _, s := range []string{"2026-11-28", "2026-02-30", "2026-11-28T10:00:00+02:00", "next Friday", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := devops.ParseDueDate(s)
		if ok && (d.Hour() != 0 || d.Minute() != 0 || d.Location().String() != "UTC") {
			t.Fatalf("ParseDueDate(%q) = %v: a due date is a day, at midnight UTC", s, d)
		}
	})
}
