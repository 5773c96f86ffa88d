// Package graphtest is an in-memory Microsoft Graph for tests: the token
// endpoint and the meeting calls the graph package makes, answering as
// Graph's documentation shows (collections in "value" with @odata.nextLink
// paging, errors as {"error":{"code","message","innerError"}}), with knobs
// for the states a real tenant goes through: content not there yet (404), a
// permission or policy missing (403), throttling (429 with Retry-After).
package graphtest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot/graph"
)

// Token is the access token the fake issues and requires.
const Token = "graph-test-token"

// Meeting is an online meeting the fake knows, organized by OrganizerID.
type Meeting struct {
	ID          string
	JoinURL     string
	Subject     string
	OrganizerID string
	Start, End  time.Time
}

type meetingState struct {
	m           Meeting
	insights    []graph.AIInsight // nil: not generated yet (404)
	transcripts map[string]string // id -> VTT; nil: none yet (empty list)
}

// Graph is the fake. Create it with New; its URL serves /v1.0/... and /token.
type Graph struct {
	t   testing.TB
	srv *httptest.Server

	mu         sync.Mutex
	meetings   map[string]*meetingState
	insightsNo string // 403 message for aiInsights ("" = allowed)
	transNo    string // 403 message for transcripts
	throttle   int
	retryAfter string
	pageSize   int
	calls      []string
	tokens     int
}

// New starts a fake Graph, closed when the test ends.
func New(t testing.TB) *Graph {
	g := &Graph{t: t, meetings: map[string]*meetingState{}, pageSize: 100}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

// BaseURL is the Graph root to give graph.Config.
func (g *Graph) BaseURL() string { return g.srv.URL + "/v1.0" }

// TokenURL is the token endpoint to give graph.TokenConfig.
func (g *Graph) TokenURL() string { return g.srv.URL + "/token" }

// Client returns a graph client wired to the fake, with short retry waits.
func (g *Graph) Client() *graph.Client {
	ts, err := graph.NewTokenSource(graph.TokenConfig{ClientID: "app", ClientSecret: "secret", TokenURL: g.TokenURL()})
	if err != nil {
		g.t.Fatal(err)
	}
	c, err := graph.New(graph.Config{BaseURL: g.BaseURL(), Token: ts, MaxBackoff: 5 * time.Millisecond, MaxInlineWait: 50 * time.Millisecond})
	if err != nil {
		g.t.Fatal(err)
	}
	return c
}

// AddMeeting makes a meeting known (its insights and transcripts not ready).
func (g *Graph) AddMeeting(m Meeting) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.meetings[m.ID] = &meetingState{m: m}
}

// SetInsights makes Copilot's insights for a meeting ready.
func (g *Graph) SetInsights(meetingID string, in ...graph.AIInsight) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.meetings[meetingID].insights = append([]graph.AIInsight{}, in...)
}

// AddTranscript makes a transcript of a meeting ready, with WebVTT content.
func (g *Graph) AddTranscript(meetingID, transcriptID, vtt string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	st := g.meetings[meetingID]
	if st.transcripts == nil {
		st.transcripts = map[string]string{}
	}
	st.transcripts[transcriptID] = vtt
}

// ForbidInsights makes the aiInsights calls answer 403 with msg ("" allows
// them again): no Copilot licence, or no application access policy.
func (g *Graph) ForbidInsights(msg string) { g.mu.Lock(); g.insightsNo = msg; g.mu.Unlock() }

// ForbidTranscripts makes the transcript calls answer 403 with msg.
func (g *Graph) ForbidTranscripts(msg string) { g.mu.Lock(); g.transNo = msg; g.mu.Unlock() }

// Throttle makes the next n Graph calls answer 429 with Retry-After seconds.
func (g *Graph) Throttle(n int, retryAfterSeconds int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.throttle, g.retryAfter = n, strconv.Itoa(retryAfterSeconds)
}

// PageSize sets how many items a list page holds (paging tests).
func (g *Graph) PageSize(n int) { g.mu.Lock(); g.pageSize = n; g.mu.Unlock() }

