package memstore

import (
	"context"
	"slices"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
)

func copyConn(c devopsbot.Connection) devopsbot.Connection {
	c.Scopes = slices.Clone(c.Scopes)
	c.Expiry, c.CreatedAt, c.UpdatedAt = millis(c.Expiry), millis(c.CreatedAt), millis(c.UpdatedAt)
	return c
}

// GetConnection returns the user's connection.
func (s *Store) GetConnection(_ context.Context, u devopsbot.UserKey) (*devopsbot.Connection, error) {
	if err := devopsbot.CheckUser(u); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.conns[u]
	if !ok {
		return nil, notFound("Your Azure DevOps connection")
	}
	c = copyConn(c)
	return &c, nil
}

// SaveConnection stores c, keeping when the user first connected; it fills
// c.Status (default active), c.CreatedAt and c.UpdatedAt.
func (s *Store) SaveConnection(_ context.Context, c *devopsbot.Connection) error {
	if c == nil {
		return apperr.New(apperr.Invalid, "No connection to save.")
	}
	if err := devopsbot.CheckUser(c.User); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	if c.Status == "" {
		c.Status = devopsbot.StatusActive
	}
	created := now
	if old, ok := s.conns[c.User]; ok {
		created = old.CreatedAt
	}
	c.CreatedAt, c.UpdatedAt = created, now
	s.conns[c.User] = copyConn(*c)
	return nil
}

// UpdateTokens replaces the tokens unless the stored ones expire later (a slower
// refresh finishing last must not win), and marks the connection active.
func (s *Store) UpdateTokens(_ context.Context, u devopsbot.UserKey, access, refresh string, expiry time.Time) error {
	if err := devopsbot.CheckUser(u); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.conns[u]
	if !ok {
		return notFound("Your Azure DevOps connection")
	}
	expiry = millis(expiry)
	if !c.Expiry.Before(expiry) {
		return nil
	}
	c.AccessToken, c.RefreshToken, c.Expiry = access, refresh, expiry
	c.Status, c.UpdatedAt = devopsbot.StatusActive, s.clock()
	s.conns[u] = c
	return nil
}

// MarkNeedsReconnect records that the user's tokens no longer work.
func (s *Store) MarkNeedsReconnect(_ context.Context, u devopsbot.UserKey) error {
	if err := devopsbot.CheckUser(u); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.conns[u]
	if !ok {
		return notFound("Your Azure DevOps connection")
	}
	c.Status, c.UpdatedAt = devopsbot.StatusNeedsReconnect, s.clock()
	s.conns[u] = c
	return nil
}

// DeleteConnection removes the user's connection; deleted says whether there was one.
func (s *Store) DeleteConnection(_ context.Context, u devopsbot.UserKey) (bool, error) {
	if err := devopsbot.CheckUser(u); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.conns[u]
	delete(s.conns, u)
	return ok, nil
}

func (s *Store) lifetime(created, expires time.Time) (time.Time, time.Time) {
	return devopsbot.SignInWindow(millis(created), millis(expires), s.clock())
}

// CreateOAuthState stores st, filling its ID, CreatedAt and ExpiresAt when empty.
func (s *Store) CreateOAuthState(_ context.Context, st *devopsbot.OAuthState) error {
	if st != nil && st.ID == "" {
		st.ID = randomID()
	}
	if err := devopsbot.CheckOAuthState(st); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.states[st.ID]; ok {
		return apperr.New(apperr.Conflict, "That sign-in state exists already.")
	}
	st.CreatedAt, st.ExpiresAt = s.lifetime(st.CreatedAt, st.ExpiresAt)
	s.states[st.ID] = *st
	return nil
}

// ConsumeOAuthState returns the state and removes it: it works once. An expired
// state is removed too, and refused with a message that says so.
func (s *Store) ConsumeOAuthState(_ context.Context, id string) (*devopsbot.OAuthState, error) {
	notFoundErr := apperr.New(apperr.NotFound, "This sign-in link is not valid or was already used.")
	if devopsbot.CheckID("sign-in state", id) != nil {
		return nil, notFoundErr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.states[id]
	if !ok {
		return nil, notFoundErr
	}
	delete(s.states, id)
	if !s.now().Before(st.ExpiresAt) {
		return nil, devopsbot.ErrSignInExpired
	}
	return &st, nil
}

// CreatePendingLogin stores p under its one-time code, filling ExpiresAt.
func (s *Store) CreatePendingLogin(_ context.Context, p *devopsbot.PendingLogin) error {
	if err := devopsbot.CheckPendingLogin(p); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.pending[p.Code]; ok {
		return apperr.New(apperr.Conflict, "That sign-in code exists already.")
	}
	_, p.ExpiresAt = s.lifetime(time.Time{}, p.ExpiresAt)
	cp := *p
	cp.Conn = copyConn(p.Conn)
	s.pending[p.Code] = cp
	return nil
}

// ConsumePendingLogin returns the pending sign-in of code and removes it.
func (s *Store) ConsumePendingLogin(_ context.Context, code string) (*devopsbot.PendingLogin, error) {
	notFoundErr := apperr.New(apperr.NotFound, "This sign-in code is not valid or was already used.")
	if code == "" || len(code) > devopsbot.MaxLoginCodeLen {
		return nil, notFoundErr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pending[code]
	if !ok {
		return nil, notFoundErr
	}
	delete(s.pending, code)
	if !s.now().Before(p.ExpiresAt) {
		return nil, devopsbot.ErrSignInExpired
	}
	p.Conn = copyConn(p.Conn)
	return &p, nil
}

// maxConnectedLookup bounds one ConnectedUsers call, as in package store.
const maxConnectedLookup = 1000

// ConnectedUsers says which of users have an active connection; malformed
// keys match nobody.
func (s *Store) ConnectedUsers(_ context.Context, users []devopsbot.UserKey) (map[devopsbot.UserKey]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[devopsbot.UserKey]bool{}
	looked := 0
	for _, u := range users {
		if devopsbot.CheckUser(u) != nil || out[u] {
			continue
		}
		if looked++; looked > maxConnectedLookup {
			break
		}
		if c, ok := s.conns[u]; ok && c.Status == devopsbot.StatusActive {
			out[u] = true
		}
	}
	return out, nil
}
