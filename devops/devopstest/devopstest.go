// Package devopstest is an in-memory Azure DevOps organization, "fabrikam",
// served over HTTP on the same paths, queries and JSON shapes as the real
// service (per the 7.1 Swagger specs), strict where the service is strict:
// api-version, bearer tokens (a bad one gets 203 and a sign-in page), JSON Patch
// content type and operations, required fields, tree paths and identities.
package devopstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot/devops"
)

// FakeWorkItem is a work item as the fake stores it.
type FakeWorkItem struct {
	ID, Rev int
	Project string
	Type    string
	Fields  map[string]any // as sent; System.AssignedTo holds the resolved uniqueName
	// Relations are the links sent with the create (parent, hyperlinks).
	Relations []FakeRelation
}

type project struct {
	ID, Name, Description string
	Areas                 *node
	Iterations            []iteration
	DefaultArea           string
	Teams                 []team
}

type node struct {
	Name     string
	Children []*node
}

type iteration struct {
	ID, Name, Path string
	Start, Finish  time.Time
	TimeFrame      string
}

type team struct {
	ID, Name string
	Members  []devops.Identity
}

type workItemType struct {
	Name, Description, Color string
	Disabled, Hidden         bool
}

type failure struct {
	status     int
	retryAfter string
	times      int
}

// Org is the fake organization. Its zero value is not usable; call NewOrg.
type Org struct {
	Name  string
	Hosts devops.Hosts

	srv *httptest.Server

	mu        sync.Mutex
	tokens    map[string]devops.Identity
	scopes    map[string][]string // tokens from the identity provider: what they were granted
	projects  []*project
	types     []workItemType
	people    []devops.Identity
	items     map[int]*FakeWorkItem
	comments  map[int][]devops.Comment
	nextID    int
	nextCmt   int
	calls     map[string]int
	total     int
	failures  map[string]*failure
	latency   time.Duration
	dropAfter int
	tenant    string
}

// Seeded identities.
var (
	Adele = devops.Identity{ID: "a1b2c3d4-0000-4000-8000-00000000ade1", DisplayName: "Adele Vance", UniqueName: "adele@contoso.com"}
	Alex  = devops.Identity{ID: "a1b2c3d4-0000-4000-8000-0000000a1e00", DisplayName: "Alex Wilber", UniqueName: "alex@contoso.com"}
	Lee   = devops.Identity{ID: "a1b2c3d4-0000-4000-8000-000000001ee0", DisplayName: "Lee Gu", UniqueName: "lee@contoso.com"}
	Megan = devops.Identity{ID: "a1b2c3d4-0000-4000-8000-00000000e9a0", DisplayName: "Megan Bowen", UniqueName: "megan@contoso.com"}

	// People for owner matching: Isaiah is only in a team that is not the
	// project's default one, two Megans share a first name, José's name has
	// accents, Nestor's display name is short ("N. Wilke") but his e-mail is
	// not, and Lynne is in the organization but in no team of any project.
	Isaiah      = devops.Identity{ID: "a1b2c3d4-0000-4000-8000-0000000015a1", DisplayName: "Isaiah Langer", UniqueName: "isaiah.langer@contoso.com"}
	MeganRivera = devops.Identity{ID: "a1b2c3d4-0000-4000-8000-00000000e9a1", DisplayName: "Megan Rivera", UniqueName: "megan.rivera@contoso.com"}
	Jose        = devops.Identity{ID: "a1b2c3d4-0000-4000-8000-0000000010e1", DisplayName: "José Álvarez", UniqueName: "jose.alvarez@contoso.com"}
	Nestor      = devops.Identity{ID: "a1b2c3d4-0000-4000-8000-00000000e570", DisplayName: "N. Wilke", UniqueName: "nestorw@contoso.com"}
	Lynne       = devops.Identity{ID: "a1b2c3d4-0000-4000-8000-00000001e000", DisplayName: "Lynne Robbins", UniqueName: "lynne.robbins@contoso.com"}
	Johanna     = devops.Identity{ID: "a1b2c3d4-0000-4000-8000-0000000010a1", DisplayName: "Johanna Lorenz", UniqueName: "johanna.lorenz@contoso.com"}
	Diego       = devops.Identity{ID: "a1b2c3d4-0000-4000-8000-00000000d1e9", DisplayName: "Diego Siciliani", UniqueName: "diego.siciliani@contoso.com"}
)

