// Package store keeps all of the bot's state in MongoDB, so any number of stateless
// replicas can share it. The same code runs against MongoDB (Atlas, replica sets,
// Cosmos DB) and FerretDB v1, which has no transactions, no TTL indexes and no atomic
// updates under concurrency; so every "exactly once" in this package is built from the
// two operations atomic on both: InsertOne with a unique _id, and DeleteOne whose
// DeletedCount is 1. Expiry never relies on TTL indexes: reads filter on expiresAt
// and Sweep deletes what has expired. Tokens and PKCE verifiers are encrypted with
// the Keyring before they are written.
package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
)

// Defaults for the zero values of Config (and the root's lifetimes).
const (
	DefaultOpTimeout = 5 * time.Second
	// staleClaimGrace keeps an abandoned pending claim (and its marker) around so a
	// later click can still take it over and look for the work item it may have made.
	staleClaimGrace = 24 * time.Hour
)

// Collection names.
const (
	collConnections   = "connections"
	collStates        = "oauth_states"
	collPending       = "pending_logins"
	collConversations = "conversations"
	collSummaries     = "summaries"
	collLinks         = "insight_links"
	collPrefs         = "prefs"
	collAudit         = "audit"
	collWebhooks      = "webhooks"
)

const unavailableMsg = "The database is unavailable right now"

// Config says where the database is and how to treat it. URI and Keys are required.
type Config struct {
	URI       string
	Database  string // default "devopsbot"
	Keys      *Keyring
	OpTimeout time.Duration // per call, default 5s
	// OutageTimeout is how long a call already waiting when the database is
	// found down may go on, and each probe's budget while it is down; default
	// DefaultOutageTimeout (capped at OpTimeout). New calls are refused at once.
	OutageTimeout time.Duration
	Logger        *slog.Logger
	// OnCommand, when set, hears every command sent to the database (its name
	// and collection, "" for none), for metrics. It must be quick: it runs on
	// the calling goroutine.
	OnCommand func(command, collection string)
	// CacheTTL is how long this process trusts what it caches (summaries, the
	// results already recorded for them, preferences) before it reads the
	// database again: a purge or an uninstall on another replica reaches this
	// one within it. Default DefaultCacheTTL, at most MaxCacheTTL; negative
	// turns caching off.
	CacheTTL time.Duration

	SummaryRetention time.Duration // default 90 days
	AuditRetention   time.Duration // default 365 days
	Now              func() time.Time
}

// Store is the bot's database. It is safe for concurrent use.
type Store struct {
	client   *mongo.Client
	db       *mongo.Database
	keys     *Keyring
	timeout  time.Duration
	outage   time.Duration // left to a waiting call once the database is found down
	health   *health
	log      *slog.Logger
	now      func() time.Time
	sumRet   time.Duration
	auditRet time.Duration
	ferret   bool
	commands *commandStats
	caches
}

