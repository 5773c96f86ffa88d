package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/cards"
	"github.com/sally-devops/devopsbot/devops"
	"github.com/sally-devops/devopsbot/summary"
	"github.com/sally-devops/devopsbot/teams"
)

// "Create all tasks": one form for a summary's tasks and next steps. Each
// item is created through the same claim as a single Create work item (same
// ActionKey, same marker), so a repeat click, a Teams retry, a second person
// or the single form on the same insight never make a second work item.
//
// Why not Azure DevOps' $batch: it would be one request for N creates, and a
// lost answer would leave all N ambiguous at once; the per-item claim, the
// marker lookup after an ambiguous failure and the release of a failed claim
// all work item by item, and $batch (work item creation in batch is not
// transactional either) would only save round trips the bounded concurrency
// below already hides. Items are created allTasksWorkers at a time.

const (
	allTasksTitle   = "Create all tasks"
	allTasksWorkers = 3
	// maxAllTasksItems bounds what a submit may name; the form lists fewer.
	maxAllTasksItems = 100
	// maxPeoplePerRow: beyond this many team members, each item offers only
	// the people the meeting named (matched owners) and the person creating,
	// or the card would outgrow what Teams accepts.
	maxPeoplePerRow = 20
	// maxFieldsPerRow bounds the type's own field inputs one item shows: a
	// process may require many, and fifteen items of such a type would outgrow
	// the card. Beyond it the item points to the single form.
	maxFieldsPerRow = 8
)

var allTasksVerbs = []string{cards.VerbAllTasks, cards.VerbAllTasksReload, cards.VerbAllTasksSubmit}

func init() {
	for _, v := range allTasksVerbs {
		formVerbs[v] = true // open in place too (in-card forms), through formStep
	}
}

func isAllTasksVerb(v string) bool { return slices.Contains(allTasksVerbs, v) }

// taskRow is one item of the form as submitted.
type taskRow struct {
	checked            bool
	title, typ, owner  string
	fields             map[string]string // its type's own field inputs, by reference name
	present            bool              // the form carried inputs for it (it was editable)
	outcome            cards.AllTasksOutcome
	link               *devopsbot.InsightLink
	problem            formProblem
	workingBy          string
	createdThisRequest bool
}

// allTasksRound is what one step knows beyond the stored state: the input
// kept per insight and this round's outcomes.
type allTasksRound struct {
	rows  map[string]*taskRow // by insight id
	tried bool
	// kept shared fields (reload, failed submit)
	project, area, iteration string
	banner                   formProblem
}

// allTasksStep runs a step of the form; raw is the click's data with the inputs.
func (b *Bot) allTasksStep(ctx context.Context, ac *actionCtx, raw json.RawMessage) teams.InvokeResponse {
	switch ac.data.Sally {
	case cards.VerbAllTasksReload:
		round, msg := parseAllTasks(ac, raw)
		round.banner = say(msg)
		return b.openAllTasks(ctx, ac, round)
	case cards.VerbAllTasksSubmit:
		return b.submitAllTasks(ctx, ac, raw)
	}
	return b.openAllTasks(ctx, ac, nil)
}

// eligibleInsights are the insights the form covers, in the card's order.
func eligibleInsights(sm *devopsbot.Summary) []devopsbot.Insight {
	var out []devopsbot.Insight
	for _, k := range []devopsbot.Kind{devopsbot.KindTask, devopsbot.KindNextStep} {
		for _, in := range sm.Insights {
			if in.Kind == k {
				out = append(out, in)
			}
		}
	}
	return out
}

