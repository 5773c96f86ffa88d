package devopstest

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The fake's process is an inherited Agile process: Task got a due date,
// Features and Epics have Agile's target date, and one custom type,
// "Customer Request", has a required custom field with allowed values, a
// target date and a rule that asks for the customer when the severity is
// critical (a rule alwaysRequired does not show).

// CustomType is the fake's custom work item type; SeverityField its required
// custom field, with SeverityValues allowed; CustomerField is required by a
// rule only when the severity is SeverityCritical.
const (
	CustomType       = "Customer Request"
	SeverityField    = "Custom.Severity"
	CustomerField    = "Custom.Customer"
	SeverityCritical = "1 - Critical"
)

// SeverityValues are the allowed values of SeverityField.
var SeverityValues = []string{SeverityCritical, "2 - High", "3 - Medium", "4 - Low"}

type fieldKind int

const (
	kindString fieldKind = iota
	kindHTML
	kindDate
	kindIdentity
	kindTree
	kindComputed // the service's own (System.AreaId): never written
)

type fieldDef struct {
	Ref, Name string
	Required  bool
	Allowed   []string
	Default   string
	Kind      fieldKind
}

var commonFields = []fieldDef{
	{Ref: "System.Title", Name: "Title", Required: true},
	{Ref: "System.State", Name: "State", Required: true, Default: "New", Allowed: []string{"New", "Active", "Resolved", "Closed"}},
	{Ref: "System.Reason", Name: "Reason", Default: "New"},
	{Ref: "System.AreaId", Name: "Area ID", Required: true, Kind: kindComputed},
	{Ref: "System.IterationId", Name: "Iteration ID", Required: true, Kind: kindComputed},
	{Ref: "System.AreaPath", Name: "Area Path", Kind: kindTree},
	{Ref: "System.IterationPath", Name: "Iteration Path", Kind: kindTree},
	{Ref: "System.Description", Name: "Description", Kind: kindHTML},
	{Ref: "System.History", Name: "History", Kind: kindHTML},
	{Ref: "System.AssignedTo", Name: "Assigned To", Kind: kindIdentity},
	{Ref: "System.Tags", Name: "Tags"},
	{Ref: "Microsoft.VSTS.Common.Priority", Name: "Priority", Allowed: []string{"1", "2", "3", "4"}, Default: "2"},
}

// typeFields are each type's own fields besides commonFields.
var typeFields = map[string][]fieldDef{
	"Task":       {{Ref: "Microsoft.VSTS.Scheduling.DueDate", Name: "Due Date", Kind: kindDate}},
	"User Story": {{Ref: "Microsoft.VSTS.Common.ValueArea", Name: "Value Area", Required: true, Default: "Business", Allowed: []string{"Architectural", "Business"}}},
	"Feature":    {{Ref: "Microsoft.VSTS.Scheduling.TargetDate", Name: "Target Date", Kind: kindDate}},
	"Epic":       {{Ref: "Microsoft.VSTS.Scheduling.TargetDate", Name: "Target Date", Kind: kindDate}},
	CustomType: {
		{Ref: SeverityField, Name: "Severity", Required: true, Allowed: SeverityValues},
		{Ref: CustomerField, Name: "Customer"},
		{Ref: "Microsoft.VSTS.Scheduling.TargetDate", Name: "Target Date", Kind: kindDate},
	},
}

// fieldsOf are all fields of type t (canonical name), common ones first.
func fieldsOf(t string) []fieldDef {
	return append(append([]fieldDef(nil), commonFields...), typeFields[t]...)
}

func (o *Org) findType(name string) *workItemType {
	for i := range o.types {
		if strings.EqualFold(o.types[i].Name, name) {
			return &o.types[i]
		}
	}
	return nil
}

// typeFieldsRoute answers GET {project}/_apis/wit/workitemtypes/{type}/fields
// as wit/7.1 does: allowed values and defaults only with $expand=allowedValues or all.
func (o *Org) typeFieldsRoute(w http.ResponseWriter, r *http.Request, rt *route) {
	expand := strings.ToLower(r.URL.Query().Get("$expand"))
	switch expand {
	case "", "none", "allowedvalues", "dependentfields", "all":
	default:
		vssError(w, 400, "ArgumentException", "The value of $expand is not valid: use none, allowedValues, dependentFields or all.", 0)
		return
	}
	wt := o.findType(rt.raw[2])
	if wt == nil {
		vssError(w, 404, "WorkItemTypeNotFoundException", "VS402323: Work item type "+rt.raw[2]+" does not exist in project "+rt.project.Name+" or you do not have permission to access it.", 0)
		return
	}
	var v []map[string]any
	for _, f := range fieldsOf(wt.Name) {
		m := map[string]any{"alwaysRequired": f.Required, "referenceName": f.Ref, "name": f.Name, "url": o.base() + "/_apis/wit/fields/" + f.Ref, "helpText": ""}
		if expand == "allowedvalues" || expand == "all" {
			var def any
			if f.Default != "" {
				def = f.Default
			}
			allowed := []any{}
			for _, a := range f.Allowed {
				allowed = append(allowed, a)
			}
			if f.Kind == kindIdentity {
				for _, p := range o.people {
					allowed = append(allowed, map[string]any{"displayName": p.DisplayName, "id": p.ID, "uniqueName": p.UniqueName, "descriptor": "aad." + p.ID})
				}
			}
			m["defaultValue"], m["allowedValues"] = def, allowed
		}
		v = append(v, m)
	}
	writeJSON(w, map[string]any{"count": len(v), "value": v})
}

