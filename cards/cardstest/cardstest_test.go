package cardstest_test

import (
	"slices"
	"testing"

	"github.com/sally-devops/devopsbot/cards"
	"github.com/sally-devops/devopsbot/cards/cardstest"
)

// The helpers read the verb under the key the cards write it to: with another
// key, every FindAction in the bot's tests would fail to find a button.
func TestHelpersReadTheCardsVerbKey(t *testing.T) {
	card := cards.ConnectPrompt(cards.ConnectView{OrgURL: "https://dev.azure.com/fabrikam"})
	if _, ok := cardstest.FindAction(card, cards.VerbConnectOrg); !ok {
		t.Fatalf("FindAction did not find %s under %q", cards.VerbConnectOrg, cards.DataVerb)
	}
	if got := cardstest.Verbs(card); !slices.Equal(got, []string{cards.VerbConnectOrg}) {
		t.Errorf("Verbs = %v", got)
	}
}

// A test hands over cards as values or as the JSON Teams received.
func TestFindActionAcceptsJSON(t *testing.T) {
	card := cards.ConnectPrompt(cards.ConnectView{})
	raw := []byte(`{"type":"AdaptiveCard","body":[{"type":"Input.Text","id":"orgUrl"}],"actions":[{"type":"Action.Execute","verb":"connect.org","data":{"sally":"connect.org"}}]}`)
	for _, in := range []any{card, map[string]any(card), raw, string(raw)} {
		if _, ok := cardstest.FindAction(in, cards.VerbConnectOrg); !ok {
			t.Errorf("FindAction(%T) failed", in)
		}
		if _, ok := cardstest.Inputs(in)[cards.InputOrgURL]; !ok {
			t.Errorf("Inputs(%T) failed", in)
		}
	}
	if _, ok := cardstest.FindAction([]byte("not json"), "x"); ok {
		t.Error("FindAction found an action in invalid JSON")
	}
	if _, ok := cardstest.FindAction(cards.Help(), cards.VerbCreate); ok {
		t.Error("FindAction found a verb that is not there")
	}
}
