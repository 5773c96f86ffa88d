package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/cards"
	"github.com/sally-devops/devopsbot/devops"
	"github.com/sally-devops/devopsbot/summary"
	"github.com/sally-devops/devopsbot/teams"
)

// The create form's links, dates and required fields: the meeting as a
// Hyperlink relation, an optional parent, the insight's due date in the
// type's due-date field, and whatever else the type's process requires.

const (
	parentDatasetPrefix = "parents:"
	maxFieldInputs      = 50
	maxRecentParents    = 10
)

// teamsHosts are the hosts of Teams meeting and message links (commercial,
// consumer, the new cloud.microsoft domain, GCC High and DoD). A summary's
// join URL comes from whoever delivered it: only these are linked.
var teamsHosts = []string{"teams.microsoft.com", "teams.live.com", "teams.cloud.microsoft", "gov.teams.microsoft.us", "dod.teams.microsoft.us"}

// meetingLink is the summary's meeting (or message) link when it may become a
// Hyperlink relation: https, a Teams host exactly (no port, no user info),
// no spaces or control characters. present says whether there was a link at all.
func meetingLink(m devopsbot.Meeting) (link string, present bool) {
	s := strings.TrimSpace(m.JoinURL)
	if s == "" {
		return "", false
	}
	if len(s) > 2048 || strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return "", true
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.User != nil || u.Port() != "" || u.Opaque != "" {
		return "", true
	}
	if !slices.Contains(teamsHosts, strings.ToLower(u.Hostname())) {
		return "", true
	}
	return s, true
}

// linkNote tells the person what the work item will link to, or why not.
func linkNote(sm *devopsbot.Summary) string {
	link, present := meetingLink(sm.Meeting)
	switch {
	case link != "" && isMessageSummary(sm):
		return "The work item will link to the message in Teams."
	case link != "":
		return "The work item will link to the meeting in Teams."
	case present:
		return "The meeting's link is not attached to the work item: only https links to Microsoft Teams are."
	}
	return ""
}

// readFieldInputs collects the type's own field inputs (cards.FieldInputPrefix)
// of a submitted form; at most maxFieldInputs, text only, cleaned like the
// other typed text. Which of them are sent is decided against the type's
// fields at submit.
func readFieldInputs(raw json.RawMessage) map[string]string {
	var all map[string]json.RawMessage
	if json.Unmarshal(raw, &all) != nil {
		return nil
	}
	var out map[string]string
	for k, v := range all {
		ref, ok := strings.CutPrefix(k, cards.FieldInputPrefix)
		if !ok {
			continue
		}
		addFieldInput(&out, ref, v)
	}
	return out
}

// addFieldInput adds one submitted field input to out: ref must be a field
// reference name and the value text (cleaned like the other typed text); at
// most maxFieldInputs per form or row. It reports whether it was added.
func addFieldInput(out *map[string]string, ref string, v json.RawMessage) bool {
	if !devops.ValidFieldRef(ref) {
		return false
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return false
	}
	if *out == nil {
		*out = map[string]string{}
	}
	if len(*out) >= maxFieldInputs {
		return false
	}
	(*out)[ref] = summary.CleanText(s)
	return true
}

// ruleFieldOf is the field an Azure DevOps rule error (TF401320) names, or ""
// for any other problem.
func ruleFieldOf(p formProblem) string {
	if p.Code != "TF401320" {
		return ""
	}
	if m := ruleFieldName.FindStringSubmatch(p.Text); m != nil {
		return m[1]
	}
	return ""
}

// keptFieldValues are the kept values of the fields asked, and of no other
// field (one of another type must not come back under this one).
func keptFieldValues(asked []devops.TypeField, kept map[string]string) map[string]string {
	out := map[string]string{}
	for _, f := range asked {
		if s := kept[f.RefName]; s != "" {
			out[f.RefName] = s
		}
	}
	return out
}

// ruleFieldName finds the field a TF401320 rule error names in its message
// ("… the field "Customer" …"), so the form can ask for it next time.
var ruleFieldName = regexp.MustCompile(`the field "([^"]{1,80})"`)

