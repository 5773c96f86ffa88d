package devops

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"

	"github.com/sally-devops/devopsbot/apperr"
)

// Project is an Azure DevOps project the user can see.
type Project struct{ ID, Name, Description string }

// WorkItemType is a type users may create (hidden and disabled types are left out).
type WorkItemType struct{ Name, Description, Color string }

// Iteration is a sprint of the project's default team.
type Iteration struct {
	ID, Name, Path string
	Start, Finish  time.Time
	TimeFrame      string // past, current or future, as the team settings say
}

// Identity is a person who can be assigned work.
type Identity struct{ ID, DisplayName, UniqueName string }

// TeamDefaults are what the project's default team would pick for a new item.
type TeamDefaults struct {
	Team             string
	DefaultArea      string
	CurrentIteration *Iteration
}

// WorkItem is the part of a work item the bot shows. URL is the page for people.
type WorkItem struct {
	ID, Rev                          int
	Type, Title, State, URL, Project string
}

// Comment is a discussion comment on a work item.
type Comment struct {
	ID, WorkItemID int
	Text           string
	URL            string
}

// NewWorkItem is what the bot asks to create. Description is plain text.
// Marker is an opaque reference (letters, digits, '-', '_', '.'; at most 64)
// that lets FindByMarker tell whether an ambiguous create actually happened.
type NewWorkItem struct {
	Project, Type, Title, Description   string
	AssignedTo, AreaPath, IterationPath string
	Tags                                []string
	Marker                              string
	// Fields are more fields by reference name, as text: a due date, the
	// required fields of the type's process (see relations.go).
	Fields map[string]string
	// ParentID, when set, links the new item under that work item.
	ParentID int
	// Hyperlink, when set, is an https link (to the meeting) added as a relation.
	Hyperlink, HyperlinkComment string
}

// MarkerTagPrefix prefixes the tag that carries a NewWorkItem's Marker. A tag is
// used because it survives Azure DevOps' HTML sanitizer and WIQL can query it.
const MarkerTagPrefix = "sally-ref-"

// MaxTitleLen is Azure DevOps' limit on a work item title, in characters.
const MaxTitleLen = 255

func (c *Client) url(parts ...string) string {
	var b strings.Builder
	b.WriteString(c.base)
	for _, p := range parts {
		b.WriteByte('/')
		b.WriteString(p)
	}
	return b.String()
}

func (c *Client) get(ctx context.Context, u string, q url.Values, out any) error {
	return c.do(ctx, request{method: http.MethodGet, url: u, apiVersion: apiVersion, query: q, idempotent: true}, out)
}

func checkProject(project string) error {
	if strings.TrimSpace(project) == "" || len(project) > 256 || strings.ContainsAny(project, "/\\?#%") || hasControl(project) {
		return apperr.New(apperr.Invalid, "Please pick an Azure DevOps project.")
	}
	return nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}

