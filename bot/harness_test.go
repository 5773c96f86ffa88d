package bot_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/bot"
	"github.com/sally-devops/devopsbot/cards"
	"github.com/sally-devops/devopsbot/cards/cardstest"
	"github.com/sally-devops/devopsbot/devops"
	"github.com/sally-devops/devopsbot/devops/devopstest"
	"github.com/sally-devops/devopsbot/memstore"
	"github.com/sally-devops/devopsbot/store"
	"github.com/sally-devops/devopsbot/store/storetest"
	"github.com/sally-devops/devopsbot/teams"
	"github.com/sally-devops/devopsbot/teams/teamstest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

const (
	tenantID   = "00000000-0000-0000-0000-000000000001"
	userAdele  = "00000000-0000-0000-0000-0000000000a1"
	userAlex   = "00000000-0000-0000-0000-0000000000a2"
	botID      = "28:bot"
	chatID     = "19:meeting_chat@thread.v2"
	webhookKey = "whsec_c2FsbHktdGVzdC13ZWJob29rLXNlY3JldC0zMmJ5dGVz"
)

// harness runs the bot behind its real HTTP handler with a backend (embedded
// FerretDB, or the in-memory fake), the fake Teams connector and the fake Azure
// DevOps organization.
type harness struct {
	t        *testing.T
	handler  http.Handler
	backend  backend
	store    bot.Store       // what the bot keeps its state in
	mongo    *store.Store    // the same, on FerretDB; nil on memstore
	mem      *memstore.Store // the same, in memory; nil on FerretDB
	storeCfg store.Config    // FerretDB only
	conn     *teamstest.Connector
	org      *devopstest.Org
	srv      *httptest.Server
	bot      *bot.Bot
	router   *teams.Router
	ts       atomic.Pointer[teams.Server] // replaced by settle
	cfg      bot.Config
	seq      atomic.Int64
}

type option func(*bot.Config)

func withDemo(h *harness) option {
	return func(c *bot.Config) {
		h.org.AddToken("demo-token", devopstest.Adele)
		c.Demo = &bot.Demo{Org: h.org.Org(), Token: "demo-token", Identity: devopstest.Adele}
	}
}

// backend is what a harness keeps the bot's state in.
type backend string

const (
	onFerretDB backend = "ferretdb" // package store on embedded FerretDB, as in production
	onMemory   backend = "memstore" // the in-memory fake: the same rules (package conformance), no database
)

// forEachBackend runs test once per backend, as subtests named after it: for
// the paths that must behave the same whatever keeps the state (intake,
// create), so a fast test on memstore stands for one on the database.
func forEachBackend(t *testing.T, test func(t *testing.T, b backend)) {
	for _, b := range []backend{onFerretDB, onMemory} {
		t.Run(string(b), func(t *testing.T) { test(t, b) })
	}
}

// newHarness is a harness on FerretDB.
func newHarness(t *testing.T, opts ...func(h *harness) option) *harness {
	t.Helper()
	return newHarnessOn(t, onFerretDB, opts...)
}

func newHarnessOn(t *testing.T, b backend, opts ...func(h *harness) option) *harness {
	t.Helper()
	h := &harness{t: t, backend: b}
	h.openStore()
	h.conn = teamstest.NewConnector(t)
	h.org = devopstest.NewOrg(t)
	// The server exists before the bot so that options can use its URL (redirect URI).
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.handler.ServeHTTP(w, r) }))
	key, err := bot.ParseWebhookSecret(webhookKey)
	if err != nil {
		t.Fatal(err)
	}
	h.cfg = bot.Config{
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		Store:         h.store,
		Connector:     teams.NewConnector(teams.ConnectorConfig{MaxBackoff: 10 * time.Millisecond}),
		PublicURL:     "http://127.0.0.1:1",
		DevOps:        devops.Options{Hosts: h.org.Hosts},
		Metadata:      devops.NewMetadataCache(time.Minute),
		WebhookSecret: key,
		MissingOAuth:  []string{"DEVOPS_CLIENT_ID"},
		ActionBudget:  5 * time.Second,
		Forms:         "dialog", // as in Teams; the fake connector's loopback URL would pick in-card forms
	}
	if os.Getenv("BOT_TEST_LOG") != "" {
		h.cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	for _, o := range opts {
		o(h)(&h.cfg)
	}
	h.start()
	return h
}

