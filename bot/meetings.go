package bot

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/graph"
	"github.com/sally-devops/devopsbot/summary"
	"github.com/sally-devops/devopsbot/teams"
)

// After a meeting ends in a chat where the bot is installed, its summary card
// should appear there by itself. Teams tells the bot with a meetingEnd event;
// the content comes later from Microsoft Graph: Copilot's insights (often
// hours later, and only with Copilot licences and an application access
// policy) or the transcript (resource-specific consent, no tenant-wide
// admin consent). A job in the database watches for either, leased like a
// delivery so that it survives restarts and one replica works it at a time,
// and hands the summary to the durable delivery: once per meeting and source.

// MeetingContent is what the bot reads from Microsoft Graph. *graph.Client implements it.
type MeetingContent interface {
	FindMeetingByJoinURL(ctx context.Context, userID, joinURL string) (*graph.OnlineMeeting, error)
	ListAIInsights(ctx context.Context, userID, meetingID string) ([]graph.AIInsight, error)
	GetAIInsight(ctx context.Context, userID, meetingID, insightID string) (*graph.AIInsight, error)
	ListTranscripts(ctx context.Context, userID, meetingID string) ([]graph.Transcript, error)
	TranscriptContent(ctx context.Context, userID, meetingID, transcriptID string) (string, error)
}

const (
	// meetingJobLease outlasts one look (a handful of Graph reads and a transcript download).
	meetingJobLease = 3 * time.Minute
	// meetingLookBudget bounds one look.
	meetingLookBudget = 90 * time.Second
	// meetingGiveUp bounds the watch: Copilot insights can take hours.
	meetingGiveUp = 6 * time.Hour
	// copilotGrace is how long after the meeting a ready transcript waits for
	// Copilot's insights, which are better, when Copilot may be read at all.
	copilotGrace = 2 * time.Hour
)

// meetingWaits are the waits between looks: content is rarely there at once.
var meetingWaits = []time.Duration{2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 20 * time.Minute, 40 * time.Minute, time.Hour}

// meetingBackoff is the wait after look n (n >= 1), with up to 10% jitter.
func meetingBackoff(n int) time.Duration {
	d := meetingWaits[min(max(n, 1), len(meetingWaits))-1]
	return d + time.Duration(rand.Int64N(int64(d/10)+1))
}

func (b *Bot) observeMeeting(event string) {
	if b.cfg.OnMeetingJob != nil {
		b.cfg.OnMeetingJob(event)
	}
}

