package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/bot"
	"github.com/sally-devops/devopsbot/cards"
	"github.com/sally-devops/devopsbot/cards/cardstest"
	"github.com/sally-devops/devopsbot/devops"
	"github.com/sally-devops/devopsbot/devops/devopstest"
	"github.com/sally-devops/devopsbot/teams/teamstest"
)

const idpClientID, idpClientSecret = "devops-client", "devops-secret"

// withOAuth configures connect devops against the fake identity provider.
func withOAuth(idp **devopstest.IdentityProvider) func(h *harness) option {
	return func(h *harness) option {
		*idp = devopstest.NewIdentityProvider(h.t, h.org, idpClientID, idpClientSecret)
		// Adele signs in with her work account, in the directory her Teams account is in.
		(*idp).SignInAs(devopstest.User{ObjectID: userAdele, TenantID: tenantID, Name: "Adele Vance", Email: "adele@contoso.com", Identity: devopstest.Adele})
		return func(c *bot.Config) {
			c.PublicURL = h.srv.URL
			c.OAuth = &devops.OAuthSettings{ClientID: idpClientID, ClientSecret: idpClientSecret, RedirectURL: h.srv.URL + "/oauth/callback", AuthorityHost: (*idp).URL}
			c.MissingOAuth = nil
			c.Tenants = devops.NewTenantResolver(nil, h.org.Hosts)
		}
	}
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 10 * time.Second}

// signInLink asks for the sign-in link the way the Sign in button does, and
// returns the URL of Teams' loginRequest.
func (h *harness) signInLink(user, conv string) string {
	h.t.Helper()
	resp := h.invoke(user, conv, "adaptiveCard/action", map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": "connect.signin",
		"data": map[string]any{"sally": "connect.signin", "org": "https://dev.azure.com/fabrikam"}}})
	if resp["statusCode"] != float64(401) || resp["type"] != "application/vnd.microsoft.activity.loginRequest" {
		h.t.Fatalf("expected a loginRequest, got %.400s", js(resp))
	}
	v := resp["value"].(map[string]any)
	return v["buttons"].([]any)[0].(map[string]any)["value"].(string)
}

// browse follows the sign-in link like a browser: Microsoft redirects back to our
// callback, which answers with a page.
func (h *harness) browse(link string) (int, string, string) {
	h.t.Helper()
	r, err := noRedirect.Get(link)
	if err != nil {
		h.t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusFound {
		h.t.Fatalf("identity provider answered %d", r.StatusCode)
	}
	cb := r.Header.Get("Location")
	page, err := http.Get(cb)
	if err != nil {
		h.t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	dumpPage(h.t, body)
	return page.StatusCode, string(body), cb
}

var codeOnPage = regexp.MustCompile(`class="code"[^>]*>((?:[A-Z0-9]{4}-){3}[A-Z0-9]{4})<`)

func TestConnectFlowEndToEnd(t *testing.T) {
	var idp *devopstest.IdentityProvider
	h := newHarness(t, withOAuth(&idp))
	conv := "a:personal-adele"

	// A pasted long link is reduced to the organization.
	c := cardOf(t, h.say(userAdele, conv, "connect devops https://dev.azure.com/fabrikam/ProjectX/_git/WebPortal/pullrequest/860")[0])
	if !strings.Contains(c, "Organization: fabrikam (https://dev.azure.com/fabrikam)") {
		t.Fatalf("sign-in card: %.500s", c)
	}
	link := h.signInLink(userAdele, conv)
	u, _ := url.Parse(link)
	q := u.Query()
	if !strings.HasPrefix(u.Path, "/"+devopstest.DefaultTenant+"/oauth2/v2.0/authorize") || q.Get("code_challenge_method") != "S256" ||
		strings.Contains(q.Get("scope"), "vso.identity") || q.Get("redirect_uri") != h.srv.URL+"/oauth/callback" {
		t.Fatalf("sign-in link: %s", link)
	}
	status, page, callback := h.browse(link)
	m := codeOnPage.FindStringSubmatch(page)
	if status != http.StatusOK || m == nil || !strings.Contains(page, "Adele Vance") || strings.Contains(page, "at-") {
		t.Fatalf("success page (%d): %s", status, page)
	}
	// Teams hands the code back in the next invoke's state (notifySuccess).
	resp := h.invoke(userAdele, conv, "adaptiveCard/action", map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": "connect.signin",
		"data": map[string]any{"sally": "connect.signin", "org": "https://dev.azure.com/fabrikam"}}, "state": strings.ReplaceAll(m[1], "-", "")})
	if !strings.Contains(js(resp), "Connected to Azure DevOps") || !strings.Contains(js(resp), "adele@contoso.com") {
		t.Fatalf("connected card: %.500s", js(resp))
	}
	c = cardOf(t, h.say(userAdele, conv, "status")[0])
	if !strings.Contains(c, "fabrikam") || !strings.Contains(c, "vso.work") {
		t.Fatalf("status: %.400s", c)
	}
	// The tokens are encrypted at rest and usable.
	conn, err := h.store.GetConnection(context.Background(), devopsbot.UserKey{TenantID: tenantID, AADObjectID: userAdele})
	if err != nil || conn.RefreshToken == "" || conn.EntraTenantID != devopstest.DefaultTenant {
		t.Fatalf("stored connection: %+v %v", conn, err)
	}
	// The same callback again (replay) is refused.
	r, _ := http.Get(callback)
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "expired") {
		t.Fatalf("replayed callback: %d", r.StatusCode)
	}
	// The code works once.
	again := cardOf(t, h.say(userAdele, conv, "code "+m[1])[0])
	if !strings.Contains(again, "not valid") {
		t.Fatalf("code reuse: %.300s", again)
	}
	c = cardOf(t, h.say(userAdele, conv, "disconnect devops")[0])
	if !strings.Contains(c, "Disconnected") {
		t.Fatalf("disconnect: %.300s", c)
	}
	if _, err := h.store.GetConnection(context.Background(), devopsbot.UserKey{TenantID: tenantID, AADObjectID: userAdele}); err == nil {
		t.Fatal("tokens still stored after disconnect")
	}
}

