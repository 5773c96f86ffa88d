package devops

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sally-devops/devopsbot/apperr"
)

// WorkItemNow is a work item as it stands now, for a card that shows live
// status: what can change after the bot created it.
type WorkItemNow struct {
	ID         int
	Type       string
	Title      string
	State      string
	AssignedTo string // display name; "" when unassigned
}

// MaxBatchIDs is how many ids one workitemsbatch call accepts.
const MaxBatchIDs = 200

var nowFields = []string{"System.Id", "System.WorkItemType", "System.Title", "System.State", "System.AssignedTo"}

// WorkItemsNow reads the given work items in one organization-wide
// workitemsbatch call (POST {org}/_apis/wit/workitemsbatch, no project: the
// items may live in several). With errorPolicy "omit" the service answers
// null in place of an item that does not exist or that the user cannot read,
// instead of failing the whole call: such items are simply absent from the
// result, by id. Duplicate and invalid ids are dropped; at most MaxBatchIDs.
func (c *Client) WorkItemsNow(ctx context.Context, ids []int) (map[int]WorkItemNow, error) {
	ids = cleanIDs(ids)
	out := map[int]WorkItemNow{}
	if len(ids) == 0 {
		return out, nil
	}
	if len(ids) > MaxBatchIDs {
		return nil, apperr.New(apperr.Invalid, "Too many work items to read at once.")
	}
	var resp struct {
		Value []*workItemJSON `json:"value"`
	}
	err := c.do(ctx, request{
		op: "workitems.status", method: http.MethodPost, url: c.url("_apis", "wit", "workitemsbatch"), apiVersion: apiVersion,
		body: map[string]any{"ids": ids, "fields": nowFields, "errorPolicy": "omit"}, idempotent: true,
	}, &resp)
	if err != nil {
		return nil, err
	}
	asked := map[int]bool{}
	for _, id := range ids {
		asked[id] = true
	}
	for _, v := range resp.Value {
		if v == nil || !asked[v.ID] {
			continue // omitted (deleted, no access), or not what we asked for
		}
		str := func(k string) string { s, _ := v.Fields[k].(string); return s }
		out[v.ID] = WorkItemNow{
			ID: v.ID, Type: str("System.WorkItemType"), Title: str("System.Title"), State: str("System.State"),
			AssignedTo: identityName(v.Fields["System.AssignedTo"]),
		}
	}
	return out, nil
}

// identityName reads an IdentityRef field (an object with displayName and
// uniqueName; older answers gave "Name <mail>" as a string).
func identityName(v any) string {
	switch t := v.(type) {
	case map[string]any:
		if s, _ := t["displayName"].(string); s != "" {
			return s
		}
		s, _ := t["uniqueName"].(string)
		return s
	case string:
		if i := strings.LastIndexByte(t, '<'); i > 0 && strings.HasSuffix(t, ">") {
			return strings.TrimSpace(t[:i])
		}
		return t
	}
	return ""
}

func cleanIDs(ids []int) []int {
	out := make([]int, 0, len(ids))
	for _, id := range ids {
		if id > 0 && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// StatusCache keeps work items' live status for a short while per viewer and
// set of ids: Teams may ask for the same person's view again within seconds
// (several devices, a chat reopened), and a change in Azure DevOps shows
// within the TTL. It is the metadata cache's engine (bounded, errors never
// cached, concurrent misses share one call that no single request's
// cancellation fails), with its own TTL and bound.
//
// Entries are never shared between people: what a read returns depends on
// the reader's permissions (area-path security can hide an item's current
// title or state from one member of the chat and not another).
type StatusCache struct{ m *MetadataCache }

// maxStatusEntries bounds the status cache: an entry holds up to MaxBatchIDs items.
const maxStatusEntries = 2048

// NewStatusCache returns a cache whose entries live for ttl (default 30 s).
func NewStatusCache(ttl time.Duration) *StatusCache {
	if ttl <= 0 {
		ttl = 30 * time.Second
	}
	return &StatusCache{m: newSharedCache(ttl, maxStatusEntries)}
}

// WorkItemsNow is c.WorkItemsNow through the cache; viewer names the person
// whose token c carries (an entry is theirs alone), and hit says no call was
// made.
func (s *StatusCache) WorkItemsNow(ctx context.Context, c *Client, viewer string, ids []int) (items map[int]WorkItemNow, hit bool, err error) {
	ids = cleanIDs(ids)
	var b strings.Builder
	b.WriteString(orgKey(c))
	b.WriteByte('|')
	b.WriteString(strconv.Quote(viewer)) // quoted: a viewer id cannot forge the ids part
	for _, id := range ids {
		b.WriteByte(',')
		b.WriteString(strconv.Itoa(id))
	}
	v, hit, err := s.m.get(ctx, b.String(), func(ctx context.Context) (any, error) { return c.WorkItemsNow(ctx, ids) })
	if err != nil {
		return nil, false, err
	}
	return v.(map[int]WorkItemNow), hit, nil
}
