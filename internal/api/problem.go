package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/lethe-dev/lethe/internal/httpapi"
	"github.com/lethe-dev/lethe/internal/lerr"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/reauth"
	"github.com/lethe-dev/lethe/internal/verification"
)

// Problem is an RFC 9457 problem details body.
type Problem = httpapi.Problem

// FieldError names one invalid field of a 400.
type FieldError = httpapi.FieldError

func problemFor(status int, detail string, fields ...FieldError) Response {
	return problemResponse(httpapi.NewProblem(status, detail, fields...))
}

func problemResponse(p Problem) Response {
	return Response{Status: p.Status, ContentType: httpapi.ProblemContentType, Body: p}
}

// inputError is a 400 naming the field.
type inputError struct{ fields []FieldError }

func (e *inputError) Error() string {
	return "bad input: " + e.fields[0].Field + ": " + e.fields[0].Message
}

func badRequest(field, message string) error {
	return &inputError{fields: []FieldError{{Field: field, Message: message}}}
}

func notFound(detail string) error { return lerr.Errorf(lerr.ENOTFOUND, "%s", detail) }

// problemOf maps a domain error to its answer by its code. The domain's errors say nothing
// personal; anything unexpected becomes a 500 without its text.
func problemOf(err error) Response {
	var in *inputError
	if errors.As(err, &in) {
		return problemFor(http.StatusBadRequest, "the request is invalid", in.fields...)
	}
	if errors.Is(err, platform.ErrBadCursor) {
		// A cursor is a query parameter, not the body: the 400 names it.
		return problemFor(http.StatusBadRequest, "the request is invalid", FieldError{Field: "cursor", Message: platform.ErrBadCursor.Error()})
	}
	switch lerr.ErrorCode(err) {
	case lerr.EINVALID:
		// The domain's refusal says which rule the body broke (requests.ErrInvalid wraps it).
		return problemFor(http.StatusBadRequest, "the request is invalid", FieldError{Field: "body", Message: err.Error()})
	case lerr.ELOCKED:
		r := problemResponse(httpapi.ProblemOf(err))
		var locked *reauth.LockedError
		if errors.As(err, &locked) {
			secs := int(time.Until(locked.Until).Seconds())
			r.Headers = map[string]string{"retry-after": strconv.Itoa(max(1, secs))}
		}
		var limit *verification.LimitError
		if errors.As(err, &limit) {
			r.Headers = map[string]string{"retry-after": retryAfter(limit.Until, limit.At)}
		}
		return r
	}
	return problemResponse(httpapi.ProblemOf(err))
}