func TestForwardedLinkConnectsNobody(t *testing.T) {
	var idp *devopstest.IdentityProvider
	h := newHarness(t, withOAuth(&idp))
	link := h.signInLink(userAdele, chatID)

	// Same directory: Alex clicks Adele's link.
	idp.SignInAs(devopstest.User{ObjectID: userAlex, TenantID: tenantID, Name: "Alex Wilber", Email: "alex@contoso.com", Identity: devopstest.Alex})
	status, page, _ := h.browse(link)
	if status != http.StatusForbidden || !strings.Contains(page, "made for someone else") || codeOnPage.MatchString(page) {
		t.Fatalf("forwarded link, same tenant (%d): %s", status, page)
	}

	// A guest from another directory: the page shows a code, but only Adele could use it.
	link = h.signInLink(userAdele, chatID)
	idp.SignInAs(devopstest.User{ObjectID: "99999999-0000-0000-0000-000000000001", TenantID: "99999999-0000-0000-0000-000000000000", Name: "Guest", Email: "guest@fabrikam.example", Identity: devopstest.Lee})
	_, page, _ = h.browse(link)
	m := codeOnPage.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("guest page: %s", page)
	}
	c := cardOf(t, h.say(userAlex, chatID, "code "+m[1])[0])
	if !strings.Contains(c, "started by someone else") {
		t.Fatalf("code from another Teams user: %.400s", c)
	}
	for _, u := range []string{userAdele, userAlex} {
		if _, err := h.store.GetConnection(context.Background(), devopsbot.UserKey{TenantID: tenantID, AADObjectID: u}); err == nil {
			t.Fatalf("user %s got connected by a forwarded link", u)
		}
	}
}

