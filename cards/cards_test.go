package cards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot/cards/cardstest"
	"github.com/sally-devops/devopsbot/summary"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

const specDir = "testdata/"

var (
	schemaOnce sync.Once
	schemas    map[string]*jsonschema.Schema
	schemaErr  error
)

// loadSchemas compiles the official schemas. Two patches, both documented in
// SOURCE.txt next to the schemas: the 1.6.0 schema writes `"required": true`
// inside two property definitions (Media.captionSources, MediaSource.mimeType),
// which draft-06 forbids (required must be an array), so those are removed;
// and the root "msteams" property Teams defines is rejected by the schema's
// additionalProperties, so validate() strips it after checking it separately.
func loadSchemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	schemaOnce.Do(func() {
		schemas = map[string]*jsonschema.Schema{}
		for version, file := range map[string]string{"1.5": "adaptive-card-1.5.0.json", "1.6": "adaptive-card-1.6.0.json"} {
			raw, err := os.ReadFile(specDir + file)
			if err != nil {
				schemaErr = err
				return
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
			if err != nil {
				schemaErr = err
				return
			}
			dropBooleanRequired(doc)
			c := jsonschema.NewCompiler()
			url := "https://adaptivecards.io/schemas/" + version + "/adaptive-card.json"
			if err := c.AddResource(url, doc); err != nil {
				schemaErr = err
				return
			}
			s, err := c.Compile(url)
			if err != nil {
				schemaErr = fmt.Errorf("compile %s: %w", file, err)
				return
			}
			schemas[version] = s
		}
	})
	if schemaErr != nil {
		t.Fatal(schemaErr)
	}
	return schemas
}

func dropBooleanRequired(v any) {
	switch x := v.(type) {
	case map[string]any:
		if _, ok := x["required"].(bool); ok {
			delete(x, "required")
		}
		for _, e := range x {
			dropBooleanRequired(e)
		}
	case []any:
		for _, e := range x {
			dropBooleanRequired(e)
		}
	}
}

