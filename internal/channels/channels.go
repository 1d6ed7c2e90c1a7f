// Package channels verifies and parses the revocation signals that messaging channels send to a
// chatbot platform: Meta's data-deletion and deauthorize callbacks (signed_request), WhatsApp Cloud API
// webhooks (account_update), the Slack Events API (app_uninstalled, tokens_revoked), Telegram Bot API
// updates (my_chat_member: the user blocked the bot), the VK Callback API (message_deny) and the Viber
// REST bot API (unsubscribed).
//
// Everything here is a pure function of its arguments: no storage, no clock (the caller passes now),
// no HTTP. Each verifier follows the channel's public documentation:
//
//   - Meta signed_request: `<base64url signature>.<base64url payload>`, HMAC-SHA256 keyed with the app
//     secret over the payload segment exactly as received (Meta's parse_signed_request example).
//   - WhatsApp: GET handshake (hub.mode, hub.verify_token, hub.challenge) and
//     `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`.
//   - Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256(signing secret, "v0:"+timestamp+":"+raw body)>`,
//     with X-Slack-Request-Timestamp within five minutes of now.
//   - Telegram: `X-Telegram-Bot-Api-Secret-Token` equal to the secret_token given to setWebhook.
//   - VK: the "secret" field of the callback equal to the secret key set for the server.
//   - Viber: `X-Viber-Content-Signature: <hex HMAC-SHA256(auth token, raw body)>`.
//
// # Errors
//
// Every error returned wraps exactly one of ErrForged, ErrExpired or ErrMalformed (test with errors.Is),
// and its text never quotes the payload, a header or a secret: only fixed descriptions and the names of
// the fields concerned. The rule of thumb for which one:
//
//   - ErrForged (answer 401): the request does not authenticate — no secret configured, a signature or
//     token that is missing, badly formed or wrong, or a Meta signed_request whose algorithm is not
//     HMAC-SHA256.
//   - ErrExpired (answer 401): the request's timestamp is outside the replay window (Slack only:
//     |now - X-Slack-Request-Timestamp| > 5 minutes; checked before the signature).
//   - ErrMalformed (answer 400): the request cannot be read — a body over MaxBodyBytes, not JSON, not a
//     JSON object, a required field missing or of the wrong type, a non-numeric timestamp.
//
// # Hostile input
//
// Bodies over MaxBodyBytes (1 MiB) are refused with ErrMalformed before anything is decoded or hashed.
// JSON is decoded with exact (case-sensitive) key matching; numbers that are identifiers are kept as
// their decimal digits (never through float64), so ids above 2^53 survive intact. Every string returned
// is valid UTF-8. No input makes these functions panic (each parser has a fuzz target).
package channels

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/lethe-dev/lethe/internal/lerr"
)

var (
	// ErrForged: the signature, token or secret does not verify (answer 401).
	ErrForged = lerr.New(lerr.EUNAUTHORIZED, "channels: signature or secret does not verify")
	// ErrExpired: the request's timestamp is outside the replay window (answer 401).
	ErrExpired = lerr.New(lerr.EUNAUTHORIZED, "channels: outside the replay window")
	// ErrMalformed: the payload cannot be read (answer 400).
	ErrMalformed = lerr.New(lerr.EINVALID, "channels: malformed payload").Tell("the payload is not what the channel sends")
)

// MaxBodyBytes is the largest body (or signed_request) any function here will decode or hash; anything
// larger is refused with ErrMalformed. Callers should read at most MaxBodyBytes+1 bytes of a request
// body (for example with http.MaxBytesReader) so the refusal is cheap.
const MaxBodyBytes = 1 << 20

// maxIDLen bounds every identifier returned (user ids, account ids, event ids, ...).
const maxIDLen = 256

func forged(what string) error    { return fmt.Errorf("%w: %s", ErrForged, what) }
func expired(what string) error   { return fmt.Errorf("%w: %s", ErrExpired, what) }
func malformed(what string) error { return fmt.Errorf("%w: %s", ErrMalformed, what) }

var errTooLarge = malformed("body exceeds 1 MiB")

