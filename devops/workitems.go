package devops

// Work items: create (sent once, settled by marker), read, search.

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sally-devops/devopsbot/apperr"
)

// WorkItem is the part of a work item the bot shows. URL is the page for people.
type WorkItem struct {
	ID, Rev                          int
	Type, Title, State, URL, Project string
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
		op: "workitems.create", method: http.MethodPost, url: c.url(url.PathEscape(w.Project), "_apis", "wit", "workitems", "$"+url.PathEscape(w.Type)),
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
		op: "workitems.query", method: http.MethodPost, url: c.url(url.PathEscape(project), "_apis", "wit", "wiql"), apiVersion: apiVersion,
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

// GetWorkItem reads one work item by number, in whatever project it lives.
func (c *Client) GetWorkItem(ctx context.Context, id int) (*WorkItem, error) {
	if id <= 0 {
		return nil, apperr.New(apperr.Invalid, "That is not a work item number.")
	}
	var resp workItemJSON
	if err := c.get(ctx, "workitems.get", c.url("_apis", "wit", "workitems", strconv.Itoa(id)), url.Values{"$expand": {"links"}}, &resp); err != nil {
		return nil, err
	}
	return c.workItem(resp), nil
}

var batchFields = []string{"System.Id", "System.Title", "System.WorkItemType", "System.State", "System.TeamProject"}

func (c *Client) batch(ctx context.Context, project string, ids []int) ([]WorkItem, error) {
	var resp struct{ Value []workItemJSON }
	err := c.do(ctx, request{
		op: "workitems.batch", method: http.MethodPost, url: c.url(url.PathEscape(project), "_apis", "wit", "workitemsbatch"), apiVersion: apiVersion,
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
	if strings.TrimSpace(query) == "" {
		return nil, apperr.New(apperr.Invalid, "Type a work item number or a few words of its title.")
	}
	return c.search(ctx, project, query, "", top, func(*WorkItem) bool { return true })
}

// search is what SearchWorkItems and SearchParents share: "#123" or "123"
// reads that item (kept when it is in project and keep says so); other text
// matches titles containing every word (at most 8), with where (WIQL, its
// values quoted) as a further condition; newest change first, at most top.
func (c *Client) search(ctx context.Context, project, query, where string, top int, keep func(*WorkItem) bool) ([]WorkItem, error) {
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
		if !strings.EqualFold(w.Project, project) || !keep(w) {
			return []WorkItem{}, nil
		}
		return []WorkItem{*w}, nil
	}
	if utf8.RuneCountInString(query) > 200 {
		return nil, apperr.New(apperr.Invalid, "Type a work item number or a few words of its title.")
	}
	words := strings.Fields(query)
	if len(words) > 8 {
		words = words[:8]
	}
	var b strings.Builder
	b.WriteString("SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project")
	b.WriteString(where)
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
