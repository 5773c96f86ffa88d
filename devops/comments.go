package devops

// Comments on a work item's discussion.

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/sally-devops/devopsbot/apperr"
)

// Comment is a discussion comment on a work item.
type Comment struct {
	ID, WorkItemID int
	Text           string
	URL            string
}

// AddComment adds text (plain; escaped to HTML) to a work item's discussion. Never retried.
func (c *Client) AddComment(ctx context.Context, project string, workItemID int, text string) (*Comment, error) {
	if err := checkProject(project); err != nil {
		return nil, err
	}
	if workItemID <= 0 {
		return nil, apperr.New(apperr.Invalid, "That is not a work item number.")
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, apperr.New(apperr.Invalid, "A comment needs some text.")
	}
	var resp struct {
		ID         int    `json:"id"`
		WorkItemID int    `json:"workItemId"`
		Text       string `json:"text"`
		URL        string `json:"url"`
	}
	err := c.do(ctx, request{
		op: "comments.add", method: http.MethodPost, url: c.url(url.PathEscape(project), "_apis", "wit", "workItems", strconv.Itoa(workItemID), "comments"),
		apiVersion: commentAPIVersion, body: map[string]string{"text": TextToHTML(text)},
	}, &resp)
	if err != nil {
		return nil, err
	}
	if resp.WorkItemID == 0 {
		resp.WorkItemID = workItemID
	}
	return &Comment{ID: resp.ID, WorkItemID: resp.WorkItemID, Text: resp.Text, URL: resp.URL}, nil
}

// FindCommentByMarker looks through a work item's newest comments (up to 200)
// for one that carries marker, so that after an ambiguous failure (the comment
// was sent, the answer lost) the caller can tell whether it landed. NotFound
// when none does.
func (c *Client) FindCommentByMarker(ctx context.Context, project string, workItemID int, marker string) (*Comment, error) {
	if err := checkProject(project); err != nil {
		return nil, err
	}
	if workItemID <= 0 || !ValidMarker(marker) {
		return nil, apperr.New(apperr.Invalid, "That is not a work item number.")
	}
	var resp struct {
		Comments []struct {
			ID         int    `json:"id"`
			WorkItemID int    `json:"workItemId"`
			Text       string `json:"text"`
			URL        string `json:"url"`
		} `json:"comments"`
	}
	err := c.do(ctx, request{
		op: "comments.list", method: http.MethodGet, url: c.url(url.PathEscape(project), "_apis", "wit", "workItems", strconv.Itoa(workItemID), "comments"),
		apiVersion: commentAPIVersion, query: url.Values{"$top": {"200"}, "order": {"desc"}}, idempotent: true,
	}, &resp)
	if err != nil {
		return nil, err
	}
	for _, cm := range resp.Comments {
		if strings.Contains(cm.Text, marker) {
			return &Comment{ID: cm.ID, WorkItemID: workItemID, Text: cm.Text, URL: cm.URL}, nil
		}
	}
	return nil, apperr.New(apperr.NotFound, "No comment with that reference.")
}
