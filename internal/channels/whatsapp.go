package channels

import (
	"net/url"
	"strings"
)

// The account_update events that end a connection to a WhatsApp Business Account.
const (
	// WhatsAppPartnerAppUninstalled: the business customer revoked the app's permissions on the WABA.
	WhatsAppPartnerAppUninstalled = "PARTNER_APP_UNINSTALLED"
	// WhatsAppPartnerRemoved: the WABA was unshared from the partner.
	WhatsAppPartnerRemoved = "PARTNER_REMOVED"
	// WhatsAppAccountDeleted: the WABA was deleted.
	WhatsAppAccountDeleted = "ACCOUNT_DELETED"
)

// maxChallengeLen bounds the handshake challenges echoed back (Meta sends a short integer, Slack a
// ~50-character random string).
const maxChallengeLen = 512

// WhatsAppHandshake answers the webhook verification GET that Meta sends when a callback URL is
// configured: hub.mode must be "subscribe" and hub.verify_token must equal verifyToken (constant time);
// the result is hub.challenge, to be written back as the whole response body (text/plain) with 200.
//
// Errors: an empty verifyToken or a wrong hub.verify_token → ErrForged; hub.mode, hub.verify_token or
// hub.challenge missing or repeated, hub.mode other than "subscribe", or a challenge that is not 1..512
// characters of [A-Za-z0-9-._~+/=] (Meta documents an integer) → ErrMalformed.
func WhatsAppHandshake(q url.Values, verifyToken string) (string, error) {
	if verifyToken == "" {
		return "", forged("no verify token configured")
	}
	mode, ok1 := single(q, "hub.mode")
	token, ok2 := single(q, "hub.verify_token")
	challenge, ok3 := single(q, "hub.challenge")
	if !ok1 || !ok2 || !ok3 {
		return "", malformed("hub.mode, hub.verify_token and hub.challenge are each required once")
	}
	if mode != "subscribe" {
		return "", malformed("hub.mode is not subscribe")
	}
	if !equalSecret(token, verifyToken) {
		return "", forged("hub.verify_token does not match")
	}
	if !tokenString(challenge, maxChallengeLen) {
		return "", malformed("hub.challenge has unexpected characters or length")
	}
	return challenge, nil
}

func single(q url.Values, key string) (string, bool) {
	v := q[key]
	if len(v) != 1 {
		return "", false
	}
	return v[0], true
}

// VerifyHubSignature checks Meta's `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(appSecret, raw body)>`
// header (the hex in either case) in constant time. body must be the raw request body, byte for byte.
// appSecret is the Meta app secret as bytes ([]byte(secretString)).
//
// Errors: an empty appSecret, a header that is not "sha256=" followed by 64 hex digits, or a
// signature that does not match → ErrForged; a body over MaxBodyBytes → ErrMalformed.
func VerifyHubSignature(header string, body, appSecret []byte) error {
	if len(appSecret) == 0 {
		return forged("no app secret configured")
	}
	if len(body) > MaxBodyBytes {
		return errTooLarge
	}
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return forged("X-Hub-Signature-256 is not sha256=<hex>")
	}
	return verifyHexMAC(hexSig, appSecret, body)
}

// WhatsAppRevocation is one account_update notification that ends the connection to a WhatsApp
// Business Account.
type WhatsAppRevocation struct {
	// AccountID is the WhatsApp Business Account id: value.waba_info.waba_id when present (Meta sends
	// it with the PARTNER_* events, naming the customer's WABA), else the entry's id.
	AccountID string
	// Event is WhatsAppPartnerAppUninstalled, WhatsAppPartnerRemoved or WhatsAppAccountDeleted.
	Event string
	// EntryID is entry[].id as sent (the object the notification is about, per Meta's syntax the WABA).
	EntryID string
}

// ParseWhatsApp reads a WhatsApp Cloud API webhook notification
//
//	{"object":"whatsapp_business_account","entry":[{"id":..,"time":..,"changes":[{"field":"account_update","value":{"event":..,"waba_info":{"waba_id":..}}}]}]}
//
// and returns the revocations it carries: the changes whose field is "account_update" and whose
// value.event is PARTNER_APP_UNINSTALLED, PARTNER_REMOVED or ACCOUNT_DELETED, in order, without
// duplicates. Every other change (messages, statuses, other account_update events) and every other
// "object" is ignored: the result is then an empty, non-nil slice and a nil error.
//
// It does not verify anything: call VerifyHubSignature on the same raw body first.
//
// Errors (all ErrMalformed): a body over MaxBodyBytes, not a JSON object, without a string "object",
// an "entry" that is missing or not an array of objects, a "changes" or "field" of the wrong type, or
// a revocation whose value is not an object or that names no account id.
func ParseWhatsApp(body []byte) ([]WhatsAppRevocation, error) {
	o, err := decodeBody(body)
	if err != nil {
		return nil, err
	}
	obj, ok, err := o.str("object")
	if err != nil {
		return nil, err
	}
	if !ok || obj == "" {
		return nil, malformed("object missing")
	}
	out := []WhatsAppRevocation{}
	if obj != "whatsapp_business_account" {
		return out, nil
	}
	entries, ok, err := o.arr("entry")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, malformed("entry missing")
	}
	seen := map[WhatsAppRevocation]bool{}
	for _, rawEntry := range entries {
		entry, err := parseObject(rawEntry, "entry")
		if err != nil {
			return nil, err
		}
		entryID, _, err := entry.id("id", false)
		if err != nil {
			return nil, err
		}
		changes, _, err := entry.arr("changes")
		if err != nil {
			return nil, err
		}
		for _, rawChange := range changes {
			change, err := parseObject(rawChange, "changes")
			if err != nil {
				return nil, err
			}
			field, _, err := change.str("field")
			if err != nil {
				return nil, err
			}
			if field != "account_update" {
				continue
			}
			value, ok, err := change.obj("value")
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, malformed("account_update value missing")
			}
			event, _, err := value.str("event")
			if err != nil {
				return nil, err
			}
			switch event {
			case WhatsAppPartnerAppUninstalled, WhatsAppPartnerRemoved, WhatsAppAccountDeleted:
			default:
				continue
			}
			account := entryID
			info, ok, err := value.obj("waba_info")
			if err != nil {
				return nil, err
			}
			if ok {
				wabaID, ok, err := info.id("waba_id", false)
				if err != nil {
					return nil, err
				}
				if ok {
					account = wabaID
				}
			}
			if account == "" {
				return nil, malformed("account_update names no account")
			}
			r := WhatsAppRevocation{AccountID: account, Event: event, EntryID: entryID}
			if !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	return out, nil
}
