package channels

import "testing"

func TestVerifyTelegramSecret(t *testing.T) {
	cases := []struct {
		name, header, secret string
		err                  error
	}{
		{"match", "Abc_123-xyz", "Abc_123-xyz", nil},
		{"differs", "Abc_123-xyZ", "Abc_123-xyz", ErrForged},
		{"prefix", "Abc_123", "Abc_123-xyz", ErrForged},
		{"longer", "Abc_123-xyz0", "Abc_123-xyz", ErrForged},
		{"missing header", "", "Abc_123-xyz", ErrForged},
		{"no secret configured", "", "", ErrForged},
		{"no secret configured, header sent", "Abc", "", ErrForged},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantErr(t, VerifyTelegramSecret(c.header, c.secret), c.err)
		})
	}
}

func TestParseTelegram(t *testing.T) {
	// mcm builds a my_chat_member update as the Bot API documents ChatMemberUpdated.
	mcm := func(chatType, oldStatus, newStatus string) string {
		chatID := `-1001234567890`
		if chatType == "private" {
			chatID = `987654321`
		}
		return `{"update_id":10000,"my_chat_member":{"chat":{"id":` + chatID + `,"type":"` + chatType + `","first_name":"Ann"},` +
			`"from":{"id":987654321,"is_bot":false,"first_name":"Ann","language_code":"en"},"date":1700000000,` +
			`"old_chat_member":{"user":{"id":111,"is_bot":true,"first_name":"Bot","username":"lethe_bot"},"status":"` + oldStatus + `"},` +
			`"new_chat_member":{"user":{"id":111,"is_bot":true,"first_name":"Bot","username":"lethe_bot"},"status":"` + newStatus + `","until_date":0}}}`
	}
	cases := []struct {
		name string
		body string
		want TelegramUpdate
		err  error
	}{
		{"blocked in private chat", mcm("private", "member", "kicked"), TelegramUpdate{UpdateID: 10000, Blocked: true, UserID: "987654321"}, nil},
		{"kicked from a group", mcm("group", "member", "kicked"), TelegramUpdate{UpdateID: 10000}, nil},
		{"kicked from a supergroup", mcm("supergroup", "administrator", "kicked"), TelegramUpdate{UpdateID: 10000}, nil},
		{"kicked from a channel", mcm("channel", "administrator", "kicked"), TelegramUpdate{UpdateID: 10000}, nil},
		{"unblocked (member) in private chat", mcm("private", "kicked", "member"), TelegramUpdate{UpdateID: 10000}, nil},
		{"left in private chat", mcm("private", "member", "left"), TelegramUpdate{UpdateID: 10000}, nil},
		{"status compared exactly", mcm("private", "member", "Kicked"), TelegramUpdate{UpdateID: 10000}, nil},
		{"big user id keeps its digits", `{"update_id":1,"my_chat_member":{"chat":{"id":1,"type":"private"},"from":{"id":12345678901234567890},"new_chat_member":{"status":"kicked"}}}`,
			TelegramUpdate{UpdateID: 1, Blocked: true, UserID: "12345678901234567890"}, nil},
		{"message update", `{"update_id":42,"message":{"message_id":1,"chat":{"id":5,"type":"private"},"text":"kicked"}}`, TelegramUpdate{UpdateID: 42}, nil},
		{"update_id zero", `{"update_id":0}`, TelegramUpdate{}, nil},
		{"update_id max int64", `{"update_id":9223372036854775807}`, TelegramUpdate{UpdateID: 9223372036854775807}, nil},
		{"update_id missing", `{"my_chat_member":{}}`, TelegramUpdate{}, ErrMalformed},
		{"update_id null", `{"update_id":null}`, TelegramUpdate{}, ErrMalformed},
		{"update_id string", `{"update_id":"42"}`, TelegramUpdate{}, ErrMalformed},
		{"update_id fraction", `{"update_id":4.2}`, TelegramUpdate{}, ErrMalformed},
		{"update_id negative", `{"update_id":-1}`, TelegramUpdate{}, ErrMalformed},
		{"update_id overflows", `{"update_id":9223372036854775808}`, TelegramUpdate{}, ErrMalformed},
		{"blocked without from", `{"update_id":1,"my_chat_member":{"chat":{"id":1,"type":"private"},"new_chat_member":{"status":"kicked"}}}`, TelegramUpdate{}, ErrMalformed},
		{"blocked with negative from.id", `{"update_id":1,"my_chat_member":{"chat":{"id":1,"type":"private"},"from":{"id":-5},"new_chat_member":{"status":"kicked"}}}`, TelegramUpdate{}, ErrMalformed},
		{"blocked with text from.id", `{"update_id":1,"my_chat_member":{"chat":{"id":1,"type":"private"},"from":{"id":"ann"},"new_chat_member":{"status":"kicked"}}}`, TelegramUpdate{}, ErrMalformed},
		{"chat missing", `{"update_id":1,"my_chat_member":{"from":{"id":5},"new_chat_member":{"status":"kicked"}}}`, TelegramUpdate{}, ErrMalformed},
		{"chat type missing", `{"update_id":1,"my_chat_member":{"chat":{"id":1},"from":{"id":5},"new_chat_member":{"status":"kicked"}}}`, TelegramUpdate{}, ErrMalformed},
		{"new_chat_member missing", `{"update_id":1,"my_chat_member":{"chat":{"id":1,"type":"private"},"from":{"id":5}}}`, TelegramUpdate{}, ErrMalformed},
		{"status missing", `{"update_id":1,"my_chat_member":{"chat":{"id":1,"type":"private"},"from":{"id":5},"new_chat_member":{}}}`, TelegramUpdate{}, ErrMalformed},
		{"my_chat_member not an object", `{"update_id":1,"my_chat_member":[]}`, TelegramUpdate{}, ErrMalformed},
		{"not JSON", `update_id=1`, TelegramUpdate{}, ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseTelegram([]byte(c.body))
			wantErr(t, err, c.err)
			if got != c.want {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}
}
