package bot

// Keeping a summary's cards in the chat true: posting the parts not posted yet
// and updating them after each action, for everyone in the chat.

import (
	"context"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/teams"
)

// updateSharedCards brings the shared summary card up to date after an action.
// In a personal chat with in-card forms the person who clicked is the card's
// only reader and already sees the result in place; updating the message now
// would replace that view (Teams and the Agents Playground show whichever
// arrives last, and the Playground's update often arrives after the invoke's
// answer), so the update waits for the panel's Close (closeForm). Connected
// viewers also get the card as it is on every refresh.
func (b *Bot) updateSharedCards(ctx context.Context, ac *actionCtx) {
	if deferSharedUpdate(ctx, ac.a) {
		return
	}
	b.refreshSummaryCards(ctx, ac.sm)
}

// deferSharedUpdate reports whether a request's shared card update waits for
// the panel's Close (see updateSharedCards).
func deferSharedUpdate(ctx context.Context, a *teams.Activity) bool {
	return inCardForms(ctx) && a != nil && a.Conversation.ConversationType == "personal"
}

// refreshSummaryCards updates the shared summary card(s) for everyone in the
// chat. The summary is read fresh for its posted cards (another replica may
// have posted one since); its chat never changes, so the three reads run at once.
func (b *Bot) refreshSummaryCards(ctx context.Context, clicked *devopsbot.Summary) {
	if isMessageSummary(clicked) {
		return // a message has no summary card; the dialog shows the result
	}
	summaryID := clicked.ID
	var sm *devopsbot.Summary
	var ref *devopsbot.ConversationRef
	var links []devopsbot.InsightLink
	var smErr, refErr, linksErr error
	together(
		func() { sm, smErr = b.summaries.GetSummary(ctx, summaryID) },
		func() { ref, refErr = b.convs.GetConversationRef(ctx, clicked.ConversationID) },
		func() { links, linksErr = b.links.ListLinks(ctx, summaryID) },
	)
	if smErr != nil {
		teams.Logger(ctx).WarnContext(ctx, "could not reload a summary to update its card", "err", smErr)
		return
	}
	if refErr != nil {
		teams.Logger(ctx).WarnContext(ctx, "could not find the conversation to update a card", "err", refErr)
		return
	}
	if linksErr != nil {
		teams.Logger(ctx).WarnContext(ctx, "could not list a summary's results", "err", linksErr)
		return
	}
	if _, err := b.putSummaryCards(ctx, *ref, sm, links, sm.Cards, true); err != nil {
		teams.Logger(ctx).WarnContext(ctx, "could not post a summary card", "summary", summaryID, "err", err)
	}
}

// putSummaryCards makes the chat show sm's cards as they are now. Parts in
// posted are updated in place when update is set (an update that fails is
// logged: the part is still there); parts missing from posted are posted and
// recorded one by one as soon as Teams returns each id, so a retry after a
// partial failure or a crash never posts a part twice. It stops at the first
// part it cannot post and returns what is in the chat.
func (b *Bot) putSummaryCards(ctx context.Context, ref devopsbot.ConversationRef, sm *devopsbot.Summary, links []devopsbot.InsightLink, posted []devopsbot.PostedCard, update bool) ([]devopsbot.PostedCard, error) {
	posted = append([]devopsbot.PostedCard(nil), posted...)
	for i, c := range b.summaryCards(ctx, sm, links, ref.ServiceURL) {
		if i < len(posted) && posted[i].ActivityID != "" {
			if !update {
				continue
			}
			if err := b.cfg.Connector.UpdateActivity(ctx, ref.ServiceURL, ref.ConversationID, posted[i].ActivityID, teams.NewCardMessage(c.card)); err != nil {
				teams.Logger(ctx).WarnContext(ctx, "could not update a summary card", "summary", sm.ID, "err", err)
			}
			continue
		}
		id, err := b.cfg.Connector.SendToConversation(ctx, ref.ServiceURL, ref.ConversationID, teams.NewCardMessage(c.card))
		if err != nil {
			return posted, err
		}
		card := devopsbot.PostedCard{ActivityID: id, InsightIDs: c.insightIDs}
		if i < len(posted) {
			posted[i] = card
		} else {
			posted = append(posted, card)
		}
		if err := b.summaries.SetSummaryCards(context.WithoutCancel(ctx), sm.ID, posted); err != nil {
			// The card is in the chat; not recording it risks a second copy on retry.
			return posted, err
		}
	}
	return posted, nil
}

// summaryLinks lists what was done to a summary's insights, for its cards; a
// card without them is still worth posting (a click finds the truth).
func (b *Bot) summaryLinks(ctx context.Context, summaryID string) []devopsbot.InsightLink {
	links, err := b.links.ListLinks(ctx, summaryID)
	if err != nil {
		teams.Logger(ctx).WarnContext(ctx, "could not list a summary's results for its cards", "summary", summaryID, "err", err)
		return nil
	}
	return links
}
