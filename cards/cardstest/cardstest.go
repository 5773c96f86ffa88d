// Package cardstest reads cards the way Teams does, for tests: find a button
// by its verb, the inputs by their ids, every verb a card sends. It works on
// the JSON a card becomes, so a test sees exactly what a client would.
package cardstest

import (
	"encoding/json"
	"slices"
	"strings"
)

// dataVerb is cards.DataVerb, the data key of a button's verb. This package
// cannot import cards (the cards package's own tests use it), so its test
// checks that the two agree.
const dataVerb = "sally"

// FindAction finds the first action (in body action sets or card actions)
// whose data carries verb under cards.DataVerb. card may be a cards.Card, any
// map or slice, or its JSON ([]byte, json.RawMessage, string).
func FindAction(card any, verb string) (map[string]any, bool) {
	var found map[string]any
	walk(normalize(card), func(m map[string]any) bool {
		if isAction(m) {
			if d, ok := m["data"].(map[string]any); ok && d[dataVerb] == verb {
				found = m
				return false
			}
		}
		return true
	})
	return found, found != nil
}

// Inputs returns every input element of a card by its id.
func Inputs(card any) map[string]map[string]any {
	out := map[string]map[string]any{}
	walk(normalize(card), func(m map[string]any) bool {
		if t, _ := m["type"].(string); strings.HasPrefix(t, "Input.") {
			if id, ok := m["id"].(string); ok {
				out[id] = m
			}
		}
		return true
	})
	return out
}

// Verbs lists the verbs a card's actions send (Action.Execute's own verb and
// the data's cards.DataVerb), each once, in the order a reader meets them.
func Verbs(card any) []string {
	var out []string
	add := func(v any) {
		if s, ok := v.(string); ok && s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	walk(normalize(card), func(m map[string]any) bool {
		if isAction(m) {
			add(m["verb"])
			if d, ok := m["data"].(map[string]any); ok {
				add(d[dataVerb])
			}
		}
		return true
	})
	return out
}

func isAction(m map[string]any) bool {
	t, _ := m["type"].(string)
	return strings.HasPrefix(t, "Action.")
}

// normalize turns any card representation into generic JSON values.
func normalize(card any) any {
	var raw []byte
	switch c := card.(type) {
	case []byte:
		raw = c
	case json.RawMessage:
		raw = c
	case string:
		raw = []byte(c)
	default:
		var err error
		if raw, err = json.Marshal(card); err != nil {
			return nil
		}
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	return v
}

// walk visits every object depth first until visit returns false.
func walk(v any, visit func(map[string]any) bool) bool {
	switch x := v.(type) {
	case map[string]any:
		if !visit(x) {
			return false
		}
		for _, k := range sortedKeys(x) {
			if !walk(x[k], visit) {
				return false
			}
		}
	case []any:
		for _, e := range x {
			if !walk(e, visit) {
				return false
			}
		}
	}
	return true
}

// sortedKeys keeps walks deterministic; "body" before "actions" so the first
// match is the one a reader sees first.
func sortedKeys(m map[string]any) []string {
	order := []string{"body", "items", "columns", "actions", "card"}
	var keys []string
	for _, k := range order {
		if _, ok := m[k]; ok {
			keys = append(keys, k)
		}
	}
	var rest []string
	for k := range m {
		if !slices.Contains(order, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(keys, rest...)
}

// Walk visits every object of a card depth first, in the order a reader meets
// them, until visit returns false. card is taken as FindAction takes it.
func Walk(card any, visit func(map[string]any) bool) {
	walk(normalize(card), visit)
}
