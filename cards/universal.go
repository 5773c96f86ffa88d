package cards

import "encoding/json"

// AsUniversalActions rewrites a card for clients that cannot open Teams dialogs
// (the Microsoft 365 Agents Playground): every Action.Submit that carries our
// "sally" verb becomes an Action.Execute with that verb and the same data (minus
// the msteams dialog hint), so the bot answers it with a card that replaces the
// one clicked. Other actions and the card itself are left as they are. The input
// card is not modified.
func AsUniversalActions(c Card) Card {
	// Normalise through JSON so typed parts of a card are rewritten too.
	var plain map[string]any
	if raw, err := json.Marshal(c); err == nil && json.Unmarshal(raw, &plain) == nil {
		out, _ := rewriteActions(plain).(map[string]any)
		return Card(out)
	}
	return c
}

func rewriteActions(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = rewriteActions(x)
		}
		if m["type"] == "Action.Submit" {
			if d, ok := m["data"].(map[string]any); ok {
				if verb, ok := d[DataVerb].(string); ok && verb != "" {
					nd := make(map[string]any, len(d))
					for k, x := range d {
						if k != "msteams" {
							nd[k] = x
						}
					}
					m["type"] = "Action.Execute"
					m["verb"] = verb
					m["data"] = nd
				}
			}
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, x := range t {
			s[i] = rewriteActions(x)
		}
		return s
	}
	return v
}

// AsDialogActions rewrites a card for a Teams dialog, which cannot run
// Action.Execute: every Action.Execute that carries our "sally" verb becomes
// an Action.Submit with the same data (a task/submit to the bot). It is the
// inverse of AsUniversalActions for the next steps of error cards.
func AsDialogActions(c Card) Card {
	var plain map[string]any
	if raw, err := json.Marshal(c); err == nil && json.Unmarshal(raw, &plain) == nil {
		out, _ := rewriteExecute(plain).(map[string]any)
		return Card(out)
	}
	return c
}

func rewriteExecute(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = rewriteExecute(x)
		}
		if m["type"] == "Action.Execute" {
			if d, ok := m["data"].(map[string]any); ok {
				if verb, ok := d[DataVerb].(string); ok && verb != "" {
					m["type"] = "Action.Submit"
					delete(m, "verb")
				}
			}
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, x := range t {
			s[i] = rewriteExecute(x)
		}
		return s
	}
	return v
}
