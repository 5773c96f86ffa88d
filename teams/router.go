package teams

import "context"

// Handler handles an activity that needs no answer beyond "received".
type Handler func(ctx context.Context, a *Activity) error

// InvokeHandler handles an invoke; its response is the HTTP answer Teams waits for.
type InvokeHandler func(ctx context.Context, a *Activity) (InvokeResponse, error)

// Router picks the handler for an activity by type, and for invokes by name, in the
// spirit of teams.ts app.on(...). Register handlers before serving: the router is
// read concurrently afterwards and is not guarded.
type Router struct {
	message            Handler
	conversationUpdate Handler
	installationUpdate Handler
	invokes            map[string]InvokeHandler
	events             map[string]Handler
}

// NewRouter returns a router without handlers: every activity is acknowledged and
// ignored until a handler is registered.
func NewRouter() *Router {
	return &Router{invokes: map[string]InvokeHandler{}, events: map[string]Handler{}}
}

// OnMessage handles messages, including Action.Submit (a message with value and no text).
func (r *Router) OnMessage(h func(ctx context.Context, a *Activity) error) { r.message = h }

// OnConversationUpdate handles members joining or leaving and chat renames.
func (r *Router) OnConversationUpdate(h func(ctx context.Context, a *Activity) error) {
	r.conversationUpdate = h
}

// OnInstallationUpdate handles the app being added to or removed from a scope.
func (r *Router) OnInstallationUpdate(h func(ctx context.Context, a *Activity) error) {
	r.installationUpdate = h
}

// OnInvoke handles invokes with the given name, such as "adaptiveCard/action",
// "application/search", "task/fetch" and "task/submit".
func (r *Router) OnInvoke(name string, h func(ctx context.Context, a *Activity) (InvokeResponse, error)) {
	r.invokes[name] = h
}

// OnEvent handles event activities with the given name, such as
// "application/vnd.microsoft.meetingEnd" (sent to a bot in a meeting chat
// when the app has the OnlineMeeting.ReadBasic.Chat resource-specific permission).
func (r *Router) OnEvent(name string, h func(ctx context.Context, a *Activity) error) {
	r.events[name] = h
}

// background returns the handler for a non-invoke activity, nil when none applies.
func (r *Router) background(act *Activity) Handler {
	switch act.Type {
	case ActivityEvent:
		return r.events[act.Name]
	case ActivityMessage:
		return r.message
	case ActivityConversationUpdate:
		return r.conversationUpdate
	case ActivityInstallationUpdate:
		return r.installationUpdate
	}
	return nil
}

func (r *Router) invoke(name string) InvokeHandler {
	if r == nil {
		return nil
	}
	return r.invokes[name]
}
