// Package fault gives errors a kind, so that each surface (the eSIM Go API,
// the admin API, the CLI) can map one kind to one status in one table, and so
// that internal details never reach a client.
//
// Services return *Error values built with the helpers below; anything else
// that reaches a boundary is treated as Internal.
package fault

import (
	"context"
	"errors"
	"fmt"
)

// Kind says what went wrong from the caller's point of view.
type Kind uint8

const (
	// Internal is a failure of ours; its message is never shown to clients.
	Internal Kind = iota
	// Invalid means the request is malformed or breaks a rule; fix and retry.
	Invalid
	// NotFound means the named object does not exist.
	NotFound
	// Forbidden means the caller may not do this, or may not see the object
	// (eSIM Go answers 403 for objects of another organisation).
	Forbidden
	// Unauthenticated means no valid API key was presented.
	Unauthenticated
	// Conflict means the request clashes with current state (an idempotency
	// key reused with another body, a unique name taken).
	Conflict
	// Gone means the object existed but is no longer usable (deactivated eSIM).
	Gone
	// Unavailable means the work is not done yet or a dependency is down;
	// retry later.
	Unavailable
	// RateLimited means the caller sent too much; retry after a delay.
	RateLimited
)

var kindNames = [...]string{
	Internal:        "internal",
	Invalid:         "invalid",
	NotFound:        "not found",
	Forbidden:       "forbidden",
	Unauthenticated: "unauthenticated",
	Conflict:        "conflict",
	Gone:            "gone",
	Unavailable:     "unavailable",
	RateLimited:     "rate limited",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Error is an error with a kind and a message meant for the caller.
type Error struct {
	Kind    Kind
	Message string // safe to show to the caller; says what to fix
	Err     error  // the cause, for logs only
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Kind.String() + ": " + e.Message + ": " + e.Err.Error()
	}
	return e.Kind.String() + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an error of kind k with a formatted message for the caller.
func E(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// Wrap builds an error of kind k that keeps err as its cause.
func Wrap(k Kind, err error, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...), Err: err}
}

// Invalidf, NotFoundf … are shorthands for E with that kind.
func Invalidf(format string, args ...any) *Error   { return E(Invalid, format, args...) }
func NotFoundf(format string, args ...any) *Error  { return E(NotFound, format, args...) }
func Forbiddenf(format string, args ...any) *Error { return E(Forbidden, format, args...) }
func Conflictf(format string, args ...any) *Error  { return E(Conflict, format, args...) }

// KindOf returns the kind of the first *Error in err's chain, or Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// MessageOf returns the caller-facing message of err. Internal errors get a
// fixed text so that nothing of ours leaks.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Kind != Internal {
		return e.Message
	}
	return "Internal server error; the request was not completed. Retry later or contact the operator."
}

// Is reports whether err has kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }

// Cancelled reports whether err is the consequence of ctx having ended
// (the client went away) rather than a failure to report: ctx is done and
// err is context.Canceled or no answer to the caller (kind Internal or
// Unavailable). A driver reports a statement it stopped because its
// context ended in its own words (SQLite's "interrupted", database/sql's
// "bad connection" or "transaction has already been committed or rolled
// back", pgx's "conn closed"), and nobody reads the answer anyway.
func Cancelled(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() == nil {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	k := KindOf(err)
	return k == Internal || k == Unavailable
}
