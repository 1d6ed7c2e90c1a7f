package channels

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"time"
)

// SignedRequest is the verified payload of a Meta signed_request, as POSTed (form field
// "signed_request") to the Data Deletion Request Callback and the Deauthorize Callback of Facebook
// Login, Messenger and Instagram apps.
type SignedRequest struct {
	// UserID is the app-scoped user id ("user_id"). The payload may carry it as a JSON string or a JSON
	// number; a number is kept as its exact decimal digits, even above 2^53.
	UserID string
	// Algorithm is "algorithm" as sent; it always equals "HMAC-SHA256" ignoring case.
	Algorithm string
	// IssuedAt is "issued_at" (unix seconds) in UTC; zero if absent.
	IssuedAt time.Time
	// Expires is "expires" (unix seconds) in UTC; zero if absent. Meta's data-deletion example payload
	// carries it; this package does not enforce it.
	Expires time.Time
}

// ParseSignedRequest verifies and decodes a Meta signed_request `<b64url signature>.<b64url payload>`
// as Meta's parse_signed_request example does: the signature is HMAC-SHA256 keyed with appSecret over
// the payload segment exactly as received (the base64url text, not the decoded JSON), compared in
// constant time (hmac.Equal). Both segments may be base64url with or without '=' padding; no other
// characters are accepted. The HMAC is checked before the payload is decoded, so nothing
// unauthenticated is ever parsed.
//
// Errors: an empty appSecret, a signature that is not base64url or does not match, or an "algorithm"
// other than HMAC-SHA256 (compared case-insensitively; absent counts as other) → ErrForged. A string
// that is not two dot-separated segments, longer than MaxBodyBytes, a payload that is not a base64url
// JSON object, or a missing/invalid "user_id" or invalid "issued_at"/"expires" → ErrMalformed.
//
// ParseSignedRequest does not check freshness: Meta documents no replay window for these callbacks,
// and deleting the same user twice is harmless. IssuedAt is returned for the caller to log or check.
func ParseSignedRequest(signed, appSecret string) (SignedRequest, error) {
	if appSecret == "" {
		return SignedRequest{}, forged("no app secret configured")
	}
	if len(signed) > MaxBodyBytes {
		return SignedRequest{}, errTooLarge
	}
	sigPart, payloadPart, ok := strings.Cut(signed, ".")
	if !ok || sigPart == "" || payloadPart == "" || strings.Contains(payloadPart, ".") {
		return SignedRequest{}, malformed("signed_request is not <signature>.<payload>")
	}
	sig, err := decodeBase64URL(sigPart)
	if err != nil {
		return SignedRequest{}, forged("signed_request signature is not base64url")
	}
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write([]byte(payloadPart))
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return SignedRequest{}, forged("signed_request signature does not match")
	}

	payload, err := decodeBase64URL(payloadPart)
	if err != nil {
		return SignedRequest{}, malformed("signed_request payload is not base64url")
	}
	o, err := parseObject(payload, "signed_request payload")
	if err != nil {
		return SignedRequest{}, err
	}
	alg, _, err := o.str("algorithm")
	if err != nil || !strings.EqualFold(alg, "HMAC-SHA256") {
		return SignedRequest{}, forged("signed_request algorithm is not HMAC-SHA256")
	}
	userID, ok, err := o.id("user_id", false)
	if err != nil {
		return SignedRequest{}, err
	}
	if !ok {
		return SignedRequest{}, malformed("user_id missing")
	}
	issuedAt, err := unixField(o, "issued_at")
	if err != nil {
		return SignedRequest{}, err
	}
	expires, err := unixField(o, "expires")
	if err != nil {
		return SignedRequest{}, err
	}
	return SignedRequest{UserID: userID, Algorithm: alg, IssuedAt: issuedAt, Expires: expires}, nil
}

// unixField reads an optional non-negative unix-seconds integer member.
func unixField(o object, key string) (time.Time, error) {
	n, ok, err := o.int(key)
	if err != nil {
		return time.Time{}, err
	}
	if !ok {
		return time.Time{}, nil
	}
	if n < 0 {
		return time.Time{}, malformed(key + " is negative")
	}
	return time.Unix(n, 0).UTC(), nil
}

// decodeBase64URL decodes base64url (RFC 4648 §5) with or without '=' padding. Only the URL-safe
// alphabet is accepted (no '+', '/', whitespace or line breaks, which Go's decoder would otherwise
// skip), padding must be complete when present, and the unused trailing bits must be zero, so each
// byte string has exactly two accepted spellings: padded and unpadded.
func decodeBase64URL(s string) ([]byte, error) {
	trimmed := strings.TrimRight(s, "=")
	if pad := len(s) - len(trimmed); pad > 2 || (pad > 0 && len(s)%4 != 0) {
		return nil, errBase64
	}
	if trimmed == "" {
		return nil, errBase64
	}
	for i := 0; i < len(trimmed); i++ {
		c := trimmed[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return nil, errBase64
		}
	}
	return base64.RawURLEncoding.Strict().DecodeString(trimmed)
}

var errBase64 = malformed("not base64url")
