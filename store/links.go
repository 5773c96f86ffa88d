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

func actionDocID(k devopsbot.ActionKey) string {
	return hashID("link", k.SummaryID, k.InsightID, k.Action, k.Target)
}

type linkDoc struct {
	ID             string              `bson:"_id"`
	SummaryID      string              `bson:"summaryId"`
	InsightID      string              `bson:"insightId"`
	Action         string              `bson:"action"`
	Target         string              `bson:"target"`
	State          devopsbot.LinkState `bson:"state"`
	TenantID       string              `bson:"tenantId"`
	AADObjectID    string              `bson:"aadObjectId"`
	UserName       string              `bson:"userName"`
	OrgURL         string              `bson:"orgUrl"`
	Project        string              `bson:"project"`
	WorkItemID     int                 `bson:"workItemId"`
	WorkItemType   string              `bson:"workItemType"`
	WorkItemTitle  string              `bson:"workItemTitle"`
	WorkItemURL    string              `bson:"workItemUrl"`
	CommentID      int                 `bson:"commentId"`
	Marker         string              `bson:"marker"`
	CreatedAt      time.Time           `bson:"createdAt"`
	CompletedAt    time.Time           `bson:"completedAt"`
	ClaimExpiresAt time.Time           `bson:"claimExpiresAt"`
	ClaimID        string              `bson:"claimId"` // random per claim: names one generation for takeover
}

// takeoverDoc is the exclusive right to replace one abandoned claim generation.
type takeoverDoc struct {
	ID        string    `bson:"_id"`
	Kind      string    `bson:"kind"` // "takeover"
	SummaryID string    `bson:"summaryId"`
	CreatedAt time.Time `bson:"createdAt"`
}

func (d *linkDoc) link() *devopsbot.InsightLink {
	return &devopsbot.InsightLink{
		Key:   devopsbot.ActionKey{SummaryID: d.SummaryID, InsightID: d.InsightID, Action: d.Action, Target: d.Target},
		State: d.State, User: devopsbot.UserKey{TenantID: d.TenantID, AADObjectID: d.AADObjectID}, UserName: d.UserName,
		OrgURL: d.OrgURL, Project: d.Project, WorkItemID: d.WorkItemID, WorkItemType: d.WorkItemType,
		WorkItemTitle: d.WorkItemTitle, WorkItemURL: d.WorkItemURL, CommentID: d.CommentID, Marker: d.Marker,
		CreatedAt: d.CreatedAt.UTC(), CompletedAt: utcOrZero(d.CompletedAt), ClaimExpiresAt: d.ClaimExpiresAt.UTC(),
	}
}

