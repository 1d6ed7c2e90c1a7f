package channels

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestWhatsAppHandshake(t *testing.T) {
	const token = "my-verify-token"
	q := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	cases := []struct {
		name  string
		q     url.Values
		token string
		want  string
		err   error
	}{
		{"valid (Meta's documented shape)", q("hub.mode", "subscribe", "hub.challenge", "1158201444", "hub.verify_token", token), token, "1158201444", nil},
		{"wrong token", q("hub.mode", "subscribe", "hub.challenge", "1158201444", "hub.verify_token", "other"), token, "", ErrForged},
		{"token prefix", q("hub.mode", "subscribe", "hub.challenge", "1", "hub.verify_token", token[:5]), token, "", ErrForged},
		{"empty token sent", q("hub.mode", "subscribe", "hub.challenge", "1", "hub.verify_token", ""), token, "", ErrForged},
		{"no token configured", q("hub.mode", "subscribe", "hub.challenge", "1", "hub.verify_token", ""), "", "", ErrForged},
		{"token missing", q("hub.mode", "subscribe", "hub.challenge", "1"), token, "", ErrMalformed},
		{"challenge missing", q("hub.mode", "subscribe", "hub.verify_token", token), token, "", ErrMalformed},
		{"mode missing", q("hub.challenge", "1", "hub.verify_token", token), token, "", ErrMalformed},
		{"mode unsubscribe", q("hub.mode", "unsubscribe", "hub.challenge", "1", "hub.verify_token", token), token, "", ErrMalformed},
		{"mode repeated", q("hub.mode", "subscribe", "hub.mode", "subscribe", "hub.challenge", "1", "hub.verify_token", token), token, "", ErrMalformed},
		{"challenge with markup", q("hub.mode", "subscribe", "hub.challenge", "<script>", "hub.verify_token", token), token, "", ErrMalformed},
		{"challenge empty", q("hub.mode", "subscribe", "hub.challenge", "", "hub.verify_token", token), token, "", ErrMalformed},
		{"challenge too long", q("hub.mode", "subscribe", "hub.challenge", strings.Repeat("1", 513), "hub.verify_token", token), token, "", ErrMalformed},
		{"nothing", url.Values{}, token, "", ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := WhatsAppHandshake(c.q, c.token)
			wantErr(t, err, c.err)
			if got != c.want {
				t.Fatalf("challenge = %q, want %q", got, c.want)
			}
		})
	}
}

// waBody and waSig: signature computed with Python 3 (hmac.new(secret, body, hashlib.sha256).hexdigest()),
// independently of this package. Meta publishes no X-Hub-Signature-256 vector.
const (
	waSecret = "lethe-wa-app-secret"
	waBody   = `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","time":1700000000,"changes":[{"field":"account_update","value":{"event":"PARTNER_APP_UNINSTALLED","waba_info":{"waba_id":"104996122399160","owner_business_id":"1029384756","partner_app_id":"555"}}}]}]}`
	waSig    = "sha256=0d1ce22c527626e9dcf402ec755a898d3892f5c908e5369896c11ac09095e08a"
)

func TestVerifyHubSignature(t *testing.T) {
	body := []byte(waBody)
	tampered := []byte(strings.Replace(waBody, "104996122399160", "104996122399161", 1))
	cases := []struct {
		name   string
		header string
		body   []byte
		secret string
		err    error
	}{
		{"python vector", waSig, body, waSecret, nil},
		{"upper-case hex", "sha256=" + strings.ToUpper(waSig[7:]), body, waSecret, nil},
		{"wrong secret", waSig, body, waSecret + "x", ErrForged},
		{"one byte of body changed", waSig, tampered, waSecret, ErrForged},
		{"empty body", waSig, nil, waSecret, ErrForged},
		{"no secret configured", waSig, body, "", ErrForged},
		{"missing header", "", body, waSecret, ErrForged},
		{"no prefix", waSig[7:], body, waSecret, ErrForged},
		{"sha1 prefix", "sha1=" + waSig[7:], body, waSecret, ErrForged},
		{"upper-case prefix", "SHA256=" + waSig[7:], body, waSecret, ErrForged},
		{"truncated", waSig[:len(waSig)-2], body, waSecret, ErrForged},
		{"not hex", waSig[:len(waSig)-1] + "g", body, waSecret, ErrForged},
		{"trailing space", waSig + " ", body, waSecret, ErrForged},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantErr(t, VerifyHubSignature(c.header, c.body, []byte(c.secret)), c.err)
		})
	}
}

