package devopsbot

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
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

// An audit detail cut to its bound stays valid text: a cut inside a
// character would store bytes no reader can decode.
func TestAuditDetailIsCutAtACharacter(t *testing.T) {
	long := AuditRecord{Detail: strings.Repeat("€", MaxAuditDetail)} // 3 bytes each: 4096 falls inside one
	got := long.Bounded().Detail
	if len(got) > MaxAuditDetail || !utf8.ValidString(got) || len(got) < MaxAuditDetail-2 {
		t.Fatalf("cut to %d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
	}
	if short := (AuditRecord{Detail: "ok"}).Bounded(); short.Detail != "ok" {
		t.Fatalf("a short detail changed: %q", short.Detail)
	}
}