// ClaimAction reserves key for by before the slow Azure DevOps call. claimed=true
// means this caller must do the action and then CompleteAction or ReleaseAction it.
// claimed=false returns the existing link: done (show its result) or pending
// (someone is on it). A pending claim older than its ClaimExpiresAt was abandoned
// (a crash, a lost replica) and is taken over. The marker of an action is fixed by
// its first claim: every later claim carries that one, so the caller must use
// link.Marker (not its own) and, after a takeover, look for a work item with it that
// the abandoned attempt may have created.
func (s *Store) ClaimAction(ctx context.Context, key devopsbot.ActionKey, by devopsbot.UserKey, byName string, marker string, ttl time.Duration) (link *devopsbot.InsightLink, claimed bool, err error) {
	if err := devopsbot.CheckAction(key); err != nil {
		return nil, false, err
	}
	if err := devopsbot.CheckUser(by); err != nil {
		return nil, false, err
	}
	if ttl <= 0 {
		ttl = devopsbot.ClaimTTL
	}
	id := actionDocID(key)
	marker, err = s.actionMarker(ctx, key, id, marker)
	if err != nil {
		return nil, false, err
	}
	for attempt := range 8 {
		if attempt > 0 {
			// Another caller is between deleting and inserting: give it a moment.
			select {
			case <-ctx.Done():
				return nil, false, s.fail("claim action", ctx.Err())
			case <-time.After(time.Duration(attempt) * 5 * time.Millisecond):
			}
		}
		now := s.nowUTC()
		d := linkDoc{ID: id, SummaryID: key.SummaryID, InsightID: key.InsightID, Action: key.Action, Target: key.Target,
			State: devopsbot.LinkPending, TenantID: by.TenantID, AADObjectID: by.AADObjectID, UserName: byName, Marker: marker,
			CreatedAt: now, ClaimExpiresAt: now.Add(ttl), ClaimID: randomID()}
		cctx, cancel := s.op(ctx)
		_, err := s.c(collLinks).InsertOne(cctx, d)
		cancel()
		if err == nil {
			return d.link(), true, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return nil, false, s.fail("claim action", err)
		}
		existing, err := s.getLink(ctx, id)
		if apperr.Is(err, apperr.NotFound) {
			continue // released meanwhile: try to insert again
		}
		if err != nil {
			return nil, false, err
		}
		if existing.State != devopsbot.LinkPending || existing.ClaimExpiresAt.After(now) {
			l := existing.link()
			s.rememberDone(*l)
			return l, false, nil
		}
		// Take over an abandoned claim. A DeleteOne filtered on state and expiry is
		// not enough: FerretDB evaluates the filter, then deletes by _id, so two
		// callers can each delete a different generation of the claim. Instead the
		// right to replace this generation is itself a unique _id.
		lock := takeoverDoc{ID: id + "~takeover~" + existing.ClaimID, Kind: "takeover", SummaryID: key.SummaryID, CreatedAt: now}
		cctx, cancel = s.op(ctx)
		_, err = s.c(collLinks).InsertOne(cctx, lock)
		cancel()
		if mongo.IsDuplicateKeyError(err) {
			continue // another caller is replacing this generation: look again
		}
		if err != nil {
			return nil, false, s.fail("take over claim", err)
		}
		cctx, cancel = s.op(ctx)
		_, err = s.c(collLinks).DeleteOne(cctx, bson.D{{Key: "_id", Value: id}, {Key: "claimId", Value: existing.ClaimID}})
		cancel()
		if err != nil {
			return nil, false, s.fail("take over claim", err)
		}
	}
	// Only reachable under heavy churn on one key; the user can click again.
	return nil, false, apperr.New(apperr.Conflict, "Someone else is working on this right now. Please try again.")
}

// markerDoc fixes the marker of an action key for good: the first claimer's marker
// is used by every later attempt (after a takeover or a release), so whoever
// searches Azure DevOps for a half-finished attempt looks for the right text. A
// separate document is needed because a takeover deletes the claim, and a fresh
// claimer slipping in between would otherwise bring its own marker.
type markerDoc struct {
	ID        string    `bson:"_id"`
	Kind      string    `bson:"kind"` // "marker"; links have no kind
	SummaryID string    `bson:"summaryId"`
	Marker    string    `bson:"marker"`
	CreatedAt time.Time `bson:"createdAt"`
}

func (s *Store) actionMarker(ctx context.Context, key devopsbot.ActionKey, id, marker string) (string, error) {
	d := markerDoc{ID: id + "~marker", Kind: "marker", SummaryID: key.SummaryID, Marker: marker, CreatedAt: s.nowUTC()}
	cctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.c(collLinks).InsertOne(cctx, d)
	if err == nil {
		return marker, nil
	}
	if !mongo.IsDuplicateKeyError(err) {
		return "", s.fail("claim marker", err)
	}
	var old markerDoc
	if err := s.c(collLinks).FindOne(cctx, bson.D{{Key: "_id", Value: d.ID}}).Decode(&old); err != nil {
		return "", s.fail("claim marker", err)
	}
	return old.Marker, nil
}

