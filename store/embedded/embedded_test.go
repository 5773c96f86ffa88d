//go:build !noembeddb

package embedded

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func TestStartServesAndStops(t *testing.T) {
	if !Available {
		t.Fatal("Available is false in an embedded build")
	}
	dir := t.TempDir()
	uri, stop, err := Start(context.Background(), dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	c, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(context.Background())
	coll := c.Database("d").Collection("c")
	if _, err := coll.InsertOne(context.Background(), bson.D{{Key: "_id", Value: "x"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := coll.InsertOne(context.Background(), bson.D{{Key: "_id", Value: "x"}}); !mongo.IsDuplicateKeyError(err) {
		t.Fatalf("second insert: %v, want duplicate key", err)
	}
	stop()
	stop() // idempotent
	// The data survives a restart in the same directory.
	uri2, stop2, err := Start(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stop2()
	c2, err := mongo.Connect(options.Client().ApplyURI(uri2))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Disconnect(context.Background())
	n, err := c2.Database("d").Collection("c").CountDocuments(context.Background(), bson.D{})
	if err != nil || n != 1 {
		t.Fatalf("after restart: %d docs, %v", n, err)
	}
}

func TestStartRefusesEmptyDir(t *testing.T) {
	if _, _, err := Start(context.Background(), "  ", nil); err == nil {
		t.Fatal("Start with no data directory succeeded")
	}
}

func TestErrorOnlyHidesWarnings(t *testing.T) {
	h := errorOnly{slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug})}
	if h.Enabled(context.Background(), slog.LevelWarn) || !h.Enabled(context.Background(), slog.LevelError) {
		t.Fatal("level filter wrong")
	}
}

// BenchmarkStart measures the embedded server's start-up (and stop) time.
func BenchmarkStart(b *testing.B) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for b.Loop() {
		_, stop, err := Start(context.Background(), b.TempDir(), log)
		if err != nil {
			b.Fatal(err)
		}
		stop()
	}
}

// The server has no authentication: it must never listen beyond loopback.
func TestStartOnRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:27017", "localhost", "example.com:1"} {
		if _, stop, err := StartOn(context.Background(), t.TempDir(), addr, nil); err == nil {
			stop()
			t.Fatalf("StartOn(%q) started a server", addr)
		}
	}
}