// openStore gives the harness a fresh, empty backend.
func (h *harness) openStore() {
	switch h.backend {
	case onMemory:
		h.mem = memstore.New(memstore.Config{})
		h.store = h.mem
	default:
		h.storeCfg = storetest.Config(h.t)
		h.mongo = storetest.Open(h.t, h.storeCfg)
		h.store = h.mongo
	}
}

func (h *harness) start() {
	h.bot = bot.New(h.cfg)
	h.router = teams.NewRouter()
	h.bot.Register(h.router)
	h.ts.Store(teams.NewServer(teams.ServerConfig{Router: h.router, Logger: h.cfg.Logger}))
	mux := http.NewServeMux()
	mux.Handle("/api/messages", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ts.Load().ServeHTTP(w, r) }))
	for p, hd := range h.bot.Routes() {
		mux.Handle(p, hd)
	}
	h.handler = mux
	h.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = h.ts.Load().Shutdown(ctx)
		h.srv.Close()
	})
}

// settle returns once the handlers of every activity posted so far have
// finished: messages and updates are handled after their answer, and a test
// that checks something did not happen must not guess how long to wait.
// teams.Server.Shutdown waits for them; later activities go to a new server
// on the same router.
func (h *harness) settle() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	old := h.ts.Swap(teams.NewServer(teams.ServerConfig{Router: h.router, Logger: h.cfg.Logger}))
	if err := old.Shutdown(ctx); err != nil {
		h.t.Fatalf("background handlers still running after 10 s: %v", err)
	}
}

// activity builds an activity from a user in a conversation, as Teams sends it.
func (h *harness) activity(typ, user, conv string) *teams.Activity {
	name := map[string]string{userAdele: "Adele Vance", userAlex: "Alex Wilber"}[user]
	ctype := "groupChat"
	if strings.HasPrefix(conv, "a:") {
		ctype = "personal"
	}
	return &teams.Activity{
		Type: typ, ID: fmt.Sprintf("act-%d", h.seq.Add(1)), ServiceURL: h.conn.URL, ChannelID: "msteams",
		From:         teams.ChannelAccount{ID: "29:" + user, Name: name, AADObjectID: user},
		Conversation: teams.ConversationAccount{ID: conv, ConversationType: ctype, TenantID: tenantID},
		Recipient:    teams.ChannelAccount{ID: botID, Name: "Sally"},
		ChannelData:  json.RawMessage(`{"tenant":{"id":"` + tenantID + `"}}`),
	}
}

func (h *harness) post(a *teams.Activity) (int, []byte) {
	h.t.Helper()
	body, _ := json.Marshal(a)
	resp, err := http.Post(h.srv.URL+"/api/messages", "application/json", bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// say sends a chat message and returns what the bot sent back (waits for n more).
func (h *harness) say(user, conv, text string) []teamstest.Sent {
	h.t.Helper()
	before := len(h.conn.Sent())
	a := h.activity("message", user, conv)
	a.Text = text
	if code, _ := h.post(a); code != http.StatusOK {
		h.t.Fatalf("message answered %d", code)
	}
	all := h.conn.WaitSent(h.t, before+1, 10*time.Second)
	return all[before:]
}

// invoke sends an invoke and decodes the HTTP response body.
func (h *harness) invoke(user, conv, name string, value any) map[string]any {
	h.t.Helper()
	a := h.activity("invoke", user, conv)
	a.Name = name
	raw, _ := json.Marshal(value)
	a.Value = raw
	code, body := h.post(a)
	if code != http.StatusOK {
		h.t.Fatalf("invoke %s answered %d: %s", name, code, body)
	}
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		h.t.Fatalf("invoke %s: body is not JSON: %s", name, body)
	}
	return out
}

// taskFetch opens a dialog as Teams does for an Action.Submit with msteams task/fetch.
func (h *harness) taskFetch(user, conv string, data map[string]any) map[string]any {
	return h.invoke(user, conv, "task/fetch", map[string]any{"data": data, "context": map[string]any{"theme": "default"}})
}

func (h *harness) taskSubmit(user, conv string, data map[string]any) map[string]any {
	return h.invoke(user, conv, "task/submit", map[string]any{"data": data, "context": map[string]any{"theme": "default"}})
}

// dialogCard returns the card of a task "continue" response, failing otherwise.
func dialogCard(t *testing.T, resp map[string]any) cards.Card {
	t.Helper()
	task, _ := resp["task"].(map[string]any)
	if task == nil || task["type"] != "continue" {
		t.Fatalf("expected a dialog card, got %s", js(resp))
	}
	v := task["value"].(map[string]any)
	att := v["card"].(map[string]any)
	return cards.Card(att["content"].(map[string]any))
}

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

// cardOf returns the single adaptive card of a sent activity.
func cardOf(t *testing.T, s teamstest.Sent) string {
	t.Helper()
	if len(s.Activity.Attachments) != 1 {
		t.Fatalf("expected one card, got %s", js(s.Activity))
	}
	return js(s.Activity.Attachments[0].Content)
}

// install records the bot in the chat (as Teams does on install).
func (h *harness) install(conv string) {
	h.t.Helper()
	before := len(h.conn.Sent())
	a := h.activity("installationUpdate", userAdele, conv)
	a.Action = "add"
	h.post(a)
	h.conn.WaitSent(h.t, before+1, 10*time.Second)
}

// deliver posts a signed summary to the webhook.
func (h *harness) deliver(id string, body []byte, query string) (*http.Response, map[string]any) {
	h.t.Helper()
	req := h.signed(id, time.Now(), body)
	req.URL.RawQuery = query
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		h.t.Fatalf("summary answer is not JSON (%d): %s", resp.StatusCode, raw)
	}
	return resp, out
}