// parseAllTasks reads a submitted form. Each row's index maps to the insight
// named in the click's "items"; a row whose insight is no longer a task of
// this summary is dropped (its title would otherwise land on another item).
func parseAllTasks(ac *actionCtx, raw json.RawMessage) (*allTasksRound, string) {
	round := &allTasksRound{rows: map[string]*taskRow{}, project: ac.data.Project, area: ac.data.AreaPath, iteration: ac.data.IterationPath}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return round, "That form could not be read."
	}
	ids, _ := m["items"].([]any)
	if len(ids) > maxAllTasksItems {
		return round, "That form names too many items."
	}
	eligible := map[string]bool{}
	for _, in := range eligibleInsights(ac.sm) {
		eligible[in.ID] = true
	}
	str := func(k string) string {
		s, _ := m[k].(string)
		return s
	}
	fields := rowFieldInputs(raw, len(ids))
	dropped := 0
	for i, x := range ids {
		id, _ := x.(string)
		if !eligible[id] {
			dropped++
			continue
		}
		if _, dup := round.rows[id]; dup {
			continue
		}
		_, present := m[cards.AllTasksPickID(i)]
		round.rows[id] = &taskRow{
			present: present,
			checked: str(cards.AllTasksPickID(i)) == "true",
			title:   strings.TrimSpace(summary.CleanText(str(cards.AllTasksTitleID(i)))),
			typ:     strings.TrimSpace(str(cards.AllTasksTypeID(i))),
			owner:   strings.TrimSpace(str(cards.AllTasksOwnerID(i))),
			fields:  fields[i],
		}
	}
	if dropped > 0 {
		return round, "This meeting's summary changed since the form opened: check the items again."
	}
	return round, ""
}

// rowFieldInputs are the type's own field inputs of each of the first rows
// rows of a submitted form (cards.AllTasksFieldID), checked and cleaned as the
// single form's are (addFieldInput), by row.
func rowFieldInputs(raw json.RawMessage, rows int) map[int]map[string]string {
	var all map[string]json.RawMessage
	if json.Unmarshal(raw, &all) != nil {
		return nil
	}
	out := map[int]map[string]string{}
	for k, v := range all {
		i, ref, ok := cards.ParseAllTasksFieldID(k)
		if !ok || i >= rows {
			continue
		}
		fs := out[i]
		if addFieldInput(&fs, ref, v) {
			out[i] = fs
		}
	}
	return out
}

// submitAllTasks creates the checked items, then answers with the form showing
// each item's result; what failed stays editable with its input.
func (b *Bot) submitAllTasks(ctx context.Context, ac *actionCtx, raw json.RawMessage) teams.InvokeResponse {
	round, msg := parseAllTasks(ac, raw)
	if msg != "" {
		round.banner = say(msg)
		return b.openAllTasks(ctx, ac, round)
	}
	var missing []string
	for _, f := range []struct{ v, name string }{{round.project, "Project"}, {round.area, "Area"}, {round.iteration, "Iteration"}} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		round.banner = say("Please fill in: " + strings.Join(missing, ", ") + ".")
		return b.openAllTasks(ctx, ac, round)
	}
	var todo []devopsbot.Insight
	for _, in := range eligibleInsights(ac.sm) {
		r := round.rows[in.ID]
		if r == nil || !r.present || !r.checked {
			continue
		}
		if p := checkRow(r); p != "" {
			r.outcome, r.problem = cards.AllTasksFailed, say(p)
			continue
		}
		todo = append(todo, in)
	}
	round.tried = true
	if len(todo) == 0 {
		if !anyFailed(round) {
			round.tried = false
			round.banner = say("Select at least one item to create.")
		}
		return b.openAllTasks(ctx, ac, round)
	}
	client, conn, err := b.clientFor(ctx, ac.user)
	if devopsbot.IsStoreUnavailable(err) {
		return b.allTasksOutage(ctx, &ac.data)
	}
	if err != nil {
		if needsSignIn(err) {
			return b.dialogCard(ctx, "Connect Azure DevOps", b.dialogConnectCard(ac, cards.VerbAllTasks, "", reconnectHint(err)))
		}
		round.tried = false
		round.banner = say(apperr.UserMessage(err) + " Nothing was created; your input is kept.")
		return b.openAllTasks(ctx, ac, round)
	}
	working := fmt.Sprintf("Creating %d work items in Azure DevOps… The meeting card shows them when they are done; select Create all tasks again to see each result.", len(todo))
	return b.withinBudget(ctx, allTasksTitle, working, func(wctx context.Context) teams.InvokeResponse {
		b.createRows(wctx, ac, client, conn, round, todo)
		return b.openAllTasks(wctx, ac, round)
	})
}

func anyFailed(r *allTasksRound) bool {
	for _, row := range r.rows {
		if row.outcome == cards.AllTasksFailed {
			return true
		}
	}
	return false
}

