package memstore

import (
	"context"
	"slices"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
)

// ClaimAction reserves key for by. Of concurrent claims exactly one gets
// claimed=true; the others get the holder's link. A pending claim past its
// ClaimExpiresAt was abandoned and is taken over. The marker of an action is
// fixed by its first claim, across releases and takeovers.
func (s *Store) ClaimAction(_ context.Context, key devopsbot.ActionKey, by devopsbot.UserKey, byName, marker string, ttl time.Duration) (*devopsbot.InsightLink, bool, error) {
	if err := devopsbot.CheckAction(key); err != nil {
		return nil, false, err
	}
	if err := devopsbot.CheckUser(by); err != nil {
		return nil, false, err
	}
	if ttl <= 0 {
		ttl = devopsbot.ClaimTTL
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.markers[key]; ok {
		marker = m
	} else {
		s.markers[key] = marker
	}
	now := s.clock()
	if old, ok := s.links[key]; ok && (old.l.State != devopsbot.LinkPending || old.l.ClaimExpiresAt.After(now)) {
		l := old.l
		return &l, false, nil
	}
	l := devopsbot.InsightLink{Key: key, State: devopsbot.LinkPending, User: by, UserName: byName, Marker: marker,
		CreatedAt: now, ClaimExpiresAt: now.Add(ttl)}
	s.links[key] = link{l: l, seq: s.next()}
	return &l, true, nil
}

// CompleteAction records the result of a claimed action: Conflict when it is
// done already, NotFound when the claim is gone. It sets link.State and
// link.CompletedAt (default now).
func (s *Store) CompleteAction(_ context.Context, l *devopsbot.InsightLink) error {
	if l == nil {
		return apperr.New(apperr.Invalid, "No action to complete.")
	}
	if err := devopsbot.CheckAction(l.Key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.links[l.Key]
	if !ok {
		return notFound("That action")
	}
	if cur.l.State != devopsbot.LinkPending {
		return apperr.New(apperr.Conflict, "That was already done.")
	}
	l.State = devopsbot.LinkDone
	l.CompletedAt = millis(l.CompletedAt)
	if l.CompletedAt.IsZero() {
		l.CompletedAt = s.clock()
	}
	c := &cur.l
	c.State, c.OrgURL, c.Project, c.WorkItemID, c.WorkItemType = devopsbot.LinkDone, l.OrgURL, l.Project, l.WorkItemID, l.WorkItemType
	c.WorkItemTitle, c.WorkItemURL, c.CommentID, c.CompletedAt = l.WorkItemTitle, l.WorkItemURL, l.CommentID, l.CompletedAt
	s.links[l.Key] = cur
	return nil
}

// ReleaseAction drops a pending claim; a finished action stays.
func (s *Store) ReleaseAction(_ context.Context, key devopsbot.ActionKey) error {
	if err := devopsbot.CheckAction(key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.links[key]; ok && cur.l.State == devopsbot.LinkPending {
		delete(s.links, key)
	}
	return nil
}

// ListLinks returns a summary's links, oldest first.
func (s *Store) ListLinks(_ context.Context, summaryID string) ([]devopsbot.InsightLink, error) {
	return s.linksOf(summaryID, false), nil
}

// KnownDoneLinks returns the summary's finished links: memory knows them all.
func (s *Store) KnownDoneLinks(summaryID string) []devopsbot.InsightLink {
	return s.linksOf(summaryID, true)
}

func (s *Store) linksOf(summaryID string, doneOnly bool) []devopsbot.InsightLink {
	s.mu.Lock()
	defer s.mu.Unlock()
	var found []link
	for k, l := range s.links {
		if k.SummaryID == summaryID && (!doneOnly || l.l.State == devopsbot.LinkDone) {
			found = append(found, l)
		}
	}
	slices.SortFunc(found, func(a, b link) int {
		if c := a.l.CreatedAt.Compare(b.l.CreatedAt); c != 0 {
			return c
		}
		return int(a.seq - b.seq)
	})
	out := make([]devopsbot.InsightLink, len(found))
	for i, l := range found {
		out[i] = l.l
	}
	return out
}
