package memstore

import (
	"context"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
)

// SaveConversationRef stores or refreshes r (the latest wins) and stamps r.UpdatedAt.
func (s *Store) SaveConversationRef(_ context.Context, r *devopsbot.ConversationRef) error {
	if r == nil {
		return apperr.New(apperr.Invalid, "No conversation to save.")
	}
	if err := devopsbot.CheckConversationID(r.ConversationID); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r.UpdatedAt = s.clock()
	s.convs[r.ConversationID] = conversation{ref: *r, seq: s.next()}
	return nil
}

// GetConversationRef returns the stored reference of a conversation.
func (s *Store) GetConversationRef(_ context.Context, conversationID string) (*devopsbot.ConversationRef, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.convs[conversationID]
	if !ok {
		return nil, notFound("The conversation")
	}
	return &c.ref, nil
}

// FindPersonalConversationByUser returns the newest 1:1 chat with a user.
func (s *Store) FindPersonalConversationByUser(_ context.Context, aadObjectID string) (*devopsbot.ConversationRef, error) {
	if devopsbot.CheckID("user", aadObjectID) != nil {
		return nil, notFound("Your personal chat with the bot")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var best *conversation
	for _, c := range s.convs {
		if c.ref.ConversationType != "personal" || c.ref.UserAADObjectID != aadObjectID {
			continue
		}
		if best == nil || c.ref.UpdatedAt.After(best.ref.UpdatedAt) ||
			(c.ref.UpdatedAt.Equal(best.ref.UpdatedAt) && c.seq > best.seq) {
			cp := c
			best = &cp
		}
	}
	if best == nil {
		return nil, notFound("The conversation")
	}
	return &best.ref, nil
}

// PurgeConversation forgets a chat: its reference, its summaries with their
// links and deliveries, its meeting jobs and its settings. Once keys are the
// caller's to forget.
func (s *Store) PurgeConversation(_ context.Context, conversationID string) error {
	if err := devopsbot.CheckConversationID(conversationID); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id, sm := range s.summaries {
		if sm.ConversationID == conversationID {
			ids = append(ids, id)
		}
	}
	s.deleteSummaries(ids)
	for id, j := range s.meetingJobs {
		if j.v.ConversationID == conversationID {
			delete(s.meetingJobs, id)
		}
	}
	delete(s.chatsOff, conversationID)
	delete(s.chatDefs, conversationID)
	delete(s.convs, conversationID)
	return nil
}