// Calls returns "METHOD path" of every Graph call (tokens excluded), in order.
func (g *Graph) Calls() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.calls...)
}

// CallCount counts calls whose "METHOD path" contains s.
func (g *Graph) CallCount(s string) int {
	n := 0
	for _, c := range g.Calls() {
		if strings.Contains(c, s) {
			n++
		}
	}
	return n
}

// Tokens counts token requests.
func (g *Graph) Tokens() int { g.mu.Lock(); defer g.mu.Unlock(); return g.tokens }

func writeError(w http.ResponseWriter, status int, code, msg, inner string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	body := map[string]any{"error": map[string]any{"code": code, "message": msg,
		"innerError": map[string]any{"code": inner, "date": "2026-12-01T12:00:00", "request-id": "94fb3b52-452a-4535-a601-69e0a90e3aa2"}}}
	_ = json.NewEncoder(w).Encode(body)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (g *Graph) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/token" {
		g.serveToken(w, r)
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls = append(g.calls, r.Method+" "+r.URL.RequestURI())
	if r.Header.Get("Authorization") != "Bearer "+Token {
		writeError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.", "")
		return
	}
	if g.throttle > 0 {
		g.throttle--
		w.Header().Set("Retry-After", g.retryAfter)
		writeError(w, http.StatusTooManyRequests, "TooManyRequests", "Too many requests.", "")
		return
	}
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "BadRequest", "Method not allowed.", "")
		return
	}
	seg := strings.Split(strings.TrimPrefix(r.URL.Path, "/v1.0/"), "/")
	switch {
	// /users/{u}/onlineMeetings?$filter=JoinWebUrl eq '...'
	case len(seg) == 3 && seg[0] == "users" && seg[2] == "onlineMeetings":
		g.findMeeting(w, r, seg[1])
	// /copilot/users/{u}/onlineMeetings/{m}/aiInsights[/{id}]
	case (len(seg) == 6 || len(seg) == 7) && seg[0] == "copilot" && seg[1] == "users" && seg[3] == "onlineMeetings" && seg[5] == "aiInsights":
		g.insights(w, r, seg[2], seg[4], seg[6:])
	// /users/{u}/onlineMeetings/{m}/transcripts[/{id}[/content]]
	case len(seg) >= 5 && len(seg) <= 7 && seg[0] == "users" && seg[2] == "onlineMeetings" && seg[4] == "transcripts":
		g.transcripts(w, r, seg[1], seg[3], seg[5:])
	default:
		writeError(w, http.StatusNotFound, "UnknownError", "Resource not found for the segment '"+r.URL.Path+"'.", "")
	}
}