// checkRow validates one checked item on the server (the card cannot: an
// unchecked item may stay empty, so no per-item input is required there).
func checkRow(r *taskRow) string {
	var missing []string
	if r.title == "" {
		missing = append(missing, "Title")
	}
	if r.typ == "" {
		missing = append(missing, "Work item type")
	}
	if r.owner == "" {
		missing = append(missing, "Responsible user")
	}
	if len(missing) > 0 {
		return "Please fill in: " + strings.Join(missing, ", ") + "."
	}
	if utf8.RuneCountInString(r.title) > devops.MaxTitleLen {
		return fmt.Sprintf("The title may hold at most %d characters.", devops.MaxTitleLen)
	}
	if len(r.typ) > 200 || len(r.owner) > 500 {
		return "That choice is not valid: choose again."
	}
	return ""
}

// createRows creates the items, a few at a time, each through its own claim.
// A sign-in or rate-limit failure stops the items not started yet: they would
// all fail the same way, each spending a request.
func (b *Bot) createRows(ctx context.Context, ac *actionCtx, client *devops.Client, conn *devopsbot.Connection, round *allTasksRound, todo []devopsbot.Insight) {
	var stop atomic.Pointer[formProblem]
	var mu sync.Mutex // guards the rows' fields written below
	var firstType string
	atMost(allTasksWorkers, len(todo), func(i int) {
		in := todo[i]
		r := round.rows[in.ID]
		if p := stop.Load(); p != nil {
			mu.Lock()
			r.outcome, r.problem = cards.AllTasksFailed, formProblem{Text: "Not tried: " + p.Text, Code: p.Code}
			mu.Unlock()
			return
		}
		outcome, link, p := b.createRow(ctx, ac, client, conn, round, in, r)
		mu.Lock()
		r.outcome, r.link, r.problem = outcome, link, p.formProblem
		if outcome == cards.AllTasksCreated && firstType == "" {
			firstType = r.typ
		}
		mu.Unlock()
		if outcome == cards.AllTasksFailed && p.stopsOthers {
			stop.CompareAndSwap(nil, &p.formProblem)
		}
	})
	if firstType == "" {
		return
	}
	together(
		func() {
			if err := b.prefs.SavePrefs(ctx, ac.user, devopsbot.Prefs{Project: round.project, WorkItemType: firstType, AreaPath: round.area, IterationPath: round.iteration, UpdatedAt: b.now()}); err != nil {
				b.log.WarnContext(ctx, "could not save the user's choices", "err", err)
			}
		},
		func() { b.updateSharedCards(ctx, ac) }, // once for all items, not once per item
	)
}

type rowProblem struct {
	formProblem
	stopsOthers bool
}

