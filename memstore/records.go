package memstore

import (
	"context"
	"slices"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
)

// GetPrefs returns the user's preferences; none saved is the zero Prefs.
func (s *Store) GetPrefs(_ context.Context, u devopsbot.UserKey) (*devopsbot.Prefs, error) {
	if err := devopsbot.CheckUser(u); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.prefs[u]
	return &p, nil
}

// GetPrefsCached is GetPrefs.
func (s *Store) GetPrefsCached(ctx context.Context, u devopsbot.UserKey) (*devopsbot.Prefs, error) {
	return s.GetPrefs(ctx, u)
}

// SavePrefs replaces the user's preferences, stamping UpdatedAt.
func (s *Store) SavePrefs(_ context.Context, u devopsbot.UserKey, p devopsbot.Prefs) error {
	if err := devopsbot.CheckUser(u); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p.UpdatedAt = s.clock()
	s.prefs[u] = p
	return nil
}

// AddAudit appends a record; Time defaults to now.
func (s *Store) AddAudit(_ context.Context, r devopsbot.AuditRecord) error {
	if err := devopsbot.CheckUser(r.User); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r.Time = millis(r.Time)
	if r.Time.IsZero() {
		r.Time = s.clock()
	}
	r = r.Bounded()
	s.audit = append(s.audit, auditEntry{r: r, expiresAt: r.Time.Add(s.auditRet)})
	return nil
}

// AuditOf returns the user's live audit records, newest first: for tests that
// check what was recorded.
func (s *Store) AuditOf(u devopsbot.UserKey) []devopsbot.AuditRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	var out []devopsbot.AuditRecord
	for _, e := range slices.Backward(s.audit) {
		if e.r.User == u && e.expiresAt.After(now) {
			out = append(out, e.r)
		}
	}
	return out
}

const maxWebhookBody = 64 << 10

func checkWebhookID(id string) error {
	if !lookupID(id) {
		return apperr.New(apperr.Invalid, "The webhook id is not valid.")
	}
	return nil
}

// RememberWebhook stores the first answer for a webhook id; while it is
// remembered, later calls get that answer back with first=false.
func (s *Store) RememberWebhook(_ context.Context, id string, status int, body []byte) (int, []byte, bool, error) {
	if err := checkWebhookID(id); err != nil {
		return 0, nil, false, err
	}
	if len(body) > maxWebhookBody {
		return 0, nil, false, apperr.New(apperr.Invalid, "The webhook answer is too large to remember.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	if old, ok := s.webhooks[id]; ok && old.expiresAt.After(now) {
		return old.status, slices.Clone(old.body), false, nil
	}
	if body == nil {
		body = []byte{}
	}
	s.webhooks[id] = webhookReply{status: status, body: slices.Clone(body), expiresAt: now.Add(devopsbot.WebhookRetention)}
	return status, slices.Clone(body), true, nil
}

// LookupWebhook returns the answer remembered for a webhook id, if any.
func (s *Store) LookupWebhook(_ context.Context, id string) (int, []byte, bool, error) {
	if err := checkWebhookID(id); err != nil {
		return 0, nil, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.webhooks[id]
	if !ok || !old.expiresAt.After(s.clock()) {
		return 0, nil, false, nil
	}
	return old.status, slices.Clone(old.body), true, nil
}

// FirstTime reports whether key is seen for the first time.
func (s *Store) FirstTime(_ context.Context, key string) (bool, error) {
	if err := devopsbot.CheckID("key", key); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.once[key] {
		return false, nil
	}
	s.once[key] = true
	return true, nil
}

// ForgetOnce lets key happen again.
func (s *Store) ForgetOnce(_ context.Context, key string) error {
	if err := devopsbot.CheckID("key", key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.once, key)
	return nil
}

// SetMeetingSummaries turns automatic meeting summaries on or off for a chat.
func (s *Store) SetMeetingSummaries(_ context.Context, conversationID string, on bool) error {
	if err := devopsbot.CheckConversationID(conversationID); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if on {
		delete(s.chatsOff, conversationID)
	} else {
		s.chatsOff[conversationID] = true
	}
	return nil
}

// MeetingSummariesOn reports the chat's setting: on unless turned off.
func (s *Store) MeetingSummariesOn(_ context.Context, conversationID string) (bool, error) {
	if devopsbot.CheckConversationID(conversationID) != nil {
		return false, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.chatsOff[conversationID], nil
}
