package memstore

import (
	"context"
	"slices"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/apperr"
)

func copyDelivery(d devopsbot.Delivery) devopsbot.Delivery {
	d.ActivityIDs = slices.Clone(d.ActivityIDs)
	d.NextAttemptAt, d.GiveUpAt = millis(d.NextAttemptAt), millis(d.GiveUpAt)
	d.CreatedAt, d.UpdatedAt, d.ExpiresAt = millis(d.CreatedAt), millis(d.UpdatedAt), millis(d.ExpiresAt)
	return d
}

// CreateDelivery stores d once per summary; a repeat returns the stored one.
func (s *Store) CreateDelivery(_ context.Context, d *devopsbot.Delivery) (*devopsbot.Delivery, bool, error) {
	if err := devopsbot.CheckID("summary id", d.SummaryID); err != nil {
		return nil, false, err
	}
	if err := devopsbot.CheckConversationID(d.ConversationID); err != nil {
		return nil, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.deliveries[d.SummaryID]; ok {
		cp := copyDelivery(old.v)
		return &cp, false, nil
	}
	nd := copyDelivery(*d)
	nd.FillNew(s.clock(), s.sumRet)
	s.deliveries[nd.SummaryID] = record[devopsbot.Delivery]{v: nd, seq: s.next()}
	cp := copyDelivery(nd)
	return &cp, true, nil
}

// GetDelivery returns the delivery of a summary.
func (s *Store) GetDelivery(_ context.Context, summaryID string) (*devopsbot.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.deliveries[summaryID]
	if !ok {
		return nil, notFound("That delivery")
	}
	cp := copyDelivery(d.v)
	return &cp, nil
}

// SaveDelivery replaces a stored delivery.
func (s *Store) SaveDelivery(_ context.Context, d *devopsbot.Delivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.deliveries[d.SummaryID]
	if !ok {
		return notFound("That delivery")
	}
	nd := copyDelivery(*d)
	nd.UpdatedAt = s.clock()
	s.deliveries[d.SummaryID] = record[devopsbot.Delivery]{v: nd, seq: old.seq}
	return nil
}

// maxDeliveriesOf bounds DeliveriesOf, as in package store.
const maxDeliveriesOf = 100

// DeliveriesOf returns the deliveries of one sender's summary, oldest first.
func (s *Store) DeliveriesOf(_ context.Context, sourceID string) ([]devopsbot.Delivery, error) {
	if !lookupID(sourceID) {
		return nil, nil
	}
	return s.findDeliveries(func(d devopsbot.Delivery) bool { return d.SourceID == sourceID }, maxDeliveriesOf), nil
}

// DueDeliveries returns pending deliveries due at now, oldest first, at most limit.
func (s *Store) DueDeliveries(_ context.Context, now time.Time, limit int) ([]devopsbot.Delivery, error) {
	now = millis(now)
	return s.findDeliveries(func(d devopsbot.Delivery) bool {
		return d.State == devopsbot.DeliveryPending && !d.NextAttemptAt.After(now)
	}, limit), nil
}

func (s *Store) findDeliveries(match func(devopsbot.Delivery) bool, limit int) []devopsbot.Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rs []record[devopsbot.Delivery]
	for _, r := range s.deliveries {
		if match(r.v) {
			rs = append(rs, record[devopsbot.Delivery]{v: copyDelivery(r.v), seq: r.seq})
		}
	}
	sortBySeq(rs, func(d devopsbot.Delivery) time.Time { return d.CreatedAt })
	return limited(rs, limit)
}

func copyJob(j devopsbot.MeetingJob) devopsbot.MeetingJob {
	j.Start, j.End, j.NextAttemptAt, j.GiveUpAt = millis(j.Start), millis(j.End), millis(j.NextAttemptAt), millis(j.GiveUpAt)
	j.CreatedAt, j.UpdatedAt, j.ExpiresAt = millis(j.CreatedAt), millis(j.UpdatedAt), millis(j.ExpiresAt)
	return j
}