// createRow claims and creates one item, like submitCreate and doCreate do
// for the single form (same key, same marker).
func (b *Bot) createRow(ctx context.Context, ac *actionCtx, client *devops.Client, conn *devopsbot.Connection, round *allTasksRound, in devopsbot.Insight, r *taskRow) (cards.AllTasksOutcome, *devopsbot.InsightLink, rowProblem) {
	rac := *ac
	rac.insight = in
	nw := devops.NewWorkItem{
		Project: round.project, Type: r.typ, Title: r.title, Description: b.prefillDescription(&rac),
		AssignedTo: r.owner, AreaPath: round.area, IterationPath: round.iteration,
		Tags: []string{"Sally"},
	}
	// What the single form adds (the link back to the meeting, the insight's
	// due date, the type's required fields), checked before the claim like
	// there: a missing or forged field value is refused for this item only,
	// and the form shows it the inputs its type needs.
	d := rac.data
	d.Project, d.WorkItemType, d.Fields, d.Parent, d.DueDate = round.project, r.typ, r.fields, "", ""
	if _, ok := devops.ParseDueDate(in.Due); ok {
		d.DueDate = in.Due
	}
	if p, err := b.createExtras(ctx, &rac, client, &d, &nw); err != nil || p.Text != "" {
		if err != nil {
			return cards.AllTasksFailed, nil, rowProblem{formProblem: problemOf(err), stopsOthers: needsSignIn(err) || apperr.KindOf(err) == apperr.RateLimited}
		}
		return cards.AllTasksFailed, nil, rowProblem{formProblem: p}
	}
	key := devopsbot.ActionKey{SummaryID: ac.sm.ID, InsightID: in.ID, Action: actionCreate}
	link, claimed, err := b.links.ClaimAction(ctx, key, ac.user, ac.a.From.Name, marker(key), claimTTL)
	if err != nil {
		return cards.AllTasksFailed, nil, rowProblem{formProblem: say(apperr.UserMessage(err) + " Nothing was created for it.")}
	}
	if !claimed {
		if link.State == devopsbot.LinkDone {
			return cards.AllTasksExisted, link, rowProblem{}
		}
		return cards.AllTasksWorking, link, rowProblem{}
	}
	nw.Marker = link.Marker // the first claim's marker, also after a takeover
	wi, err := b.createOnce(ctx, client, nw, link)
	if err != nil {
		if rerr := b.links.ReleaseAction(ctx, link.Key); rerr != nil {
			b.log.WarnContext(ctx, "could not release a claim", "err", rerr)
		}
		b.audit(ctx, &rac, conn, "create_work_item", round.project, 0, 0, "failed", apperr.KindOf(err).String())
		p := rowProblem{formProblem: problemOf(err)}
		switch {
		case needsSignIn(err):
			p = rowProblem{formProblem: say("Your Azure DevOps sign-in no longer works: type connect devops, then try again."), stopsOthers: true}
		case apperr.KindOf(err) == apperr.RateLimited:
			p.stopsOthers = true
		case apperr.KindOf(err) == apperr.Internal:
			p.formProblem = say("Something went wrong on our side (reference " + b.reference(ctx, "create work item failed", err) + ").")
		}
		return cards.AllTasksFailed, nil, p
	}
	link.State = devopsbot.LinkDone
	link.OrgURL, link.Project = conn.OrgURL, round.project
	link.WorkItemID, link.WorkItemType, link.WorkItemTitle, link.WorkItemURL = wi.ID, wi.Type, wi.Title, wi.URL
	link.CompletedAt = b.now()
	if err := b.links.CompleteAction(ctx, link); err != nil {
		b.log.ErrorContext(ctx, "created a work item but could not record it", "work_item", wi.ID, "err", err)
	}
	b.audit(ctx, &rac, conn, "create_work_item", round.project, wi.ID, 0, "ok", "")
	return cards.AllTasksCreated, link, rowProblem{}
}

// openAllTasks shows the form: every task and next step with what was done
// with it (read fresh: the form is where people see what is left), and the
// choices of the project. round carries input and outcomes (nil: first open).
func (b *Bot) openAllTasks(ctx context.Context, ac *actionCtx, round *allTasksRound) teams.InvokeResponse {
	if round == nil {
		round = &allTasksRound{rows: map[string]*taskRow{}}
	}
	var client *devops.Client
	var conn *devopsbot.Connection
	var links []devopsbot.InsightLink
	var err, lerr error
	together(
		func() { client, conn, err = b.clientFor(ctx, ac.user) },
		func() { links, lerr = b.links.ListLinks(ctx, ac.sm.ID) },
	)
	if err == nil && lerr != nil {
		err = lerr
	}
	if err != nil {
		if needsSignIn(err) {
			return b.dialogCard(ctx, "Connect Azure DevOps", b.dialogConnectCard(ac, cards.VerbAllTasks, "", reconnectHint(err)))
		}
		if devopsbot.IsStoreUnavailable(err) && len(round.rows) > 0 && !round.tried {
			return b.allTasksOutage(ctx, &ac.data) // a reload: its input comes back
		}
		if round.tried {
			// The creates ran: say so rather than hide their results behind an error.
			return b.dialogMessage(ctx, "The work items were handled, but the form could not be shown again: "+apperr.UserMessage(err)+" Select Create all tasks again to see each result.")
		}
		return b.dialogCard(ctx, allTasksTitle, b.errorCard(ctx, allTasksTitle, err, retryStep(ac, cards.VerbAllTasks)))
	}
	if f := inCardFrameOf(ctx); f != nil {
		f.links, f.haveLinks = links, true // read after any write of this step: current
	}
	bctx, cancel := context.WithTimeout(ctx, b.budget(ctx))
	defer cancel()
	v, err := b.allTasksView(bctx, ac, client, conn, links, round)
	if err != nil {
		if needsSignIn(err) {
			return b.dialogCard(ctx, "Connect Azure DevOps", b.dialogConnectCard(ac, cards.VerbAllTasks, "", reconnectHint(err)))
		}
		return b.dialogCard(ctx, allTasksTitle, b.errorCard(ctx, allTasksTitle, err, retryStep(ac, cards.VerbAllTasks)))
	}
	return b.dialogCard(ctx, allTasksTitle, cards.AllTasksForm(*v))
}

