package bot

// Work item search in forms (Data.Query typeahead, application/search).

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/cards"
	"github.com/sally-devops/devopsbot/teams"
)

// onSearch answers typeahead searches for work items in the comment form.
func (b *Bot) onSearch(ctx context.Context, a *teams.Activity) (teams.InvokeResponse, error) {
	sv, err := a.SearchValue()
	parentProject, parents := "", false
	if err == nil {
		parentProject, parents = strings.CutPrefix(sv.Dataset, parentDatasetPrefix)
	}
	if err != nil || (sv.Dataset != cards.DatasetWorkItems && !parents) {
		return teams.ErrorResponse(http.StatusBadRequest, "BadRequest", "Unknown search."), nil
	}
	u, err := userOf(a)
	if err != nil {
		return teams.SearchResponse(nil), nil
	}
	client, _, err := b.clientFor(ctx, u)
	if err != nil {
		return teams.SearchResponse(nil), nil
	}
	q := strings.TrimSpace(sv.QueryText)
	if len(q) < 1 || len(q) > 200 {
		return teams.SearchResponse(nil), nil
	}
	if parents {
		top := sv.QueryOptions.Top
		if top <= 0 || top > 25 {
			top = 15
		}
		// The project comes from the card: the search runs with the user's own
		// token, so it finds nothing they could not see anyway.
		return b.searchParents(ctx, client, parentProject, q, top), nil
	}
	prefs, _ := b.prefs.GetPrefsCached(ctx, u)
	project := ""
	if prefs != nil {
		project = prefs.Project
	}
	top := sv.QueryOptions.Top
	if top <= 0 || top > 25 {
		top = 15
	}
	items, err := client.SearchWorkItems(ctx, project, q, top)
	if err != nil {
		teams.Logger(ctx).InfoContext(ctx, "work item search failed", "kind", apperr.KindOf(err).String())
		return teams.SearchResponse(nil), nil
	}
	res := make([]teams.SearchResult, 0, len(items))
	for _, it := range items {
		res = append(res, teams.SearchResult{Title: fmt.Sprintf("%s %d: %s", it.Type, it.ID, it.Title), Value: strconv.Itoa(it.ID)})
	}
	return teams.SearchResponse(res), nil
}
