package store

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
)

type connDoc struct {
	ID            string               `bson:"_id"`
	TenantID      string               `bson:"tenantId"`
	AADObjectID   string               `bson:"aadObjectId"`
	OrgURL        string               `bson:"orgUrl"`
	OrgName       string               `bson:"orgName"`
	EntraTenantID string               `bson:"entraTenantId"`
	DisplayName   string               `bson:"displayName"`
	UniqueName    string               `bson:"uniqueName"`
	IdentityID    string               `bson:"identityId"`
	AccessToken   sealed               `bson:"accessToken"`
	RefreshToken  sealed               `bson:"refreshToken"`
	Expiry        time.Time            `bson:"expiry"`
	Scopes        []string             `bson:"scopes"`
	Status        devopsbot.ConnStatus `bson:"status"`
	CreatedAt     time.Time            `bson:"createdAt"`
	UpdatedAt     time.Time            `bson:"updatedAt"`
}

// sealConn encrypts c's tokens bound to aadPrefix (the record they belong to).
func (s *Store) sealConn(c *devopsbot.Connection, id, aadPrefix string) (connDoc, error) {
	at, err := s.keys.seal(c.AccessToken, aadPrefix+"|access")
	if err != nil {
		return connDoc{}, err
	}
	rt, err := s.keys.seal(c.RefreshToken, aadPrefix+"|refresh")
	if err != nil {
		return connDoc{}, err
	}
	scopes := c.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	return connDoc{
		ID: id, TenantID: c.User.TenantID, AADObjectID: c.User.AADObjectID,
		OrgURL: c.OrgURL, OrgName: c.OrgName, EntraTenantID: c.EntraTenantID,
		DisplayName: c.DisplayName, UniqueName: c.UniqueName, IdentityID: c.IdentityID,
		AccessToken: at, RefreshToken: rt, Expiry: bsonTime(c.Expiry), Scopes: scopes,
		Status: c.Status, CreatedAt: bsonTime(c.CreatedAt), UpdatedAt: bsonTime(c.UpdatedAt),
	}, nil
}

func (s *Store) openConn(d *connDoc, aadPrefix string) (*devopsbot.Connection, error) {
	at, err := s.keys.open(d.AccessToken, aadPrefix+"|access")
	if err != nil {
		return nil, err
	}
	rt, err := s.keys.open(d.RefreshToken, aadPrefix+"|refresh")
	if err != nil {
		return nil, err
	}
	return &devopsbot.Connection{
		User:   devopsbot.UserKey{TenantID: d.TenantID, AADObjectID: d.AADObjectID},
		OrgURL: d.OrgURL, OrgName: d.OrgName, EntraTenantID: d.EntraTenantID,
		DisplayName: d.DisplayName, UniqueName: d.UniqueName, IdentityID: d.IdentityID,
		AccessToken: at, RefreshToken: rt, Expiry: d.Expiry.UTC(), Scopes: d.Scopes,
		Status: d.Status, CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(),
	}, nil
}

func connAAD(id string) string { return "connection|" + id }

