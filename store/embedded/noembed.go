//go:build noembeddb

package embedded

import (
	"context"
	"errors"
	"log/slog"
)

// Available reports whether this binary carries the embedded database.
const Available = false

// Start always fails: this binary was built with -tags noembeddb to leave FerretDB out.
func Start(ctx context.Context, dataDir string, logger *slog.Logger) (uri string, stop func(), err error) {
	return "", nil, errors.New("built without the embedded database; set MONGODB_URI")
}

// StartOn always fails, as Start does.
func StartOn(ctx context.Context, dataDir, listenAddr string, logger *slog.Logger) (uri string, stop func(), err error) {
	return Start(ctx, dataDir, logger)
}
