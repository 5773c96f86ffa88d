package bot

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"regexp"
	"strings"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/cards"
	"github.com/sally-devops/devopsbot/summary"
	"github.com/sally-devops/devopsbot/teams"
)

// command is a parsed chat command.
type command struct {
	name string // help, connect, disconnect, status, code, paste, unknown
	arg  string
}

var (
	spaces      = regexp.MustCompile(`\s+`)
	codePattern = regexp.MustCompile(`^(?:[A-Za-z0-9]{4}-?){3}[A-Za-z0-9]{4}$`)
)

// parseCommand understands what people type: "help", "/help", "@Sally help" (the
// mention is stripped before), any case, extra spaces; a pasted summary is
// recognised by having several lines, or by being the webhook's JSON (which a
// client may have put on one line).
func parseCommand(text string) command {
	// A zero-width space, BOM or direction mark pasted along is invisible to
	// the person who typed "help"; it must be to us too.
	raw := strings.TrimSpace(summary.CleanText(text))
	if raw == "" {
		return command{name: "empty"}
	}
	if strings.Count(raw, "\n") >= 2 || summary.LooksLikeJSON(raw) {
		return command{name: "paste", arg: raw}
	}
	norm := spaces.ReplaceAllString(raw, " ")
	// "@Sally help" typed as plain text (clients that don't turn it into a mention).
	if strings.HasPrefix(norm, "@") {
		if _, rest, ok := strings.Cut(norm, " "); ok {
			norm = rest
		}
	}
	norm = strings.TrimPrefix(norm, "/")
	lower := strings.ToLower(norm)
	switch {
	case lower == "help" || lower == "?" || lower == "commands":
		return command{name: "help"}
	case lower == "status":
		return command{name: "status"}
	case lower == "defaults" || lower == "chat defaults":
		return command{name: "defaults"}
	case lower == "meeting summaries on" || lower == "meeting summaries off":
		return command{name: "meetings", arg: lower[len("meeting summaries "):]}
	case lower == "disconnect devops" || lower == "disconnect":
		return command{name: "disconnect"}
	case lower == "connect devops" || lower == "connect":
		return command{name: "connect"}
	case strings.HasPrefix(lower, "connect devops "):
		return command{name: "connect", arg: strings.TrimSpace(norm[len("connect devops "):])}
	case strings.HasPrefix(lower, "code "):
		return command{name: "code", arg: strings.TrimSpace(norm[len("code "):])}
	case codePattern.MatchString(norm):
		return command{name: "code", arg: norm}
	}
	return command{name: "unknown", arg: norm}
}

func (b *Bot) onMessage(ctx context.Context, a *teams.Activity) error {
	saveErr := b.rememberConversation(ctx, a)
	text := messageText(a)
	if text == "" && len(a.Value) > 0 {
		// An Action.Submit outside a dialog. Our buttons open dialogs; a client
		// that cannot open them sends the data as a message instead.
		b.replyText(ctx, a, "That button opens a form in a Teams dialog, which this client can't show. Please use Microsoft Teams (desktop, web or mobile).")
		return nil
	}
	cmd := parseCommand(text)
	if b.answerOutage(ctx, a, cmd, saveErr) {
		return nil
	}
	switch cmd.name {
	case "help":
		b.replyCard(ctx, a, b.helpCard())
	case "status":
		b.sendStatus(ctx, a)
	case "meetings":
		b.setMeetingSummaries(ctx, a, cmd.arg)
	case "defaults":
		b.openDefaults(ctx, a) // defaults.go
	case "disconnect":
		b.disconnect(ctx, a)
	case "connect":
		b.startConnect(ctx, a, cmd.arg)
	case "code":
		b.completeConnectFromChat(ctx, a, cmd.arg)
	case "paste":
		b.acceptPastedSummary(ctx, a, cmd.arg)
	case "empty":
		// An empty message (for example only an @mention): say what we can do.
		b.replyText(ctx, a, hintText)
	default:
		b.replyText(ctx, a, hintText)
	}
	return nil
}

var hintText = cards.Hint()

func (b *Bot) onConversationUpdate(ctx context.Context, a *teams.Activity) error {
	for _, m := range a.MembersAdded {
		if m.ID == a.Recipient.ID {
			b.rememberConversation(ctx, a)
			b.welcomeOnce(ctx, a)
			return nil
		}
	}
	for _, m := range a.MembersRemoved {
		if m.ID == a.Recipient.ID {
			return b.forgetConversation(ctx, a)
		}
	}
	return nil
}

