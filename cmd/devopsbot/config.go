package main

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sally-devops/devopsbot/teams"
)

// config is every setting the bot reads. Only cmd reads the environment.
type config struct {
	ListenAddr string // host:port

	// AdminAddr is the opt-in admin listener (pprof, metrics); empty = none.
	AdminAddr string

	ClientID, ClientSecret, TenantID string // the Azure Bot (Teams) app

	MongoURI, MongoDatabase string
	DataDir                 string
	TokenKey, TokenOldKeys  string

	DevOpsClientID, DevOpsClientSecret, DevOpsTenantID string
	DevOpsIdentityScope                                bool
	PublicURL                                          string

	WebhookSecret string

	// MeetingSummaries reads ended meetings' Copilot insights or transcripts
	// through Microsoft Graph with the Teams app's own credentials.
	MeetingSummaries bool
	GraphBaseURL     string

	SummaryRetention, AuditRetention time.Duration
	Demo                             bool
	Forms                            string
	LogLevel, LogFormat              string
}

// setting documents one environment variable (README and `devopsbot check`).
type setting struct {
	Name, Feature, Help string
	Secret              bool
}

var settings = []setting{
	{"PORT", "server", "port to listen on (default 3978)", false},
	{"LISTEN_ADDR", "server", "full listen address; default 127.0.0.1:$PORT without CLIENT_ID, :$PORT with it", false},
	{"ADMIN_ADDR", "server", "opt-in admin listener with /debug/pprof/ and /metrics, e.g. 127.0.0.1:6060; loopback only unless ADMIN_ALLOW_REMOTE=true; never the public port", false},
	{"ADMIN_ALLOW_REMOTE", "server", "true = let ADMIN_ADDR listen beyond loopback (it has no authentication: firewall it)", false},
	{"CLIENT_ID", "Teams", "Azure Bot app (client) id; empty = local development without auth (loopback only)", false},
	{"CLIENT_SECRET", "Teams", "Azure Bot client secret", true},
	{"TENANT_ID", "Teams", "tenant of the single-tenant Azure Bot (botframework.com for legacy multi-tenant bots)", false},
	{"MONGODB_URI", "storage", "MongoDB connection string; empty = embedded FerretDB in DATA_DIR", true},
	{"MONGODB_DATABASE", "storage", "database name (default sally)", false},
	{"DATA_DIR", "storage", "data directory of the embedded database (default ./data)", false},
	{"TOKEN_ENCRYPTION_KEY", "storage", "base64 of 32 random bytes; encrypts Azure DevOps tokens at rest", true},
	{"TOKEN_ENCRYPTION_OLD_KEYS", "storage", "comma-separated previous keys, still used to decrypt", true},
	{"DEVOPS_CLIENT_ID", "connect devops", "Entra ID app (multi-tenant) for Azure DevOps sign-in", false},
	{"DEVOPS_CLIENT_SECRET", "connect devops", "its client secret", true},
	{"DEVOPS_TENANT_ID", "connect devops", "optional: pin one Entra tenant and skip tenant discovery", false},
	{"DEVOPS_IDENTITY_SCOPE", "connect devops", "true = also ask vso.identity (organization-wide people search)", false},
	{"PUBLIC_URL", "connect devops", "the bot's external https base URL (redirect URI is PUBLIC_URL/oauth/callback)", false},
	{"SUMMARY_WEBHOOK_SECRET", "summaries", "Standard Webhooks secret (whsec_...) for POST /api/summaries", true},
	{"MEETING_SUMMARIES", "meeting summaries", "on (default with CLIENT_ID) or off: post each meeting's summary in its chat from Copilot insights or the transcript (Microsoft Graph, with CLIENT_ID/CLIENT_SECRET/TENANT_ID)", false},
	{"GRAPH_BASE_URL", "meeting summaries", "Microsoft Graph root (default https://graph.microsoft.com/v1.0)", false},
	{"SUMMARY_RETENTION_DAYS", "storage", "days meeting content is kept (default 90)", false},
	{"AUDIT_RETENTION_DAYS", "storage", "days the audit log is kept (default 365)", false},
	{"DEMO_MODE", "demo", "true = a fake in-process Azure DevOps organization instead of sign-in (says so on every card)", false},
	{"FORMS", "cards", "dialog, card or auto (default): auto opens forms in Teams dialogs, in place of the card for a connector on loopback (the Agents Playground has no dialogs)", false},
	{"LOG_LEVEL", "server", "debug, info (default), warn, error", false},
	{"LOG_FORMAT", "server", "json or text; default json unless stderr is a terminal", false},
}

