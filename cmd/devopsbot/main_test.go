package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot/teams"
	"github.com/sally-devops/devopsbot/teams/teamstest"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigRefusesUnauthenticatedNonLoopback(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		wantErr string
		addr    string
	}{
		{"defaults", map[string]string{}, "", "127.0.0.1:3978"},
		{"port", map[string]string{"PORT": "4000"}, "", "127.0.0.1:4000"},
		{"open without auth", map[string]string{"LISTEN_ADDR": "0.0.0.0:3978"}, "only listens on loopback", ""},
		{"any interface without auth", map[string]string{"LISTEN_ADDR": ":3978"}, "only listens on loopback", ""},
		{"ipv6 loopback", map[string]string{"LISTEN_ADDR": "[::1]:3978"}, "", "[::1]:3978"},
		{"auth listens everywhere", map[string]string{"CLIENT_ID": "app", "CLIENT_SECRET": "s", "TENANT_ID": "t"}, "", ":3978"},
		{"auth needs secret and tenant", map[string]string{"CLIENT_ID": "app"}, "CLIENT_ID needs CLIENT_SECRET and TENANT_ID", ""},
		{"bad port", map[string]string{"PORT": "http"}, "PORT must be a number", ""},
		{"mongo needs key", map[string]string{"MONGODB_URI": "mongodb://db"}, "TOKEN_ENCRYPTION_KEY", ""},
		{"public url https", map[string]string{"PUBLIC_URL": "http://bot.example.com"}, "PUBLIC_URL must be an https URL", ""},
		{"public url localhost", map[string]string{"PUBLIC_URL": "http://localhost:3978"}, "", "127.0.0.1:3978"},
		{"retention", map[string]string{"SUMMARY_RETENTION_DAYS": "0"}, "SUMMARY_RETENTION_DAYS", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := loadConfig(env(tc.env))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.ListenAddr != tc.addr {
				t.Fatalf("listen = %q, want %q", c.ListenAddr, tc.addr)
			}
		})
	}
}

func TestRunRefusesToStartWithBadConfig(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(nil, env(map[string]string{"LISTEN_ADDR": "0.0.0.0:0"}), &out, &errb)
	if code == 0 || !strings.Contains(errb.String(), "loopback") {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
}

func TestCheckMasksSecrets(t *testing.T) {
	var out bytes.Buffer
	code := check(env(map[string]string{"DEVOPS_CLIENT_SECRET": "super-secret-value", "SUMMARY_WEBHOOK_SECRET": "whsec_c2VjcmV0c2VjcmV0c2VjcmV0MTIzNA=="}), &out)
	s := out.String()
	if code != 0 || strings.Contains(s, "super-secret-value") || strings.Contains(s, "c2VjcmV0") {
		t.Fatalf("exit %d; secrets must be masked:\n%s", code, s)
	}
	for _, want := range []string{"DEVOPS_CLIENT_SECRET", "(set, 18 characters)", "missing DEVOPS_CLIENT_ID", "READY (development)"} {
		if !strings.Contains(s, want) {
			t.Errorf("check output lacks %q:\n%s", want, s)
		}
	}
}

func TestCheckFailsOnUnreachableDatabase(t *testing.T) {
	var out bytes.Buffer
	code := check(env(map[string]string{"MONGODB_URI": "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500", "TOKEN_ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}), &out)
	if code == 0 || !strings.Contains(out.String(), "NOT REACHABLE") {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
}

func TestManifestCommandWritesPackage(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sally.zip")
	var so, se bytes.Buffer
	code := run([]string{"manifest", "--out", out}, env(map[string]string{"CLIENT_ID": "0b3f6c1e-9f6e-4c4e-9b5a-2d2f1f7b8c9d", "PUBLIC_URL": "https://sally.example.com"}), &so, &se)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != "manifest.json,color.png,outline.png" {
		t.Fatalf("zip holds %v", names)
	}
	code = run([]string{"manifest", "--out", filepath.Join(t.TempDir(), "x.zip")}, env(map[string]string{"CLIENT_ID": "not-a-guid"}), &so, &se)
	if code == 0 {
		t.Fatal("an invalid configuration produced a package")
	}
}

// TestServeEndToEnd starts the real server on an embedded database and talks to
// it over HTTP like the Agents Playground does.
func TestServeEndToEnd(t *testing.T) {
	conn := teamstest.NewConnector(t)
	addr, stop := startServe(t, map[string]string{"LISTEN_ADDR": "127.0.0.1:0", "DATA_DIR": t.TempDir(), "DEMO_MODE": "true"})
	base := "http://" + addr
	for _, p := range []string{"/healthz", "/readyz", "/", "/privacy", "/terms"} {
		r, err := http.Get(base + p)
		if err != nil || r.StatusCode != 200 {
			t.Fatalf("%s: %v %v", p, err, r)
		}
		r.Body.Close()
	}
	act := teams.Activity{Type: "message", Text: "help", ServiceURL: conn.URL, ChannelID: "msteams",
		From:         teams.ChannelAccount{ID: "user-id-0", AADObjectID: "00000000-0000-0000-0000-0000000000020"},
		Conversation: teams.ConversationAccount{ID: "conv-1", ConversationType: "personal", TenantID: "t"},
		Recipient:    teams.ChannelAccount{ID: "bot"}}
	body, _ := json.Marshal(act)
	r, err := http.Post(base+"/api/messages", "application/json", bytes.NewReader(body))
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("message: %v %v", err, r)
	}
	r.Body.Close()
	sent := conn.WaitSent(t, 1, 10*time.Second)
	if c, _ := json.Marshal(sent[0].Activity.Attachments); !strings.Contains(string(c), "What Sally can do") || !strings.Contains(string(c), "Demo mode") {
		t.Fatalf("help card: %s", c)
	}
	r, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if !strings.Contains(string(m), `sally_http_requests_total{code="200",endpoint="messages"} 1`) ||
		!strings.Contains(string(m), `sally_activities_total{name="",outcome="ok",type="message"} 1`) {
		t.Fatalf("metrics lack the message: %.500s", m)
	}
	// The database calls the message made (recording the conversation) are counted
	// per operation, with the store's start-up (the ping, the indexes).
	for _, want := range []string{`sally_db_commands_total{collection="conversations",command="update"} 1`, `sally_db_commands_total{collection="",command="ping"} `} {
		if !strings.Contains(string(m), want) {
			t.Errorf("metrics lack %s: %s", want, grepLines(string(m), "sally_db_commands_total"))
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

// startServe runs the real server with the given environment until stop, which
// returns serve's error (or fails the test when shutting down hangs).
func startServe(t *testing.T, vars map[string]string) (addr string, stop func() error) {
	t.Helper()
	cfg, err := loadConfig(env(vars))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), ready) }()
	select {
	case addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("serve: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("server did not start")
	}
	return addr, func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			t.Fatal("shutdown hung")
			return nil
		}
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
