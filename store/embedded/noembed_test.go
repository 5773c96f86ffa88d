//go:build noembeddb

package embedded

import (
	"context"
	"strings"
	"testing"
)

func TestStartExplainsMissingDatabase(t *testing.T) {
	_, _, err := Start(context.Background(), t.TempDir(), nil)
	if Available || err == nil || !strings.Contains(err.Error(), "MONGODB_URI") {
		t.Fatalf("Available %v, err %v", Available, err)
	}
}