func (b *Bot) allTasksView(ctx context.Context, ac *actionCtx, client *devops.Client, conn *devopsbot.Connection, links []devopsbot.InsightLink, round *allTasksRound) (*cards.AllTasksView, error) {
	prefs := b.startingPrefs(ctx, ac.user, ac.a.Conversation.ID)
	v, fd, types, err := b.allTasksChoices(ctx, ac, client, conn, round, prefs)
	if err != nil {
		return nil, err
	}
	edit := b.allTasksItems(ac, v, links, round)
	b.fillAllTasksRows(ctx, ac, client, conn, v, fd, types, prefs, edit)
	return v, nil
}

// allTasksChoices is the form's shared part: the projects, and the chosen
// project's types, areas and iterations, each preselected from this round's
// input, then the chat's or the person's defaults, then the team's.
func (b *Bot) allTasksChoices(ctx context.Context, ac *actionCtx, client *devops.Client, conn *devopsbot.Connection, round *allTasksRound, prefs *devopsbot.Prefs) (*cards.AllTasksView, *devops.FormData, []string, error) {
	projects, err := b.cfg.Metadata.Projects(ctx, metadataUser(conn, ac.user), client)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(projects) == 0 {
		return nil, nil, nil, apperr.New(apperr.Forbidden, "Your account can't see any project in "+conn.OrgName+".")
	}
	v := &cards.AllTasksView{Demo: b.demo(), SummaryID: ac.sm.ID, AnchorID: ac.insight.ID, Meeting: ac.sm.Meeting.Title,
		Error: round.banner.Text, ErrorCode: round.banner.Code, Tried: round.tried}
	var names []string
	for _, p := range projects {
		names = append(names, p.Name)
		v.Projects = append(v.Projects, cards.Choice{Value: p.Name})
	}
	v.Project = pick(names, round.project, prefs.Project)
	fd, err := b.cfg.Metadata.FormData(ctx, client, v.Project)
	if err != nil {
		return nil, nil, nil, err
	}
	var types, areas, iterations []string
	for _, t := range fd.Types {
		types = append(types, t.Name)
		v.WorkItemTypes = append(v.WorkItemTypes, cards.Choice{Value: t.Name})
	}
	areas = fd.Areas
	for _, a := range areas {
		v.Areas = append(v.Areas, cards.Choice{Value: a})
	}
	for _, it := range fd.Iterations {
		iterations = append(iterations, it.Path)
		v.Iterations = append(v.Iterations, cards.Choice{Value: it.Path})
	}
	areaPref, iterPref := "", ""
	if prefs.Project == v.Project {
		areaPref, iterPref = prefs.AreaPath, prefs.IterationPath
	}
	current := ""
	if fd.Defaults.CurrentIteration != nil {
		current = fd.Defaults.CurrentIteration.Path
	}
	v.AreaPath = pick(areas, round.area, areaPref, fd.Defaults.DefaultArea)
	v.IterationPath = pick(iterations, round.iteration, iterPref, current)
	return v, fd, types, nil
}

// allTasksEdit is an item of the form the person can still create.
type allTasksEdit struct {
	idx int // in the view's Items
	in  devopsbot.Insight
	row *taskRow // this round's input for it, if any
}

