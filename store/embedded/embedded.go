//go:build !noembeddb

package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Available reports whether this binary carries the embedded database.
const Available = true

// startTimeout bounds how long Start waits for the listener to accept connections;
// a healthy start takes milliseconds, so anything longer means something is wrong.
const startTimeout = 10 * time.Second

// Start runs FerretDB with its SQLite files in dataDir, listening on a free loopback
// port only (it has no authentication, so it must never face the network). The
// returned stop cancels the server and waits for it to close its files; it is safe
// to call more than once. ctx bounds the start-up only, not the server's life.
func Start(ctx context.Context, dataDir string, logger *slog.Logger) (uri string, stop func(), err error) {
	return StartOn(ctx, dataDir, "127.0.0.1:0", logger)
}

// StartOn is Start on a given loopback address. Tests use it to stop the server and
// bring it back on the same port and data, as a database outage looks to a client.
func StartOn(ctx context.Context, dataDir, listenAddr string, logger *slog.Logger) (uri string, stop func(), err error) {
	host, _, err := net.SplitHostPort(listenAddr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return "", nil, fmt.Errorf("embedded database: %q is not a loopback address (the server has no authentication)", listenAddr)
	}
	if strings.TrimSpace(dataDir) == "" {
		// SQLite's in-memory mode hangs under concurrent requests, so a directory is required.
		return "", nil, errors.New("embedded database: a data directory is required")
	}
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return "", nil, fmt.Errorf("embedded database: data directory %q: %w", dataDir, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return "", nil, fmt.Errorf("embedded database: create data directory: %w", err)
	}
	if logger == nil {
		logger = slog.Default()
	}
	// At warn and below FerretDB logs whole wire messages, which carry our
	// (encrypted) documents and user data; error is the most we want to see.
	quiet := slog.New(errorOnly{logger.Handler()}).With("component", "ferretdb")

	sqliteURL := (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs) + "/"}).String()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: listenAddr},
		Logger:    quiet,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	if err != nil {
		return "", nil, fmt.Errorf("embedded database: %w", err)
	}

	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(runCtx) // always nil; the listener logs its own failures
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}

	// MongoDBURI blocks until Run has bound the listener; do it off this goroutine so
	// a listener that never comes up cannot hang the caller past ctx.
	uriCh := make(chan string, 1)
	go func() { uriCh <- f.MongoDBURI() }()
	wait, cancelWait := context.WithTimeout(ctx, startTimeout)
	defer cancelWait()
	select {
	case uri = <-uriCh:
	case <-done:
		stop()
		return "", nil, errors.New("embedded database: stopped during start-up")
	case <-wait.Done():
		cancel() // don't wait for done: Run may be stuck; the goroutines end with the process
		return "", nil, fmt.Errorf("embedded database: start-up: %w", wait.Err())
	}

	// Prove the port answers before handing it out, so callers fail here and not
	// on their first query.
	u, err := url.Parse(uri)
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("embedded database: bad URI: %w", err)
	}
	var d net.Dialer
	c, err := d.DialContext(wait, "tcp", u.Host)
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("embedded database: listener not reachable: %w", err)
	}
	_ = c.Close()
	return uri, stop, nil
}

// errorOnly passes on records at error level and above only.
type errorOnly struct{ slog.Handler }

func (h errorOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelError && h.Handler.Enabled(ctx, l)
}

func (h errorOnly) WithAttrs(as []slog.Attr) slog.Handler {
	return errorOnly{h.Handler.WithAttrs(as)}
}

func (h errorOnly) WithGroup(name string) slog.Handler {
	return errorOnly{h.Handler.WithGroup(name)}
}
