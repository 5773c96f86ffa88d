// Package teamstest fakes the parts of Teams a bot talks to: the Bot Connector (as the
// Agents Playground's connector behaves), the Bot Framework token issuer, and the
// Entra ID client-credentials token endpoint.
package teamstest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot/teams"
)

// Connector imitates the Playground connector plus the Teams behaviours the
// Playground lacks (403 for users without the app, throttling). Use URL as serviceUrl.
type Connector struct {
	URL string

	srv *httptest.Server

	mu          sync.Mutex
	sent        []Sent
	acts        map[string]map[string]teams.Activity // conversation -> activity id -> state
	forgotten   map[string]bool
	refused     map[string]bool
	fail        []failure
	nextID      int
	meetings    map[string]teams.MeetingDetails
	members     map[string][]teams.Member // conversation -> roster (members.go)
	memberGets  int
	failMembers int
}

// SetMeeting makes GET /v1/meetings/{id} answer d, as Teams' meeting details
// API does for a meeting whose chat has the bot; other ids answer 404.
func (c *Connector) SetMeeting(id string, d teams.MeetingDetails) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.meetings == nil {
		c.meetings = map[string]teams.MeetingDetails{}
	}
	c.meetings[id] = d
}

type failure struct {
	status     int
	retryAfter string
}

// Sent is one request the connector received. ConversationID is the new id for a
// CreateConversation; ActivityID the id assigned (POST) or addressed (PUT, DELETE).
type Sent struct {
	Method         string
	ConversationID string
	ActivityID     string
	ReplyToID      string
	Activity       teams.Activity
	Authorization  string
	// Status is what the connector answered.
	Status int
	// Conversation holds the parameters of a CreateConversation.
	Conversation *teams.ConversationParameters
}

// NewConnector starts the fake; it stops when the test ends.
func NewConnector(t testing.TB) *Connector {
	t.Helper()
	c := &Connector{
		acts:      map[string]map[string]teams.Activity{},
		forgotten: map[string]bool{},
		refused:   map[string]bool{},
	}
	c.srv = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.srv.Close)
	c.URL = c.srv.URL + "/_connector"
	return c
}

// Sent returns every request received, in order.
func (c *Connector) Sent() []Sent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Sent(nil), c.sent...)
}

// Activity returns a message as it stands now, after updates; false when it was
// never sent or has been deleted.
func (c *Connector) Activity(conversationID, activityID string) (teams.Activity, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.acts[conversationID][activityID]
	return a, ok
}

// WaitSent waits until at least n requests arrived (background handlers send after
// the HTTP answer) and fails the test after timeout.
func (c *Connector) WaitSent(t testing.TB, n int, timeout time.Duration) []Sent {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := c.Sent()
		if len(s) >= n {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("teamstest: %d requests reached the connector within %v, want %d", len(s), timeout, n)
			return s
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// FailNext makes the next `times` requests fail with status (and a Retry-After header
// when retryAfter is not empty).
func (c *Connector) FailNext(status int, retryAfter string, times int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for range times {
		c.fail = append(c.fail, failure{status, retryAfter})
	}
}

// ForgetConversation makes the conversation unknown: every call on it answers 404,
// as when the bot was removed from the chat.
func (c *Connector) ForgetConversation(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forgotten[id] = true
}

// RefuseUser makes CreateConversation with that member answer 403, as Teams does
// when the user has not installed the app.
func (c *Connector) RefuseUser(aadObjectID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refused[aadObjectID] = true
}

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"code":%q,"message":%q}}`, code, msg)
}

func writeID(w http.ResponseWriter, status int, id string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"id":%q}`, id)
}