// validJoinURL accepts a Teams join link: https, a host, no more than 2 KB.
// It becomes a link on the card, so nothing else may pass.
func validJoinURL(s string) bool {
	if len(s) > 2048 {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil
}

// onMeetingEnd starts watching for an ended meeting's summary.
func (b *Bot) onMeetingEnd(ctx context.Context, a *teams.Activity) error {
	_ = b.rememberConversation(ctx, a)
	log := teams.Logger(ctx).With("conversation", a.Conversation.ID)
	if b.cfg.Graph == nil {
		log.DebugContext(ctx, "meeting ended; meeting summaries are not configured (Microsoft Graph)")
		return nil
	}
	ev, err := a.MeetingEvent()
	if err != nil {
		log.WarnContext(ctx, "ignored a meetingEnd event", "err", err)
		return nil
	}
	switch {
	case strings.TrimSpace(ev.ID) == "" || len(ev.ID) > 1024:
		log.WarnContext(ctx, "ignored a meetingEnd event without a meeting id")
		return nil
	case !validJoinURL(ev.JoinURL):
		log.WarnContext(ctx, "ignored a meetingEnd event without a usable join URL")
		return nil
	case a.Conversation.ConversationType == "personal" || a.Conversation.ID == "":
		return nil
	case a.From.AADObjectID == "":
		log.WarnContext(ctx, "ignored a meetingEnd event that names no user")
		return nil
	}
	on, err := b.chats.MeetingSummariesOn(ctx, a.Conversation.ID)
	if err != nil {
		log.ErrorContext(ctx, "could not read the chat's meeting summary setting; the meeting is not watched", "err", err)
		return err
	}
	if !on {
		log.InfoContext(ctx, "meeting ended; meeting summaries are off in this chat")
		b.observeMeeting("off")
		return nil
	}
	now := b.now()
	j := &devopsbot.MeetingJob{
		ID: devopsbot.MeetingJobID(a.Conversation.ID, ev.ID), ConversationID: a.Conversation.ID, ServiceURL: a.ServiceURL,
		TenantID: a.TenantID(), MeetingID: ev.ID, JoinURL: ev.JoinURL, Title: clipRunes(summary.CleanText(ev.Title), 200),
		Start: ev.Start(), End: ev.End(), UserID: a.From.AADObjectID,
		NextAttemptAt: now.Add(meetingBackoff(1)), GiveUpAt: now.Add(meetingGiveUp),
	}
	if j.End.IsZero() {
		j.End = now
	}
	b.findOrganizer(ctx, a, ev, j)
	stored, created, err := b.meetingJobs.CreateMeetingJob(ctx, j)
	if err != nil {
		log.ErrorContext(ctx, "could not record the meeting job", "err", err)
		return err
	}
	if created {
		log.InfoContext(ctx, "meeting ended; watching for its summary", "job", stored.ID)
		b.observeMeeting("started")
	}
	return nil
}

func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// RetryDueMeetingJobs makes one pass over the meeting jobs that are due and
// reports how many it looked at. RunMeetingJobs calls it on a timer; tests
// call it directly.
func (b *Bot) RetryDueMeetingJobs(ctx context.Context) (int, error) {
	ctx = teams.WithLogger(ctx, b.log.With("loop", "meeting_jobs")) // no request started this
	if b.cfg.Graph == nil {
		return 0, nil
	}
	due, err := b.meetingJobs.DueMeetingJobs(ctx, b.now(), 20)
	if err != nil {
		return 0, err
	}
	for _, j := range due {
		if ctx.Err() != nil {
			break
		}
		if _, err := b.attemptMeetingJob(ctx, j.ID); err != nil {
			teams.Logger(ctx).WarnContext(ctx, "a meeting job could not run", "job", j.ID, "err", err)
		}
	}
	return len(due), nil
}

// RunMeetingJobs works due meeting jobs every interval until ctx ends. Every
// replica runs it; leases keep each job in one replica's hands.
func (b *Bot) RunMeetingJobs(ctx context.Context, interval time.Duration) {
	ctx = teams.WithLogger(ctx, b.log.With("loop", "meeting_jobs"))
	t := time.NewTicker(interval)
	defer t.Stop()
	lastSweep := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := b.RetryDueMeetingJobs(ctx); err != nil && ctx.Err() == nil {
				teams.Logger(ctx).WarnContext(ctx, "could not list meeting jobs", "err", err)
			}
			// Retention applies to meeting jobs as to summaries.
			if time.Since(lastSweep) > time.Hour {
				lastSweep = time.Now()
				if _, err := b.meetingJobs.SweepMeetingJobs(ctx); err != nil && ctx.Err() == nil {
					teams.Logger(ctx).WarnContext(ctx, "could not sweep expired meeting jobs", "err", err)
				}
			}
		}
	}
}

// errNothingYet says the content is not there yet: look again later.
var errNothingYet = apperr.New(apperr.NotFound, "Neither Copilot's meeting insights nor a transcript is available yet.")

