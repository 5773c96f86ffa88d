package store

import (
	"context"
	"time"

	"github.com/sally-devops/devopsbot"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// collDeliveries holds one record per summary card delivery to a chat: the
// promise behind a webhook's 202. It is written before the 202 and changes
// state only in the hands of the replica holding its lease.
const collDeliveries = "deliveries"

type deliveryDoc struct {
	ID             string    `bson:"_id"`
	SourceID       string    `bson:"sourceId"`
	ConversationID string    `bson:"conversationId"`
	ServiceURL     string    `bson:"serviceUrl"`
	State          string    `bson:"state"`
	Attempts       int       `bson:"attempts"`
	NextAttemptAt  time.Time `bson:"nextAttemptAt"`
	GiveUpAt       time.Time `bson:"giveUpAt"`
	Reason         string    `bson:"reason"`
	ActivityIDs    []string  `bson:"activityIds"`
	CreatedAt      time.Time `bson:"createdAt"`
	UpdatedAt      time.Time `bson:"updatedAt"`
	ExpiresAt      time.Time `bson:"expiresAt"`
}

func (d *deliveryDoc) delivery() *devopsbot.Delivery {
	return &devopsbot.Delivery{SummaryID: d.ID, SourceID: d.SourceID, ConversationID: d.ConversationID, ServiceURL: d.ServiceURL,
		State: devopsbot.DeliveryState(d.State), Attempts: d.Attempts, NextAttemptAt: utcOrZero(d.NextAttemptAt), GiveUpAt: utcOrZero(d.GiveUpAt),
		Reason: d.Reason, ActivityIDs: d.ActivityIDs, CreatedAt: utcOrZero(d.CreatedAt), UpdatedAt: utcOrZero(d.UpdatedAt), ExpiresAt: utcOrZero(d.ExpiresAt)}
}

func deliveryToDoc(d *devopsbot.Delivery) deliveryDoc {
	ids := d.ActivityIDs
	if ids == nil {
		ids = []string{}
	}
	return deliveryDoc{ID: d.SummaryID, SourceID: d.SourceID, ConversationID: d.ConversationID, ServiceURL: d.ServiceURL,
		State: string(d.State), Attempts: d.Attempts, NextAttemptAt: bsonTime(d.NextAttemptAt), GiveUpAt: bsonTime(d.GiveUpAt),
		Reason: d.Reason, ActivityIDs: ids, CreatedAt: bsonTime(d.CreatedAt), UpdatedAt: bsonTime(d.UpdatedAt), ExpiresAt: bsonTime(d.ExpiresAt)}
}

// CreateDelivery records a pending delivery once; a repeat (a sender's retry)
// returns the first record with created=false.
func (s *Store) CreateDelivery(ctx context.Context, d *devopsbot.Delivery) (stored *devopsbot.Delivery, created bool, err error) {
	if err := devopsbot.CheckID("summary id", d.SummaryID); err != nil {
		return nil, false, err
	}
	if err := devopsbot.CheckConversationID(d.ConversationID); err != nil {
		return nil, false, err
	}
	nd := *d
	nd.FillNew(s.nowUTC(), s.sumRet)
	doc := deliveryToDoc(&nd)
	created, err = s.insertOnce(ctx, collDeliveries, "delivery", doc)
	if err != nil || created {
		return doc.delivery(), created, err
	}
	existing, err := s.GetDelivery(ctx, d.SummaryID)
	if err != nil {
		return nil, false, err
	}
	return existing, false, nil
}

// GetDelivery returns the delivery of a summary.
func (s *Store) GetDelivery(ctx context.Context, summaryID string) (*devopsbot.Delivery, error) {
	var d deliveryDoc
	if err := s.getByID(ctx, collDeliveries, "delivery", summaryID, &d); err != nil {
		return nil, err
	}
	return d.delivery(), nil
}

// SaveDelivery writes a delivery's new state. Only the holder of the
// delivery's lease calls it, so a whole-document replace is safe on FerretDB.
func (s *Store) SaveDelivery(ctx context.Context, d *devopsbot.Delivery) error {
	doc := deliveryToDoc(d)
	doc.UpdatedAt = s.nowUTC()
	return s.replaceByID(ctx, collDeliveries, "delivery", doc.ID, doc)
}

// DeliveriesOf lists the deliveries of one sender summary id (all its chats).
func (s *Store) DeliveriesOf(ctx context.Context, sourceID string) ([]devopsbot.Delivery, error) {
	if sourceID == "" || len(sourceID) > maxIDLen {
		return nil, nil
	}
	return s.findDeliveries(ctx, bson.D{{Key: "sourceId", Value: sourceID}}, 100)
}

// DueDeliveries lists pending deliveries whose next attempt is due at now
// (the caller's clock, the one that scheduled them), oldest first.
func (s *Store) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]devopsbot.Delivery, error) {
	return s.findDeliveries(ctx, bson.D{{Key: "state", Value: string(devopsbot.DeliveryPending)},
		{Key: "nextAttemptAt", Value: bson.D{{Key: "$lte", Value: bsonTime(now)}}}}, limit)
}

// CountDeliveries counts deliveries by state, for `devopsbot check` (the metrics
// count delivery events instead, from Config.OnDelivery).
func (s *Store) CountDeliveries(ctx context.Context) (map[devopsbot.DeliveryState]int64, error) {
	out := map[devopsbot.DeliveryState]int64{}
	for _, st := range []devopsbot.DeliveryState{devopsbot.DeliveryPending, devopsbot.DeliveryPosted, devopsbot.DeliveryFailed} {
		cctx, cancel := s.op(ctx)
		n, err := s.c(collDeliveries).CountDocuments(cctx, bson.D{{Key: "state", Value: string(st)}})
		cancel()
		if err != nil {
			return nil, s.fail("count deliveries", err)
		}
		out[st] = n
	}
	return out, nil
}

func (s *Store) findDeliveries(ctx context.Context, filter bson.D, limit int) ([]devopsbot.Delivery, error) {
	cctx, cancel := s.op(ctx)
	defer cancel()
	cur, err := s.c(collDeliveries).Find(cctx, filter, options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, s.fail("find deliveries", err)
	}
	var docs []deliveryDoc
	if err := cur.All(cctx, &docs); err != nil {
		return nil, s.fail("find deliveries", err)
	}
	out := make([]devopsbot.Delivery, 0, len(docs))
	for i := range docs {
		out = append(out, *docs[i].delivery())
	}
	return out, nil
}
