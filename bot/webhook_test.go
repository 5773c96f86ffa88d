package bot

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func sign(key []byte, id, ts string, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func FuzzVerifyWebhook(f *testing.F) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Unix(1_800_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	f.Add("msg_1", ts, "v1,AAAA", []byte(`{"id":"x"}`))
	f.Add("msg_2", "abc", "v2,xyz v1,", []byte{})
	f.Add("", "", "", []byte(nil))
	f.Fuzz(func(t *testing.T, id, timestamp, sig string, body []byte) {
		h := http.Header{}
		h.Set("webhook-id", id)
		h.Set("webhook-timestamp", timestamp)
		h.Set("webhook-signature", sig)
		err := verifyWebhook(key, h, body, now)
		// Only the true signature of this very input can pass.
		if err == nil && !slices.Contains(strings.Fields(sig), sign(key, h.Get("webhook-id"), h.Get("webhook-timestamp"), body)) {
			t.Fatalf("accepted a signature that is not ours: %q", sig)
		}
		if id != "" && len(id) <= 256 && h.Get("webhook-id") == id && timestamp == ts {
			h.Set("webhook-signature", sign(key, id, ts, body))
			if err := verifyWebhook(key, h, body, now); err != nil {
				t.Fatalf("refused a valid signature: %v", err)
			}
		}
	})
}

func TestVerifyWebhookRules(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":"x"}`)
	for _, tc := range []struct {
		name string
		at   time.Time
		sig  func(ts string) string
		ok   bool
	}{
		{"valid", now, func(ts string) string { return sign(key, "msg_1", ts, body) }, true},
		{"one of several", now, func(ts string) string { return "v1,bm9wZQ== " + sign(key, "msg_1", ts, body) }, true},
		{"4 minutes old", now.Add(-4 * time.Minute), func(ts string) string { return sign(key, "msg_1", ts, body) }, true},
		{"6 minutes old", now.Add(-6 * time.Minute), func(ts string) string { return sign(key, "msg_1", ts, body) }, false},
		{"6 minutes ahead", now.Add(6 * time.Minute), func(ts string) string { return sign(key, "msg_1", ts, body) }, false},
		{"other key", now, func(ts string) string { return sign([]byte("another-key-another-key-another!!"), "msg_1", ts, body) }, false},
		{"wrong version", now, func(ts string) string { return "v2" + sign(key, "msg_1", ts, body)[2:] }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := strconv.FormatInt(tc.at.Unix(), 10)
			h := http.Header{}
			h.Set("webhook-id", "msg_1")
			h.Set("webhook-timestamp", ts)
			h.Set("webhook-signature", tc.sig(ts))
			if err := verifyWebhook(key, h, body, now); (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