// Each way a connection can be refused says why, on the card or page the
// person sees, and connects nobody.
func TestConnectRefusals(t *testing.T) {
	var idp *devopstest.IdentityProvider
	h := newHarness(t, withOAuth(&idp))
	conv := "a:personal-adele"

	// A look-alike host: the reason above the prompt, the input given back.
	card := sentCard(t, h.say(userAdele, conv, "connect devops https://dev.azure.com.evil.example/fabrikam")[0])
	if w := attentionTexts(card); len(w) != 1 || w[0] != "Only Azure DevOps Services links (https://dev.azure.com/... or https://....visualstudio.com) are accepted." {
		t.Errorf("look-alike host: warning %q", w)
	}
	if v := cardstest.Inputs(card)["orgUrl"]["value"]; v != "https://dev.azure.com.evil.example/fabrikam" {
		t.Errorf("look-alike host: input given back as %v", v)
	}

	// Microsoft's refusals, shown on the callback page.
	refused := func(what, page string, reasons ...string) {
		t.Helper()
		if !strings.Contains(page, `role="status">Not connected.<`) {
			t.Errorf("%s: the page does not say Not connected: %s", what, page)
		}
		for _, r := range reasons {
			if !strings.Contains(page, r) {
				t.Errorf("%s: the page lacks %q: %s", what, r, page)
			}
		}
	}
	idp.FailAuthorize("access_denied", "AADSTS65004: User declined to consent")
	st, page, _ := h.browse(h.signInLink(userAdele, conv))
	if st != http.StatusBadRequest {
		t.Errorf("denied consent answered %d", st)
	}
	refused("denied consent", page, "Sign-in cancelled")
	idp.FailAuthorize("consent_required", "AADSTS65001: The user or administrator has not consented")
	st, page, _ = h.browse(h.signInLink(userAdele, conv))
	if st != http.StatusBadRequest {
		t.Errorf("admin consent answered %d", st)
	}
	refused("admin consent", page, "administrator must approve", "adminconsent")
	// An account that is not a member of the organization (the service answers 203 + sign-in page).
	idp.SignInAs(devopstest.User{ObjectID: userAdele, TenantID: tenantID, Name: "Adele Vance", Email: "adele@outlook.example"})
	st, page, _ = h.browse(h.signInLink(userAdele, conv))
	if st != http.StatusForbidden {
		t.Errorf("organization not reachable answered %d", st)
	}
	refused("organization not reachable", page, "<h1>Can&#39;t reach fabrikam</h1>", "can&#39;t open the Azure DevOps organization fabrikam", "adele@outlook.example")

	// The callback called by hand: a missing, forged or used state is an
	// expired link; a real state without Microsoft's answer is incomplete.
	link := h.signInLink(userAdele, conv)
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	state := u.Query().Get("state")
	if state == "" {
		t.Fatalf("no state in the sign-in link %s", link)
	}
	for _, tc := range []struct{ query, heading string }{
		{"", "This sign-in link has expired"},
		{"?state=forged&code=x", "This sign-in link has expired"},
		{"?code=x", "This sign-in link has expired"},
		{"?state=" + url.QueryEscape(state) + "&state=" + url.QueryEscape(state) + "&code=x", "This sign-in link has expired"},
		{"?state=" + url.QueryEscape(state), "Sign-in incomplete"},
		{"?state=" + url.QueryEscape(state) + "&code=x", "This sign-in link has expired"}, // used once already
	} {
		r, err := http.Get(h.srv.URL + "/oauth/callback" + tc.query)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "<h1>"+tc.heading+"</h1>") {
			t.Errorf("callback%s answered %d, want 400 %q: %s", tc.query, r.StatusCode, tc.heading, body)
		}
		refused("callback"+tc.query, string(body), "connect devops")
	}
	r, err := http.Post(h.srv.URL+"/oauth/callback?state=x&code=y", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != http.StatusMethodNotAllowed || r.Header.Get("Allow") != http.MethodGet || !strings.Contains(string(body), "<h1>Not allowed</h1>") || !strings.Contains(string(body), "Open the sign-in link from Teams.") {
		t.Errorf("POST callback answered %d (Allow %q): %s", r.StatusCode, r.Header.Get("Allow"), body)
	}

	// An organization that does not exist: the reason, and the prompt with the input.
	resp := h.invoke(userAdele, conv, "adaptiveCard/action", map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": "connect.signin",
		"data": map[string]any{"sally": "connect.signin", "org": "https://dev.azure.com/nosuchorg"}}})
	if resp["statusCode"] != float64(200) {
		t.Fatalf("unknown organization: %.500s", js(resp))
	}
	card = cards.Card(resp["value"].(map[string]any))
	if w := attentionTexts(card); len(w) != 1 || w[0] != "No Azure DevOps organization by that name was found." {
		t.Errorf("unknown organization: warning %q", w)
	}
	if v := cardstest.Inputs(card)["orgUrl"]["value"]; v != "https://dev.azure.com/nosuchorg" {
		t.Errorf("unknown organization: input given back as %v", v)
	}

	if _, err := h.store.GetConnection(context.Background(), devopsbot.UserKey{TenantID: tenantID, AADObjectID: userAdele}); err == nil {
		t.Fatal("a refused sign-in connected the user")
	}
}

