package channels

import (
	"strings"
	"testing"
)

// Viber's own signature test vector, verbatim from the official Python library:
// github.com/Viber/viber-bot-python, tests/api/test_api.py, test_verify_signature
// (auth token from VIBER_BOT_CONFIGURATION in the same file).
const (
	viberPyToken     = "44dafb7e0f40021e-61a47a1e6778d187-f2c5a676a07050b3"
	viberPyBody      = `{"event":"webhook","timestamp":4977069964384421269,"message_token":1478683725125}`
	viberPySignature = "d21b343448c8aee33b8e93768ef6ceb64a6ba6163099973a2b8bd028fea510ef"
)

// An unsubscribed callback in the shape of Viber's REST API documentation, signed with Python 3
// (hmac.new(token, body, hashlib.sha256).hexdigest()), independently of this package.
const (
	viberUnsubToken = "445da6az1s345z78-dazcczb2542zv51a-e0vc5fva17480im9"
	viberUnsubBody  = `{"event":"unsubscribed","timestamp":1457764197627,"chat_hostname":"SN-036_","user_id":"01234567890A=","message_token":4912661846655238145}`
	viberUnsubSig   = "41b9fcc175bc37bcde55369527038067faa668a10cc18377aa41acc07760888b"
)

func TestVerifyViber(t *testing.T) {
	cases := []struct {
		name, sig, body, token string
		err                    error
	}{
		{"viber-bot-python vector", viberPySignature, viberPyBody, viberPyToken, nil},
		{"unsubscribed (python-signed)", viberUnsubSig, viberUnsubBody, viberUnsubToken, nil},
		{"upper-case hex", strings.ToUpper(viberPySignature), viberPyBody, viberPyToken, nil},
		{"viber-bot-python failure vector", "aaaaaaaaaaaaaaaaaaaaaa", `{"event":"webhook"}`, viberPyToken, ErrForged},
		{"wrong token", viberPySignature, viberPyBody, viberUnsubToken, ErrForged},
		{"one byte of body changed", viberPySignature, strings.Replace(viberPyBody, "1478683725125", "1478683725126", 1), viberPyToken, ErrForged},
		{"body re-serialized with spaces", viberPySignature, strings.ReplaceAll(viberPyBody, ":", ": "), viberPyToken, ErrForged},
		{"no token configured", viberPySignature, viberPyBody, "", ErrForged},
		{"missing signature", "", viberPyBody, viberPyToken, ErrForged},
		{"sha256= prefix", "sha256=" + viberPySignature, viberPyBody, viberPyToken, ErrForged},
		{"not hex", "z" + viberPySignature[1:], viberPyBody, viberPyToken, ErrForged},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantErr(t, VerifyViber(c.sig, []byte(c.body), c.token), c.err)
		})
	}
}

func TestParseViber(t *testing.T) {
	cases := []struct {
		name    string
		body    string
		want    ViberEvent
		revokes bool
		err     error
	}{
		{"unsubscribed", viberUnsubBody,
			ViberEvent{Event: "unsubscribed", Timestamp: 1457764197627, MessageToken: "4912661846655238145", UserID: "01234567890A="}, true, nil},
		{"webhook (viber-bot-python vector)", viberPyBody,
			ViberEvent{Event: "webhook", Timestamp: 4977069964384421269, MessageToken: "1478683725125"}, false, nil},
		{"message: sender.id", `{"event":"message","timestamp":1457764197627,"message_token":4912661846655238145,"sender":{"id":"01234567890A=","name":"John McClane"},"message":{"type":"text","text":"unsubscribed"}}`,
			ViberEvent{Event: "message", Timestamp: 1457764197627, MessageToken: "4912661846655238145", UserID: "01234567890A="}, false, nil},
		{"subscribed: user.id", `{"event":"subscribed","timestamp":1457764197627,"user":{"id":"01234567890A=","name":"John McClane"},"message_token":4912661846655238145}`,
			ViberEvent{Event: "subscribed", Timestamp: 1457764197627, MessageToken: "4912661846655238145", UserID: "01234567890A="}, false, nil},
		{"message_token above 2^64 keeps its digits", `{"event":"unsubscribed","user_id":"u","message_token":123456789012345678901234567890}`,
			ViberEvent{Event: "unsubscribed", MessageToken: "123456789012345678901234567890", UserID: "u"}, true, nil},
		{"message_token as digit string", `{"event":"unsubscribed","user_id":"u","message_token":"4912661846655238145"}`,
			ViberEvent{Event: "unsubscribed", MessageToken: "4912661846655238145", UserID: "u"}, true, nil},
		{"unsubscribed without user_id", `{"event":"unsubscribed","timestamp":1,"message_token":1}`, ViberEvent{}, false, ErrMalformed},
		{"unsubscribed with sender only", `{"event":"unsubscribed","sender":{"id":"u"}}`, ViberEvent{}, false, ErrMalformed},
		{"message_token fraction", `{"event":"webhook","message_token":1.5}`, ViberEvent{}, false, ErrMalformed},
		{"message_token text", `{"event":"webhook","message_token":"abc"}`, ViberEvent{}, false, ErrMalformed},
		{"timestamp string", `{"event":"webhook","timestamp":"1457764197627"}`, ViberEvent{}, false, ErrMalformed},
		{"timestamp negative", `{"event":"webhook","timestamp":-1}`, ViberEvent{}, false, ErrMalformed},
		{"timestamp exponent", `{"event":"webhook","timestamp":1e12}`, ViberEvent{}, false, ErrMalformed},
		{"user_id not a string", `{"event":"unsubscribed","user_id":{"id":"u"}}`, ViberEvent{}, false, ErrMalformed},
		{"sender.id not a string", `{"event":"message","sender":{"id":[]}}`, ViberEvent{}, false, ErrMalformed},
		{"event missing", `{"timestamp":1}`, ViberEvent{}, false, ErrMalformed},
		{"event wrong case key", `{"Event":"unsubscribed","user_id":"u"}`, ViberEvent{}, false, ErrMalformed},
		{"not JSON", `event=unsubscribed`, ViberEvent{}, false, ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseViber([]byte(c.body))
			wantErr(t, err, c.err)
			if got != c.want {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
			if got.Revokes() != c.revokes {
				t.Fatalf("Revokes() = %v, want %v", got.Revokes(), c.revokes)
			}
		})
	}
}
