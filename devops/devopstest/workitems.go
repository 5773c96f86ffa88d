package devopstest

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sally-devops/devopsbot/devops"
)

var readOnly = map[string]bool{
	"System.Id": true, "System.Rev": true, "System.CreatedDate": true, "System.ChangedDate": true, "System.CreatedBy": true,
	"System.ChangedBy": true, "System.WorkItemType": true, "System.TeamProject": true, "System.AuthorizedDate": true, "System.Watermark": true,
}

func areaPaths(p *project) map[string]bool {
	out := map[string]bool{}
	var walk func(n *node, prefix string)
	walk = func(n *node, prefix string) {
		path := n.Name
		if prefix != "" {
			path = prefix + `\` + n.Name
		}
		out[strings.ToLower(path)] = true
		for _, c := range n.Children {
			walk(c, path)
		}
	}
	walk(p.Areas, "")
	return out
}

func (o *Org) resolvePerson(v string) (devops.Identity, bool) {
	v = strings.TrimSpace(v)
	if i := strings.LastIndexByte(v, '<'); i >= 0 && strings.HasSuffix(v, ">") {
		v = v[i+1 : len(v)-1]
	}
	var hit []devops.Identity
	for _, p := range o.people {
		if strings.EqualFold(p.UniqueName, v) || strings.EqualFold(p.ID, v) || strings.EqualFold(p.DisplayName, v) {
			hit = append(hit, p)
		}
	}
	if len(hit) != 1 {
		return devops.Identity{}, false
	}
	return hit[0], true
}

func ruleError(w http.ResponseWriter, field, codes string) {
	vssError(w, 400, "RuleValidationException", "TF401320: Rule Error for field "+field+". Error code: "+codes, 600171)
}

func (o *Org) create(w http.ResponseWriter, r *http.Request, rt *route) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json-patch+json" {
		vssError(w, 415, "VssRequestContentTypeNotSupportedException", "The request indicated a Content-Type of \""+r.Header.Get("Content-Type")+"\" for method type \"POST\" which is not supported. Valid content types for this method are: application/json-patch+json.", 0)
		return
	}
	typeName := strings.TrimPrefix(rt.raw[2], "$")
	wt := o.findType(typeName)
	if wt == nil || wt.Disabled {
		vssError(w, 404, "WorkItemTypeNotFoundException", "VS402323: Work item type "+typeName+" does not exist in project "+rt.project.Name+" or you do not have permission to access it.", 0)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return
	}
	var ops []struct {
		Op    string          `json:"op"`
		Path  string          `json:"path"`
		From  *string         `json:"from"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(body, &ops); err != nil || len(ops) == 0 {
		vssError(w, 400, "VssPropertyValidationException", "You must pass a valid patch document in the body of the request.", 0)
		return
	}
	fields := map[string]any{}
	var rels []FakeRelation
	for _, op := range ops {
		if op.Op != "add" && op.Op != "replace" {
			vssError(w, 400, "VssPropertyValidationException", "The operation "+op.Op+" is not supported for work item creation.", 0)
			return
		}
		if op.Path == "/relations/-" && op.Op == "add" {
			var rel struct {
				Rel        string         `json:"rel"`
				URL        string         `json:"url"`
				Attributes map[string]any `json:"attributes"`
			}
			if err := json.Unmarshal(op.Value, &rel); err != nil || rel.Rel == "" || rel.URL == "" {
				vssError(w, 400, "VssPropertyValidationException", "A relation needs rel and url.", 0)
				return
			}
			c, _ := rel.Attributes["comment"].(string)
			rels = append(rels, FakeRelation{Rel: rel.Rel, URL: rel.URL, Comment: c})
			continue
		}
		name, ok := strings.CutPrefix(op.Path, "/fields/")
		if !ok {
			vssError(w, 400, "VssPropertyValidationException", "The path "+op.Path+" is not valid for a work item patch document.", 0)
			return
		}
		if readOnly[name] {
			vssError(w, 400, "WorkItemFieldInvalidException", "TF401326: Invalid field status 'ReadOnly' for field '"+name+"'.", 600178)
			return
		}
		var v any
		if err := json.Unmarshal(op.Value, &v); err != nil {
			vssError(w, 400, "VssPropertyValidationException", "The value for "+name+" is not valid JSON.", 0)
			return
		}
		fields[name] = v
	}
	str := func(k string) (string, bool) {
		v, present := fields[k]
		if !present {
			return "", true
		}
		s, ok := v.(string)
		return s, ok
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	title, ok := str("System.Title")
	if !ok || strings.TrimSpace(title) == "" {
		ruleError(w, "Title", "Required, InvalidEmpty, LimitedToValues, AllowsOldValue, InvalidNotEmpty")
		return
	}
	if utf8.RuneCountInString(title) > 255 {
		ruleError(w, "Title", "InvalidTooLong")
		return
	}
	area, ok := str("System.AreaPath")
	if !ok || (area != "" && !areaPaths(rt.project)[strings.ToLower(area)]) {
		vssError(w, 400, "WorkItemFieldInvalidTreeNameException", "TF401347: Invalid tree name given for work item -1, field 'System.AreaPath'.", 600171)
		return
	}
	if area == "" {
		fields["System.AreaPath"] = rt.project.Name
	}
	iter, ok := str("System.IterationPath")
	valid := strings.EqualFold(iter, rt.project.Name) || iter == ""
	for _, it := range rt.project.Iterations {
		valid = valid || strings.EqualFold(it.Path, iter)
	}
	if !ok || !valid {
		vssError(w, 400, "WorkItemFieldInvalidTreeNameException", "TF401347: Invalid tree name given for work item -1, field 'System.IterationPath'.", 600171)
		return
	}
	if iter == "" {
		fields["System.IterationPath"] = rt.project.Name
	}
	if a, present := fields["System.AssignedTo"]; present {
		s, _ := a.(string)
		id, ok := o.resolvePerson(s)
		if !ok {
			ruleError(w, "Assigned To", "ValidValues, HasValues, LimitedToValues, AllowsOldValue, InvalidUnknownIdentities")
			return
		}
		fields["System.AssignedTo"] = id.UniqueName
	}
	if !o.checkFields(w, wt, fields) {
		return
	}
	for _, rel := range rels {
		if !o.checkRelation(w, rel) {
			return
		}
	}
	id := o.nextID
	o.nextID++
	wi := &FakeWorkItem{ID: id, Rev: 1, Project: rt.project.Name, Type: wt.Name, Fields: fields, Relations: rels}
	fields["System.State"] = "New"
	fields["System.CreatedBy"] = rt.identity.UniqueName
	o.items[id] = wi
	if o.dropAfter > 0 {
		o.dropAfter--
		dropConnection(w)
		return
	}
	writeJSON(w, o.workItemJSON(wi, true))
}

// dropConnection cuts the TCP connection without an answer.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			c.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func (o *Org) workItemJSON(wi *FakeWorkItem, links bool) map[string]any {
	f := map[string]any{}
	for k, v := range wi.Fields {
		f[k] = v
	}
	f["System.Id"] = wi.ID
	f["System.WorkItemType"] = wi.Type
	f["System.TeamProject"] = wi.Project
	if a, ok := wi.Fields["System.AssignedTo"].(string); ok {
		if id, ok := o.resolvePerson(a); ok {
			f["System.AssignedTo"] = identityRef(o, id)
		}
	}
	delete(f, "System.CreatedBy")
	m := map[string]any{"id": wi.ID, "rev": wi.Rev, "fields": f, "url": o.base() + "/_apis/wit/workItems/" + strconv.Itoa(wi.ID)}
	if len(wi.Relations) > 0 {
		var rels []map[string]any
		for _, r := range wi.Relations {
			rels = append(rels, map[string]any{"rel": r.Rel, "url": r.URL, "attributes": map[string]any{"isLocked": false, "comment": r.Comment}})
		}
		m["relations"] = rels
	}
	if links {
		m["_links"] = map[string]any{
			"self": map[string]any{"href": o.base() + "/_apis/wit/workItems/" + strconv.Itoa(wi.ID)},
			"html": map[string]any{"href": o.WorkItemPage(wi.Project, wi.ID)},
		}
	}
	return m
}

func notFoundItem(w http.ResponseWriter, id string) {
	vssError(w, 404, "WorkItemUnauthorizedAccessException", "TF401232: Work item "+id+" does not exist, or you do not have permissions to read it.", 600122)
}

func (o *Org) getWorkItem(w http.ResponseWriter, rt *route) {
	id, err := strconv.Atoi(rt.raw[2])
	if err != nil || id <= 0 {
		vssError(w, 400, "ArgumentException", "The id "+rt.raw[2]+" is not valid.", 0)
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	wi := o.items[id]
	if wi == nil || (rt.project != nil && !strings.EqualFold(wi.Project, rt.project.Name)) {
		notFoundItem(w, rt.raw[2])
		return
	}
	writeJSON(w, o.workItemJSON(wi, true))
}

func (o *Org) batch(w http.ResponseWriter, r *http.Request, rt *route) {
	var req struct {
		IDs         []int    `json:"ids"`
		Fields      []string `json:"fields"`
		ErrorPolicy string   `json:"errorPolicy"`
		Expand      string   `json:"$expand"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil || len(req.IDs) == 0 || len(req.IDs) > 200 {
		vssError(w, 400, "VssPropertyValidationException", "The ids list must hold 1 to 200 work item ids.", 0)
		return
	}
	if !batchRequestValid(w, req.ErrorPolicy, req.Expand, len(req.Fields) > 0) {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	v := []map[string]any{}
	for _, id := range req.IDs {
		wi := o.items[id]
		if wi == nil {
			if !strings.EqualFold(req.ErrorPolicy, "omit") {
				notFoundItem(w, strconv.Itoa(id))
				return
			}
			v = append(v, nil)
			continue
		}
		full := o.workItemJSON(wi, false)
		if len(req.Fields) > 0 {
			sel := map[string]any{}
			for _, f := range req.Fields {
				if x, ok := full["fields"].(map[string]any)[f]; ok {
					sel[f] = x
				}
			}
			full["fields"] = sel
		}
		v = append(v, full)
	}
	writeJSON(w, map[string]any{"count": len(v), "value": v})
}

func (o *Org) addComment(w http.ResponseWriter, r *http.Request, rt *route) {
	id, ok := workItemIDOf(w, rt)
	if !ok {
		return
	}
	var req struct {
		Text *string `json:"text"`
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		vssError(w, 415, "VssRequestContentTypeNotSupportedException", "Valid content types for this method are: application/json.", 0)
		return
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil || req.Text == nil || strings.TrimSpace(*req.Text) == "" {
		vssError(w, 400, "VssPropertyValidationException", "Comment text cannot be empty.", 0)
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	wi := o.itemIn(rt, id)
	if wi == nil {
		notFoundItem(w, rt.raw[2])
		return
	}
	c := devops.Comment{ID: o.nextCmt, WorkItemID: id, Text: *req.Text, URL: o.base() + "/" + rt.project.ID + "/_apis/wit/workItems/" + strconv.Itoa(id) + "/comments/" + strconv.Itoa(o.nextCmt)}
	o.nextCmt++
	o.comments[id] = append(o.comments[id], c)
	wi.Rev++
	if o.dropAfter > 0 {
		o.dropAfter--
		dropConnection(w)
		return
	}
	writeJSON(w, map[string]any{"workItemId": id, "id": c.ID, "version": 1, "text": c.Text, "renderedText": c.Text, "format": "html",
		"createdBy": identityRef(o, rt.identity), "isDeleted": false, "url": c.URL})
}

// workItemIDOf reads the work item id of a comments route, answering 400 itself.
func workItemIDOf(w http.ResponseWriter, rt *route) (int, bool) {
	id, err := strconv.Atoi(rt.raw[2])
	if err != nil || id <= 0 {
		vssError(w, 400, "ArgumentException", "The work item id is not valid.", 0)
		return 0, false
	}
	return id, true
}

// itemIn returns work item id if it lives in the route's project; o.mu is held.
func (o *Org) itemIn(rt *route, id int) *FakeWorkItem {
	wi := o.items[id]
	if wi == nil || !strings.EqualFold(wi.Project, rt.project.Name) {
		return nil
	}
	return wi
}

// listComments answers Comments - Get Comments: newest first when order=desc,
// at most $top (default 200).
func (o *Org) listComments(w http.ResponseWriter, r *http.Request, rt *route) {
	id, ok := workItemIDOf(w, rt)
	if !ok {
		return
	}
	top := 200
	if v := r.URL.Query().Get("$top"); v != "" {
		var err error
		if top, err = strconv.Atoi(v); err != nil || top <= 0 || top > 200 {
			vssError(w, 400, "ArgumentException", "$top must be between 1 and 200.", 0)
			return
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	wi := o.itemIn(rt, id)
	if wi == nil {
		notFoundItem(w, rt.raw[2])
		return
	}
	all := o.comments[id]
	out := []map[string]any{}
	for i := range all {
		c := all[i]
		if r.URL.Query().Get("order") == "desc" {
			c = all[len(all)-1-i]
		}
		if len(out) == top {
			break
		}
		out = append(out, map[string]any{"workItemId": id, "id": c.ID, "version": 1, "text": c.Text, "isDeleted": false, "url": c.URL})
	}
	writeJSON(w, map[string]any{"totalCount": len(all), "count": len(out), "comments": out})
}

// queryMembership is the QueryMembership enum of the identities spec.
var queryMembership = map[string]bool{"none": true, "direct": true, "expanded": true, "expandedUp": true, "expandedDown": true}

func (o *Org) identities(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("searchFilter") != "General" || strings.TrimSpace(q.Get("filterValue")) == "" {
		vssError(w, 400, "ArgumentException", "searchFilter and filterValue are required.", 0)
		return
	}
	// The spec (ims/7.1/identities.json) spells the QueryMembership enum in
	// lower case; a client that sends another spelling is off the contract.
	if m, ok := q["queryMembership"]; ok && (len(m) != 1 || !queryMembership[m[0]]) {
		vssError(w, 400, "ArgumentException", "queryMembership must be one of none, direct, expanded, expandedUp, expandedDown.", 0)
		return
	}
	// The identities API needs vso.identity (per the spec's security section);
	// without it Azure DevOps answers 401 TF400813.
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	o.mu.Lock()
	granted, scoped := o.scopes[tok]
	who := o.tokens[tok]
	o.mu.Unlock()
	if scoped && !devops.HasIdentityScope(granted) {
		vssError(w, 401, "UnauthorizedRequestException", "TF400813: The user '"+who.ID+"' is not authorized to access this resource.", 0)
		return
	}
	needle := strings.ToLower(q.Get("filterValue"))
	v := []map[string]any{}
	str := func(s string) map[string]any { return map[string]any{"$type": "System.String", "$value": s} }
	o.mu.Lock()
	for _, p := range o.people {
		if strings.Contains(strings.ToLower(p.DisplayName), needle) || strings.Contains(strings.ToLower(p.UniqueName), needle) {
			v = append(v, map[string]any{"id": p.ID, "descriptor": map[string]any{"identityType": "Microsoft.IdentityModel.Claims.ClaimsIdentity", "identifier": o.tenant + "\\" + p.UniqueName},
				"subjectDescriptor": "aad." + p.ID, "providerDisplayName": p.DisplayName, "isActive": true, "isContainer": false, "members": []any{}, "memberOf": []any{},
				"properties": map[string]any{"Mail": str(p.UniqueName), "Account": str(p.UniqueName), "SchemaClassName": str("User")}})
		}
	}
	// Teams are groups; the General search finds them too.
	for _, pr := range o.projects {
		for _, t := range pr.Teams {
			if name := "[" + pr.Name + "]\\" + t.Name; strings.Contains(strings.ToLower(name), needle) {
				v = append(v, map[string]any{"id": t.ID, "descriptor": map[string]any{"identityType": "Microsoft.TeamFoundation.Identity", "identifier": "S-1-9-1551374245-" + t.ID},
					"subjectDescriptor": "vssgp." + t.ID, "providerDisplayName": name, "isActive": true, "isContainer": true, "members": []any{}, "memberOf": []any{},
					"properties": map[string]any{"Account": str(name), "SchemaClassName": str("Group"), "Description": str("")}})
			}
		}
	}
	o.mu.Unlock()
	writeJSON(w, map[string]any{"count": len(v), "value": v})
}