// DefaultTenant is what HEAD {vssps}/fabrikam answers until SetTenant.
const DefaultTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"

// NewOrg starts the fake; it stops when the test ends.
func NewOrg(t testing.TB) *Org {
	o, stop := Start()
	t.Cleanup(stop)
	return o
}

// Start runs the fake outside a test (the bot's demo mode); stop closes it.
func Start() (*Org, func()) {
	o := &Org{
		Name: "fabrikam", tokens: map[string]devops.Identity{}, scopes: map[string][]string{}, items: map[int]*FakeWorkItem{}, comments: map[int][]devops.Comment{},
		nextID: 1, nextCmt: 1, calls: map[string]int{}, failures: map[string]*failure{}, tenant: DefaultTenant,
	}
	o.seed()
	o.srv = httptest.NewServer(http.HandlerFunc(o.serve))
	o.Hosts = devops.Hosts{Dev: o.srv.URL, VSSPS: o.srv.URL + "/_vssps"}
	return o, o.srv.Close
}

func (o *Org) seed() {
	now := time.Now().UTC().Truncate(24 * time.Hour)
	sprints := func(prefix string) []iteration {
		return []iteration{
			{ID: "11111111-0000-4000-8000-000000000001", Name: "Sprint 1", Path: prefix + `\Sprint 1`, Start: now.AddDate(0, 0, -28), Finish: now.AddDate(0, 0, -15), TimeFrame: "past"},
			{ID: "11111111-0000-4000-8000-000000000002", Name: "Sprint 2", Path: prefix + `\Sprint 2`, Start: now.AddDate(0, 0, -14), Finish: now.AddDate(0, 0, -1), TimeFrame: "past"},
			{ID: "11111111-0000-4000-8000-000000000003", Name: "Sprint 3", Path: prefix + `\Sprint 3`, Start: now, Finish: now.AddDate(0, 0, 13), TimeFrame: "current"},
			{ID: "11111111-0000-4000-8000-000000000004", Name: "Sprint 4", Path: prefix + `\Sprint 4`, Start: now.AddDate(0, 0, 14), Finish: now.AddDate(0, 0, 27), TimeFrame: "future"},
		}
	}
	o.people = []devops.Identity{Adele, Alex, Lee, Megan, Isaiah, MeganRivera, Jose, Nestor, Lynne, Johanna, Diego}
	o.projects = []*project{
		{
			ID: "6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c", Name: "Web Portal", Description: "The customer web portal",
			Areas:       &node{Name: "Web Portal", Children: []*node{{Name: "Frontend", Children: []*node{{Name: "Accessibility"}}}, {Name: "Backend"}}},
			Iterations:  sprints("Web Portal"),
			DefaultArea: `Web Portal\Frontend`,
			Teams: []team{
				{ID: "564e8204-a90b-4432-883b-d4363c6125ca", Name: "Web Portal Team", Members: []devops.Identity{Megan, Adele, Alex}},
				{ID: "66df9be7-3586-467b-9c5f-425b29afedfd", Name: "Quality", Members: []devops.Identity{Lee, Adele, Isaiah, MeganRivera, Jose, Nestor}},
			},
		},
		{
			ID: "eb6e4656-77fc-42a1-9181-4c6d8e9da5d1", Name: "Mobile App", Description: "iOS and Android apps",
			Areas:       &node{Name: "Mobile App", Children: []*node{{Name: "iOS"}, {Name: "Android"}}},
			Iterations:  sprints("Mobile App"),
			DefaultArea: "Mobile App",
			Teams: []team{
				{ID: "281f9a5b-af0d-49b4-a1df-fe6f5e5f84d0", Name: "Mobile App Team", Members: []devops.Identity{Lee, Megan}},
				// Adele (the demo user) works in both projects.
				{ID: "9f3c2a71-5d4e-4b8a-9c1f-2e7d6b5a4c30", Name: "Android", Members: []devops.Identity{Isaiah, Johanna, Diego, Adele}},
			},
		},
	}
	o.types = []workItemType{
		{Name: "Bug", Description: "Describes a divergence between required and actual behavior.", Color: "CC293D"},
		{Name: "Task", Description: "Tracks work that needs to be done.", Color: "F2CB1D"},
		{Name: "User Story", Description: "Tracks an activity the user will be able to perform.", Color: "009CCC"},
		{Name: "Feature", Description: "Tracks a feature that will be released with the product.", Color: "773B93"},
		{Name: "Epic", Description: "Epics help teams manage their backlog.", Color: "FF7B00"},
		{Name: CustomType, Description: "A request from a customer (this organization's own type).", Color: "339947"},
		{Name: "Issue", Description: "Tracks an obstacle to progress.", Color: "B4009E", Disabled: true},
		{Name: "Test Case", Description: "Server-side data for a set of steps to be tested.", Color: "004B50", Hidden: true},
	}
}