// validate checks a card against the schema of its declared version, plus
// the Teams rules the schema cannot express.
func validate(t *testing.T, name string, c Card) {
	t.Helper()
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatalf("%s: marshal: %v", name, err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	m := doc.(map[string]any)
	if ms, _ := m["msteams"].(map[string]any); ms == nil || ms["width"] != "Full" || len(ms) != 1 {
		t.Errorf("%s: msteams = %v, want only width Full", name, m["msteams"])
	}
	delete(m, "msteams")
	version, _ := m["version"].(string)
	s := loadSchemas(t)[version]
	if s == nil {
		t.Fatalf("%s: version %q", name, version)
	}
	if err := s.Validate(doc); err != nil {
		t.Errorf("%s does not validate against %s: %v\n%s", name, version, err, raw)
	}
	if version == VersionSearch && !bytes.Contains(raw, []byte(`"Data.Query"`)) {
		t.Errorf("%s: version 1.6 without Data.Query", name)
	}
	cardstest.Walk(raw, func(e map[string]any) bool {
		typ, _ := e["type"].(string)
		if typ == "TextBlock" && e["wrap"] != true {
			t.Errorf("%s: TextBlock %q does not wrap", name, e["text"])
		}
		if strings.HasPrefix(typ, "Input.") && (e["label"] == nil || e["label"] == "" || e["errorMessage"] == nil || e["errorMessage"] == "") {
			t.Errorf("%s: input %v lacks label or errorMessage", name, e["id"])
		}
		return true
	})
}

var at = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

// sampleView builds the summary view of one of the sample deliveries.
func sampleView(t testing.TB, name string) SummaryView {
	raw, err := os.ReadFile("../summary/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	d, err := summary.DecodeDelivery(raw)
	if err != nil {
		t.Fatal(err)
	}
	v := SummaryView{SummaryID: d.ID, Meeting: d.Meeting}
	for _, in := range d.Insights {
		v.Insights = append(v.Insights, InsightView{Insight: in})
	}
	return v
}

func weeklySync(t testing.TB) SummaryView {
	v := sampleView(t, "weekly-sync.json")
	v.Insights[4].Results = []ResultView{{WorkItemID: 1234, WorkItemType: "Task", Title: "Add a timeout", URL: "https://dev.azure.com/fabrikam/_workitems/edit/1234", By: "Adele Vance"}}
	return v
}

// allCards is every card function with representative views, demo and not.
func allCards(t *testing.T) map[string]Card {
	choices := []Choice{{Title: "Web Portal", Value: "web"}, {Title: "Mobile", Value: "mobile"}}
	result := ResultView{WorkItemID: 42, WorkItemType: "Bug", Title: "Fix <b>it</b>", URL: "https://dev.azure.com/fabrikam/_workitems/edit/42", By: "Megan Bowen", At: at}
	out := map[string]Card{
		"CreateForm": CreateForm(CreateFormView{SummaryID: "s1", InsightID: "t1", Insight: "Add a timeout", Projects: choices,
			WorkItemTypes: []Choice{{Value: "Task"}}, People: []Choice{{Title: "Megan", Value: "megan@contoso.com"}},
			Areas: []Choice{{Value: `Web\Checkout`}}, Iterations: []Choice{{Value: `Web\Sprint 42`}},
			Values: CreateValues{Project: "web", Title: "Add a timeout", Description: "full text"}, Error: "TF401320: Rule Error"}),
		"CreateForm/unloaded": CreateForm(CreateFormView{SummaryID: "s1", InsightID: "t1", Projects: choices, Demo: true}),
		"CreateForm/custom type": CreateForm(CreateFormView{SummaryID: "s1", InsightID: "t1", Projects: choices,
			WorkItemTypes: []Choice{{Value: "Customer Request"}}, People: []Choice{{Title: "Megan", Value: "megan@contoso.com"}},
			Areas: []Choice{{Value: `Web\Checkout`}}, Iterations: []Choice{{Value: `Web\Sprint 42`}},
			Fields:   []FieldInput{{RefName: "Custom.Severity", Label: "Severity", Choices: []Choice{{Value: "1 - Critical"}, {Value: "2 - High"}}}, {RefName: "Custom.Ticket", Label: "Ticket"}},
			DueLabel: "Target Date", ParentDataset: "parents:web", ParentChoices: []Choice{{Title: "Epic 1: Checkout", Value: "1"}},
			Values: CreateValues{Project: "web", Title: "Refunds", DueDate: "2026-11-28", Parent: "1", Fields: map[string]string{"Custom.Severity": "2 - High", "Custom.Ticket": "<b>T-1</b>"}}}),
		"CommentForm": CommentForm(CommentFormView{SummaryID: "s1", InsightID: "t1", Comment: "hello", WorkItemID: "#12", Error: "Work item 12 does not exist"}),
		"CommentForm/search": CommentForm(CommentFormView{SummaryID: "s1", InsightID: "t1", Search: true, Demo: true,
			Recent: []Choice{{Title: "Task 1234: Add a timeout", Value: "1234"}}}),
		"CommentForm/search nothing recent": CommentForm(CommentFormView{SummaryID: "s1", InsightID: "t1", Search: true}),
		"Created":                           Created(result),
		"Commented":                         Commented(result),
		"AlreadyDone":                       AlreadyDone(result, false),
		"Working":                           Working("Creating…"),
		"Error":                             Error(ErrorView{Title: "Could not create", Message: "Try later", RetryAfterSeconds: 30, Reference: "ref-1"}),
		"Reconnect":                         Reconnect("https://dev.azure.com/fabrikam"),
		"NotConfigured":                     NotConfigured("Azure DevOps sign-in"),
		"ConnectPrompt":                     ConnectPrompt(ConnectView{}),
		"ConnectPrompt/error":               ConnectPrompt(ConnectView{OrgURL: "https://example.com/x", Error: "That is not an Azure DevOps URL.", Demo: true}),
		"ConnectSignIn":                     ConnectSignIn(SignInView{Org: "fabrikam", OrgURL: "https://dev.azure.com/fabrikam"}),
		"DialogConnect":                     DialogConnect(DialogConnectView{SummaryID: "s1", InsightID: "t1", Next: "create"}),
		"DialogSignIn":                      DialogSignIn(DialogConnectView{SummaryID: "s1", InsightID: "t1", Next: "comment", OrgURL: "https://dev.azure.com/fabrikam", SignInURL: "https://bot.example/oauth/start?s=abc"}),
		"Connected":                         Connected("fabrikam", "Megan Bowen", "megan@contoso.com"),
		"Status":                            Status(StatusView{Connected: true, Org: "fabrikam", OrgURL: "https://dev.azure.com/fabrikam", Name: "Megan", Email: "m@c.com", Scopes: []string{"vso.work_write"}}),
		"Status/not":                        Status(StatusView{}),
		"Disconnected":                      Disconnected(),
		"Help":                              Help(),
		"Welcome":                           Welcome(),
		"Help/demo":                         WithDemoBanner(Help()),
	}
	for i, c := range summaryCards(weeklySync(t)) {
		out[fmt.Sprint("Summary/", i)] = c
	}
	return out
}

func TestEveryCardValidates(t *testing.T) {
	for name, c := range allCards(t) {
		validate(t, name, c)
	}
}

func TestSchemaHarnessRejectsBadCards(t *testing.T) {
	// The harness must be able to fail: a made-up element type is invalid.
	bad := newCard(Version, false, []any{map[string]any{"type": "Blink", "text": "x"}})
	raw, _ := json.Marshal(bad)
	doc, _ := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	delete(doc.(map[string]any), "msteams")
	if loadSchemas(t)["1.5"].Validate(doc) == nil {
		t.Fatal("schema accepted an unknown element type")
	}
}

func TestDemoBanner(t *testing.T) {
	for name, c := range allCards(t) {
		raw, _ := json.Marshal(c)
		has := bytes.Contains(raw, []byte(DemoBannerText))
		want := strings.HasSuffix(name, "/demo") || name == "CreateForm/unloaded" || name == "CommentForm/search" || name == "ConnectPrompt/error"
		if has != want {
			t.Errorf("%s: demo banner shown = %v, want %v", name, has, want)
		}
	}
	twice := WithDemoBanner(WithDemoBanner(Help()))
	if n := bytes.Count(mustJSON(twice), []byte(DemoBannerText)); n != 1 {
		t.Errorf("banner appears %d times", n)
	}
	v := weeklySync(t)
	v.Demo = true
	for _, c := range summaryCards(v) {
		if !bytes.Contains(mustJSON(c), []byte(DemoBannerText)) {
			t.Error("summary card without demo banner")
		}
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
