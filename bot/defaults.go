package bot

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/cards"
	"github.com/sally-devops/devopsbot/devops"
	"github.com/sally-devops/devopsbot/teams"
)

// Chat defaults: `defaults` in a chat sets the project, area, iteration and
// work item type that everyone's forms in that chat start from.
//
// Which wins, the chat's defaults or a person's own last choices (Prefs)? The
// chat's. A person's last choices are a by-product of the last work item they
// made, in whatever chat that was; the chat's defaults were set on purpose,
// for this chat's meetings. Someone who created a Mobile App bug in the
// Mobile stand-up and then opens a form in the Web Portal weekly expects Web
// Portal, which the chat said, not Mobile App. A person's last choices still
// fill what the chat leaves open (an area or type the chat did not set, in the
// same project), and whatever the person changes in the form wins over both.

var defaultsVerbs = []string{cards.VerbDefaultsReload, cards.VerbDefaultsSave, cards.VerbDefaultsClear}

func init() {
	for _, v := range defaultsVerbs {
		chatVerbs[v] = true // answered by onCardAction, through onDefaultsAction
	}
}

func isDefaultsVerb(v string) bool { return slices.Contains(defaultsVerbs, v) }

// startingPrefs is where a form starts for user u in a chat: the chat's
// defaults over the person's last choices (see above). Both reads are cached;
// a failed read only means less pre-filling.
func (b *Bot) startingPrefs(ctx context.Context, u devopsbot.UserKey, conversationID string) *devopsbot.Prefs {
	var prefs *devopsbot.Prefs
	var chat *devopsbot.ChatDefaults
	together(
		func() { prefs, _ = b.prefs.GetPrefsCached(ctx, u) },
		func() { chat, _ = b.chatForms.GetChatDefaultsCached(ctx, conversationID) },
	)
	return mergeStart(prefs, chat)
}

// mergeStart lays a chat's defaults over a person's last choices. An area or
// iteration of the person's belongs to their project: when the chat names
// another project they are dropped, not carried into it.
func mergeStart(prefs *devopsbot.Prefs, chat *devopsbot.ChatDefaults) *devopsbot.Prefs {
	p := devopsbot.Prefs{}
	if prefs != nil {
		p = *prefs
	}
	if chat == nil || chat.Project == "" {
		return &p
	}
	if !strings.EqualFold(chat.Project, p.Project) {
		p.AreaPath, p.IterationPath = "", ""
	}
	p.Project = chat.Project
	if chat.AreaPath != "" {
		p.AreaPath = chat.AreaPath
	}
	switch chat.IterationPath {
	case "":
	case cards.CurrentIteration:
		p.IterationPath = "" // the form's own fallback is the team's current iteration
	default:
		p.IterationPath = chat.IterationPath
	}
	if chat.WorkItemType != "" {
		p.WorkItemType = chat.WorkItemType
	}
	return &p
}

// defaultsData is what the defaults card sends (Action.Execute data and inputs).
type defaultsData struct {
	Project       string `json:"project"`
	AreaPath      string `json:"areaPath"`
	IterationPath string `json:"iterationPath"`
	WorkItemType  string `json:"workItemType"`
}

// openDefaults answers the `defaults` command with the card.
func (b *Bot) openDefaults(ctx context.Context, a *teams.Activity) {
	b.replyCard(ctx, a, b.defaultsCard(ctx, a, nil, false, ""))
}