// sentCard returns the adaptive card of a sent activity, for the card helpers.
func sentCard(t *testing.T, s teamstest.Sent) cards.Card {
	t.Helper()
	var c map[string]any
	if err := json.Unmarshal([]byte(cardOf(t, s)), &c); err != nil {
		t.Fatal(err)
	}
	return cards.Card(c)
}

func TestPersonalAccountOrganizationIsRefused(t *testing.T) {
	var idp *devopstest.IdentityProvider
	h := newHarness(t, withOAuth(&idp))
	h.org.SetTenant("00000000-0000-0000-0000-000000000000")
	resp := h.invoke(userAdele, "a:personal-adele", "adaptiveCard/action", map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": "connect.signin",
		"data": map[string]any{"sally": "connect.signin", "org": "https://dev.azure.com/fabrikam"}}})
	if !strings.Contains(strings.ToLower(js(resp)), "personal microsoft accounts") {
		t.Fatalf("personal-account organization: %.500s", js(resp))
	}
}

func TestExpiredSignInLinkIsRefused(t *testing.T) {
	var idp *devopstest.IdentityProvider
	var shift time.Duration
	h := newHarness(t, withOAuth(&idp), func(h *harness) option {
		return func(c *bot.Config) { c.Now = func() time.Time { return time.Now().Add(shift) } }
	})
	shift = -11 * time.Minute // the link was made 11 minutes ago
	link := h.signInLink(userAdele, "a:personal-adele")
	shift = 0
	if st, page, _ := h.browse(link); st != http.StatusBadRequest || !strings.Contains(page, "expired") {
		t.Fatalf("expired link (%d): %s", st, page)
	}
}

// connectOAuth runs the whole sign-in for a user and returns when connected.
func connectOAuth(t *testing.T, h *harness, user, conv string) {
	t.Helper()
	_, page, _ := h.browse(h.signInLink(user, conv))
	m := codeOnPage.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no code on the page: %s", page)
	}
	if c := cardOf(t, h.say(user, conv, "code "+m[1])[0]); !strings.Contains(c, "Connected") {
		t.Fatalf("connect: %.300s", c)
	}
}

func TestRefreshAndReconnectAfterInvalidGrant(t *testing.T) {
	var idp *devopstest.IdentityProvider
	// Nothing Azure DevOps answered is cached: every form open below asks it
	// again, so each one needs a working token.
	h := newHarness(t, withOAuth(&idp), func(*harness) option {
		return func(c *bot.Config) { c.Metadata = devops.NewMetadataCache(time.Nanosecond) }
	})
	sid, _ := deliveredSummary(t, h)
	connectOAuth(t, h, userAdele, chatID)
	key := devopsbot.UserKey{TenantID: tenantID, AADObjectID: userAdele}
	ctx := context.Background()

	// An expired access token is refreshed and the rotated tokens are stored.
	conn, _ := h.store.GetConnection(ctx, key)
	old := conn.RefreshToken
	conn.Expiry = time.Now().Add(-time.Hour)
	if err := h.store.SaveConnection(ctx, conn); err != nil {
		t.Fatal(err)
	}
	form := dialogCard(t, h.taskFetch(userAdele, chatID, createData(sid)))
	if _, ok := cardsFind(form, "create.submit"); !ok {
		t.Fatalf("form after refresh: %.400s", js(form))
	}
	conn, _ = h.store.GetConnection(ctx, key)
	if conn.RefreshToken == old || !conn.Expiry.After(time.Now()) {
		t.Fatal("rotated tokens were not stored")
	}

	// Consent revoked: the next action asks to connect again, and status says so.
	idp.RevokeRefreshTokens()
	conn.Expiry = time.Now().Add(-time.Hour)
	_ = h.store.SaveConnection(ctx, conn)
	resp := dialogCard(t, h.taskFetch(userAdele, chatID, createData(sid)))
	if _, ok := cardsFind(resp, "dialog.connect"); !ok || !strings.Contains(js(resp), "expired or was revoked") {
		t.Fatalf("after invalid_grant: %.500s", js(resp))
	}
	conn, _ = h.store.GetConnection(ctx, key)
	if conn.Status != devopsbot.StatusNeedsReconnect {
		t.Fatalf("status = %q", conn.Status)
	}
	if c := cardOf(t, h.say(userAdele, "a:personal-adele", "status")[0]); !strings.Contains(c, "sign in again") {
		t.Fatalf("status after revoke: %.300s", c)
	}
	// Reconnecting makes it work again.
	connectOAuth(t, h, userAdele, chatID)
	form = dialogCard(t, h.taskFetch(userAdele, chatID, createData(sid)))
	if _, ok := cardsFind(form, "create.submit"); !ok {
		t.Fatalf("form after reconnect: %.400s", js(form))
	}
}

