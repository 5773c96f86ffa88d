package bot

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/cards"
	"github.com/sally-devops/devopsbot/devops"
	"github.com/sally-devops/devopsbot/teams"
)

// Live status on summary cards (Universal Actions refresh).
//
// Who gets a live view is decided when the shared card is posted or updated
// (delivery, and after every create or comment): the chat's members, read from
// the Bot Connector, who have a working connection, in one store query. Those
// are the moments the card changes anyway, and a refresh then stays cheap: it
// reads no roster and asks no one else's connection. Someone who connects
// later joins the list at the card's next update (usually their first create).
//
// A refresh writes nothing to Azure DevOps and updates no card: it reads the
// summary, its results and the viewer's connection at once, then one
// workitemsbatch call shared for a short while by everyone in the
// organization who looks at the same items. Its only write is the bot's own
// bookkeeping of the viewer's tokens (renewed, or marked as needing a
// reconnect), as on any click; see statusClient.

const (
	// statusTTL: a burst of viewers (a chat opened after a meeting) shares one
	// read, and a change in Azure DevOps shows within half a minute (Teams
	// itself refreshes a given view at most once a minute).
	statusTTL = 30 * time.Second
	// rosterBudget bounds the roster read so a slow connector cannot hold a
	// delivery; without the roster the card simply has no live view.
	rosterBudget = 5 * time.Second
	// maxRoster bounds how many members are read (pages of 100).
	maxRoster = 1000
	// refreshBudget bounds the Azure DevOps read of a refresh.
	refreshBudget = 5 * time.Second
)

