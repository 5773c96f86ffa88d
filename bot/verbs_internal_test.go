package bot

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/sally-devops/devopsbot/cards"
	"github.com/sally-devops/devopsbot/cards/cardstest"
	"github.com/sally-devops/devopsbot/devops"
)

// The bot dispatches exactly the verbs the cards send: a verb only the bot
// knows is a button nobody can press any more (dead code), and a verb only
// the cards know is a button that answers "not supported".
func TestDispatchCoversExactlyTheCardsVerbs(t *testing.T) {
	var handled []string
	for v := range formVerbs {
		handled = append(handled, v)
	}
	for v := range chatVerbs {
		if !formVerbs[v] {
			handled = append(handled, v)
		}
	}
	declared := slices.Clone(cards.Verbs)
	sort.Strings(handled)
	sort.Strings(declared)
	if !slices.Equal(handled, declared) {
		t.Errorf("the bot dispatches %v\nthe cards send     %v", handled, declared)
	}
}

// Every input a form asks for and every key its buttons send arrives in a
// field of the struct the bot decodes that click into: Go cannot put the
// cards package's constants in a struct tag, so this checks the literals.
func TestClickDataDecodesEveryInputTheCardsSend(t *testing.T) {
	formCards := map[string]cards.Card{
		"CreateForm": cards.CreateForm(cards.CreateFormView{SummaryID: "s", InsightID: "i",
			Projects: []cards.Choice{{Value: "P"}}, WorkItemTypes: []cards.Choice{{Value: "Task"}}, People: []cards.Choice{{Value: "a@b"}},
			Areas: []cards.Choice{{Value: "P"}}, Iterations: []cards.Choice{{Value: `P\1`}}}),
		"CommentForm":   cards.CommentForm(cards.CommentFormView{SummaryID: "s", InsightID: "i", Search: true, Recent: []cards.Choice{{Value: "1"}}}),
		"DialogConnect": cards.DialogConnect(cards.DialogConnectView{SummaryID: "s", InsightID: "i", Next: actionCreate}),
		"DialogSignIn":  cards.DialogSignIn(cards.DialogConnectView{SummaryID: "s", InsightID: "i", Next: actionCreate, OrgURL: "https://dev.azure.com/x"}),
	}
	chatCards := map[string]cards.Card{
		"ConnectPrompt": cards.ConnectPrompt(cards.ConnectView{}),
		"ConnectSignIn": cards.ConnectSignIn(cards.SignInView{OrgURL: "https://dev.azure.com/x"}),
		"Reconnect":     cards.Reconnect("https://dev.azure.com/x"),
	}
	check := func(name string, c cards.Card, into any) {
		fields := jsonNames(into)
		for id := range cardstest.Inputs(c) {
			if !fields[id] {
				t.Errorf("%s: input %q is not read into %T", name, id, into)
			}
		}
		cardstest.Walk(c, func(m map[string]any) bool {
			if d, ok := m["data"].(map[string]any); ok && strings.HasPrefix(m["type"].(string), "Action.") {
				for k := range d {
					if k != "msteams" && !fields[k] {
						t.Errorf("%s: data key %q is not read into %T", name, k, into)
					}
				}
			}
			return true
		})
	}
	for name, c := range formCards {
		check(name, c, actionData{})
	}
	for name, c := range chatCards {
		check(name, c, connectData{})
	}
}

func jsonNames(v any) map[string]bool {
	out := map[string]bool{}
	t := reflect.TypeOf(v)
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		out[name] = true
	}
	return out
}

// The create form stops typing at Azure DevOps' own title limit, the one the
// bot checks on submit: a smaller one would refuse titles Azure DevOps takes,
// a larger one would let a person type a title the submit then refuses.
func TestCreateFormTitleLimitIsAzureDevOps(t *testing.T) {
	form := cards.CreateForm(cards.CreateFormView{Projects: []cards.Choice{{Value: "P"}}})
	if got := cardstest.Inputs(form)[cards.InputTitle]["maxLength"]; got != float64(devops.MaxTitleLen) {
		t.Errorf("the title input's maxLength is %v, Azure DevOps takes %d", got, devops.MaxTitleLen)
	}
}
