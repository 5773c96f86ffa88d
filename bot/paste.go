package bot

import (
	"context"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/summary"
	"github.com/sally-devops/devopsbot/teams"
)

// repasteNote precedes the cards of a summary pasted again into the same chat,
// so nobody takes the cards for a second, separate summary.
const repasteNote = "You pasted this summary here before, so here it is again with what was already done."

// acceptPastedSummary turns a pasted meeting summary (notes, or the webhook's
// JSON) into summary cards. The same content pasted again into the same chat is
// the same summary: its cards are posted again with the results and links the
// first paste already has, and Create on them finds the work item made before.
func (b *Bot) acceptPastedSummary(ctx context.Context, a *teams.Activity, text string) {
	p, err := summary.ParsePaste(text)
	if err != nil {
		b.replyText(ctx, a, apperr.UserMessage(err)+" Type **help** to see what I can do.")
		return
	}
	sm := &devopsbot.Summary{
		ContentKey:     summary.ContentKey(p.Meeting, p.Insights),
		ConversationID: a.Conversation.ID,
		Meeting:        p.Meeting,
		Insights:       p.Insights,
		PostedBy:       a.From.Name,
		CreatedAt:      b.now(),
	}
	stored, created, err := b.storeSummary(ctx, sm, false)
	if err != nil {
		b.replyCard(ctx, a, b.errorCard(ctx, "Summary", err))
		return
	}
	ref := devopsbot.ConversationRef{ConversationID: a.Conversation.ID, ServiceURL: a.ServiceURL}
	if !created && len(stored.Cards) > 0 {
		// The same summary again: a fresh copy of its cards, with what was done.
		teams.Logger(ctx).InfoContext(ctx, "summary pasted again; posting its cards again", "summary", stored.ID)
		b.replyText(ctx, a, repasteNote)
		if _, err := b.putSummaryCards(ctx, ref, stored, b.summaryLinks(ctx, stored.ID), nil, false); err != nil {
			teams.Logger(ctx).ErrorContext(ctx, "could not post the summary cards again", "err", err)
		}
		return
	}
	// A first paste (or one whose cards never reached the chat) is delivered
	// like a webhook's summary: recorded first, so a refused post is retried.
	d, err := b.recordDelivery(ctx, stored, ref, "", true)
	if err != nil {
		b.replyCard(ctx, a, b.errorCard(ctx, "Summary", err))
		return
	}
	b.firstAttempt(ctx, d)
}
