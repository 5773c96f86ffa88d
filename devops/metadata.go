package devops

// Project metadata the create form offers: work item types, areas,
// iterations and the default team's defaults.

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// WorkItemType is a type users may create (hidden and disabled types are left out).
type WorkItemType struct{ Name, Description, Color string }

// Iteration is a sprint of the project's default team.
type Iteration struct {
	ID, Name, Path string
	Start, Finish  time.Time
	TimeFrame      string // past, current or future, as the team settings say
}

// TeamDefaults are what the project's default team would pick for a new item.
type TeamDefaults struct {
	Team             string
	DefaultArea      string
	CurrentIteration *Iteration
}

// ListWorkItemTypes returns the types people may create in project: disabled
// types and those in Microsoft.HiddenCategory (test cases, code review
// requests...) are left out, as the web UI's "New work item" menu does.
func (c *Client) ListWorkItemTypes(ctx context.Context, project string) ([]WorkItemType, error) {
	if err := checkProject(project); err != nil {
		return nil, err
	}
	p := url.PathEscape(project)
	var types struct {
		Value []struct {
			Name, Description, Color string
			IsDisabled               bool `json:"isDisabled"`
		}
	}
	var cats struct {
		Value []struct {
			ReferenceName string `json:"referenceName"`
			WorkItemTypes []struct{ Name string }
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return c.get(gctx, "types.list", c.url(p, "_apis", "wit", "workitemtypes"), nil, &types) })
	g.Go(func() error {
		return c.get(gctx, "types.categories", c.url(p, "_apis", "wit", "workitemtypecategories"), nil, &cats)
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	hidden := map[string]bool{}
	for _, cat := range cats.Value {
		if cat.ReferenceName == "Microsoft.HiddenCategory" {
			for _, t := range cat.WorkItemTypes {
				hidden[strings.ToLower(t.Name)] = true
			}
		}
	}
	out := []WorkItemType{}
	for _, t := range types.Value {
		if t.IsDisabled || hidden[strings.ToLower(t.Name)] || t.Name == "" {
			continue
		}
		out = append(out, WorkItemType{Name: t.Name, Description: t.Description, Color: t.Color})
	}
	return out, nil
}

type classNode struct {
	Name     string       `json:"name"`
	Children []*classNode `json:"children"`
}

// areaDepth bounds the walk: deeper trees are rare and would bloat a card's choice list.
const areaDepth = 5
const maxAreas = 500

// ListAreas returns full area paths ("Web Portal\Frontend"), root first, in tree order.
func (c *Client) ListAreas(ctx context.Context, project string) ([]string, error) {
	if err := checkProject(project); err != nil {
		return nil, err
	}
	var root classNode
	q := url.Values{"$depth": {strconv.Itoa(areaDepth)}}
	if err := c.get(ctx, "areas.list", c.url(url.PathEscape(project), "_apis", "wit", "classificationnodes", "areas"), q, &root); err != nil {
		return nil, err
	}
	var out []string
	var walk func(n *classNode, prefix string, depth int)
	walk = func(n *classNode, prefix string, depth int) {
		if n == nil || n.Name == "" || len(out) >= maxAreas || depth > areaDepth {
			return
		}
		path := n.Name
		if prefix != "" {
			path = prefix + `\` + n.Name
		}
		out = append(out, path)
		for _, ch := range n.Children {
			walk(ch, path, depth+1)
		}
	}
	walk(&root, "", 0)
	return out, nil
}

type iterationJSON struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Path       string `json:"path"`
	Attributes struct {
		StartDate  *time.Time `json:"startDate"`
		FinishDate *time.Time `json:"finishDate"`
		TimeFrame  string     `json:"timeFrame"`
	} `json:"attributes"`
}

func (j iterationJSON) iteration() Iteration {
	it := Iteration{ID: j.ID, Name: j.Name, Path: j.Path, TimeFrame: j.Attributes.TimeFrame}
	if j.Attributes.StartDate != nil {
		it.Start = *j.Attributes.StartDate
	}
	if j.Attributes.FinishDate != nil {
		it.Finish = *j.Attributes.FinishDate
	}
	return it
}

// ListIterations returns the iterations the project's default team works in.
func (c *Client) ListIterations(ctx context.Context, project string) ([]Iteration, error) {
	if err := checkProject(project); err != nil {
		return nil, err
	}
	var resp struct{ Value []iterationJSON }
	if err := c.get(ctx, "iterations.list", c.url(url.PathEscape(project), "_apis", "work", "teamsettings", "iterations"), nil, &resp); err != nil {
		return nil, err
	}
	out := make([]Iteration, 0, len(resp.Value))
	for _, v := range resp.Value {
		out = append(out, v.iteration())
	}
	return out, nil
}

// TeamDefaults reads the default team's area (team field values) and current
// iteration. Calls without a team segment address the project's default team.
func (c *Client) TeamDefaults(ctx context.Context, project string) (TeamDefaults, error) {
	if err := checkProject(project); err != nil {
		return TeamDefaults{}, err
	}
	p := url.PathEscape(project)
	var proj struct {
		DefaultTeam struct{ Name string } `json:"defaultTeam"`
	}
	var tfv struct {
		DefaultValue string `json:"defaultValue"`
	}
	var cur struct{ Value []iterationJSON }
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return c.get(gctx, "projects.get", c.url("_apis", "projects", p), nil, &proj) })
	g.Go(func() error {
		return c.get(gctx, "teams.fieldvalues", c.url(p, "_apis", "work", "teamsettings", "teamfieldvalues"), nil, &tfv)
	})
	g.Go(func() error {
		return c.get(gctx, "iterations.current", c.url(p, "_apis", "work", "teamsettings", "iterations"), url.Values{"$timeframe": {"current"}}, &cur)
	})
	if err := g.Wait(); err != nil {
		return TeamDefaults{}, err
	}
	td := TeamDefaults{Team: proj.DefaultTeam.Name, DefaultArea: tfv.DefaultValue}
	if len(cur.Value) > 0 {
		it := cur.Value[0].iteration()
		td.CurrentIteration = &it
	}
	return td, nil
}
