package manifest

import (
	"archive/zip"
	"bytes"
	"errors"
	"image"
	"image/png"
	"io"
	"testing"

	"github.com/sally-devops/devopsbot/apperr"
)

func buildZip(t *testing.T, c Config) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteZip(&buf, c); err != nil {
		t.Fatalf("WriteZip: %v", err)
	}
	return buf.Bytes()
}

func readZip(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatalf("open %s: %v", f.Name, err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("read %s: %v", f.Name, err)
		}
		if _, dup := files[f.Name]; dup {
			t.Errorf("%s appears twice", f.Name)
		}
		files[f.Name] = data
	}
	return files
}

func decodePNG(t *testing.T, name string, b []byte) image.Image {
	t.Helper()
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", name, err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if cfg.Width != img.Bounds().Dx() {
		t.Fatalf("%s: inconsistent size", name)
	}
	return img
}

func TestZipHoldsExactlyManifestAndIconsAtRoot(t *testing.T) {
	c := validConfig()
	c.ChatMessageReadRSC = true
	files := readZip(t, buildZip(t, c))
	if len(files) != 3 {
		names := []string{}
		for n := range files {
			names = append(names, n)
		}
		t.Fatalf("zip holds %v, want exactly manifest.json, color.png, outline.png", names)
	}
	for _, n := range []string{"manifest.json", "color.png", "outline.png"} {
		if _, ok := files[n]; !ok {
			t.Errorf("%s missing from the zip root", n)
		}
	}
	want, err := Build(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(files["manifest.json"], want) {
		t.Error("manifest.json in the zip differs from Build's output")
	}
	if err := validateAgainstSchema(t, files["manifest.json"]); err != nil {
		t.Errorf("manifest.json in the zip does not match the schema: %v", err)
	}
	// The manifest must point at files that exist in the package.
	m := decode(t, files["manifest.json"])
	for _, k := range []string{"color", "outline"} {
		p, _ := at(t, m, "icons", k).(string)
		if _, ok := files[p]; !ok {
			t.Errorf("icons.%s = %q is not in the zip", k, p)
		}
	}
}

func TestColorIconIs192OpaqueAzureWithWhiteMark(t *testing.T) {
	img := decodePNG(t, "color.png", readZip(t, buildZip(t, validConfig()))["color.png"])
	if b := img.Bounds(); b.Dx() != 192 || b.Dy() != 192 {
		t.Fatalf("color.png is %dx%d, want 192x192", b.Dx(), b.Dy())
	}
	white := 0
	for y := 0; y < 192; y++ {
		for x := 0; x < 192; x++ {
			r, g, b, a := img.At(x, y).RGBA()
			if a != 0xffff {
				t.Fatalf("color.png pixel (%d,%d) is not opaque", x, y)
			}
			if r == 0xffff && g == 0xffff && b == 0xffff {
				white++
			}
		}
	}
	r, g, b, _ := img.At(0, 0).RGBA()
	if r>>8 != 0x00 || g>>8 != 0x78 || b>>8 != 0xD4 {
		t.Errorf("corner is #%02X%02X%02X, want the accent color #0078D4", r>>8, g>>8, b>>8)
	}
	if white < 500 {
		t.Errorf("only %d white pixels: the mark is missing", white)
	}
}

func TestOutlineIconIs32WhiteOnTransparent(t *testing.T) {
	img := decodePNG(t, "outline.png", readZip(t, buildZip(t, validConfig()))["outline.png"])
	if b := img.Bounds(); b.Dx() != 32 || b.Dy() != 32 {
		t.Fatalf("outline.png is %dx%d, want 32x32", b.Dx(), b.Dy())
	}
	opaque, transparent := 0, 0
	for y := 0; y < 32; y++ {
		for x := 0; x < 32; x++ {
			r, g, b, a := img.At(x, y).RGBA()
			switch {
			case a == 0:
				transparent++
			case a == 0xffff && r == 0xffff && g == 0xffff && b == 0xffff:
				opaque++
			default:
				t.Fatalf("outline.png pixel (%d,%d) is rgba(%d,%d,%d,%d): Teams allows only white and transparent", x, y, r>>8, g>>8, b>>8, a>>8)
			}
		}
	}
	if opaque < 50 || transparent < 50 {
		t.Errorf("%d white and %d transparent pixels: the outline mark is missing or fills the icon", opaque, transparent)
	}
	// The centre of the icon (inside the frame, off the check) must be see-through, or Teams would
	// show a white blob.
	if _, _, _, a := img.At(16, 8).RGBA(); a != 0 {
		t.Error("the inside of the frame is not transparent")
	}
}

func TestZipIsReproducible(t *testing.T) {
	b := buildZip(t, validConfig())
	if !bytes.Equal(b, buildZip(t, validConfig())) {
		t.Error("the same config gave different packages")
	}
	// Two builds within the same second would match even with the wall clock in the headers (zip
	// times have two-second resolution), so check the stamp itself.
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if !f.Modified.Equal(packageTime) {
			t.Errorf("%s is stamped %v, want the fixed %v", f.Name, f.Modified, packageTime)
		}
	}
}

func TestWriteZipWritesNothingForInvalidConfig(t *testing.T) {
	var buf bytes.Buffer
	c := validConfig()
	c.PublicURL = "http://bot.example.com"
	err := WriteZip(&buf, c)
	if !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("WriteZip = %v, want Invalid", err)
	}
	if buf.Len() != 0 {
		t.Errorf("wrote %d bytes for an invalid config", buf.Len())
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteZipReportsWriteFailure(t *testing.T) {
	err := WriteZip(failingWriter{}, validConfig())
	if err == nil || apperr.KindOf(err) != apperr.Internal {
		t.Fatalf("WriteZip = %v, want an Internal error", err)
	}
	if msg := apperr.UserMessage(err); msg == "" || bytes.Contains([]byte(msg), []byte("disk full")) {
		t.Errorf("user message %q should be generic; the cause is for logs", msg)
	}
}

func BenchmarkWriteZip(b *testing.B) {
	c := validConfig()
	for b.Loop() {
		if err := WriteZip(io.Discard, c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderIcons(b *testing.B) {
	for b.Loop() {
		if _, err := encodePNG(colorIcon()); err != nil {
			b.Fatal(err)
		}
		if _, err := encodePNG(outlineIcon()); err != nil {
			b.Fatal(err)
		}
	}
}
