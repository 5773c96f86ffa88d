package bot_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/bot"
	"github.com/sally-devops/devopsbot/cards/cardstest"
	"github.com/sally-devops/devopsbot/devops/devopstest"
)

// ownersSummary has one task per way of naming an owner, in a meeting of the
// Web Portal project (see devopstest for who is in which team).
func ownersSummary(t *testing.T, h *harness) string {
	t.Helper()
	h.install(chatID)
	body := `{"id":"owners-1","meeting":{"title":"Web Portal planning","start":"2026-11-24T09:00:00Z"},
"deliverTo":{"conversationId":"` + chatID + `"},
"insights":[
 {"id":"first","kind":"task","text":"Reproduce the login loop","owner":"Isaiah"},
 {"id":"exact","kind":"task","text":"Open a bug with logs","owner":"Isaiah Langer"},
 {"id":"accents","kind":"task","text":"Translate the error pages","owner":"jose alvarez"},
 {"id":"email","kind":"task","text":"Rotate the keys","owner":"Nestor Wilke"},
 {"id":"handle","kind":"task","text":"Share the dashboard","owner":"isaiah.langer"},
 {"id":"two","kind":"task","text":"Send the deck","owner":"Megan"},
 {"id":"unknown","kind":"task","text":"Book the room","owner":"Zed <b>Z</b>"},
 {"id":"org","kind":"task","text":"Update the release notes","owner":"Lynne Robbins"},
 {"id":"none","kind":"task","text":"Remove the survey SDK"}]}`
	resp, out := h.deliver("msg_owners", []byte(body), "")
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("delivery answered %d: %s", resp.StatusCode, js(out))
	}
	if err := h.store.SavePrefs(context.Background(), devopsbot.UserKey{TenantID: tenantID, AADObjectID: userAdele}, devopsbot.Prefs{Project: "Web Portal"}); err != nil {
		t.Fatal(err)
	}
	return out["summaryId"].(string)
}

// responsibleField opens the create form for an insight and returns the
// Responsible user input and the text shown right under it ("" when none).
func responsibleField(t *testing.T, h *harness, sid, insight string) (map[string]any, string) {
	t.Helper()
	form := dialogCard(t, h.taskFetch(userAdele, chatID, map[string]any{"msteams": map[string]any{"type": "task/fetch"}, "sally": "create", "summaryId": sid, "insightId": insight}))
	body, _ := form["body"].([]any)
	for i, el := range body {
		m, _ := el.(map[string]any)
		if m["id"] != "assignedTo" {
			continue
		}
		note := ""
		if i+1 < len(body) {
			if next, _ := body[i+1].(map[string]any); next["type"] == "TextBlock" {
				note, _ = next["text"].(string)
			}
		}
		return m, note
	}
	t.Fatalf("the form has no Responsible user field: %.600s", js(form))
	return nil, ""
}

func choiceValues(field map[string]any) []string {
	var out []string
	for _, c := range field["choices"].([]any) {
		out = append(out, c.(map[string]any)["value"].(string))
	}
	return out
}

