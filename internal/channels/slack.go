package channels

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// SlackReplayWindow is how far X-Slack-Request-Timestamp may be from now, either way. Slack's
// "Verifying requests from Slack" rejects requests more than five minutes old; a timestamp exactly five
// minutes away is accepted, one second more is not.
const SlackReplayWindow = 5 * time.Minute

// VerifySlack checks a Slack request signature as Slack documents it: X-Slack-Signature must be
// "v0=" + hex HMAC-SHA256(signingSecret, "v0:" + X-Slack-Request-Timestamp + ":" + raw body) (the hex
// in either case, compared in constant time), and the timestamp (unix seconds) must be within
// SlackReplayWindow of now: |now - timestamp| <= 5 minutes. body must be the raw request body.
//
// Errors: an empty signingSecret, a signature that is not "v0=" + 64 hex digits, or one that does not
// match → ErrForged; a timestamp outside the window → ErrExpired (checked before the signature, as
// Slack recommends); a timestamp that is not 1..19 decimal digits, or a body over MaxBodyBytes →
// ErrMalformed.
func VerifySlack(signature, timestamp string, body []byte, signingSecret string, now time.Time) error {
	if signingSecret == "" {
		return forged("no signing secret configured")
	}
	if len(body) > MaxBodyBytes {
		return errTooLarge
	}
	if len(timestamp) > 19 || !isDigits(timestamp) {
		return malformed("X-Slack-Request-Timestamp is not unix seconds")
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return malformed("X-Slack-Request-Timestamp is not unix seconds")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > SlackReplayWindow || d < -SlackReplayWindow {
		return expired("X-Slack-Request-Timestamp is more than five minutes from now")
	}
	hexSig, ok := strings.CutPrefix(signature, "v0=")
	if !ok {
		return forged("X-Slack-Signature is not v0=<hex>")
	}
	return verifyHexMAC(hexSig, []byte(signingSecret), []byte("v0:"+timestamp+":"), body)
}

// Slack envelope and event types this package interprets.
const (
	SlackURLVerification = "url_verification"
	SlackEventCallback   = "event_callback"
	SlackAppUninstalled  = "app_uninstalled"
	SlackTokensRevoked   = "tokens_revoked"
)

// SlackEnvelope is the outer Events API payload and the parts of its inner event this package reads.
type SlackEnvelope struct {
	Type      string // "url_verification" or "event_callback" (others allowed)
	Challenge string // url_verification: the value to echo back
	EventID   string // event_callback's event_id (dedupe key)
	// TeamID is team_id (the workspace), or authorizations[0].team_id when team_id is empty.
	TeamID string
	// EnterpriseID is enterprise_id, or authorizations[0].enterprise_id when empty (Enterprise Grid).
	EnterpriseID string
	APIAppID     string // api_app_id
	EventType    string // event.type: "app_uninstalled", "tokens_revoked", …
	// For tokens_revoked: event.tokens.oauth and event.tokens.bot (user ids whose tokens were revoked).
	RevokedOAuth, RevokedBot []string
}

// ParseSlack reads an Events API request body (JSON). It does not verify anything: call VerifySlack on
// the same raw body first.
//
// For "url_verification" the challenge is required and must be 1..512 characters of
// [A-Za-z0-9-._~+/=] (it is echoed back). For "event_callback", event_id, a workspace (team_id,
// enterprise_id or authorizations[0]'s), and event.type are required; for tokens_revoked,
// event.tokens must be an object and its oauth and bot members arrays of user ids. Other envelope
// types are returned with only the envelope fields filled.
//
// Errors (all ErrMalformed): a body over MaxBodyBytes, not a JSON object, a missing "type", or a
// required field missing or of the wrong type.
func ParseSlack(body []byte) (SlackEnvelope, error) {
	o, err := decodeBody(body)
	if err != nil {
		return SlackEnvelope{}, err
	}
	var e SlackEnvelope
	typ, _, err := o.str("type")
	if err != nil {
		return SlackEnvelope{}, err
	}
	if typ == "" {
		return SlackEnvelope{}, malformed("type missing")
	}
	e.Type = typ
	if e.TeamID, _, err = o.id("team_id", false); err != nil {
		return SlackEnvelope{}, err
	}
	if e.EnterpriseID, _, err = o.id("enterprise_id", false); err != nil {
		return SlackEnvelope{}, err
	}
	if e.APIAppID, _, err = o.id("api_app_id", false); err != nil {
		return SlackEnvelope{}, err
	}
	if e.TeamID == "" || e.EnterpriseID == "" {
		auths, _, err := o.arr("authorizations")
		if err != nil {
			return SlackEnvelope{}, err
		}
		if len(auths) > 0 {
			a, err := parseObject(auths[0], "authorizations")
			if err != nil {
				return SlackEnvelope{}, err
			}
			if e.TeamID == "" {
				if e.TeamID, _, err = a.id("team_id", false); err != nil {
					return SlackEnvelope{}, err
				}
			}
			if e.EnterpriseID == "" {
				if e.EnterpriseID, _, err = a.id("enterprise_id", false); err != nil {
					return SlackEnvelope{}, err
				}
			}
		}
	}

	switch typ {
	case SlackURLVerification:
		ch, _, err := o.str("challenge")
		if err != nil {
			return SlackEnvelope{}, err
		}
		if !tokenString(ch, maxChallengeLen) {
			return SlackEnvelope{}, malformed("challenge missing or has unexpected characters or length")
		}
		e.Challenge = ch
	case SlackEventCallback:
		var ok bool
		if e.EventID, ok, err = o.id("event_id", false); err != nil {
			return SlackEnvelope{}, err
		}
		if !ok {
			return SlackEnvelope{}, malformed("event_id missing")
		}
		if e.TeamID == "" && e.EnterpriseID == "" {
			return SlackEnvelope{}, malformed("team_id missing")
		}
		ev, ok, err := o.obj("event")
		if err != nil {
			return SlackEnvelope{}, err
		}
		if !ok {
			return SlackEnvelope{}, malformed("event missing")
		}
		if e.EventType, _, err = ev.str("type"); err != nil {
			return SlackEnvelope{}, err
		}
		if e.EventType == "" {
			return SlackEnvelope{}, malformed("event.type missing")
		}
		if e.EventType == SlackTokensRevoked {
			tokens, ok, err := ev.obj("tokens")
			if err != nil {
				return SlackEnvelope{}, err
			}
			if !ok {
				return SlackEnvelope{}, malformed("tokens_revoked without tokens")
			}
			if e.RevokedOAuth, err = idList(tokens, "oauth"); err != nil {
				return SlackEnvelope{}, err
			}
			if e.RevokedBot, err = idList(tokens, "bot"); err != nil {
				return SlackEnvelope{}, err
			}
		}
	}
	return e, nil
}

// idList reads an optional array of string identifiers.
func idList(o object, key string) ([]string, error) {
	items, _, err := o.arr(key)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, raw := range items {
		raw = bytes.TrimSpace(raw)
		var s string
		if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil || !validID(s) {
			return nil, malformed(key + " is not an array of user ids")
		}
		out = append(out, s)
	}
	return out, nil
}

// Revokes reports whether the envelope means the workspace connection must be wiped: an
// event_callback whose event is app_uninstalled, or tokens_revoked with at least one bot token revoked
// (a revoked user (oauth) token alone leaves the bot installed).
func (e SlackEnvelope) Revokes() bool {
	if e.Type != SlackEventCallback {
		return false
	}
	switch e.EventType {
	case SlackAppUninstalled:
		return true
	case SlackTokensRevoked:
		return len(e.RevokedBot) > 0
	}
	return false
}