// allTasksItems lists every task and next step: created ones with their
// result, ones someone is creating right now, and the rest editable (at most
// cards.MaxAllTasks; the others wait for the next round).
func (b *Bot) allTasksItems(ac *actionCtx, v *cards.AllTasksView, links []devopsbot.InsightLink, round *allTasksRound) []allTasksEdit {
	done := map[string]*devopsbot.InsightLink{}
	for i := range links {
		l := &links[i]
		if l.Key.Action == actionCreate && l.Key.Target == "" {
			done[l.Key.InsightID] = l
		}
	}
	var edit []allTasksEdit
	for _, in := range eligibleInsights(ac.sm) {
		r := round.rows[in.ID]
		item := cards.AllTasksItem{InsightID: in.ID, Insight: in.Text, Kind: in.Kind, Owner: in.Owner, Due: in.Due}
		l := done[in.ID]
		switch {
		case l != nil && l.State == devopsbot.LinkDone:
			item.Outcome, item.Result = cards.AllTasksExisted, b.resultView(l)
			item.Mine = l.User == ac.user
			if r != nil && r.outcome == cards.AllTasksCreated {
				item.Outcome = cards.AllTasksCreated
			}
		case l != nil && (r == nil || r.outcome != cards.AllTasksFailed):
			// A claim at work (someone's click right now, or one that
			// crashed: it expires and the item becomes editable again).
			who := l.UserName + " is"
			switch {
			case l.User == ac.user:
				who = "You are"
			case l.UserName == "":
				who = "Someone is"
			}
			item.Outcome, item.Problem = cards.AllTasksWorking, who+" creating this one right now; it shows on the meeting card when it is ready."
		default:
			if len(edit) >= cards.MaxAllTasks {
				v.More++
				continue
			}
			if r != nil && r.outcome == cards.AllTasksFailed {
				item.Outcome, item.Problem, item.ProblemCode = cards.AllTasksFailed, r.problem.Text, r.problem.Code
			}
			edit = append(edit, allTasksEdit{idx: len(v.Items), in: in, row: r})
		}
		v.Items = append(v.Items, item)
	}
	return edit
}

// fillAllTasksRows gives each editable item its title, type, the inputs its
// type requires and its owner (matched to a person, a few at a time: a match
// may search the organization).
func (b *Bot) fillAllTasksRows(ctx context.Context, ac *actionCtx, client *devops.Client, conn *devopsbot.Connection, v *cards.AllTasksView, fd *devops.FormData, types []string, prefs *devopsbot.Prefs, edit []allTasksEdit) {
	for _, e := range edit {
		item := &v.Items[e.idx]
		if r := e.row; r != nil && r.present {
			item.Checked, item.Title = r.checked || r.outcome == cards.AllTasksFailed, r.title
			item.WorkItemType = pick(types, r.typ)
			continue
		}
		item.Checked = true
		item.Title = shortTitle(e.in.Text)
		item.WorkItemType = pick(types, prefs.WorkItemType, defaultType(e.in.Kind), "Task", "Issue")
	}
	people := make([]responsible, len(edit))
	together(
		func() { b.fillRowFields(ctx, client, v, edit) },
		func() {
			atMost(allTasksWorkers, len(edit), func(i int) {
				e := edit[i]
				rac := *ac
				rac.insight = e.in
				kept := ""
				if e.row != nil && e.row.present {
					kept = e.row.owner
				}
				people[i] = b.responsibleFor(ctx, &rac, client, conn, fd.Members, kept)
			})
		},
	)
	named := map[string]bool{strings.ToLower(conn.UniqueName): true}
	for _, rc := range people {
		if rc.selected != "" {
			named[strings.ToLower(rc.selected)] = true
		}
	}
	members := map[string]bool{}
	for _, m := range fd.Members {
		members[strings.ToLower(m.UniqueName)] = true
	}
	for i, e := range edit {
		item := &v.Items[e.idx]
		rc := people[i]
		item.AssignedTo, item.OwnerNote = rc.selected, rc.note
		for _, p := range rc.people {
			un := strings.ToLower(p.UniqueName)
			// A large team: only the people this meeting named, whoever is
			// creating, and this item's own candidates (not team members).
			if len(fd.Members) > maxPeoplePerRow && !named[un] && members[un] {
				continue
			}
			title := p.DisplayName
			if p.UniqueName != "" && p.UniqueName != p.DisplayName {
				title += " (" + p.UniqueName + ")"
			}
			item.People = append(item.People, cards.Choice{Title: title, Value: p.UniqueName})
		}
		if len(fd.Members) > maxPeoplePerRow {
			item.OwnerNote = strings.TrimSpace(item.OwnerNote + " Only the people named in this meeting are listed; for anyone else, use Create work item on this item.")
		}
	}
}