// liveViewers returns the Teams user ids of the conversation's members who
// have a working Azure DevOps connection, at most cards.MaxRefreshUsers, in
// roster order. Any failure leaves the card without a live view (logged).
func (b *Bot) liveViewers(ctx context.Context, serviceURL, conversationID string) []string {
	rctx, cancel := context.WithTimeout(ctx, rosterBudget)
	defer cancel()
	members, truncated, err := b.cfg.Connector.ConversationMembers(rctx, serviceURL, conversationID, maxRoster)
	if err != nil {
		teams.Logger(ctx).InfoContext(ctx, "could not read the chat's members; the summary card gets no live status", "conversation", conversationID, "err", err)
		return nil
	}
	if truncated {
		teams.Logger(ctx).InfoContext(ctx, "a large chat: only the first members are considered for live status", "conversation", conversationID, "members", len(members))
	}
	keys := make([]devopsbot.UserKey, 0, len(members))
	for _, m := range members {
		if m.AADID() != "" && m.TenantID != "" {
			keys = append(keys, devopsbot.UserKey{TenantID: m.TenantID, AADObjectID: m.AADID()})
		}
	}
	if len(keys) == 0 {
		return nil
	}
	connected, err := b.conns.ConnectedUsers(ctx, keys)
	if err != nil {
		teams.Logger(ctx).WarnContext(ctx, "could not look up who is connected; the summary card gets no live status", "err", err)
		return nil
	}
	var ids []string
	for _, m := range members {
		if len(ids) == cards.MaxRefreshUsers {
			break
		}
		if connected[devopsbot.UserKey{TenantID: m.TenantID, AADObjectID: m.AADID()}] && !slices.Contains(ids, m.ID) {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

// renderSummaryCards renders a summary's cards from its view, with in-card
// buttons for clients without dialogs (see Config.Forms) and a refresh for the
// given viewers.
func (b *Bot) renderSummaryCards(v cards.SummaryView, sm *devopsbot.Summary, serviceURL string, viewers []string) []postedCard {
	out := cards.Summary(v)
	res := make([]postedCard, 0, len(out))
	inCard := b.inCardFor(serviceURL)
	for i, c := range out {
		card := c.Card
		if inCard {
			card = cards.AsUniversalActions(card)
		}
		res = append(res, postedCard{card: cards.WithRefresh(card, sm.ID, i, viewers), insightIDs: c.InsightIDs})
	}
	return res
}

// onLiveRefresh answers a summary card's refresh for the person viewing it:
// the card with each created work item as it stands now. Whatever goes wrong
// for this person (not connected, broken token, items gone), the answer is
// the card as it is: a refresh never shows an error. Only a refresh that
// cannot name a card of this chat gets an error answer, and Teams then keeps
// showing the card it has.
func (b *Bot) onLiveRefresh(ctx context.Context, a *teams.Activity, raw json.RawMessage) teams.InvokeResponse {
	var d cards.RefreshData
	if len(raw) == 0 || json.Unmarshal(raw, &d) != nil || d.SummaryID == "" || len(d.SummaryID) > 100 || d.Part < 0 || d.Part > 1000 {
		teams.Logger(ctx).InfoContext(ctx, "refused a card refresh that could not be read")
		return teams.ErrorResponse(http.StatusBadRequest, "BadRequest", "That card refresh could not be read.")
	}
	u, uerr := userOf(a)
	var sm *devopsbot.Summary
	var links []devopsbot.InsightLink
	var conn *devopsbot.Connection
	var smErr, linksErr, connErr error
	together(
		func() { sm, smErr = b.summaries.GetSummaryCached(ctx, d.SummaryID) },
		func() { links, linksErr = b.links.ListLinks(ctx, d.SummaryID) },
		func() {
			if uerr == nil {
				conn, connErr = b.conns.GetConnection(ctx, u)
			}
		},
	)
	if smErr != nil || linksErr != nil {
		err := smErr
		if err == nil {
			err = linksErr
		}
		teams.Logger(ctx).InfoContext(ctx, "a card refresh found no summary to show", "summary", d.SummaryID, "err", err)
		return teams.ErrorResponse(http.StatusNotFound, "NotFound", "This meeting summary is no longer available.")
	}
	if sm.ConversationID != a.Conversation.ID {
		teams.Logger(ctx).WarnContext(ctx, "refused a card refresh for a summary delivered to another conversation", "summary", sm.ID)
		return teams.ErrorResponse(http.StatusForbidden, "Forbidden", "This card belongs to another conversation.")
	}
	v := b.summaryView(sm, links)
	parts := b.renderSummaryCards(v, sm, a.ServiceURL, nil)
	if d.Part >= len(parts) {
		teams.Logger(ctx).InfoContext(ctx, "a card refresh names a part the summary does not have", "summary", sm.ID, "part", d.Part)
		return teams.ErrorResponse(http.StatusNotFound, "NotFound", "This card is not part of the meeting summary.")
	}

	// The viewer keeps a live view while their connection is active; the
	// shared card, which names everyone, comes back with its next update.
	var viewers []string
	live := uerr == nil && connErr == nil && conn != nil && conn.Status == devopsbot.StatusActive && a.From.ID != ""
	if live {
		viewers = []string{a.From.ID}
	}
	asIs := func(why string, attrs ...any) teams.InvokeResponse {
		teams.Logger(ctx).InfoContext(ctx, "card refresh shows the card as it is: "+why, append([]any{"summary", sm.ID, "part", d.Part}, attrs...)...)
		return teams.AdaptiveCardResponse(b.renderSummaryCards(v, sm, a.ServiceURL, viewers)[d.Part].card)
	}
	if !live {
		if connErr != nil && !apperr.Is(connErr, apperr.NotFound) {
			return asIs("the connection could not be read", "err", connErr)
		}
		return asIs("the viewer is not connected")
	}
	ids := createdIn(links, parts[d.Part].insightIDs, conn.OrgURL)
	if len(ids) == 0 {
		return asIs("no work item of the viewer's organization on this card")
	}
	client := b.statusClient(conn)
	if client == nil {
		return asIs("Azure DevOps sign-in is not set up")
	}
	fctx, cancel := context.WithTimeout(ctx, min(refreshBudget, b.budget(ctx)))
	defer cancel()
	items, hit, err := b.status.WorkItemsNow(fctx, client, metadataUser(conn, conn.User), ids)
	if err != nil {
		return asIs("Azure DevOps did not answer", "kind", apperr.KindOf(err).String(), "err", err)
	}
	for i := range v.Insights {
		for j := range v.Insights[i].Results {
			r := &v.Insights[i].Results[j]
			if now, ok := items[r.WorkItemID]; ok && !r.Comment && r.WorkItemID > 0 && slices.Contains(ids, r.WorkItemID) {
				r.Now = &cards.ItemNow{Type: now.Type, Title: now.Title, State: now.State, AssignedTo: now.AssignedTo}
			}
		}
	}
	if missing := len(ids) - len(items); missing > 0 {
		teams.Logger(ctx).InfoContext(ctx, "some work items on a card were deleted or are hidden from the viewer; they show as created", "summary", sm.ID, "missing", missing)
	}
	teams.Logger(ctx).DebugContext(ctx, "card refreshed with live status", "summary", sm.ID, "part", d.Part, "items", len(items), "cached", hit)
	return teams.AdaptiveCardResponse(b.renderSummaryCards(v, sm, a.ServiceURL, viewers)[d.Part].card)
}

// createdIn lists the work items created (done) for the given insights in the
// given organization.
func createdIn(links []devopsbot.InsightLink, insightIDs []string, orgURL string) []int {
	var ids []int
	for _, l := range links {
		if l.Key.Action == actionCreate && l.State == devopsbot.LinkDone && l.WorkItemID > 0 &&
			slices.Contains(insightIDs, l.Key.InsightID) && strings.EqualFold(strings.TrimRight(l.OrgURL, "/"), strings.TrimRight(orgURL, "/")) &&
			!slices.Contains(ids, l.WorkItemID) && len(ids) < devops.MaxBatchIDs {
			ids = append(ids, l.WorkItemID)
		}
	}
	return ids
}

// statusClient is a client acting as the viewer without retries (one call per
// refresh). An expired access token is renewed and the rotated tokens stored,
// as on any other click: most viewers have not used the bot within the hour an
// access token lasts, and a refresh that gave up on them would show live
// status to almost nobody. That write is the bot's own bookkeeping; nothing
// is written to Azure DevOps. It is nil when sign-in is not configured.
func (b *Bot) statusClient(conn *devopsbot.Connection) *devops.Client {
	var ts oauth2.TokenSource
	switch {
	case b.cfg.Demo != nil && conn.OrgURL == b.cfg.Demo.Org.URL:
		ts = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: b.cfg.Demo.Token, TokenType: "Bearer"})
	case b.cfg.OAuth == nil:
		return nil
	default:
		ts = &persistingTokenSource{b: b, user: conn.User, conn: conn}
	}
	opt := b.cfg.DevOps
	opt.MaxRetries = -1
	return devops.NewClient(devops.Org{Name: conn.OrgName, URL: conn.OrgURL}, ts, opt)
}