func loadConfig(getenv func(string) string) (config, error) {
	var c config
	var problems []string
	port := getenv("PORT")
	if port == "" {
		port = "3978"
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		problems = append(problems, "PORT must be a number from 1 to 65535")
	}
	c.ClientID = strings.TrimSpace(getenv("CLIENT_ID"))
	c.ClientSecret = getenv("CLIENT_SECRET")
	c.TenantID = strings.TrimSpace(getenv("TENANT_ID"))
	c.ListenAddr = getenv("LISTEN_ADDR")
	if c.ListenAddr == "" {
		if c.ClientID == "" {
			c.ListenAddr = "127.0.0.1:" + port
		} else {
			c.ListenAddr = ":" + port
		}
	}
	if c.ClientID == "" && !teams.IsLoopback(c.ListenAddr) {
		problems = append(problems, "without CLIENT_ID the bot accepts unauthenticated requests, so it only listens on loopback; LISTEN_ADDR "+c.ListenAddr+" is not loopback")
	}
	c.AdminAddr = strings.TrimSpace(getenv("ADMIN_ADDR"))
	if c.AdminAddr != "" {
		problems = append(problems, adminAddrProblems(c.AdminAddr, c.ListenAddr, isTrue(getenv("ADMIN_ALLOW_REMOTE")))...)
	}
	if c.ClientID != "" && (c.ClientSecret == "" || c.TenantID == "") {
		problems = append(problems, "CLIENT_ID needs CLIENT_SECRET and TENANT_ID")
	}
	c.MongoURI = getenv("MONGODB_URI")
	c.MongoDatabase = def(getenv("MONGODB_DATABASE"), "sally")
	c.DataDir = def(getenv("DATA_DIR"), "data")
	c.TokenKey = getenv("TOKEN_ENCRYPTION_KEY")
	c.TokenOldKeys = getenv("TOKEN_ENCRYPTION_OLD_KEYS")
	if c.MongoURI != "" && c.TokenKey == "" {
		problems = append(problems, "MONGODB_URI needs TOKEN_ENCRYPTION_KEY (base64 of 32 bytes: openssl rand -base64 32)")
	}
	c.DevOpsClientID = strings.TrimSpace(getenv("DEVOPS_CLIENT_ID"))
	c.DevOpsClientSecret = getenv("DEVOPS_CLIENT_SECRET")
	c.DevOpsTenantID = strings.TrimSpace(getenv("DEVOPS_TENANT_ID"))
	c.DevOpsIdentityScope = isTrue(getenv("DEVOPS_IDENTITY_SCOPE"))
	c.PublicURL = strings.TrimRight(strings.TrimSpace(getenv("PUBLIC_URL")), "/")
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.User != nil {
			if !(err == nil && u.Scheme == "http" && teams.IsLoopback(u.Host)) {
				problems = append(problems, "PUBLIC_URL must be an https URL without query (http only for localhost)")
			}
		}
	}
	c.WebhookSecret = getenv("SUMMARY_WEBHOOK_SECRET")
	var err error
	if c.SummaryRetention, err = days(getenv("SUMMARY_RETENTION_DAYS"), 90); err != nil {
		problems = append(problems, "SUMMARY_RETENTION_DAYS "+err.Error())
	}
	if c.AuditRetention, err = days(getenv("AUDIT_RETENTION_DAYS"), 365); err != nil {
		problems = append(problems, "AUDIT_RETENTION_DAYS "+err.Error())
	}
	switch ms := strings.ToLower(strings.TrimSpace(getenv("MEETING_SUMMARIES"))); ms {
	case "", "on", "true":
		c.MeetingSummaries = c.ClientID != "" // app-only Graph tokens need the app's credentials
	case "off", "false":
	default:
		problems = append(problems, "MEETING_SUMMARIES must be on or off")
	}
	c.GraphBaseURL = strings.TrimSpace(getenv("GRAPH_BASE_URL"))
	if c.GraphBaseURL != "" {
		if u, err := url.Parse(c.GraphBaseURL); err != nil || u.Scheme != "https" || u.Host == "" {
			problems = append(problems, "GRAPH_BASE_URL must be an https URL")
		}
	}
	c.Demo = isTrue(getenv("DEMO_MODE"))
	c.Forms = strings.ToLower(def(getenv("FORMS"), "auto"))
	if c.Forms != "auto" && c.Forms != "dialog" && c.Forms != "card" {
		problems = append(problems, "FORMS must be dialog, card or auto")
	}
	c.LogLevel = def(getenv("LOG_LEVEL"), "info")
	c.LogFormat = getenv("LOG_FORMAT")
	if len(problems) > 0 {
		return c, fmt.Errorf("configuration: %s", strings.Join(problems, "; "))
	}
	return c, nil
}

// adminAddrProblems checks ADMIN_ADDR. The admin listener has no
// authentication and pprof shows memory (tokens included) and can burn CPU, so
// it stays on loopback unless the operator says otherwise, and never shares
// the public port, where Teams and the internet reach.
func adminAddrProblems(admin, public string, allowRemote bool) []string {
	_, port, err := net.SplitHostPort(admin)
	if err != nil {
		return []string{"ADMIN_ADDR must be host:port, like 127.0.0.1:6060"}
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return []string{"ADMIN_ADDR must end in a port from 0 to 65535"}
	}
	var problems []string
	if !teams.IsLoopback(admin) && !allowRemote {
		problems = append(problems, "ADMIN_ADDR "+admin+" is not loopback; the admin listener has no authentication (set ADMIN_ALLOW_REMOTE=true to listen there anyway)")
	}
	if _, pport, err := net.SplitHostPort(public); err == nil && port != "0" && port == pport {
		problems = append(problems, "ADMIN_ADDR must not use the public port "+port+": pprof is never served where Teams reaches")
	}
	return problems
}

// missingOAuth names the settings connect devops still needs.
func (c config) missingOAuth() []string {
	var m []string
	if c.DevOpsClientID == "" {
		m = append(m, "DEVOPS_CLIENT_ID")
	}
	if c.DevOpsClientSecret == "" {
		m = append(m, "DEVOPS_CLIENT_SECRET")
	}
	if c.PublicURL == "" {
		m = append(m, "PUBLIC_URL")
	}
	return m
}

func def(v, d string) string {
	if strings.TrimSpace(v) == "" {
		return d
	}
	return strings.TrimSpace(v)
}

func isTrue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

func days(v string, d int) (time.Duration, error) {
	if strings.TrimSpace(v) == "" {
		return time.Duration(d) * 24 * time.Hour, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 || n > 3650 {
		return 0, fmt.Errorf("must be a whole number of days from 1 to 3650")
	}
	return time.Duration(n) * 24 * time.Hour, nil
}

func lookupEnv(name string) string { return os.Getenv(name) }
