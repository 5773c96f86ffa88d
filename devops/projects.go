package devops

// Projects: the projects a user can see.

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// Project is an Azure DevOps project the user can see.
type Project struct{ ID, Name, Description string }

// ListProjects returns the projects the user can see, sorted by name.
func (c *Client) ListProjects(ctx context.Context) ([]Project, error) {
	var out []Project
	cont := ""
	for page := 0; page < 20; page++ {
		q := url.Values{"$top": {"500"}, "stateFilter": {"wellFormed"}}
		if cont != "" {
			q.Set("continuationToken", cont)
		}
		var resp struct {
			Value []struct{ ID, Name, Description string }
		}
		var hdr http.Header
		err := c.do(ctx, request{op: "projects.list", method: http.MethodGet, url: c.url("_apis", "projects"), apiVersion: apiVersion, query: q, idempotent: true}, &headerCapture{into: &resp, hdr: &hdr})
		if err != nil {
			return nil, err
		}
		for _, p := range resp.Value {
			out = append(out, Project{ID: p.ID, Name: p.Name, Description: p.Description})
		}
		cont = ""
		if hdr != nil {
			cont = hdr.Get("X-Ms-Continuationtoken")
		}
		if cont == "" || len(resp.Value) == 0 {
			break
		}
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
	return out, nil
}

// headerCapture lets a caller see response headers (continuation tokens) without
// widening do's signature. classify unmarshals into into; do fills hdr.
type headerCapture struct {
	into any
	hdr  *http.Header
}
