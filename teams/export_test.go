package teams

import (
	"context"
	"time"
)

// SetSleep replaces the connector's wait between retries, so tests can see the
// waits it chose without spending them.
func SetSleep(c *Connector, f func(ctx context.Context, d time.Duration) error) { c.sleep = f }
