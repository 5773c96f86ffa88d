package teams

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sally-devops/devopsbot/apperr"
)

// ServerConfig configures the /api/messages handler.
type ServerConfig struct {
	Router *Router
	// Auth validates the Bot Framework token. Nil turns authentication off, which is
	// only right for local development with the Agents Playground (it sends no
	// token). Then only activities whose serviceUrl is on loopback are accepted:
	// listening on loopback is not enough, since any local process or web page can
	// post to us, and the serviceUrl is where our replies go.
	Auth   *Authenticator
	Logger *slog.Logger
	// MaxBodyBytes bounds an activity; larger requests get 413. Default 256 KiB:
	// Teams messages are at most about 28 KB, cards included.
	MaxBodyBytes int64
	// InvokeTimeout is the deadline for invoke handlers. Default 10s: Teams gives up
	// (and may retry) after about 10-15 seconds.
	InvokeTimeout time.Duration
	// BackgroundTimeout bounds message and update handlers. Default 2m.
	BackgroundTimeout time.Duration
	// OnAnswered, when set, hears every request to the handler once it is
	// answered: the activity's type and name as decoded (empty when it never
	// was: refused before its body was read) and the HTTP status. It is how
	// metrics label activities without reading bodies of their own before the
	// token is checked.
	OnAnswered func(activityType, name string, status int)
}

// Server is the http.Handler for /api/messages.
type Server struct {
	router            *Router
	auth              *Authenticator
	log               *slog.Logger
	maxBody           int64
	invokeTimeout     time.Duration
	backgroundTimeout time.Duration
	onAnswered        func(activityType, name string, status int)

	// baseCtx outlives requests: background handlers must not stop when the HTTP
	// request that brought their activity ends. Shutdown cancels it as a last resort.
	baseCtx context.Context
	cancel  context.CancelFunc

	mu       sync.Mutex
	closing  bool
	inflight sync.WaitGroup
}

// NewServer returns the handler. A nil Router acknowledges everything and does nothing.
func NewServer(cfg ServerConfig) *Server {
	s := &Server{
		router:            cfg.Router,
		auth:              cfg.Auth,
		log:               cfg.Logger,
		maxBody:           cfg.MaxBodyBytes,
		invokeTimeout:     cfg.InvokeTimeout,
		backgroundTimeout: cfg.BackgroundTimeout,
		onAnswered:        cfg.OnAnswered,
	}
	if s.router == nil {
		s.router = NewRouter()
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxBody <= 0 {
		s.maxBody = 256 << 10
	}
	if s.invokeTimeout <= 0 {
		s.invokeTimeout = 10 * time.Second
	}
	if s.backgroundTimeout <= 0 {
		s.backgroundTimeout = 2 * time.Minute
	}
	s.baseCtx, s.cancel = context.WithCancel(context.Background())
	return s
}

type requestIDKey struct{}

// RequestID returns the id of the activity being handled, the one in every log line
// about it, so that a user-facing "reference id" can be found in the logs.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

type loggerKey struct{}

// WithLogger returns ctx carrying l as the logger of the work ctx belongs to,
// for Logger to find. Server gives every handler's context its request
// logger; work that no request started (a delivery retried by a loop, a
// meeting job) carries a logger naming that work instead.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

// Logger returns the logger ctx carries (see WithLogger): in a handler Server
// runs, the server's logger with the request id and the activity's type, id
// and conversation, so that every line about one activity is found by the
// reference a user is shown. Without one, slog.Default().
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok && l != nil {
		return l
	}
	return slog.Default()
}

// handlerContext is what a handler of the request reqID runs in: its id and
// its logger, on parent.
func handlerContext(parent context.Context, reqID string, log *slog.Logger) context.Context {
	return WithLogger(context.WithValue(parent, requestIDKey{}, reqID), log)
}

// WithRequestLog serves h with what Server gives its handlers: a request id
// (the caller's X-Request-Id or MS-CV when short and plain, else a new one)
// and a logger carrying it, in the request's context. It is for the routes
// served beside /api/messages (a webhook, the sign-in callback), so that their
// log lines can be found by request as well.
func WithRequestLog(log *slog.Logger, h http.Handler) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := incomingRequestID(r)
		l := log.With("request_id", id, "method", r.Method, "path", r.URL.Path)
		h.ServeHTTP(w, r.WithContext(handlerContext(r.Context(), id, l)))
	})
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// incomingRequestID accepts a caller's correlation id only if it is short and plain,
// because it ends up in logs and must not be a log injection vector.
func incomingRequestID(r *http.Request) string {
	for _, h := range []string{"X-Request-Id", "MS-CV"} {
		v := r.Header.Get(h)
		if v == "" || len(v) > 64 {
			continue
		}
		ok := true
		for _, c := range v {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':' || c == '+' || c == '/' || c == '=') {
				ok = false
				break
			}
		}
		if ok {
			return v
		}
	}
	return newRequestID()
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"The response could not be encoded."}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var b errorBody
	b.Error.Code, b.Error.Message = code, msg
	writeJSON(w, status, b)
}