// ListProjects returns the projects the user can see, sorted by name.
func (c *Client) ListProjects(ctx context.Context) ([]Project, error) {
	var out []Project
	cont := ""
	for page := 0; page < 20; page++ {
		q := url.Values{"$top": {"500"}, "stateFilter": {"wellFormed"}}
		if cont != "" {
			q.Set("continuationToken", cont)
		}
		var resp struct {
			Value []struct{ ID, Name, Description string }
		}
		var hdr http.Header
		err := c.do(ctx, request{method: http.MethodGet, url: c.url("_apis", "projects"), apiVersion: apiVersion, query: q, idempotent: true}, &headerCapture{into: &resp, hdr: &hdr})
		if err != nil {
			return nil, err
		}
		for _, p := range resp.Value {
			out = append(out, Project{ID: p.ID, Name: p.Name, Description: p.Description})
		}
		cont = ""
		if hdr != nil {
			cont = hdr.Get("X-Ms-Continuationtoken")
		}
		if cont == "" || len(resp.Value) == 0 {
			break
		}
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
	return out, nil
}

// headerCapture lets a caller see response headers (continuation tokens) without
// widening do's signature. classify unmarshals into into; do fills hdr.
type headerCapture struct {
	into any
	hdr  *http.Header
}

// ListWorkItemTypes returns the types people may create in project: disabled
// types and those in Microsoft.HiddenCategory (test cases, code review
// requests...) are left out, as the web UI's "New work item" menu does.
func (c *Client) ListWorkItemTypes(ctx context.Context, project string) ([]WorkItemType, error) {
	if err := checkProject(project); err != nil {
		return nil, err
	}
	p := url.PathEscape(project)
	var types struct {
		Value []struct {
			Name, Description, Color string
			IsDisabled               bool `json:"isDisabled"`
		}
	}
	var cats struct {
		Value []struct {
			ReferenceName string `json:"referenceName"`
			WorkItemTypes []struct{ Name string }
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return c.get(gctx, c.url(p, "_apis", "wit", "workitemtypes"), nil, &types) })
	g.Go(func() error { return c.get(gctx, c.url(p, "_apis", "wit", "workitemtypecategories"), nil, &cats) })
	if err := g.Wait(); err != nil {
		return nil, err
	}
	hidden := map[string]bool{}
	for _, cat := range cats.Value {
		if cat.ReferenceName == "Microsoft.HiddenCategory" {
			for _, t := range cat.WorkItemTypes {
				hidden[strings.ToLower(t.Name)] = true
			}
		}
	}
	out := []WorkItemType{}
	for _, t := range types.Value {
		if t.IsDisabled || hidden[strings.ToLower(t.Name)] || t.Name == "" {
			continue
		}
		out = append(out, WorkItemType{Name: t.Name, Description: t.Description, Color: t.Color})
	}
	return out, nil
}

type classNode struct {
	Name     string       `json:"name"`
	Children []*classNode `json:"children"`
}

// areaDepth bounds the walk: deeper trees are rare and would bloat a card's choice list.
const areaDepth = 5
const maxAreas = 500

// ListAreas returns full area paths ("Web Portal\Frontend"), root first, in tree order.
func (c *Client) ListAreas(ctx context.Context, project string) ([]string, error) {
	if err := checkProject(project); err != nil {
		return nil, err
	}
	var root classNode
	q := url.Values{"$depth": {strconv.Itoa(areaDepth)}}
	if err := c.get(ctx, c.url(url.PathEscape(project), "_apis", "wit", "classificationnodes", "areas"), q, &root); err != nil {
		return nil, err
	}
	var out []string
	var walk func(n *classNode, prefix string, depth int)
	walk = func(n *classNode, prefix string, depth int) {
		if n == nil || n.Name == "" || len(out) >= maxAreas || depth > areaDepth {
			return
		}
		path := n.Name
		if prefix != "" {
			path = prefix + `\` + n.Name
		}
		out = append(out, path)
		for _, ch := range n.Children {
			walk(ch, path, depth+1)
		}
	}
	walk(&root, "", 0)
	return out, nil
}

type iterationJSON struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Path       string `json:"path"`
	Attributes struct {
		StartDate  *time.Time `json:"startDate"`
		FinishDate *time.Time `json:"finishDate"`
		TimeFrame  string     `json:"timeFrame"`
	} `json:"attributes"`
}

func (j iterationJSON) iteration() Iteration {
	it := Iteration{ID: j.ID, Name: j.Name, Path: j.Path, TimeFrame: j.Attributes.TimeFrame}
	if j.Attributes.StartDate != nil {
		it.Start = *j.Attributes.StartDate
	}
	if j.Attributes.FinishDate != nil {
		it.Finish = *j.Attributes.FinishDate
	}
	return it
}

// ListIterations returns the iterations the project's default team works in.
func (c *Client) ListIterations(ctx context.Context, project string) ([]Iteration, error) {
	if err := checkProject(project); err != nil {
		return nil, err
	}
	var resp struct{ Value []iterationJSON }
	if err := c.get(ctx, c.url(url.PathEscape(project), "_apis", "work", "teamsettings", "iterations"), nil, &resp); err != nil {
		return nil, err
	}
	out := make([]Iteration, 0, len(resp.Value))
	for _, v := range resp.Value {
		out = append(out, v.iteration())
	}
	return out, nil
}

// TeamDefaults reads the default team's area (team field values) and current
// iteration. Calls without a team segment address the project's default team.
func (c *Client) TeamDefaults(ctx context.Context, project string) (TeamDefaults, error) {
	if err := checkProject(project); err != nil {
		return TeamDefaults{}, err
	}
	p := url.PathEscape(project)
	var proj struct {
		DefaultTeam struct{ Name string } `json:"defaultTeam"`
	}
	var tfv struct {
		DefaultValue string `json:"defaultValue"`
	}
	var cur struct{ Value []iterationJSON }
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return c.get(gctx, c.url("_apis", "projects", p), nil, &proj) })
	g.Go(func() error {
		return c.get(gctx, c.url(p, "_apis", "work", "teamsettings", "teamfieldvalues"), nil, &tfv)
	})
	g.Go(func() error {
		return c.get(gctx, c.url(p, "_apis", "work", "teamsettings", "iterations"), url.Values{"$timeframe": {"current"}}, &cur)
	})
	if err := g.Wait(); err != nil {
		return TeamDefaults{}, err
	}
	td := TeamDefaults{Team: proj.DefaultTeam.Name, DefaultArea: tfv.DefaultValue}
	if len(cur.Value) > 0 {
		it := cur.Value[0].iteration()
		td.CurrentIteration = &it
	}
	return td, nil
}

const maxTeams = 50

// ListMembers returns the members of the project's teams, deduplicated by id
// and sorted by display name. It needs only vso.project, unlike SearchIdentities.
func (c *Client) ListMembers(ctx context.Context, project string) ([]Identity, error) {
	if err := checkProject(project); err != nil {
		return nil, err
	}
	p := url.PathEscape(project)
	var teams struct {
		Value []struct{ ID, Name string }
	}
	if err := c.get(ctx, c.url("_apis", "projects", p, "teams"), url.Values{"$top": {strconv.Itoa(maxTeams)}}, &teams); err != nil {
		return nil, err
	}
	var mu sync.Mutex
	seen := map[string]Identity{}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, t := range teams.Value {
		if t.ID == "" {
			continue
		}
		g.Go(func() error {
			var m struct {
				Value []struct {
					Identity struct {
						ID          string `json:"id"`
						DisplayName string `json:"displayName"`
						UniqueName  string `json:"uniqueName"`
						IsContainer bool   `json:"isContainer"`
					} `json:"identity"`
				}
			}
			if err := c.get(gctx, c.url("_apis", "projects", p, "teams", url.PathEscape(t.ID), "members"), url.Values{"$top": {"500"}}, &m); err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			for _, v := range m.Value {
				id := v.Identity
				if id.ID == "" || id.IsContainer {
					continue
				}
				seen[id.ID] = Identity{ID: id.ID, DisplayName: id.DisplayName, UniqueName: id.UniqueName}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := make([]Identity, 0, len(seen))
	for _, v := range seen {
		out = append(out, v)
	}
	sortIdentities(out)
	return out, nil
}

func sortIdentities(out []Identity) {
	sort.Slice(out, func(i, j int) bool {
		a, b := strings.ToLower(out[i].DisplayName), strings.ToLower(out[j].DisplayName)
		if a != b {
			return a < b
		}
		return out[i].UniqueName < out[j].UniqueName
	})
}

// SearchIdentities searches the whole organization for people. It needs the
// vso.identity scope, which the bot requests only when configured to.
func (c *Client) SearchIdentities(ctx context.Context, query string) ([]Identity, error) {
	query = strings.TrimSpace(query)
	if query == "" || utf8.RuneCountInString(query) > 100 || hasControl(query) {
		return nil, apperr.New(apperr.Invalid, "Please type part of a name or email address (at most 100 characters).")
	}
	q := url.Values{"searchFilter": {"General"}, "filterValue": {query}, "queryMembership": {"none"}}
	var resp struct {
		Value []struct {
			ID                  string `json:"id"`
			ProviderDisplayName string `json:"providerDisplayName"`
			CustomDisplayName   string `json:"customDisplayName"`
			IsActive            *bool  `json:"isActive"`
			IsContainer         bool   `json:"isContainer"` // a group: never a person to assign
			Properties          map[string]struct {
				Value any `json:"$value"`
			} `json:"properties"`
		}
	}
	if err := c.do(ctx, request{method: http.MethodGet, url: c.vssps + "/_apis/identities", apiVersion: apiVersion, query: q, idempotent: true}, &resp); err != nil {
		return nil, err
	}
	out := []Identity{}
	for _, v := range resp.Value {
		if v.ID == "" || v.IsContainer || (v.IsActive != nil && !*v.IsActive) {
			continue
		}
		name := v.CustomDisplayName
		if name == "" {
			name = v.ProviderDisplayName
		}
		unique := ""
		for _, k := range []string{"Mail", "Account"} {
			if s, ok := v.Properties[k].Value.(string); ok && s != "" {
				unique = s
				break
			}
		}
		out = append(out, Identity{ID: v.ID, DisplayName: name, UniqueName: unique})
	}
	sortIdentities(out)
	return out, nil
}

type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

type workItemJSON struct {
	ID     int            `json:"id"`
	Rev    int            `json:"rev"`
	Fields map[string]any `json:"fields"`
	Links  struct {
		HTML struct {
			Href string `json:"href"`
		} `json:"html"`
	} `json:"_links"`
}

func (c *Client) workItem(j workItemJSON) *WorkItem {
	str := func(k string) string { s, _ := j.Fields[k].(string); return s }
	w := &WorkItem{ID: j.ID, Rev: j.Rev, Type: str("System.WorkItemType"), Title: str("System.Title"), State: str("System.State"), Project: str("System.TeamProject"), URL: j.Links.HTML.Href}
	if w.URL == "" && w.Project != "" {
		w.URL = c.org.URL + "/" + url.PathEscape(w.Project) + "/_workitems/edit/" + strconv.Itoa(j.ID)
	}
	return w
}

// ValidMarker reports whether m can be stored as a marker tag and matched by WIQL.
func ValidMarker(m string) bool {
	if m == "" || len(m) > 64 {
		return false
	}
	for i := 0; i < len(m); i++ {
		ch := m[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_' || ch == '.') {
			return false
		}
	}
	return true
}

// ShortenTitle fits s into Azure DevOps' 255-character title, cutting at a word
// boundary and marking the cut with "…". It reports whether it cut.
func ShortenTitle(s string) (string, bool) {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= MaxTitleLen {
		return s, false
	}
	cut := r[:MaxTitleLen-1]
	if i := strings.LastIndexFunc(string(cut), unicode.IsSpace); i > 0 && utf8.RuneCountInString(string(cut)[:i]) > MaxTitleLen/2 {
		cut = []rune(strings.TrimRightFunc(string(cut)[:i], func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) }))
	}
	return string(cut) + "…", true
}

// TextToHTML escapes plain text for Azure DevOps' HTML fields, keeping line breaks.
func TextToHTML(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = html.EscapeString(l)
	}
	return strings.Join(lines, "<br>")
}

// CreateWorkItem creates one work item. It is sent exactly once: if the answer is
// lost, call FindByMarker before trying again, or the item may exist twice.
func (c *Client) CreateWorkItem(ctx context.Context, w NewWorkItem) (*WorkItem, error) {
	if err := checkProject(w.Project); err != nil {
		return nil, err
	}
	w.Type = strings.TrimSpace(w.Type)
	if w.Type == "" || len(w.Type) > 128 || strings.ContainsAny(w.Type, "/\\?#%") || hasControl(w.Type) {
		return nil, apperr.New(apperr.Invalid, "Please pick a work item type.")
	}
	title, cut := ShortenTitle(w.Title)
	if title == "" {
		return nil, apperr.New(apperr.Invalid, "A work item needs a title.")
	}
	if w.Marker != "" && !ValidMarker(w.Marker) {
		return nil, apperr.New(apperr.Internal, "")
	}
	desc := strings.TrimSpace(w.Description)
	if cut {
		full := strings.Join(strings.Fields(w.Title), " ")
		if desc == "" {
			desc = full
		} else {
			desc = full + "\n\n" + desc
		}
	}
	ops := []patchOp{{Op: "add", Path: "/fields/System.Title", Value: title}}
	if desc != "" {
		ops = append(ops, patchOp{Op: "add", Path: "/fields/System.Description", Value: TextToHTML(desc)})
	}
	if v := strings.TrimSpace(w.AssignedTo); v != "" {
		ops = append(ops, patchOp{Op: "add", Path: "/fields/System.AssignedTo", Value: v})
	}
	if v := strings.TrimSpace(w.AreaPath); v != "" {
		ops = append(ops, patchOp{Op: "add", Path: "/fields/System.AreaPath", Value: v})
	}
	if v := strings.TrimSpace(w.IterationPath); v != "" {
		ops = append(ops, patchOp{Op: "add", Path: "/fields/System.IterationPath", Value: v})
	}
	var tags []string
	for _, t := range w.Tags {
		t = strings.TrimSpace(strings.NewReplacer(";", " ", ",", " ").Replace(t))
		if t != "" && !hasControl(t) && len(t) <= 100 {
			tags = append(tags, t)
		}
	}
	if w.Marker != "" {
		tags = append(tags, MarkerTagPrefix+w.Marker)
	}
	if len(tags) > 0 {
		ops = append(ops, patchOp{Op: "add", Path: "/fields/System.Tags", Value: strings.Join(tags, "; ")})
	}
	extra, err := c.extraOps(w)
	if err != nil {
		return nil, err
	}
	ops = append(ops, extra...)
	var resp workItemJSON
	err = c.do(ctx, request{
		method: http.MethodPost, url: c.url(url.PathEscape(w.Project), "_apis", "wit", "workitems", "$"+url.PathEscape(w.Type)),
		apiVersion: apiVersion, body: ops, contentType: "application/json-patch+json",
	}, &resp)
	if err != nil {
		return nil, err
	}
	return c.workItem(resp), nil
}

// wiqlString quotes s as a WIQL string literal: single quotes are doubled and
// control characters dropped, so user text can never end the literal.
func wiqlString(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func (c *Client) wiql(ctx context.Context, project, query string, top int) ([]int, error) {
	var resp struct {
		WorkItems []struct {
			ID int `json:"id"`
		} `json:"workItems"`
	}
	err := c.do(ctx, request{
		method: http.MethodPost, url: c.url(url.PathEscape(project), "_apis", "wit", "wiql"), apiVersion: apiVersion,
		query: url.Values{"$top": {strconv.Itoa(top)}}, body: map[string]string{"query": query}, idempotent: true,
	}, &resp)
	if err != nil {
		return nil, err
	}
	ids := make([]int, 0, len(resp.WorkItems))
	for _, w := range resp.WorkItems {
		ids = append(ids, w.ID)
	}
	return ids, nil
}

// FindByMarker finds the work item CreateWorkItem made with marker, to settle a
// create whose answer was lost. NotFound means the create did not happen.
func (c *Client) FindByMarker(ctx context.Context, project, marker string) (*WorkItem, error) {
	if err := checkProject(project); err != nil {
		return nil, err
	}
	if !ValidMarker(marker) {
		return nil, apperr.New(apperr.Invalid, "That reference is not valid.")
	}
	q := "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project AND [System.Tags] CONTAINS " +
		wiqlString(MarkerTagPrefix+marker) + " ORDER BY [System.Id] ASC"
	ids, err := c.wiql(ctx, project, q, 1)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, apperr.New(apperr.NotFound, "No work item was created for this yet.")
	}
	items, err := c.batch(ctx, project, ids[:1])
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, apperr.New(apperr.NotFound, "No work item was created for this yet.")
	}
	return &items[0], nil
}

// AddComment adds text (plain; escaped to HTML) to a work item's discussion. Never retried.
func (c *Client) AddComment(ctx context.Context, project string, workItemID int, text string) (*Comment, error) {
	if err := checkProject(project); err != nil {
		return nil, err
	}
	if workItemID <= 0 {
		return nil, apperr.New(apperr.Invalid, "That is not a work item number.")
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, apperr.New(apperr.Invalid, "A comment needs some text.")
	}
	var resp struct {
		ID         int    `json:"id"`
		WorkItemID int    `json:"workItemId"`
		Text       string `json:"text"`
		URL        string `json:"url"`
	}
	err := c.do(ctx, request{
		method: http.MethodPost, url: c.url(url.PathEscape(project), "_apis", "wit", "workItems", strconv.Itoa(workItemID), "comments"),
		apiVersion: commentAPIVersion, body: map[string]string{"text": TextToHTML(text)},
	}, &resp)
	if err != nil {
		return nil, err
	}
	if resp.WorkItemID == 0 {
		resp.WorkItemID = workItemID
	}
	return &Comment{ID: resp.ID, WorkItemID: resp.WorkItemID, Text: resp.Text, URL: resp.URL}, nil
}

// FindCommentByMarker looks through a work item's newest comments (up to 200)
// for one that carries marker, so that after an ambiguous failure (the comment
// was sent, the answer lost) the caller can tell whether it landed. NotFound
// when none does.
func (c *Client) FindCommentByMarker(ctx context.Context, project string, workItemID int, marker string) (*Comment, error) {
	if err := checkProject(project); err != nil {
		return nil, err
	}
	if workItemID <= 0 || !ValidMarker(marker) {
		return nil, apperr.New(apperr.Invalid, "That is not a work item number.")
	}
	var resp struct {
		Comments []struct {
			ID         int    `json:"id"`
			WorkItemID int    `json:"workItemId"`
			Text       string `json:"text"`
			URL        string `json:"url"`
		} `json:"comments"`
	}
	err := c.do(ctx, request{
		method: http.MethodGet, url: c.url(url.PathEscape(project), "_apis", "wit", "workItems", strconv.Itoa(workItemID), "comments"),
		apiVersion: commentAPIVersion, query: url.Values{"$top": {"200"}, "order": {"desc"}}, idempotent: true,
	}, &resp)
	if err != nil {
		return nil, err
	}
	for _, cm := range resp.Comments {
		if strings.Contains(cm.Text, marker) {
			return &Comment{ID: cm.ID, WorkItemID: workItemID, Text: cm.Text, URL: cm.URL}, nil
		}
	}
	return nil, apperr.New(apperr.NotFound, "No comment with that reference.")
}

// GetWorkItem reads one work item by number, in whatever project it lives.
func (c *Client) GetWorkItem(ctx context.Context, id int) (*WorkItem, error) {
	if id <= 0 {
		return nil, apperr.New(apperr.Invalid, "That is not a work item number.")
	}
	var resp workItemJSON
	if err := c.get(ctx, c.url("_apis", "wit", "workitems", strconv.Itoa(id)), url.Values{"$expand": {"links"}}, &resp); err != nil {
		return nil, err
	}
	return c.workItem(resp), nil
}

var batchFields = []string{"System.Id", "System.Title", "System.WorkItemType", "System.State", "System.TeamProject"}

func (c *Client) batch(ctx context.Context, project string, ids []int) ([]WorkItem, error) {
	var resp struct{ Value []workItemJSON }
	err := c.do(ctx, request{
		method: http.MethodPost, url: c.url(url.PathEscape(project), "_apis", "wit", "workitemsbatch"), apiVersion: apiVersion,
		body: map[string]any{"ids": ids, "fields": batchFields, "errorPolicy": "omit"}, idempotent: true,
	}, &resp)
	if err != nil {
		return nil, err
	}
	out := make([]WorkItem, 0, len(resp.Value))
	for _, v := range resp.Value {
		if v.ID == 0 {
			continue
		}
		out = append(out, *c.workItem(v))
	}
	return out, nil
}

// SearchWorkItems finds work items for a comment target: "#123" or "123" reads
// that item; other text matches titles containing every word, newest change first.
func (c *Client) SearchWorkItems(ctx context.Context, project, query string, top int) ([]WorkItem, error) {
	if err := checkProject(project); err != nil {
		return nil, err
	}
	if top <= 0 || top > 50 {
		top = 20
	}
	query = strings.TrimSpace(query)
	if n, err := strconv.Atoi(strings.TrimPrefix(query, "#")); err == nil && n > 0 && !strings.HasPrefix(query, "+") {
		w, err := c.GetWorkItem(ctx, n)
		if apperr.Is(err, apperr.NotFound) {
			return []WorkItem{}, nil
		}
		if err != nil {
			return nil, err
		}
		if !strings.EqualFold(w.Project, project) {
			return []WorkItem{}, nil
		}
		return []WorkItem{*w}, nil
	}
	words := strings.Fields(query)
	if len(words) == 0 || utf8.RuneCountInString(query) > 200 {
		return nil, apperr.New(apperr.Invalid, "Type a work item number or a few words of its title.")
	}
	if len(words) > 8 {
		words = words[:8]
	}
	var b strings.Builder
	b.WriteString("SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project")
	for _, w := range words {
		b.WriteString(" AND [System.Title] CONTAINS ")
		b.WriteString(wiqlString(w))
	}
	b.WriteString(" ORDER BY [System.ChangedDate] DESC")
	ids, err := c.wiql(ctx, project, b.String(), top)
	if err != nil {
		return nil, err
	}
	if len(ids) > top {
		ids = ids[:top]
	}
	if len(ids) == 0 {
		return []WorkItem{}, nil
	}
	return c.batch(ctx, project, ids)
}