// dumpPage keeps the pages a test saw when SALLY_PAGE_DUMP names a folder, for
// looking at them in a browser (screenshots in the issue notes).
func dumpPage(t *testing.T, body []byte) {
	dir := os.Getenv("SALLY_PAGE_DUMP")
	if dir == "" {
		return
	}
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	for i := 0; ; i++ {
		p := filepath.Join(dir, fmt.Sprintf("%s-%d.html", name, i))
		if _, err := os.Stat(p); err != nil {
			_ = os.WriteFile(p, body, 0o644)
			return
		}
	}
}

func TestSignInAcrossReplicas(t *testing.T) {
	var idp *devopstest.IdentityProvider
	h := newHarness(t, withOAuth(&idp))
	r := h.replica()
	conv := "a:personal-adele"
	link := h.signInLink(userAdele, conv) // replica 1 makes the link
	loc := idp.Authorize(t, link)
	cb, _ := url.Parse(r.srv.URL) // the load balancer sends the callback to replica 2
	loc.Scheme, loc.Host = cb.Scheme, cb.Host
	page, err := http.Get(loc.String())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	m := codeOnPage.FindStringSubmatch(string(body))
	if page.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("callback on replica 2 (%d): %s", page.StatusCode, body)
	}
	if c := cardOf(t, h.say(userAdele, conv, "code "+m[1])[0]); !strings.Contains(c, "Connected") { // code typed, replica 1 answers
		t.Fatalf("connect: %.300s", c)
	}
	if c := cardOf(t, r.say(userAdele, conv, "status")[0]); !strings.Contains(c, "fabrikam") {
		t.Fatalf("replica 2 does not see the connection: %.300s", c)
	}
}

// In the Agents Playground (a connector on loopback, FORMS=auto), which cannot
// open Teams' sign-in pop-up, Sign in answers with a card whose button opens
// the same sign-in page; a wrong code keeps the organization.
func TestPlaygroundSignInIsALinkAndAWrongCodeKeepsTheOrg(t *testing.T) {
	var idp *devopstest.IdentityProvider
	h := newHarness(t, withOAuth(&idp), func(h *harness) option { return func(c *bot.Config) { c.Forms = "auto" } })
	// Typed in the chat: the card's Sign in already opens the page (one click).
	first := cardOf(t, h.say(userAdele, "a:personal-adele", "connect devops https://dev.azure.com/fabrikam")[0])
	if !regexp.MustCompile(`"title":"Sign in","type":"Action.OpenUrl","url":"` + regexp.QuoteMeta(idp.URL)).MatchString(first) {
		t.Fatalf("the connect card's Sign in is not a link to the sign-in page: %s", first)
	}
	resp := h.invoke(userAdele, "a:personal-adele", "adaptiveCard/action", map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": "connect.signin",
		"data": map[string]any{"sally": "connect.signin", "org": "https://dev.azure.com/fabrikam"}}})
	if resp["statusCode"] != float64(200) || resp["type"] != "application/vnd.microsoft.card.adaptive" {
		t.Fatalf("want a card the Playground can show, got %.400s", js(resp))
	}
	card := js(resp["value"])
	m := regexp.MustCompile(`"type":"Action.OpenUrl","url":"([^"]+)"`).FindStringSubmatch(card)
	if m == nil {
		m = regexp.MustCompile(`"title":"Sign in","type":"Action.OpenUrl","url":"([^"]+)"`).FindStringSubmatch(card)
	}
	if m == nil || !strings.HasPrefix(strings.ReplaceAll(m[1], `\u0026`, "&"), idp.URL) {
		t.Fatalf("Sign in is not a link to the sign-in page: %s", card)
	}
	wrong := h.invoke(userAdele, "a:personal-adele", "adaptiveCard/action", map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": "connect.code",
		"data": map[string]any{"sally": "connect.code", "org": "https://dev.azure.com/fabrikam", "code": "ABCD-EFGH-JKLM-NPQR"}}})
	if c := js(wrong["value"]); !strings.Contains(c, "Sign in to Azure DevOps") || !strings.Contains(c, "fabrikam") || !strings.Contains(c, "not valid") {
		t.Fatalf("a wrong code should offer the sign-in to the same organization again: %.600s", c)
	}
}
