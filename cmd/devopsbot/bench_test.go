package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/store"
	"github.com/sally-devops/devopsbot/store/embedded"
	"github.com/sally-devops/devopsbot/teams"
	"github.com/sally-devops/devopsbot/teams/teamstest"
)

// BenchmarkFormOpen measures what a user waits on most: the authenticated
// task/fetch that opens the create form, metadata warm, against the real app
// (buildApp: authentication on with the teamstest issuer, the embedded
// database, the demo organization, the fake connector) and, in the same run, a
// bare net/http + golang-jwt handler serving the same card from memory. The
// ratio of their opens/s is the bot's overhead. Run it with
//
//	go test ./cmd/devopsbot -run '^$' -bench FormOpen -benchmem -benchtime 3s
//
// Latencies include the loopback HTTP client, as a load generator sees them.
//
// db=embedded is the default development set-up (FerretDB inside the bot's
// process); db=process runs the same FerretDB in a child process, a stand-in
// for a real MongoDB, so the bot's own cost per request shows.
//
// Besides opens/s and p50/p99 each line reports cpu-µs/op, the CPU time this
// process spent per open (server and load generator alike, so the baseline's
// line carries the same client cost), and for db=process db-cpu-µs/op, the
// database process's. CPU per open depends much less than opens/s on what
// else the (shared) machine runs. At the end a table gives each bot line's
// ratios to the baseline line with as many clients, from this one run.
func BenchmarkFormOpen(b *testing.B) {
	f := newFormOpenFixture(b, "")
	db := startDatabaseProcess(b)
	out := newFormOpenFixture(b, db.uri)
	res := map[string]formOpenResult{}
	for _, clients := range []int{1, 16} {
		for _, c := range []struct {
			name   string
			fix    *formOpenFixture
			target string
			db     *databaseProcess
		}{
			{"server=sally/db=embedded", f, f.sally, nil},
			{"server=sally/db=process", out, out.sally, db},
			{"server=baseline", f, f.baseline, nil},
		} {
			name := fmt.Sprintf("%s/clients=%d", c.name, clients)
			b.Run(name, func(b *testing.B) { res[name] = c.fix.run(b, c.target, clients, c.db) })
		}
	}
	// Printed, not logged: a parent benchmark's log is not shown without -v.
	fmt.Print(formOpenTable(res))
}

// formOpenResult is one sub-benchmark's last (longest) run.
type formOpenResult struct {
	opens, p50, p99, cpu, dbCPU, allocs float64
}

// formOpenTable sets each bot line beside the baseline with as many clients.
func formOpenTable(res map[string]formOpenResult) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "\n%-26s %8s %8s %8s %9s %9s %8s | %7s %7s %7s %7s\n", "server (clients)", "opens/s", "p50-µs", "p99-µs",
		"cpu-µs/op", "+db-cpu", "allocs", "×opens", "×p99", "×cpu", "×allocs")
	for _, clients := range []int{1, 16} {
		base, ok := res[fmt.Sprintf("server=baseline/clients=%d", clients)]
		for _, name := range []string{"server=sally/db=embedded", "server=sally/db=process", "server=baseline"} {
			r, have := res[fmt.Sprintf("%s/clients=%d", name, clients)]
			if !have {
				continue
			}
			fmt.Fprintf(&sb, "%-26s %8.0f %8.0f %8.0f %9.0f %9.0f %8.0f", fmt.Sprintf("%s (%d)", strings.TrimPrefix(name, "server="), clients),
				r.opens, r.p50, r.p99, r.cpu, r.dbCPU, r.allocs)
			if ok && base.opens > 0 && base.p99 > 0 && base.cpu > 0 && base.allocs > 0 {
				fmt.Fprintf(&sb, " | %7.2f %7.2f %7.2f %7.2f", r.opens/base.opens, r.p99/base.p99, (r.cpu+r.dbCPU)/base.cpu, r.allocs/base.allocs)
			}
			sb.WriteString("\n")
		}
	}
	sb.WriteString("×opens: throughput over the baseline's (goals ≥0.33 embedded, ≥0.5 process); ×p99: over the baseline's (goal ≤3);\n" +
		"×cpu: (cpu + db-cpu) per open over the baseline's; allocs/op count the whole process (load generator, and FerretDB when embedded).\n")
	return sb.String()
}