// attemptMeetingJob looks once for a meeting's content if this replica can
// take the job's lease, and records the outcome.
func (b *Bot) attemptMeetingJob(ctx context.Context, id string) (*devopsbot.MeetingJob, error) {
	ctx = teams.WithLogger(ctx, teams.Logger(ctx).With("job", id)) // every line about the job names it
	key := "meetingjob:" + id
	lease, ok, err := b.leases.AcquireLease(ctx, key, meetingJobLease)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, nil // another replica is on it
	}
	defer func() {
		if err := b.leases.ReleaseLease(context.WithoutCancel(ctx), key, lease); err != nil {
			teams.Logger(ctx).WarnContext(ctx, "could not release a meeting job lease (it expires by itself)", "err", err)
		}
	}()
	j, err := b.meetingJobs.GetMeetingJob(ctx, id)
	if err != nil || j.State != devopsbot.MeetingJobPending || j.NextAttemptAt.After(b.now()) {
		return j, err // done meanwhile, or rescheduled by the replica before us
	}
	log := teams.Logger(ctx).With("conversation", j.ConversationID)
	if on, err := b.chats.MeetingSummariesOn(ctx, j.ConversationID); err != nil {
		return j, err
	} else if !on {
		return b.finishMeetingJob(ctx, j, devopsbot.MeetingJobGaveUp, "Meeting summaries were turned off in this chat.")
	}
	lctx, cancel := context.WithTimeout(ctx, meetingLookBudget)
	insights, source, lerr := b.lookForContent(lctx, j)
	cancel()
	j.Attempts++
	upgrade := false
	if lerr == nil {
		var sm string
		var err error
		if j.SummaryID != "" && source == devopsbot.SourceCopilot {
			sm, err = j.SummaryID, b.upgradeMeetingSummary(ctx, j, insights)
		} else {
			sm, err = b.deliverMeetingSummary(ctx, j, insights, source)
		}
		switch {
		case err != nil:
			lerr = err
		case sm == "" && j.SummaryID == "":
			return b.finishMeetingJob(ctx, j, devopsbot.MeetingJobDone, "The "+sourceName(source)+" held nothing to act on.")
		case source == devopsbot.SourceTranscript && j.InsightsDenied == "" && b.now().Before(j.GiveUpAt):
			// Posted from the transcript; Copilot's insights may still come and
			// then replace it on the same card.
			j.SummaryID, j.Source, upgrade = sm, source, true
			b.observeMeeting("found_transcript")
			lerr = apperr.New(apperr.NotFound, "Posted from the transcript; Copilot's meeting insights may still replace it.")
		default:
			if sm != "" {
				j.SummaryID = sm
			}
			j.Source = source
			return b.finishMeetingJob(ctx, j, devopsbot.MeetingJobDone, "")
		}
	}
	j.Reason = apperr.UserMessage(lerr)
	if j.SummaryID != "" && !upgrade && (apperr.Is(lerr, apperr.Forbidden) || !b.now().Before(j.GiveUpAt)) {
		// The transcript's summary is in the chat; Copilot's never came, or may not be read.
		return b.finishMeetingJob(ctx, j, devopsbot.MeetingJobDone, "")
	}
	if apperr.Is(lerr, apperr.Forbidden) || apperr.Is(lerr, apperr.Invalid) {
		return b.finishMeetingJob(ctx, j, devopsbot.MeetingJobGaveUp, j.Reason)
	}
	if !b.now().Before(j.GiveUpAt) {
		return b.finishMeetingJob(ctx, j, devopsbot.MeetingJobGaveUp, "Gave up after "+meetingGiveUp.String()+": "+j.Reason)
	}
	wait := meetingBackoff(j.Attempts)
	if ra := apperr.RetryAfterOf(lerr); ra > wait {
		wait = ra
	}
	j.NextAttemptAt = b.now().Add(wait)
	if err := b.meetingJobs.SaveMeetingJob(ctx, j); err != nil {
		return j, err
	}
	if apperr.Is(lerr, apperr.NotFound) {
		log.DebugContext(ctx, "meeting content not there yet", "attempt", j.Attempts, "next_in", wait.Round(time.Second).String())
	} else {
		log.WarnContext(ctx, "could not read the meeting's content; will look again", "attempt", j.Attempts, "next_in", wait.Round(time.Second).String(), "err", lerr)
	}
	b.observeMeeting("retry")
	return j, nil
}

func (b *Bot) finishMeetingJob(ctx context.Context, j *devopsbot.MeetingJob, state devopsbot.MeetingJobState, reason string) (*devopsbot.MeetingJob, error) {
	j.State, j.Reason = state, reason
	if err := b.meetingJobs.SaveMeetingJob(ctx, j); err != nil {
		return j, err
	}
	if state == devopsbot.MeetingJobGaveUp {
		// Quietly: the chat sees nothing; the status command says why.
		teams.Logger(ctx).InfoContext(ctx, "meeting summary given up", "conversation", j.ConversationID, "attempts", j.Attempts, "reason", reason)
		b.observeMeeting("gave_up")
	} else {
		teams.Logger(ctx).InfoContext(ctx, "meeting summary handed to delivery", "source", j.Source, "summary", j.SummaryID, "attempts", j.Attempts)
		b.observeMeeting("found_" + j.Source)
	}
	return j, nil
}

func sourceName(source string) string {
	if source == devopsbot.SourceCopilot {
		return "Copilot meeting insights"
	}
	return "meeting transcript"
}

