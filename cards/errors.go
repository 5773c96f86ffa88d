package cards

import (
	"fmt"
	"strconv"
)

// ErrorView is an apology or a problem the user can fix.
type ErrorView struct {
	Demo              bool
	Title             string
	Message           string // user-safe (apperr.UserMessage)
	Code              string // the other system's own code (TF401347), for support: small print
	RetryAfterSeconds int
	Reference         string // id to quote to support, matching the logs
	Next              []Step // what the person can do now; Open help when empty
}

// Step is a next step offered on an error card. It is an Action.Execute (the
// card answers in place in a chat); in a dialog the bot turns it into a
// dialog submit (AsDialogActions).
type Step struct {
	Title string
	Verb  string
	Data  map[string]any // sent with the verb, e.g. the summary and insight to retry
}

// StepHelp opens the help card; StepConnect starts connecting again.
var (
	StepHelp    = Step{Title: "Open help", Verb: VerbHelp}
	StepConnect = Step{Title: "Connect", Verb: VerbConnect}
)

// Error renders a failure in plain words with a next step. Message is shown as
// text, never as markup.
func Error(v ErrorView) Card {
	body := []any{heading(Escape(orDefault(v.Title, "Something went wrong"))), text(Escape(orDefault(v.Message, "Something went wrong on our side.")))}
	if v.RetryAfterSeconds > 0 {
		body = append(body, text(fmt.Sprintf("Please try again in %s.", seconds(v.RetryAfterSeconds)), "isSubtle", "true"))
	}
	if v.Code != "" {
		body = append(body, text("Azure DevOps code: "+Escape(v.Code), "isSubtle", "true", "size", "Small", "spacing", "Small"))
	}
	if v.Reference != "" {
		body = append(body, text("Reference: "+Escape(v.Reference), "isSubtle", "true", "fontType", "Monospace"))
	}
	next := v.Next
	if len(next) == 0 {
		next = []Step{StepHelp}
	}
	actions := make([]any, 0, len(next))
	for _, st := range next {
		data := map[string]any{DataVerb: st.Verb}
		for k, x := range st.Data {
			data[k] = x
		}
		actions = append(actions, withAssociated(execute(st.Title, st.Verb, data), "none"))
	}
	return newCard(Version, v.Demo, body, actions...)
}

func seconds(n int) string {
	switch {
	case n == 1:
		return "1 second"
	case n < 120:
		return strconv.Itoa(n) + " seconds"
	}
	return strconv.Itoa((n+59)/60) + " minutes"
}
