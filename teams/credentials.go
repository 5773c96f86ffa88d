package teams

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/sally-devops/devopsbot/apperr"
)

// CredentialsConfig configures the bot's own token for calling the connector.
type CredentialsConfig struct {
	ClientID     string
	ClientSecret string
	// TenantID is the bot's home tenant (single-tenant bots, the only kind Azure
	// creates since July 2025); "botframework.com" for legacy multi-tenant bots.
	TenantID      string
	AuthorityHost string       // default https://login.microsoftonline.com
	TokenURL      string       // overrides AuthorityHost and TenantID (tests)
	Scope         string       // default https://api.botframework.com/.default
	HTTPClient    *http.Client // default: a client with a 15s timeout
}

// tokenEarlyExpiry renews the token well before it expires, so that a message sent
// during a slow retry loop never carries a token that expires on the way.
const tokenEarlyExpiry = 5 * time.Minute

// NewBotTokenSource returns a client-credentials token source for the Bot Framework.
// The token is cached until 5 minutes before expiry and the source is safe for
// concurrent use; concurrent callers of an expired token wait for one fetch.
func NewBotTokenSource(cfg CredentialsConfig) oauth2.TokenSource {
	tokenURL := cfg.TokenURL
	if tokenURL == "" {
		host := cfg.AuthorityHost
		if host == "" {
			host = "https://login.microsoftonline.com"
		}
		if cfg.TenantID == "" {
			return errSource{apperr.New(apperr.Internal, "The bot's tenant id is not configured.")}
		}
		tokenURL = strings.TrimRight(host, "/") + "/" + cfg.TenantID + "/oauth2/v2.0/token"
	}
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return errSource{apperr.New(apperr.Internal, "The bot's client id or secret is not configured.")}
	}
	scope := cfg.Scope
	if scope == "" {
		scope = "https://api.botframework.com/.default"
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	cc := &clientcredentials.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		TokenURL:     tokenURL,
		Scopes:       []string{scope},
		// Entra ID takes the secret in the form; auto-detection would cost a failed
		// request first.
		AuthStyle: oauth2.AuthStyleInParams,
	}
	return oauth2.ReuseTokenSourceWithExpiry(nil, fetchSource{cc: cc, client: client}, tokenEarlyExpiry)
}

type errSource struct{ err error }

func (s errSource) Token() (*oauth2.Token, error) { return nil, s.err }

// fetchSource fetches a new token on every call; ReuseTokenSourceWithExpiry caches.
// (clientcredentials' own source caches with a 10s margin, which would defeat ours.)
type fetchSource struct {
	cc     *clientcredentials.Config
	client *http.Client
}

func (s fetchSource) Token() (*oauth2.Token, error) {
	ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), oauth2.HTTPClient, s.client), 20*time.Second)
	defer cancel()
	tok, err := s.cc.Token(ctx)
	if err != nil {
		// RetrieveError carries the endpoint's answer (no secrets), useful in logs.
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500 && re.Response.StatusCode != http.StatusTooManyRequests {
			return nil, apperr.Wrap(apperr.Internal, "The bot's credentials were refused.", err)
		}
		return nil, apperr.Wrap(apperr.Unavailable, "Could not get a token for the Bot Framework.", err)
	}
	return tok, nil
}
