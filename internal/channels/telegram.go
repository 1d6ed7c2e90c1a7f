package channels

// VerifyTelegramSecret compares the X-Telegram-Bot-Api-Secret-Token header with the secret_token the
// connection passed to setWebhook, in constant time. Telegram does not sign updates: this header is the
// only proof that a request comes from Telegram.
//
// Errors (all ErrForged): an empty secret (a webhook set without secret_token cannot be authenticated)
// or a header that differs (including a missing, empty header).
func VerifyTelegramSecret(header, secret string) error {
	if secret == "" {
		return forged("no secret token configured")
	}
	if !equalSecret(header, secret) {
		return forged("X-Telegram-Bot-Api-Secret-Token does not match")
	}
	return nil
}

// TelegramUpdate is the part of a Bot API Update this package reads.
type TelegramUpdate struct {
	UpdateID int64
	// Blocked: a my_chat_member update in a PRIVATE chat whose new_chat_member.status is "kicked" — the
	// end user blocked the bot.
	Blocked bool
	UserID  string // from.id of that my_chat_member (decimal string)
}

// ParseTelegram reads a Bot API Update (the JSON body Telegram POSTs to the webhook). update_id must be
// a non-negative JSON integer. When the update is a my_chat_member (ChatMemberUpdated) its chat (with
// a string type) and new_chat_member (with a string status) are required; when the chat's type is
// "private" and the new status is "kicked" the user blocked the bot: Blocked is set and UserID is the
// numeric from.id, which is then required. A "kicked" in a group, supergroup or channel (the bot was
// removed from a chat) or any other status is not a block. Any other kind of update only yields its
// UpdateID.
//
// It does not verify anything: call VerifyTelegramSecret first.
//
// Errors (all ErrMalformed): a body over MaxBodyBytes, not a JSON object, update_id missing or not a
// non-negative integer, or a my_chat_member missing a required field.
func ParseTelegram(body []byte) (TelegramUpdate, error) {
	o, err := decodeBody(body)
	if err != nil {
		return TelegramUpdate{}, err
	}
	id, ok, err := o.int("update_id")
	if err != nil {
		return TelegramUpdate{}, err
	}
	if !ok || id < 0 {
		return TelegramUpdate{}, malformed("update_id missing")
	}
	u := TelegramUpdate{UpdateID: id}
	m, ok, err := o.obj("my_chat_member")
	if err != nil {
		return TelegramUpdate{}, err
	}
	if !ok {
		return u, nil
	}
	chat, ok, err := m.obj("chat")
	if err != nil {
		return TelegramUpdate{}, err
	}
	if !ok {
		return TelegramUpdate{}, malformed("my_chat_member.chat missing")
	}
	chatType, ok, err := chat.str("type")
	if err != nil {
		return TelegramUpdate{}, err
	}
	if !ok {
		return TelegramUpdate{}, malformed("my_chat_member.chat.type missing")
	}
	member, ok, err := m.obj("new_chat_member")
	if err != nil {
		return TelegramUpdate{}, err
	}
	if !ok {
		return TelegramUpdate{}, malformed("my_chat_member.new_chat_member missing")
	}
	status, ok, err := member.str("status")
	if err != nil {
		return TelegramUpdate{}, err
	}
	if !ok {
		return TelegramUpdate{}, malformed("my_chat_member.new_chat_member.status missing")
	}
	if chatType != "private" || status != "kicked" {
		return u, nil
	}
	from, ok, err := m.obj("from")
	if err != nil {
		return TelegramUpdate{}, err
	}
	if !ok {
		return TelegramUpdate{}, malformed("my_chat_member.from missing")
	}
	userID, ok, err := from.id("id", true)
	if err != nil {
		return TelegramUpdate{}, err
	}
	if !ok {
		return TelegramUpdate{}, malformed("my_chat_member.from.id missing")
	}
	u.Blocked, u.UserID = true, userID
	return u, nil
}