// Org returns the organization as the bot would store it.
func (o *Org) Org() devops.Org {
	return devops.Org{Name: "fabrikam", URL: "https://dev.azure.com/fabrikam"}
}

// AddToken makes the fake accept token as who.
func (o *Org) AddToken(token string, who devops.Identity) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.tokens[token] = who
}

// AddScopedToken makes the fake accept token as who, for the calls its scopes
// allow (the identity provider's tokens); AddToken's tokens may do everything.
func (o *Org) AddScopedToken(token string, who devops.Identity, scopes []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.tokens[token] = who
	o.scopes[token] = append([]string(nil), scopes...)
}

// WorkItem returns a stored work item.
func (o *Org) WorkItem(id int) (FakeWorkItem, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	w, ok := o.items[id]
	if !ok {
		return FakeWorkItem{}, false
	}
	cp := *w
	cp.Fields = map[string]any{}
	for k, v := range w.Fields {
		cp.Fields[k] = v
	}
	cp.Relations = append([]FakeRelation(nil), w.Relations...)
	return cp, true
}

// Comments returns the comments stored on a work item.
func (o *Org) Comments(id int) []devops.Comment {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]devops.Comment(nil), o.comments[id]...)
}

// Route names for Calls and FailNext.
const (
	RouteProjects        = "projects"
	RouteProject         = "project"
	RouteTeams           = "teams"
	RouteMembers         = "members"
	RouteTypes           = "workitemtypes"
	RouteTypeCategories  = "workitemtypecategories"
	RouteTypeFields      = "workitemtypefields"
	RouteAreas           = "areas"
	RouteIterations      = "iterations"
	RouteTeamFieldValues = "teamfieldvalues"
	RouteTeamSettings    = "teamsettings"
	RouteCreate          = "create"
	RouteWorkItem        = "workitem"
	RouteWiql            = "wiql"
	RouteBatch           = "workitemsbatch"
	RouteComment         = "comment"
	RouteComments        = "comments" // GET: the newest comments of a work item
	RouteIdentities      = "identities"
	RouteTenant          = "tenant"
)

// Calls counts requests to route (see the Route constants), failed ones included.
func (o *Org) Calls(route string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.calls[route]
}

// TotalCalls counts all requests.
func (o *Org) TotalCalls() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.total
}

// FailNext makes the next times requests to route answer status (with
// Retry-After retryAfter when not empty) instead of doing their work.
func (o *Org) FailNext(route string, status int, retryAfter string, times int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.failures[route] = &failure{status: status, retryAfter: retryAfter, times: times}
}

// SetLatency delays every answer by d.
func (o *Org) SetLatency(d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.latency = d
}

// DropResponseAfterWrite makes the next times writes (creates, comments) take
// effect and then cut the connection without an answer.
func (o *Org) DropResponseAfterWrite(times int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.dropAfter = times
}

// SetTenant sets what HEAD {vssps}/fabrikam answers in x-vss-resourcetenant.
func (o *Org) SetTenant(tenantID string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.tenant = tenantID
}

// vssError writes Azure DevOps' error JSON.
func vssError(w http.ResponseWriter, status int, typeKey, msg string, code int) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"$id": "1", "innerException": nil, "message": msg, "typeName": "Microsoft.TeamFoundation." + typeKey + ", Microsoft.TeamFoundation",
		"typeKey": typeKey, "errorCode": code, "eventId": 3000,
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8; api-version=7.1")
	json.NewEncoder(w).Encode(v)
}

const signInPage = `<!DOCTYPE html><html><head><title>Azure DevOps Services | Sign In</title></head><body>Sign in to your account</body></html>`

type route struct {
	name     string
	write    bool
	preview  bool // needs 7.1-preview.N
	project  *project
	team     string
	rest     []string // segments after _apis, lowercased
	raw      []string // same, as sent
	identity devops.Identity
}