func TestParseWhatsApp(t *testing.T) {
	wrap := func(changes string) string {
		return `{"object":"whatsapp_business_account","entry":[{"id":"111","time":1700000000,"changes":[` + changes + `]}]}`
	}
	au := func(value string) string { return `{"field":"account_update","value":` + value + `}` }
	cases := []struct {
		name string
		body string
		want []WhatsAppRevocation
		err  error
	}{
		{"partner app uninstalled, waba_info wins", waBody,
			[]WhatsAppRevocation{{AccountID: "104996122399160", Event: "PARTNER_APP_UNINSTALLED", EntryID: "102290129340398"}}, nil},
		{"partner removed", wrap(au(`{"event":"PARTNER_REMOVED","waba_info":{"waba_id":"222","owner_business_id":"9"}}`)),
			[]WhatsAppRevocation{{AccountID: "222", Event: "PARTNER_REMOVED", EntryID: "111"}}, nil},
		{"account deleted, entry id", wrap(au(`{"event":"ACCOUNT_DELETED"}`)),
			[]WhatsAppRevocation{{AccountID: "111", Event: "ACCOUNT_DELETED", EntryID: "111"}}, nil},
		{"numeric ids keep their digits", `{"object":"whatsapp_business_account","entry":[{"id":123456789012345678901,"changes":[{"field":"account_update","value":{"event":"ACCOUNT_DELETED"}}]}]}`,
			[]WhatsAppRevocation{{AccountID: "123456789012345678901", Event: "ACCOUNT_DELETED", EntryID: "123456789012345678901"}}, nil},
		{"other account_update events ignored", wrap(au(`{"event":"PARTNER_APP_INSTALLED","waba_info":{"waba_id":"222"}}`) + "," + au(`{"event":"ACCOUNT_VIOLATION","violation_info":{"violation_type":"SCAM"}}`)),
			[]WhatsAppRevocation{}, nil},
		{"messages ignored", wrap(`{"field":"messages","value":{"messaging_product":"whatsapp","messages":[{"from":"1","id":"wamid.X","type":"text","text":{"body":"PARTNER_REMOVED"}}]}}`),
			[]WhatsAppRevocation{}, nil},
		{"event compared exactly", wrap(au(`{"event":"partner_removed"}`)), []WhatsAppRevocation{}, nil},
		{"mixed, in order, duplicates dropped", wrap(au(`{"event":"ACCOUNT_DELETED"}`) + `,{"field":"messages","value":{}},` + au(`{"event":"PARTNER_REMOVED"}`) + "," + au(`{"event":"ACCOUNT_DELETED"}`)),
			[]WhatsAppRevocation{{AccountID: "111", Event: "ACCOUNT_DELETED", EntryID: "111"}, {AccountID: "111", Event: "PARTNER_REMOVED", EntryID: "111"}}, nil},
		{"several entries", `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"account_update","value":{"event":"ACCOUNT_DELETED"}}]},{"id":"2","changes":[{"field":"account_update","value":{"event":"ACCOUNT_DELETED"}}]}]}`,
			[]WhatsAppRevocation{{AccountID: "1", Event: "ACCOUNT_DELETED", EntryID: "1"}, {AccountID: "2", Event: "ACCOUNT_DELETED", EntryID: "2"}}, nil},
		{"other object ignored", `{"object":"page","entry":[{"id":"1","changes":[{"field":"account_update","value":{"event":"ACCOUNT_DELETED"}}]}]}`,
			[]WhatsAppRevocation{}, nil},
		{"entry without changes", `{"object":"whatsapp_business_account","entry":[{"id":"1"}]}`, []WhatsAppRevocation{}, nil},
		{"no account id", `{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"account_update","value":{"event":"ACCOUNT_DELETED"}}]}]}`, nil, ErrMalformed},
		{"value missing", wrap(`{"field":"account_update"}`), nil, ErrMalformed},
		{"value not an object", wrap(`{"field":"account_update","value":"ACCOUNT_DELETED"}`), nil, ErrMalformed},
		{"waba_info not an object", wrap(au(`{"event":"PARTNER_REMOVED","waba_info":"222"}`)), nil, ErrMalformed},
		{"field not a string", wrap(`{"field":1,"value":{}}`), nil, ErrMalformed},
		{"entry not an array", `{"object":"whatsapp_business_account","entry":{}}`, nil, ErrMalformed},
		{"entry missing", `{"object":"whatsapp_business_account"}`, nil, ErrMalformed},
		{"entry item not an object", `{"object":"whatsapp_business_account","entry":[1]}`, nil, ErrMalformed},
		{"object missing", `{"entry":[]}`, nil, ErrMalformed},
		{"object wrong case key", `{"Object":"whatsapp_business_account","entry":[]}`, nil, ErrMalformed},
		{"not JSON", `object=whatsapp_business_account`, nil, ErrMalformed},
		{"JSON array", `[]`, nil, ErrMalformed},
		{"empty", ``, nil, ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseWhatsApp([]byte(c.body))
			wantErr(t, err, c.err)
			if c.err == nil && got == nil {
				t.Fatal("nil slice on success")
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}
}
