package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/reauth"
	"github.com/lethe-dev/lethe/internal/requests"
)

// ProblemBase prefixes every problem type; the types are stable (api/openapi.yaml lists them).
const ProblemBase = "https://lethe.dev/problems/"

// Problem is an RFC 9457 problem details body.
type Problem struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail,omitempty"`
	Errors []FieldError `json:"errors,omitempty"`
}

// FieldError names one invalid field of a 400.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

var problemTypes = map[int]struct{ slug, title string }{
	http.StatusBadRequest:           {"bad-request", "Bad Request"},
	http.StatusUnauthorized:         {"unauthorized", "Unauthorized"},
	http.StatusForbidden:            {"forbidden", "Forbidden"},
	http.StatusNotFound:             {"not-found", "Not Found"},
	http.StatusConflict:             {"conflict", "Conflict"},
	http.StatusUnsupportedMediaType: {"unsupported-media-type", "Unsupported Media Type"},
	http.StatusTooManyRequests:      {"too-many-requests", "Too Many Requests"},
	http.StatusInternalServerError:  {"internal", "Internal Server Error"},
}

func problemFor(status int, detail string, fields ...FieldError) Response {
	t, ok := problemTypes[status]
	if !ok {
		status, t = http.StatusInternalServerError, problemTypes[http.StatusInternalServerError]
	}
	return Response{Status: status, ContentType: "application/problem+json",
		Body: Problem{Type: ProblemBase + t.slug, Title: t.title, Status: status, Detail: detail, Errors: fields}}
}

// inputError is a 400 naming the field.
type inputError struct{ fields []FieldError }

func (e *inputError) Error() string {
	return "bad input: " + e.fields[0].Field + ": " + e.fields[0].Message
}

func badRequest(field, message string) error {
	return &inputError{fields: []FieldError{{Field: field, Message: message}}}
}

// statusError answers with a status and a safe detail.
type statusError struct {
	status int
	detail string
}

func (e *statusError) Error() string { return e.detail }

func notFound(detail string) error { return &statusError{status: http.StatusNotFound, detail: detail} }

// problemOf maps a domain error to its answer. The domain's errors say nothing personal; anything
// unexpected becomes a 500 without its text.
func problemOf(err error) Response {
	var in *inputError
	var st *statusError
	var locked *reauth.LockedError
	switch {
	case errors.As(err, &in):
		return problemFor(http.StatusBadRequest, "the request is invalid", in.fields...)
	case errors.As(err, &st):
		return problemFor(st.status, st.detail)
	case errors.As(err, &locked):
		r := problemFor(http.StatusTooManyRequests, "too many wrong passwords: try again later")
		secs := int(time.Until(locked.Until).Seconds())
		r.Headers = map[string]string{"retry-after": strconv.Itoa(max(1, secs))}
		return r
	case errors.Is(err, reauth.ErrWrongPassword):
		return problemFor(http.StatusForbidden, "the password is not right")
	case errors.Is(err, requests.ErrNoRequest), errors.Is(err, ledger.ErrNotFound):
		return problemFor(http.StatusNotFound, "no such deletion request")
	case errors.Is(err, requests.ErrTooLate), errors.Is(err, ledger.ErrConflict):
		return problemFor(http.StatusConflict, "the request can no longer be changed")
	case errors.Is(err, requests.ErrInvalid):
		return problemFor(http.StatusBadRequest, "the request is invalid", FieldError{Field: "body", Message: err.Error()})
	case errors.Is(err, platform.ErrBadCursor):
		return problemFor(http.StatusBadRequest, "the request is invalid", FieldError{Field: "cursor", Message: platform.ErrBadCursor.Error()})
	}
	return problemFor(http.StatusInternalServerError, "")
}
