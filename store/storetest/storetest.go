// Package storetest gives tests a real database: an embedded FerretDB started once
// per test binary, with a fresh database per test. Set MONGODB_TEST_URI to run the
// same tests against a real MongoDB instead.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sally-devops/devopsbot/store"
	"github.com/sally-devops/devopsbot/store/embedded"
)

var (
	once    sync.Once
	uri     string
	dataDir string
	stop    func()
	onceErr error
)

// URI returns the address of the shared test server, starting it on first use.
func URI(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		if u := os.Getenv("MONGODB_TEST_URI"); u != "" {
			uri = u
			return
		}
		dataDir, onceErr = os.MkdirTemp("", "storetest-")
		if onceErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		uri, stop, onceErr = embedded.Start(ctx, dataDir, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	})
	if onceErr != nil {
		t.Fatalf("storetest: no test database: %v", onceErr)
	}
	return uri
}

// Main runs the tests and then stops the embedded server and removes its files. Use
// it from TestMain; without it the server's temporary directory is left behind.
func Main(m *testing.M) {
	code := m.Run()
	if stop != nil {
		stop()
	}
	if dataDir != "" {
		_ = os.RemoveAll(dataDir)
	}
	os.Exit(code)
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9_]+`)

// Config returns a Config for a new, empty database on the test server with a fresh
// random keyring; the database is dropped when the test ends. Tweak it and open it
// with Open (more than once, to act as several replicas).
func Config(t testing.TB) store.Config {
	t.Helper()
	return configOn(t, URI(t))
}

func configOn(t testing.TB, u string) store.Config {
	t.Helper()
	name := unsafeChars.ReplaceAllString(t.Name(), "_")
	if len(name) > 30 {
		name = name[:30]
	}
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	db := "t_" + name + "_" + hex.EncodeToString(suffix)
	key := make([]byte, store.KeySize)
	_, _ = rand.Read(key)
	keys, err := store.NewKeyring(key)
	if err != nil {
		t.Fatalf("storetest: keyring: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := mongo.Connect(options.Client().ApplyURI(u))
		if err != nil {
			return
		}
		defer c.Disconnect(ctx)
		_ = c.Database(db).Drop(ctx)
	})
	return store.Config{
		URI: u, Database: db, Keys: keys, OpTimeout: 10 * time.Second,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// Open opens cfg and closes the store when the test ends.
func Open(t testing.TB, cfg store.Config) *store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("storetest: open: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Close(ctx)
	})
	return s
}

// New returns a store on a fresh database, closed and dropped when the test ends.
func New(t testing.TB) *store.Store {
	t.Helper()
	return Open(t, Config(t))
}

// Server is a test's own embedded FerretDB that it can stop and start again on the
// same port and data: to the bot's store that is a database outage and its end.
type Server struct {
	t    testing.TB
	dir  string
	addr string
	uri  string
	stop func()
}

// NewServer starts a private server, stopped when the test ends. It needs the
// embedded database (a build without -tags noembeddb), also under MONGODB_TEST_URI.
func NewServer(t testing.TB) *Server {
	t.Helper()
	if !embedded.Available {
		t.Skip("storetest: outage tests stop and restart an embedded FerretDB; this build has none (-tags noembeddb)")
	}
	s := &Server{t: t, dir: t.TempDir(), addr: "127.0.0.1:0"}
	s.Start()
	u, err := url.Parse(s.uri)
	if err != nil || u.Host == "" {
		t.Fatalf("storetest: embedded server URI %q: %v", s.uri, err)
	}
	s.addr = u.Host // restarts listen where clients already look
	t.Cleanup(s.Stop)
	return s
}

// Start (re)starts the server on its port; a no-op while it runs.
func (s *Server) Start() {
	s.t.Helper()
	if s.stop != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	uri, stop, err := embedded.StartOn(ctx, s.dir, s.addr, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		s.t.Fatalf("storetest: start the embedded server on %s: %v", s.addr, err)
	}
	s.uri, s.stop = uri, stop
}

// Stop stops the server: its port refuses connections until Start.
func (s *Server) Stop() {
	if s.stop != nil {
		s.stop()
		s.stop = nil
	}
}

// Config is Config on this server.
func (s *Server) Config(t testing.TB) store.Config {
	t.Helper()
	return configOn(t, s.uri)
}