func TestResponsibleUserMatchesTheOwner(t *testing.T) {
	h := newHarness(t, withDemo)
	sid := ownersSummary(t, h)
	connectDemo(t, h, userAdele)
	for _, tc := range []struct {
		insight, want, note string
	}{
		// Isaiah is in the Quality team, not in the project's default team.
		{"first", "isaiah.langer@contoso.com", `Matched Isaiah Langer to the owner "Isaiah" (only person with that first name).`},
		{"exact", "isaiah.langer@contoso.com", `Matched Isaiah Langer to the owner "Isaiah Langer" (exact name).`},
		{"accents", "jose.alvarez@contoso.com", `Matched José Álvarez to the owner "jose alvarez" (same name ignoring case and accents).`},
		{"email", "nestorw@contoso.com", `Matched N. Wilke to the owner "Nestor Wilke" (e-mail nestorw@contoso.com).`},
		{"handle", "isaiah.langer@contoso.com", `Matched Isaiah Langer to the owner "isaiah.langer" (e-mail isaiah.langer@contoso.com).`},
		// Two Megans: nobody is preselected, both are offered.
		{"two", "", `More than one person matches the owner "Megan" (Megan Bowen, Megan Rivera); choose who is responsible.`},
		// Not in any team, and this deployment does not search the organization.
		{"unknown", "", `No one in this project matches the owner "Zed \<b\>Z\</b\>"; choose who is responsible.`},
		{"org", "", `No one in this project matches the owner "Lynne Robbins"; choose who is responsible.`},
		// No owner named: the connected user, who is a member, as before.
		{"none", "adele@contoso.com", ""},
	} {
		field, note := responsibleField(t, h, sid, tc.insight)
		got, has := field["value"].(string)
		if got != tc.want || has != (tc.want != "") {
			t.Errorf("%s: Responsible user preselected %q (set: %v), want %q", tc.insight, got, has, tc.want)
		}
		if note != tc.note {
			t.Errorf("%s: note under the field = %q, want %q", tc.insight, note, tc.note)
		}
		if field["isRequired"] != true {
			t.Errorf("%s: Responsible user must stay required: %s", tc.insight, js(field))
		}
		if values := choiceValues(field); len(values) != 8 || (tc.want != "" && !slices.Contains(values, tc.want)) {
			t.Errorf("%s: choices = %v; want the project's 8 team members", tc.insight, values)
		}
	}
	// The members of both Web Portal teams are offered, the Megans included.
	field, _ := responsibleField(t, h, sid, "two")
	for _, who := range []string{"megan@contoso.com", "megan.rivera@contoso.com", "lee@contoso.com", "alex@contoso.com"} {
		if !slices.Contains(choiceValues(field), who) {
			t.Errorf("choices lack %s: %v", who, choiceValues(field))
		}
	}
	if n := h.org.Calls(devopstest.RouteIdentities); n != 0 {
		t.Errorf("the organization was searched %d times without vso.identity", n)
	}
}

func TestUnmatchedOwnerMustBeChosenBeforeCreating(t *testing.T) {
	h := newHarness(t, withDemo)
	sid := ownersSummary(t, h)
	connectDemo(t, h, userAdele)
	data := map[string]any{"msteams": map[string]any{"type": "task/fetch"}, "sally": "create", "summaryId": sid, "insightId": "unknown"}
	form := dialogCard(t, h.taskFetch(userAdele, chatID, data))
	// Submitting as filled (nobody chosen) creates nothing and asks for a choice.
	again := dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, "create.submit", nil)))
	if s := js(again); !strings.Contains(s, "Please fill in: Responsible user.") {
		t.Fatalf("submit without a responsible user: %.600s", s)
	}
	if _, made := h.org.WorkItem(1); made {
		t.Fatal("a work item was created without a responsible user")
	}
	// After choosing, a reload (another project's choices) keeps the choice.
	in := cardstest.Inputs(dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, "create.reload", map[string]any{"assignedTo": "lee@contoso.com"}))))
	if in["assignedTo"]["value"] != "lee@contoso.com" {
		t.Fatalf("the chosen person was not kept: %v", in["assignedTo"]["value"])
	}
	result := dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, "create.submit", map[string]any{"assignedTo": "lee@contoso.com"})))
	if !strings.Contains(js(result), "Created Task") {
		t.Fatalf("create after choosing: %.400s", js(result))
	}
	if wi, _ := h.org.WorkItem(1); wi.Fields["System.AssignedTo"] != "lee@contoso.com" {
		t.Fatalf("assigned to %v", wi.Fields["System.AssignedTo"])
	}
}

// withIdentityScope is a deployment with DEVOPS_IDENTITY_SCOPE=true.
func withIdentityScope(h *harness) option {
	return func(c *bot.Config) { c.OAuth.WithIdentity = true }
}