func (o *Org) serve(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	lat := o.latency
	o.mu.Unlock()
	if lat > 0 {
		select {
		case <-time.After(lat):
		case <-r.Context().Done():
			return
		}
	}
	segs, err := splitPath(r.URL.EscapedPath())
	if err != nil {
		vssError(w, 400, "InvalidPathException", "The path is not valid.", 0)
		return
	}
	// Identity host and tenant discovery.
	if len(segs) >= 2 && segs[0] == "_vssps" {
		if !strings.EqualFold(segs[1], o.Name) {
			http.NotFound(w, r)
			return
		}
		if len(segs) == 2 && r.Method == http.MethodHead {
			o.count(RouteTenant)
			o.mu.Lock()
			w.Header().Set("X-VSS-ResourceTenant", o.tenant)
			o.mu.Unlock()
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if len(segs) == 4 && strings.EqualFold(segs[2], "_apis") && strings.EqualFold(segs[3], "identities") && r.Method == http.MethodGet {
			o.handle(w, r, &route{name: RouteIdentities})
			return
		}
		vssError(w, 404, "ResourceNotFoundException", "The resource cannot be found.", 0)
		return
	}
	if len(segs) < 2 || !strings.EqualFold(segs[0], o.Name) {
		http.NotFound(w, r)
		return
	}
	apis := -1
	for i, s := range segs {
		if strings.EqualFold(s, "_apis") {
			apis = i
			break
		}
	}
	if apis < 1 {
		if o.servePage(w, r, segs) {
			return
		}
		vssError(w, 404, "ResourceNotFoundException", "The resource cannot be found.", 0)
		return
	}
	rt := &route{raw: segs[apis+1:]}
	for _, s := range rt.raw {
		rt.rest = append(rt.rest, strings.ToLower(s))
	}
	scope := segs[1:apis] // [], [project], [project, team]
	if len(scope) > 2 {
		vssError(w, 404, "ResourceNotFoundException", "The resource cannot be found.", 0)
		return
	}
	if len(scope) >= 1 {
		rt.project = o.findProject(scope[0])
		if rt.project == nil {
			if !o.authorize(w, r) {
				return
			}
			vssError(w, 404, "ProjectDoesNotExistWithNameException", "TF200016: The following project does not exist: "+scope[0]+". Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server.", 800003)
			return
		}
	}
	if len(scope) == 2 {
		rt.team = scope[1]
	}
	rt.name = o.match(r.Method, rt, len(scope))
	if rt.name == "" {
		vssError(w, 404, "ResourceNotFoundException", "The resource cannot be found for "+r.Method+" "+r.URL.Path+".", 0)
		return
	}
	rt.write = rt.name == RouteCreate || rt.name == RouteComment
	rt.preview = rt.name == RouteComment || rt.name == RouteComments
	o.handle(w, r, rt)
}

func splitPath(escaped string) ([]string, error) {
	var out []string
	for _, s := range strings.Split(strings.Trim(escaped, "/"), "/") {
		if s == "" {
			continue
		}
		u, err := url.PathUnescape(s)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

func (o *Org) match(method string, rt *route, scope int) string {
	p := strings.Join(rt.rest, "/")
	get, post := method == http.MethodGet, method == http.MethodPost
	switch {
	case scope == 0 && get && p == "projects":
		return RouteProjects
	case scope == 0 && get && len(rt.rest) == 2 && rt.rest[0] == "projects":
		return RouteProject
	case scope == 0 && get && len(rt.rest) == 3 && rt.rest[0] == "projects" && rt.rest[2] == "teams":
		return RouteTeams
	case scope == 0 && get && len(rt.rest) == 5 && rt.rest[0] == "projects" && rt.rest[2] == "teams" && rt.rest[4] == "members":
		return RouteMembers
	case scope == 1 && get && p == "wit/workitemtypes":
		return RouteTypes
	case scope == 1 && get && p == "wit/workitemtypecategories":
		return RouteTypeCategories
	case scope == 1 && get && len(rt.rest) == 4 && rt.rest[0] == "wit" && rt.rest[1] == "workitemtypes" && rt.rest[3] == "fields":
		return RouteTypeFields
	case scope == 1 && get && p == "wit/classificationnodes/areas":
		return RouteAreas
	case scope >= 1 && get && p == "work/teamsettings/iterations":
		return RouteIterations
	case scope >= 1 && get && p == "work/teamsettings/teamfieldvalues":
		return RouteTeamFieldValues
	case scope >= 1 && get && p == "work/teamsettings":
		return RouteTeamSettings
	case scope == 1 && post && len(rt.rest) == 3 && strings.HasPrefix(p, "wit/workitems/") && strings.HasPrefix(rt.raw[2], "$"):
		return RouteCreate
	case scope <= 1 && get && len(rt.rest) == 3 && strings.HasPrefix(p, "wit/workitems/"):
		return RouteWorkItem
	case scope >= 1 && post && p == "wit/wiql":
		return RouteWiql
	case scope <= 1 && post && p == "wit/workitemsbatch":
		return RouteBatch
	case scope == 1 && post && len(rt.rest) == 4 && rt.rest[0] == "wit" && rt.rest[1] == "workitems" && rt.rest[3] == "comments":
		return RouteComment
	case scope == 1 && get && len(rt.rest) == 4 && rt.rest[0] == "wit" && rt.rest[1] == "workitems" && rt.rest[3] == "comments":
		return RouteComments
	}
	return ""
}

func (o *Org) count(name string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls[name]++
	o.total++
}

// authorize checks the bearer token the way the service does for a browser-less
// client that forgot X-TFS-FedAuthRedirect: 203 and a sign-in page.
func (o *Org) authorize(w http.ResponseWriter, r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	o.mu.Lock()
	_, known := o.tokens[tok]
	o.mu.Unlock()
	if ok && known {
		return true
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNonAuthoritativeInfo)
	fmt.Fprint(w, signInPage)
	return false
}

func (o *Org) handle(w http.ResponseWriter, r *http.Request, rt *route) {
	o.count(rt.name)
	o.mu.Lock()
	if f := o.failures[rt.name]; f != nil && f.times > 0 {
		f.times--
		o.mu.Unlock()
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		if f.status == http.StatusTooManyRequests {
			vssError(w, f.status, "RequestThrottledException", "TF400733: The request has been throttled.", 0)
		} else {
			vssError(w, f.status, "ServiceUnavailableException", "The service is unavailable.", 0)
		}
		return
	}
	o.mu.Unlock()
	if !o.authorize(w, r) {
		return
	}
	v := r.URL.Query().Get("api-version")
	switch {
	case v == "":
		vssError(w, 400, "VssVersionNotSpecifiedException", `No api-version was supplied for the "`+r.Method+`" request. The version must be supplied either as part of the Accept header (e.g. "application/json; api-version=1.0") or as a query parameter (e.g. "?api-version=1.0").`, 0)
		return
	case rt.preview && !strings.HasPrefix(v, "7.1-preview."):
		vssError(w, 400, "VssInvalidPreviewVersionException", `The requested version "`+v+`" of the resource is under preview. The -preview flag must be supplied in the api-version for such requests. For example: "7.1-preview"`, 0)
		return
	case !rt.preview && v != "7.1":
		vssError(w, 400, "VssVersionOutOfRangeException", "The requested REST API version of "+v+" is not supported by this fake; use 7.1.", 0)
		return
	}
	o.mu.Lock()
	rt.identity = o.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	o.mu.Unlock()
	switch rt.name {
	case RouteProjects:
		o.listProjects(w)
	case RouteProject:
		o.getProject(w, rt)
	case RouteTeams:
		o.listTeams(w, rt)
	case RouteMembers:
		o.listMembers(w, rt)
	case RouteTypes:
		o.listTypes(w)
	case RouteTypeCategories:
		o.listCategories(w)
	case RouteTypeFields:
		o.typeFieldsRoute(w, r, rt)
	case RouteAreas:
		o.areas(w, r, rt)
	case RouteIterations:
		o.iterations(w, r, rt)
	case RouteTeamFieldValues:
		o.teamFieldValues(w, rt)
	case RouteTeamSettings:
		o.teamSettings(w, rt)
	case RouteCreate:
		o.create(w, r, rt)
	case RouteWorkItem:
		o.getWorkItem(w, rt)
	case RouteWiql:
		o.wiql(w, r, rt)
	case RouteBatch:
		o.batch(w, r, rt)
	case RouteComment:
		o.addComment(w, r, rt)
	case RouteComments:
		o.listComments(w, r, rt)
	case RouteIdentities:
		o.identities(w, r)
	}
}

func (o *Org) findProject(s string) *project {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, p := range o.projects {
		if strings.EqualFold(p.Name, s) || strings.EqualFold(p.ID, s) {
			return p
		}
	}
	return nil
}

func (o *Org) base() string { return o.srv.URL + "/" + o.Name }

func (o *Org) listProjects(w http.ResponseWriter) {
	var v []map[string]any
	for _, p := range o.projects {
		v = append(v, map[string]any{"id": p.ID, "name": p.Name, "description": p.Description, "url": o.base() + "/_apis/projects/" + p.ID, "state": "wellFormed", "revision": 11, "visibility": "private"})
	}
	writeJSON(w, map[string]any{"count": len(v), "value": v})
}

func (o *Org) getProject(w http.ResponseWriter, rt *route) {
	p := o.findProject(rt.raw[1])
	if p == nil {
		vssError(w, 404, "ProjectDoesNotExistWithNameException", "TF200016: The following project does not exist: "+rt.raw[1]+".", 800003)
		return
	}
	writeJSON(w, map[string]any{"id": p.ID, "name": p.Name, "description": p.Description, "state": "wellFormed",
		"defaultTeam": map[string]any{"id": p.Teams[0].ID, "name": p.Teams[0].Name, "url": o.base() + "/_apis/projects/" + p.ID + "/teams/" + p.Teams[0].ID}})
}

func (o *Org) listTeams(w http.ResponseWriter, rt *route) {
	p := o.findProject(rt.raw[1])
	if p == nil {
		vssError(w, 404, "ProjectDoesNotExistWithNameException", "TF200016: The following project does not exist: "+rt.raw[1]+".", 800003)
		return
	}
	var v []map[string]any
	for _, t := range p.Teams {
		v = append(v, map[string]any{"id": t.ID, "name": t.Name, "url": o.base() + "/_apis/projects/" + p.ID + "/teams/" + t.ID, "description": "", "identityUrl": o.Hosts.VSSPS + "/fabrikam/_apis/Identities/" + t.ID, "projectName": p.Name, "projectId": p.ID})
	}
	writeJSON(w, map[string]any{"count": len(v), "value": v})
}

func (o *Org) listMembers(w http.ResponseWriter, rt *route) {
	p := o.findProject(rt.raw[1])
	if p == nil {
		vssError(w, 404, "ProjectDoesNotExistWithNameException", "TF200016: The following project does not exist: "+rt.raw[1]+".", 800003)
		return
	}
	for _, t := range p.Teams {
		if strings.EqualFold(t.ID, rt.raw[3]) || strings.EqualFold(t.Name, rt.raw[3]) {
			var v []map[string]any
			for _, m := range t.Members {
				v = append(v, map[string]any{"isTeamAdmin": false, "identity": identityRef(o, m)})
			}
			writeJSON(w, map[string]any{"count": len(v), "value": v})
			return
		}
	}
	vssError(w, 404, "TeamNotFoundException", "The team with id "+rt.raw[3]+" does not exist.", 0)
}

func identityRef(o *Org, m devops.Identity) map[string]any {
	return map[string]any{"id": m.ID, "displayName": m.DisplayName, "uniqueName": m.UniqueName, "url": o.Hosts.VSSPS + "/fabrikam/_apis/Identities/" + m.ID, "imageUrl": o.base() + "/_api/_common/identityImage?id=" + m.ID, "descriptor": "aad." + m.ID}
}

func (o *Org) listTypes(w http.ResponseWriter) {
	var v []map[string]any
	for _, t := range o.types {
		v = append(v, map[string]any{"name": t.Name, "referenceName": "Microsoft.VSTS.WorkItemTypes." + strings.ReplaceAll(t.Name, " ", ""), "description": t.Description, "color": t.Color, "isDisabled": t.Disabled,
			"icon": map[string]any{"id": "icon_clipboard", "url": o.base() + "/_apis/wit/workItemIcons/icon_clipboard?color=" + t.Color + "&v=2"}})
	}
	writeJSON(w, map[string]any{"count": len(v), "value": v})
}

func (o *Org) listCategories(w http.ResponseWriter) {
	cat := func(name, ref string, types ...string) map[string]any {
		var ts []map[string]any
		for _, t := range types {
			ts = append(ts, map[string]any{"name": t, "url": o.base() + "/_apis/wit/workItemTypes/" + url.PathEscape(t)})
		}
		return map[string]any{"name": name, "referenceName": ref, "defaultWorkItemType": ts[0], "workItemTypes": ts}
	}
	v := []map[string]any{
		cat("Bug Category", "Microsoft.BugCategory", "Bug"),
		cat("Task Category", "Microsoft.TaskCategory", "Task"),
		cat("Requirement Category", "Microsoft.RequirementCategory", "User Story", CustomType),
		cat("Feature Category", "Microsoft.FeatureCategory", "Feature"),
		cat("Epic Category", "Microsoft.EpicCategory", "Epic"),
		cat("Hidden Types Category", "Microsoft.HiddenCategory", "Test Case"),
	}
	writeJSON(w, map[string]any{"count": len(v), "value": v})
}

func (o *Org) areas(w http.ResponseWriter, r *http.Request, rt *route) {
	depth := 0
	if d := r.URL.Query().Get("$depth"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 {
			vssError(w, 400, "ArgumentException", "The value of $depth is not valid.", 0)
			return
		}
		depth = n
	}
	var enc func(n *node, path string, d int) map[string]any
	enc = func(n *node, path string, d int) map[string]any {
		m := map[string]any{"id": len(path), "name": n.Name, "structureType": "area", "hasChildren": len(n.Children) > 0, "path": `\` + path}
		if d < depth && len(n.Children) > 0 {
			var ch []map[string]any
			for _, c := range n.Children {
				ch = append(ch, enc(c, path+`\`+c.Name, d+1))
			}
			m["children"] = ch
		}
		return m
	}
	root := enc(rt.project.Areas, rt.project.Name+`\Area`, 0)
	writeJSON(w, root)
}

func (o *Org) checkTeam(w http.ResponseWriter, rt *route) bool {
	if rt.team == "" {
		return true
	}
	for _, t := range rt.project.Teams {
		if strings.EqualFold(t.Name, rt.team) || strings.EqualFold(t.ID, rt.team) {
			return true
		}
	}
	vssError(w, 404, "TeamNotFoundException", "The team with id "+rt.team+" does not exist.", 0)
	return false
}

func iterJSON(it iteration) map[string]any {
	return map[string]any{"id": it.ID, "name": it.Name, "path": it.Path, "attributes": map[string]any{"startDate": it.Start.Format(time.RFC3339), "finishDate": it.Finish.Format(time.RFC3339), "timeFrame": it.TimeFrame}}
}

func (o *Org) iterations(w http.ResponseWriter, r *http.Request, rt *route) {
	if !o.checkTeam(w, rt) {
		return
	}
	tf := r.URL.Query().Get("$timeframe")
	if tf != "" && !strings.EqualFold(tf, "current") {
		vssError(w, 400, "ArgumentException", "Only $timeframe=current is supported.", 0)
		return
	}
	v := []map[string]any{}
	for _, it := range rt.project.Iterations {
		if tf == "" || it.TimeFrame == "current" {
			v = append(v, iterJSON(it))
		}
	}
	writeJSON(w, map[string]any{"count": len(v), "value": v})
}

func (o *Org) teamFieldValues(w http.ResponseWriter, rt *route) {
	if !o.checkTeam(w, rt) {
		return
	}
	writeJSON(w, map[string]any{"field": map[string]any{"referenceName": "System.AreaPath"}, "defaultValue": rt.project.DefaultArea,
		"values": []map[string]any{{"value": rt.project.DefaultArea, "includeChildren": true}}})
}

func (o *Org) teamSettings(w http.ResponseWriter, rt *route) {
	if !o.checkTeam(w, rt) {
		return
	}
	var cur iteration
	for _, it := range rt.project.Iterations {
		if it.TimeFrame == "current" {
			cur = it
		}
	}
	writeJSON(w, map[string]any{"backlogIteration": map[string]any{"id": "00000000-0000-0000-0000-000000000000", "name": rt.project.Name, "path": ""},
		"defaultIteration": map[string]any{"id": cur.ID, "name": cur.Name, "path": `\` + cur.Name}, "defaultIterationMacro": "@currentIteration",
		"bugsBehavior": "asTasks", "workingDays": []string{"monday", "tuesday", "wednesday", "thursday", "friday"}})
}

// sort helper for deterministic output.
func sortedIDs(m map[int]*FakeWorkItem) []int {
	ids := make([]int, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return ids
}
