// Package bot is the application: chat commands, the connect flow, summary intake
// and delivery, and the card actions that create work items and add comments. It
// depends on the outside world only through the small interfaces in deps.go and
// the typed clients of the teams and devops packages.
package bot

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/devops"
	"github.com/sally-devops/devopsbot/teams"
)

// Config wires the bot. cmd/devopsbot fills it from the environment; tests fill it
// with fakes.
type Config struct {
	Logger    *slog.Logger
	Store     Store
	Connector Connector

	// PublicURL is the bot's external base URL (sign-in links, OAuth redirect).
	PublicURL string

	// OAuth is the Entra ID app for Azure DevOps; nil when not configured, and then
	// MissingOAuth names the settings an administrator must provide.
	OAuth        *devops.OAuthSettings
	MissingOAuth []string
	// FixedTenantID pins the Entra tenant (single-organization deployments).
	FixedTenantID string
	// Tenants discovers an organization's tenant; required unless FixedTenantID is set.
	Tenants TenantResolver
	// DevOps is how clients reach Azure DevOps (hosts, HTTP client).
	DevOps devops.Options
	// Metadata caches form choices; one per process.
	Metadata *devops.MetadataCache

	// WebhookSecret is the Standard Webhooks key (decoded); nil disables /api/summaries.
	WebhookSecret []byte

	// Demo, when set, replaces Azure DevOps sign-in with a fake organization and
	// says so on every card.
	Demo *Demo

	// Forms says how forms open: "dialog" (Teams dialogs), "card" (in place of
	// the card clicked, Universal Actions) or "auto" (default): dialogs, except
	// for a connector on loopback, which is the Agents Playground, which cannot
	// open dialogs.
	Forms string

	// ActionBudget bounds the synchronous part of a card action (Teams waits 10-15 s).
	ActionBudget time.Duration
	Now          func() time.Time

	// OnDelivery, when set, hears every delivery state change ("posted",
	// "failed", "retry") for metrics.
	OnDelivery func(event string)

	// Graph reads meeting content (Copilot insights, transcripts) for
	// automatic meeting summaries; nil turns them off.
	Graph MeetingContent
	// OnMeetingJob, when set, hears meeting job events ("started", "retry",
	// "found_copilot", "found_transcript", "gave_up", "off") for metrics.
	OnMeetingJob func(event string)
}

// TenantResolver finds the Entra tenant behind an Azure DevOps organization.
type TenantResolver interface {
	Resolve(ctx context.Context, org devops.Org) (string, error)
}

// Demo is the demo mode: a fake organization and the token it accepts.
type Demo struct {
	Org      devops.Org
	Token    string
	Identity devops.Identity
}

// Bot is the application.
type Bot struct {
	cfg Config
	log *slog.Logger
	now func() time.Time

	// What the bot keeps, one part per concern (Config.Store split up), so each
	// use case names only the part it needs.
	conns       devopsbot.Connections
	signIns     devopsbot.SignIns
	convs       devopsbot.Conversations
	summaries   devopsbot.Summaries
	links       devopsbot.Links
	prefs       devopsbot.Preferences
	auditLog    devopsbot.Audit
	replies     devopsbot.WebhookReplies
	once        devopsbot.Once
	deliveries  devopsbot.Deliveries
	leases      devopsbot.Leases
	meetingJobs devopsbot.MeetingJobs
	chats       devopsbot.ChatSettings
	chatForms   devopsbot.ChatFormDefaults

	// writes tracks Azure DevOps writes that outlive their invoke (slow answers),
	// so a shutdown waits for them instead of losing their result.
	writes sync.WaitGroup

	// status caches work items' live status for summary card refreshes.
	status *devops.StatusCache
}

