package store_test

import (
	"testing"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/conformance"
	"github.com/sally-devops/devopsbot/store/storetest"
)

// The store keeps every rule of the domain interfaces, on the shared database and
// across two clients of it (replicas).
func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Backend{
		Open: func(t *testing.T, now func() time.Time) (conformance.Store, func() conformance.Store) {
			cfg := storetest.Config(t)
			cfg.Now = now
			s := storetest.Open(t, cfg)
			return s, func() conformance.Store { return storetest.Open(t, cfg) }
		},
		StateLifetime:    devopsbot.SignInLifetime,
		SummaryRetention: devopsbot.SummaryRetention,
		WebhookRetention: devopsbot.WebhookRetention,
	})
}
