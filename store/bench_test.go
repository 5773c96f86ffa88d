package store_test

import (
	"testing"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/store/storetest"
)

func BenchmarkGetConnection(b *testing.B) {
	s := storetest.New(b)
	if err := s.SaveConnection(ctx, sampleConn(alice)); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.GetConnection(ctx, alice); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetSummary(b *testing.B) {
	s := storetest.New(b)
	sm, _, err := s.InsertSummary(ctx, sampleSummary("19:bench", "d"))
	if err != nil {
		b.Fatal(err)
	}
	// A realistic table: other chats' summaries are there too (FerretDB scans them).
	for i := range 200 {
		if _, _, err := s.InsertSummary(ctx, sampleSummary("19:other", string(rune('a'+i%26))+string(rune('a'+i/26)))); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if _, err := s.GetSummary(ctx, sm.ID); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkClaimAction(b *testing.B) {
	s := storetest.New(b)
	i := 0
	for b.Loop() {
		i++
		k := devopsbot.ActionKey{SummaryID: "s", InsightID: string(rune(i)), Action: devopsbot.ActionCreate}
		if _, _, err := s.ClaimAction(ctx, k, alice, "A", "m", 0); err != nil {
			b.Fatal(err)
		}
	}
}