// typeFieldsForm fills the form's type-dependent parts: the type's required
// fields (and the one a rule error named), the due date, the parent and the
// meeting link note. A failure to read the type's fields leaves those parts
// out rather than the whole form: Azure DevOps' rule error names what is missing.
func (b *Bot) typeFieldsForm(ctx context.Context, ac *actionCtx, client *devops.Client, conn *devopsbot.Connection, v *cards.CreateFormView, keep *actionData, ruleField string) {
	var fields []devops.TypeField
	var recent []devops.WorkItem
	var ferr error
	together(
		func() { fields, ferr = b.cfg.Metadata.TypeFields(ctx, client, v.Values.Project, v.Values.WorkItemType) },
		func() {
			var err error
			if recent, err = b.cfg.Metadata.RecentParents(ctx, metadataUser(conn, ac.user), client, v.Values.Project, maxRecentParents); err != nil {
				teams.Logger(ctx).InfoContext(ctx, "could not list recent parents", "kind", apperr.KindOf(err).String())
			}
		},
	)
	if ferr != nil {
		teams.Logger(ctx).InfoContext(ctx, "could not read the work item type's fields", "kind", apperr.KindOf(ferr).String())
	}
	asked := askFields(fields, ruleField)
	v.Fields = fieldInputs(asked)
	if due := devops.DueDateField(fields); due != "" {
		for _, f := range fields {
			if f.RefName == due {
				v.DueLabel = f.Name
			}
		}
	}
	if !inCardForms(ctx) {
		// In place (the Agents Playground) there is no application/search:
		// Parent is a number field there.
		v.ParentDataset = parentDatasetPrefix + v.Values.Project
	}
	for _, w := range recent {
		v.ParentChoices = append(v.ParentChoices, cards.Choice{Title: fmt.Sprintf("%s %d: %s", w.Type, w.ID, w.Title), Value: strconv.Itoa(w.ID)})
	}
	v.LinkNote = linkNote(ac.sm)
	if keep != nil {
		v.Values.Parent, v.Values.DueDate = strings.TrimSpace(keep.Parent), keep.DueDate
		v.Values.Fields = keptFieldValues(asked, keep.Fields)
		// A parent found by searching is not among the recent ones: keep it
		// visible (a choice set shows a value that is not a choice as blank).
		if n, err := strconv.Atoi(strings.TrimPrefix(v.Values.Parent, "#")); err == nil && n > 0 && len(v.ParentChoices) > 0 &&
			!slices.ContainsFunc(v.ParentChoices, func(c cards.Choice) bool { return c.Value == strconv.Itoa(n) }) {
			v.ParentChoices = append([]cards.Choice{{Title: fmt.Sprintf("Work item %d", n), Value: strconv.Itoa(n)}}, v.ParentChoices...)
			v.Values.Parent = strconv.Itoa(n)
		}
		return
	}
	if d, ok := devops.ParseDueDate(ac.insight.Due); ok {
		v.Values.DueDate = d.Format("2006-01-02")
	}
}

// askFields are the fields the form asks for: the type's required ones it does
// not otherwise cover, and the field a rule error named when it is one of the
// type's own (a rule can require a field only under some condition).
func askFields(fields []devops.TypeField, ruleField string) []devops.TypeField {
	ask := devops.FieldsToAsk(fields)
	if ruleField == "" {
		return ask
	}
	for _, f := range fields {
		if !strings.EqualFold(f.Name, ruleField) || strings.HasPrefix(f.RefName, "System.") || f.Identity || f.RefName == devops.DueDateField(fields) {
			continue
		}
		if !slices.ContainsFunc(ask, func(a devops.TypeField) bool { return a.RefName == f.RefName }) {
			ask = append(ask, f)
		}
	}
	return ask
}

