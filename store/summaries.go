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

// Collection summaries: summaries as delivered to chats; their links go with them.

type summaryDoc struct {
	ID             string          `bson:"_id"`
	SourceID       string          `bson:"sourceId"`
	ContentKey     string          `bson:"contentKey,omitempty"`
	ConversationID string          `bson:"conversationId"`
	Meeting        meetingDoc      `bson:"meeting"`
	Insights       []insightDoc    `bson:"insights"`
	Cards          []postedCardDoc `bson:"cards"`
	PostedBy       string          `bson:"postedBy"`
	CreatedAt      time.Time       `bson:"createdAt"`
	ExpiresAt      time.Time       `bson:"expiresAt"`
}

func (d *summaryDoc) summary() *devopsbot.Summary {
	m := devopsbot.Meeting(d.Meeting)
	m.Start, m.End = utcOrZero(m.Start), utcOrZero(m.End)
	return &devopsbot.Summary{ID: d.ID, SourceID: d.SourceID, ContentKey: d.ContentKey, ConversationID: d.ConversationID, Meeting: m,
		Insights: insightsOf(d.Insights), Cards: postedCardsOf(d.Cards), PostedBy: d.PostedBy, CreatedAt: d.CreatedAt.UTC(), ExpiresAt: d.ExpiresAt.UTC()}
}

func utcOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// InsertSummary stores sm once. A sender that retries (same SourceID, same chat) gets
// the first stored summary back with created=false, even when both deliveries race:
// the _id is derived from the two ids and only one insert can win. A summary without
// a SourceID but with a ContentKey (a paste) is stored once per content and chat the
// same way (devopsbot.ContentSummaryID), so a re-paste finds the first one and its links; a
// plain insert is the only write, because FerretDB v1 has no atomic
// read-modify-write under concurrency while a unique _id holds everywhere. Otherwise
// the summary gets a random id unless sm.ID is set. ExpiresAt defaults to CreatedAt
// plus the summary retention.
func (s *Store) InsertSummary(ctx context.Context, sm *devopsbot.Summary) (stored *devopsbot.Summary, created bool, err error) {
	id, err := devopsbot.StoredSummaryID(sm)
	if err != nil {
		return nil, false, err
	}
	if id == "" {
		id = randomID()
	}
	now := s.nowUTC()
	created0 := bsonTime(sm.CreatedAt)
	if created0.IsZero() {
		created0 = now
	}
	expires := bsonTime(sm.ExpiresAt)
	if expires.IsZero() {
		expires = created0.Add(s.sumRet)
	}
	d := summaryDoc{ID: id, SourceID: sm.SourceID, ContentKey: sm.ContentKey, ConversationID: sm.ConversationID,
		Meeting: meetingDoc(sm.Meeting), Insights: insightDocs(sm.Insights), Cards: postedCardDocs(sm.Cards), PostedBy: sm.PostedBy, CreatedAt: created0, ExpiresAt: expires}
	d.Meeting.Start, d.Meeting.End = bsonTime(d.Meeting.Start), bsonTime(d.Meeting.End)
	for range 3 {
		cctx, cancel := s.op(ctx)
		_, err := s.c(collSummaries).InsertOne(cctx, d)
		cancel()
		if err == nil {
			stored := d.summary()
			s.cacheSummary(stored)
			return stored, true, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return nil, false, s.fail("insert summary", err)
		}
		existing, err := s.GetSummary(ctx, id)
		if err == nil {
			return existing, false, nil
		}
		if !apperr.Is(err, apperr.NotFound) {
			return nil, false, err
		}
		// The one we collided with has expired but not been swept: remove it (with its
		// links) and try again. A concurrent caller doing the same is harmless.
		if _, err := s.deleteSummaries(ctx, []string{id}); err != nil {
			return nil, false, err
		}
	}
	return nil, false, apperr.New(apperr.Unavailable, unavailableMsg)
}

