package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/sally-devops/devopsbot/bot"
	"github.com/sally-devops/devopsbot/devops"
	"github.com/sally-devops/devopsbot/graph"
	"github.com/sally-devops/devopsbot/store"
	"github.com/sally-devops/devopsbot/store/embedded"
	"github.com/sally-devops/devopsbot/teams"
)

// openStore connects to MONGODB_URI, or starts the embedded development database.
// onCommand, when set, hears every database command (for metrics).
func openStore(ctx context.Context, cfg config, log *slog.Logger, onCommand func(command, collection string)) (*store.Store, func(), error) {
	uri := cfg.MongoURI
	stopEmbedded := func() {}
	var keys *store.Keyring
	var err error
	if uri == "" {
		if !embedded.Available {
			return nil, nil, errors.New("this build has no embedded database: set MONGODB_URI (and TOKEN_ENCRYPTION_KEY)")
		}
		start := time.Now()
		uri, stopEmbedded, err = embedded.Start(ctx, cfg.DataDir, log)
		if err != nil {
			return nil, nil, fmt.Errorf("starting the embedded database in %s: %w", cfg.DataDir, err)
		}
		log.Info("development default: embedded FerretDB (SQLite) on loopback; set MONGODB_URI for production", "data_dir", cfg.DataDir, "startup", time.Since(start).String())
		if cfg.TokenKey == "" {
			path := filepath.Join(cfg.DataDir, "token-encryption.key")
			key, created, kerr := store.LoadOrCreateKeyFile(path)
			if kerr != nil {
				stopEmbedded()
				return nil, nil, fmt.Errorf("token encryption key: %w", kerr)
			}
			if created {
				log.Warn("generated a token encryption key for development; set TOKEN_ENCRYPTION_KEY in production", "path", path)
			}
			keys, err = store.NewKeyring(key)
		}
	}
	if keys == nil && err == nil {
		keys, err = store.ParseKeyring(cfg.TokenKey, cfg.TokenOldKeys)
	}
	if err != nil {
		stopEmbedded()
		return nil, nil, fmt.Errorf("TOKEN_ENCRYPTION_KEY: %w", err)
	}
	st, err := store.Open(ctx, store.Config{
		URI: uri, Database: cfg.MongoDatabase, Keys: keys, Logger: log,
		SummaryRetention: cfg.SummaryRetention, AuditRetention: cfg.AuditRetention,
		OnCommand: onCommand,
	})
	if err != nil {
		stopEmbedded()
		return nil, nil, err
	}
	return st, func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = st.Close(cctx)
		stopEmbedded()
	}, nil
}

// app is the wired bot: everything serve needs, and tests can build.
type app struct {
	handler http.Handler
	admin   http.Handler // pprof and metrics, for ADMIN_ADDR only
	bot     *bot.Bot
	teams   *teams.Server
	store   *store.Store
	demo    *bot.Demo // the fake organization in DEMO_MODE, else nil
	close   func()
}

// buildApp wires every part from the configuration. hc, when not nil, is the
// HTTP client of every outbound call (Teams, Entra, Azure DevOps, Graph), so
// tests and benchmarks can answer them with fakes; nil in production.
func buildApp(ctx context.Context, cfg config, log *slog.Logger, hc *http.Client) (*app, error) {
	m := newMetrics()
	st, closeStore, err := openStore(ctx, cfg, log, m.dbCommands())
	if err != nil {
		return nil, err
	}
	auth, connector := teamsWiring(cfg, log, hc)
	bcfg, closeDemo, err := botConfig(cfg, log, hc, m, st, connector)
	if err != nil {
		closeStore()
		return nil, err
	}
	b := bot.New(bcfg)
	router := teams.NewRouter()
	b.Register(router)
	ts := teams.NewServer(teams.ServerConfig{Router: router, Auth: auth, Logger: log, OnAnswered: m.activities().answered})
	return &app{handler: routes(m, ts, b, st), admin: adminHandler(m.handler()), bot: b, teams: ts, store: st, demo: bcfg.Demo,
		close: func() { closeDemo(); closeStore() }}, nil
}

// teamsWiring authenticates inbound activities and signs outbound calls with
// the bot's app registration; without CLIENT_ID neither (Agents Playground).
func teamsWiring(cfg config, log *slog.Logger, hc *http.Client) (*teams.Authenticator, *teams.Connector) {
	outbound := teams.ConnectorConfig{HTTPClient: hc, Logger: log}
	if cfg.ClientID == "" {
		log.Warn("NO AUTHENTICATION: CLIENT_ID is not set, so /api/messages accepts unsigned requests (Agents Playground). Listening on loopback only, replying only to a loopback serviceUrl.", "addr", cfg.ListenAddr)
		return nil, teams.NewConnector(outbound)
	}
	auth := teams.NewAuthenticator(teams.AuthConfig{AppID: cfg.ClientID, HTTPClient: hc})
	outbound.TokenSource = teams.NewBotTokenSource(teams.CredentialsConfig{
		ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, TenantID: cfg.TenantID, HTTPClient: hc,
	})
	return auth, teams.NewConnector(outbound)
}

