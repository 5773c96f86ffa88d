package bot_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/bot"
	"github.com/sally-devops/devopsbot/cards"
	"github.com/sally-devops/devopsbot/cards/cardstest"
	"github.com/sally-devops/devopsbot/devops/devopstest"
	"github.com/sally-devops/devopsbot/teams"
)

// member is a chat member as the Bot Connector lists them.
func member(aad string) teams.Member {
	return teams.Member{ID: "29:" + aad, AADObjectID: aad, TenantID: tenantID, UserRole: "user"}
}

// liveSummary connects Adele, gives the chat a roster (Adele, Alex who is not
// connected, an anonymous guest), delivers the summary and creates Task 1
// from insight t1. It returns the summary id, the shared card's activity id
// and that card's refresh data.
func liveSummary(t *testing.T, h *harness) (string, string, map[string]any) {
	t.Helper()
	h.conn.SetMembers(chatID, member(userAdele), member(userAlex),
		teams.Member{ID: "29:anonymous-guest", Name: "Guest (Guest)", TenantID: tenantID, UserRole: "anonymous"})
	connectDemo(t, h, userAdele)
	sid, cardID := deliveredSummary(t, h)
	form := openWebPortalForm(t, h, sid)
	res := dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, "create.submit", map[string]any{"title": "Circuit breaker for address validation"})))
	if !strings.Contains(js(res), "Created Task 1") {
		t.Fatalf("create: %.300s", js(res))
	}
	act, _ := h.conn.Activity(chatID, cardID)
	ids, data, ok := cards.RefreshOf(act.Attachments[0].Content)
	if !ok {
		t.Fatalf("the shared card has no refresh after the create: %.400s", js(act.Attachments[0].Content))
	}
	if !slices.Equal(ids, []string{"29:" + userAdele}) {
		t.Fatalf("refresh.userIds = %v, want only the connected member", ids)
	}
	return sid, cardID, map[string]any{"sally": data.Sally, "summaryId": data.SummaryID, "part": data.Part}
}

// refresh is what a Teams client sends when a listed person views the card.
func (h *harness) refresh(user string, data map[string]any) cards.Card {
	h.t.Helper()
	return h.execute(user, chatID, map[string]any{"verb": cards.VerbRefresh, "data": data})
}

func TestSummaryCardNamesConnectedMembersForALiveView(t *testing.T) {
	h := newHarness(t, withDemo)
	h.conn.SetMembers(chatID, member(userAdele), member(userAlex))
	// Nobody connected: the card has no refresh, so Teams asks nobody's view.
	_, cardID := deliveredSummary(t, h)
	act, _ := h.conn.Activity(chatID, cardID)
	if _, _, ok := cards.RefreshOf(act.Attachments[0].Content); ok {
		t.Fatalf("a card with no connected member carries a refresh: %.300s", js(act.Attachments[0].Content))
	}
	if h.conn.MemberCalls() != 1 {
		t.Fatalf("roster reads for one posted card = %d, want 1", h.conn.MemberCalls())
	}
}

