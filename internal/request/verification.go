package request

import "time"

// Verification is the proof an end customer may be asked for that they control the chat identity
// their request names: a one-time code the bot sends into that chat, entered on the status page.
// Only the code's HMAC is kept (keyed by VERIFICATION_SECRET over the request id and the code): a
// six-digit code cannot be found from the ledger by trying the million codes. The code itself is
// never stored, logged nor put in the history.
type Verification struct {
	// EndUserID, Channel and ConnectionID say whose chat the current code went to, and through
	// which connection.
	EndUserID    string `dynamodbav:"endUserId"`
	Channel      string `dynamodbav:"channel"`
	ConnectionID string `dynamodbav:"connectionId"`
	// CodeHash is the HMAC of the current code; empty once it is used, spent by wrong tries, or when
	// none was delivered.
	CodeHash  string    `dynamodbav:"codeHash,omitempty"`
	SentAt    time.Time `dynamodbav:"sentAt"`
	ExpiresAt time.Time `dynamodbav:"expiresAt"`
	// Attempts counts the wrong tries on the current code.
	Attempts int `dynamodbav:"attempts"`
	// Sends are when codes were sent within the last 24 hours (the per-request limit).
	Sends      []time.Time `dynamodbav:"sends,omitempty"`
	VerifiedAt *time.Time  `dynamodbav:"verifiedAt,omitempty"`
}

// VerificationStatus is where a request's proof stands, as the owner and the officer see it.
type VerificationStatus string

const (
	VerificationNone     VerificationStatus = "none"
	VerificationPending  VerificationStatus = "pending"
	VerificationVerified VerificationStatus = "verified"
	// VerificationExpired: a code was sent and can no longer be entered (expired or spent by wrong
	// tries); a new one may be asked for.
	VerificationExpired VerificationStatus = "expired"
)

// MaxCodeTries is how many wrong tries spend a code.
const MaxCodeTries = 5

// History notes of the verification (no code, no chat id, no name).
const (
	NoteVerificationSent = "verification_sent"
	NoteVerified         = "verified"
)

// VerificationStatus says where the request's proof stands at now.
func (r Request) VerificationStatus(now time.Time) VerificationStatus {
	v := r.Verification
	switch {
	case v == nil:
		return VerificationNone
	case v.VerifiedAt != nil:
		return VerificationVerified
	case v.Pending(now):
		return VerificationPending
	case v.SentAt.IsZero():
		return VerificationNone
	}
	return VerificationExpired
}

// Pending reports whether the current code may still be entered at now.
func (v *Verification) Pending(now time.Time) bool {
	return v != nil && v.VerifiedAt == nil && v.CodeHash != "" && now.Before(v.ExpiresAt) && v.Attempts < MaxCodeTries
}
