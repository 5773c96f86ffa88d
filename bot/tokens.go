package bot

import (
	"context"
	"errors"
	"sync"

	"golang.org/x/oauth2"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
	"github.com/sally-devops/devopsbot/devops"
	"github.com/sally-devops/devopsbot/teams"
)

// errNotConnectedUser means the user has never connected (or disconnected).
var errNotConnectedUser = apperr.Wrap(apperr.Unauthorized, "Connect your Azure DevOps account first.", errNotConnected)

// clientFor returns an Azure DevOps client acting as the user, with tokens that
// refresh and persist themselves.
func (b *Bot) clientFor(ctx context.Context, u devopsbot.UserKey) (*devops.Client, *devopsbot.Connection, error) {
	conn, err := b.conns.GetConnection(ctx, u)
	if apperr.Is(err, apperr.NotFound) {
		return nil, nil, errNotConnectedUser
	}
	if err != nil {
		return nil, nil, err
	}
	if conn.Status == devopsbot.StatusNeedsReconnect {
		return nil, conn, devops.ErrNeedsReconnect
	}
	org := devops.Org{Name: conn.OrgName, URL: conn.OrgURL}
	var ts oauth2.TokenSource
	switch {
	case b.cfg.Demo != nil && conn.OrgURL == b.cfg.Demo.Org.URL:
		ts = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: b.cfg.Demo.Token, TokenType: "Bearer"})
	case b.cfg.OAuth == nil:
		return nil, conn, apperr.New(apperr.Unavailable, "Azure DevOps sign-in is not set up by your administrator.")
	default:
		ts = &persistingTokenSource{b: b, user: u, conn: conn}
	}
	return devops.NewClient(org, ts, b.cfg.DevOps), conn, nil
}

// persistingTokenSource is a user's Azure DevOps token source: it refreshes the
// access token, stores every rotated token, and on a refused refresh re-reads
// the connection before giving up (another replica may have refreshed and
// rotated the token a moment ago, and its token is newer); when even that is
// refused, it marks the connection as needing a new sign-in.
type persistingTokenSource struct {
	b    *Bot
	user devopsbot.UserKey
	conn *devopsbot.Connection

	mu    sync.Mutex
	inner oauth2.TokenSource
}

func (s *persistingTokenSource) source(ctx context.Context, c *devopsbot.Connection) oauth2.TokenSource {
	cfg := s.b.cfg.OAuth.Config(c.EntraTenantID)
	if s.b.cfg.DevOps.HTTPClient != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, s.b.cfg.DevOps.HTTPClient)
	}
	tok := &oauth2.Token{AccessToken: c.AccessToken, RefreshToken: c.RefreshToken, Expiry: c.Expiry, TokenType: "Bearer"}
	return devops.NewUserTokenSource(ctx, cfg, tok, func(nt *oauth2.Token) error {
		return s.b.conns.UpdateTokens(context.WithoutCancel(ctx), s.user, nt.AccessToken, nt.RefreshToken, nt.Expiry)
	})
}

func (s *persistingTokenSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// The refresh outlives the request that started it: a later call in the same
	// action may need it. devops bounds each refresh by itself (20 s).
	ctx := context.Background()
	if s.inner == nil {
		s.inner = s.source(ctx, s.conn)
	}
	tok, err := s.inner.Token()
	if err == nil {
		return tok, nil
	}
	if !errors.Is(err, devops.ErrNeedsReconnect) {
		return nil, err
	}
	fresh, gerr := s.b.conns.GetConnection(ctx, s.user)
	if gerr == nil && fresh.RefreshToken != s.conn.RefreshToken && fresh.Expiry.After(s.conn.Expiry) {
		s.conn = fresh
		s.inner = s.source(ctx, fresh)
		if tok, err = s.inner.Token(); err == nil {
			return tok, nil
		}
		if !errors.Is(err, devops.ErrNeedsReconnect) {
			return nil, err
		}
	}
	if merr := s.b.conns.MarkNeedsReconnect(ctx, s.user); merr != nil {
		teams.Logger(ctx).WarnContext(ctx, "could not mark a connection as needing reconnect", "err", merr)
	}
	return nil, devops.ErrNeedsReconnect
}

// needsSignIn reports whether err means the user must (re)connect.
func needsSignIn(err error) bool {
	return errors.Is(err, errNotConnected) || errors.Is(err, devops.ErrNeedsReconnect) || apperr.Is(err, apperr.Unauthorized)
}