// Wait blocks until writes still running finish, or ctx ends.
func (b *Bot) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { b.writes.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// New returns a bot. It panics only on programmer error (missing required wiring).
func New(cfg Config) *Bot {
	if cfg.Store == nil || cfg.Connector == nil {
		panic("bot: Store and Connector are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ActionBudget <= 0 {
		cfg.ActionBudget = 8 * time.Second
	}
	if cfg.Metadata == nil {
		cfg.Metadata = devops.NewMetadataCache(10 * time.Minute)
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	st := cfg.Store
	return &Bot{cfg: cfg, log: cfg.Logger, now: cfg.Now,
		conns: st, signIns: st, convs: st, summaries: st, links: st, prefs: st, auditLog: st, replies: st, once: st,
		deliveries: st, leases: st, meetingJobs: st, chats: st, chatForms: st, status: devops.NewStatusCache(statusTTL)}
}

// Register routes Teams activities to the bot.
func (b *Bot) Register(r *teams.Router) {
	r.OnMessage(b.onMessage)
	r.OnConversationUpdate(b.onConversationUpdate)
	r.OnInstallationUpdate(b.onInstallationUpdate)
	r.OnInvoke("adaptiveCard/action", b.onCardAction)
	r.OnInvoke("task/fetch", b.onTaskFetch)
	r.OnInvoke("task/submit", b.onTaskSubmit)
	r.OnInvoke("application/search", b.onSearch)
	r.OnInvoke(teams.InvokeExtensionFetchTask, b.onExtensionFetchTask)
	r.OnInvoke(teams.InvokeExtensionSubmitAction, b.onExtensionSubmitAction)
	r.OnEvent(teams.EventMeetingEnd, b.onMeetingEnd)
}

// Routes returns the bot's own HTTP endpoints (besides /api/messages).
func (b *Bot) Routes() map[string]http.Handler {
	return map[string]http.Handler{
		// Each request gets an id and a logger naming it, as activities do.
		"/api/summaries":      teams.WithRequestLog(b.log, http.HandlerFunc(b.serveSummaries)),
		"/api/summaries/{id}": teams.WithRequestLog(b.log, http.HandlerFunc(b.serveSummaryStatus)),
		"/oauth/callback":     teams.WithRequestLog(b.log, http.HandlerFunc(b.serveOAuthCallback)),
		// The app manifest links to these by default (developer website, privacy, terms).
		"/":        b.infoPage(page{Title: "Sally for Azure DevOps", Message: "A Microsoft Teams bot that turns meeting insights, decisions, next steps and tasks into Azure DevOps work items and comments, with your own Azure DevOps account and only when you click. Install it in Teams and type help."}),
		"/privacy": b.infoPage(page{Title: "Privacy", Message: "Sally stores, in its operator's database: your Azure DevOps organization and account name and your OAuth tokens (encrypted), meeting summaries delivered to your chats (kept " + "for a limited time, 90 days by default), which insights became which work items, your last form choices, and an audit log of every change made in Azure DevOps on your behalf. Type disconnect devops to delete your tokens; removing the app from a chat deletes that chat's summaries."}),
		"/terms":   b.infoPage(page{Title: "Terms of use", Message: "Sally acts in Azure DevOps only with your own permissions and only after you click. Ask the operator of this deployment for its terms of service."}),
	}
}

// inCardFor reports whether cards sent to this connector use in-card forms.
func (b *Bot) inCardFor(serviceURL string) bool {
	switch b.cfg.Forms {
	case "card":
		return true
	case "dialog":
		return false
	}
	u, err := url.Parse(serviceURL)
	return err == nil && u.Scheme == "http" && teams.IsLoopback(u.Host)
}

func (b *Bot) infoPage(p page) http.Handler {
	p.Info = true
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		b.renderPage(w, http.StatusOK, p)
	})
}

// userOf identifies the Teams user behind an activity. Teams always sends the AAD
// object id; the Playground sends a fake one. Without it we cannot bind tokens.
func userOf(a *teams.Activity) (devopsbot.UserKey, error) {
	u := devopsbot.UserKey{TenantID: a.TenantID(), AADObjectID: a.From.AADObjectID}
	if u.AADObjectID == "" {
		return u, apperr.New(apperr.Invalid, "I can't tell who you are in this chat, so I can't use your Azure DevOps account here.")
	}
	return u, nil
}

// rememberConversation records how to reach this chat later. Failures are logged,
// not shown: the user's request does not depend on it; the error is returned so
// a message can tell that the database is down (answerOutage).
func (b *Bot) rememberConversation(ctx context.Context, a *teams.Activity) error {
	if a.Conversation.ID == "" || a.ServiceURL == "" {
		return nil
	}
	ref := &devopsbot.ConversationRef{
		ConversationID:   a.Conversation.ID,
		ServiceURL:       a.ServiceURL,
		TenantID:         a.TenantID(),
		BotID:            a.Recipient.ID,
		BotName:          a.Recipient.Name,
		ConversationType: a.Conversation.ConversationType,
		UpdatedAt:        b.now(),
	}
	if a.Conversation.ConversationType == "personal" || a.Conversation.ConversationType == "" {
		ref.UserAADObjectID = a.From.AADObjectID
	}
	err := b.convs.SaveConversationRef(ctx, ref)
	if err != nil {
		teams.Logger(ctx).WarnContext(ctx, "could not record the conversation", "conversation", a.Conversation.ID, "err", err)
	}
	return err
}

// reply posts an activity into the conversation the activity came from.
func (b *Bot) reply(ctx context.Context, a *teams.Activity, out *teams.Activity) (string, error) {
	id, err := b.cfg.Connector.SendToConversation(ctx, a.ServiceURL, a.Conversation.ID, out)
	if err != nil {
		teams.Logger(ctx).ErrorContext(ctx, "could not send a reply", "conversation", a.Conversation.ID, "err", err)
	}
	return id, err
}

func (b *Bot) replyText(ctx context.Context, a *teams.Activity, text string) {
	_, _ = b.reply(ctx, a, teams.NewMessage(text))
}

func (b *Bot) replyCard(ctx context.Context, a *teams.Activity, card any) {
	_, _ = b.reply(ctx, a, teams.NewCardMessage(card))
}

// reference returns a short id to quote in an apology, and logs the cause under it.
func (b *Bot) reference(ctx context.Context, what string, err error) string {
	log, ref := teams.Logger(ctx), teams.RequestID(ctx) // the request logger names it already
	if ref == "" {
		ref = randomID(6)
		log = log.With("reference", ref)
	}
	log.ErrorContext(ctx, what, "err", err, "kind", apperr.KindOf(err).String())
	return ref
}

var errNotConnected = errors.New("not connected")