// onDefaultsAction answers a click on the defaults card, in place.
func (b *Bot) onDefaultsAction(ctx context.Context, a *teams.Activity, verb string, raw json.RawMessage) teams.InvokeResponse {
	var d defaultsData
	if len(raw) > 0 && json.Unmarshal(raw, &d) != nil {
		return teams.ErrorResponse(http.StatusBadRequest, "BadRequest", "That card action could not be read.")
	}
	switch verb {
	case cards.VerbDefaultsReload:
		return teams.AdaptiveCardResponse(b.defaultsCard(ctx, a, &d, false, ""))
	case cards.VerbDefaultsClear:
		if err := b.chatForms.SetChatDefaults(ctx, a.Conversation.ID, devopsbot.ChatDefaults{}); err != nil {
			return teams.AdaptiveCardResponse(b.defaultsCard(ctx, a, &d, false, "Could not clear the defaults: "+apperr.UserMessage(err)))
		}
		b.log.InfoContext(ctx, "chat form defaults cleared", "conversation", a.Conversation.ID, "request_id", teams.RequestID(ctx))
		return teams.AdaptiveCardResponse(b.defaultsCard(ctx, a, nil, true, ""))
	case cards.VerbDefaultsSave:
		return teams.AdaptiveCardResponse(b.saveDefaults(ctx, a, &d))
	}
	return unknownAction()
}

// saveDefaults checks the choices against the project as the clicker sees it
// (the card's choices may be stale, or the data forged) and stores them.
func (b *Bot) saveDefaults(ctx context.Context, a *teams.Activity, d *defaultsData) any {
	u, err := userOf(a)
	if err != nil {
		return b.errorCard(ctx, "Chat defaults", err)
	}
	client, conn, err := b.clientFor(ctx, u)
	if err != nil {
		return b.defaultsProblemCard(ctx, err)
	}
	bctx, cancel := context.WithTimeout(ctx, b.budget(ctx))
	defer cancel()
	projects, err := b.cfg.Metadata.Projects(bctx, metadataUser(conn, u), client)
	if err != nil {
		return b.defaultsProblemCard(ctx, err)
	}
	project := ""
	for _, p := range projects {
		if strings.EqualFold(p.Name, strings.TrimSpace(d.Project)) {
			project = p.Name
		}
	}
	if project == "" {
		return b.defaultsCard(ctx, a, d, false, "Choose a project from the list.")
	}
	fd, err := b.cfg.Metadata.FormData(bctx, client, project)
	if err != nil {
		return b.defaultsProblemCard(ctx, err)
	}
	exact := func(v string, choices []string) (string, bool) {
		if v == "" {
			return "", true
		}
		i := slices.IndexFunc(choices, func(c string) bool { return strings.EqualFold(c, v) })
		if i < 0 {
			return "", false
		}
		return choices[i], true
	}
	var types, iterations []string
	for _, t := range fd.Types {
		types = append(types, t.Name)
	}
	for _, it := range fd.Iterations {
		iterations = append(iterations, it.Path)
	}
	area, okA := exact(d.AreaPath, fd.Areas)
	iter, okI := exact(d.IterationPath, append(iterations, cards.CurrentIteration))
	typ, okT := exact(d.WorkItemType, types)
	if !okA || !okI || !okT {
		// A choice from another project (the project changed without Load
		// choices) or one that no longer exists: show the project's own lists.
		d.Project = project
		return b.defaultsCard(ctx, a, d, false, "Some choices are not in "+project+": choose again from its lists.")
	}
	saved := devopsbot.ChatDefaults{Project: project, AreaPath: area, IterationPath: iter, WorkItemType: typ, SetBy: u, SetByName: a.From.Name}
	if err := b.chatForms.SetChatDefaults(ctx, a.Conversation.ID, saved); err != nil {
		return b.defaultsCard(ctx, a, d, false, "Could not save the defaults: "+apperr.UserMessage(err))
	}
	b.log.InfoContext(ctx, "chat form defaults saved", "conversation", a.Conversation.ID, "request_id", teams.RequestID(ctx))
	return b.defaultsCard(ctx, a, nil, true, "")
}

// defaultsProblemCard answers a defaults step that needs a connection it
// does not have.
func (b *Bot) defaultsProblemCard(ctx context.Context, err error) any {
	if needsSignIn(err) {
		return b.mark(cards.Error(cards.ErrorView{Demo: b.demo(), Title: "Chat defaults",
			Message: "The lists come from Azure DevOps with your own account: connect first (type connect devops), then type defaults again.",
			Next:    []cards.Step{cards.StepConnect, cards.StepHelp}}))
	}
	return b.errorCard(ctx, "Chat defaults", err)
}

