package teamstest

import (
	"io"
	"strings"
)

// CountingBody is a request body that counts the bytes read from it, so a
// test can show that a request refused before its body was read (no valid
// token) cost no parsing.
type CountingBody struct {
	r io.Reader
	N int // bytes read so far
}

// NewCountingBody returns a body holding s.
func NewCountingBody(s string) *CountingBody { return &CountingBody{r: strings.NewReader(s)} }

func (b *CountingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.N += n
	return n, err
}

// Close does nothing: the body is in memory.
func (b *CountingBody) Close() error { return nil }
