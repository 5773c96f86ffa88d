package manifest

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/sally-devops/devopsbot/apperr"
)

const testAppID = "1b2c3d4e-aaaa-4bbb-8ccc-0123456789ab"

func validConfig() Config {
	return Config{AppID: testAppID, PublicURL: "https://bot.example.com"}
}

// alwaysMatch stands in for patterns Go's RE2 cannot compile (the schema has one lookahead, on an
// Excel add-in field the manifest never uses), so the rest of the schema is still enforced.
type alwaysMatch string

func (a alwaysMatch) MatchString(string) bool { return true }
func (a alwaysMatch) String() string          { return string(a) }

var teamsSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	f, err := os.Open("testdata/MicrosoftTeams.schema.json")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	// The default loader reads file: URLs only, so nothing is fetched over the network.
	c.UseRegexpEngine(func(s string) (jsonschema.Regexp, error) {
		re, err := regexp.Compile(s)
		if err != nil {
			return alwaysMatch(s), nil
		}
		return re, nil
	})
	if err := c.AddResource(SchemaURL, doc); err != nil {
		return nil, err
	}
	return c.Compile(SchemaURL)
})

func validateAgainstSchema(t testing.TB, manifestJSON []byte) error {
	t.Helper()
	sch, err := teamsSchema()
	if err != nil {
		t.Fatalf("compile vendored schema: %v", err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(manifestJSON))
	if err != nil {
		t.Fatalf("manifest is not JSON: %v", err)
	}
	return sch.Validate(v)
}

func decode(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("manifest is not a JSON object: %v", err)
	}
	return m
}

// at walks a decoded JSON value by object keys and array indexes.
func at(t testing.TB, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %v: not an object", path)
			}
			if v, ok = m[k]; !ok {
				t.Fatalf("at %v: key %q missing", path, k)
			}
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				t.Fatalf("at %v: no index %d", path, k)
			}
			v = a[k]
		}
	}
	return v
}

