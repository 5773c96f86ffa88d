package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
)

type stateDoc struct {
	ID             string    `bson:"_id"`
	TenantID       string    `bson:"tenantId"`
	AADObjectID    string    `bson:"aadObjectId"`
	UserName       string    `bson:"userName"`
	ConversationID string    `bson:"conversationId"`
	ServiceURL     string    `bson:"serviceUrl"`
	OrgURL         string    `bson:"orgUrl"`
	EntraTenantID  string    `bson:"entraTenantId"`
	CodeVerifier   sealed    `bson:"codeVerifier"`
	Nonce          string    `bson:"nonce"`
	CreatedAt      time.Time `bson:"createdAt"`
	ExpiresAt      time.Time `bson:"expiresAt"`
}

func stateAAD(id string) string { return "oauth_state|" + id }

// CreateOAuthState stores st; st.ID, CreatedAt and ExpiresAt are filled in when zero.
func (s *Store) CreateOAuthState(ctx context.Context, st *devopsbot.OAuthState) error {
	if st != nil && st.ID == "" {
		st.ID = randomID()
	}
	if err := devopsbot.CheckOAuthState(st); err != nil {
		return err
	}
	st.CreatedAt, st.ExpiresAt = s.lifetime(st.CreatedAt, st.ExpiresAt)
	cv, err := s.keys.seal(st.CodeVerifier, stateAAD(st.ID))
	if err != nil {
		return err
	}
	d := stateDoc{
		ID: st.ID, TenantID: st.User.TenantID, AADObjectID: st.User.AADObjectID, UserName: st.UserName,
		ConversationID: st.ConversationID, ServiceURL: st.ServiceURL, OrgURL: st.OrgURL,
		EntraTenantID: st.EntraTenantID, CodeVerifier: cv, Nonce: st.Nonce,
		CreatedAt: st.CreatedAt, ExpiresAt: st.ExpiresAt,
	}
	cctx, cancel := s.op(ctx)
	defer cancel()
	if _, err := s.c(collStates).InsertOne(cctx, d); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return apperr.New(apperr.Conflict, "That sign-in state exists already.")
		}
		return s.fail("create oauth state", err)
	}
	return nil
}

func (s *Store) lifetime(created, expires time.Time) (time.Time, time.Time) {
	return devopsbot.SignInWindow(bsonTime(created), bsonTime(expires), s.nowUTC())
}

// ConsumeOAuthState returns the state and deletes it, exactly once across all
// replicas: of any number of concurrent callers only the one whose DeleteOne removed
// the document gets it; the others get NotFound. An expired state is deleted and
// refused as Invalid.
func (s *Store) ConsumeOAuthState(ctx context.Context, id string) (*devopsbot.OAuthState, error) {
	if err := devopsbot.CheckID("sign-in state", id); err != nil {
		return nil, apperr.New(apperr.NotFound, "This sign-in link is not valid or was already used.")
	}
	var d stateDoc
	if err := s.consume(ctx, collStates, id, &d); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return nil, apperr.New(apperr.NotFound, "This sign-in link is not valid or was already used.")
		}
		return nil, err
	}
	if !s.now().Before(d.ExpiresAt) {
		return nil, devopsbot.ErrSignInExpired
	}
	cv, err := s.keys.open(d.CodeVerifier, stateAAD(d.ID))
	if err != nil {
		return nil, err
	}
	return &devopsbot.OAuthState{
		ID: d.ID, User: devopsbot.UserKey{TenantID: d.TenantID, AADObjectID: d.AADObjectID}, UserName: d.UserName,
		ConversationID: d.ConversationID, ServiceURL: d.ServiceURL, OrgURL: d.OrgURL,
		EntraTenantID: d.EntraTenantID, CodeVerifier: cv, Nonce: d.Nonce,
		CreatedAt: d.CreatedAt.UTC(), ExpiresAt: d.ExpiresAt.UTC(),
	}, nil
}

// consume reads the document and then deletes it; only a DeleteOne that removed it
// (count 1) makes this caller the consumer. FindOneAndDelete would be shorter, but
// FerretDB v1 lets two concurrent callers both "win" it.
func (s *Store) consume(ctx context.Context, coll, id string, into any) error {
	filter := bson.D{{Key: "_id", Value: id}}
	cctx, cancel := s.op(ctx)
	err := s.c(coll).FindOne(cctx, filter).Decode(into)
	cancel()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return errNotFound("That")
	}
	if err != nil {
		return s.fail("read "+coll, err)
	}
	cctx, cancel = s.op(ctx)
	res, err := s.c(coll).DeleteOne(cctx, filter)
	cancel()
	if err != nil {
		return s.fail("consume "+coll, err)
	}
	if res.DeletedCount != 1 {
		return errNotFound("That")
	}
	return nil
}

type pendingDoc struct {
	ID          string    `bson:"_id"`
	TenantID    string    `bson:"tenantId"`
	AADObjectID string    `bson:"aadObjectId"`
	Conn        connDoc   `bson:"conn"`
	CreatedAt   time.Time `bson:"createdAt"`
	ExpiresAt   time.Time `bson:"expiresAt"`
}

func codeHash(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}

func pendingAAD(hash string) string { return "pending_login|" + hash }

// CreatePendingLogin stores p under the hash of p.Code; ExpiresAt defaults to 10 minutes.
func (s *Store) CreatePendingLogin(ctx context.Context, p *devopsbot.PendingLogin) error {
	if err := devopsbot.CheckPendingLogin(p); err != nil {
		return err
	}
	created, expires := s.lifetime(time.Time{}, p.ExpiresAt)
	p.ExpiresAt = expires
	hash := codeHash(p.Code)
	cd, err := s.sealConn(&p.Conn, "", pendingAAD(hash))
	if err != nil {
		return err
	}
	d := pendingDoc{ID: hash, TenantID: p.User.TenantID, AADObjectID: p.User.AADObjectID, Conn: cd,
		CreatedAt: created, ExpiresAt: expires}
	cctx, cancel := s.op(ctx)
	defer cancel()
	if _, err := s.c(collPending).InsertOne(cctx, d); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return apperr.New(apperr.Conflict, "That sign-in code exists already.")
		}
		return s.fail("create pending login", err)
	}
	return nil
}

// ConsumePendingLogin returns the pending login for code and deletes it, exactly
// once (see ConsumeOAuthState). The caller must still check that p.User is the user
// who sent the code.
func (s *Store) ConsumePendingLogin(ctx context.Context, code string) (*devopsbot.PendingLogin, error) {
	notFound := apperr.New(apperr.NotFound, "This sign-in code is not valid or was already used.")
	if code == "" || len(code) > devopsbot.MaxLoginCodeLen {
		return nil, notFound
	}
	hash := codeHash(code)
	var d pendingDoc
	if err := s.consume(ctx, collPending, hash, &d); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return nil, notFound
		}
		return nil, err
	}
	if !s.now().Before(d.ExpiresAt) {
		return nil, devopsbot.ErrSignInExpired
	}
	c, err := s.openConn(&d.Conn, pendingAAD(hash))
	if err != nil {
		return nil, err
	}
	return &devopsbot.PendingLogin{Code: code, User: devopsbot.UserKey{TenantID: d.TenantID, AADObjectID: d.AADObjectID},
		Conn: *c, ExpiresAt: d.ExpiresAt.UTC()}, nil
}
