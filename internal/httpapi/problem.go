package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/lethe-dev/lethe/internal/lerr"
)

// ProblemBase prefixes every problem type; the types are stable (api/openapi.yaml lists them).
const ProblemBase = "https://lethe.dev/problems/"

// ProblemContentType is the media type of every error answer, the dashboard API's and the webhooks'.
const ProblemContentType = "application/problem+json"

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
	http.StatusGone:                 {"gone", "Gone"},
	http.StatusUnsupportedMediaType: {"unsupported-media-type", "Unsupported Media Type"},
	// 422: understood and well-formed, but it cannot be done as asked (no chat to send a one-time
	// code to, a wrong code).
	http.StatusUnprocessableEntity: {"unprocessable", "Unprocessable Content"},
	http.StatusTooManyRequests:     {"too-many-requests", "Too Many Requests"},
	http.StatusInternalServerError: {"internal", "Internal Server Error"},
	// 503: a service Lethe depends on (a channel's API) gave no answer; the call may be tried later.
	http.StatusServiceUnavailable: {"unavailable", "Service Unavailable"},
}

// statusOf is the one map from an error's code to its HTTP status; a code not here is a 500.
var statusOf = map[lerr.Code]int{
	lerr.EINVALID:      http.StatusBadRequest,
	lerr.EUNAUTHORIZED: http.StatusUnauthorized,
	lerr.EFORBIDDEN:    http.StatusForbidden,
	lerr.ENOTFOUND:     http.StatusNotFound,
	lerr.ECONFLICT:     http.StatusConflict,
	lerr.EUNSUPPORTED:  http.StatusUnsupportedMediaType,
	lerr.ELOCKED:       http.StatusTooManyRequests,
}

// Status is the HTTP status an error of the code answers with.
func Status(code lerr.Code) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// NewProblem is the problem of a status, with its stable type and title; a status without a type
// becomes a 500.
func NewProblem(status int, detail string, fields ...FieldError) Problem {
	t, ok := problemTypes[status]
	if !ok {
		status, t = http.StatusInternalServerError, problemTypes[http.StatusInternalServerError]
	}
	return Problem{Type: ProblemBase + t.slug, Title: t.title, Status: status, Detail: detail, Errors: fields}
}

// ProblemOf maps an error by its code; the detail is the error's safe message, and an error without
// a code is a 500 that says nothing about its cause.
func ProblemOf(err error) Problem {
	status := Status(lerr.ErrorCode(err))
	if status == http.StatusInternalServerError {
		return NewProblem(status, "")
	}
	return NewProblem(status, lerr.ErrorMessage(err))
}

// JSON is the problem's body.
func (p Problem) JSON() []byte {
	b, err := json.Marshal(p)
	if err != nil { // a Problem is strings and an int: cannot happen
		return []byte(`{"type":"` + ProblemBase + `internal","title":"Internal Server Error","status":500}`)
	}
	return b
}
