// Package apperr is the one error type every package of the bot shares: a kind that
// says what went wrong in a way callers can branch on (and that maps to an HTTP
// status), and a message that is safe to show a user. Anything else (the cause)
// is for logs only and never reaches a card, a page or an HTTP body.
package apperr

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies an error for callers. The zero value is Internal.
type Kind int

const (
	Internal     Kind = iota // a bug or an unexpected failure: log it, show an apology
	Invalid                  // the input is wrong: show the message, keep the input
	NotFound                 // the thing does not exist (or the user may not see it)
	Unauthorized             // the user must sign in (again)
	Forbidden                // signed in, but not allowed
	Conflict                 // someone else did it first / it exists already
	RateLimited              // slow down; RetryAfter says for how long
	Unavailable              // a dependency is down or slow: try again later
)

var kindNames = [...]string{"internal", "invalid", "not_found", "unauthorized", "forbidden", "conflict", "rate_limited", "unavailable"}

func (k Kind) String() string {
	if int(k) < len(kindNames) && k >= 0 {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is the shared error type. Message is safe for users; Cause is not.
type Error struct {
	Kind       Kind
	Message    string        // safe to show a user; empty means "use a generic text for the kind"
	RetryAfter time.Duration // for RateLimited (and sometimes Unavailable)
	// Code is the other system's own error code (Azure DevOps' "TF401347"):
	// safe to show in small print, so that support and search engines can
	// find it, but never the message itself.
	Code  string
	Cause error // for logs only
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = e.Kind.String()
	}
	if e.Cause != nil {
		return msg + ": " + e.Cause.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Cause }

// New returns an error of kind k with a user-safe message.
func New(k Kind, msg string) *Error { return &Error{Kind: k, Message: msg} }

// Wrap returns an error of kind k with a user-safe message and a cause for the logs.
func Wrap(k Kind, msg string, cause error) *Error { return &Error{Kind: k, Message: msg, Cause: cause} }

// KindOf reports the kind of err: that of the first *Error in its chain, Internal otherwise.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Is reports whether err carries kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }

// UserMessage returns the message safe to show a user for err.
func UserMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	switch KindOf(err) {
	case Invalid:
		return "That input is not valid."
	case NotFound:
		return "That was not found."
	case Unauthorized:
		return "Please sign in again."
	case Forbidden:
		return "You do not have permission to do that."
	case Conflict:
		return "That was already done."
	case RateLimited:
		return "Too many requests right now. Please try again shortly."
	case Unavailable:
		return "A service we depend on is unavailable. Please try again shortly."
	default:
		return "Something went wrong on our side."
	}
}

// CodeOf returns the Code of the first *Error in err's chain.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// RetryAfterOf returns the RetryAfter of the first *Error in err's chain.
func RetryAfterOf(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}
