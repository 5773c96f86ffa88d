package cards

import (
	"slices"
	"testing"

	"github.com/sally-devops/devopsbot/cards/cardstest"
)

// Every verb a card sends is declared in Verbs, which the bot's dispatch is
// checked against; and every declared verb is sent by some card, so none is
// left behind when a button goes. The renderer check clicks each verb with
// its clickContract, so that map must cover the same verbs.
func TestVerbsAreExactlyWhatTheCardsSend(t *testing.T) {
	sent := map[string][]string{} // verb -> gallery entries sending it
	for _, e := range gallery(t) {
		for _, demo := range []bool{false, true} {
			for _, c := range e.build(demo) {
				for _, v := range cardstest.Verbs(c) {
					sent[v] = append(sent[v], e.name)
				}
			}
		}
	}
	for v, where := range sent {
		if !slices.Contains(Verbs, v) {
			t.Errorf("%q is sent by %s but not declared in Verbs: the bot is not checked to handle it", v, where[0])
		}
	}
	seen := map[string]bool{}
	for _, v := range Verbs {
		if seen[v] {
			t.Errorf("%q is declared twice in Verbs", v)
		}
		seen[v] = true
		if len(sent[v]) == 0 {
			t.Errorf("%q is declared in Verbs but no card in the gallery sends it", v)
		}
		if _, ok := clickContracts[v]; !ok {
			t.Errorf("%q has no clickContract: the renderer check would not click it", v)
		}
	}
	for v := range clickContracts {
		if !seen[v] {
			t.Errorf("clickContracts has %q, which is not in Verbs", v)
		}
	}
}

// The refresh data is read back under the keys WithRefresh writes.
func TestRefreshDataReadsTheKeysWritten(t *testing.T) {
	c := WithRefresh(Card{"type": "AdaptiveCard"}, "s1", 2, []string{"29:a"})
	_, d, ok := RefreshOf(c)
	if !ok || d.Sally != VerbRefresh || d.SummaryID != "s1" || d.Part != 2 {
		t.Fatalf("RefreshOf = %+v, %v", d, ok)
	}
}
