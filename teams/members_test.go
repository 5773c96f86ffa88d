package teams_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/teams"
	"github.com/sally-devops/devopsbot/teams/teamstest"
)

func roster(n int) []teams.Member {
	out := make([]teams.Member, n)
	for i := range out {
		out[i] = teams.Member{ID: fmt.Sprintf("29:user-%03d", i), AADObjectID: fmt.Sprintf("aad-%03d", i), TenantID: "t1"}
	}
	return out
}

func TestConversationMembersReadsEveryPage(t *testing.T) {
	fake := teamstest.NewConnector(t)
	conv := "19:meeting_abc@thread.v2;messageid=17"
	fake.SetMembers(conv, roster(250)...)
	c, _ := newTestConnector(teams.ConnectorConfig{})
	got, truncated, err := c.ConversationMembers(context.Background(), fake.URL, conv, 0)
	if err != nil || truncated {
		t.Fatalf("members: %v (truncated %v)", err, truncated)
	}
	if len(got) != 250 || got[0].ID != "29:user-000" || got[249].ID != "29:user-249" || got[249].AADID() != "aad-249" {
		t.Fatalf("got %d members, first %+v", len(got), got[0])
	}
	if fake.MemberCalls() != 3 {
		t.Errorf("250 members took %d roster calls, want 3 pages of 100", fake.MemberCalls())
	}

	// A bound stops the reading early and says so.
	got, truncated, err = c.ConversationMembers(context.Background(), fake.URL, conv, 120)
	if err != nil || !truncated || len(got) != 120 {
		t.Fatalf("bounded: %d members, truncated %v, err %v", len(got), truncated, err)
	}
	if fake.MemberCalls() != 5 {
		t.Errorf("120 of 250 members took %d more calls, want 2", fake.MemberCalls()-3)
	}
}

func TestConversationMembersFailures(t *testing.T) {
	fake := teamstest.NewConnector(t)
	fake.SetMembers("19:a@thread.v2", roster(3)...)
	c, waits := newTestConnector(teams.ConnectorConfig{})
	// A passing 503 is retried (a read), and the roster still comes.
	fake.FailMembers(1)
	got, _, err := c.ConversationMembers(context.Background(), fake.URL, "19:a@thread.v2", 0)
	if err != nil || len(got) != 3 || len(waits()) != 1 {
		t.Fatalf("after one 503: %d members, err %v, waits %v", len(got), err, waits())
	}
	fake.ForgetConversation("19:a@thread.v2")
	if _, _, err := c.ConversationMembers(context.Background(), fake.URL, "19:a@thread.v2", 0); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("a chat the bot left: %v, want NotFound", err)
	}
	if _, _, err := c.ConversationMembers(context.Background(), "ftp://x", "19:a@thread.v2", 0); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("a bad service URL: %v", err)
	}
	if _, _, err := c.ConversationMembers(context.Background(), fake.URL, "", 0); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("no conversation: %v", err)
	}
}

// FuzzConversationMembers answers every page with the fuzzed body: whatever
// it holds, the listing ends, within its page bound, without a panic, and
// returns only members with a Teams id.
func FuzzConversationMembers(f *testing.F) {
	f.Add(`{"continuationToken":"x","members":[{"id":"29:a","aadObjectId":"1"}]}`)
	f.Add(`{"members":[{"id":"","objectId":"2"},{"id":"29:b","objectId":"2"}]}`)
	f.Add(`{"continuationToken":null,"members":null}`)
	f.Add(`[1,2,3]`)
	f.Add(`{"members":[{"id":5}]}`)
	f.Fuzz(func(t *testing.T, body string) {
		var calls atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, body)
		}))
		defer srv.Close()
		c := teams.NewConnector(teams.ConnectorConfig{MaxRetries: -1})
		got, _, err := c.ConversationMembers(context.Background(), srv.URL, "19:x@thread.v2", 50)
		if calls.Load() > 10 {
			t.Fatalf("%d roster calls for one listing", calls.Load())
		}
		if err == nil && len(got) > 50 {
			t.Fatalf("%d members past the bound", len(got))
		}
		for _, m := range got {
			if m.ID == "" {
				t.Fatalf("a member without a Teams id: %+v", m)
			}
		}
	})
}

// Older answers spell the Entra id "objectId"; the person is the same.
func TestMemberEntraIDEitherSpelling(t *testing.T) {
	fake := teamstest.NewConnector(t)
	fake.SetMembers("19:a@thread.v2", teams.Member{ID: "29:old", ObjectID: "o-1"}, teams.Member{ID: "29:new", AADObjectID: "a-2", ObjectID: "ignored"})
	c, _ := newTestConnector(teams.ConnectorConfig{})
	got, _, err := c.ConversationMembers(context.Background(), fake.URL, "19:a@thread.v2", 0)
	if err != nil || len(got) != 2 || got[0].AADID() != "o-1" || got[1].AADID() != "a-2" {
		t.Fatalf("members %+v, err %v", got, err)
	}
}
