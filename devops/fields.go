package devops

import (
	"context"
	"encoding/json"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sally-devops/devopsbot/apperr"
)

// TypeField is one field of a work item type, as the type's process defines it
// (inherited and custom processes included).
type TypeField struct {
	RefName, Name string
	// Required is the field's alwaysRequired: the type refuses a new item without it.
	Required bool
	// Allowed are the values the field accepts; empty when any value goes.
	Allowed []string
	// Default is what the service fills in when the field is left out.
	Default string
	// Identity marks a person field (its allowed values are people, not text).
	Identity bool
}

// Due-date fields, best first: a process has one, the other or neither.
const (
	FieldDueDate    = "Microsoft.VSTS.Scheduling.DueDate"
	FieldTargetDate = "Microsoft.VSTS.Scheduling.TargetDate"
)

// formFields are the fields the create form fills itself.
var formFields = map[string]bool{
	"System.Title": true, "System.Description": true, "System.AssignedTo": true,
	"System.AreaPath": true, "System.IterationPath": true, "System.Tags": true,
}

const (
	maxTypeFields    = 500
	maxAllowedValues = 500
	maxFieldValueLen = 32000
)

func checkType(t string) error {
	t = strings.TrimSpace(t)
	if t == "" || len(t) > 128 || strings.ContainsAny(t, "/\\?#%") || hasControl(t) {
		return apperr.New(apperr.Invalid, "Please pick a work item type.")
	}
	return nil
}

// ListTypeFields reads the fields of work item type typ in project, with their
// allowed values and whether they are required.
func (c *Client) ListTypeFields(ctx context.Context, project, typ string) ([]TypeField, error) {
	if err := checkProject(project); err != nil {
		return nil, err
	}
	if err := checkType(typ); err != nil {
		return nil, err
	}
	var resp struct {
		Value []struct {
			ReferenceName  string            `json:"referenceName"`
			Name           string            `json:"name"`
			AlwaysRequired bool              `json:"alwaysRequired"`
			DefaultValue   json.RawMessage   `json:"defaultValue"`
			AllowedValues  []json.RawMessage `json:"allowedValues"`
		}
	}
	u := c.url(url.PathEscape(project), "_apis", "wit", "workitemtypes", url.PathEscape(strings.TrimSpace(typ)), "fields")
	if err := c.get(ctx, "types.fields", u, url.Values{"$expand": {"allowedValues"}}, &resp); err != nil {
		return nil, err
	}
	out := make([]TypeField, 0, len(resp.Value))
	for _, v := range resp.Value {
		if len(out) == maxTypeFields {
			break
		}
		if !ValidFieldRef(v.ReferenceName) {
			continue
		}
		f := TypeField{RefName: v.ReferenceName, Name: strings.TrimSpace(v.Name), Required: v.AlwaysRequired}
		if f.Name == "" || utf8.RuneCountInString(f.Name) > 128 || hasControl(f.Name) {
			f.Name = f.RefName
		}
		f.Default, _ = scalar(v.DefaultValue)
		for _, a := range v.AllowedValues {
			s, ok := scalar(a)
			if !ok {
				// People come as identity objects: not a list to choose text from.
				f.Identity, f.Allowed = true, nil
				break
			}
			if s != "" && len(f.Allowed) < maxAllowedValues && !hasControl(s) && len(s) <= 1000 {
				f.Allowed = append(f.Allowed, s)
			}
		}
		out = append(out, f)
	}
	return out, nil
}

// scalar renders a JSON string, number or boolean as text; null is "" and ok.
func scalar(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", true
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", false
	}
	switch x := v.(type) {
	case string:
		return x, true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// ValidFieldRef reports whether s looks like a field reference name
// ("Custom.Severity"): letters, digits, '.', '_' and '-' only, so it can never
// break out of a JSON Patch path.
func ValidFieldRef(s string) bool {
	if s == "" || len(s) > 128 || !strings.Contains(s, ".") {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '.' || ch == '_' || ch == '-') {
			return false
		}
	}
	return true
}

// DueDateField is the field of fields a due date goes to, or "" when the type has none.
func DueDateField(fields []TypeField) string {
	for _, want := range []string{FieldDueDate, FieldTargetDate} {
		for _, f := range fields {
			if f.RefName == want {
				return want
			}
		}
	}
	return ""
}

// FieldsToAsk are the required fields of a type that the create form does not
// fill itself and the service would not fill either (no default; System
// fields such as System.AreaId or System.State are the service's own). The
// due-date field is left out: the form has its own date input for it.
func FieldsToAsk(fields []TypeField) []TypeField {
	due := DueDateField(fields)
	var out []TypeField
	for _, f := range fields {
		if !f.Required || f.Default != "" || formFields[f.RefName] || strings.HasPrefix(f.RefName, "System.") || f.RefName == due {
			continue
		}
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
	return out
}

// ParseDueDate reads a due date as people and summaries write it: YYYY-MM-DD,
// or an RFC 3339 time (its date is kept). Anything else ("next Friday") is not
// a date: ok is false.
func ParseDueDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if len(s) > 40 {
		return time.Time{}, false
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), true
	}
	return time.Time{}, false
}

// TypeFields returns the fields of work item type typ in project, cached per
// organization, project and type (a process is the same for every user).
func (m *MetadataCache) TypeFields(ctx context.Context, c *Client, project, typ string) ([]TypeField, error) {
	key := "fields\x00" + orgKey(c) + "\x00" + strings.ToLower(project) + "\x00" + strings.ToLower(strings.TrimSpace(typ))
	v, _, err := m.get(ctx, key, func(ctx context.Context) (any, error) { return c.ListTypeFields(ctx, project, typ) })
	if err != nil {
		return nil, err
	}
	return v.([]TypeField), nil
}
