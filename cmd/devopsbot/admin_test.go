package main

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

func TestAdminAddrStaysOnLoopbackAndOffThePublicPort(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"off by default", map[string]string{}, ""},
		{"loopback", map[string]string{"ADMIN_ADDR": "127.0.0.1:6060"}, ""},
		{"localhost", map[string]string{"ADMIN_ADDR": "localhost:6060"}, ""},
		{"ipv6 loopback", map[string]string{"ADMIN_ADDR": "[::1]:6060"}, ""},
		{"every interface", map[string]string{"ADMIN_ADDR": ":6060"}, "not loopback"},
		{"public address", map[string]string{"ADMIN_ADDR": "0.0.0.0:6060"}, "not loopback"},
		{"remote allowed", map[string]string{"ADMIN_ADDR": "0.0.0.0:6060", "ADMIN_ALLOW_REMOTE": "true"}, ""},
		{"the public port", map[string]string{"ADMIN_ADDR": "127.0.0.1:3978"}, "must not use the public port"},
		{"the public port, remote", map[string]string{"ADMIN_ADDR": ":4000", "PORT": "4000", "ADMIN_ALLOW_REMOTE": "true"}, "must not use the public port"},
		{"no port", map[string]string{"ADMIN_ADDR": "127.0.0.1"}, "host:port"},
		{"bad port", map[string]string{"ADMIN_ADDR": "127.0.0.1:pprof"}, "port from 0 to 65535"},
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
			if c.AdminAddr != tc.env["ADMIN_ADDR"] {
				t.Fatalf("admin = %q, want %q", c.AdminAddr, tc.env["ADMIN_ADDR"])
			}
		})
	}
}

// freeLoopbackAddr is a loopback address nothing listens on just now.
func freeLoopbackAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	r, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(b)
}

// TestAdminListenerServesProfilesAndMetrics starts the real server with
// ADMIN_ADDR: the profiler and the metrics answer there, and the profiler is
// nowhere on the public port.
func TestAdminListenerServesProfilesAndMetrics(t *testing.T) {
	admin := freeLoopbackAddr(t)
	public, stop := startServe(t, map[string]string{"LISTEN_ADDR": "127.0.0.1:0", "DATA_DIR": t.TempDir(), "DEMO_MODE": "true", "ADMIN_ADDR": admin})
	defer func() { _ = stop() }()
	if code, body := get(t, "http://"+admin+"/debug/pprof/"); code != 200 || !strings.Contains(body, "goroutine") || !strings.Contains(body, "heap") {
		t.Fatalf("admin pprof index: %d %.300s", code, body)
	}
	if code, body := get(t, "http://"+admin+"/debug/pprof/heap?debug=1"); code != 200 || !strings.Contains(body, "heap profile") {
		t.Fatalf("admin heap profile: %d %.300s", code, body)
	}
	if code, body := get(t, "http://"+admin+"/metrics"); code != 200 || !strings.Contains(body, "go_goroutines") || !strings.Contains(body, "sally_db_commands_total") {
		t.Fatalf("admin metrics: %d %.300s", code, body)
	}
	for _, p := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/cmdline", "/debug/pprof/profile?seconds=1"} {
		if code, body := get(t, "http://"+public+p); code != http.StatusNotFound || strings.Contains(body, "goroutine") {
			t.Errorf("public port serves %s: %d %.200s", p, code, body)
		}
	}
}