// Open connects, proves the server answers, and creates the indexes (idempotent, so
// every replica may do it at start-up). An unreachable server fails within OpTimeout
// with an Unavailable error that names the hosts but never the password.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Keys == nil {
		return nil, apperr.New(apperr.Invalid, "The store needs a token encryption keyring.")
	}
	if strings.TrimSpace(cfg.URI) == "" {
		return nil, apperr.New(apperr.Invalid, "The database URI is empty.")
	}
	if cfg.Database == "" {
		cfg.Database = "devopsbot"
	}
	if cfg.OpTimeout <= 0 {
		cfg.OpTimeout = DefaultOpTimeout
	}
	if cfg.OutageTimeout <= 0 {
		cfg.OutageTimeout = DefaultOutageTimeout
	}
	cfg.OutageTimeout = min(cfg.OutageTimeout, cfg.OpTimeout)
	if cfg.SummaryRetention <= 0 {
		cfg.SummaryRetention = devopsbot.SummaryRetention
	}
	if cfg.AuditRetention <= 0 {
		cfg.AuditRetention = devopsbot.AuditRetention
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	where := describeURI(cfg.URI)
	h := newHealth(cfg.Logger, cfg.OutageTimeout)
	stats := &commandStats{observe: cfg.OnCommand}
	opts := options.Client().ApplyURI(cfg.URI).
		SetServerSelectionTimeout(cfg.OpTimeout).
		SetConnectTimeout(cfg.OpTimeout).
		SetServerMonitor(h.serverMonitor()).
		SetMonitor(commandMonitor(stats, h)).
		SetAppName("devopsbot")
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, apperr.Wrap(apperr.Invalid, "The database URI is not valid ("+where+").", redact(err, cfg.URI))
	}
	s := &Store{
		client: client, db: client.Database(cfg.Database), keys: cfg.Keys, timeout: cfg.OpTimeout,
		outage: cfg.OutageTimeout, health: h,
		log: cfg.Logger, now: cfg.Now, sumRet: cfg.SummaryRetention, auditRet: cfg.AuditRetention,
		commands: stats, caches: newCaches(cfg.CacheTTL),
	}
	h.setProbe(func(ctx context.Context) error { return client.Ping(ctx, readpref.Primary()) })
	fail := func(e error) (*Store, error) {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.OpTimeout)
		defer cancel()
		_ = client.Disconnect(cctx)
		return nil, e
	}
	pctx, cancel := s.op(ctx)
	err = client.Ping(pctx, readpref.Primary())
	cancel()
	if err != nil {
		return fail(apperr.Wrap(apperr.Unavailable, "Cannot reach the database at "+where+".", redact(err, cfg.URI)))
	}
	if err := s.detectServer(ctx); err != nil {
		return fail(s.fail("detect server", err))
	}
	if err := s.ensureIndexes(ctx); err != nil {
		return fail(err)
	}
	return s, nil
}

// Close disconnects; pending operations get ctx to finish.
func (s *Store) Close(ctx context.Context) error {
	s.health.stop()
	if err := s.client.Disconnect(ctx); err != nil && !errors.Is(err, mongo.ErrClientDisconnected) {
		return s.fail("close", err)
	}
	return nil
}

// Ping reports whether the database answers, for readiness probes.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	if err := s.client.Ping(ctx, readpref.Primary()); err != nil {
		return s.fail("ping", err)
	}
	return nil
}

// op bounds one database call: a slow database must not hold a Teams invoke or a
// webhook past its deadline, and a database known to be down must not hold them
// at all. While it is known down the call is refused at once (its context is
// already done, so every driver call fails before any I/O and fail names the
// outage); a call found waiting when the database goes down gets the outage
// budget from then on, not the rest of OpTimeout.
func (s *Store) op(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.health.isDown() {
		ctx, cancel := context.WithCancelCause(ctx)
		cancel(devopsbot.ErrStoreUnavailable)
		return ctx, func() {}
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	stop := context.AfterFunc(s.health.upContext(), func() { time.AfterFunc(s.outage, cancel) })
	return ctx, func() { stop(); cancel() }
}

func (s *Store) c(name string) *mongo.Collection { return s.db.Collection(name) }

// nowUTC is the clock truncated to what BSON dates hold, so values read back compare
// equal to what was written.
func (s *Store) nowUTC() time.Time { return bsonTime(s.now()) }

func bsonTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Millisecond)
}

// fail turns a driver error into an apperr: outages are Unavailable (retry later),
// anything else Internal. Causes keep the operation name for the logs.
func (s *Store) fail(op string, err error) error {
	if err == nil {
		return nil
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	if isUnavailable(err) {
		s.health.observe(err)
		return apperr.Wrap(apperr.Unavailable, unavailableMsg, fmt.Errorf("store %s: %w: %w", op, devopsbot.ErrStoreUnavailable, err))
	}
	cause := fmt.Errorf("store %s: %w", op, err)
	return apperr.Wrap(apperr.Internal, "", cause)
}

func isUnavailable(err error) bool {
	var sse topology.ServerSelectionError
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, mongo.ErrClientDisconnected) || mongo.IsTimeout(err) || mongo.IsNetworkError(err) ||
		errors.As(err, &sse)
}

// describeURI names the hosts of a MongoDB URI for error messages; never credentials.
func describeURI(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" {
		return "the configured MONGODB_URI"
	}
	return u.Host
}