// equalSecret compares two shared secrets in constant time. Both are hashed first so the time taken
// does not depend on where they differ nor on their lengths.
func equalSecret(got, want string) bool {
	g := sha256.Sum256([]byte(got))
	w := sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// verifyHexMAC checks that sigHex is the hex (either case) HMAC-SHA256 of the concatenated parts under
// key, comparing in constant time.
func verifyHexMAC(sigHex string, key []byte, parts ...[]byte) error {
	if len(sigHex) != 2*sha256.Size {
		return forged("signature is not a hex HMAC-SHA256")
	}
	got, err := hex.DecodeString(sigHex)
	if err != nil {
		return forged("signature is not a hex HMAC-SHA256")
	}
	mac := hmac.New(sha256.New, key)
	for _, p := range parts {
		mac.Write(p)
	}
	if !hmac.Equal(got, mac.Sum(nil)) {
		return forged("signature does not match")
	}
	return nil
}

// object is one JSON object, its members kept raw so each is decoded with exact key matching
// (encoding/json's struct decoding matches keys case-insensitively, which no channel documents).
type object map[string]json.RawMessage

// decodeBody decodes a request body that must be a single JSON object.
func decodeBody(body []byte) (object, error) {
	if len(body) > MaxBodyBytes {
		return nil, errTooLarge
	}
	return parseObject(body, "body")
}

// parseObject decodes raw as a JSON object; name says which value it is (for the error text).
func parseObject(raw []byte, name string) (object, error) {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 || raw[0] != '{' {
		return nil, malformed(name + " is not a JSON object")
	}
	var o object
	if err := json.Unmarshal(raw, &o); err != nil || o == nil {
		return nil, malformed(name + " is not a JSON object")
	}
	return o, nil
}

// raw returns the member's raw JSON, or nil when the member is absent or null.
func (o object) raw(key string) []byte {
	r := bytes.TrimSpace(o[key])
	if len(r) == 0 || string(r) == "null" {
		return nil
	}
	return r
}

// str returns a string member; absent or null is ("", false, nil).
func (o object) str(key string) (string, bool, error) {
	r := o.raw(key)
	if r == nil {
		return "", false, nil
	}
	if r[0] != '"' {
		return "", false, malformed(key + " is not a string")
	}
	var s string
	if err := json.Unmarshal(r, &s); err != nil {
		return "", false, malformed(key + " is not a string")
	}
	return s, true, nil
}

// obj returns an object member; absent or null is (nil, false, nil).
func (o object) obj(key string) (object, bool, error) {
	r := o.raw(key)
	if r == nil {
		return nil, false, nil
	}
	v, err := parseObject(r, key)
	if err != nil {
		return nil, false, err
	}
	return v, true, nil
}

// arr returns an array member; absent or null is (nil, false, nil).
func (o object) arr(key string) ([]json.RawMessage, bool, error) {
	r := o.raw(key)
	if r == nil {
		return nil, false, nil
	}
	if r[0] != '[' {
		return nil, false, malformed(key + " is not an array")
	}
	var a []json.RawMessage
	if err := json.Unmarshal(r, &a); err != nil {
		return nil, false, malformed(key + " is not an array")
	}
	return a, true, nil
}

// int returns a member that must be a JSON integer number in int64 (no fraction, no exponent, not a
// string); absent or null is (0, false, nil).
func (o object) int(key string) (int64, bool, error) {
	r := o.raw(key)
	if r == nil {
		return 0, false, nil
	}
	if !isInteger(string(r)) {
		return 0, false, malformed(key + " is not an integer")
	}
	n, err := strconv.ParseInt(string(r), 10, 64)
	if err != nil {
		return 0, false, malformed(key + " is not an integer")
	}
	return n, true, nil
}

// id returns an identifier member that may be a JSON string or a JSON integer number; a number is
// returned as its exact decimal digits (never through float64). With digitsOnly, a string must also be
// decimal digits. Absent, null or "" is ("", false, nil).
func (o object) id(key string, digitsOnly bool) (string, bool, error) {
	r := o.raw(key)
	if r == nil {
		return "", false, nil
	}
	var s string
	switch {
	case r[0] == '"':
		if err := json.Unmarshal(r, &s); err != nil {
			return "", false, malformed(key + " is not an identifier")
		}
		if s == "" {
			return "", false, nil
		}
		if digitsOnly && !isDigits(s) {
			return "", false, malformed(key + " is not a decimal identifier")
		}
	case isDigits(string(r)):
		s = string(r)
	default:
		return "", false, malformed(key + " is not an identifier")
	}
	if !validID(s) {
		return "", false, malformed(key + " is not an identifier")
	}
	return s, true, nil
}

// validID: 1..maxIDLen bytes of valid UTF-8 without control characters.
func validID(s string) bool {
	if s == "" || len(s) > maxIDLen || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// isDigits: one or more ASCII decimal digits and nothing else.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isInteger: an optional '-' followed by decimal digits.
func isInteger(s string) bool {
	if len(s) > 0 && s[0] == '-' {
		s = s[1:]
	}
	return isDigits(s)
}

// tokenString reports whether s is 1..max bytes drawn from the characters channels use in handshake
// challenges (ASCII letters, digits and -._~+/=); such a value is safe to echo back in a response.
func tokenString(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-', c == '.', c == '_', c == '~', c == '+', c == '/', c == '=':
		default:
			return false
		}
	}
	return true
}
