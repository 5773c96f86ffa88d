package memstore

import (
	"context"
	"slices"

	"github.com/sally-devops/devopsbot"
)

func copySummary(sm devopsbot.Summary) devopsbot.Summary {
	sm.Meeting.Participants = slices.Clone(sm.Meeting.Participants)
	sm.Meeting.Start, sm.Meeting.End = millis(sm.Meeting.Start), millis(sm.Meeting.End)
	sm.Insights = slices.Clone(sm.Insights)
	sm.Cards = slices.Clone(sm.Cards)
	for i := range sm.Cards {
		sm.Cards[i].InsightIDs = slices.Clone(sm.Cards[i].InsightIDs)
	}
	return sm
}

// InsertSummary stores sm once per (source id, chat) or (content key, chat); a
// repeat returns the live summary stored first with created=false.
func (s *Store) InsertSummary(_ context.Context, sm *devopsbot.Summary) (*devopsbot.Summary, bool, error) {
	id, err := devopsbot.StoredSummaryID(sm)
	if err != nil {
		return nil, false, err
	}
	if id == "" {
		id = randomID()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	if old, ok := s.summaries[id]; ok {
		if old.ExpiresAt.After(now) {
			cp := copySummary(old)
			return &cp, false, nil
		}
		s.deleteSummaries([]string{id}) // expired: a new delivery starts afresh
	}
	stored := copySummary(*sm)
	stored.ID = id
	stored.CreatedAt, stored.ExpiresAt = millis(sm.CreatedAt), millis(sm.ExpiresAt)
	if stored.CreatedAt.IsZero() {
		stored.CreatedAt = now
	}
	if stored.ExpiresAt.IsZero() {
		stored.ExpiresAt = stored.CreatedAt.Add(s.sumRet)
	}
	s.summaries[id] = stored
	out := copySummary(stored)
	return &out, true, nil
}

// GetSummary returns a live summary.
func (s *Store) GetSummary(_ context.Context, id string) (*devopsbot.Summary, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sm, ok := s.summaries[id]
	if !ok || !sm.ExpiresAt.After(s.clock()) {
		return nil, notFound("That summary")
	}
	cp := copySummary(sm)
	return &cp, nil
}

// GetSummaryCached is GetSummary: memory is as fast as a cache.
func (s *Store) GetSummaryCached(ctx context.Context, id string) (*devopsbot.Summary, error) {
	return s.GetSummary(ctx, id)
}

// FindSummaryByContent returns the newest live summary in a chat with content key key.
func (s *Store) FindSummaryByContent(_ context.Context, conversationID, key string) (*devopsbot.Summary, error) {
	if !lookupID(key) {
		return nil, notFound("That summary")
	}
	if err := devopsbot.CheckConversationID(conversationID); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	var best *devopsbot.Summary
	for _, sm := range s.summaries {
		if sm.ConversationID != conversationID || sm.ContentKey != key || !sm.ExpiresAt.After(now) {
			continue
		}
		if best == nil || sm.CreatedAt.After(best.CreatedAt) {
			cp := sm
			best = &cp
		}
	}
	if best == nil {
		return nil, notFound("That summary")
	}
	cp := copySummary(*best)
	return &cp, nil
}

// SetSummaryCards replaces the list of cards posted for a summary.
func (s *Store) SetSummaryCards(_ context.Context, id string, cards []devopsbot.PostedCard) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sm, ok := s.summaries[id]
	if !ok {
		return notFound("That summary")
	}
	sm.Cards = cards
	s.summaries[id] = copySummary(sm)
	return nil
}

// ReplaceSummaryContent replaces a summary's insights and content key.
func (s *Store) ReplaceSummaryContent(_ context.Context, id, contentKey string, insights []devopsbot.Insight) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sm, ok := s.summaries[id]
	if !ok {
		return notFound("That summary")
	}
	sm.Insights, sm.ContentKey = insights, contentKey
	s.summaries[id] = copySummary(sm)
	return nil
}

// deleteSummaries removes summaries with their links, markers and deliveries.
// The caller holds s.mu.
func (s *Store) deleteSummaries(ids []string) {
	for _, id := range ids {
		delete(s.summaries, id)
		delete(s.deliveries, id)
	}
	for k := range s.links {
		if slices.Contains(ids, k.SummaryID) {
			delete(s.links, k)
		}
	}
	for k := range s.markers {
		if slices.Contains(ids, k.SummaryID) {
			delete(s.markers, k)
		}
	}
}

// SummaryCount counts the summaries stored for a chat, expired ones included:
// for tests that check nothing was stored twice.
func (s *Store) SummaryCount(conversationID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, sm := range s.summaries {
		if sm.ConversationID == conversationID {
			n++
		}
	}
	return n
}
