package devopsbot

import "time"

// ConnStatus says whether a connection's tokens are believed to work.
type ConnStatus string

const (
	StatusActive         ConnStatus = "active"
	StatusNeedsReconnect ConnStatus = "needs_reconnect"
)

// Connection is a user's link to one Azure DevOps organization, with their own
// delegated tokens: the bot acts as the user, never with a shared identity.
type Connection struct {
	User                                UserKey
	OrgURL, OrgName, EntraTenantID      string
	DisplayName, UniqueName, IdentityID string
	AccessToken, RefreshToken           string // plain in memory, encrypted at rest
	Expiry                              time.Time
	Scopes                              []string
	Status                              ConnStatus
	CreatedAt, UpdatedAt                time.Time
}

// OAuthState is what the connect flow remembers between sending the user to sign in
// and the callback: who asked, where to answer, and the PKCE verifier.
type OAuthState struct {
	ID                                   string // the OAuth state parameter; generated when empty
	User                                 UserKey
	UserName, ConversationID, ServiceURL string
	OrgURL, EntraTenantID                string
	CodeVerifier                         string // encrypted at rest
	Nonce                                string
	CreatedAt, ExpiresAt                 time.Time
}

// PendingLogin bridges the sign-in pop-up and the card: the callback stores the new
// connection under a one-time code that Teams hands back to the bot in the next
// invoke, so tokens never travel through Teams. Only a hash of the code is stored.
type PendingLogin struct {
	Code      string // stored only as its SHA-256 hash (the _id)
	User      UserKey
	Conn      Connection // tokens encrypted at rest
	ExpiresAt time.Time
}

// UserKey identifies a Teams user across replicas: their Entra tenant and object id.
type UserKey struct{ TenantID, AADObjectID string }
