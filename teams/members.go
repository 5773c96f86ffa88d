package teams

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/sally-devops/devopsbot/apperr"
)

// Member is one member of a conversation as the Bot Connector lists it: ID is
// the Teams user id ("29:..."), the id Teams expects in a card's
// refresh.userIds; AADObjectID ties it to the person's Entra account.
type Member struct {
	ID          string `json:"id"`
	Name        string `json:"name,omitempty"`
	AADObjectID string `json:"aadObjectId,omitempty"`
	// ObjectID is the older spelling of aadObjectId some answers still use.
	ObjectID string `json:"objectId,omitempty"`
	TenantID string `json:"tenantId,omitempty"`
	UserRole string `json:"userRole,omitempty"` // "user", "guest", "anonymous"
}

// AADID is the member's Entra object id, whichever spelling the answer used.
func (m Member) AADID() string {
	if m.AADObjectID != "" {
		return m.AADObjectID
	}
	return m.ObjectID
}

// membersPageSize asks for pages the connector accepts (it allows 50 to 500).
const membersPageSize = 100

// maxMemberPages bounds how many pages one listing reads, so a chat of
// thousands (an org-wide team) costs a bounded number of calls.
const maxMemberPages = 10

type pagedMembers struct {
	ContinuationToken string   `json:"continuationToken"`
	Members           []Member `json:"members"`
}

// ConversationMembers lists a conversation's members through the paged
// members API (GET {serviceUrl}/v3/conversations/{id}/pagedmembers): Teams
// deprecated the unpaged GET .../members and throttles it to a few calls a
// minute. At most max members are returned (max <= 0: the page bound only);
// truncated says there were more. Members without a Teams user id are left out.
func (c *Connector) ConversationMembers(ctx context.Context, serviceURL, conversationID string, max int) (members []Member, truncated bool, err error) {
	base, err := baseURL(serviceURL)
	if err != nil {
		return nil, false, err
	}
	if conversationID == "" {
		return nil, false, apperr.New(apperr.Invalid, "The conversation id is missing.")
	}
	u := base + "/v3/conversations/" + segment(conversationID) + "/pagedmembers"
	token := ""
	seenTokens := map[string]bool{}
	for page := 0; page < maxMemberPages; page++ {
		q := url.Values{"pageSize": {strconv.Itoa(membersPageSize)}}
		if token != "" {
			q.Set("continuationToken", token)
		}
		var p pagedMembers
		if err := c.do(ctx, "members.list", http.MethodGet, u+"?"+q.Encode(), nil, &p); err != nil {
			return nil, false, err
		}
		for _, m := range p.Members {
			if m.ID == "" {
				continue
			}
			if max > 0 && len(members) == max {
				return members, true, nil
			}
			members = append(members, m)
		}
		// A token seen before would loop forever: treat it as the end.
		if p.ContinuationToken == "" || seenTokens[p.ContinuationToken] {
			return members, false, nil
		}
		seenTokens[p.ContinuationToken] = true
		token = p.ContinuationToken
	}
	return members, true, nil
}
