// Package manifest builds the Teams app package (manifest.json plus two icons in a zip) that an admin
// uploads to Teams, so nobody has to hand-edit JSON with GUIDs and host names in it.
package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sally-devops/devopsbot/apperr"
)

// ManifestVersion is the Teams app manifest schema version we emit: the newest numbered (non-preview)
// schema bundled with Microsoft's @microsoft/app-manifest npm package 1.1.2. We use nothing newer than
// 1.12 features, so bumping this is a one-line change once Teams accepts a newer version.
const ManifestVersion = "1.30"

// SchemaURL is the schema the manifest declares; tooling (VS Code, the Developer Portal) validates against it.
const SchemaURL = "https://developer.microsoft.com/en-us/json-schemas/teams/v" + ManifestVersion + "/MicrosoftTeams.schema.json"

// Defaults applied when the Config leaves a field empty.
const (
	DefaultName    = "Sally for Azure DevOps"
	DefaultVersion = "1.0.0"
)

// File names inside the package; the manifest refers to the icons by these relative paths.
const (
	ManifestFile    = "manifest.json"
	ColorIconFile   = "color.png"
	OutlineIconFile = "outline.png"
)

// ChatMessageReadRSCPermission lets the bot see every message in a group chat it is in, not only
// those that @mention it.
const ChatMessageReadRSCPermission = "ChatMessage.Read.Chat"

// Limits from the Teams manifest schema: exceeding them makes Teams refuse the upload.
const (
	maxShortName     = 30
	maxDeveloperName = 32
	maxURL           = 2048
)

// accentColor is Azure blue, the background of the color icon, so Teams' frame matches it.
const accentColor = "#0078D4"

// Config is what differs between installations. The zero value is not valid: AppID and PublicURL
// are required; everything else has a default (see the field comments).
type Config struct {
	AppID string // the bot's Entra app (client) id, a GUID; also used as the Teams app id
	// PublicURL is the bot's public origin, e.g. https://bot.example.com (https, no path, query or fragment).
	PublicURL string
	// SignInHost is the host name of the sign-in page when it is not the PublicURL host; it is added
	// to validDomains so Teams lets the sign-in pop-up open it. Empty: the PublicURL host.
	SignInHost string
	Name       string // the app name Teams shows, at most 30 characters; empty: DefaultName
	Version    string // the package version, MAJOR.MINOR.PATCH; empty: DefaultVersion. Bump it for every re-upload.
	// Developer is the publisher shown on the app's details page. Empty fields default to: Name the app
	// name, WebsiteURL PublicURL + "/", PrivacyURL PublicURL + "/privacy", TermsURL PublicURL + "/terms"
	// (so the server must answer those pages, or the config must name others). URLs must be https.
	Developer struct{ Name, WebsiteURL, PrivacyURL, TermsURL string }
	// ChatMessageReadRSC adds the resource-specific permission ChatMessage.Read.Chat (off by default,
	// because whoever installs the app must then consent to the bot reading the whole chat).
	ChatMessageReadRSC bool
	// MeetingSummaries adds what automatic meeting summaries need: the
	// resource-specific permissions MeetingRSCPermissions (meeting start/end
	// events in meeting chats, channel meetings' events, and transcripts of the
	// chat's meetings, app-only) and the commands to turn them on or off.
	MeetingSummaries bool
}

// MeetingRSCPermissions are the resource-specific permissions for meeting
// summaries: OnlineMeeting.ReadBasic.Chat and ChannelMeeting.ReadBasic.Group
// deliver the meetingStart/meetingEnd events to the bot; OnlineMeetingTranscript.Read.Chat
// lets it read the transcripts of the chat's (scheduled, private) meetings
// without tenant-wide admin consent. Copilot insights have no RSC permission:
// they need OnlineMeetingAiInsight.Read.All and an application access policy.
var MeetingRSCPermissions = []string{"OnlineMeeting.ReadBasic.Chat", "ChannelMeeting.ReadBasic.Group", "OnlineMeetingTranscript.Read.Chat"}

var (
	guidRE   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	semverRE = regexp.MustCompile(`^(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})$`)
	labelRE  = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
)