// lookForContent reads Copilot's insights first and the transcript second.
// A 403 on Copilot (no licence, no access policy) is remembered and the
// transcript tried; 403 on both is final; NotFound means "not yet".
func (b *Bot) lookForContent(ctx context.Context, j *devopsbot.MeetingJob) ([]devopsbot.Insight, string, error) {
	g := b.cfg.Graph
	if j.GraphMeetingID == "" {
		m, err := g.FindMeetingByJoinURL(ctx, j.UserID, j.JoinURL)
		if err != nil {
			return nil, "", err
		}
		j.GraphMeetingID = m.ID
		if j.Start.IsZero() && !m.StartDateTime.IsZero() {
			j.Start = m.StartDateTime.UTC() // meetingEnd carries only the end
		}
		if j.Title == "" {
			j.Title = clipRunes(summary.CleanText(m.Subject), 200)
		}
		if org := m.OrganizerID(); org != "" {
			j.UserID = org // Graph serves a meeting's content in its organizer's name
		}
	}
	if j.InsightsDenied == "" {
		ins, err := b.copilotInsights(ctx, j)
		switch {
		case err == nil:
			return ins, devopsbot.SourceCopilot, nil
		case apperr.Is(err, apperr.Forbidden):
			j.InsightsDenied = apperr.UserMessage(err)
			teams.Logger(ctx).InfoContext(ctx, "Copilot meeting insights may not be read; using the transcript", "reason", j.InsightsDenied)
			if j.SummaryID != "" {
				return nil, "", err // the transcript's summary is posted already
			}
		case apperr.Is(err, apperr.NotFound):
			if j.SummaryID != "" || b.now().Before(copilotDeadline(j)) {
				// Copilot may still come: a transcript now would be the lesser card.
				return nil, "", errNothingYet
			}
		default:
			return nil, "", err
		}
	}
	ins, err := b.transcriptInsights(ctx, j)
	if err == nil {
		return ins, devopsbot.SourceTranscript, nil
	}
	if apperr.Is(err, apperr.Forbidden) && j.InsightsDenied != "" {
		return nil, "", apperr.Wrap(apperr.Forbidden, "Neither Copilot's meeting insights nor the transcript may be read. Copilot: "+j.InsightsDenied+" Transcript: "+apperr.UserMessage(err), err)
	}
	if apperr.Is(err, apperr.NotFound) {
		return nil, "", errNothingYet
	}
	return nil, "", err
}

// copilotInsights reads the latest set of Copilot insights: action items
// become tasks with their owners; notes become insights, or decisions and
// next steps where their wording says so.
func (b *Bot) copilotInsights(ctx context.Context, j *devopsbot.MeetingJob) ([]devopsbot.Insight, error) {
	list, err := b.cfg.Graph.ListAIInsights(ctx, j.UserID, j.GraphMeetingID)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, errNothingYet
	}
	sort.SliceStable(list, func(a, c int) bool { return list[a].CreatedDateTime.Before(list[c].CreatedDateTime) })
	in, err := b.cfg.Graph.GetAIInsight(ctx, j.UserID, j.GraphMeetingID, list[len(list)-1].ID)
	if err != nil {
		return nil, err
	}
	return copilotToInsights(in), nil
}

func copilotToInsights(in *graph.AIInsight) []devopsbot.Insight {
	var out []devopsbot.Insight
	add := func(kind devopsbot.Kind, text, owner string) {
		text = strings.Join(strings.Fields(summary.CleanText(text)), " ")
		owner = clipRunes(strings.Join(strings.Fields(summary.CleanText(owner)), " "), 200)
		if text == "" || len(out) >= summary.MaxInsights {
			return
		}
		out = append(out, devopsbot.Insight{ID: fmt.Sprintf("c%d", len(out)+1), Kind: kind, Text: clipRunes(text, summary.MaxInsightText), Owner: owner, Source: devopsbot.SourceCopilot})
	}
	for _, a := range in.ActionItems {
		text := a.Text
		if text == "" {
			text = a.Title
		}
		add(devopsbot.KindTask, text, a.OwnerDisplayName)
	}
	for _, n := range in.MeetingNotes {
		text := n.Text
		if n.Title != "" && !strings.HasPrefix(n.Text, n.Title) {
			text = n.Title + ": " + n.Text
		}
		add(noteKind(n.Title+" "+n.Text), text, "")
		for _, s := range n.Subpoints {
			st := s.Text
			if s.Title != "" && !strings.HasPrefix(s.Text, s.Title) {
				st = s.Title + ": " + s.Text
			}
			if k := noteKind(s.Title + " " + s.Text); k != devopsbot.KindInsight {
				add(k, st, "")
			}
		}
	}
	return out
}

// noteKind reads a Copilot note's wording: "decided"/"agreed" make a decision,
// "next step(s)"/"follow up" a next step; anything else stays an insight.
func noteKind(s string) devopsbot.Kind {
	l := strings.ToLower(s)
	switch {
	case strings.Contains(l, "decided") || strings.Contains(l, "agreed") || strings.Contains(l, "decision"):
		return devopsbot.KindDecision
	case strings.Contains(l, "next step") || strings.Contains(l, "follow up") || strings.Contains(l, "follow-up"):
		return devopsbot.KindNextStep
	}
	return devopsbot.KindInsight
}