func strs(v any) []string {
	a, _ := v.([]any)
	out := make([]string, 0, len(a))
	for _, x := range a {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func TestBuildFillsManifestFromConfig(t *testing.T) {
	b, err := Build(validConfig())
	if err != nil {
		t.Fatal(err)
	}
	m := decode(t, b)
	want := map[string]any{
		"$schema":         "https://developer.microsoft.com/en-us/json-schemas/teams/v1.30/MicrosoftTeams.schema.json",
		"manifestVersion": "1.30",
		"version":         "1.0.0",
		"id":              testAppID,
		"accentColor":     "#0078D4",
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	if got := at(t, m, "name", "short"); got != "Sally for Azure DevOps" {
		t.Errorf("name.short = %v", got)
	}
	wantDev := map[string]any{
		"name": "Sally for Azure DevOps", "websiteUrl": "https://bot.example.com/",
		"privacyUrl": "https://bot.example.com/privacy", "termsOfUseUrl": "https://bot.example.com/terms",
	}
	if got := at(t, m, "developer"); !reflect.DeepEqual(got, wantDev) {
		t.Errorf("developer = %v, want %v", got, wantDev)
	}
	if got := at(t, m, "icons"); !reflect.DeepEqual(got, map[string]any{"color": "color.png", "outline": "outline.png"}) {
		t.Errorf("icons = %v", got)
	}
	if got := strs(m["validDomains"]); !reflect.DeepEqual(got, []string{"bot.example.com"}) {
		t.Errorf("validDomains = %v", got)
	}
	bots, _ := m["bots"].([]any)
	if len(bots) != 1 {
		t.Fatalf("bots = %v, want exactly one", m["bots"])
	}
	bot := bots[0]
	if at(t, bot, "botId") != testAppID {
		t.Errorf("botId = %v", at(t, bot, "botId"))
	}
	if at(t, bot, "supportsFiles") != false || at(t, bot, "isNotificationOnly") != false {
		t.Errorf("supportsFiles/isNotificationOnly must be false: %v", bot)
	}
	if got := strs(at(t, bot, "scopes")); !reflect.DeepEqual(got, []string{"personal", "team", "groupChat"}) {
		t.Errorf("scopes = %v", got)
	}
	lists, _ := at(t, bot, "commandLists").([]any)
	seen := map[string]bool{}
	for _, l := range lists {
		sc := strs(at(t, l, "scopes"))
		if len(sc) != 1 {
			t.Fatalf("each command list must be for one scope, got %v", sc)
		}
		seen[sc[0]] = true
		cmds, _ := at(t, l, "commands").([]any)
		var titles []string
		for _, c := range cmds {
			titles = append(titles, at(t, c, "title").(string))
			if d, _ := at(t, c, "description").(string); d == "" {
				t.Errorf("command %v has no description", c)
			}
		}
		if want := []string{"connect devops", "disconnect devops", "status", "defaults", "help"}; !reflect.DeepEqual(titles, want) {
			t.Errorf("scope %s commands = %v, want %v", sc[0], titles, want)
		}
	}
	if len(seen) != 3 || !seen["personal"] || !seen["team"] || !seen["groupChat"] {
		t.Errorf("command lists cover %v, want personal, team, groupChat", seen)
	}
	for _, k := range []string{"authorization", "webApplicationInfo"} {
		if _, ok := m[k]; ok {
			t.Errorf("%s present without ChatMessageReadRSC", k)
		}
	}
}

func TestBuildUsesCustomSettings(t *testing.T) {
	c := validConfig()
	c.AppID = strings.ToUpper(testAppID)
	c.PublicURL = "https://Bot.Example.com:8443/"
	c.SignInHost = "Login.Example.org"
	c.Name = "Sally (staging)"
	c.Version = "2.10.3"
	c.Developer.Name = "Contoso IT"
	c.Developer.WebsiteURL = "https://contoso.example/support"
	c.Developer.PrivacyURL = "https://contoso.example/privacy"
	c.Developer.TermsURL = "https://contoso.example/terms"
	b, err := Build(c)
	if err != nil {
		t.Fatal(err)
	}
	m := decode(t, b)
	if m["id"] != testAppID || at(t, m, "bots", 0, "botId") != testAppID {
		t.Errorf("app id not normalised to lower case: id=%v botId=%v", m["id"], at(t, m, "bots", 0, "botId"))
	}
	if m["version"] != "2.10.3" || at(t, m, "name", "short") != "Sally (staging)" {
		t.Errorf("version/name = %v / %v", m["version"], at(t, m, "name", "short"))
	}
	wantDev := map[string]any{
		"name": "Contoso IT", "websiteUrl": "https://contoso.example/support",
		"privacyUrl": "https://contoso.example/privacy", "termsOfUseUrl": "https://contoso.example/terms",
	}
	if got := at(t, m, "developer"); !reflect.DeepEqual(got, wantDev) {
		t.Errorf("developer = %v, want %v", got, wantDev)
	}
	if got := strs(m["validDomains"]); !reflect.DeepEqual(got, []string{"bot.example.com", "login.example.org"}) {
		t.Errorf("validDomains = %v (want host names only, no port)", got)
	}
	if err := validateAgainstSchema(t, b); err != nil {
		t.Errorf("schema: %v", err)
	}
}

func TestDefaultDeveloperPagesKeepPort(t *testing.T) {
	c := validConfig()
	c.PublicURL = "https://bot.example.com:8443"
	b, err := Build(c)
	if err != nil {
		t.Fatal(err)
	}
	if got := at(t, decode(t, b), "developer", "privacyUrl"); got != "https://bot.example.com:8443/privacy" {
		t.Errorf("privacyUrl = %v", got)
	}
}

func TestSignInHostSameAsPublicHostIsListedOnce(t *testing.T) {
	c := validConfig()
	c.SignInHost = "BOT.example.com."
	b, err := Build(c)
	if err != nil {
		t.Fatal(err)
	}
	if got := strs(decode(t, b)["validDomains"]); !reflect.DeepEqual(got, []string{"bot.example.com"}) {
		t.Errorf("validDomains = %v", got)
	}
}

func TestChatMessageReadRSC(t *testing.T) {
	c := validConfig()
	c.ChatMessageReadRSC = true
	b, err := Build(c)
	if err != nil {
		t.Fatal(err)
	}
	m := decode(t, b)
	want := []any{map[string]any{"name": "ChatMessage.Read.Chat", "type": "Application"}}
	if got := at(t, m, "authorization", "permissions", "resourceSpecific"); !reflect.DeepEqual(got, want) {
		t.Errorf("resourceSpecific = %v, want %v", got, want)
	}
	if at(t, m, "webApplicationInfo", "id") != testAppID {
		t.Errorf("webApplicationInfo.id = %v", at(t, m, "webApplicationInfo", "id"))
	}
	if r, _ := at(t, m, "webApplicationInfo", "resource").(string); r == "" {
		t.Error("webApplicationInfo.resource must be non-empty for RSC")
	}
	if err := validateAgainstSchema(t, b); err != nil {
		t.Errorf("schema: %v", err)
	}
}

func TestBuiltManifestsValidateAgainstTeamsSchema(t *testing.T) {
	full := validConfig()
	full.SignInHost = "login.example.org"
	full.Name = strings.Repeat("é", 30)
	full.Developer.Name = strings.Repeat("x", 32)
	full.ChatMessageReadRSC = true
	for name, c := range map[string]Config{"defaults": validConfig(), "everything": full} {
		b, err := Build(c)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := validateAgainstSchema(t, b); err != nil {
			t.Errorf("%s: manifest does not match Microsoft's schema: %v", name, err)
		}
	}
}

// The schema check above is only worth something if the schema actually rejects broken manifests.
func TestSchemaRejectsBrokenManifests(t *testing.T) {
	b, err := Build(validConfig())
	if err != nil {
		t.Fatal(err)
	}
	breaks := map[string]func(m map[string]any){
		"no icons":         func(m map[string]any) { delete(m, "icons") },
		"id not a guid":    func(m map[string]any) { m["id"] = "not-a-guid" },
		"unknown property": func(m map[string]any) { m["surprise"] = true },
		"name too long":    func(m map[string]any) { m["name"].(map[string]any)["short"] = strings.Repeat("n", 31) },
		"bad bot scope":    func(m map[string]any) { m["bots"].([]any)[0].(map[string]any)["scopes"] = []any{"everywhere"} },
	}
	for name, breakIt := range breaks {
		m := decode(t, b)
		breakIt(m)
		broken, _ := json.Marshal(m)
		if validateAgainstSchema(t, broken) == nil {
			t.Errorf("%s: schema accepted a broken manifest", name)
		}
	}
}

func TestValidateAcceptsGoodConfigs(t *testing.T) {
	for name, mutate := range map[string]func(*Config){
		"minimal":            func(*Config) {},
		"trailing slash":     func(c *Config) { c.PublicURL = "https://bot.example.com/" },
		"port":               func(c *Config) { c.PublicURL = "https://bot.example.com:8443" },
		"spaces around":      func(c *Config) { c.AppID = " " + testAppID + " "; c.PublicURL = " https://bot.example.com " },
		"30 character name":  func(c *Config) { c.Name = strings.Repeat("a", 30) },
		"sign-in host":       func(c *Config) { c.SignInHost = "login.contoso.example" },
		"developer pages":    func(c *Config) { c.Developer.PrivacyURL = "https://contoso.example/p?x=1" },
		"big version number": func(c *Config) { c.Version = "10.0.123" },
	} {
		c := validConfig()
		mutate(&c)
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestValidateRefusesBadConfigs(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Config)
		want   string // part of the message that tells the user what to fix
	}{
		{"no app id", func(c *Config) { c.AppID = "" }, "AppID is required"},
		{"app id not guid", func(c *Config) { c.AppID = "my-bot" }, "AppID must be a GUID"},
		{"app id with braces", func(c *Config) { c.AppID = "{" + testAppID + "}" }, "AppID must be a GUID"},
		{"zero guid", func(c *Config) { c.AppID = "00000000-0000-0000-0000-000000000000" }, "not the all-zero GUID"},
		{"no public url", func(c *Config) { c.PublicURL = "" }, "PublicURL is required"},
		{"http", func(c *Config) { c.PublicURL = "http://bot.example.com" }, "PublicURL must use https"},
		{"no scheme", func(c *Config) { c.PublicURL = "bot.example.com" }, "PublicURL must be an absolute URL"},
		{"path", func(c *Config) { c.PublicURL = "https://bot.example.com/api/messages" }, "PublicURL must not have a path"},
		{"query", func(c *Config) { c.PublicURL = "https://bot.example.com/?a=b" }, "PublicURL must not have a query"},
		{"empty query", func(c *Config) { c.PublicURL = "https://bot.example.com?" }, "PublicURL must not have a query"},
		{"fragment", func(c *Config) { c.PublicURL = "https://bot.example.com#x" }, "PublicURL must not have a query or fragment"},
		{"user info", func(c *Config) { c.PublicURL = "https://me:pw@bot.example.com" }, "PublicURL must not contain a user name"},
		{"ip address", func(c *Config) { c.PublicURL = "https://10.0.0.1" }, "PublicURL must be a DNS name"},
		{"ipv6", func(c *Config) { c.PublicURL = "https://[::1]:8443" }, "PublicURL must be a DNS name"},
		{"single label", func(c *Config) { c.PublicURL = "https://localhost" }, "PublicURL must be a fully qualified host"},
		{"bad port", func(c *Config) { c.PublicURL = "https://bot.example.com:99999" }, "PublicURL has an invalid port"},
		{"underscore host", func(c *Config) { c.PublicURL = "https://bot_1.example.com" }, "PublicURL is not a valid host name"},
		{"sign-in url not host", func(c *Config) { c.SignInHost = "https://login.example.com" }, "SignInHost must be a host name only"},
		{"name too long", func(c *Config) { c.Name = strings.Repeat("a", 31) }, "Name must be at most 30 characters"},
		{"name control char", func(c *Config) { c.Name = "Sally\x00" }, "Name must not contain control characters"},
		{"name bad utf8", func(c *Config) { c.Name = "Sally\xff" }, "Name is not valid UTF-8"},
		{"version v prefix", func(c *Config) { c.Version = "v1.0.0" }, "Version must look like 1.0.0"},
		{"version two parts", func(c *Config) { c.Version = "1.0" }, "Version must look like 1.0.0"},
		{"version prerelease", func(c *Config) { c.Version = "1.0.0-beta" }, "Version must look like 1.0.0"},
		{"version leading zero", func(c *Config) { c.Version = "1.01.0" }, "Version must look like 1.0.0"},
		{"developer name too long", func(c *Config) { c.Developer.Name = strings.Repeat("d", 33) }, "Developer.Name must be at most 32"},
		{"privacy http", func(c *Config) { c.Developer.PrivacyURL = "http://contoso.example/privacy" }, "Developer.PrivacyURL must use https"},
		{"terms relative", func(c *Config) { c.Developer.TermsURL = "/terms" }, "Developer.TermsURL must be an absolute https URL"},
		{"website javascript", func(c *Config) { c.Developer.WebsiteURL = "javascript:alert(1)" }, "Developer.WebsiteURL must be an absolute https URL"},
		{"website space", func(c *Config) { c.Developer.WebsiteURL = "https://contoso.example/a b" }, "Developer.WebsiteURL must not contain spaces"},
	}
	for _, tc := range cases {
		c := validConfig()
		tc.mutate(&c)
		err := c.Validate()
		if !apperr.Is(err, apperr.Invalid) {
			t.Errorf("%s: Validate() = %v, want an Invalid error", tc.name, err)
			continue
		}
		if msg := apperr.UserMessage(err); !strings.Contains(msg, tc.want) {
			t.Errorf("%s: message %q does not say %q", tc.name, msg, tc.want)
		}
		if b, err := Build(c); err == nil || b != nil {
			t.Errorf("%s: Build succeeded on a config Validate refuses", tc.name)
		}
	}
}

func TestValidateListsEveryProblem(t *testing.T) {
	c := Config{AppID: "nope", PublicURL: "http://x", Version: "1", Name: strings.Repeat("n", 40)}
	msg := apperr.UserMessage(c.Validate())
	for _, want := range []string{"AppID", "PublicURL", "Version", "Name"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not mention %s", msg, want)
		}
	}
}

// The developer name defaults to the app name; the longest allowed app name (in multi-byte
// characters) must still give a developer name Teams accepts.
func TestDefaultDeveloperNameFitsAnyValidAppName(t *testing.T) {
	c := validConfig()
	c.Name = strings.Repeat("ü", 30)
	b, err := Build(c)
	if err != nil {
		t.Fatal(err)
	}
	if n := utf8.RuneCountInString(at(t, decode(t, b), "developer", "name").(string)); n > 32 {
		t.Errorf("developer name has %d characters", n)
	}
}

func FuzzConfig(f *testing.F) {
	f.Add(testAppID, "https://bot.example.com", "", "", "", "", "", false)
	f.Add(testAppID, "https://bot.example.com:8443/", "login.example.org", "Sally", "1.2.3", "https://x.example/p", "Contoso", true)
	f.Add("00000000-0000-0000-0000-000000000000", "http://[::1]/x?y#z", "https://a", "\x00", "01.0.0", "/rel", "", false)
	f.Add(testAppID, "https://xn--bcher-kva.example", "a.b", "\u202eevil", "0.0.0", "https://u:p@h.example", "d", true)
	f.Fuzz(func(t *testing.T, appID, publicURL, signIn, name, version, pageURL, devName string, rsc bool) {
		c := Config{AppID: appID, PublicURL: publicURL, SignInHost: signIn, Name: name, Version: version, ChatMessageReadRSC: rsc}
		c.Developer.Name = devName
		c.Developer.PrivacyURL = pageURL
		err := c.Validate()
		b, berr := Build(c)
		if err != nil {
			if !apperr.Is(err, apperr.Invalid) || berr == nil || b != nil {
				t.Fatalf("Validate = %v but Build = %v, %v", err, len(b), berr)
			}
			return
		}
		if berr != nil {
			t.Fatalf("Validate passed but Build failed: %v", berr)
		}
		if err := validateAgainstSchema(t, b); err != nil {
			t.Fatalf("accepted config %+v builds a manifest Teams' schema refuses: %v\n%s", c, err, b)
		}
	})
}

func BenchmarkBuild(b *testing.B) {
	c := validConfig()
	c.ChatMessageReadRSC = true
	for b.Loop() {
		if _, err := Build(c); err != nil {
			b.Fatal(err)
		}
	}
}

// The message extension puts "Create work item" and "Add to work item" in the
// "…" menu of every message; the ids are what the bot routes on.
func TestManifestOffersMessageActions(t *testing.T) {
	b, err := Build(validConfig())
	if err != nil {
		t.Fatal(err)
	}
	m := decode(t, b)
	exts, _ := m["composeExtensions"].([]any)
	if len(exts) != 1 {
		t.Fatalf("composeExtensions = %v, want one", m["composeExtensions"])
	}
	if at(t, exts[0], "botId") != testAppID {
		t.Errorf("composeExtensions botId = %v, want the bot's id", at(t, exts[0], "botId"))
	}
	cmds, _ := at(t, exts[0], "commands").([]any)
	got := map[string]string{}
	for _, c := range cmds {
		if at(t, c, "type") != "action" || at(t, c, "fetchTask") != true || !reflect.DeepEqual(strs(at(t, c, "context")), []string{"message"}) {
			t.Errorf("command %v must be an action on messages that fetches its dialog", c)
		}
		got[at(t, c, "id").(string)] = at(t, c, "title").(string)
	}
	if want := map[string]string{"createWorkItem": "Create work item", "addComment": "Add to work item"}; !reflect.DeepEqual(got, want) {
		t.Errorf("message actions = %v, want %v", got, want)
	}
}
