// Package memstore keeps the bot's state in memory: every interface of
// devopsbot's services.go, behind one mutex, for fast bot tests. It is not for
// production: nothing survives a restart, nothing is shared between processes
// (so replicas cannot use it), and tokens are held in plain text. It passes the
// same conformance suite as package store, so a bot test that passes on it
// relies only on rules every backend keeps.
//
// Everything is copied on the way in and on the way out, so a caller changing
// a value it passed or got back never changes what is stored, as with a real
// database. Expiry follows Config.Now, so tests move time instead of sleeping.
package memstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"sync"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
)

// Config tunes a Store; the zero value is usable.
type Config struct {
	Now              func() time.Time // default time.Now
	SummaryRetention time.Duration    // default devopsbot.SummaryRetention
	AuditRetention   time.Duration    // default devopsbot.AuditRetention
}

// Store is an in-memory backend. It is safe for concurrent use.
type Store struct {
	now      func() time.Time
	sumRet   time.Duration
	auditRet time.Duration

	mu          sync.Mutex
	seq         int64 // insertion order, for stable "oldest first" among equal times
	conns       map[devopsbot.UserKey]devopsbot.Connection
	states      map[string]devopsbot.OAuthState
	pending     map[string]devopsbot.PendingLogin // by code
	convs       map[string]conversation
	summaries   map[string]devopsbot.Summary
	links       map[devopsbot.ActionKey]link
	markers     map[devopsbot.ActionKey]string
	prefs       map[devopsbot.UserKey]devopsbot.Prefs
	audit       []auditEntry
	webhooks    map[string]webhookReply
	once        map[string]bool
	deliveries  map[string]record[devopsbot.Delivery]
	leases      map[string]lease
	meetingJobs map[string]record[devopsbot.MeetingJob]
	chatsOff    map[string]bool
	chatDefs    map[string]devopsbot.ChatDefaults // chatdefaults.go
}

type conversation struct {
	ref devopsbot.ConversationRef
	seq int64
}

type link struct {
	l   devopsbot.InsightLink
	seq int64
}

type auditEntry struct {
	r         devopsbot.AuditRecord
	expiresAt time.Time
}

type webhookReply struct {
	status    int
	body      []byte
	expiresAt time.Time
}

type record[T any] struct {
	v   T
	seq int64
}

type lease struct {
	id        string
	expiresAt time.Time
}

// New returns an empty store.
func New(cfg Config) *Store {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SummaryRetention <= 0 {
		cfg.SummaryRetention = devopsbot.SummaryRetention
	}
	if cfg.AuditRetention <= 0 {
		cfg.AuditRetention = devopsbot.AuditRetention
	}
	return &Store{
		now: cfg.Now, sumRet: cfg.SummaryRetention, auditRet: cfg.AuditRetention,
		conns: map[devopsbot.UserKey]devopsbot.Connection{}, states: map[string]devopsbot.OAuthState{},
		pending: map[string]devopsbot.PendingLogin{}, convs: map[string]conversation{},
		summaries: map[string]devopsbot.Summary{}, links: map[devopsbot.ActionKey]link{},
		markers: map[devopsbot.ActionKey]string{}, prefs: map[devopsbot.UserKey]devopsbot.Prefs{},
		webhooks: map[string]webhookReply{}, once: map[string]bool{},
		deliveries: map[string]record[devopsbot.Delivery]{}, leases: map[string]lease{},
		meetingJobs: map[string]record[devopsbot.MeetingJob]{}, chatsOff: map[string]bool{},
		chatDefs: map[string]devopsbot.ChatDefaults{},
	}
}

// clock is now as the database would store it: UTC, whole milliseconds, so
// that values read back compare equal with both backends.
func (s *Store) clock() time.Time { return millis(s.now()) }

func millis(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Millisecond)
}

func (s *Store) next() int64 { s.seq++; return s.seq }

const maxIDLen = devopsbot.MaxIDLen

// lookupID reports whether id can name a stored record at all.
func lookupID(id string) bool { return id != "" && len(id) <= maxIDLen }

func notFound(what string) error { return apperr.New(apperr.NotFound, what+" was not found.") }

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Ping always succeeds: memory is never unreachable.
func (s *Store) Ping(context.Context) error { return nil }

// sortBySeq orders records oldest first by creation time, then insertion.
func sortBySeq[T any](rs []record[T], created func(T) time.Time) {
	slices.SortFunc(rs, func(a, b record[T]) int {
		if c := created(a.v).Compare(created(b.v)); c != 0 {
			return c
		}
		return int(a.seq - b.seq)
	})
}

func limited[T any](rs []record[T], limit int) []T {
	if limit > 0 && len(rs) > limit {
		rs = rs[:limit]
	}
	out := make([]T, len(rs))
	for i, r := range rs {
		out[i] = r.v
	}
	return out
}