func TestRefreshShowsEachCreatedItemAsItIsNow(t *testing.T) {
	h := newHarness(t, withDemo)
	_, _, data := liveSummary(t, h)
	rosterReads := h.conn.MemberCalls()

	// Someone changes the item in Azure DevOps.
	if !h.org.ChangeWorkItem(1, map[string]any{"System.State": "Active", "System.AssignedTo": devopstest.Lee.UniqueName, "System.Title": "Circuit breaker, with a 2 s timeout"}) {
		t.Fatal("no work item 1")
	}
	batches, total := h.org.Calls(devopstest.RouteBatch), h.org.TotalCalls()
	var c cards.Card
	n, by := h.dbCalls(func() { c = h.refresh(userAdele, data) })
	body := js(c)
	if !strings.Contains(body, "Task 1 · Active · Lee Gu: Circuit breaker, with a 2 s timeout") {
		t.Fatalf("the refreshed card does not show the item as it is now: %.1500s", body)
	}
	if strings.Contains(body, "Circuit breaker for address validation") {
		t.Errorf("the refreshed card still shows the old title: %.1500s", body)
	}
	if got := h.org.Calls(devopstest.RouteBatch) - batches; got != 1 || h.org.TotalCalls()-total != 1 {
		t.Errorf("a refresh made %d workitemsbatch calls and %d Azure DevOps calls, want 1 and 1", got, h.org.TotalCalls()-total)
	}
	for k := range by {
		if !strings.HasPrefix(k, "find ") {
			t.Errorf("a refresh wrote to the database: %s", describeCalls(by))
		}
	}
	if n > 3 || by["find connections"] != 1 || by["find insight_links"] != 1 {
		t.Errorf("a refresh made %d database calls (%s), want the viewer's connection and the summary's results once each (and the summary, when not cached)", n, describeCalls(by))
	}
	t.Logf("refresh: %d database calls (%s)", n, describeCalls(by))
	// The viewer's card keeps refreshing for the viewer, and keeps its buttons.
	if ids, _, ok := cards.RefreshOf(c); !ok || !slices.Equal(ids, []string{"29:" + userAdele}) {
		t.Errorf("the refreshed card's refresh = %v (%v), want the viewer", ids, ok)
	}
	if _, ok := cardstest.FindAction(c, "create"); !ok {
		t.Errorf("the refreshed card lost its buttons: %.600s", body)
	}

	// A second look within the cache's lifetime asks Azure DevOps nothing.
	batches, total = h.org.Calls(devopstest.RouteBatch), h.org.TotalCalls()
	again := h.refresh(userAdele, data)
	if h.org.TotalCalls() != total || h.org.Calls(devopstest.RouteBatch) != batches {
		t.Errorf("a cached refresh made %d Azure DevOps calls, want 0", h.org.TotalCalls()-total)
	}
	if !strings.Contains(js(again), "Task 1 · Active · Lee Gu") {
		t.Errorf("the cached refresh lost the status: %.600s", js(again))
	}
	if h.conn.MemberCalls() != rosterReads {
		t.Errorf("refreshes read the chat's roster %d times, want never", h.conn.MemberCalls()-rosterReads)
	}

	// Unassigned and resolved, once the cache is forgotten.
	h.org.ChangeWorkItem(1, map[string]any{"System.State": "Resolved", "System.AssignedTo": ""})
	bot.ForgetLiveStatus(h.bot)
	if body := js(h.refresh(userAdele, data)); !strings.Contains(body, "Task 1 · Resolved · Unassigned") {
		t.Errorf("an unassigned item: %.1500s", body)
	}
}

func TestRefreshShowsTheCardAsItIsWhenItCannotReadTheItems(t *testing.T) {
	h := newHarness(t, withDemo)
	_, cardID, data := liveSummary(t, h)
	act, _ := h.conn.Activity(chatID, cardID)
	asPosted := "Created Task 1: Circuit breaker for address validation (by Adele Vance)"
	if !strings.Contains(js(act.Attachments), asPosted) {
		t.Fatalf("shared card: %.800s", js(act.Attachments))
	}
	h.org.ChangeWorkItem(1, map[string]any{"System.State": "Active"})

	// Alex is not connected (a manual Refresh from the message menu): the card
	// as it is, no Azure DevOps call, and no refresh of his own.
	total := h.org.TotalCalls()
	c := h.refresh(userAlex, data)
	if !strings.Contains(js(c), asPosted) || strings.Contains(js(c), "· Active") {
		t.Errorf("not connected: %.800s", js(c))
	}
	if _, _, ok := cards.RefreshOf(c); ok {
		t.Errorf("a viewer who is not connected got a card that keeps asking: %.300s", js(c))
	}
	if h.org.TotalCalls() != total {
		t.Errorf("a refresh for someone not connected called Azure DevOps %d times", h.org.TotalCalls()-total)
	}

	// Deleted (or hidden from the viewer): workitemsbatch omits it; the card as it is.
	h.org.DeleteWorkItem(1)
	n, by := h.dbCalls(func() { c = h.refresh(userAdele, data) })
	if !strings.Contains(js(c), asPosted) {
		t.Errorf("deleted item: %.800s", js(c))
	}
	if strings.Contains(js(c), "Something went wrong") || strings.Contains(js(c), "Try again") {
		t.Errorf("a refresh showed an error: %.800s", js(c))
	}
	if ids, _, _ := cards.RefreshOf(c); !slices.Equal(ids, []string{"29:" + userAdele}) {
		t.Errorf("a connected viewer lost the live view: %v", ids)
	}
	t.Logf("refresh of a deleted item: %d database calls (%s)", n, describeCalls(by))

	// The viewer's token no longer works: the card as it is, and nothing is
	// written (no "needs reconnect" mark: a refresh only reads).
	bot.ForgetLiveStatus(h.bot)
	h.org.RevokeToken("demo-token")
	batches := h.org.Calls(devopstest.RouteBatch)
	n, by = h.dbCalls(func() { c = h.refresh(userAdele, data) })
	if !strings.Contains(js(c), asPosted) {
		t.Errorf("broken token: %.800s", js(c))
	}
	if h.org.Calls(devopstest.RouteBatch)-batches != 1 {
		t.Errorf("a refresh with a refused token made %d workitemsbatch calls, want 1 (no retry)", h.org.Calls(devopstest.RouteBatch)-batches)
	}
	for k := range by {
		if !strings.HasPrefix(k, "find ") {
			t.Errorf("a refresh with a refused token wrote to the database: %s", describeCalls(by))
		}
	}
	t.Logf("refresh with a refused token: %d database calls (%s)", n, describeCalls(by))
}