// normalized is a Config after defaults, with the host names extracted; Build works only from this.
type normalized struct {
	appID, origin, host, signInHost, name, version string
	devName, website, privacy, terms               string
	rsc, meetings                                  bool
}

// Validate reports every problem with c at once (so an operator fixes the config in one go) as an
// *apperr.Error of kind Invalid whose message lists them; nil if Build would succeed.
func (c Config) Validate() error {
	_, err := c.normalize()
	return err
}

func (c Config) normalize() (normalized, error) {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	n := normalized{rsc: c.ChatMessageReadRSC, meetings: c.MeetingSummaries}

	n.appID = strings.ToLower(strings.TrimSpace(c.AppID))
	switch {
	case n.appID == "":
		add("AppID is required (the bot's Entra app id)")
	case !guidRE.MatchString(n.appID):
		add("AppID must be a GUID like 00000000-0000-0000-0000-000000000000")
	case strings.Trim(n.appID, "0-") == "":
		add("AppID must be the bot's real app id, not the all-zero GUID")
	}

	origin, host, msg := checkOrigin(c.PublicURL)
	if msg != "" {
		add("PublicURL %s", msg)
	}
	n.origin, n.host = origin, host

	n.signInHost = host
	if s := strings.TrimSpace(c.SignInHost); s != "" {
		if h, msg := checkHost(s); msg != "" {
			add("SignInHost %s", msg)
		} else {
			n.signInHost = h
		}
	}

	n.name = strings.TrimSpace(c.Name)
	if n.name == "" {
		n.name = DefaultName
	}
	if msg := checkText(n.name, maxShortName); msg != "" {
		add("Name %s", msg)
	}

	n.version = strings.TrimSpace(c.Version)
	if n.version == "" {
		n.version = DefaultVersion
	}
	if !semverRE.MatchString(n.version) {
		add("Version must look like 1.0.0 (three numbers, no leading zeros, no suffix)")
	}

	n.devName = strings.TrimSpace(c.Developer.Name)
	if n.devName == "" {
		n.devName = n.name
	}
	if msg := checkText(n.devName, maxDeveloperName); msg != "" {
		add("Developer.Name %s", msg)
	}
	page := func(field, value, path string) string {
		value = strings.TrimSpace(value)
		if value == "" {
			if origin == "" {
				return "" // PublicURL is already reported
			}
			return origin + path
		}
		if msg := checkPageURL(value); msg != "" {
			add("Developer.%s %s", field, msg)
		}
		return value
	}
	n.website = page("WebsiteURL", c.Developer.WebsiteURL, "/")
	n.privacy = page("PrivacyURL", c.Developer.PrivacyURL, "/privacy")
	n.terms = page("TermsURL", c.Developer.TermsURL, "/terms")

	if len(problems) > 0 {
		return normalized{}, apperr.New(apperr.Invalid, "The Teams app settings are not valid: "+strings.Join(problems, "; ")+".")
	}
	return n, nil
}

// checkOrigin accepts only a bare https origin: Teams needs the host for validDomains, and a path
// would silently be dropped from the developer pages we derive from it.
func checkOrigin(raw string) (origin, host, problem string) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", "", "is required (e.g. https://bot.example.com)"
	}
	if len(raw) > maxURL {
		return "", "", "is too long"
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", "", "must be an absolute URL like https://bot.example.com"
	}
	if !strings.EqualFold(u.Scheme, "https") {
		return "", "", "must use https (Teams only talks to https endpoints)"
	}
	if u.User != nil {
		return "", "", "must not contain a user name or password"
	}
	if (u.Path != "" && u.Path != "/") || u.RawPath != "" {
		return "", "", "must not have a path (give only https://host)"
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.ContainsAny(raw, "?#") {
		return "", "", "must not have a query or fragment"
	}
	h, msg := checkHost(u.Hostname())
	if msg != "" {
		return "", "", msg
	}
	hostport := h
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", "", "has an invalid port"
		}
		if p != "443" {
			hostport = net.JoinHostPort(h, p)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return "", "", "has an empty port"
	}
	return "https://" + hostport, h, ""
}