// benchDBChild, set in a child test binary's environment, makes it serve an
// embedded FerretDB instead of running tests (TestMain).
const benchDBChild = "SALLY_BENCH_DATABASE_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(benchDBChild) != "" {
		os.Exit(serveBenchDatabase())
	}
	os.Exit(m.Run())
}

// serveBenchDatabase prints the database's URI and serves, in a directory of
// its own, until stdin closes: when the benchmark process exits. The parent
// neither stops nor waits for it, so no SIGCHLD reaches the parent, which
// valgrind's callgrind cannot survive (callgrind.sh).
func serveBenchDatabase() int {
	dir, err := os.MkdirTemp("", "sally-bench-db-")
	if err != nil {
		fmt.Println("ERROR", err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	uri, stop, err := embedded.Start(ctx, dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	cancel()
	if err != nil {
		fmt.Println("ERROR", err)
		return 1
	}
	fmt.Println("URI", uri)
	_, _ = io.Copy(io.Discard, os.Stdin)
	stop()
	return 0
}

// databaseProcess is FerretDB in a child process.
type databaseProcess struct {
	uri string
	pid int
}

// cpu is the process's CPU time so far (user and system), from /proc.
func (p *databaseProcess) cpu() time.Duration {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) in parentheses:
	// utime and stime are the 12th and 13th, in clock ticks (100 a second on Linux).
	_, rest, _ := strings.Cut(string(stat), ") ")
	fields := strings.Fields(rest)
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// processCPU is this process's CPU time so far (user and system).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var databaseStdins []io.WriteCloser

// startDatabaseProcess runs FerretDB in a child process.
func startDatabaseProcess(b *testing.B) *databaseProcess {
	b.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), benchDBChild+"=1")
	// The child's stdin stays open for as long as this process lives (it is
	// never closed or waited for: see serveBenchDatabase); held in a global so
	// that no finalizer closes it.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	databaseStdins = append(databaseStdins, stdin)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	uri, ok := strings.CutPrefix(strings.TrimSpace(line), "URI ")
	if err != nil || !ok {
		b.Fatalf("the database process did not start: %q %v", line, err)
	}
	return &databaseProcess{uri: uri, pid: cmd.Process.Pid}
}

const benchAppID = "00000000-0000-0000-0000-00000000b07"

type formOpenFixture struct {
	sally, baseline string       // URLs of /api/messages
	handler         http.Handler // the bot's
	body            []byte
	auth            string
	client          *http.Client
}

// toIssuer sends the Bot Framework's key discovery to the test issuer.
type toIssuer struct {
	issuer *url.URL
	next   http.RoundTripper
}

func (t toIssuer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host == "login.botframework.com" {
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host, r.Host = t.issuer.Scheme, t.issuer.Host, t.issuer.Host
	}
	return t.next.RoundTrip(r)
}

// newFormOpenFixture builds the app on the embedded database, or on mongoURI.
func newFormOpenFixture(b testing.TB, mongoURI string) *formOpenFixture {
	b.Helper()
	iss := teamstest.NewIssuer(b)
	conn := teamstest.NewConnector(b)
	issURL, _ := url.Parse(iss.MetadataURL)
	hc := &http.Client{Transport: toIssuer{issuer: issURL, next: http.DefaultTransport}}
	vars := map[string]string{
		"LISTEN_ADDR": "127.0.0.1:0", "DATA_DIR": b.TempDir(), "DEMO_MODE": "true", "LOG_FORMAT": "json",
		"CLIENT_ID": benchAppID, "CLIENT_SECRET": "not-used", "TENANT_ID": "00000000-0000-0000-0000-000000000001",
	}
	if mongoURI != "" {
		vars["MONGODB_URI"] = mongoURI
		vars["TOKEN_ENCRYPTION_KEY"] = base64.StdEncoding.EncodeToString(make([]byte, store.KeySize))
	}
	cfg, err := loadConfig(env(vars))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	a, err := buildApp(ctx, cfg, newLogger(cfg, io.Discard), hc) // the production logger, writing nowhere
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(a.close)
	srv := httptest.NewServer(a.handler)
	b.Cleanup(srv.Close)

	// A delivered summary, and a user connected to the demo organization.
	const tenant, user, chat = "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-0000000000a1", "19:bench@thread.v2"
	sm, _, err := a.store.InsertSummary(ctx, &devopsbot.Summary{SourceID: "bench-1", ConversationID: chat,
		Meeting:  devopsbot.Meeting{Title: "Web Portal weekly sync", Start: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)},
		Insights: []devopsbot.Insight{{ID: "t1", Kind: devopsbot.KindTask, Text: "Add a timeout and circuit breaker around the address-validation client", Owner: "Adele Vance"}}})
	if err != nil {
		b.Fatal(err)
	}
	if err := a.store.SaveConnection(ctx, &devopsbot.Connection{User: devopsbot.UserKey{TenantID: tenant, AADObjectID: user},
		OrgURL: a.demo.Org.URL, OrgName: a.demo.Org.Name, DisplayName: "Adele Vance", UniqueName: "adele@contoso.com",
		AccessToken: "demo", RefreshToken: "demo", Expiry: time.Now().Add(time.Hour)}); err != nil {
		b.Fatal(err)
	}
	data, _ := json.Marshal(map[string]any{"data": map[string]any{"msteams": map[string]any{"type": "task/fetch"}, "sally": "create", "summaryId": sm.ID, "insightId": "t1"}, "context": map[string]any{"theme": "default"}})
	body, _ := json.Marshal(teams.Activity{
		Type: "invoke", Name: "task/fetch", ID: "act-1", ServiceURL: conn.URL, ChannelID: "msteams", Value: data,
		From:         teams.ChannelAccount{ID: "29:adele", Name: "Adele Vance", AADObjectID: user},
		Conversation: teams.ConversationAccount{ID: chat, ConversationType: "groupChat", TenantID: tenant},
		Recipient:    teams.ChannelAccount{ID: "28:bot", Name: "Sally"},
		ChannelData:  json.RawMessage(`{"tenant":{"id":"` + tenant + `"}}`),
	})
	f := &formOpenFixture{sally: srv.URL + "/api/messages", handler: a.handler, body: body, auth: "Bearer " + iss.Token(b, benchAppID, conn.URL, nil),
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}

	// The first open warms the keys and the metadata; its answer is the card the
	// baseline serves from memory.
	card := f.open(b, f.sally)
	if !strings.Contains(string(card), "create.submit") {
		b.Fatalf("the form did not open: %.300s", card)
	}
	before := a.store.CommandCount()
	f.open(b, f.sally)
	if n := a.store.CommandCount() - before; n != 1 {
		b.Fatalf("a warm form open made %d database calls, want 1", n)
	}
	base := httptest.NewServer(bareHandler(b, iss, card))
	b.Cleanup(base.Close)
	f.baseline = base.URL + "/api/messages"
	if got := f.open(b, f.baseline); !bytes.Equal(got, card) {
		b.Fatal("the baseline does not serve the same card")
	}
	return f
}