// createExtras checks and gathers what the form sends beyond the basic fields:
// the type's fields, the due date, the parent (it must exist and be readable
// in the user's organization) and the meeting link. A problem comes back in
// plain words naming the field; an Azure DevOps failure as err.
func (b *Bot) createExtras(ctx context.Context, ac *actionCtx, client *devops.Client, d *actionData, nw *devops.NewWorkItem) (formProblem, error) {
	fields, err := b.cfg.Metadata.TypeFields(ctx, client, d.Project, d.WorkItemType)
	if err != nil {
		return formProblem{}, err
	}
	nw.Fields = map[string]string{}
	var missing []string
	for _, f := range fields {
		v := strings.TrimSpace(d.Fields[f.RefName])
		asked := slices.ContainsFunc(devops.FieldsToAsk(fields), func(a devops.TypeField) bool { return a.RefName == f.RefName })
		if v == "" {
			if asked {
				missing = append(missing, f.Name)
			}
			continue
		}
		// Only the type's own fields that the form can show are sent: never
		// System fields, people or the due date (it has its own input).
		if strings.HasPrefix(f.RefName, "System.") || f.Identity || f.RefName == devops.DueDateField(fields) {
			continue
		}
		if len(f.Allowed) > 0 {
			i := slices.IndexFunc(f.Allowed, func(a string) bool { return strings.EqualFold(a, v) })
			if i < 0 {
				return problem(fmt.Sprintf("%q is not a value %s allows. Choose one of the listed values.", v, f.Name))
			}
			v = f.Allowed[i]
		}
		if len(v) > 1000 {
			return problem("The value of " + f.Name + " is too long.")
		}
		nw.Fields[f.RefName] = v
	}
	if len(missing) > 0 {
		return problem("Please fill in: " + strings.Join(missing, ", ") + " (this work item type requires it).")
	}
	if s := strings.TrimSpace(d.DueDate); s != "" {
		day, ok := devops.ParseDueDate(s)
		if !ok {
			return problem("The due date must be a date, like 2026-12-24.")
		}
		if due := devops.DueDateField(fields); due != "" {
			// Noon UTC is the same calendar day everywhere from UTC-11 to UTC+11,
			// so the date people see in Azure DevOps is the one they chose.
			nw.Fields[due] = day.Add(12 * time.Hour).Format("2006-01-02T15:04:05Z")
		}
	}
	if s := strings.TrimSpace(d.Parent); s != "" {
		id, err := client.ParseParentRef(s)
		if err != nil {
			return problem(apperr.UserMessage(err))
		}
		if _, err := client.GetWorkItem(ctx, id); err != nil {
			if apperr.Is(err, apperr.NotFound) {
				return problem(fmt.Sprintf("The parent, work item %d, does not exist or you can't see it. Choose another parent or leave it empty.", id))
			}
			return formProblem{}, err
		}
		nw.ParentID = id
	}
	if link, _ := meetingLink(ac.sm.Meeting); link != "" {
		nw.Hyperlink = link
		nw.HyperlinkComment = "Teams meeting: " + ac.sm.Meeting.Title
		if isMessageSummary(ac.sm) {
			nw.HyperlinkComment = "Teams message"
		}
	}
	return formProblem{}, nil
}

// problem is a refused input, in plain words, for createExtras.
func problem(text string) (formProblem, error) { return say(text), nil }

// searchParents answers the parent typeahead: work items of the project's
// epic, feature and requirement levels, read with the user's own token.
func (b *Bot) searchParents(ctx context.Context, client *devops.Client, project, q string, top int) teams.InvokeResponse {
	types, err := b.cfg.Metadata.ParentTypes(ctx, client, project)
	if err != nil {
		teams.Logger(ctx).InfoContext(ctx, "parent search failed", "kind", apperr.KindOf(err).String())
		return teams.SearchResponse(nil)
	}
	items, err := client.SearchParents(ctx, project, types, q, top)
	if err != nil {
		teams.Logger(ctx).InfoContext(ctx, "parent search failed", "kind", apperr.KindOf(err).String())
		return teams.SearchResponse(nil)
	}
	res := make([]teams.SearchResult, 0, len(items))
	for _, it := range items {
		res = append(res, teams.SearchResult{Title: fmt.Sprintf("%s %d: %s", it.Type, it.ID, it.Title), Value: strconv.Itoa(it.ID)})
	}
	return teams.SearchResponse(res)
}

// fieldInputs are the form's inputs for the type's fields to ask.
func fieldInputs(fields []devops.TypeField) []cards.FieldInput {
	out := make([]cards.FieldInput, 0, len(fields))
	for _, f := range fields {
		in := cards.FieldInput{RefName: f.RefName, Label: f.Name}
		for _, a := range f.Allowed {
			in.Choices = append(in.Choices, cards.Choice{Title: a, Value: a})
		}
		out = append(out, in)
	}
	return out
}