// checkHost accepts a DNS name (lower-cased): validDomains entries are host names, and Teams will not
// load pages from IP addresses or single-label names.
func checkHost(raw string) (string, string) {
	h := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(raw), "."))
	switch {
	case h == "":
		return "", "must name a host"
	case net.ParseIP(strings.Trim(h, "[]")) != nil:
		return "", "must be a DNS name, not an IP address"
	case strings.ContainsAny(h, "/?#@:[]"):
		return "", "must be a host name only, like login.example.com"
	case len(h) > 253:
		return "", "is too long for a host name"
	}
	labels := strings.Split(h, ".")
	if len(labels) < 2 {
		return "", "must be a fully qualified host name like bot.example.com"
	}
	for _, l := range labels {
		if !labelRE.MatchString(l) {
			return "", "is not a valid host name (letters, digits and hyphens only)"
		}
	}
	return h, ""
}

// checkPageURL accepts an absolute https URL: the app store rejects http links on the details page.
func checkPageURL(raw string) string {
	if len(raw) > maxURL {
		return "is too long"
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "must be an absolute https URL"
	}
	if !strings.EqualFold(u.Scheme, "https") {
		return "must use https"
	}
	if u.User != nil {
		return "must not contain a user name or password"
	}
	if _, msg := checkHost(u.Hostname()); msg != "" {
		return msg
	}
	if strings.ContainsFunc(raw, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return "must not contain spaces or control characters"
	}
	return ""
}

// checkText keeps display strings printable and within Teams' length limits (counted in characters).
func checkText(s string, max int) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	if strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == utf8.RuneError }) {
		return "must not contain control characters"
	}
	if utf8.RuneCountInString(s) > max {
		return fmt.Sprintf("must be at most %d characters", max)
	}
	return ""
}

// The manifest's JSON shape; field order is the order people expect to read it in.
type (
	document struct {
		Schema             string              `json:"$schema"`
		ManifestVersion    string              `json:"manifestVersion"`
		Version            string              `json:"version"`
		ID                 string              `json:"id"`
		Developer          developer           `json:"developer"`
		Name               names               `json:"name"`
		Description        names               `json:"description"`
		Icons              icons               `json:"icons"`
		AccentColor        string              `json:"accentColor"`
		Bots               []bot               `json:"bots"`
		ComposeExtensions  []composeExtension  `json:"composeExtensions"`
		ValidDomains       []string            `json:"validDomains"`
		WebApplicationInfo *webApplicationInfo `json:"webApplicationInfo,omitempty"`
		Authorization      *authorization      `json:"authorization,omitempty"`
	}
	developer struct {
		Name          string `json:"name"`
		WebsiteURL    string `json:"websiteUrl"`
		PrivacyURL    string `json:"privacyUrl"`
		TermsOfUseURL string `json:"termsOfUseUrl"`
	}
	names struct {
		Short string `json:"short"`
		Full  string `json:"full"`
	}
	icons struct {
		Color   string `json:"color"`
		Outline string `json:"outline"`
	}
	bot struct {
		BotID              string        `json:"botId"`
		Scopes             []string      `json:"scopes"`
		SupportsFiles      bool          `json:"supportsFiles"`
		IsNotificationOnly bool          `json:"isNotificationOnly"`
		CommandLists       []commandList `json:"commandLists"`
	}
	commandList struct {
		Scopes   []string  `json:"scopes"`
		Commands []command `json:"commands"`
	}
	command struct {
		Title       string `json:"title"`
		Description string `json:"description"`
	}
	composeExtension struct {
		BotID    string             `json:"botId"`
		Commands []extensionCommand `json:"commands"`
	}
	extensionCommand struct {
		ID          string   `json:"id"`
		Type        string   `json:"type"`
		Title       string   `json:"title"`
		Description string   `json:"description"`
		Context     []string `json:"context"`
		FetchTask   bool     `json:"fetchTask"`
	}
	webApplicationInfo struct {
		ID       string `json:"id"`
		Resource string `json:"resource"`
	}
	authorization struct {
		Permissions permissions `json:"permissions"`
	}
	permissions struct {
		ResourceSpecific []rscPermission `json:"resourceSpecific"`
	}
	rscPermission struct {
		Name string `json:"name"`
		Type string `json:"type"`
	}
)

// Scopes the bot is installable in; each gets its own command list because Teams shows the list per scope.
var scopes = []string{"personal", "team", "groupChat"}

