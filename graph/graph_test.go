package graph_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/graph"
	"github.com/sally-devops/devopsbot/graph/graphtest"
)

const (
	organizer = "b935e675-5e67-48b9-8d45-249d5f88e964"
	joinURL   = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_MGQ4@thread.v2/0?context=%7b%22Tid%22%3a%22t%22%7d"
)

func fakeWithMeeting(t *testing.T) *graphtest.Graph {
	g := graphtest.New(t)
	g.AddMeeting(graphtest.Meeting{ID: "MSpiOTM1ZTY3NS01ZTY3", JoinURL: joinURL, Subject: "Weekly sync", OrganizerID: organizer})
	return g
}

func TestFindMeetingByJoinURLSendsTheDocumentedFilter(t *testing.T) {
	g := fakeWithMeeting(t)
	c := g.Client()
	m, err := c.FindMeetingByJoinURL(context.Background(), organizer, joinURL)
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != "MSpiOTM1ZTY3NS01ZTY3" || m.OrganizerID() != organizer || m.Subject != "Weekly sync" {
		t.Fatalf("meeting: %+v", m)
	}
	calls := g.Calls()
	if len(calls) != 1 || !strings.Contains(calls[0], "/v1.0/users/"+organizer+"/onlineMeetings?%24filter=JoinWebUrl%20eq%20%27https") {
		t.Fatalf("calls: %v", calls)
	}
	if g.Tokens() != 1 {
		t.Fatalf("%d token requests, want 1", g.Tokens())
	}
	// Another user's view does not list it: NotFound, not an empty meeting.
	if _, err := c.FindMeetingByJoinURL(context.Background(), "someone-else", joinURL); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("unknown meeting: %v", err)
	}
}

func TestInsightsNotReadyForbiddenAndReady(t *testing.T) {
	g := fakeWithMeeting(t)
	c := g.Client()
	ctx := context.Background()
	if _, err := c.ListAIInsights(ctx, organizer, "MSpiOTM1ZTY3NS01ZTY3"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("before Copilot is done: %v", err)
	}
	g.ForbidInsights("Application access policy not found for the user.")
	_, err := c.ListAIInsights(ctx, organizer, "MSpiOTM1ZTY3NS01ZTY3")
	if !apperr.Is(err, apperr.Forbidden) || !strings.Contains(apperr.UserMessage(err), "Application access policy not found") {
		t.Fatalf("forbidden: %v / %q", err, apperr.UserMessage(err))
	}
	g.ForbidInsights("")
	g.SetInsights("MSpiOTM1ZTY3NS01ZTY3", graph.AIInsight{ID: "Z2HWbT", MeetingNotes: []graph.MeetingNote{{Title: "Budget", Text: "Discussed Q1.", Subpoints: []graph.NoteSubpoint{{Title: "Cap", Text: "Cap at 10k."}}}},
		ActionItems: []graph.ActionItem{{Title: "Send budget", Text: "Send the budget to finance.", OwnerDisplayName: "Lisa Taylor"}}})
	list, err := c.ListAIInsights(ctx, organizer, "MSpiOTM1ZTY3NS01ZTY3")
	if err != nil || len(list) != 1 || list[0].ID != "Z2HWbT" {
		t.Fatalf("list: %v %+v", err, list)
	}
	in, err := c.GetAIInsight(ctx, organizer, "MSpiOTM1ZTY3NS01ZTY3", "Z2HWbT")
	if err != nil || len(in.ActionItems) != 1 || in.ActionItems[0].OwnerDisplayName != "Lisa Taylor" || in.MeetingNotes[0].Subpoints[0].Text != "Cap at 10k." {
		t.Fatalf("get: %v %+v", err, in)
	}
	if g.CallCount("/v1.0/copilot/users/"+organizer+"/onlineMeetings/MSpiOTM1ZTY3NS01ZTY3/aiInsights/Z2HWbT") != 1 {
		t.Fatalf("calls: %v", g.Calls())
	}
}

func TestTranscriptsPagedAndContentAsVTT(t *testing.T) {
	g := fakeWithMeeting(t)
	g.PageSize(1)
	for _, id := range []string{"a", "b", "c"} {
		g.AddTranscript("MSpiOTM1ZTY3NS01ZTY3", id, "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Adele>I'll send it "+id+".</v>\n")
	}
	c := g.Client()
	ctx := context.Background()
	ts, err := c.ListTranscripts(ctx, organizer, "MSpiOTM1ZTY3NS01ZTY3")
	if err != nil || len(ts) != 3 {
		t.Fatalf("all pages: %v %d", err, len(ts))
	}
	if n := g.CallCount("/transcripts"); n != 3 {
		t.Fatalf("%d list calls for 3 pages of 1", n)
	}
	vtt, err := c.TranscriptContent(ctx, organizer, "MSpiOTM1ZTY3NS01ZTY3", ts[0].ID)
	if err != nil || !strings.HasPrefix(vtt, "WEBVTT") || !strings.Contains(vtt, "<v Adele>") {
		t.Fatalf("content: %v %q", err, vtt)
	}
	if g.CallCount("/content?%24format=text%2Fvtt") != 1 {
		t.Fatalf("calls: %v", g.Calls())
	}
	g.ForbidTranscripts("Graph API access to transcripts is disabled for this tenant.")
	if _, err := c.ListTranscripts(ctx, organizer, "MSpiOTM1ZTY3NS01ZTY3"); !apperr.Is(err, apperr.Forbidden) || !strings.Contains(apperr.UserMessage(err), "disabled for this tenant") {
		t.Fatalf("forbidden transcripts: %v", err)
	}
}

