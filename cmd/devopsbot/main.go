// Command devopsbot runs Sally for Azure DevOps, the Teams bot that turns meeting
// insights into Azure DevOps work items and comments.
//
//	devopsbot                  serve (configuration from the environment; see README)
//	devopsbot check            print the configuration and test the database
//	devopsbot manifest --out F write the Teams app package
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
)

func main() {
	os.Exit(run(os.Args[1:], lookupEnv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cmd := ""
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "", "serve":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		cfg, err := loadConfig(getenv)
		if err != nil {
			fmt.Fprintln(stderr, "devopsbot:", err)
			return 2
		}
		log := newLogger(cfg, stderr)
		if err := serve(ctx, cfg, log, nil); err != nil {
			log.Error("devopsbot stopped", "err", err)
			return 1
		}
		return 0
	case "check":
		return check(getenv, stdout)
	case "manifest":
		return writeManifest(args[1:], getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, "usage: devopsbot [serve | check | manifest --out sally-devops.zip]")
		return 0
	}
	fmt.Fprintf(stderr, "devopsbot: unknown command %q (try: serve, check, manifest)\n", cmd)
	return 2
}

func newLogger(cfg config, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	format := cfg.LogFormat
	if format == "" {
		format = "json"
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			format = "text"
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
