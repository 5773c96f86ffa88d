package store

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sally-devops/devopsbot"
)

// collMeetingJobs holds one job per meeting that ended in a chat where the bot
// is installed: look for the meeting's Copilot insights, then its transcript,
// until one is there or the job gives up. Like deliveries, a job changes only
// in the hands of the replica holding its lease, so it survives restarts and
// one replica works it at a time.
const collMeetingJobs = "meetingjobs"

type meetingJobDoc struct {
	ID             string    `bson:"_id"`
	ConversationID string    `bson:"conversationId"`
	ServiceURL     string    `bson:"serviceUrl"`
	TenantID       string    `bson:"tenantId"`
	MeetingID      string    `bson:"meetingId"`
	JoinURL        string    `bson:"joinUrl"`
	Title          string    `bson:"title"`
	Start          time.Time `bson:"start"`
	End            time.Time `bson:"end"`
	UserID         string    `bson:"userId"`
	GraphMeetingID string    `bson:"graphMeetingId"`
	State          string    `bson:"state"`
	Attempts       int       `bson:"attempts"`
	NextAttemptAt  time.Time `bson:"nextAttemptAt"`
	GiveUpAt       time.Time `bson:"giveUpAt"`
	Reason         string    `bson:"reason"`
	InsightsDenied string    `bson:"insightsDenied"`
	Source         string    `bson:"source"`
	SummaryID      string    `bson:"summaryId"`
	CreatedAt      time.Time `bson:"createdAt"`
	UpdatedAt      time.Time `bson:"updatedAt"`
	ExpiresAt      time.Time `bson:"expiresAt"`
}

func (d *meetingJobDoc) job() *devopsbot.MeetingJob {
	return &devopsbot.MeetingJob{ID: d.ID, ConversationID: d.ConversationID, ServiceURL: d.ServiceURL, TenantID: d.TenantID,
		MeetingID: d.MeetingID, JoinURL: d.JoinURL, Title: d.Title, Start: utcOrZero(d.Start), End: utcOrZero(d.End),
		UserID: d.UserID, GraphMeetingID: d.GraphMeetingID, State: devopsbot.MeetingJobState(d.State), Attempts: d.Attempts,
		NextAttemptAt: utcOrZero(d.NextAttemptAt), GiveUpAt: utcOrZero(d.GiveUpAt), Reason: d.Reason,
		InsightsDenied: d.InsightsDenied, Source: d.Source, SummaryID: d.SummaryID,
		CreatedAt: utcOrZero(d.CreatedAt), UpdatedAt: utcOrZero(d.UpdatedAt), ExpiresAt: utcOrZero(d.ExpiresAt)}
}

func meetingJobToDoc(j *devopsbot.MeetingJob) meetingJobDoc {
	return meetingJobDoc{ID: j.ID, ConversationID: j.ConversationID, ServiceURL: j.ServiceURL, TenantID: j.TenantID,
		MeetingID: j.MeetingID, JoinURL: j.JoinURL, Title: j.Title, Start: bsonTime(j.Start), End: bsonTime(j.End),
		UserID: j.UserID, GraphMeetingID: j.GraphMeetingID, State: string(j.State), Attempts: j.Attempts,
		NextAttemptAt: bsonTime(j.NextAttemptAt), GiveUpAt: bsonTime(j.GiveUpAt), Reason: j.Reason,
		InsightsDenied: j.InsightsDenied, Source: j.Source, SummaryID: j.SummaryID,
		CreatedAt: bsonTime(j.CreatedAt), UpdatedAt: bsonTime(j.UpdatedAt), ExpiresAt: bsonTime(j.ExpiresAt)}
}

// CreateMeetingJob records a pending job once; a repeat (Teams sends the
// event again, two replicas receive it) returns the first with created=false.
func (s *Store) CreateMeetingJob(ctx context.Context, j *devopsbot.MeetingJob) (stored *devopsbot.MeetingJob, created bool, err error) {
	if err := devopsbot.CheckID("meeting job id", j.ID); err != nil {
		return nil, false, err
	}
	if err := devopsbot.CheckConversationID(j.ConversationID); err != nil {
		return nil, false, err
	}
	nj := *j
	nj.FillNew(s.nowUTC(), s.sumRet)
	doc := meetingJobToDoc(&nj)
	created, err = s.insertOnce(ctx, collMeetingJobs, "meeting job", doc)
	if err != nil || created {
		return doc.job(), created, err
	}
	existing, err := s.GetMeetingJob(ctx, j.ID)
	if err != nil {
		return nil, false, err
	}
	return existing, false, nil
}

// GetMeetingJob returns a meeting job.
func (s *Store) GetMeetingJob(ctx context.Context, id string) (*devopsbot.MeetingJob, error) {
	var d meetingJobDoc
	if err := s.getByID(ctx, collMeetingJobs, "meeting job", id, &d); err != nil {
		return nil, err
	}
	return d.job(), nil
}

// SaveMeetingJob writes a job's new state; only its lease holder calls it.
func (s *Store) SaveMeetingJob(ctx context.Context, j *devopsbot.MeetingJob) error {
	doc := meetingJobToDoc(j)
	doc.UpdatedAt = s.nowUTC()
	return s.replaceByID(ctx, collMeetingJobs, "meeting job", doc.ID, doc)
}

// DueMeetingJobs lists pending jobs due at now (the caller's clock), oldest first.
func (s *Store) DueMeetingJobs(ctx context.Context, now time.Time, limit int) ([]devopsbot.MeetingJob, error) {
	return s.findMeetingJobs(ctx, bson.D{{Key: "state", Value: string(devopsbot.MeetingJobPending)},
		{Key: "nextAttemptAt", Value: bson.D{{Key: "$lte", Value: bsonTime(now)}}}}, limit)
}

// MeetingJobsOf lists a chat's meeting jobs, oldest first (for status).
func (s *Store) MeetingJobsOf(ctx context.Context, conversationID string, limit int) ([]devopsbot.MeetingJob, error) {
	if devopsbot.CheckConversationID(conversationID) != nil {
		return nil, nil
	}
	return s.findMeetingJobs(ctx, bson.D{{Key: "conversationId", Value: conversationID}}, limit)
}

func (s *Store) findMeetingJobs(ctx context.Context, filter bson.D, limit int) ([]devopsbot.MeetingJob, error) {
	cctx, cancel := s.op(ctx)
	defer cancel()
	cur, err := s.c(collMeetingJobs).Find(cctx, filter, options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, s.fail("find meeting jobs", err)
	}
	var docs []meetingJobDoc
	if err := cur.All(cctx, &docs); err != nil {
		return nil, s.fail("find meeting jobs", err)
	}
	out := make([]devopsbot.MeetingJob, 0, len(docs))
	for i := range docs {
		out = append(out, *docs[i].job())
	}
	return out, nil
}

// SweepMeetingJobs deletes meeting jobs past their retention (they name
// meetings: titles and join links are meeting content). The store's Sweep
// does not know this collection; the meeting watcher calls this.
func (s *Store) SweepMeetingJobs(ctx context.Context) (int64, error) {
	cctx, cancel := s.op(ctx)
	defer cancel()
	res, err := s.c(collMeetingJobs).DeleteMany(cctx, bson.D{{Key: "expiresAt", Value: bson.D{{Key: "$lte", Value: s.nowUTC()}}}})
	if err != nil {
		return 0, s.fail("sweep meeting jobs", err)
	}
	return res.DeletedCount, nil
}