func TestThrottlingShortWaitRetriedLongWaitReturned(t *testing.T) {
	g := fakeWithMeeting(t)
	c := g.Client() // MaxInlineWait 50 ms
	ctx := context.Background()
	g.Throttle(2, 0) // Retry-After: 0 -> retried inline
	if _, err := c.FindMeetingByJoinURL(ctx, organizer, joinURL); err != nil {
		t.Fatalf("after two short throttles: %v", err)
	}
	if n := g.CallCount("onlineMeetings?"); n != 3 {
		t.Fatalf("%d calls, want 3 (2 throttled + 1)", n)
	}
	g.Throttle(1, 120)
	_, err := c.FindMeetingByJoinURL(ctx, organizer, joinURL)
	if !apperr.Is(err, apperr.RateLimited) || apperr.RetryAfterOf(err) != 120*time.Second {
		t.Fatalf("long throttle: %v (retry after %v)", err, apperr.RetryAfterOf(err))
	}
	if n := g.CallCount("onlineMeetings?"); n != 4 {
		t.Fatalf("a 2-minute Retry-After was waited out inline: %d calls", n)
	}
}

// A next link to another host would carry the bot's Graph token there.
func TestNextLinkOutsideGraphNotFollowed(t *testing.T) {
	evil := 0
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { evil++ }))
	defer other.Close()
	var graphSrv *httptest.Server
	graphSrv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"value":[{"id":"t1"}],"@odata.nextLink":"` + other.URL + `/v1.0/next"}`))
	}))
	defer graphSrv.Close()
	c, err := graph.New(graph.Config{BaseURL: graphSrv.URL + "/v1.0", Token: staticToken{}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListTranscripts(context.Background(), "u", "m")
	if err == nil || evil != 0 {
		t.Fatalf("followed a foreign next link: err %v, calls there %d", err, evil)
	}
}

func TestTokenEndpointFailureIsUnavailableWithoutSecret(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}`))
	}))
	defer srv.Close()
	ts, err := graph.NewTokenSource(graph.TokenConfig{ClientID: "app", ClientSecret: "s3cr3t-value", TokenURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := graph.New(graph.Config{BaseURL: srv.URL + "/v1.0", Token: ts, MaxRetries: 1, MaxBackoff: time.Millisecond})
	_, err = c.ListTranscripts(context.Background(), "u", "m")
	if !apperr.Is(err, apperr.Unavailable) || strings.Contains(err.Error()+apperr.UserMessage(err), "s3cr3t-value") {
		t.Fatalf("token failure: %v", err)
	}
}

type staticToken struct{}

func (staticToken) Token() (*oauth2.Token, error) {
	return &oauth2.Token{AccessToken: "x", TokenType: "Bearer"}, nil
}

// A Retry-After the call could wait for, but not before its deadline, ends the
// call at once as RateLimited (the caller can schedule it), instead of a wait
// that the deadline cuts into "did not answer in time".
func TestThrottleBeyondTheDeadlineReturnsAtOnce(t *testing.T) {
	g := fakeWithMeeting(t)
	ts, err := graph.NewTokenSource(graph.TokenConfig{ClientID: "app", ClientSecret: "secret", TokenURL: g.TokenURL()})
	if err != nil {
		t.Fatal(err)
	}
	c, err := graph.New(graph.Config{BaseURL: g.BaseURL(), Token: ts, MaxInlineWait: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	g.Throttle(1, 600) // ten minutes: inside MaxInlineWait, beyond the deadline
	_, err = c.FindMeetingByJoinURL(ctx, organizer, joinURL)
	if !apperr.Is(err, apperr.RateLimited) || apperr.RetryAfterOf(err) != 10*time.Minute || ctx.Err() != nil {
		t.Fatalf("err %v (retry after %v, ctx %v); want RateLimited after 10m, returned before the deadline", err, apperr.RetryAfterOf(err), ctx.Err())
	}
	if n := g.CallCount("onlineMeetings?"); n != 1 {
		t.Fatalf("%d calls, want 1", n)
	}
}