// FakeRelation is a relation stored on a fake work item.
type FakeRelation struct {
	Rel, URL string
	Comment  string
}

// checkFields applies the type's field rules to a create's fields, as the
// service would: unknown and computed fields, values outside the allowed
// ones, dates that are not dates, required fields left empty (with the
// custom type's conditional rule). It fills defaults. It answers the error
// itself and reports whether the fields pass. o.mu is held.
func (o *Org) checkFields(w http.ResponseWriter, wt *workItemType, fields map[string]any) bool {
	defs := map[string]fieldDef{}
	for _, f := range fieldsOf(wt.Name) {
		defs[f.Ref] = f
	}
	for name, v := range fields {
		f, ok := defs[name]
		if !ok {
			vssError(w, 400, "WorkItemFieldNotFoundException", "TF51535: Cannot find field "+name+".", 0)
			return false
		}
		if f.Kind == kindComputed {
			vssError(w, 400, "WorkItemFieldInvalidException", "TF401326: Invalid field status 'ReadOnly' for field '"+name+"'.", 600178)
			return false
		}
		s, isStr := v.(string)
		if n, isNum := v.(float64); isNum {
			s, isStr = strconv.FormatFloat(n, 'f', -1, 64), true
		}
		if len(f.Allowed) > 0 && (!isStr || !contains(f.Allowed, s)) {
			ruleError(w, f.Name, "HasValues, LimitedToValues, AllowsOldValue, InvalidListValue")
			return false
		}
		if f.Kind == kindDate {
			if _, err := time.Parse(time.RFC3339, s); err != nil || !isStr {
				if _, err := time.Parse("2006-01-02", s); err != nil || !isStr {
					ruleError(w, f.Name, "InvalidDate")
					return false
				}
			}
		}
	}
	for _, f := range defs {
		if _, present := fields[f.Ref]; !present && f.Default != "" && f.Ref != "System.State" && f.Ref != "System.Reason" {
			fields[f.Ref] = f.Default
		}
	}
	for _, f := range defs {
		if !f.Required || f.Kind == kindComputed || f.Default != "" {
			continue
		}
		if s, _ := fields[f.Ref].(string); strings.TrimSpace(s) == "" {
			ruleError(w, f.Name, "Required, InvalidEmpty, LimitedToValues, AllowsOldValue, InvalidNotEmpty")
			return false
		}
	}
	if wt.Name == CustomType && fields[SeverityField] == SeverityCritical {
		if s, _ := fields[CustomerField].(string); strings.TrimSpace(s) == "" {
			ruleError(w, "Customer", "Required, InvalidEmpty")
			return false
		}
	}
	return true
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// checkRelation checks one relation of a create. A parent must be a work item
// of this organization, by its REST address, that exists; a hyperlink any
// absolute URL. It answers the error itself. o.mu is held.
func (o *Org) checkRelation(w http.ResponseWriter, rel FakeRelation) bool {
	switch rel.Rel {
	case "Hyperlink":
		u, err := url.Parse(rel.URL)
		if err != nil || !u.IsAbs() || u.Host == "" {
			vssError(w, 400, "WorkItemLinkInvalidException", "The hyperlink "+rel.URL+" is not a valid URL.", 0)
			return false
		}
		return true
	case "System.LinkTypes.Hierarchy-Reverse":
		id := 0
		for _, prefix := range []string{o.base() + "/_apis/wit/workItems/", o.Org().URL + "/_apis/wit/workItems/"} {
			if rest, ok := strings.CutPrefix(rel.URL, prefix); ok {
				id, _ = strconv.Atoi(rest)
			}
		}
		if id <= 0 {
			vssError(w, 400, "WorkItemLinkInvalidException", "The link target "+rel.URL+" is not a work item of this organization.", 0)
			return false
		}
		if o.items[id] == nil {
			notFoundItem(w, strconv.Itoa(id))
			return false
		}
		return true
	}
	vssError(w, 400, "WorkItemLinkTypeNotFoundException", "The link type "+rel.Rel+" does not exist.", 0)
	return false
}

// SeedBacklog adds an Epic, a Feature and a User Story to Web Portal, for
// demo forms to offer as parents, and returns their ids in that order.
func (o *Org) SeedBacklog() (epic, feature, story int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	add := func(typ, title string) int {
		id := o.nextID
		o.nextID++
		o.items[id] = &FakeWorkItem{ID: id, Rev: 1, Project: "Web Portal", Type: typ, Fields: map[string]any{
			"System.Title": title, "System.State": "Active", "System.AreaPath": `Web Portal\Frontend`, "System.IterationPath": "Web Portal",
		}}
		return id
	}
	return add("Epic", "Checkout reliability"), add("Feature", "Address validation v2"), add("User Story", "As a shopper I can check out when validation is slow")
}
