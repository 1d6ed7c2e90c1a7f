package api

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/deletion"
	"github.com/lethe-dev/lethe/internal/erasure"
	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/httpapi"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/lerr"
	"github.com/lethe-dev/lethe/internal/mailer"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/reauth"
	"github.com/lethe-dev/lethe/internal/requests"
)

// The API answers every code with httpapi's problem for it: the one writer the webhooks use too.
func TestProblemOfMapsEveryCodeThroughTheSharedWriter(t *testing.T) {
	for _, code := range lerr.Codes {
		err := fmt.Errorf("cancel request r1: %w", lerr.Errorf(code, "safe words"))
		got := problemOf(err)
		if got.Status != httpapi.Status(code) || got.ContentType != httpapi.ProblemContentType {
			t.Errorf("%s: status %d %q, want %d %q", code, got.Status, got.ContentType, httpapi.Status(code), httpapi.ProblemContentType)
		}
		want := httpapi.ProblemOf(err)
		if code == lerr.EINVALID { // a 400 also names what in the body is wrong
			want = httpapi.NewProblem(400, "the request is invalid", FieldError{Field: "body", Message: err.Error()})
		}
		if !reflect.DeepEqual(got.Body, want) {
			t.Errorf("%s: body %+v, want %+v", code, got.Body, want)
		}
	}
}

// What each domain error answered before the vocabulary, it answers still.
func TestProblemOfKeepsEveryAnswer(t *testing.T) {
	const internal = 0
	tests := []struct {
		err    error
		status int
		detail string
	}{
		{reauth.ErrWrongPassword, 403, "the password is not right"},
		{requests.ErrNoRequest, 404, "no such deletion request"},
		{fmt.Errorf("read r1: %w", ledger.ErrNotFound), 404, "no such deletion request"},
		{requests.ErrTooLate, 409, "the request can no longer be changed"},
		{fmt.Errorf("%w: r1 is completed", ledger.ErrConflict), 409, "the request can no longer be changed"},
		{notFound("no such bot"), 404, "no such bot"},
		{lerr.Errorf(lerr.EFORBIDDEN, "only an admin of this bot may do this"), 403, "only an admin of this bot may do this"},
		{lerr.Errorf(lerr.ECONFLICT, "the preview's bot is gone: preview again"), 409, "the preview's bot is gone: preview again"},
		// Lethe's own faults: a 500 that says nothing.
		{platform.ErrNotFound, internal, ""},
		{ledger.ErrExists, internal, ""},
		{erasure.ErrUnknownScope, internal, ""},
		{deletion.ErrNotVerified, internal, ""},
		{deletion.ErrNotDeleting, internal, ""},
		{evidence.ErrLocale, internal, ""},
		{fmt.Errorf("%w: no signer", evidence.ErrInvalid), internal, ""},
		{mailer.ErrBadAddress, internal, ""},
		{&mailer.MissingDataError{Template: mailer.AccountDeletionCancelled, Field: "AccountEmail"}, internal, ""},
		{errors.New("dial tcp: i/o timeout"), internal, ""},
	}
	for _, tt := range tests {
		got := problemOf(tt.err)
		want := tt.status
		if want == internal {
			want = http.StatusInternalServerError
		}
		p, _ := got.Body.(Problem)
		if got.Status != want || p.Status != want || p.Detail != tt.detail || p.Errors != nil {
			t.Errorf("problemOf(%v) = %d %+v, want %d %q", tt.err, got.Status, p, want, tt.detail)
		}
	}

	in := problemOf(fmt.Errorf("%w: the scope names no bot", requests.ErrInvalid))
	if p := in.Body.(Problem); in.Status != 400 || p.Detail != "the request is invalid" ||
		!reflect.DeepEqual(p.Errors, []FieldError{{Field: "body", Message: "invalid deletion request: the scope names no bot"}}) {
		t.Errorf("requests.ErrInvalid answers %d %+v", in.Status, p)
	}
	field := problemOf(badRequest("to", "must be after from"))
	if p := field.Body.(Problem); field.Status != 400 || !reflect.DeepEqual(p.Errors, []FieldError{{Field: "to", Message: "must be after from"}}) {
		t.Errorf("badRequest answers %d %+v", field.Status, p)
	}
	locked := problemOf(fmt.Errorf("verify password: %w", &reauth.LockedError{Until: time.Now().Add(90 * time.Second)}))
	if p := locked.Body.(Problem); locked.Status != 429 || p.Detail != "too many wrong passwords: try again later" ||
		locked.Headers["retry-after"] == "" || locked.Headers["retry-after"] == "0" {
		t.Errorf("a lock answers %d %+v %v", locked.Status, p, locked.Headers)
	}
}