// statusWriter remembers the status written, for OnAnswered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// answered is what OnAnswered learns about a request as it is served.
type answered struct{ activityType, name string }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.onAnswered == nil {
		s.serve(w, r, nil)
		return
	}
	sw := &statusWriter{ResponseWriter: w}
	var ans answered
	s.serve(sw, r, &ans)
	if sw.status == 0 {
		sw.status = http.StatusOK // nothing written: net/http answers 200
	}
	s.onAnswered(ans.activityType, ans.name, sw.status)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, ans *answered) {
	reqID := incomingRequestID(r)
	log := s.log.With("request_id", reqID)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "Use POST.")
		return
	}

	// The token is checked before the body is read, so an unauthenticated caller
	// costs us no parsing and cannot probe the decoder.
	var tok *verifiedToken
	if s.auth != nil {
		var err error
		tok, err = s.auth.verifyHeader(r.Context(), r.Header.Get("Authorization"))
		if err != nil {
			s.reject(w, log, err)
			return
		}
	}

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			log.Warn("activity rejected", "reason", "body too large", "limit", s.maxBody)
			writeError(w, http.StatusRequestEntityTooLarge, "too_large", "The activity is too large.")
			return
		}
		log.Warn("activity rejected", "reason", "body unreadable", "err", err)
		writeError(w, http.StatusBadRequest, "bad_request", "The request body could not be read.")
		return
	}
	act, err := DecodeActivity(body)
	if err != nil {
		log.Warn("activity rejected", "reason", "malformed", "err", err)
		writeError(w, http.StatusBadRequest, "bad_request", apperr.UserMessage(err))
		return
	}
	if ans != nil {
		ans.activityType, ans.name = act.Type, act.Name
	}
	if s.auth != nil {
		if err := s.auth.checkActivity(tok, act); err != nil {
			s.reject(w, log, err)
			return
		}
	} else if act.ServiceURL != "" && !loopbackServiceURL(act.ServiceURL) {
		// An activity without serviceUrl can only be answered in this response.
		log.Warn("activity rejected", "reason", "serviceUrl not on loopback without authentication", "service_url", redactedURL(act.ServiceURL))
		writeError(w, http.StatusBadRequest, "service_url_not_loopback",
			"Without CLIENT_ID (local development) the bot only replies to a serviceUrl on this machine (localhost, 127.0.0.0/8, ::1).")
		return
	}

	log = log.With("activity_type", act.Type, "activity_id", act.ID, "conversation_id", act.Conversation.ID)
	if act.Type == ActivityInvoke {
		log = log.With("invoke", act.Name)
		s.serveInvoke(w, r, log, reqID, act)
		return
	}

	h := s.router.background(act)
	if h == nil {
		log.Debug("activity ignored", "reason", "no handler")
		w.WriteHeader(http.StatusOK)
		return
	}
	if act.Type == ActivityEvent {
		s.serveEvent(w, r, log, reqID, h, act)
		return
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		// Teams retries on 5xx, and another replica can take it.
		writeError(w, http.StatusServiceUnavailable, "shutting_down", "The bot is restarting. Please try again.")
		return
	}
	s.inflight.Add(1)
	s.mu.Unlock()
	log.Debug("activity accepted")
	go s.runBackground(log, reqID, h, act)
	w.WriteHeader(http.StatusOK)
}

func (s *Server) reject(w http.ResponseWriter, log *slog.Logger, err error) {
	if apperr.Is(err, apperr.Unavailable) {
		// Our failure, not the caller's: the Bot Connector retries a 503 (and
		// drops the message on a 401).
		secs := max(1, int(math.Ceil(apperr.RetryAfterOf(err).Seconds())))
		log.Error("activity refused for now", "reason", "signing keys unavailable", "retry_after_s", secs, "err", err)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeError(w, http.StatusServiceUnavailable, "keys_unavailable", apperr.UserMessage(err))
		return
	}
	log.Warn("activity rejected", "reason", "unauthenticated", "err", err)
	writeError(w, http.StatusUnauthorized, "unauthorized", "The request is not authenticated.")
}

// eventBudget bounds an event handler that runs before the answer.
const eventBudget = 10 * time.Second

