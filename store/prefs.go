package store

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/sally-devops/devopsbot"
)

// Collection prefs: each user's last form choices (cached write-through, cache.go).

type prefsDoc struct {
	ID            string    `bson:"_id"`
	TenantID      string    `bson:"tenantId"`
	AADObjectID   string    `bson:"aadObjectId"`
	Project       string    `bson:"project"`
	WorkItemType  string    `bson:"workItemType"`
	AreaPath      string    `bson:"areaPath"`
	IterationPath string    `bson:"iterationPath"`
	UpdatedAt     time.Time `bson:"updatedAt"`
}

// GetPrefs returns the user's preferences; none saved yet is the zero Prefs.
func (s *Store) GetPrefs(ctx context.Context, u devopsbot.UserKey) (*devopsbot.Prefs, error) {
	if err := devopsbot.CheckUser(u); err != nil {
		return nil, err
	}
	cctx, cancel := s.op(ctx)
	defer cancel()
	var d prefsDoc
	err := s.c(collPrefs).FindOne(cctx, bson.D{{Key: "_id", Value: userDocID(u)}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		s.prefs.Put(userDocID(u), devopsbot.Prefs{}, s.nowUTC())
		return &devopsbot.Prefs{}, nil
	}
	if err != nil {
		return nil, s.fail("get prefs", err)
	}
	p := devopsbot.Prefs{Project: d.Project, WorkItemType: d.WorkItemType, AreaPath: d.AreaPath,
		IterationPath: d.IterationPath, UpdatedAt: d.UpdatedAt.UTC()}
	s.prefs.Put(userDocID(u), p, s.nowUTC())
	return &p, nil
}

// SavePrefs replaces the user's preferences.
func (s *Store) SavePrefs(ctx context.Context, u devopsbot.UserKey, p devopsbot.Prefs) error {
	if err := devopsbot.CheckUser(u); err != nil {
		return err
	}
	d := prefsDoc{ID: userDocID(u), TenantID: u.TenantID, AADObjectID: u.AADObjectID, Project: p.Project,
		WorkItemType: p.WorkItemType, AreaPath: p.AreaPath, IterationPath: p.IterationPath, UpdatedAt: s.nowUTC()}
	set, err := toDocWithout(d, "_id")
	if err != nil {
		return s.fail("save prefs", err)
	}
	if err := s.upsert(ctx, collPrefs, d.ID, bson.D{{Key: "$set", Value: set}}); err != nil {
		s.prefs.Delete(d.ID) // the write may or may not have landed
		return s.fail("save prefs", err)
	}
	s.prefs.Put(d.ID, devopsbot.Prefs{Project: d.Project, WorkItemType: d.WorkItemType, AreaPath: d.AreaPath,
		IterationPath: d.IterationPath, UpdatedAt: d.UpdatedAt}, s.nowUTC())
	return nil
}