// fillRowFields gives each editable item the inputs for what its type
// requires beyond the form's own fields, and for the field a rule error named
// on its last try, with what the person entered kept (askFields, as in the
// single form). Each distinct type's fields are read once (and cached); a
// type whose fields cannot be read gets no inputs: Azure DevOps' rule error
// then names what is missing, and the next round asks for it.
func (b *Bot) fillRowFields(ctx context.Context, client *devops.Client, v *cards.AllTasksView, edit []allTasksEdit) {
	var types []string
	for _, e := range edit {
		if t := v.Items[e.idx].WorkItemType; t != "" && !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	byType := map[string][]devops.TypeField{}
	var mu sync.Mutex // guards byType
	atMost(allTasksWorkers, len(types), func(i int) {
		t := types[i]
		fields, err := b.cfg.Metadata.TypeFields(ctx, client, v.Project, t)
		if err != nil {
			teams.Logger(ctx).InfoContext(ctx, "could not read the work item type's fields", "kind", apperr.KindOf(err).String())
			return
		}
		mu.Lock()
		byType[t] = fields
		mu.Unlock()
	})
	for _, e := range edit {
		item := &v.Items[e.idx]
		var kept map[string]string
		rule := ""
		if e.row != nil {
			kept = e.row.fields
			if e.row.outcome == cards.AllTasksFailed {
				rule = ruleFieldOf(e.row.problem)
			}
		}
		asked := askFields(byType[item.WorkItemType], rule)
		if len(asked) > maxFieldsPerRow {
			asked = asked[:maxFieldsPerRow]
			item.FieldsNote = "This type requires more fields than this form shows: use Create work item on this item."
		}
		item.Fields, item.FieldValues = fieldInputs(asked), keptFieldValues(asked, kept)
	}
}

// allTasksOutage answers a submit or reload the database could not serve: the
// form comes back from the click's own data, every row as the person left it
// (its title standing in for the insight's text, which is in the database),
// with the outage banner. Nothing was created: every step that can fail this
// way comes before the first write.
func (b *Bot) allTasksOutage(ctx context.Context, d *actionData) teams.InvokeResponse {
	b.log.WarnContext(ctx, "the all-tasks form found the database down", "request_id", teams.RequestID(ctx))
	var m map[string]any
	_ = json.Unmarshal(d.raw, &m)
	ids, _ := m["items"].([]any)
	if len(ids) > maxAllTasksItems {
		ids = nil
	}
	one := func(v string) []cards.Choice {
		if strings.TrimSpace(v) == "" {
			return nil
		}
		return []cards.Choice{{Value: v}}
	}
	str := func(k string) string {
		s, _ := m[k].(string)
		return s
	}
	v := cards.AllTasksView{Demo: b.demo(), SummaryID: d.SummaryID, AnchorID: d.InsightID,
		Projects: one(d.Project), Areas: one(d.AreaPath), Iterations: one(d.IterationPath),
		Project: d.Project, AreaPath: d.AreaPath, IterationPath: d.IterationPath, Error: outageBanner}
	seenType := map[string]bool{}
	fields := rowFieldInputs(d.raw, len(ids))
	for i, x := range ids {
		id, _ := x.(string)
		if _, present := m[cards.AllTasksPickID(i)]; !present || id == "" || len(id) > 200 {
			continue // a row without inputs was done already, or is not ours
		}
		title := summary.CleanText(str(cards.AllTasksTitleID(i)))
		typ, owner := str(cards.AllTasksTypeID(i)), str(cards.AllTasksOwnerID(i))
		if typ != "" && !seenType[typ] && len(seenType) < 50 {
			seenType[typ] = true
			v.WorkItemTypes = append(v.WorkItemTypes, cards.Choice{Value: typ})
		}
		item := cards.AllTasksItem{InsightID: id, Insight: orText(title, "Item "+fmt.Sprint(i+1)),
			Checked: str(cards.AllTasksPickID(i)) == "true", Title: title, WorkItemType: typ, AssignedTo: owner, People: one(owner)}
		// The type's fields are not known here (no Azure DevOps call before
		// the database answers): what was entered comes back as text, under
		// its reference name, and is checked against the type at the next submit.
		refs := slices.Sorted(maps.Keys(fields[i]))
		for _, ref := range refs {
			item.Fields = append(item.Fields, cards.FieldInput{RefName: ref, Label: ref})
		}
		item.FieldValues = fields[i]
		v.Items = append(v.Items, item)
		if len(v.Items) >= cards.MaxAllTasks {
			break
		}
	}
	return b.dialogCard(ctx, allTasksTitle, cards.AllTasksForm(v))
}

func orText(s, d string) string {
	if strings.TrimSpace(s) == "" {
		return d
	}
	return s
}
