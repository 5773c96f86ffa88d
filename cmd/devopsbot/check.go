package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/sally-devops/devopsbot"
)

// check prints each setting (secrets masked), what is missing for which feature,
// and whether the database answers. Its exit status says whether the bot can serve.
func check(getenv func(string) string, w io.Writer) int {
	fmt.Fprintln(w, "Sally for Azure DevOps: configuration")
	for _, s := range settings {
		v := getenv(s.Name)
		shown := v
		switch {
		case v == "":
			shown = "(not set)"
		case s.Secret:
			shown = "(set, " + fmt.Sprint(len(v)) + " characters)"
		}
		fmt.Fprintf(w, "  %-26s %-16s %s\n", s.Name, s.Feature, shown)
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		fmt.Fprintln(w, "\nNOT READY:", err)
		return 1
	}
	fmt.Fprintln(w)
	if cfg.ClientID == "" {
		fmt.Fprintln(w, "Teams:          local development only (no CLIENT_ID: no authentication, loopback only)")
	} else {
		fmt.Fprintln(w, "Teams:          single-tenant bot", cfg.ClientID)
	}
	switch {
	case cfg.Demo:
		fmt.Fprintln(w, "connect devops: DEMO MODE (fake organization)")
	case len(cfg.missingOAuth()) > 0:
		fmt.Fprintln(w, "connect devops: not configured, missing", strings.Join(cfg.missingOAuth(), ", "))
	default:
		fmt.Fprintln(w, "connect devops: configured, redirect URI", cfg.PublicURL+"/oauth/callback")
	}
	if cfg.WebhookSecret == "" {
		fmt.Fprintln(w, "summaries:      POST /api/summaries disabled (SUMMARY_WEBHOOK_SECRET missing)")
	} else {
		fmt.Fprintln(w, "summaries:      POST /api/summaries enabled")
	}
	if cfg.MongoURI == "" {
		fmt.Fprintln(w, "database:       embedded FerretDB in", cfg.DataDir, "(development default)")
		fmt.Fprintln(w, "\nREADY (development)")
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	st, closeStore, err := openStore(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		fmt.Fprintln(w, "database:       NOT REACHABLE:", err)
		fmt.Fprintln(w, "\nNOT READY")
		return 1
	}
	defer closeStore()
	if err := st.Ping(ctx); err != nil {
		fmt.Fprintln(w, "database:       NOT REACHABLE:", err)
		return 1
	}
	fmt.Fprintln(w, "database:       reachable, indexes in place")
	if n, err := st.CountDeliveries(ctx); err == nil {
		fmt.Fprintf(w, "deliveries:     %d pending, %d failed, %d posted (summary cards; failed ones are logged as errors)\n",
			n[devopsbot.DeliveryPending], n[devopsbot.DeliveryFailed], n[devopsbot.DeliveryPosted])
	}
	fmt.Fprintln(w, "\nREADY")
	return 0
}
