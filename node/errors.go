package node

import (
	"errors"
	"fmt"
)

// Kind classifies an error for the surfaces that report it: the gateway
// maps kinds to HTTP statuses, the CLI to exit codes.
type Kind string

// The kinds of error the node reports.
const (
	KindInternal     Kind = "internal"
	KindInvalid      Kind = "invalid"
	KindNotFound     Kind = "not_found"
	KindConflict     Kind = "conflict"
	KindUnauthorized Kind = "unauthorized"
	KindUnavailable  Kind = "unavailable"
)

// Error is an error with a kind, a message safe to show a user, and an
// internal cause for the logs.
type Error struct {
	Kind Kind
	Msg  string
	Err  error
}

// Error returns the message, followed by the cause when there is one.
func (e *Error) Error() string {
	if e.Err != nil && e.Msg != "" {
		return e.Msg + ": " + e.Err.Error()
	}
	if e.Err != nil {
		return e.Err.Error()
	}
	return e.Msg
}

// Unwrap gives the cause.
func (e *Error) Unwrap() error { return e.Err }

// KindOf is the kind of err: that of the outermost *Error in its chain, or
// KindInternal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

func invalidf(format string, args ...any) error {
	return &Error{Kind: KindInvalid, Msg: fmt.Sprintf(format, args...)}
}

func wrapKind(kind Kind, msg string, err error) error {
	return &Error{Kind: kind, Msg: msg, Err: err}
}

// PublicMessage is what err may tell a caller outside the node (an
// unauthenticated HTTP client, a remote peer): the message of the
// outermost *Error in its chain, never its cause, and for an internal
// error only that the node failed.
func PublicMessage(err error) string {
	var e *Error
	if !errors.As(err, &e) || e.Kind == KindInternal {
		return "the node could not complete the request"
	}
	if e.Msg != "" {
		return e.Msg
	}
	switch e.Kind {
	case KindInvalid:
		return "invalid request"
	case KindNotFound:
		return "not found"
	case KindConflict:
		return "conflict"
	case KindUnauthorized:
		return "unauthorized"
	case KindUnavailable:
		return "unavailable"
	}
	return "the node could not complete the request"
}
