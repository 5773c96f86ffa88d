package manifest

import (
	"archive/zip"
	"bytes"
	"io"
	"time"

	"github.com/sally-devops/devopsbot/apperr"
)

// packageTime is the fixed modification time of every entry, so the same Config always yields the
// same bytes (reproducible builds, and an unchanged package diffs as unchanged).
var packageTime = time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC)

// WriteZip writes the Teams app package for c: manifest.json, color.png (192x192) and outline.png
// (32x32) at the root of the zip, where Teams looks for them. Nothing is written if c is invalid, so
// a bad config never leaves a half-written package behind.
func WriteZip(w io.Writer, c Config) error {
	manifestJSON, err := Build(c)
	if err != nil {
		return err
	}
	pngs, err := iconPNGs()
	if err != nil {
		return apperr.Wrap(apperr.Internal, "Could not draw the app icons.", err)
	}
	// Assemble in memory (a few kilobytes) so a failure midway cannot leave w with a truncated zip.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range []struct {
		name string
		data []byte
	}{
		{ManifestFile, manifestJSON},
		{ColorIconFile, pngs[0]},
		{OutlineIconFile, pngs[1]},
	} {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: packageTime})
		if err != nil {
			return apperr.Wrap(apperr.Internal, "Could not build the Teams app package.", err)
		}
		if _, err := fw.Write(f.data); err != nil {
			return apperr.Wrap(apperr.Internal, "Could not build the Teams app package.", err)
		}
	}
	if err := zw.Close(); err != nil {
		return apperr.Wrap(apperr.Internal, "Could not build the Teams app package.", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return apperr.Wrap(apperr.Internal, "Could not write the Teams app package.", err)
	}
	return nil
}
