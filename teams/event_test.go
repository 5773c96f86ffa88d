package teams_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/sally-devops/devopsbot/teams"
)

// An event (a meeting that ended) is answered only after its handler ran:
// 200 when it recorded what it had to, 503 (which the Bot Connector retries)
// when it could not. Nobody sends the event again otherwise.
func TestEventsAreAnsweredAfterTheirHandler(t *testing.T) {
	var ran atomic.Int32
	fail := atomic.Bool{}
	rt := teams.NewRouter()
	rt.OnEvent(teams.EventMeetingEnd, func(ctx context.Context, a *teams.Activity) error {
		ran.Add(1)
		if fail.Load() {
			return errors.New("database unavailable")
		}
		return nil
	})
	s := teams.NewServer(teams.ServerConfig{Router: rt})
	ev := []byte(`{"type":"event","name":"application/vnd.microsoft.meetingEnd","serviceUrl":"http://127.0.0.1:1/","conversation":{"id":"19:meeting_x@thread.v2"},"from":{"id":"29:u"},"value":{"Id":"m1"}}`)
	if status, body := post(t, s, "", ev); status != 200 || ran.Load() != 1 {
		t.Fatalf("got %d %s, handler ran %d times before the answer", status, body, ran.Load())
	}
	fail.Store(true)
	if status, body := post(t, s, "", ev); status != 503 || ran.Load() != 2 {
		t.Fatalf("a handler that could not record the event answered %d %s", status, body)
	}
}
