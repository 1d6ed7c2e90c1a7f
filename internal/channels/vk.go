package channels

// VK Callback API event types this package interprets.
const (
	VKConfirmation = "confirmation"
	VKMessageDeny  = "message_deny"
)

// VKCallback is the part of a VK Callback API notification this package reads.
type VKCallback struct {
	Type    string // "confirmation", "message_deny", …
	GroupID string // group_id (decimal string)
	EventID string // event_id (dedupe key; may be absent on confirmation)
	Secret  string // the "secret" field
	UserID  string // message_deny: object.user_id (decimal string)
	Version string // "v", the API version of the object, when present
}

// ParseVK reads a VK Callback API notification {"type":..,"object":..,"group_id":..,"event_id":..,
// "secret":..,"v":..}. type (a non-empty string) and group_id (a positive JSON integer, or a string of
// digits) are required; for message_deny so is object.user_id (same form).
//
// It verifies nothing: check Secret with VerifyVKSecret. A "confirmation" is answered with the
// server's confirmation string (from the community's Callback API settings), every other
// notification with the plain body "ok".
//
// Errors (all ErrMalformed): a body over MaxBodyBytes, not a JSON object, type or group_id missing or
// of the wrong type, an event_id, secret or v that is not a string, or a message_deny without a user.
func ParseVK(body []byte) (VKCallback, error) {
	o, err := decodeBody(body)
	if err != nil {
		return VKCallback{}, err
	}
	var c VKCallback
	if c.Type, _, err = o.str("type"); err != nil {
		return VKCallback{}, err
	}
	if c.Type == "" {
		return VKCallback{}, malformed("type missing")
	}
	var ok bool
	if c.GroupID, ok, err = o.id("group_id", true); err != nil {
		return VKCallback{}, err
	}
	if !ok || !positive(c.GroupID) {
		return VKCallback{}, malformed("group_id missing")
	}
	if c.EventID, ok, err = o.str("event_id"); err != nil {
		return VKCallback{}, err
	}
	if ok && c.EventID != "" && !validID(c.EventID) {
		return VKCallback{}, malformed("event_id is not an identifier")
	}
	if c.Secret, _, err = o.str("secret"); err != nil {
		return VKCallback{}, err
	}
	if c.Version, _, err = o.str("v"); err != nil {
		return VKCallback{}, err
	}
	if c.Type == VKMessageDeny {
		obj, ok, err := o.obj("object")
		if err != nil {
			return VKCallback{}, err
		}
		if !ok {
			return VKCallback{}, malformed("message_deny without object")
		}
		if c.UserID, ok, err = obj.id("user_id", true); err != nil {
			return VKCallback{}, err
		}
		if !ok || !positive(c.UserID) {
			return VKCallback{}, malformed("message_deny without object.user_id")
		}
	}
	return c, nil
}

// Revokes reports whether the notification means the user withdrew consent to messages from the
// community (message_deny).
func (c VKCallback) Revokes() bool { return c.Type == VKMessageDeny }

// VerifyVKSecret compares a callback's "secret" field with the secret key configured for the Callback
// API server, in constant time. Errors (all ErrForged): an empty want (no secret key configured, so
// nothing can be authenticated) or a got that differs.
func VerifyVKSecret(got, want string) error {
	if want == "" {
		return forged("no secret key configured")
	}
	if !equalSecret(got, want) {
		return forged("secret does not match")
	}
	return nil
}

// positive: a decimal string that is not all zeros.
func positive(digits string) bool {
	for i := 0; i < len(digits); i++ {
		if digits[i] != '0' {
			return true
		}
	}
	return false
}