// GetConnection returns the user's connection with its tokens decrypted.
func (s *Store) GetConnection(ctx context.Context, u devopsbot.UserKey) (*devopsbot.Connection, error) {
	if err := devopsbot.CheckUser(u); err != nil {
		return nil, err
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	var d connDoc
	err := s.c(collConnections).FindOne(ctx, bson.D{{Key: "_id", Value: userDocID(u)}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, errNotFound("Your Azure DevOps connection")
	}
	if err != nil {
		return nil, s.fail("get connection", err)
	}
	return s.openConn(&d, connAAD(d.ID))
}

// SaveConnection stores c as the user's only connection, replacing any other; the
// original CreatedAt survives a reconnect. c.CreatedAt and c.UpdatedAt are set to
// what was stored.
func (s *Store) SaveConnection(ctx context.Context, c *devopsbot.Connection) error {
	if c == nil {
		return apperr.New(apperr.Invalid, "No connection to save.")
	}
	if err := devopsbot.CheckUser(c.User); err != nil {
		return err
	}
	now := s.nowUTC()
	if c.Status == "" {
		c.Status = devopsbot.StatusActive
	}
	id := userDocID(c.User)
	d, err := s.sealConn(c, id, connAAD(id))
	if err != nil {
		return err
	}
	d.UpdatedAt = now
	set, err := toDocWithout(d, "_id", "createdAt")
	if err != nil {
		return s.fail("save connection", err)
	}
	update := bson.D{{Key: "$set", Value: set}, {Key: "$setOnInsert", Value: bson.D{{Key: "createdAt", Value: now}}}}
	if err := s.upsert(ctx, collConnections, id, update); err != nil {
		return s.fail("save connection", err)
	}
	// Read back the CreatedAt that won (ours on insert, the old one on update).
	rctx, cancel := s.op(ctx)
	defer cancel()
	var got struct {
		CreatedAt time.Time `bson:"createdAt"`
	}
	if err := s.c(collConnections).FindOne(rctx, bson.D{{Key: "_id", Value: id}},
		options.FindOne().SetProjection(bson.D{{Key: "createdAt", Value: 1}})).Decode(&got); err != nil {
		return s.fail("save connection", err)
	}
	c.CreatedAt, c.UpdatedAt = got.CreatedAt.UTC(), now
	return nil
}

// upsert runs an upsert by _id. Two concurrent upserts of a new _id can both try the
// insert; the loser gets a duplicate key error and, retried, becomes an update.
func (s *Store) upsert(ctx context.Context, coll, id string, update bson.D) error {
	var err error
	for range 3 {
		cctx, cancel := s.op(ctx)
		_, err = s.c(coll).UpdateOne(cctx, bson.D{{Key: "_id", Value: id}}, update, options.UpdateOne().SetUpsert(true))
		cancel()
		if !mongo.IsDuplicateKeyError(err) {
			return err
		}
	}
	return err
}

// toDocWithout marshals v and drops the named fields, for $set documents that must
// not touch _id or insert-only fields.
func toDocWithout(v any, drop ...string) (bson.D, error) {
	raw, err := bson.Marshal(v)
	if err != nil {
		return nil, err
	}
	var d bson.D
	if err := bson.Unmarshal(raw, &d); err != nil {
		return nil, err
	}
	out := d[:0]
next:
	for _, e := range d {
		for _, k := range drop {
			if e.Key == k {
				continue next
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// UpdateTokens stores refreshed tokens unless the stored ones expire later: when two
// replicas refresh at once, the newest token wins whichever writes last. It marks the
// connection active. On MongoDB the conditional update is atomic; on FerretDB v1 two
// exactly simultaneous writes may still both apply (updates are not atomic there).
func (s *Store) UpdateTokens(ctx context.Context, u devopsbot.UserKey, access, refresh string, expiry time.Time) error {
	if err := devopsbot.CheckUser(u); err != nil {
		return err
	}
	id := userDocID(u)
	at, err := s.keys.seal(access, connAAD(id)+"|access")
	if err != nil {
		return err
	}
	rt, err := s.keys.seal(refresh, connAAD(id)+"|refresh")
	if err != nil {
		return err
	}
	expiry = bsonTime(expiry)
	cctx, cancel := s.op(ctx)
	defer cancel()
	res, err := s.c(collConnections).UpdateOne(cctx,
		bson.D{{Key: "_id", Value: id}, {Key: "expiry", Value: bson.D{{Key: "$lt", Value: expiry}}}},
		bson.D{{Key: "$set", Value: bson.D{
			{Key: "accessToken", Value: at}, {Key: "refreshToken", Value: rt}, {Key: "expiry", Value: expiry},
			{Key: "status", Value: devopsbot.StatusActive}, {Key: "updatedAt", Value: s.nowUTC()},
		}}})
	if err != nil {
		return s.fail("update tokens", err)
	}
	if res.MatchedCount == 0 {
		return s.existsOr(ctx, collConnections, id, "Your Azure DevOps connection")
	}
	return nil
}

// existsOr returns nil when the document exists (a condition other than existence did
// not hold) and NotFound when it does not.
func (s *Store) existsOr(ctx context.Context, coll, id, what string) error {
	cctx, cancel := s.op(ctx)
	defer cancel()
	n, err := s.c(coll).CountDocuments(cctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return s.fail("count "+coll, err)
	}
	if n == 0 {
		return errNotFound(what)
	}
	return nil
}

// MarkNeedsReconnect records that the user's tokens were refused, so the bot asks
// them to connect again instead of failing every action.
func (s *Store) MarkNeedsReconnect(ctx context.Context, u devopsbot.UserKey) error {
	if err := devopsbot.CheckUser(u); err != nil {
		return err
	}
	cctx, cancel := s.op(ctx)
	defer cancel()
	res, err := s.c(collConnections).UpdateOne(cctx, bson.D{{Key: "_id", Value: userDocID(u)}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: devopsbot.StatusNeedsReconnect}, {Key: "updatedAt", Value: s.nowUTC()}}}})
	if err != nil {
		return s.fail("mark needs reconnect", err)
	}
	if res.MatchedCount == 0 {
		return errNotFound("Your Azure DevOps connection")
	}
	return nil
}

// DeleteConnection forgets the user's tokens (disconnect).
func (s *Store) DeleteConnection(ctx context.Context, u devopsbot.UserKey) (deleted bool, err error) {
	if err := devopsbot.CheckUser(u); err != nil {
		return false, err
	}
	cctx, cancel := s.op(ctx)
	defer cancel()
	res, err := s.c(collConnections).DeleteOne(cctx, bson.D{{Key: "_id", Value: userDocID(u)}})
	if err != nil {
		return false, s.fail("delete connection", err)
	}
	return res.DeletedCount == 1, nil
}
