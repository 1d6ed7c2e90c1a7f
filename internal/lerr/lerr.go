// Package lerr is Lethe's one error vocabulary: an error with a code that says how it must be
// answered, in the shape of benbjohnson/wtf. The domain returns coded errors (or wraps them); each
// edge maps a code once: internal/httpapi to a problem+json status and type, internal/workflow to
// the Step Functions error name the ASL's Retry and Catch match, internal/intake to the name a
// failed mail is journaled under. An error without a code is EINTERNAL.
package lerr

import (
	"fmt"
)

// Code is the kind of an error: what the caller did wrong, or what state stopped the work.
type Code string

// The codes. The HTTP statuses and Step Functions names they map to are in the edges' tables.
const (
	// EINVALID: the caller's input is malformed or incomplete.
	EINVALID Code = "invalid"
	// EUNAUTHORIZED: the caller is not who it claims (a forged or expired signal or token).
	EUNAUTHORIZED Code = "unauthorized"
	// EFORBIDDEN: the caller is known but may not do this.
	EFORBIDDEN Code = "forbidden"
	// ENOTFOUND: what the caller names does not exist (or is not the caller's to see).
	ENOTFOUND Code = "not_found"
	// ECONFLICT: the state does not allow the change (any more, or someone else changed it first).
	ECONFLICT Code = "conflict"
	// EUNSUPPORTED: the body is of a media type the route does not take.
	EUNSUPPORTED Code = "unsupported"
	// ELOCKED: too many failed attempts; try again later.
	ELOCKED Code = "locked"
	// EWINDOWOPEN: a hard delete was asked to start before its soft-delete window ended.
	EWINDOWOPEN Code = "window_open"
	// ENOTVERIFIED: the verification pass still found data in scope; erase it again.
	ENOTVERIFIED Code = "not_verified"
	// ENOTDELETING: the request left hard_deleting under the task (an operator intervened).
	ENOTDELETING Code = "not_deleting"
	// EINCOMPLETE: a fact a step needs (a mail's data) is missing from what Lethe holds: not the
	// caller's fault, and retrying does not help.
	EINCOMPLETE Code = "incomplete"
	// EINTERNAL: anything else, Lethe's own data or code; the caller is told nothing of it.
	EINTERNAL Code = "internal"
)

// Codes lists every code, for the edges' table tests.
var Codes = []Code{EINVALID, EUNAUTHORIZED, EFORBIDDEN, ENOTFOUND, ECONFLICT, EUNSUPPORTED, ELOCKED,
	EWINDOWOPEN, ENOTVERIFIED, ENOTDELETING, EINCOMPLETE, EINTERNAL}

// Error is an error with a code. Error() is the text for logs and the code that wraps it; Message
// is what an edge may tell the caller, and must say nothing personal.
type Error struct {
	Code    Code
	Message string
	text    string
}

// New is a sentinel error: text is its Error(); it tells a caller nothing but its code until Tell
// gives it a message.
func New(code Code, text string) *Error { return &Error{Code: code, text: text} }

// Tell returns the error with the message an edge shows the caller. Only for declaring sentinels:
// it makes a new error, so call it once, in the var declaration.
func (e *Error) Tell(message string) *Error {
	return &Error{Code: e.Code, Message: message, text: e.text}
}

// Errorf is an error whose formatted text is both its Error() and the message a caller is told,
// so its arguments must be safe to show: ids and fixed words, never personal data.
func Errorf(code Code, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Code: code, Message: msg, text: msg}
}

func (e *Error) Error() string { return e.text }

// ErrorCode is the code of err: that of the first error in its chain with a code other than
// EINTERNAL (an internal wrapper hides nothing an edge may act on), "" for nil, EINTERNAL when there is
// none.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	if e := coded(err); e != nil {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage is what the caller may be told about err: the message of the error ErrorCode reads,
// "" for an internal one.
func ErrorMessage(err error) string {
	if e := coded(err); e != nil {
		return e.Message
	}
	return ""
}

// coded is the first error in err's chain, depth first as errors.As walks it, with a code an edge
// maps.
func coded(err error) *Error {
	switch x := err.(type) {
	case nil:
		return nil
	case *Error:
		if x.Code != "" && x.Code != EINTERNAL {
			return x
		}
		return nil
	case interface{ Unwrap() error }:
		return coded(x.Unwrap())
	case interface{ Unwrap() []error }:
		for _, inner := range x.Unwrap() {
			if e := coded(inner); e != nil {
				return e
			}
		}
	}
	return nil
}
