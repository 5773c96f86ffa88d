package devopstest

import (
	"net/http"
	"strings"
)

// batchRequestValid refuses what the service refuses in a workitemsbatch
// body: an errorPolicy other than fail or omit (case-insensitive, as the
// service's enum binding is), and $expand together with fields.
func batchRequestValid(w http.ResponseWriter, errorPolicy, expand string, hasFields bool) bool {
	switch strings.ToLower(errorPolicy) {
	case "", "fail", "omit":
	default:
		vssError(w, 400, "VssPropertyValidationException", "The value "+errorPolicy+" is not valid for errorPolicy; use fail or omit.", 0)
		return false
	}
	switch strings.ToLower(expand) {
	case "", "none":
	case "relations", "fields", "links", "all":
		if hasFields {
			vssError(w, 400, "ConflictingParametersException", "The expand parameter can not be used with the fields parameter.", 0)
			return false
		}
	default:
		vssError(w, 400, "VssPropertyValidationException", "The value "+expand+" is not valid for $expand.", 0)
		return false
	}
	return true
}

// ChangeWorkItem changes a stored work item as someone would in Azure DevOps
// (its state, assignee, title...): fields holds field reference names and
// values, System.AssignedTo a person's uniqueName or "" to unassign. Each
// change is a new revision. It reports whether the item exists.
func (o *Org) ChangeWorkItem(id int, fields map[string]any) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	wi := o.items[id]
	if wi == nil {
		return false
	}
	for k, v := range fields {
		if s, ok := v.(string); ok && s == "" {
			delete(wi.Fields, k)
			continue
		}
		wi.Fields[k] = v
	}
	wi.Rev++
	return true
}

// DeleteWorkItem removes a work item, as deleting it (to the recycle bin)
// does: reads answer 404, and workitemsbatch with errorPolicy omit answers
// null in its place.
func (o *Org) DeleteWorkItem(id int) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.items[id] == nil {
		return false
	}
	delete(o.items, id)
	return true
}

// RevokeToken makes the fake refuse token from now on (203 and a sign-in
// page, as the service answers a token it no longer accepts).
func (o *Org) RevokeToken(token string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.tokens, token)
	delete(o.scopes, token)
}
