package memstore_test

import (
	"testing"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/conformance"
	"github.com/sally-devops/devopsbot/memstore"
)

// The in-memory store keeps the same rules as the real one (package store runs
// the same suite), so bot tests on it prove what they would on MongoDB.
func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Backend{
		Open: func(t *testing.T, now func() time.Time) (conformance.Store, func() conformance.Store) {
			return memstore.New(memstore.Config{Now: now}), nil
		},
		StateLifetime:    devopsbot.SignInLifetime,
		SummaryRetention: devopsbot.SummaryRetention,
		WebhookRetention: devopsbot.WebhookRetention,
	})
}
