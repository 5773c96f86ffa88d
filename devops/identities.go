package devops

// People: team members and the organization's identity search.

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/sally-devops/devopsbot/apperr"
	"golang.org/x/sync/errgroup"
)

// Identity is a person who can be assigned work.
type Identity struct{ ID, DisplayName, UniqueName string }

const maxTeams = 50

// ListMembers returns the members of the project's teams, deduplicated by id
// and sorted by display name. It needs only vso.project, unlike SearchIdentities.
func (c *Client) ListMembers(ctx context.Context, project string) ([]Identity, error) {
	if err := checkProject(project); err != nil {
		return nil, err
	}
	p := url.PathEscape(project)
	var teams struct {
		Value []struct{ ID, Name string }
	}
	if err := c.get(ctx, "teams.list", c.url("_apis", "projects", p, "teams"), url.Values{"$top": {strconv.Itoa(maxTeams)}}, &teams); err != nil {
		return nil, err
	}
	var mu sync.Mutex
	seen := map[string]Identity{}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, t := range teams.Value {
		if t.ID == "" {
			continue
		}
		g.Go(func() error {
			var m struct {
				Value []struct {
					Identity struct {
						ID          string `json:"id"`
						DisplayName string `json:"displayName"`
						UniqueName  string `json:"uniqueName"`
						IsContainer bool   `json:"isContainer"`
					} `json:"identity"`
				}
			}
			if err := c.get(gctx, "teams.members", c.url("_apis", "projects", p, "teams", url.PathEscape(t.ID), "members"), url.Values{"$top": {"500"}}, &m); err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			for _, v := range m.Value {
				id := v.Identity
				if id.ID == "" || id.IsContainer {
					continue
				}
				seen[id.ID] = Identity{ID: id.ID, DisplayName: id.DisplayName, UniqueName: id.UniqueName}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := make([]Identity, 0, len(seen))
	for _, v := range seen {
		out = append(out, v)
	}
	sortIdentities(out)
	return out, nil
}

func sortIdentities(out []Identity) {
	sort.Slice(out, func(i, j int) bool {
		a, b := strings.ToLower(out[i].DisplayName), strings.ToLower(out[j].DisplayName)
		if a != b {
			return a < b
		}
		return out[i].UniqueName < out[j].UniqueName
	})
}

// SearchIdentities searches the whole organization for people. It needs the
// vso.identity scope, which the bot requests only when configured to.
func (c *Client) SearchIdentities(ctx context.Context, query string) ([]Identity, error) {
	query = strings.TrimSpace(query)
	if query == "" || utf8.RuneCountInString(query) > 100 || hasControl(query) {
		return nil, apperr.New(apperr.Invalid, "Please type part of a name or email address (at most 100 characters).")
	}
	q := url.Values{"searchFilter": {"General"}, "filterValue": {query}, "queryMembership": {"none"}}
	var resp struct {
		Value []struct {
			ID                  string `json:"id"`
			ProviderDisplayName string `json:"providerDisplayName"`
			CustomDisplayName   string `json:"customDisplayName"`
			IsActive            *bool  `json:"isActive"`
			IsContainer         bool   `json:"isContainer"` // a group: never a person to assign
			Properties          map[string]struct {
				Value any `json:"$value"`
			} `json:"properties"`
		}
	}
	if err := c.do(ctx, request{op: "identities.search", method: http.MethodGet, url: c.vssps + "/_apis/identities", apiVersion: apiVersion, query: q, idempotent: true}, &resp); err != nil {
		return nil, err
	}
	out := []Identity{}
	for _, v := range resp.Value {
		if v.ID == "" || v.IsContainer || (v.IsActive != nil && !*v.IsActive) {
			continue
		}
		name := v.CustomDisplayName
		if name == "" {
			name = v.ProviderDisplayName
		}
		unique := ""
		for _, k := range []string{"Mail", "Account"} {
			if s, ok := v.Properties[k].Value.(string); ok && s != "" {
				unique = s
				break
			}
		}
		out = append(out, Identity{ID: v.ID, DisplayName: name, UniqueName: unique})
	}
	sortIdentities(out)
	return out, nil
}