// redact removes the URI's password from an error text, in case a driver error
// quotes the URI.
func redact(err error, uri string) error {
	msg := err.Error()
	if u, perr := url.Parse(uri); perr == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
			if esc := url.QueryEscape(pw); esc != pw {
				msg = strings.ReplaceAll(msg, esc, "xxxxx")
			}
			if esc := url.PathEscape(pw); esc != pw {
				msg = strings.ReplaceAll(msg, esc, "xxxxx")
			}
		}
	} else if perr != nil {
		// An unparsable URI may still carry a password; drop anything that quotes it.
		if strings.Contains(msg, uri) || strings.Contains(msg, "@") {
			msg = "the URI could not be parsed"
		}
	}
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}

// detectServer finds out whether this is FerretDB, which cannot build TTL indexes.
func (s *Store) detectServer(ctx context.Context) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	var info bson.M
	err := s.client.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info)
	if err != nil {
		if isUnavailable(err) {
			return err
		}
		// Some hosted servers restrict buildInfo; assume a real MongoDB then.
		s.log.Warn("store: buildInfo failed; assuming MongoDB", "err", err)
		return nil
	}
	_, s.ferret = info["ferretdbVersion"]
	return nil
}

type indexSpec struct {
	coll string
	keys bson.D
	ttl  bool // expire at the time in the (single) key field
}

var indexes = []indexSpec{
	{coll: collConversations, keys: bson.D{{Key: "tenantId", Value: 1}, {Key: "userAadObjectId", Value: 1}}},
	{coll: collSummaries, keys: bson.D{{Key: "conversationId", Value: 1}}},
	{coll: collSummaries, keys: bson.D{{Key: "expiresAt", Value: 1}}}, // no TTL: links must go with their summary (Sweep)
	{coll: collLinks, keys: bson.D{{Key: "summaryId", Value: 1}}},
	{coll: collDeliveries, keys: bson.D{{Key: "state", Value: 1}, {Key: "nextAttemptAt", Value: 1}}},
	{coll: collDeliveries, keys: bson.D{{Key: "sourceId", Value: 1}}},
	{coll: collDeliveries, keys: bson.D{{Key: "expiresAt", Value: 1}}, ttl: true},
	{coll: collLeases, keys: bson.D{{Key: "expiresAt", Value: 1}}, ttl: true},
	{coll: collAudit, keys: bson.D{{Key: "tenantId", Value: 1}, {Key: "aadObjectId", Value: 1}, {Key: "time", Value: -1}}},
	{coll: collAudit, keys: bson.D{{Key: "expiresAt", Value: 1}}, ttl: true},
	{coll: collStates, keys: bson.D{{Key: "expiresAt", Value: 1}}, ttl: true},
	{coll: collPending, keys: bson.D{{Key: "expiresAt", Value: 1}}, ttl: true},
	{coll: collWebhooks, keys: bson.D{{Key: "expiresAt", Value: 1}}, ttl: true},
}

// ensureIndexes creates what queries need. TTL indexes are a bonus where the server
// has them (Sweep does the same job everywhere), so their failure (FerretDB, Cosmos
// DB, which only expires on _ts) is logged, not fatal.
func (s *Store) ensureIndexes(ctx context.Context) error {
	for _, ix := range indexes {
		model := mongo.IndexModel{Keys: ix.keys}
		if ix.ttl {
			if s.ferret {
				continue // plain index is enough for FerretDB's table scans
			}
			model.Options = options.Index().SetExpireAfterSeconds(0)
		}
		cctx, cancel := s.op(ctx)
		_, err := s.c(ix.coll).Indexes().CreateOne(cctx, model)
		cancel()
		if err != nil {
			if ix.ttl && !isUnavailable(err) {
				s.log.Warn("store: TTL index not created; Sweep will expire documents", "collection", ix.coll, "err", err)
				continue
			}
			return s.fail("create index on "+ix.coll, err)
		}
	}
	return nil
}

// id is the user's _id; '|' is refused in both parts, so it is unambiguous.
func userDocID(u devopsbot.UserKey) string { return u.TenantID + "|" + u.AADObjectID }

const maxIDLen = devopsbot.MaxIDLen

// hashID derives a fixed-length _id from parts that may hold any text; the length
// prefixes keep ("ab","c") and ("a","bc") apart.
func hashID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// errNotFound is what every lookup returns when the record is missing or expired.
func errNotFound(what string) error {
	return apperr.New(apperr.NotFound, what+" was not found.")
}