func (g *Graph) serveToken(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	g.tokens++
	g.mu.Unlock()
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("scope") != graph.GraphScope || r.PostForm.Get("client_secret") == "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_request","error_description":"AADSTS900144: The request body must contain the following parameter: 'grant_type'."}`))
		return
	}
	writeJSON(w, map[string]any{"token_type": "Bearer", "expires_in": 3599, "access_token": Token})
}

// meeting finds a meeting the user organizes (application access is per organizer).
func (g *Graph) meeting(userID, meetingID string) *meetingState {
	st := g.meetings[meetingID]
	if st == nil || st.m.OrganizerID != userID {
		return nil
	}
	return st
}

func (g *Graph) findMeeting(w http.ResponseWriter, r *http.Request, userID string) {
	f := r.URL.Query().Get("$filter")
	const prefix = "JoinWebUrl eq '"
	if !strings.HasPrefix(f, prefix) || !strings.HasSuffix(f, "'") {
		writeError(w, http.StatusBadRequest, "BadRequest", "Filter is not supported.", "")
		return
	}
	join := strings.ReplaceAll(f[len(prefix):len(f)-1], "''", "'")
	out := []map[string]any{}
	for _, st := range g.meetings {
		if st.m.JoinURL == join && st.m.OrganizerID == userID {
			out = append(out, map[string]any{
				"id": st.m.ID, "subject": st.m.Subject, "joinWebUrl": st.m.JoinURL,
				"startDateTime": st.m.Start.UTC().Format(time.RFC3339Nano), "endDateTime": st.m.End.UTC().Format(time.RFC3339Nano),
				"participants": map[string]any{"organizer": map[string]any{"upn": "organizer@contoso.com", "role": "presenter",
					"identity": map[string]any{"user": map[string]any{"id": st.m.OrganizerID, "displayName": nil, "tenantId": "tenant"}}}},
			})
		}
	}
	writeJSON(w, map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('" + userID + "')/onlineMeetings", "value": out})
}

func (g *Graph) insights(w http.ResponseWriter, r *http.Request, userID, meetingID string, rest []string) {
	if g.insightsNo != "" {
		writeError(w, http.StatusForbidden, "Forbidden", g.insightsNo, "")
		return
	}
	st := g.meeting(userID, meetingID)
	if st == nil || st.insights == nil {
		writeError(w, http.StatusNotFound, "NotFound", "The requested resource was not found.", "")
		return
	}
	if len(rest) == 0 {
		items := make([]any, len(st.insights))
		for i, in := range st.insights {
			items[i] = map[string]any{"id": in.ID, "callId": in.CallID, "contentCorrelationId": in.ContentCorrelationID,
				"createdDateTime": in.CreatedDateTime, "endDateTime": in.EndDateTime}
		}
		g.page(w, r, items)
		return
	}
	for _, in := range st.insights {
		if in.ID == rest[0] {
			writeJSON(w, in)
			return
		}
	}
	writeError(w, http.StatusNotFound, "NotFound", "The requested resource was not found.", "")
}

func (g *Graph) transcripts(w http.ResponseWriter, r *http.Request, userID, meetingID string, rest []string) {
	if g.transNo != "" {
		writeError(w, http.StatusForbidden, "Forbidden", g.transNo, "")
		return
	}
	st := g.meeting(userID, meetingID)
	if st == nil {
		writeError(w, http.StatusNotFound, "NotFound", "The requested resource was not found.", "")
		return
	}
	if len(rest) == 0 {
		items := []any{}
		for id := range st.transcripts {
			items = append(items, map[string]any{"id": id, "meetingId": meetingID, "callId": "call-" + meetingID,
				"createdDateTime": st.m.End.UTC().Format(time.RFC3339Nano), "endDateTime": st.m.End.UTC().Format(time.RFC3339Nano),
				"meetingOrganizer": map[string]any{"user": map[string]any{"id": st.m.OrganizerID}}})
		}
		g.page(w, r, items)
		return
	}
	vtt, ok := st.transcripts[rest[0]]
	if !ok {
		writeError(w, http.StatusNotFound, "NotFound", "The requested resource was not found.", "")
		return
	}
	if len(rest) == 1 {
		writeJSON(w, map[string]any{"id": rest[0], "meetingId": meetingID})
		return
	}
	if rest[1] != "content" {
		writeError(w, http.StatusNotFound, "NotFound", "The requested resource was not found.", "")
		return
	}
	if r.URL.Query().Get("$format") != "text/vtt" && r.Header.Get("Accept") != "text/vtt" {
		writeError(w, http.StatusBadRequest, "BadRequest", "Unsupported format.", "")
		return
	}
	w.Header().Set("Content-Type", "text/vtt")
	_, _ = w.Write([]byte(vtt))
}

// page answers a collection page, with @odata.nextLink ($skiptoken) when more remain.
func (g *Graph) page(w http.ResponseWriter, r *http.Request, items []any) {
	start, _ := strconv.Atoi(r.URL.Query().Get("$skiptoken"))
	start = min(max(start, 0), len(items))
	end := min(start+g.pageSize, len(items))
	out := map[string]any{"value": items[start:end]}
	if end < len(items) {
		u := *r.URL
		u.Scheme, u.Host = "http", r.Host
		q := u.Query()
		q.Set("$skiptoken", strconv.Itoa(end))
		u.RawQuery = q.Encode()
		out["@odata.nextLink"] = u.String()
	}
	writeJSON(w, out)
}
