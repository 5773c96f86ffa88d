package store

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
)

// Collection webhooks: the answer given to each webhook delivery id, for
// devopsbot.WebhookRetention, so a sender's retry gets the same answer.

type webhookDoc struct {
	ID        string    `bson:"_id"`
	Status    int       `bson:"status"`
	Body      []byte    `bson:"body"`
	CreatedAt time.Time `bson:"createdAt"`
	ExpiresAt time.Time `bson:"expiresAt"`
}

// maxWebhookBody bounds the answer remembered for a webhook id.
const maxWebhookBody = 64 << 10

// RememberWebhook implements Standard Webhooks idempotency: the first call for an id
// stores (status, body) and returns first=true; later calls within 24 hours return
// the first answer so a retried delivery gets the same reply and is not processed
// twice. Racing callers: exactly one is first.
func (s *Store) RememberWebhook(ctx context.Context, id string, status int, body []byte) (firstStatus int, firstBody []byte, first bool, err error) {
	if id == "" || len(id) > maxIDLen {
		return 0, nil, false, apperr.New(apperr.Invalid, "The webhook id is not valid.")
	}
	if len(body) > maxWebhookBody {
		return 0, nil, false, apperr.New(apperr.Invalid, "The webhook answer is too large to remember.")
	}
	if body == nil {
		body = []byte{}
	}
	for range 3 {
		now := s.nowUTC()
		d := webhookDoc{ID: id, Status: status, Body: body, CreatedAt: now, ExpiresAt: now.Add(devopsbot.WebhookRetention)}
		cctx, cancel := s.op(ctx)
		_, err := s.c(collWebhooks).InsertOne(cctx, d)
		cancel()
		if err == nil {
			return status, body, true, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return 0, nil, false, s.fail("remember webhook", err)
		}
		var old webhookDoc
		cctx, cancel = s.op(ctx)
		err = s.c(collWebhooks).FindOne(cctx, bson.D{{Key: "_id", Value: id}}).Decode(&old)
		cancel()
		if errors.Is(err, mongo.ErrNoDocuments) {
			continue
		}
		if err != nil {
			return 0, nil, false, s.fail("remember webhook", err)
		}
		if old.ExpiresAt.After(now) {
			return old.Status, old.Body, false, nil
		}
		// Expired but not swept yet: remove exactly that one, then insert ours.
		cctx, cancel = s.op(ctx)
		_, err = s.c(collWebhooks).DeleteOne(cctx, bson.D{{Key: "_id", Value: id}, {Key: "expiresAt", Value: old.ExpiresAt}})
		cancel()
		if err != nil {
			return 0, nil, false, s.fail("remember webhook", err)
		}
	}
	return 0, nil, false, apperr.New(apperr.Unavailable, unavailableMsg)
}

// LookupWebhook returns the answer remembered for a webhook id, if any and not expired.
func (s *Store) LookupWebhook(ctx context.Context, id string) (status int, body []byte, found bool, err error) {
	if id == "" || len(id) > maxIDLen {
		return 0, nil, false, apperr.New(apperr.Invalid, "The webhook id is not valid.")
	}
	cctx, cancel := s.op(ctx)
	defer cancel()
	var d webhookDoc
	err = s.c(collWebhooks).FindOne(cctx, bson.D{{Key: "_id", Value: id}, {Key: "expiresAt", Value: bson.D{{Key: "$gt", Value: s.nowUTC()}}}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil, false, nil
	}
	if err != nil {
		return 0, nil, false, s.fail("lookup webhook", err)
	}
	return d.Status, d.Body, true, nil
}