// defaultsCard builds the card: the chat's current defaults, and the lists of
// the chosen project (keep: what the person chose on the card; nil: start from
// what the chat has).
func (b *Bot) defaultsCard(ctx context.Context, a *teams.Activity, keep *defaultsData, saved bool, problem string) any {
	u, err := userOf(a)
	if err != nil {
		return b.errorCard(ctx, "Chat defaults", err)
	}
	var current *devopsbot.ChatDefaults
	var client *devops.Client
	var conn *devopsbot.Connection
	var cerr error
	together(
		func() { client, conn, err = b.clientFor(ctx, u) },
		func() { current, cerr = b.chatForms.GetChatDefaultsCached(ctx, a.Conversation.ID) },
	)
	if err != nil {
		return b.defaultsProblemCard(ctx, err)
	}
	if cerr != nil {
		return b.errorCard(ctx, "Chat defaults", cerr)
	}
	bctx, cancel := context.WithTimeout(ctx, b.budget(ctx))
	defer cancel()
	projects, err := b.cfg.Metadata.Projects(bctx, metadataUser(conn, u), client)
	if err != nil {
		return b.defaultsProblemCard(ctx, err)
	}
	v := cards.ChatDefaultsView{Demo: b.demo(), Current: defaultsLine(current), Saved: saved, Error: problem}
	var names []string
	for _, p := range projects {
		names = append(names, p.Name)
		v.Projects = append(v.Projects, cards.Choice{Value: p.Name})
	}
	want := defaultsData{Project: current.Project, AreaPath: current.AreaPath, IterationPath: current.IterationPath, WorkItemType: current.WorkItemType}
	if keep != nil {
		want = *keep
	}
	v.Project = pick(names, want.Project)
	if v.Project == "" {
		return b.mark(cards.ChatDefaults(v))
	}
	fd, err := b.cfg.Metadata.FormData(bctx, client, v.Project)
	if err != nil {
		return b.defaultsProblemCard(ctx, err)
	}
	for _, t := range fd.Types {
		v.WorkItemTypes = append(v.WorkItemTypes, cards.Choice{Value: t.Name})
	}
	for _, ar := range fd.Areas {
		v.Areas = append(v.Areas, cards.Choice{Value: ar})
	}
	for _, it := range fd.Iterations {
		v.Iterations = append(v.Iterations, cards.Choice{Value: it.Path})
	}
	if strings.EqualFold(want.Project, v.Project) {
		v.AreaPath, v.Iteration, v.WorkItemType = want.AreaPath, want.IterationPath, want.WorkItemType
	}
	return b.mark(cards.ChatDefaults(v))
}

func defaultsLine(d *devopsbot.ChatDefaults) cards.ChatDefaultsLine {
	if d == nil {
		return cards.ChatDefaultsLine{}
	}
	return cards.ChatDefaultsLine{Project: d.Project, AreaPath: d.AreaPath, Iteration: d.IterationPath, WorkItemType: d.WorkItemType, SetBy: d.SetByName, SetAt: d.UpdatedAt}
}

// chatDefaultsStatusLine is status's line about the chat's defaults.
func (b *Bot) chatDefaultsStatusLine(ctx context.Context, a *teams.Activity) string {
	d, err := b.chatForms.GetChatDefaultsCached(ctx, a.Conversation.ID)
	if err != nil {
		return "Form defaults for this chat: unknown right now (database unavailable)."
	}
	if d.Project == "" {
		return "Form defaults for this chat: none; forms start from each person's last choices (type defaults to set them)."
	}
	return "Form defaults for this chat: " + defaultsLine(d).Plain() + ". Type defaults to change them."
}