// GetSummary returns a summary that has not expired.
func (s *Store) GetSummary(ctx context.Context, id string) (*devopsbot.Summary, error) {
	if id == "" || len(id) > maxIDLen {
		return nil, errNotFound("That summary")
	}
	cctx, cancel := s.op(ctx)
	defer cancel()
	var d summaryDoc
	err := s.c(collSummaries).FindOne(cctx, bson.D{{Key: "_id", Value: id},
		{Key: "expiresAt", Value: bson.D{{Key: "$gt", Value: s.nowUTC()}}}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, errNotFound("That summary")
	}
	if err != nil {
		return nil, s.fail("get summary", err)
	}
	sm := d.summary()
	s.cacheSummary(sm)
	return sm, nil
}

// SetSummaryCards replaces the list of cards posted for a summary.
func (s *Store) SetSummaryCards(ctx context.Context, id string, cards []devopsbot.PostedCard) error {
	if id == "" || len(id) > maxIDLen {
		return errNotFound("That summary")
	}
	cctx, cancel := s.op(ctx)
	defer cancel()
	res, err := s.c(collSummaries).UpdateOne(cctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "cards", Value: postedCardDocs(cards)}}}})
	if err != nil {
		return s.fail("set summary cards", err)
	}
	if res.MatchedCount == 0 {
		s.forgetSummaries([]string{id})
		return errNotFound("That summary")
	}
	s.summaries.Update(id, func(sm *devopsbot.Summary) *devopsbot.Summary {
		cp := *sm
		cp.Cards = cards
		return &cp
	})
	return nil
}

// FindSummaryByContent returns the newest live summary in a chat whose content
// key is key: the same content delivered under another id is shown once.
func (s *Store) FindSummaryByContent(ctx context.Context, conversationID, key string) (*devopsbot.Summary, error) {
	if key == "" || len(key) > maxIDLen {
		return nil, errNotFound("That summary")
	}
	if err := devopsbot.CheckConversationID(conversationID); err != nil {
		return nil, err
	}
	cctx, cancel := s.op(ctx)
	defer cancel()
	var d summaryDoc
	err := s.c(collSummaries).FindOne(cctx, bson.D{{Key: "conversationId", Value: conversationID}, {Key: "contentKey", Value: key},
		{Key: "expiresAt", Value: bson.D{{Key: "$gt", Value: s.nowUTC()}}}},
		options.FindOne().SetSort(bson.D{{Key: "createdAt", Value: -1}})).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, errNotFound("That summary")
	}
	if err != nil {
		return nil, s.fail("find summary by content", err)
	}
	return d.summary(), nil
}

// ReplaceSummaryContent puts a better source's insights into a summary that
// is already in a chat (a meeting's transcript summary once Copilot's
// insights arrive), so that its card is updated instead of a second one
// posted. Only the meeting job holding its lease calls it.
func (s *Store) ReplaceSummaryContent(ctx context.Context, id, contentKey string, insights []devopsbot.Insight) error {
	if id == "" || len(id) > maxIDLen {
		return errNotFound("That summary")
	}
	cctx, cancel := s.op(ctx)
	defer cancel()
	res, err := s.c(collSummaries).UpdateOne(cctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "insights", Value: insightDocs(insights)}, {Key: "contentKey", Value: contentKey}}}})
	if err != nil {
		return s.fail("replace summary content", err)
	}
	s.forgetSummaries([]string{id}) // other replicas see it within CacheTTL, or when a click names a new insight
	if res.MatchedCount == 0 {
		return errNotFound("That summary")
	}
	return nil
}

func (s *Store) summaryIDs(ctx context.Context, filter bson.D) ([]string, error) {
	cctx, cancel := s.op(ctx)
	defer cancel()
	cur, err := s.c(collSummaries).Find(cctx, filter, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, s.fail("list summaries", err)
	}
	var docs []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(cctx, &docs); err != nil {
		return nil, s.fail("list summaries", err)
	}
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	return ids, nil
}

// deleteSummaries removes summaries and their links, in batches that keep each
// query small.
func (s *Store) deleteSummaries(ctx context.Context, ids []string) (int64, error) {
	var removed int64
	for len(ids) > 0 {
		n := min(len(ids), 500)
		batch := ids[:n]
		ids = ids[n:]
		in := bson.D{{Key: "$in", Value: batch}}
		s.forgetSummaries(batch)
		cctx, cancel := s.op(ctx)
		res, err := s.c(collLinks).DeleteMany(cctx, bson.D{{Key: "summaryId", Value: in}})
		cancel()
		if err != nil {
			return removed, s.fail("delete links", err)
		}
		removed += res.DeletedCount
		// A purged chat's pending deliveries must not be posted any more.
		cctx, cancel = s.op(ctx)
		res, err = s.c(collDeliveries).DeleteMany(cctx, bson.D{{Key: "_id", Value: in}})
		cancel()
		if err != nil {
			return removed, s.fail("delete deliveries", err)
		}
		removed += res.DeletedCount
		cctx, cancel = s.op(ctx)
		res, err = s.c(collSummaries).DeleteMany(cctx, bson.D{{Key: "_id", Value: in}})
		cancel()
		if err != nil {
			return removed, s.fail("delete summaries", err)
		}
		removed += res.DeletedCount
	}
	return removed, nil
}
