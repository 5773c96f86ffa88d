package manifest

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"sync"
)

// The icons are drawn from geometry rather than shipped as binary files, so the package has no
// assets to keep in sync and their properties (size, outline colours) are checked by tests.
// The mark is a white check mark: "turned into a tracked work item".

// Icon sizes Teams requires.
const (
	ColorIconSize   = 192
	OutlineIconSize = 32
)

// azureBlue matches accentColor so Teams' tile frame and the icon background agree.
var azureBlue = color.NRGBA{R: 0x00, G: 0x78, B: 0xD4, A: 0xFF}

type point struct{ x, y float64 }

// distToSegment is the distance from p to the segment ab; a stroke is every point within half its
// width of the polyline, which gives round caps and joins for free.
func distToSegment(p, a, b point) float64 {
	dx, dy := b.x-a.x, b.y-a.y
	t := ((p.x-a.x)*dx + (p.y-a.y)*dy) / (dx*dx + dy*dy)
	t = math.Max(0, math.Min(1, t))
	return math.Hypot(p.x-(a.x+t*dx), p.y-(a.y+t*dy))
}

func onStroke(p point, line []point, width float64) bool {
	for i := 1; i < len(line); i++ {
		if distToSegment(p, line[i-1], line[i]) <= width/2 {
			return true
		}
	}
	return false
}

// roundedBoxDist is the signed distance from p to a rounded square centred at c (negative inside).
func roundedBoxDist(p, c point, half, radius float64) float64 {
	qx := math.Abs(p.x-c.x) - (half - radius)
	qy := math.Abs(p.y-c.y) - (half - radius)
	outside := math.Hypot(math.Max(qx, 0), math.Max(qy, 0))
	inside := math.Min(math.Max(qx, qy), 0)
	return outside + inside - radius
}

// coverage returns, per pixel, the share of 4x4 sub-samples inside the shape: cheap anti-aliasing.
func coverage(size int, inside func(point) bool) []float64 {
	const n = 4
	cov := make([]float64, size*size)
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			hits := 0
			for sy := 0; sy < n; sy++ {
				for sx := 0; sx < n; sx++ {
					if inside(point{float64(x) + (float64(sx)+0.5)/n, float64(y) + (float64(sy)+0.5)/n}) {
						hits++
					}
				}
			}
			cov[y*size+x] = float64(hits) / (n * n)
		}
	}
	return cov
}

// colorIcon is a full-bleed Azure blue square (Teams rounds the corners itself) with a white check
// inside the central 96x96 area Teams keeps clear of its frame.
func colorIcon() *image.NRGBA {
	const s = ColorIconSize
	check := []point{{58, 98}, {84, 124}, {136, 70}}
	cov := coverage(s, func(p point) bool { return onStroke(p, check, 20) })
	img := image.NewNRGBA(image.Rect(0, 0, s, s))
	for i, c := range cov {
		mix := func(bg uint8) uint8 { return uint8(math.Round(float64(bg)*(1-c) + 255*c)) }
		img.SetNRGBA(i%s, i/s, color.NRGBA{R: mix(azureBlue.R), G: mix(azureBlue.G), B: mix(azureBlue.B), A: 0xFF})
	}
	return img
}

// outlineIcon is the same mark as a white line drawing on transparent, inside a rounded square.
// Teams requires outline icons to use only white and transparency, so pixels are either opaque white
// or fully transparent (a pixel is on when at least half of it is covered).
func outlineIcon() *image.NRGBA {
	const s = OutlineIconSize
	c := point{16, 16}
	check := []point{{9.5, 16.5}, {14, 21}, {22.5, 11.5}}
	cov := coverage(s, func(p point) bool {
		ring := roundedBoxDist(p, c, 15, 7) <= 0 && roundedBoxDist(p, c, 13, 5) > 0
		return ring || onStroke(p, check, 3)
	})
	img := image.NewNRGBA(image.Rect(0, 0, s, s))
	for i, v := range cov {
		if v >= 0.5 {
			img.SetNRGBA(i%s, i/s, color.NRGBA{R: 0xFF, G: 0xFF, B: 0xFF, A: 0xFF})
		}
	}
	return img
}

func encodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// iconPNGs renders both icons once per process: they never change, and WriteZip may run per request.
var iconPNGs = sync.OnceValues(func() ([2][]byte, error) {
	colorPNG, err := encodePNG(colorIcon())
	if err != nil {
		return [2][]byte{}, err
	}
	outlinePNG, err := encodePNG(outlineIcon())
	if err != nil {
		return [2][]byte{}, err
	}
	return [2][]byte{colorPNG, outlinePNG}, nil
})
