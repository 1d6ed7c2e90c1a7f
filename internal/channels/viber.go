package channels

// Viber callback event types this package interprets.
const (
	ViberUnsubscribed = "unsubscribed"
	ViberWebhook      = "webhook"
)

// VerifyViber checks `X-Viber-Content-Signature`: the hex HMAC-SHA256 of the raw body keyed with the
// bot's auth token (Viber sends lower-case hex; either case is accepted), compared in constant time.
// body must be the raw request body.
//
// Errors: an empty authToken, a signature that is not 64 hex digits, or one that does not match →
// ErrForged; a body over MaxBodyBytes → ErrMalformed.
func VerifyViber(signature string, body []byte, authToken string) error {
	if authToken == "" {
		return forged("no auth token configured")
	}
	if len(body) > MaxBodyBytes {
		return errTooLarge
	}
	return verifyHexMAC(signature, []byte(authToken), body)
}

// ViberEvent is the part of a Viber REST bot API callback this package reads.
type ViberEvent struct {
	Event        string // "unsubscribed", "webhook", "message", …
	Timestamp    int64  // ms
	MessageToken string // message_token as a decimal string (a big integer in JSON) — the dedupe key
	UserID       string // "user_id" (unsubscribed, delivered, seen, failed), else sender.id, else user.id
}

// ParseViber reads a Viber callback body, e.g.
//
//	{"event":"unsubscribed","timestamp":1457764197627,"user_id":"01234567890A=","message_token":4912661846655238145}
//
// event (a non-empty string) is required; timestamp, when present, must be a non-negative JSON integer;
// message_token, when present, a JSON integer (or a string of digits), kept as its exact digits.
// UserID is user_id, or for events that carry the user elsewhere sender.id (message) or user.id
// (subscribed, conversation_started). An unsubscribed event without user_id is malformed.
//
// It does not verify anything: call VerifyViber on the same raw body first.
//
// Errors (all ErrMalformed): a body over MaxBodyBytes, not a JSON object, event missing, or a field of
// the wrong type.
func ParseViber(body []byte) (ViberEvent, error) {
	o, err := decodeBody(body)
	if err != nil {
		return ViberEvent{}, err
	}
	var e ViberEvent
	if e.Event, _, err = o.str("event"); err != nil {
		return ViberEvent{}, err
	}
	if e.Event == "" {
		return ViberEvent{}, malformed("event missing")
	}
	ts, ok, err := o.int("timestamp")
	if err != nil {
		return ViberEvent{}, err
	}
	if ok && ts < 0 {
		return ViberEvent{}, malformed("timestamp is negative")
	}
	e.Timestamp = ts
	if e.MessageToken, _, err = o.id("message_token", true); err != nil {
		return ViberEvent{}, err
	}
	if e.UserID, _, err = o.id("user_id", false); err != nil {
		return ViberEvent{}, err
	}
	if e.Event == ViberUnsubscribed {
		if e.UserID == "" {
			return ViberEvent{}, malformed("unsubscribed without user_id")
		}
		return e, nil
	}
	for _, holder := range []string{"sender", "user"} {
		if e.UserID != "" {
			break
		}
		h, ok, err := o.obj(holder)
		if err != nil {
			return ViberEvent{}, err
		}
		if ok {
			if e.UserID, _, err = h.id("id", false); err != nil {
				return ViberEvent{}, err
			}
		}
	}
	return e, nil
}

// Revokes reports whether the event means the user unsubscribed from the bot.
func (e ViberEvent) Revokes() bool { return e.Event == ViberUnsubscribed }
