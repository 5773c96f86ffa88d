package devopsbot

import (
	"testing"
	"time"
)

// A new delivery is due now and kept as long as a summary, unless its creator
// said otherwise; a store must never make it expire at once or lose a state.
func TestFillNewKeepsWhatTheCreatorSet(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	keep := 90 * 24 * time.Hour
	var d Delivery
	d.FillNew(now, keep)
	if d.State != DeliveryPending || !d.CreatedAt.Equal(now) || !d.NextAttemptAt.Equal(now) || !d.ExpiresAt.Equal(now.Add(keep)) || !d.UpdatedAt.Equal(now) {
		t.Fatalf("a blank delivery starts as %+v", d)
	}
	later := now.Add(time.Hour)
	j := MeetingJob{State: MeetingJobDone, NextAttemptAt: later, ExpiresAt: later, CreatedAt: later, UpdatedAt: later}
	j.FillNew(now, keep)
	if j.State != MeetingJobDone || !j.NextAttemptAt.Equal(later) || !j.ExpiresAt.Equal(later) || !j.CreatedAt.Equal(later) || !j.UpdatedAt.Equal(now) {
		t.Fatalf("a meeting job's own values were replaced: %+v", j)
	}
}