func (c *Connector) serve(w http.ResponseWriter, r *http.Request) {
	if c.servePagedMembers(w, r) {
		return
	}
	if id, ok := strings.CutPrefix(r.URL.EscapedPath(), "/_connector/v1/meetings/"); ok && r.Method == http.MethodGet {
		id, _ = url.PathUnescape(id)
		c.mu.Lock()
		d, found := c.meetings[id]
		c.mu.Unlock()
		if !found {
			writeErr(w, http.StatusNotFound, "NotFound", "meeting not found")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(d)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/_connector/v3/conversations")
	if !ok {
		writeErr(w, http.StatusNotFound, "NotFound", "no such route")
		return
	}
	var segs []string
	for _, s := range strings.Split(strings.Trim(rest, "/"), "/") {
		if s == "" {
			continue
		}
		u, err := url.PathUnescape(s)
		if err != nil {
			writeErr(w, http.StatusBadRequest, "BadSyntax", "bad path escape")
			return
		}
		segs = append(segs, u)
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	rec := Sent{Method: r.Method, Authorization: r.Header.Get("Authorization")}

	c.mu.Lock()
	defer c.mu.Unlock()
	record := func(status int) {
		rec.Status = status
		c.sent = append(c.sent, rec)
	}
	if len(c.fail) > 0 {
		f := c.fail[0]
		c.fail = c.fail[1:]
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		record(f.status)
		writeErr(w, f.status, "Throttled", "injected failure")
		return
	}

	switch {
	case len(segs) == 0 && r.Method == http.MethodPost:
		var p teams.ConversationParameters
		if err := json.Unmarshal(body, &p); err != nil || len(p.Members) == 0 {
			record(http.StatusBadRequest)
			writeErr(w, http.StatusBadRequest, "BadArgument", "members are required")
			return
		}
		rec.Conversation = &p
		for _, m := range p.Members {
			if c.refused[m.AADObjectID] || c.refused[m.ID] {
				record(http.StatusForbidden)
				writeErr(w, http.StatusForbidden, "Forbidden", "Bot is not installed in user's personal scope")
				return
			}
		}
		c.nextID++
		rec.ConversationID = "a:conversation-" + strconv.Itoa(c.nextID)
		record(http.StatusCreated)
		writeID(w, http.StatusCreated, rec.ConversationID)
		return
	case len(segs) >= 2 && segs[1] == "activities" && len(segs) <= 3:
	default:
		record(http.StatusNotFound)
		writeErr(w, http.StatusNotFound, "NotFound", "no such route")
		return
	}

	conv := segs[0]
	rec.ConversationID = conv
	if len(segs) == 3 {
		rec.ActivityID = segs[2]
	}
	if c.forgotten[conv] {
		record(http.StatusNotFound)
		writeErr(w, http.StatusNotFound, "ConversationNotFound", "Conversation not found.")
		return
	}
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		if err := json.Unmarshal(body, &rec.Activity); err != nil {
			record(http.StatusBadRequest)
			writeErr(w, http.StatusBadRequest, "BadSyntax", "body is not an activity")
			return
		}
	}

	switch r.Method {
	case http.MethodPost:
		if len(segs) == 3 {
			rec.ReplyToID, rec.ActivityID = segs[2], ""
		}
		hasText, hasAtt := rec.Activity.Text != "", len(rec.Activity.Attachments) > 0
		if !hasText && !hasAtt {
			record(http.StatusBadRequest)
			writeErr(w, http.StatusBadRequest, "BadArgument", "Activity must have text or attachments.")
			return
		}
		if c.acts[conv] == nil {
			c.acts[conv] = map[string]teams.Activity{}
		}
		if hasText && hasAtt {
			// The Playground splits it in two and returns no id.
			t, a := rec.Activity, rec.Activity
			t.Attachments, a.Text = nil, ""
			t.ID, a.ID = c.newID(), c.newID()
			c.acts[conv][t.ID], c.acts[conv][a.ID] = t, a
			record(http.StatusAccepted)
			w.WriteHeader(http.StatusAccepted)
			return
		}
		rec.ActivityID = c.newID()
		stored := rec.Activity
		stored.ID = rec.ActivityID
		c.acts[conv][rec.ActivityID] = stored
		record(http.StatusCreated)
		writeID(w, http.StatusCreated, rec.ActivityID)
	case http.MethodPut:
		if len(segs) != 3 {
			break
		}
		if _, ok := c.acts[conv][rec.ActivityID]; !ok {
			record(http.StatusNotFound)
			writeErr(w, http.StatusNotFound, "ActivityNotFound", "Activity not found.")
			return
		}
		stored := rec.Activity
		stored.ID = rec.ActivityID
		c.acts[conv][rec.ActivityID] = stored
		record(http.StatusOK)
		writeID(w, http.StatusOK, rec.ActivityID)
	case http.MethodDelete:
		if len(segs) != 3 {
			break
		}
		if _, ok := c.acts[conv][rec.ActivityID]; !ok {
			record(http.StatusNotFound)
			writeErr(w, http.StatusNotFound, "ActivityNotFound", "Activity not found.")
			return
		}
		delete(c.acts[conv], rec.ActivityID)
		record(http.StatusOK)
		w.WriteHeader(http.StatusOK)
	default:
		record(http.StatusMethodNotAllowed)
		writeErr(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "method not allowed")
	}
	if rec.Status == 0 {
		record(http.StatusMethodNotAllowed)
		writeErr(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "method not allowed")
	}
}

func (c *Connector) newID() string {
	c.nextID++
	return strconv.FormatInt(time.Now().UnixMilli(), 10) + "-" + strconv.Itoa(c.nextID)
}
