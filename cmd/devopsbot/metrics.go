package main

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sally-devops/devopsbot/internal/httpretry"
)

// metrics holds the process's Prometheus registry. A registry per app (not the
// global one) keeps tests that build several apps independent.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sally_http_requests_total", Help: "HTTP requests by endpoint and status code.",
		}, []string{"endpoint", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sally_http_request_duration_seconds", Help: "HTTP request latency by endpoint.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15},
		}, []string{"endpoint"}),
	}
	m.reg.MustRegister(m.requests, m.latency, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

func (m *metrics) wrap(endpoint string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(rec, r)
		m.requests.WithLabelValues(endpoint, strconv.Itoa(rec.code)).Inc()
		m.latency.WithLabelValues(endpoint).Observe(time.Since(start).Seconds())
	})
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// activityMetrics counts Bot Framework activities by type (and invoke name) and
// by how they were answered. The teams server tells it (OnAnswered) once it has
// checked the token and decoded the activity, so no body is read here: an
// unauthenticated request costs no parsing, and a request's body is parsed once.
type activityMetrics struct {
	total *prometheus.CounterVec
}

func (m *metrics) activities() *activityMetrics {
	a := &activityMetrics{total: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sally_activities_total", Help: "Teams activities by type, invoke name and outcome (HTTP status class).",
	}, []string{"type", "name", "outcome"})}
	m.reg.MustRegister(a.total)
	return a
}

// knownInvokes bounds the label values an outside sender can create.
var knownInvokes = map[string]bool{"adaptiveCard/action": true, "task/fetch": true, "task/submit": true, "application/search": true}
var knownTypes = map[string]bool{"message": true, "invoke": true, "conversationUpdate": true, "installationUpdate": true, "messageReaction": true, "typing": true}

// answered counts one request to /api/messages. An activity refused before it
// was decoded (no valid token, a body too large) has no type: "other".
func (a *activityMetrics) answered(activityType, name string, status int) {
	typ := activityType
	if !knownTypes[typ] {
		typ = "other"
	}
	label := ""
	if typ == "invoke" {
		label = name
		if !knownInvokes[label] {
			label = "other"
		}
	}
	outcome := "ok"
	switch {
	case status == http.StatusUnauthorized:
		outcome = "unauthorized"
	case status >= 500:
		outcome = "error"
	case status >= 400:
		outcome = "rejected"
	}
	a.total.WithLabelValues(typ, label, outcome).Inc()
}

// devopsTransport counts Azure DevOps calls by operation and status, their
// latency, and the work items and comments created.
type devopsTransport struct {
	next     http.RoundTripper
	calls    *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	created  prometheus.Counter
	comments prometheus.Counter
}

func (m *metrics) devopsTransport(next http.RoundTripper) *devopsTransport {
	if next == nil {
		next = http.DefaultTransport
	}
	t := &devopsTransport{
		next: next,
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sally_devops_calls_total", Help: "Azure DevOps and Entra ID calls by operation and status code.",
		}, []string{"operation", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sally_devops_call_duration_seconds", Help: "Azure DevOps call latency by operation.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2, 4, 8, 15},
		}, []string{"operation"}),
		created:  prometheus.NewCounter(prometheus.CounterOpts{Name: "sally_work_items_created_total", Help: "Work items created in Azure DevOps."}),
		comments: prometheus.NewCounter(prometheus.CounterOpts{Name: "sally_comments_added_total", Help: "Comments added in Azure DevOps."}),
	}
	m.reg.MustRegister(t.calls, t.latency, t.created, t.comments)
	return t
}

// operation is the name the devops package sent the request under (see
// httpretry.Name): named where the call is written, never guessed from its
// URL, so a new call is labelled by its own name. "unnamed" would be a bug
// (a test drives every call and checks there is none).
func operation(r *http.Request) string {
	if op := httpretry.Name(r); op != "" {
		return op
	}
	return "unnamed"
}

func (t *devopsTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	op := operation(r)
	start := time.Now()
	resp, err := t.next.RoundTrip(r)
	t.latency.WithLabelValues(op).Observe(time.Since(start).Seconds())
	code := "error"
	if err == nil {
		code = strconv.Itoa(resp.StatusCode)
		if resp.StatusCode == http.StatusOK && r.Method != http.MethodGet {
			switch op {
			case "workitems.create":
				t.created.Inc()
			case "comments.add":
				t.comments.Inc()
			}
		}
	}
	t.calls.WithLabelValues(op, code).Inc()
	return resp, err
}

// deliveryEvents counts summary delivery state changes: posted, failed (given
// up, also logged as an error) and retry (an attempt that will be repeated).
func (m *metrics) deliveryEvents() func(string) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sally_summary_deliveries_total", Help: "Summary card deliveries by outcome: posted, failed, retry.",
	}, []string{"outcome"})
	m.reg.MustRegister(c)
	return func(event string) { c.WithLabelValues(event).Inc() }
}

// meetingEvents counts meeting job events: started, retry, found_copilot,
// found_transcript, gave_up (also logged) and off (a chat turned them off).
func (m *metrics) meetingEvents() func(string) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sally_meeting_jobs_total", Help: "Automatic meeting summary jobs by event: started, retry, found_copilot, found_transcript, gave_up, off.",
	}, []string{"event"})
	m.reg.MustRegister(c)
	return func(event string) { c.WithLabelValues(event).Inc() }
}

// dbCommands counts database commands (each one round trip) by command and
// collection, from the store's command monitor: the cost of a request in
// database calls shows here per operation, "find connections" and the like.
// Both labels name our own collections and the driver's commands, never input.
func (m *metrics) dbCommands() func(command, collection string) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sally_db_commands_total", Help: "Database commands (round trips) by command and collection.",
	}, []string{"command", "collection"})
	m.reg.MustRegister(c)
	return func(command, collection string) { c.WithLabelValues(command, collection).Inc() }
}