// botConfig turns the settings into the bot's configuration, one feature at a
// time; a feature whose settings are missing is off, and the log says what to
// set. The returned func stops the demo organization, if one was started.
func botConfig(cfg config, log *slog.Logger, hc *http.Client, m *metrics, st bot.Store, connector bot.Connector) (bot.Config, func(), error) {
	var base http.RoundTripper
	if hc != nil {
		base = hc.Transport
	}
	dhc := &http.Client{Transport: m.devopsTransport(base), Timeout: 30 * time.Second}
	bcfg := bot.Config{
		Logger: log, Store: st, Connector: connector, PublicURL: cfg.PublicURL,
		FixedTenantID: cfg.DevOpsTenantID, Forms: cfg.Forms, Metadata: devops.NewMetadataCache(10 * time.Minute),
		DevOps:     devops.Options{HTTPClient: dhc, Hosts: devops.DefaultHosts, Logger: log},
		OnDelivery: m.deliveryEvents(),
	}
	closeDemo := func() {}
	if cfg.Demo {
		demo, dhosts, stop, err := startDemo()
		if err != nil {
			return bot.Config{}, nil, err
		}
		closeDemo = stop
		bcfg.Demo = demo
		bcfg.DevOps.Hosts = dhosts
		log.Warn("DEMO MODE: Azure DevOps is a fake in-process organization (fabrikam); every card says so")
	} else if missing := cfg.missingOAuth(); len(missing) == 0 {
		bcfg.OAuth = &devops.OAuthSettings{
			ClientID: cfg.DevOpsClientID, ClientSecret: cfg.DevOpsClientSecret,
			RedirectURL: cfg.PublicURL + "/oauth/callback", WithIdentity: cfg.DevOpsIdentityScope,
		}
		bcfg.Tenants = devops.NewTenantResolver(dhc, devops.DefaultHosts)
	} else {
		bcfg.MissingOAuth = missing
		log.Warn("connect devops is not configured: users get a 'not set up by your administrator' card", "missing", strings.Join(missing, ","))
	}
	if cfg.WebhookSecret != "" {
		key, err := bot.ParseWebhookSecret(cfg.WebhookSecret)
		if err != nil {
			closeDemo()
			return bot.Config{}, nil, err
		}
		bcfg.WebhookSecret = key
	} else {
		log.Warn("summary delivery is not configured: POST /api/summaries answers 503", "missing", "SUMMARY_WEBHOOK_SECRET")
	}
	if !cfg.MeetingSummaries {
		log.Info("automatic meeting summaries are off (MEETING_SUMMARIES=off, or no CLIENT_ID)")
		return bcfg, closeDemo, nil
	}
	ts, err := graph.NewTokenSource(graph.TokenConfig{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, TenantID: cfg.TenantID, HTTPClient: hc})
	var gc *graph.Client
	if err == nil {
		gc, err = graph.New(graph.Config{BaseURL: cfg.GraphBaseURL, Token: ts, HTTPClient: hc})
	}
	if err != nil {
		closeDemo()
		return bot.Config{}, nil, err
	}
	bcfg.Graph = gc
	bcfg.OnMeetingJob = m.meetingEvents()
	return bcfg, closeDemo, nil
}

// routes is the public HTTP surface: Teams' endpoint, the bot's own routes,
// health, readiness (the database answers) and metrics.
func routes(m *metrics, ts *teams.Server, b *bot.Bot, st *store.Store) http.Handler {
	r := mux.NewRouter()
	r.Handle("/api/messages", m.wrap("messages", ts)).Methods(http.MethodPost)
	for path, h := range b.Routes() {
		name := strings.TrimPrefix(path, "/")
		if name == "" {
			name = "home"
		}
		r.Handle(path, m.wrap(name, h))
	}
	r.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	r.HandleFunc("/readyz", func(w http.ResponseWriter, req *http.Request) {
		ctx, cancel := context.WithTimeout(req.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "application/json")
		if err := st.Ping(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"database unavailable"}`))
			return
		}
		_, _ = w.Write([]byte(`{"status":"ready"}`))
	})
	r.Handle("/metrics", m.handler())
	return r
}

// serve runs the bot until ctx ends, then drains in-flight work.
func serve(ctx context.Context, cfg config, log *slog.Logger, ready chan<- string) error {
	a, err := buildApp(ctx, cfg, log, nil)
	if err != nil {
		return err
	}
	defer a.close()
	sweepCtx, stopSweep := context.WithCancel(ctx)
	defer stopSweep()
	go a.store.RunSweeper(sweepCtx, 15*time.Minute)
	// Every replica retries pending summary deliveries; leases keep each in one hand.
	go a.bot.RunDeliveries(sweepCtx, 10*time.Second)
	// And watches ended meetings for their Copilot insights or transcript.
	go a.bot.RunMeetingJobs(sweepCtx, 30*time.Second)

	if cfg.AdminAddr != "" {
		addr, stopAdmin, err := startAdmin(cfg.AdminAddr, a.admin, log)
		if err != nil {
			return err
		}
		defer stopAdmin()
		log.Info("admin listener (pprof, metrics) is up", "addr", addr, "pprof", "http://"+addr+"/debug/pprof/")
	}
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.ListenAddr, err)
	}
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	log.Info("Sally for Azure DevOps is listening", "addr", ln.Addr().String(), "messages", "http://"+ln.Addr().String()+"/api/messages", "auth", cfg.ClientID != "", "demo", cfg.Demo)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	// Start-up (the embedded database's schema, the keys, the templates) leaves
	// garbage that an idle bot would otherwise hold for minutes before the
	// runtime's scavenger hands it back: return it now, once, off the request
	// path (a few milliseconds, after the listener is up).
	go debug.FreeOSMemory()
	if ready != nil {
		ready <- ln.Addr().String()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	if err := a.teams.Shutdown(sctx); err != nil {
		log.Warn("background work did not finish", "err", err)
	}
	if err := a.bot.Wait(sctx); err != nil {
		log.Warn("Azure DevOps writes did not finish", "err", err)
	}
	return nil
}