func (s *Store) getLink(ctx context.Context, id string) (*linkDoc, error) {
	cctx, cancel := s.op(ctx)
	defer cancel()
	var d linkDoc
	err := s.c(collLinks).FindOne(cctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, errNotFound("That action")
	}
	if err != nil {
		return nil, s.fail("get link", err)
	}
	return &d, nil
}

// CompleteAction records the result of a claimed action (link as returned by
// ClaimAction, with OrgURL, Project, WorkItem* and CommentID filled in). It fails with
// Conflict when the action is already done and NotFound when the claim is gone.
func (s *Store) CompleteAction(ctx context.Context, link *devopsbot.InsightLink) error {
	if link == nil {
		return apperr.New(apperr.Invalid, "No action to complete.")
	}
	if err := devopsbot.CheckAction(link.Key); err != nil {
		return err
	}
	id := actionDocID(link.Key)
	link.State = devopsbot.LinkDone
	link.CompletedAt = bsonTime(link.CompletedAt)
	if link.CompletedAt.IsZero() {
		link.CompletedAt = s.nowUTC()
	}
	cctx, cancel := s.op(ctx)
	defer cancel()
	res, err := s.c(collLinks).UpdateOne(cctx, bson.D{{Key: "_id", Value: id}, {Key: "state", Value: devopsbot.LinkPending}},
		bson.D{{Key: "$set", Value: bson.D{
			{Key: "state", Value: devopsbot.LinkDone}, {Key: "orgUrl", Value: link.OrgURL}, {Key: "project", Value: link.Project},
			{Key: "workItemId", Value: link.WorkItemID}, {Key: "workItemType", Value: link.WorkItemType},
			{Key: "workItemTitle", Value: link.WorkItemTitle}, {Key: "workItemUrl", Value: link.WorkItemURL},
			{Key: "commentId", Value: link.CommentID}, {Key: "completedAt", Value: link.CompletedAt},
		}}})
	if err != nil {
		return s.fail("complete action", err)
	}
	if res.MatchedCount == 1 {
		s.rememberDone(*link)
		return nil
	}
	if err := s.existsOr(ctx, collLinks, id, "That action"); err != nil {
		return err
	}
	return apperr.New(apperr.Conflict, "That was already done.")
}

// ReleaseAction drops a pending claim after a definite failure so the user can try
// again. A finished action is never released; releasing twice is harmless.
func (s *Store) ReleaseAction(ctx context.Context, key devopsbot.ActionKey) error {
	if err := devopsbot.CheckAction(key); err != nil {
		return err
	}
	cctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.c(collLinks).DeleteOne(cctx, bson.D{{Key: "_id", Value: actionDocID(key)}, {Key: "state", Value: devopsbot.LinkPending}})
	return s.fail("release action", err)
}

// maxLinksPerSummary bounds ListLinks; a summary has far fewer insights than this.
const maxLinksPerSummary = 5000

// ListLinks returns all links of a summary, oldest first, pending ones included.
func (s *Store) ListLinks(ctx context.Context, summaryID string) ([]devopsbot.InsightLink, error) {
	if summaryID == "" || len(summaryID) > maxIDLen {
		return nil, nil
	}
	cctx, cancel := s.op(ctx)
	defer cancel()
	cur, err := s.c(collLinks).Find(cctx, bson.D{{Key: "summaryId", Value: summaryID},
		{Key: "state", Value: bson.D{{Key: "$in", Value: bson.A{devopsbot.LinkPending, devopsbot.LinkDone}}}}},
		options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(maxLinksPerSummary))
	if err != nil {
		return nil, s.fail("list links", err)
	}
	var docs []linkDoc
	if err := cur.All(cctx, &docs); err != nil {
		return nil, s.fail("list links", err)
	}
	out := make([]devopsbot.InsightLink, len(docs))
	for i := range docs {
		out[i] = *docs[i].link()
	}
	s.rememberDoneList(summaryID, out)
	return out, nil
}
