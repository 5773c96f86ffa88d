package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/summary"
	"github.com/sally-devops/devopsbot/teams"
)

// A message extension action ("…" → More actions → "Create work item" or "Add
// to work item" on any message) opens the same create or comment form as an
// insight's button. The message becomes a one-insight "summary" of its chat,
// stored under an id derived from the chat and the message: everything after
// the form (claims, "You already did this", the marker against a second work
// item, the audit) then works unchanged, and Teams' retries of a late
// submitAction, or a second person on the same message, create nothing twice.

// Command ids of the manifest's composeExtensions (manifest package).
const (
	commandCreateWorkItem = "createWorkItem"
	commandAddComment     = "addComment"
)

const (
	// messageSourcePrefix marks the source id of a summary made from a chat
	// message, so views can tell it from a meeting's.
	messageSourcePrefix = "teams-message:"
	messageInsightID    = "message"
	// maxMessageText bounds the message text kept: a description is at most
	// maxTextInput, and the source line follows the text.
	maxMessageText = 16000
	// extensionBudget is the synchronous part of a submitAction: Teams gives
	// 5 s and retries twice after that, so answer well before.
	extensionBudget = 4 * time.Second
)

type budgetKey struct{}

// withBudget bounds the synchronous part of this request's writes below the
// configured ActionBudget.
func withBudget(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, budgetKey{}, d)
}

// budget is how long this request may wait for a write before answering
// "working": the configured ActionBudget, or less for a message extension.
func (b *Bot) budget(ctx context.Context) time.Duration {
	if d, ok := ctx.Value(budgetKey{}).(time.Duration); ok && d > 0 && d < b.cfg.ActionBudget {
		return d
	}
	return b.cfg.ActionBudget
}

func (b *Bot) onExtensionFetchTask(ctx context.Context, a *teams.Activity) (teams.InvokeResponse, error) {
	ctx = withBudget(ctx, extensionBudget)
	ea, err := a.ExtensionAction()
	if err != nil {
		return teams.TaskMessageResponse(apperr.UserMessage(err)), nil
	}
	action := ""
	switch ea.CommandID {
	case commandCreateWorkItem:
		action = actionCreate
	case commandAddComment:
		action = actionComment
	default:
		return teams.TaskMessageResponse("This command is not supported."), nil
	}
	if ea.CommandContext != "message" || ea.MessagePayload == nil {
		return teams.TaskMessageResponse("Run this from a message: … → More actions → " + map[string]string{actionCreate: "Create work item", actionComment: "Add to work item"}[action] + "."), nil
	}
	u, err := userOf(a)
	if err != nil {
		return teams.TaskMessageResponse(apperr.UserMessage(err)), nil
	}
	sm, msg := b.messageSummary(ctx, a, ea.MessagePayload)
	if sm == nil {
		return teams.TaskMessageResponse(msg), nil
	}
	ac := &actionCtx{a: a, user: u, data: actionData{Sally: action, SummaryID: sm.ID, InsightID: messageInsightID}, sm: sm, insight: sm.Insights[0]}
	return teams.WithDialogSize(b.openForm(ctx, ac, action, nil, formProblem{}), teams.DialogMedium, teams.DialogLarge), nil
}

// onExtensionSubmitAction handles every step of a dialog a message action
// opened: Teams sends its Action.Submit buttons as submitAction, with the
// card's data (ours: sally, summaryId, insightId) merged with the inputs.
func (b *Bot) onExtensionSubmitAction(ctx context.Context, a *teams.Activity) (teams.InvokeResponse, error) {
	ctx = withBudget(ctx, extensionBudget)
	ea, err := a.ExtensionAction()
	if err != nil {
		return teams.TaskMessageResponse(apperr.UserMessage(err)), nil
	}
	return teams.WithDialogSize(b.formStep(ctx, a, ea.Data), teams.DialogMedium, teams.DialogLarge), nil
}

