package cards

import "fmt"

// The cards that answer a form: what was made, what was already made, and
// the note shown while the work goes on.

// Created shows the work item just made.
func Created(r ResultView) Card {
	r.Comment = false
	return resultCard(r, "Work item created")
}

// Commented shows the comment just added.
func Commented(r ResultView) Card {
	r.Comment = true
	return resultCard(r, "Comment added")
}

// AlreadyDone answers a second click (or a Teams retry) with what the first
// one produced, instead of creating a duplicate. mine says whether the person
// clicking now is the one who did it: "someone already did this" reads as an
// error to the person who did.
func AlreadyDone(r ResultView, mine bool) Card {
	title, note := "Already done", "Someone already did this for this insight; nothing new was created."
	switch {
	case mine:
		title, note = "You already did this", "You already did this for this insight; nothing new was created."
	case r.By != "":
		note = Escape(r.By) + " already did this for this insight; nothing new was created."
	}
	c := resultCard(r, title)
	body := c["body"].([]any)
	c["body"] = append(body, text(note, "isSubtle", "true"))
	return c
}

func resultCard(r ResultView, title string) Card {
	result := []any{text(resultLine(r))}
	if !r.At.IsZero() {
		result = append(result, text(fmt.Sprintf("{{DATE(%s, SHORT)}} {{TIME(%s)}}", r.At.UTC().Format("2006-01-02T15:04:05Z"), r.At.UTC().Format("2006-01-02T15:04:05Z")), "isSubtle", "true", "spacing", "None"))
	}
	body := []any{heading(title), callout("good", result...)}
	var actions []any
	if linkable(r) {
		actions = append(actions, openURL("Open "+workItemName(r), r.URL))
	}
	return newCard(Version, r.Demo, body, actions...)
}

// Working is shown at once while slow work finishes, e.g. "Creating…".
func Working(what string) Card {
	return newCard(Version, false, []any{text(Escape(orDefault(what, "Working…")), "isSubtle", "true")})
}

// linkable reports whether a result's link may be offered: https, or in demo
// mode the fake organization's own pages on this machine.
func linkable(r ResultView) bool {
	if isHTTPS(r.URL) {
		return true
	}
	return r.Demo && isLoopbackHTTP(r.URL)
}