// transcriptInsights reads the latest transcript and extracts its items.
func (b *Bot) transcriptInsights(ctx context.Context, j *devopsbot.MeetingJob) ([]devopsbot.Insight, error) {
	list, err := b.cfg.Graph.ListTranscripts(ctx, j.UserID, j.GraphMeetingID)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, errNothingYet
	}
	sort.SliceStable(list, func(a, c int) bool { return list[a].CreatedDateTime.Before(list[c].CreatedDateTime) })
	vtt, err := b.cfg.Graph.TranscriptContent(ctx, j.UserID, j.GraphMeetingID, list[len(list)-1].ID)
	if err != nil {
		return nil, err
	}
	cues, err := summary.ParseVTT(vtt)
	if err != nil {
		return nil, err
	}
	return summary.ExtractTranscript(cues), nil
}

// deliverMeetingSummary stores the meeting's summary and its delivery to the
// meeting chat, and tries to post it. The summary's id derives from the job
// and the source, so a look repeated after a crash finds the same summary and
// delivery instead of posting twice. It returns the summary id, "" when there
// was nothing to act on.
func (b *Bot) deliverMeetingSummary(ctx context.Context, j *devopsbot.MeetingJob, insights []devopsbot.Insight, source string) (string, error) {
	if len(insights) == 0 {
		return "", nil
	}
	title := j.Title
	if title == "" {
		title = "Teams meeting"
	}
	m := devopsbot.Meeting{Title: title, Start: j.Start, End: j.End, JoinURL: j.JoinURL}
	sourceID := j.ID + "-" + source
	sm := &devopsbot.Summary{SourceID: sourceID, ContentKey: summary.ContentKey(m, insights), ConversationID: j.ConversationID,
		Meeting: m, Insights: insights, PostedBy: "meeting:" + source, CreatedAt: b.now()}
	stored, _, err := b.storeSummary(ctx, sm, false)
	if err != nil {
		return "", err
	}
	dl, err := b.recordDelivery(ctx, stored, devopsbot.ConversationRef{ConversationID: j.ConversationID, ServiceURL: j.ServiceURL}, sm.SourceID, false)
	if err != nil {
		return "", err
	}
	b.firstAttempt(ctx, dl) // a failure is the delivery worker's to retry; the job is done
	return stored.ID, nil
}

// setMeetingSummaries answers "meeting summaries on|off" in a chat.
func (b *Bot) setMeetingSummaries(ctx context.Context, a *teams.Activity, arg string) {
	if a.Conversation.ConversationType == "personal" {
		b.replyText(ctx, a, "Meeting summaries are posted in a meeting's chat. Type this in the meeting chat where you want them on or off.")
		return
	}
	on := arg == "on"
	if err := b.chats.SetMeetingSummaries(ctx, a.Conversation.ID, on); err != nil {
		b.replyText(ctx, a, "I couldn't save that right now (reference "+b.reference(ctx, "save meeting summary setting", err)+"). Please try again.")
		return
	}
	switch {
	case !on:
		b.replyText(ctx, a, "Meeting summaries are off in this chat: I won't read this chat's meetings or post their summaries. Type meeting summaries on to turn them back on.")
	case b.cfg.Graph == nil:
		b.replyText(ctx, a, "Meeting summaries are on in this chat, but this deployment of Sally cannot read meetings yet (its operator has not set up Microsoft Graph access).")
	default:
		b.replyText(ctx, a, "Meeting summaries are on in this chat: after each meeting here, I'll post its summary when Copilot's insights or the transcript are ready.")
	}
}

