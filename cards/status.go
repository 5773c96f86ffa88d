package cards

import "encoding/json"

// Live status on the summary card (Universal Actions refresh): the posted card
// names who may see a live view of it; when one of them looks at it, Teams
// asks the bot (adaptiveCard/action, verb "refresh") and shows that person the
// card the bot answers, with each created work item as it stands now.

// MaxRefreshUsers is how many people Teams keeps a live (user-specific) view
// of one card for.
const MaxRefreshUsers = 60

// ItemNow is a created work item as it stands now in Azure DevOps.
type ItemNow struct {
	Type, Title, State string
	AssignedTo         string // display name; "" when nobody is assigned
}

// liveResultLine reads "Bug 1 · Active · Lee Gu: title now (created by Megan Bowen)".
func liveResultLine(r ResultView) string {
	n := *r.Now
	if n.Type != "" {
		r.WorkItemType = n.Type
	}
	s := workItemName(r)
	if n.State != "" {
		s += " · " + Escape(truncate(n.State, 64))
	}
	if n.AssignedTo != "" {
		s += " · " + Escape(truncate(n.AssignedTo, 128))
	} else {
		s += " · Unassigned"
	}
	title := n.Title
	if title == "" {
		title = r.Title
	}
	if title != "" {
		s += ": " + Escape(truncate(title, MaxTitleLen))
	}
	if r.By != "" {
		s += " (created by " + Escape(r.By) + ")"
	}
	return s
}

// RefreshData is what a summary card's refresh action sends: which summary,
// and which of its cards (a long summary is split into parts). Its JSON names
// are DataVerb, DataSummaryID and DataPart (a struct tag cannot name them).
type RefreshData struct {
	Sally     string `json:"sally"`
	SummaryID string `json:"summaryId"`
	Part      int    `json:"part"`
}

// WithRefresh gives part `part` of a summary a refresh for the given Teams
// user ids ("29:..."): at most MaxRefreshUsers, and only as many as keep the
// card within MaxCardBytes (the others can still pick Refresh in the
// message's menu). Without user ids the card gets no refresh: Teams would
// otherwise refresh it for every member of a small chat, none of whom the bot
// can show more to. The input card is not modified.
func WithRefresh(c Card, summaryID string, part int, userIDs []string) Card {
	if len(userIDs) == 0 || summaryID == "" {
		return c
	}
	out := make(Card, len(c)+1)
	for k, v := range c {
		out[k] = v
	}
	action := map[string]any{
		"type": "Action.Execute", "verb": VerbRefresh, "title": "Refresh",
		"data": map[string]any{DataVerb: VerbRefresh, DataSummaryID: summaryID, DataPart: part},
	}
	room := MaxCardBytes - size(c) - size(map[string]any{"refresh": map[string]any{"action": action, "userIds": []string{}}})
	var ids []string
	for _, id := range userIDs {
		q, _ := json.Marshal(id)
		if id == "" || len(ids) == MaxRefreshUsers || room < len(q)+1 {
			break
		}
		room -= len(q) + 1
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return c
	}
	out["refresh"] = map[string]any{"action": action, "userIds": ids}
	return out
}

// RefreshOf returns a card's refresh user ids and data; ok is false without one.
func RefreshOf(c any) (userIDs []string, data RefreshData, ok bool) {
	var v struct {
		Refresh *struct {
			Action struct {
				Type string      `json:"type"`
				Verb string      `json:"verb"`
				Data RefreshData `json:"data"`
			} `json:"action"`
			UserIDs []string `json:"userIds"`
		} `json:"refresh"`
	}
	raw, err := json.Marshal(c)
	if err != nil || json.Unmarshal(raw, &v) != nil || v.Refresh == nil || v.Refresh.Action.Verb != VerbRefresh {
		return nil, RefreshData{}, false
	}
	return v.Refresh.UserIDs, v.Refresh.Action.Data, true
}