func (f *formOpenFixture) open(b testing.TB, target string) []byte {
	req, _ := http.NewRequest(http.MethodPost, target, bytes.NewReader(f.body))
	req.Header.Set("Authorization", f.auth)
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("%s answered %d: %.200s", target, resp.StatusCode, out)
	}
	return out
}

// run opens forms from clients concurrent clients and reports opens/s, p50,
// p99, allocations and CPU per open (and the database's, when db is not nil).
func (f *formOpenFixture) run(b *testing.B, target string, clients int, db *databaseProcess) formOpenResult {
	b.ReportAllocs()
	var mu sync.Mutex
	var lat []time.Duration
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	cpu0 := processCPU()
	var db0 time.Duration
	if db != nil {
		db0 = db.cpu()
	}
	start := time.Now()
	callgrindMark()
	if clients == 1 {
		var own []time.Duration
		for b.Loop() {
			t0 := time.Now()
			f.open(b, target)
			own = append(own, time.Since(t0))
		}
		lat = own
	} else {
		// RunParallel starts parallelism × GOMAXPROCS goroutines.
		b.SetParallelism((clients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
		b.RunParallel(func(pb *testing.PB) {
			var own []time.Duration
			for pb.Next() {
				t0 := time.Now()
				f.open(b, target)
				own = append(own, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, own...)
			mu.Unlock()
		})
	}
	callgrindMark()
	elapsed := time.Since(start)
	cpu := processCPU() - cpu0
	var dbCPU time.Duration
	if db != nil {
		dbCPU = db.cpu() - db0
	}
	runtime.ReadMemStats(&ms1)
	slices.Sort(lat)
	var r formOpenResult
	if n := float64(len(lat)); n > 0 {
		r = formOpenResult{opens: n / elapsed.Seconds(),
			p50: float64(lat[len(lat)/2].Microseconds()), p99: float64(lat[len(lat)*99/100].Microseconds()),
			cpu: float64(cpu.Microseconds()) / n, dbCPU: float64(dbCPU.Microseconds()) / n,
			allocs: float64(ms1.Mallocs-ms0.Mallocs) / n}
		b.ReportMetric(r.opens, "opens/s")
		b.ReportMetric(r.p50, "p50-µs")
		b.ReportMetric(r.p99, "p99-µs")
		b.ReportMetric(r.cpu, "cpu-µs/op")
		if db != nil {
			b.ReportMetric(r.dbCPU, "db-cpu-µs/op")
		}
	}
	return r
}

// callgrindMark marks the start and the end of a measured loop, where
// callgrind.sh has valgrind dump its counts (--dump-before=*callgrindMark).
//
//go:noinline
func callgrindMark() {}

// bareHandler is the least a Teams bot can do for this request: check the
// Bot Framework token (RS256, the issuer's published key, audience, expiry),
// read the activity, answer the card.
func bareHandler(b testing.TB, iss *teamstest.Issuer, card []byte) http.Handler {
	key := issuerKey(b, iss)
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithAudience(benchAppID),
		jwt.WithIssuer(teamstest.BotFrameworkIssuer), jwt.WithExpirationRequired())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if _, err := parser.Parse(tok, func(*jwt.Token) (any, error) { return key, nil }); err != nil {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		var act struct {
			Type, Name string
			Value      json.RawMessage
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&act); err != nil || act.Name != "task/fetch" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(card)
	})
}

// issuerKey fetches the issuer's signing key the way a bot does at start-up.
func issuerKey(b testing.TB, iss *teamstest.Issuer) *rsa.PublicKey {
	var meta struct {
		JWKS string `json:"jwks_uri"`
	}
	getJSON(b, iss.MetadataURL, &meta)
	var set struct {
		Keys []struct{ N, E string }
	}
	getJSON(b, meta.JWKS, &set)
	if len(set.Keys) == 0 {
		b.Fatal("the issuer has no key")
	}
	n, _ := base64.RawURLEncoding.DecodeString(set.Keys[0].N)
	e, _ := base64.RawURLEncoding.DecodeString(set.Keys[0].E)
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
}

func getJSON(b testing.TB, u string, v any) {
	resp, err := http.Get(u)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		b.Fatal(err)
	}
}