func (b *Bot) onInstallationUpdate(ctx context.Context, a *teams.Activity) error {
	switch strings.ToLower(a.Action) {
	case "add", "add-upgrade":
		b.rememberConversation(ctx, a)
		b.welcomeOnce(ctx, a)
	case "remove", "remove-upgrade":
		return b.forgetConversation(ctx, a)
	}
	return nil
}

// welcomeOnce posts the welcome card the first time the bot arrives in a chat:
// Teams sends both an installationUpdate and a conversationUpdate for one install,
// and may repeat them.
func (b *Bot) welcomeOnce(ctx context.Context, a *teams.Activity) {
	first, err := b.once.FirstTime(ctx, "welcome:"+a.Conversation.ID)
	if err != nil {
		teams.Logger(ctx).WarnContext(ctx, "could not check whether this chat was welcomed", "err", err)
		return
	}
	if first {
		b.replyCard(ctx, a, b.welcomeCard())
	}
}

// forgetConversation purges what we keep about a chat the bot was removed from.
func (b *Bot) forgetConversation(ctx context.Context, a *teams.Activity) error {
	if err := b.convs.PurgeConversation(ctx, a.Conversation.ID); err != nil {
		teams.Logger(ctx).ErrorContext(ctx, "could not purge a conversation after uninstall", "conversation", a.Conversation.ID, "err", err)
		return err
	}
	if err := b.once.ForgetOnce(ctx, "welcome:"+a.Conversation.ID); err != nil {
		teams.Logger(ctx).WarnContext(ctx, "could not reset the welcome of a conversation", "err", err)
	}
	teams.Logger(ctx).InfoContext(ctx, "purged a conversation after uninstall", "conversation", a.Conversation.ID)
	return nil
}

func (b *Bot) sendStatus(ctx context.Context, a *teams.Activity) {
	// The chat's form defaults belong to the chat too (defaults.go).
	defer func() { b.replyText(ctx, a, b.chatDefaultsStatusLine(ctx, a)) }()
	if b.cfg.Graph != nil {
		// Meeting summaries belong to the chat, not to the person asking.
		defer func() {
			if line := b.meetingStatusLine(ctx, a); line != "" {
				b.replyText(ctx, a, line)
			}
		}()
	}
	u, err := userOf(a)
	if err != nil {
		b.replyText(ctx, a, apperr.UserMessage(err))
		return
	}
	conn, err := b.conns.GetConnection(ctx, u)
	var prefs *devopsbot.Prefs
	if err == nil {
		// A hint only: without it the card says the form will ask.
		prefs, _ = b.prefs.GetPrefsCached(ctx, u)
	}
	switch {
	case apperr.Is(err, apperr.NotFound):
		b.replyCard(ctx, a, b.statusCard(nil, nil))
	case err != nil:
		b.replyCard(ctx, a, b.errorCard(ctx, "Status", err))
	case a.Conversation.ConversationType != "" && a.Conversation.ConversationType != "personal":
		// Account details are personal: send them to the 1:1 chat, not to the group.
		if ref, perr := b.convs.FindPersonalConversationByUser(ctx, u.AADObjectID); perr == nil {
			if _, serr := b.cfg.Connector.SendToConversation(ctx, ref.ServiceURL, ref.ConversationID, teams.NewCardMessage(b.statusCard(conn, prefs))); serr == nil {
				b.replyText(ctx, a, "I sent your Azure DevOps status to our 1:1 chat.")
				return
			}
		}
		b.replyText(ctx, a, "You are connected to Azure DevOps ("+conn.OrgName+"). Type status in our 1:1 chat for the details.")
	default:
		b.replyCard(ctx, a, b.statusCard(conn, prefs))
	}
}

func (b *Bot) disconnect(ctx context.Context, a *teams.Activity) {
	u, err := userOf(a)
	if err != nil {
		b.replyText(ctx, a, apperr.UserMessage(err))
		return
	}
	deleted, err := b.conns.DeleteConnection(ctx, u)
	if err != nil {
		b.replyCard(ctx, a, b.errorCard(ctx, "Disconnect", err))
		return
	}
	if !deleted {
		b.replyText(ctx, a, "You weren't connected to Azure DevOps. Nothing to remove.")
		return
	}
	teams.Logger(ctx).InfoContext(ctx, "user disconnected Azure DevOps")
	b.replyCard(ctx, a, b.disconnectedCard())
}

var idEncoding = base32.NewEncoding("ABCDEFGHJKLMNPQRSTUVWXYZ23456789").WithPadding(base32.NoPadding)

// randomID returns n characters from crypto/rand, unambiguous to read aloud.
func randomID(n int) string {
	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		panic("crypto/rand failed: " + err.Error()) // the platform is broken; nothing is safe
	}
	s := idEncoding.EncodeToString(buf)
	return s[:n]
}