func TestOwnerFoundInTheOrganizationWithIdentityScope(t *testing.T) {
	var idp *devopstest.IdentityProvider
	h := newHarness(t, withOAuth(&idp), withIdentityScope)
	sid := ownersSummary(t, h)
	connectOAuth(t, h, userAdele, chatID)
	conn, err := h.store.GetConnection(context.Background(), devopsbot.UserKey{TenantID: tenantID, AADObjectID: userAdele})
	if err != nil || !strings.Contains(strings.Join(conn.Scopes, " "), "vso.identity") {
		t.Fatalf("the connection was not granted vso.identity: %v, %v", conn, err)
	}

	// Lynne is in no team: the organization search finds her and she is offered.
	field, note := responsibleField(t, h, sid, "org")
	if field["value"] != "lynne.robbins@contoso.com" || note != `Matched Lynne Robbins to the owner "Lynne Robbins" (exact name).` {
		t.Fatalf("org owner: value %v, note %q", field["value"], note)
	}
	if values := choiceValues(field); len(values) != 9 || !slices.Contains(values, "lynne.robbins@contoso.com") {
		t.Fatalf("choices = %v; want the 8 team members and Lynne", values)
	}
	// A warm form open asks Azure DevOps nothing more.
	calls := h.org.TotalCalls()
	if _, note := responsibleField(t, h, sid, "org"); !strings.HasPrefix(note, "Matched Lynne Robbins") || h.org.TotalCalls() != calls {
		t.Fatalf("warm form open made %d Azure DevOps calls (note %q)", h.org.TotalCalls()-calls, note)
	}
	// A team member matches without searching the organization.
	if field, _ := responsibleField(t, h, sid, "exact"); field["value"] != "isaiah.langer@contoso.com" || h.org.Calls(devopstest.RouteIdentities) != 1 {
		t.Fatalf("team owner: value %v, %d searches", field["value"], h.org.Calls(devopstest.RouteIdentities))
	}
	// Nobody anywhere: the note says the organization was searched too.
	field, note = responsibleField(t, h, sid, "unknown")
	if _, set := field["value"]; set || note != `No one in this project or organization matches the owner "Zed \<b\>Z\</b\>"; choose who is responsible.` {
		t.Fatalf("unknown owner: value %v, note %q", field["value"], note)
	}
}

func TestOrganizationSearchFailureStillOpensTheForm(t *testing.T) {
	var idp *devopstest.IdentityProvider
	h := newHarness(t, withOAuth(&idp), withIdentityScope)
	sid := ownersSummary(t, h)
	connectOAuth(t, h, userAdele, chatID)
	h.org.FailNext(devopstest.RouteIdentities, http.StatusUnauthorized, "", 10)
	field, note := responsibleField(t, h, sid, "org")
	if _, set := field["value"]; set || note != `No one in this project matches the owner "Lynne Robbins"; choose who is responsible.` || len(choiceValues(field)) != 8 {
		t.Fatalf("after a failed search: value %v, note %q, choices %v", field["value"], note, choiceValues(field))
	}
	// A refused search is not a lost connection: the user stays connected.
	conn, err := h.store.GetConnection(context.Background(), devopsbot.UserKey{TenantID: tenantID, AADObjectID: userAdele})
	if err != nil || conn.Status != devopsbot.StatusActive {
		t.Fatalf("connection after a refused search: %+v, %v", conn, err)
	}
}

func TestOwnerSearchRespectsTheDeploymentSwitch(t *testing.T) {
	var idp *devopstest.IdentityProvider
	h := newHarness(t, withOAuth(&idp), withIdentityScope)
	sid := ownersSummary(t, h)
	connectOAuth(t, h, userAdele, chatID)
	// The administrator turns DEVOPS_IDENTITY_SCOPE off; connections keep their grant.
	off := *h.cfg.OAuth
	off.WithIdentity = false
	h.cfg.OAuth = &off
	h.start()
	if _, note := responsibleField(t, h, sid, "org"); !strings.HasPrefix(note, "No one in this project matches") || h.org.Calls(devopstest.RouteIdentities) != 0 {
		t.Fatalf("with the switch off: note %q, %d searches", note, h.org.Calls(devopstest.RouteIdentities))
	}
}
