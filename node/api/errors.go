package api

import (
	"errors"
	"fmt"
	"net/http"
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
	KindForbidden    Kind = "forbidden"
	KindUnavailable  Kind = "unavailable"
	KindRateLimited  Kind = "rate_limited"
)

// HTTPStatus is the HTTP status of an error of kind k, for the JSON API
// and the web app alike; 500 for KindInternal and unknown kinds.
func (k Kind) HTTPStatus() int {
	switch k {
	case KindInvalid:
		return http.StatusBadRequest
	case KindNotFound:
		return http.StatusNotFound
	case KindConflict:
		return http.StatusConflict
	case KindUnauthorized:
		return http.StatusUnauthorized
	case KindForbidden:
		return http.StatusForbidden
	case KindRateLimited:
		return http.StatusTooManyRequests
	case KindUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// Error is an error with a kind, a message safe to show to whoever made
// the request (Msg), and an internal cause for the logs (Err), as wtf's
// Error and GoToSocial's WithCode do.
type Error struct {
	Kind Kind
	Msg  string
	Err  error
}

// Error returns the message, followed by the cause when there is one:
// the whole story, for logs and for the node's operator.
func (e *Error) Error() string {
	switch {
	case e.Err != nil && e.Msg != "":
		return e.Msg + ": " + e.Err.Error()
	case e.Err != nil:
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

// PublicMessage is what err may tell a caller outside the node (an
// unauthenticated HTTP client, a remote peer, a fediverse server): the
// message of the outermost *Error in its chain, never its cause, and for
// an internal error only that the node failed.
func PublicMessage(err error) string {
	var e *Error
	if !errors.As(err, &e) || e.Kind == KindInternal {
		return "the node could not complete the request"
	}
	if e.Msg != "" {
		return e.Msg
	}
	return string(e.Kind)
}

// Errorf builds an error of kind k whose message is safe to show.
func Errorf(k Kind, format string, args ...any) error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...)}
}

// Invalidf reports a request that is wrong as given; the message says
// what to change.
func Invalidf(format string, args ...any) error { return Errorf(KindInvalid, format, args...) }

// NotFoundf reports something the node does not have.
func NotFoundf(format string, args ...any) error { return Errorf(KindNotFound, format, args...) }

// Wrap gives err a kind and a message safe to show, keeping err as the
// internal cause.
func Wrap(k Kind, msg string, err error) error { return &Error{Kind: k, Msg: msg, Err: err} }