// meetingStatusLine says whether this chat's meetings are picked up and, if
// not, what is missing (from the 403 Graph gave on the last meeting).
func (b *Bot) meetingStatusLine(ctx context.Context, a *teams.Activity) string {
	if a.Conversation.ConversationType == "personal" {
		return ""
	}
	if b.cfg.Graph == nil {
		return "Meeting summaries: not set up on this deployment (Microsoft Graph access)."
	}
	on, err := b.chats.MeetingSummariesOn(ctx, a.Conversation.ID)
	if err != nil {
		return "Meeting summaries: unknown right now (database unavailable)."
	}
	if !on {
		return "Meeting summaries: off in this chat (type meeting summaries on)."
	}
	jobs, err := b.meetingJobs.MeetingJobsOf(ctx, a.Conversation.ID, 200)
	if err != nil || len(jobs) == 0 {
		return "Meeting summaries: on; no meeting in this chat has ended since."
	}
	last := jobs[len(jobs)-1]
	switch last.State {
	case devopsbot.MeetingJobPending:
		s := "Meeting summaries: on; waiting for the last meeting's Copilot insights or transcript."
		if last.InsightsDenied != "" {
			s += " Copilot insights can't be read: " + last.InsightsDenied
		}
		return s
	case devopsbot.MeetingJobDone:
		return "Meeting summaries: on; the last meeting's summary came from its " + sourceName(last.Source) + "."
	}
	return "Meeting summaries: on, but the last meeting's summary could not be read: " + last.Reason
}

// upgradeMeetingSummary replaces a posted transcript summary with Copilot's
// insights and updates its card(s) in place. Transcript items someone already
// turned into work stay, after Copilot's, so their results stay visible.
func (b *Bot) upgradeMeetingSummary(ctx context.Context, j *devopsbot.MeetingJob, copilot []devopsbot.Insight) error {
	sm, err := b.summaries.GetSummary(ctx, j.SummaryID)
	if err != nil {
		return err
	}
	links, err := b.links.ListLinks(ctx, sm.ID)
	if err != nil {
		return err
	}
	used := map[string]bool{}
	for _, l := range links {
		used[l.Key.InsightID] = true
	}
	merged := append([]devopsbot.Insight(nil), copilot...)
	for _, in := range sm.Insights {
		if used[in.ID] && len(merged) < summary.MaxInsights {
			merged = append(merged, in)
		}
	}
	if err := b.summaries.ReplaceSummaryContent(ctx, sm.ID, summary.ContentKey(sm.Meeting, merged), merged); err != nil {
		return err
	}
	sm.Insights = merged
	out := b.summaryCards(ctx, sm, links, j.ServiceURL)
	posted := append([]devopsbot.PostedCard(nil), sm.Cards...)
	for i, c := range out {
		if i < len(posted) && posted[i].ActivityID != "" {
			if err := b.cfg.Connector.UpdateActivity(ctx, j.ServiceURL, j.ConversationID, posted[i].ActivityID, teams.NewCardMessage(c.card)); err != nil {
				return err
			}
			posted[i].InsightIDs = c.insightIDs
			continue
		}
		id, err := b.cfg.Connector.SendToConversation(ctx, j.ServiceURL, j.ConversationID, teams.NewCardMessage(c.card))
		if err != nil {
			return err
		}
		posted = append(posted, devopsbot.PostedCard{ActivityID: id, InsightIDs: c.insightIDs})
	}
	return b.summaries.SetSummaryCards(context.WithoutCancel(ctx), sm.ID, posted)
}

// copilotDeadline is when a ready transcript stops waiting for Copilot:
// copilotGrace after the bot heard the meeting end (its own clock, as
// GiveUpAt; the event's EndTime is the sender's clock).
func copilotDeadline(j *devopsbot.MeetingJob) time.Time {
	return j.GiveUpAt.Add(copilotGrace - meetingGiveUp)
}

// findOrganizer asks Teams' meeting details API for the organizer and the
// meeting's Graph id, since Graph serves a meeting in its organizer's name
// and the event may come from anyone in it. Without an answer the job looks
// the meeting up by its join URL as the event's user.
func (b *Bot) findOrganizer(ctx context.Context, a *teams.Activity, ev *teams.MeetingEvent, j *devopsbot.MeetingJob) {
	id := ev.ID
	if cd, err := a.TeamsData(); err == nil && cd != nil && cd.Meeting != nil && cd.Meeting.ID != "" {
		id = cd.Meeting.ID
	}
	// The event is answered after the job is stored: leave that time.
	dctx, cancel := context.WithTimeout(ctx, 4*time.Second)
	defer cancel()
	d, err := b.cfg.Connector.GetMeetingDetails(dctx, a.ServiceURL, id)
	if err != nil {
		teams.Logger(ctx).InfoContext(ctx, "no meeting details from Teams; the meeting will be looked up by its join URL", "err", err)
		return
	}
	if oid := d.Organizer.AADObjectID; oid != "" && len(oid) <= 100 {
		j.UserID = oid
	}
	if gid := d.Details.MSGraphResourceID; gid != "" && len(gid) <= 1024 && !strings.ContainsAny(gid, "/?#") {
		j.GraphMeetingID = gid
	}
}
