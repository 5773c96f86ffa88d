package memstore

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
)

// SetChatDefaults replaces a chat's form defaults; a zero Project clears them.
// The same names are refused as in store: too long, not UTF-8, or with
// line breaks or NUL.
func (s *Store) SetChatDefaults(_ context.Context, conversationID string, d devopsbot.ChatDefaults) error {
	if err := devopsbot.CheckConversationID(conversationID); err != nil {
		return err
	}
	for _, v := range []string{d.Project, d.AreaPath, d.IterationPath, d.WorkItemType, d.SetByName} {
		if len(v) > 4000 || !utf8.ValidString(v) || strings.ContainsAny(v, "\x00\r\n") {
			return apperr.New(apperr.Invalid, "Those defaults can't be saved: a name is too long or holds invalid characters.")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if d.Project == "" {
		delete(s.chatDefs, conversationID)
		return nil
	}
	d.UpdatedAt = s.now().UTC()
	s.chatDefs[conversationID] = d
	return nil
}

// GetChatDefaultsCached returns a chat's form defaults (a zero value when it
// has none). Nothing is cached here: memory is the store.
func (s *Store) GetChatDefaultsCached(_ context.Context, conversationID string) (*devopsbot.ChatDefaults, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.chatDefs[conversationID]
	return &d, nil
}
