package teamstest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/sally-devops/devopsbot/teams"
)

// SetMembers sets a conversation's roster, as GET
// /v3/conversations/{id}/pagedmembers lists it. A conversation without one
// lists nobody (the bot then has no one to show a live card to).
func (c *Connector) SetMembers(conversationID string, members ...teams.Member) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.members == nil {
		c.members = map[string][]teams.Member{}
	}
	c.members[conversationID] = append([]teams.Member(nil), members...)
}

// MemberCalls counts roster requests (pages), failed ones included. They are
// not in Sent, which holds what the bot posted.
func (c *Connector) MemberCalls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.memberGets
}

// FailMembers makes the next times roster requests answer 503. (FailNext is
// for posts: a roster read must not use up a failure meant for a post.)
func (c *Connector) FailMembers(times int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failMembers = times
}

// servePagedMembers answers GET /v3/conversations/{id}/pagedmembers as the
// Bot Connector does: {"continuationToken", "members"}, pageSize between 1
// and 500 (default 200), an opaque token for the next page and none on the
// last. The deprecated unpaged /members is not served: the bot must not use it.
func (c *Connector) servePagedMembers(w http.ResponseWriter, r *http.Request) bool {
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/_connector/v3/conversations/")
	if !ok {
		return false
	}
	esc, ok := strings.CutSuffix(rest, "/pagedmembers")
	if !ok || strings.Contains(esc, "/") {
		return false
	}
	conv, err := url.PathUnescape(esc)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "BadSyntax", "bad path escape")
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.memberGets++
	if r.Method != http.MethodGet {
		writeErr(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "method not allowed")
		return true
	}
	if c.failMembers > 0 {
		c.failMembers--
		writeErr(w, http.StatusServiceUnavailable, "ServiceUnavailable", "injected failure")
		return true
	}
	if c.forgotten[conv] {
		writeErr(w, http.StatusNotFound, "ConversationNotFound", "Conversation not found.")
		return true
	}
	q := r.URL.Query()
	size := 200
	if v := q.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			writeErr(w, http.StatusBadRequest, "BadArgument", "pageSize must be between 1 and 500")
			return true
		}
		size = n
	}
	start := 0
	if tok := q.Get("continuationToken"); tok != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(tok, "page-"))
		if err != nil || !strings.HasPrefix(tok, "page-") || n <= 0 || n > len(c.members[conv]) {
			writeErr(w, http.StatusBadRequest, "BadArgument", "invalid continuation token")
			return true
		}
		start = n
	}
	all := c.members[conv]
	end := min(start+size, len(all))
	out := struct {
		ContinuationToken string         `json:"continuationToken,omitempty"`
		Members           []teams.Member `json:"members"`
	}{Members: append([]teams.Member{}, all[start:end]...)}
	if end < len(all) {
		out.ContinuationToken = "page-" + strconv.Itoa(end)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
	return true
}
