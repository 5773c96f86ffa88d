package devops

import (
	"context"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sally-devops/devopsbot/apperr"
)

// Relation types the bot writes (wit/7.1 workItemRelationTypes).
const (
	RelHyperlink = "Hyperlink"
	RelParent    = "System.LinkTypes.Hierarchy-Reverse"
)

// parentCategories are the backlog levels a new item may hang under. Through
// the categories, a process's own names (Product Backlog Item, Requirement, a
// custom type on a backlog level) count as well as Agile's.
var parentCategories = []string{"Microsoft.EpicCategory", "Microsoft.FeatureCategory", "Microsoft.RequirementCategory"}

// extraOps are the JSON Patch operations for w's fields beyond the form's own
// and for its relations. Every value was typed or chosen by someone: the field
// names must look like reference names and may not override ours, the link
// must be https.
func (c *Client) extraOps(w NewWorkItem) ([]patchOp, error) {
	var ops []patchOp
	refs := make([]string, 0, len(w.Fields))
	for ref := range w.Fields {
		refs = append(refs, ref)
	}
	sort.Strings(refs) // a stable document: the same request twice is the same bytes
	for _, ref := range refs {
		v := strings.TrimSpace(w.Fields[ref])
		if !ValidFieldRef(ref) || formFields[ref] || strings.HasPrefix(ref, "System.") {
			return nil, apperr.New(apperr.Invalid, "The form sent a field this bot does not set ("+ref+").")
		}
		if v == "" {
			continue
		}
		if len(v) > maxFieldValueLen || hasControl(v) {
			return nil, apperr.New(apperr.Invalid, "The value of "+ref+" is too long or holds invisible characters.")
		}
		ops = append(ops, patchOp{Op: "add", Path: "/fields/" + ref, Value: v})
	}
	if w.ParentID < 0 {
		return nil, apperr.New(apperr.Invalid, "That is not a work item number.")
	}
	if w.ParentID > 0 {
		ops = append(ops, patchOp{Op: "add", Path: "/relations/-", Value: map[string]any{
			"rel": RelParent, "url": c.workItemAPIURL(w.ParentID),
		}})
	}
	if h := strings.TrimSpace(w.Hyperlink); h != "" {
		u, err := url.Parse(h)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || len(h) > 2048 || strings.ContainsAny(h, " \t\r\n") || hasControl(h) {
			return nil, apperr.New(apperr.Invalid, "The meeting link is not an https address.")
		}
		comment := strings.TrimSpace(w.HyperlinkComment)
		if utf8.RuneCountInString(comment) > 256 || hasControl(comment) {
			comment = ""
		}
		val := map[string]any{"rel": RelHyperlink, "url": h}
		if comment != "" {
			val["attributes"] = map[string]any{"comment": comment}
		}
		ops = append(ops, patchOp{Op: "add", Path: "/relations/-", Value: val})
	}
	return ops, nil
}

// workItemAPIURL is the REST address of a work item of this organization,
// which is what a work item link points to.
func (c *Client) workItemAPIURL(id int) string {
	return c.url("_apis", "wit", "workItems", strconv.Itoa(id))
}

