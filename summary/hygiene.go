package summary

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// CleanText removes the characters a person cannot see but a program acts on,
// from any text that came from outside: insight text, owners and titles of a
// summary (pasted or delivered), work item titles and comments typed into a
// form, and chat commands. It is the one sanitizer for all of them, so every
// path keeps the same rule:
//
//   - NUL and the other C0 and C1 control characters are removed; tab, line
//     feed and carriage return stay (they are layout, and callers decide).
//     Azure DevOps refuses NUL in a title; a database or a log line may cut at it.
//   - Bidirectional controls are removed: the embeddings and overrides
//     U+202A-U+202E, the isolates U+2066-U+2069 and the marks U+200E, U+200F,
//     U+061C. They make a title read differently from what it holds
//     ("Trojan Source"), in a work item, a card and a notification alike.
//   - Zero-width characters that carry no meaning in a line of text are
//     removed: U+200B (zero-width space), U+2060 (word joiner), U+FEFF (byte
//     order mark). They make "help" typed after a paste a word nobody sees.
//   - U+200C and U+200D (zero-width non-joiner and joiner) are kept only
//     between two non-ASCII characters, where they shape Persian or Indic
//     script and join emoji sequences; next to ASCII or at an edge they
//     only hide inside words.
//
// Each byte that is not valid UTF-8 becomes U+FFFD: kept as it was, two
// invalid bytes around a removed character would join into a new one (even
// into a bidi override), so the output is always valid UTF-8.
func CleanText(s string) string {
	if !needsCleaning(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case invisible(r):
		case r == '\u200c' || r == '\u200d':
			if nonASCIIBefore(s[:i]) && nonASCIIAfter(s[i+n:]) {
				b.WriteRune(r)
			}
		default:
			b.WriteRune(r)
		}
		i += n
	}
	return b.String()
}

// invisible is what CleanText always removes.
func invisible(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return false
	case unicode.IsControl(r): // C0, DEL and C1
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	switch r {
	case '\u200e', '\u200f', '\u061c', '\u200b', '\u2060', '\ufeff':
		return true
	}
	return false
}

func needsCleaning(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if invisible(r) || r == '\u200c' || r == '\u200d' {
			return true
		}
	}
	return false
}

// nonASCIIBefore reports whether the character before the end of s, skipping
// the characters CleanText removes, is a non-ASCII one.
func nonASCIIBefore(s string) bool {
	for len(s) > 0 {
		r, n := utf8.DecodeLastRuneInString(s)
		if !invisible(r) {
			return r >= utf8.RuneSelf && r != '\u200c' && r != '\u200d'
		}
		s = s[:len(s)-n]
	}
	return false
}

// nonASCIIAfter reports whether the first character of s CleanText keeps is a
// non-ASCII one other than a joiner.
func nonASCIIAfter(s string) bool {
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		if !invisible(r) && r != '\u200c' && r != '\u200d' {
			return r >= utf8.RuneSelf
		}
		s = s[n:]
	}
	return false
}
