// Package httpretry is the one retry engine for the bot's outgoing HTTP calls
// (Azure DevOps, the Bot Connector, Microsoft Graph): when a failed try may be
// repeated, how long to wait (exponential backoff with jitter and a cap, or the
// server's Retry-After), and a sleep that ends when the caller's context does.
//
// It knows nothing of the services: each client builds and sends its own
// request and reads its own answer in the try function, and tells the engine
// what happened in an Outcome. The rules the engine applies to every caller:
//
//   - A call that is not idempotent (a POST that creates something) is never
//     repeated once the request may have reached the server: a lost answer
//     does not mean a lost write. Only a failure to connect at all (nothing was
//     sent) is retried for it.
//   - A Retry-After longer than the policy's MaxRetryAfter is not slept inside
//     the call: the last error is returned (its RetryAfter set by the caller),
//     so whoever can schedule a later try decides, instead of a held goroutine.
//   - No wait starts that would end after the context's deadline.
//
// Every call carries a Name (an operation such as "workitems.create"), put in
// the context of its tries, so a transport below (metrics) can label the
// request without guessing from its URL.
package httpretry

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Policy is how one client retries. The zero value never retries.
type Policy struct {
	// Retries is how many times a failed try may be repeated (attempts = Retries+1).
	Retries int
	// Base is the first backoff; each retry doubles it, up to Cap. A wait is
	// drawn from [d/2, d] so that replicas throttled together spread out.
	Base, Cap time.Duration
	// MaxRetryAfter is the longest Retry-After waited for inside a call.
	MaxRetryAfter time.Duration
	// RetryStatus says whether an answer with this HTTP status may be tried
	// again; idempotent is the call's. Nil retries nothing on a status.
	RetryStatus func(status int, idempotent bool) bool
	// Sleep waits between tries; nil is SleepCtx. Tests replace it to see the
	// waits chosen without spending them.
	Sleep func(ctx context.Context, d time.Duration) error
	// OnRetry, when set, hears each retry before its wait (for logs).
	OnRetry func(name string, attempt int, wait time.Duration, err error)
}

// Call is one logical request, perhaps sent several times.
type Call struct {
	// Name is the operation, for metrics and logs: a fixed string such as
	// "workitems.create", never built from input.
	Name string
	// Idempotent says the request may be repeated after it reached the server:
	// reads, PUT and DELETE, and a POST the caller vouches for (a query).
	Idempotent bool
}

// Outcome is what one try reports.
type Outcome struct {
	// Err is nil when the call succeeded.
	Err error
	// Status is the answer's HTTP status; 0 when no complete answer came (the
	// connection failed, or the body was cut off).
	Status int
	// RetryAfter is what the answer asked for (see ParseRetryAfter).
	RetryAfter time.Duration
	// Final says retrying cannot help (a token that was refused, a request
	// that could not be built), whatever the status.
	Final bool
}

// Do runs try until it succeeds, fails for good, or the policy runs out, and
// returns the last try's error. try gets a context carrying call's name; it
// must send its request with it.
func (p Policy) Do(ctx context.Context, call Call, try func(ctx context.Context) Outcome) error {
	sleep := p.Sleep
	if sleep == nil {
		sleep = SleepCtx
	}
	tctx := WithName(ctx, call.Name)
	for attempt := 0; ; attempt++ {
		o := try(tctx)
		if o.Err == nil {
			return nil
		}
		if o.Final || ctx.Err() != nil || attempt >= p.Retries || !p.mayRetry(call, o) {
			return o.Err
		}
		wait := o.RetryAfter
		if wait > p.MaxRetryAfter {
			return o.Err
		}
		if wait <= 0 {
			wait = p.Backoff(attempt)
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return o.Err
		}
		if p.OnRetry != nil {
			p.OnRetry(call.Name, attempt+1, wait, o.Err)
		}
		if sleep(ctx, wait) != nil {
			return o.Err
		}
	}
}

func (p Policy) mayRetry(call Call, o Outcome) bool {
	if o.Status == 0 {
		return call.Idempotent || NotSent(o.Err)
	}
	return p.RetryStatus != nil && p.RetryStatus(o.Status, call.Idempotent)
}

// Backoff is the wait before retry number attempt+1 when the server named
// none: Base doubled attempt times, capped, drawn from [d/2, d].
func (p Policy) Backoff(attempt int) time.Duration {
	d := p.Base << min(attempt, 20)
	if p.Cap > 0 && (d > p.Cap || d <= 0) {
		d = p.Cap
	}
	if d <= 0 {
		return 0
	}
	return d/2 + rand.N(d/2+1)
}

// NotSent reports whether err proves the request never left this machine (no
// connection was made), so that even a non-idempotent request may be tried again.
func NotSent(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// SleepCtx waits d, or less when ctx ends first (then it returns ctx's error).
func SleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// maxRetryAfter bounds what a server may ask for: a broken or hostile header
// must not park work for days.
const maxRetryAfter = time.Hour

// ParseRetryAfter reads a Retry-After header value: delay-seconds (fractions
// accepted, as some Azure services send them) or an HTTP-date, relative to
// now. It returns 0 for an absent, malformed, negative or past value, and at
// most an hour.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if isDelay(v) {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0
		}
		if n >= maxRetryAfter.Seconds() {
			return maxRetryAfter
		}
		d = time.Duration(n * float64(time.Second))
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// isDelay says v is written as delay-seconds: digits, perhaps one fraction.
// (ParseFloat alone would also take "Inf", "1e9" and "0x10".)
func isDelay(v string) bool {
	dot := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= '0' && c <= '9':
		case c == '.' && !dot && i > 0:
			dot = true
		default:
			return false
		}
	}
	return true
}

type nameKey struct{}

// WithName names the requests sent with ctx (see Name).
func WithName(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, nameKey{}, name)
}

// Name is the operation name a request was sent under, "" when its sender
// named none.
func Name(r *http.Request) string {
	s, _ := r.Context().Value(nameKey{}).(string)
	return s
}