// serveEvent runs an event's handler before answering: an event (a meeting
// that ended) is not repeated by anyone, so it is answered 200 only once the
// handler has recorded what it must, and 503 otherwise, which the Bot
// Connector retries. Handlers must be idempotent and quick.
func (s *Server) serveEvent(w http.ResponseWriter, r *http.Request, log *slog.Logger, reqID string, h Handler, act *Activity) {
	ctx, cancel := context.WithTimeout(handlerContext(context.WithoutCancel(r.Context()), reqID, log), eventBudget)
	defer cancel()
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				log.Error("event handler panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				err = fmt.Errorf("event handler panicked")
			}
		}()
		return h(ctx, act)
	}()
	if err != nil {
		log.Error("event not recorded; asking Teams to retry", "event", act.Name, "err", err)
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "event_not_recorded", "The bot could not record this event. Please retry.")
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (s *Server) runBackground(log *slog.Logger, reqID string, h Handler, act *Activity) {
	defer s.inflight.Done()
	ctx, cancel := context.WithTimeout(handlerContext(s.baseCtx, reqID, log), s.backgroundTimeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			log.Error("activity handler panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
	}()
	if err := h(ctx, act); err != nil {
		log.Error("activity handler failed", "err", err)
	}
}

func (s *Server) serveInvoke(w http.ResponseWriter, r *http.Request, log *slog.Logger, reqID string, act *Activity) {
	h := s.router.invoke(act.Name)
	if h == nil {
		log.Info("invoke not implemented")
		writeInvoke(w, log, ErrorResponse(http.StatusNotImplemented, "not_implemented", "This action is not supported."))
		return
	}
	ctx, cancel := context.WithTimeout(handlerContext(r.Context(), reqID, log), s.invokeTimeout)
	defer cancel()
	resp, err := s.callInvoke(ctx, log, h, act)
	if err != nil {
		log.Error("invoke handler failed", "err", err)
		msg := apperr.UserMessage(err)
		if apperr.KindOf(err) == apperr.Internal {
			msg = "Something went wrong on our side (reference " + reqID + ")."
		}
		writeInvoke(w, log, InvokeResponse{Status: http.StatusInternalServerError, Body: typedValue{
			StatusCode: http.StatusInternalServerError, Type: invokeTypeError,
			Value: ErrorValue{Code: apperr.KindOf(err).String(), Message: msg},
		}})
		return
	}
	writeInvoke(w, log, resp)
}

func (s *Server) callInvoke(ctx context.Context, log *slog.Logger, h InvokeHandler, act *Activity) (resp InvokeResponse, err error) {
	defer func() {
		if p := recover(); p != nil {
			log.Error("invoke handler panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = errors.New("invoke handler panicked")
		}
	}()
	return h(ctx, act)
}

func writeInvoke(w http.ResponseWriter, log *slog.Logger, resp InvokeResponse) {
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	if resp.Body == nil {
		w.WriteHeader(status)
		return
	}
	b, err := encodeInvokeBody(resp.Body)
	if err != nil {
		log.Error("invoke response not encodable", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "The response could not be encoded.")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// encodeInvokeBody is json.Marshal(body), except that a dialog's EncodedCard
// is spliced in as it is: encoding/json would copy and re-validate it byte by
// byte (a twentieth of a form open's CPU in the load benchmark), and an
// EncodedCard is valid by construction.
func encodeInvokeBody(body any) ([]byte, error) {
	tb, ok := body.(taskBody)
	if !ok {
		return json.Marshal(body)
	}
	tc, ok := tb.Task.Value.(taskContinue)
	if !ok {
		return json.Marshal(body)
	}
	enc, ok := tc.Card.Content.(EncodedCard)
	if !ok || len(enc.b) == 0 {
		return json.Marshal(body)
	}
	raw := enc.b
	tc.Card.Content = nil
	tb.Task.Value = tc
	env, err := json.Marshal(tb)
	if err != nil {
		return nil, err
	}
	// Content is the last field of the card, the card the last of the value.
	const tail = `null}}}}`
	head, ok := bytes.CutSuffix(env, []byte(tail))
	if !ok {
		return json.Marshal(body)
	}
	out := make([]byte, 0, len(head)+len(raw)+len(tail))
	out = append(out, head...)
	out = append(out, raw...)
	return append(out, tail[len("null"):]...), nil
}

// Shutdown stops accepting background work and waits for running handlers. When ctx
// ends first, their contexts are cancelled and ctx's error is returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.inflight.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.cancel()
		return ctx.Err()
	}
}

// loopbackServiceURL reports whether replies to serviceURL stay on this machine.
// It parses as the Connector does, so the host checked is the host posted to.
func loopbackServiceURL(serviceURL string) bool {
	u, err := url.Parse(strings.TrimSpace(serviceURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil {
		return false
	}
	return IsLoopback(u.Host)
}

// redactedURL is u for a log line, without a password it may carry.
func redactedURL(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return "(not a URL)"
	}
	return pu.Redacted()
}

// IsLoopback reports whether a host, or a host:port, only reaches this machine:
// localhost, 127.0.0.0/8 or ::1 (with or without brackets). Names other than
// localhost are not resolved: what they point to can change.
func IsLoopback(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	return ip != nil && ip.IsLoopback()
}

// DecodeActivity parses an inbound activity. Unknown fields are ignored (the
// protocol grows); a body that is not a JSON object or has no type is refused.
func DecodeActivity(body []byte) (*Activity, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return nil, apperr.New(apperr.Invalid, "The activity must be a JSON object.")
	}
	var act Activity
	if err := json.Unmarshal(body, &act); err != nil {
		return nil, invalid("The activity is not valid JSON.", err)
	}
	if act.Type == "" {
		return nil, apperr.New(apperr.Invalid, "The activity has no type.")
	}
	return &act, nil
}
