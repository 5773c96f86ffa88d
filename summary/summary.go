// Package summary reads meeting summaries: the JSON a meeting-notes service
// delivers, text a person pastes into the chat, and meeting transcripts. It turns
// them into the domain's insights (devopsbot.Insight, devopsbot.Meeting) and
// knows nothing of how they are stored or shown. It does no I/O.
package summary
