package request_test

import (
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/request"
)

// Where a request's proof stands: none until a code is sent (or after the only one was taken
// back), pending while its code may be entered, verified once entered, expired once its 15
// minutes are over or its five wrong tries spent it.
func TestVerificationStatus(t *testing.T) {
	sent := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	verified := sent.Add(time.Minute)
	pending := request.Verification{EndUserID: "u1", Channel: "telegram", CodeHash: "h", SentAt: sent, ExpiresAt: sent.Add(15 * time.Minute)}
	with := func(change func(*request.Verification)) *request.Verification {
		v := pending
		change(&v)
		return &v
	}
	tests := []struct {
		name string
		v    *request.Verification
		at   time.Time
		want request.VerificationStatus
	}{
		{"never asked", nil, sent, request.VerificationNone},
		{"nothing delivered", &request.Verification{}, sent, request.VerificationNone},
		{"just sent", &pending, sent, request.VerificationPending},
		{"a second before expiry", &pending, sent.Add(15*time.Minute - time.Second), request.VerificationPending},
		{"at expiry", &pending, sent.Add(15 * time.Minute), request.VerificationExpired},
		{"four wrong tries", with(func(v *request.Verification) { v.Attempts = 4 }), sent, request.VerificationPending},
		{"five wrong tries", with(func(v *request.Verification) { v.Attempts = request.MaxCodeTries }), sent, request.VerificationExpired},
		{"spent (hash dropped)", with(func(v *request.Verification) { v.CodeHash = "" }), sent, request.VerificationExpired},
		{"entered", with(func(v *request.Verification) { v.CodeHash, v.VerifiedAt = "", &verified }), sent.Add(48 * time.Hour), request.VerificationVerified},
	}
	for _, tc := range tests {
		r := request.Request{Kind: request.KindEndCustomerRequest, Verification: tc.v}
		if got := r.VerificationStatus(tc.at); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}