// CreateMeetingJob stores j once per id; a repeat returns the stored one.
func (s *Store) CreateMeetingJob(_ context.Context, j *devopsbot.MeetingJob) (*devopsbot.MeetingJob, bool, error) {
	if err := devopsbot.CheckID("meeting job id", j.ID); err != nil {
		return nil, false, err
	}
	if err := devopsbot.CheckConversationID(j.ConversationID); err != nil {
		return nil, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.meetingJobs[j.ID]; ok {
		cp := old.v
		return &cp, false, nil
	}
	nj := copyJob(*j)
	nj.FillNew(s.clock(), s.sumRet)
	s.meetingJobs[nj.ID] = record[devopsbot.MeetingJob]{v: nj, seq: s.next()}
	cp := nj
	return &cp, true, nil
}

// GetMeetingJob returns a meeting job.
func (s *Store) GetMeetingJob(_ context.Context, id string) (*devopsbot.MeetingJob, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.meetingJobs[id]
	if !ok {
		return nil, notFound("That meeting job")
	}
	cp := j.v
	return &cp, nil
}

// SaveMeetingJob replaces a stored meeting job.
func (s *Store) SaveMeetingJob(_ context.Context, j *devopsbot.MeetingJob) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.meetingJobs[j.ID]
	if !ok {
		return notFound("That meeting job")
	}
	nj := copyJob(*j)
	nj.UpdatedAt = s.clock()
	s.meetingJobs[j.ID] = record[devopsbot.MeetingJob]{v: nj, seq: old.seq}
	return nil
}

// DueMeetingJobs returns pending jobs due at now, oldest first, at most limit.
func (s *Store) DueMeetingJobs(_ context.Context, now time.Time, limit int) ([]devopsbot.MeetingJob, error) {
	now = millis(now)
	return s.findJobs(func(j devopsbot.MeetingJob) bool {
		return j.State == devopsbot.MeetingJobPending && !j.NextAttemptAt.After(now)
	}, limit), nil
}

// MeetingJobsOf returns a chat's jobs, oldest first, at most limit.
func (s *Store) MeetingJobsOf(_ context.Context, conversationID string, limit int) ([]devopsbot.MeetingJob, error) {
	if devopsbot.CheckConversationID(conversationID) != nil {
		return nil, nil
	}
	return s.findJobs(func(j devopsbot.MeetingJob) bool { return j.ConversationID == conversationID }, limit), nil
}

func (s *Store) findJobs(match func(devopsbot.MeetingJob) bool, limit int) []devopsbot.MeetingJob {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rs []record[devopsbot.MeetingJob]
	for _, r := range s.meetingJobs {
		if match(r.v) {
			rs = append(rs, r)
		}
	}
	sortBySeq(rs, func(j devopsbot.MeetingJob) time.Time { return j.CreatedAt })
	return limited(rs, limit)
}

// SweepMeetingJobs removes jobs past retention.
func (s *Store) SweepMeetingJobs(context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	var n int64
	for id, j := range s.meetingJobs {
		if !j.v.ExpiresAt.After(now) {
			delete(s.meetingJobs, id)
			n++
		}
	}
	return n, nil
}

// AcquireLease gives key to one caller until ttl passes or it is released.
func (s *Store) AcquireLease(_ context.Context, key string, ttl time.Duration) (string, bool, error) {
	if err := devopsbot.CheckID("lease key", key); err != nil {
		return "", false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	if cur, ok := s.leases[key]; ok && cur.expiresAt.After(now) {
		return "", false, nil
	}
	l := lease{id: randomID(), expiresAt: now.Add(ttl)}
	s.leases[key] = l
	return l.id, true, nil
}

// ReleaseLease gives key up if leaseID still holds it.
func (s *Store) ReleaseLease(_ context.Context, key, leaseID string) error {
	if key == "" || leaseID == "" {
		return apperr.New(apperr.Invalid, "No lease to release.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.leases[key]; ok && cur.id == leaseID {
		delete(s.leases, key)
	}
	return nil
}