// ParseParentRef reads the parent a person gave: "123", "#123", or a link to a
// work item (its page or its REST address). A link must be of this client's
// organization: a parent in another organization cannot be linked.
func (c *Client) ParseParentRef(s string) (int, error) {
	s = strings.TrimSpace(s)
	bad := apperr.New(apperr.Invalid, "The parent must be a work item number, like 123 or #123, or a link to a work item of "+c.org.Name+".")
	if s == "" || len(s) > 2048 || hasControl(s) {
		return 0, bad
	}
	if n, err := strconv.Atoi(strings.TrimPrefix(s, "#")); err == nil {
		if n <= 0 || strings.HasPrefix(s, "+") {
			return 0, bad
		}
		return n, nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil {
		return 0, bad
	}
	if !c.sameOrg(u) {
		return 0, apperr.New(apperr.Invalid, "That work item is in another organization; a parent must be in "+c.org.Name+".")
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	last := segs[len(segs)-1]
	n, err := strconv.Atoi(last)
	if err != nil || n <= 0 || len(segs) < 2 {
		return 0, bad
	}
	prev := strings.ToLower(segs[len(segs)-2])
	if prev != "edit" && prev != "workitems" {
		return 0, bad
	}
	return n, nil
}

// sameOrg reports whether u is an address of this client's organization, on
// its public URL (dev.azure.com/org, org.visualstudio.com) or the API base.
func (c *Client) sameOrg(u *url.URL) bool {
	for _, base := range []string{c.org.URL, c.base} {
		b, err := url.Parse(base)
		if err != nil || b.Host == "" {
			continue
		}
		if !strings.EqualFold(b.Scheme, u.Scheme) || !strings.EqualFold(b.Host, u.Host) {
			continue
		}
		bp := strings.ToLower(strings.Trim(b.Path, "/"))
		up := strings.ToLower(strings.Trim(u.Path, "/"))
		if bp == "" || up == bp || strings.HasPrefix(up, bp+"/") {
			return true
		}
	}
	return false
}

// ParentTypes are the work item types of project's epic, feature and
// requirement backlog levels, whatever the process calls them.
func (c *Client) ParentTypes(ctx context.Context, project string) ([]string, error) {
	if err := checkProject(project); err != nil {
		return nil, err
	}
	var cats struct {
		Value []struct {
			ReferenceName string `json:"referenceName"`
			WorkItemTypes []struct{ Name string }
		}
	}
	if err := c.get(ctx, "types.categories", c.url(url.PathEscape(project), "_apis", "wit", "workitemtypecategories"), nil, &cats); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, want := range parentCategories {
		for _, cat := range cats.Value {
			if cat.ReferenceName != want {
				continue
			}
			for _, t := range cat.WorkItemTypes {
				if t.Name != "" && !hasControl(t.Name) && !seen[strings.ToLower(t.Name)] {
					seen[strings.ToLower(t.Name)] = true
					out = append(out, t.Name)
				}
			}
		}
	}
	return out, nil
}

// SearchParents finds work items of project that a new item can hang under
// (types from ParentTypes): "#123" or "123" reads that item, other text
// matches titles containing every word, and "" lists the most recently
// changed ones. Newest change first, at most top.
func (c *Client) SearchParents(ctx context.Context, project string, types []string, query string, top int) ([]WorkItem, error) {
	if err := checkProject(project); err != nil {
		return nil, err
	}
	if len(types) == 0 {
		return []WorkItem{}, nil
	}
	var in strings.Builder
	in.WriteString(" AND [System.WorkItemType] IN (")
	for i, t := range types {
		if i > 0 {
			in.WriteString(", ")
		}
		in.WriteString(wiqlString(t))
	}
	in.WriteString(")")
	isParent := func(w *WorkItem) bool {
		for _, x := range types {
			if strings.EqualFold(x, w.Type) {
				return true
			}
		}
		return false
	}
	return c.search(ctx, project, query, in.String(), top, isParent)
}

// ParentTypes returns project's parent types (ParentTypes), cached per
// organization and project: a process is the same for every user.
func (m *MetadataCache) ParentTypes(ctx context.Context, c *Client, project string) ([]string, error) {
	key := "parenttypes\x00" + orgKey(c) + "\x00" + strings.ToLower(project)
	v, _, err := m.get(ctx, key, func(ctx context.Context) (any, error) { return c.ParentTypes(ctx, project) })
	if err != nil {
		return nil, err
	}
	return v.([]string), nil
}

// RecentParents are the most recently changed possible parents in project, as
// userKey sees them (kept per user: what one may read, another may not).
func (m *MetadataCache) RecentParents(ctx context.Context, userKey string, c *Client, project string, top int) ([]WorkItem, error) {
	types, err := m.ParentTypes(ctx, c, project)
	if err != nil {
		return nil, err
	}
	key := "parents\x00" + orgKey(c) + "\x00" + userKey + "\x00" + strings.ToLower(project)
	v, _, err := m.get(ctx, key, func(ctx context.Context) (any, error) { return c.SearchParents(ctx, project, types, "", top) })
	if err != nil {
		return nil, err
	}
	return v.([]WorkItem), nil
}