// commands are the words the bot understands (bot package), offered as suggestions in the compose box.
var commands = []command{
	{"connect devops", "Sign in to Azure DevOps with your own account so I can create work items for you."},
	{"disconnect devops", "Forget your Azure DevOps sign-in."},
	{"status", "Show whether you are connected and which organization and project I use."},
	{"defaults", "Choose the project, area, iteration and type everyone's forms in this chat start from."},
	{"help", "Show what I can do and how to send me meeting insights."},
}

// messageActions are the message extension's action commands: "…" → More
// actions on any message opens the create or comment form prefilled from that
// message (bot package, composeExtension/fetchTask). Their ids are what Teams
// sends back as commandId.
var messageActions = []extensionCommand{
	{ID: "createWorkItem", Type: "action", Title: "Create work item", Description: "Create an Azure DevOps work item from this message.", Context: []string{"message"}, FetchTask: true},
	{ID: "addComment", Type: "action", Title: "Add to work item", Description: "Add this message as a comment to an Azure DevOps work item.", Context: []string{"message"}, FetchTask: true},
}

// meetingCommands control automatic meeting summaries in a chat (bot package).
var meetingCommands = []command{
	{"meeting summaries on", "Post each meeting's summary in this chat when Copilot or the transcript has it."},
	{"meeting summaries off", "Stop reading this chat's meetings and posting their summaries."},
}

const (
	shortDescription = "Turn meeting insights into Azure DevOps work items."
	fullDescription  = "Sally turns the insights, decisions, next steps and tasks from your meetings into Azure DevOps " +
		"work items and comments. Send or paste a meeting recap, pick what to track, and Sally creates the work " +
		"items in your project with your own Azure DevOps account, so permissions and history stay yours. " +
		"Say \"connect devops\" to sign in, \"status\" to see your connection and \"help\" for more."
)

// Build returns the manifest.json for c, indented for humans; the error is Validate's.
func Build(c Config) (manifestJSON []byte, err error) {
	n, err := c.normalize()
	if err != nil {
		return nil, err
	}
	return n.build()
}

func (n normalized) build() ([]byte, error) {
	lists := make([]commandList, len(scopes))
	for i, s := range scopes {
		cmds := commands
		if n.meetings && s != "personal" {
			cmds = append(append([]command(nil), commands...), meetingCommands...)
		}
		lists[i] = commandList{Scopes: []string{s}, Commands: cmds}
	}
	domains := []string{n.host}
	if n.signInHost != n.host {
		domains = append(domains, n.signInHost)
	}
	d := document{
		Schema:          SchemaURL,
		ManifestVersion: ManifestVersion,
		Version:         n.version,
		ID:              n.appID,
		Developer:       developer{Name: n.devName, WebsiteURL: n.website, PrivacyURL: n.privacy, TermsOfUseURL: n.terms},
		Name:            names{Short: n.name, Full: n.name},
		Description:     names{Short: shortDescription, Full: fullDescription},
		Icons:           icons{Color: ColorIconFile, Outline: OutlineIconFile},
		AccentColor:     accentColor,
		Bots: []bot{{
			BotID:        n.appID,
			Scopes:       scopes,
			CommandLists: lists,
		}},
		ComposeExtensions: []composeExtension{{BotID: n.appID, Commands: messageActions}},
		ValidDomains:      domains,
	}
	var rsc []rscPermission
	if n.rsc {
		rsc = append(rsc, rscPermission{Name: ChatMessageReadRSCPermission, Type: "Application"})
	}
	if n.meetings {
		for _, p := range MeetingRSCPermissions {
			rsc = append(rsc, rscPermission{Name: p, Type: "Application"})
		}
	}
	if len(rsc) > 0 {
		// Teams requires webApplicationInfo with a non-empty resource for RSC; the resource is not
		// used by RSC, so we give the form bot SSO would expect rather than an arbitrary string.
		d.WebApplicationInfo = &webApplicationInfo{ID: n.appID, Resource: "api://botid-" + n.appID}
		d.Authorization = &authorization{Permissions: permissions{ResourceSpecific: rsc}}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, apperr.Wrap(apperr.Internal, "Could not build the Teams app manifest.", err)
	}
	return buf.Bytes(), nil
}
