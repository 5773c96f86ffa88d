package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sally-devops/devopsbot"
	"github.com/sally-devops/devopsbot/store/storetest"
)

func TestFirstTimeOnceAcrossRacingReplicas(t *testing.T) {
	cfg := storetest.Config(t)
	a, b := storetest.Open(t, cfg), storetest.Open(t, cfg)
	ctx := context.Background()
	var firsts atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := a
			if i%2 == 1 {
				s = b
			}
			if ok, err := s.FirstTime(ctx, "welcome:19:chat"); err != nil {
				t.Error(err)
			} else if ok {
				firsts.Add(1)
			}
		}()
	}
	wg.Wait()
	if firsts.Load() != 1 {
		t.Fatalf("%d callers were first", firsts.Load())
	}
	if err := a.ForgetOnce(ctx, "welcome:19:chat"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := b.FirstTime(ctx, "welcome:19:chat"); !ok {
		t.Fatal("a forgotten key is not first again")
	}
	if err := a.ForgetOnce(ctx, ""); err == nil {
		t.Fatal("empty key accepted")
	}
}

func TestLookupWebhookAndPersonalChatByUser(t *testing.T) {
	s, clk, _ := openWithClock(t) // the store stamps updatedAt itself: two saves in one millisecond tie
	ctx := context.Background()
	if _, _, found, err := s.LookupWebhook(ctx, "msg_1"); err != nil || found {
		t.Fatalf("unknown id: found=%v err=%v", found, err)
	}
	if _, _, _, err := s.RememberWebhook(ctx, "msg_1", 202, []byte(`{"ok":true}`)); err != nil {
		t.Fatal(err)
	}
	st, body, found, err := s.LookupWebhook(ctx, "msg_1")
	if err != nil || !found || st != 202 || string(body) != `{"ok":true}` {
		t.Fatalf("lookup: %d %s %v %v", st, body, found, err)
	}
	oid := "00000000-0000-0000-0000-0000000000a1"
	for _, id := range []string{"a:old", "a:new"} {
		ref := &devopsbot.ConversationRef{ConversationID: id, ServiceURL: "https://smba.example/", TenantID: "t1", ConversationType: "personal", UserAADObjectID: oid}
		if err := s.SaveConversationRef(ctx, ref); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
	}
	ref, err := s.FindPersonalConversationByUser(ctx, oid)
	if err != nil || ref.ConversationID != "a:new" {
		t.Fatalf("newest personal chat: %+v %v", ref, err)
	}
}
