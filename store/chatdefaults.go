package store

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// A chat's form defaults live in its chat settings document (collChatSettings),
// so that PurgeConversation, which deletes that document, forgets them too.

type chatDefaultsDoc struct {
	Project       string    `bson:"project"`
	AreaPath      string    `bson:"areaPath,omitempty"`
	IterationPath string    `bson:"iterationPath,omitempty"`
	WorkItemType  string    `bson:"workItemType,omitempty"`
	SetByTenant   string    `bson:"setByTenant,omitempty"`
	SetByUser     string    `bson:"setByUser,omitempty"`
	SetByName     string    `bson:"setByName,omitempty"`
	UpdatedAt     time.Time `bson:"updatedAt"`
}

// maxDefaultLen bounds each stored name: Azure DevOps paths are at most 4000
// characters, far more than any real one.
const maxDefaultLen = 4000

func checkDefaults(d devopsbot.ChatDefaults) error {
	for _, v := range []string{d.Project, d.AreaPath, d.IterationPath, d.WorkItemType, d.SetByName} {
		if len(v) > maxDefaultLen || !utf8.ValidString(v) || strings.ContainsAny(v, "\x00\r\n") {
			return apperr.New(apperr.Invalid, "Those defaults can't be saved: a name is too long or holds invalid characters.")
		}
	}
	return nil
}

// SetChatDefaults replaces a chat's form defaults; a zero Project clears them.
// Only the formDefaults field changes: the chat's other settings stay.
func (s *Store) SetChatDefaults(ctx context.Context, conversationID string, d devopsbot.ChatDefaults) error {
	if err := devopsbot.CheckConversationID(conversationID); err != nil {
		return err
	}
	if err := checkDefaults(d); err != nil {
		return err
	}
	cctx, cancel := s.op(ctx)
	defer cancel()
	now := s.nowUTC()
	var update bson.D
	if d.Project == "" {
		update = bson.D{{Key: "$unset", Value: bson.D{{Key: "formDefaults", Value: ""}}}, {Key: "$set", Value: bson.D{{Key: "updatedAt", Value: now}}}}
		d = devopsbot.ChatDefaults{}
	} else {
		doc := chatDefaultsDoc{Project: d.Project, AreaPath: d.AreaPath, IterationPath: d.IterationPath, WorkItemType: d.WorkItemType,
			SetByTenant: d.SetBy.TenantID, SetByUser: d.SetBy.AADObjectID, SetByName: d.SetByName, UpdatedAt: now}
		update = bson.D{{Key: "$set", Value: bson.D{{Key: "formDefaults", Value: doc}, {Key: "updatedAt", Value: now}}}}
		d.UpdatedAt = now
	}
	_, err := s.c(collChatSettings).UpdateOne(cctx, bson.D{{Key: "_id", Value: conversationID}}, update, options.UpdateOne().SetUpsert(true))
	if err != nil {
		s.chatDefs.Delete(conversationID)
		return s.fail("save chat defaults", err)
	}
	s.chatDefs.Put(conversationID, d, now)
	return nil
}

// GetChatDefaultsCached returns a chat's form defaults, from this process's
// write-through cache when it is less than CacheTTL old: they only pre-fill
// forms, and every form open would otherwise cost a round trip.
func (s *Store) GetChatDefaultsCached(ctx context.Context, conversationID string) (*devopsbot.ChatDefaults, error) {
	if devopsbot.CheckConversationID(conversationID) != nil {
		return &devopsbot.ChatDefaults{}, nil
	}
	now := s.nowUTC()
	if d, ok := s.chatDefs.Get(conversationID, now); ok {
		return &d, nil
	}
	cctx, cancel := s.op(ctx)
	defer cancel()
	var doc chatSettingsDoc
	err := s.c(collChatSettings).FindOne(cctx, bson.D{{Key: "_id", Value: conversationID}}).Decode(&doc)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return nil, s.fail("get chat defaults", err)
	}
	d := devopsbot.ChatDefaults{}
	if f := doc.FormDefaults; f != nil {
		d = devopsbot.ChatDefaults{Project: f.Project, AreaPath: f.AreaPath, IterationPath: f.IterationPath, WorkItemType: f.WorkItemType,
			SetBy: devopsbot.UserKey{TenantID: f.SetByTenant, AADObjectID: f.SetByUser}, SetByName: f.SetByName, UpdatedAt: utcOrZero(f.UpdatedAt)}
	}
	s.chatDefs.Put(conversationID, d, now)
	return &d, nil
}
