package evidence

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"strconv"
	"time"
)

// ActLinkTTL is how long a public link to an act stays valid: the final mail says until when.
const ActLinkTTL = 90 * 24 * time.Hour

// Errors of a public link to an act: its signature is not ours, or its time is over.
var (
	ErrLinkInvalid = errors.New("the link to the act is not valid")
	ErrLinkExpired = errors.New("the link to the act has expired")
)

// ActLinks signs and checks the public links to an act of destruction (GET /v1/acts/{id}): the
// owner of a deleted account has no login left, so the final mail links to the act with an
// expiry and an HMAC-SHA256 of the act's number and that expiry, keyed by ACT_LINK_SECRET.
type ActLinks struct {
	Secret []byte
}

// Path is the link to act actID valid until exp, relative to the public base URL.
func (l ActLinks) Path(actID string, exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	q := url.Values{"exp": {e}, "sig": {l.sign(actID, e)}}
	return "/v1/acts/" + url.PathEscape(actID) + "?" + q.Encode()
}

// Check accepts a link to act actID with its exp and sig as given: ErrLinkInvalid unless the
// signature is the act's and the expiry's (compared in constant time), ErrLinkExpired once the
// expiry is past. No secret, no valid link.
func (l ActLinks) Check(actID, exp, sig string, now time.Time) error {
	if len(l.Secret) == 0 || len(sig) != 2*sha256.Size {
		return ErrLinkInvalid
	}
	given, err := hex.DecodeString(sig)
	if err != nil {
		return ErrLinkInvalid
	}
	want, _ := hex.DecodeString(l.sign(actID, exp))
	if !hmac.Equal(given, want) {
		return ErrLinkInvalid
	}
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return ErrLinkInvalid
	}
	if !now.Before(time.Unix(e, 0)) {
		return ErrLinkExpired
	}
	return nil
}

// sign is the MAC of the act's number and the expiry as written in the link, one line each.
func (l ActLinks) sign(actID, exp string) string {
	m := hmac.New(sha256.New, l.Secret)
	m.Write([]byte(actID + "\n" + exp))
	return hex.EncodeToString(m.Sum(nil))
}