func TestRefreshOfACardFromAnotherChatShowsNothing(t *testing.T) {
	h := newHarness(t, withDemo)
	_, _, data := liveSummary(t, h)
	a := h.activity("invoke", userAdele, "19:another_chat@thread.v2")
	a.Name = "adaptiveCard/action"
	a.Value = []byte(js(map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": cards.VerbRefresh, "data": data}, "trigger": "automatic"}))
	code, body := h.post(a)
	if code == http.StatusOK && strings.Contains(string(body), "Circuit breaker") {
		t.Fatalf("a refresh from another chat was answered with the card: %s", body)
	}
	for _, bad := range []map[string]any{{"sally": "refresh"}, {"sally": "refresh", "summaryId": "nope"}, {"sally": "refresh", "summaryId": data["summaryId"], "part": 7}} {
		resp := h.invoke(userAdele, chatID, "adaptiveCard/action", map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": cards.VerbRefresh, "data": bad}, "trigger": "automatic"})
		if resp["type"] == cards.ContentType {
			t.Errorf("refresh %v answered a card: %.300s", bad, js(resp))
		}
	}
}

// Access tokens last about an hour, and most people view a card long after
// they last used the bot: the refresh renews the token (storing the rotated
// pair, as any click does) rather than show them nothing live.
func TestRefreshRenewsAnExpiredAccessToken(t *testing.T) {
	var idp *devopstest.IdentityProvider
	h := newHarness(t, withOAuth(&idp))
	h.conn.SetMembers(chatID, member(userAdele))
	connectOAuth(t, h, userAdele, chatID)
	sid, cardID := deliveredSummary(t, h)
	form := openWebPortalForm(t, h, sid)
	res := dialogCard(t, h.taskSubmit(userAdele, chatID, submitFrom(t, form, "create.submit", map[string]any{"title": "Circuit breaker for address validation"})))
	if !strings.Contains(js(res), "Created Task 1") {
		t.Fatalf("create: %.300s", js(res))
	}
	act, _ := h.conn.Activity(chatID, cardID)
	_, d, ok := cards.RefreshOf(act.Attachments[0].Content)
	if !ok {
		t.Fatalf("no refresh on the shared card: %.300s", js(act.Attachments[0].Content))
	}
	data := map[string]any{"sally": d.Sally, "summaryId": d.SummaryID, "part": d.Part}

	ctx := context.Background()
	key := devopsbot.UserKey{TenantID: tenantID, AADObjectID: userAdele}
	conn, _ := h.store.GetConnection(ctx, key)
	old := conn.RefreshToken
	conn.Expiry = time.Now().Add(-time.Hour)
	if err := h.store.SaveConnection(ctx, conn); err != nil {
		t.Fatal(err)
	}
	h.org.ChangeWorkItem(1, map[string]any{"System.State": "Active"})
	if body := js(h.refresh(userAdele, data)); !strings.Contains(body, "Task 1 · Active") {
		t.Fatalf("a viewer with an expired access token sees no live status: %.1200s", body)
	}
	if conn, _ = h.store.GetConnection(ctx, key); conn.RefreshToken == old || !conn.Expiry.After(time.Now()) {
		t.Error("the renewed tokens were not stored")
	}
}