// messageSummary stores (or finds) the one-insight summary of a message in the
// chat it was sent in; on failure it returns nil and what to tell the user.
func (b *Bot) messageSummary(ctx context.Context, a *teams.Activity, m *teams.MessagePayload) (*devopsbot.Summary, string) {
	if m.ID == "" || len(m.ID) > 200 || a.Conversation.ID == "" {
		return nil, "I can't read that message. Try again on another message."
	}
	text := messagePayloadText(m)
	if text == "" {
		return nil, "That message has no text to make a work item from."
	}
	sender := strings.TrimSpace(summary.CleanText(m.SenderName()))
	if sender == "" {
		sender = "someone"
	}
	meeting := devopsbot.Meeting{Title: "Message from " + sender, Organizer: sender}
	if link := strings.TrimSpace(m.LinkToMessage); isTeamsLink(link) {
		meeting.JoinURL = link
	}
	if t, err := time.Parse(time.RFC3339, m.CreatedDateTime); err == nil {
		meeting.Start = t
	}
	sm := &devopsbot.Summary{
		SourceID:       messageSourceID(m.ID),
		ConversationID: a.Conversation.ID,
		Meeting:        meeting,
		Insights:       []devopsbot.Insight{{ID: messageInsightID, Kind: devopsbot.KindTask, Text: text}},
		PostedBy:       a.From.Name,
		CreatedAt:      b.now(),
	}
	stored, _, err := b.summaries.InsertSummary(ctx, sm)
	if err != nil {
		if devopsbot.IsStoreUnavailable(err) {
			return nil, "The database is unavailable right now, so I can't open the form. Try again in a minute."
		}
		if apperr.Is(err, apperr.Invalid) {
			return nil, apperr.UserMessage(err)
		}
		return nil, "Something went wrong on our side (reference " + b.reference(ctx, "store a message summary", err) + "). Try again in a moment."
	}
	if len(stored.Insights) != 1 || stored.Insights[0].ID != messageInsightID {
		return nil, "I can't read that message. Try again on another message."
	}
	return stored, ""
}

// messageSourceID names a message within its chat; hashed so that any id
// Teams sends fits the store's id rules.
func messageSourceID(messageID string) string {
	h := sha256.Sum256([]byte(messageID))
	return messageSourcePrefix + hex.EncodeToString(h[:16])
}

func isMessageSummary(sm *devopsbot.Summary) bool {
	return sm != nil && strings.HasPrefix(sm.SourceID, messageSourcePrefix)
}

// messagePayloadText is the message as plain text: tags dropped, entities
// decoded, invisible characters removed, blank lines squeezed, and cut to
// maxMessageText.
func messagePayloadText(m *teams.MessagePayload) string {
	s := m.Body.Content
	if len(s) > 4*maxMessageText {
		s = s[:4*maxMessageText]
	}
	if !strings.EqualFold(m.Body.ContentType, "text") {
		s = htmlToText(scriptOrStyle.ReplaceAllString(s, ""))
	}
	s = strings.ToValidUTF8(summary.CleanText(s), "")
	var lines []string
	for l := range strings.SplitSeq(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	s = strings.Join(lines, "\n")
	if utf8.RuneCountInString(s) > maxMessageText {
		s = string([]rune(s)[:maxMessageText-1]) + "…"
	}
	return s
}

// scriptOrStyle is markup whose content is not text a person wrote.
var scriptOrStyle = regexp.MustCompile(`(?is)<(script|style)\b[^>]*>.*?</(script|style)\s*>`)

// isTeamsLink keeps a link back to the message only when it is one: it goes
// into the work item's description.
func isTeamsLink(s string) bool {
	return len(s) < 2048 && strings.HasPrefix(s, "https://teams.microsoft.com/") && !strings.ContainsAny(s, " \n\r\t\"<>")
}

// messageTitle is a message-based work item's title: the message's first line.
func messageTitle(text string) string {
	first, _, _ := strings.Cut(text, "\n")
	return shortTitle(first)
}

// messageDescription is the message text and where it came from.
func messageDescription(sm *devopsbot.Summary, in devopsbot.Insight) string {
	var sb strings.Builder
	sb.WriteString(in.Text)
	sb.WriteString("\n\nFrom a message by " + sm.Meeting.Organizer + " in Teams")
	if sm.Meeting.JoinURL != "" {
		sb.WriteString(": " + sm.Meeting.JoinURL)
	} else {
		sb.WriteString(".")
	}
	return sb.String()
}

// workingNote is what a write that outlives its answer says: a meeting's card
// shows the result when it lands; a message has no card, so running the
// action on it again shows what was made.
func workingNote(ac *actionCtx, doing, meetingNext string) string {
	if isMessageSummary(ac.sm) {
		return doing + " Run the action on the message again in a minute to see the result."
	}
	return doing + " " + meetingNext
}