func (h *harness) signed(id string, at time.Time, body []byte) *http.Request {
	key, _ := bot.ParseWebhookSecret(webhookKey)
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	sig := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/api/summaries", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", ts)
	req.Header.Set("webhook-signature", "v1,bm90LXRoaXMtb25l "+sig)
	return req
}

func summaryJSON(id, conv string) []byte {
	return []byte(`{"id":"` + id + `","meeting":{"title":"Web Portal weekly sync","start":"2026-11-24T09:00:00Z","joinUrl":"https://teams.microsoft.com/l/meetup-join/x"},
"deliverTo":{"conversationId":"` + conv + `"},
"insights":[
 {"id":"d1","kind":"decision","text":"Roll back address validation to the synchronous v1 endpoint."},
 {"id":"t1","kind":"task","text":"Add a timeout and circuit breaker around the address-validation client","owner":"Adele Vance","due":"2026-11-28"},
 {"id":"t2","kind":"task","text":"<script>alert('x')</script> must stay text"}]}`)
}

// execute sends an Action.Execute invoke (Universal Actions) and returns the card
// that replaces the one clicked.
func (h *harness) execute(user, conv string, action map[string]any) cards.Card {
	h.t.Helper()
	resp := h.invoke(user, conv, "adaptiveCard/action", map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": action["verb"], "data": action["data"]}, "trigger": "manual"})
	if resp["statusCode"] != float64(200) || resp["type"] != "application/vnd.microsoft.card.adaptive" {
		h.t.Fatalf("Action.Execute answer: %.400s", js(resp))
	}
	return cards.Card(resp["value"].(map[string]any))
}

func cardsFind(c cards.Card, verb string) (map[string]any, bool) {
	return cardstest.FindAction(c, verb)
}

// replica starts a second bot process on the same database (its own store
// client, server and metadata cache), as a second replica behind a load
// balancer. On memstore both share the one in-memory store.
func (h *harness) replica() *harness {
	r := &harness{t: h.t, conn: h.conn, org: h.org, backend: h.backend, storeCfg: h.storeCfg, mem: h.mem, store: h.mem}
	if h.backend == onFerretDB {
		r.mongo = storetest.Open(h.t, h.storeCfg)
		r.store = r.mongo
	}
	r.cfg = h.cfg
	r.cfg.Store = r.store
	r.cfg.Metadata = devops.NewMetadataCache(time.Minute)
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { r.handler.ServeHTTP(w, req) }))
	r.start()
	return r
}

// auditOf returns a user's audit records, newest first, from either backend.
func (h *harness) auditOf(user string) []devopsbot.AuditRecord {
	h.t.Helper()
	u := devopsbot.UserKey{TenantID: tenantID, AADObjectID: user}
	if h.mem != nil {
		return h.mem.AuditOf(u)
	}
	return storetest.AuditRecords(h.t, h.storeCfg, u)
}
