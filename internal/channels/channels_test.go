package channels

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var sentinels = []error{ErrForged, ErrExpired, ErrMalformed}

// sentinelCount is how many of the three sentinel errors err wraps.
func sentinelCount(err error) int {
	n := 0
	for _, s := range sentinels {
		if errors.Is(err, s) {
			n++
		}
	}
	return n
}

// wantErr fails unless err is nil (want nil) or wraps want and no other sentinel.
func wantErr(t testing.TB, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("err = %v, want nil", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
	if n := sentinelCount(err); n != 1 {
		t.Fatalf("err = %v wraps %d sentinels, want exactly 1", err, n)
	}
}

// hexMAC is hex HMAC-SHA256(key, parts...), for building signed test requests.
func hexMAC(key string, parts ...string) string {
	m := hmac.New(sha256.New, []byte(key))
	for _, p := range parts {
		m.Write([]byte(p))
	}
	return hex.EncodeToString(m.Sum(nil))
}

func TestSentinelsAreDistinct(t *testing.T) {
	for i, a := range sentinels {
		for j, b := range sentinels {
			if (i == j) != errors.Is(a, b) {
				t.Fatalf("errors.Is(%v, %v) = %v", a, b, errors.Is(a, b))
			}
		}
	}
}

// Every entry point refuses a body of MaxBodyBytes+1 with ErrMalformed, and accepts a valid body padded
// with whitespace to exactly MaxBodyBytes.
func TestBodyCap(t *testing.T) {
	pad := func(s string, n int) []byte {
		return append([]byte(s), bytes.Repeat([]byte(" "), n-len(s))...)
	}
	type entry struct {
		name string
		run  func(body []byte) error
		ok   string // a valid body
	}
	now := time.Unix(1531420618, 0)
	entries := []entry{
		{"ParseWhatsApp", func(b []byte) error { _, err := ParseWhatsApp(b); return err },
			`{"object":"whatsapp_business_account","entry":[]}`},
		{"ParseSlack", func(b []byte) error { _, err := ParseSlack(b); return err },
			`{"type":"url_verification","challenge":"abc"}`},
		{"ParseTelegram", func(b []byte) error { _, err := ParseTelegram(b); return err },
			`{"update_id":1}`},
		{"ParseVK", func(b []byte) error { _, err := ParseVK(b); return err },
			`{"type":"confirmation","group_id":1}`},
		{"ParseViber", func(b []byte) error { _, err := ParseViber(b); return err },
			`{"event":"webhook"}`},
		{"VerifyHubSignature", func(b []byte) error {
			return VerifyHubSignature("sha256="+hexMAC("s", string(b)), b, []byte("s"))
		}, `{}`},
		{"VerifySlack", func(b []byte) error {
			return VerifySlack("v0="+hexMAC("s", "v0:1531420618:", string(b)), "1531420618", b, "s", now)
		}, `{}`},
		{"VerifyViber", func(b []byte) error { return VerifyViber(hexMAC("s", string(b)), b, "s") }, `{}`},
		{"ParseSignedRequest", func(b []byte) error {
			// b is the whole signed_request here: a valid one padded with 'A's inside the payload is no
			// longer valid, so only the size refusal is checked.
			_, err := ParseSignedRequest(string(b), "s")
			return err
		}, ""},
	}
	for _, e := range entries {
		t.Run(e.name, func(t *testing.T) {
			wantErr(t, e.run(bytes.Repeat([]byte("x"), MaxBodyBytes+1)), ErrMalformed)
			if e.ok != "" {
				wantErr(t, e.run(pad(e.ok, MaxBodyBytes)), nil)
				wantErr(t, e.run(pad(e.ok, MaxBodyBytes+1)), ErrMalformed)
			}
		})
	}
}

// Error texts name fields, never their values: a marker planted in headers, secrets and payloads never
// shows up in an error message.
func TestErrorsDoNotQuoteInput(t *testing.T) {
	const m = "ZZMARKERZZ"
	now := time.Unix(1531420618, 0)
	errs := map[string]error{}
	add := func(name string, err error) {
		if err == nil {
			t.Fatalf("%s: no error", name)
		}
		errs[name] = err
	}
	_, err := ParseSignedRequest(m+"."+m, m)
	add("signed sig", err)
	_, err = ParseSignedRequest(m, m)
	add("signed shape", err)
	_, err = WhatsAppHandshake(url.Values{"hub.mode": {m}, "hub.verify_token": {m}, "hub.challenge": {m}}, "t")
	add("handshake mode", err)
	_, err = WhatsAppHandshake(url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"t"}, "hub.challenge": {"<" + m}}, "t")
	add("handshake challenge", err)
	add("hub sig", VerifyHubSignature("sha256="+m, []byte(m), []byte(m)))
	_, err = ParseWhatsApp([]byte(`{"object":"whatsapp_business_account","entry":"` + m + `"}`))
	add("whatsapp", err)
	_, err = ParseWhatsApp([]byte(`{"` + m + `":` + m + `}`))
	add("whatsapp json", err)
	add("slack ts", VerifySlack("v0="+m, m, []byte(m), m, now))
	add("slack sig", VerifySlack("v0="+m, "1531420618", []byte(m), m, now))
	_, err = ParseSlack([]byte(`{"type":"url_verification","challenge":"<` + m + `>"}`))
	add("slack challenge", err)
	add("telegram", VerifyTelegramSecret(m, m+"x"))
	_, err = ParseTelegram([]byte(`{"update_id":"` + m + `"}`))
	add("telegram parse", err)
	_, err = ParseVK([]byte(`{"type":"message_deny","group_id":"` + m + `"}`))
	add("vk parse", err)
	add("vk secret", VerifyVKSecret(m, m+"x"))
	add("viber", VerifyViber(m, []byte(m), m))
	_, err = ParseViber([]byte(`{"event":"message","sender":{"id":["` + m + `"]}}`))
	add("viber parse", err)
	for name, err := range errs {
		if strings.Contains(err.Error(), m) {
			t.Errorf("%s: error %q quotes the input", name, err)
		}
		if sentinelCount(err) != 1 {
			t.Errorf("%s: error %v wraps %d sentinels", name, err, sentinelCount(err))
		}
	}
}

func TestDecodeBase64URL(t *testing.T) {
	cases := []struct {
		in   string
		want string // "" = error
	}{
		{"YQ", "a"}, {"YQ==", "a"}, {"YWI", "ab"}, {"YWI=", "ab"}, {"YWJj", "abc"},
		{"-_-_", "\xfb\xff\xbf"},
		{"YQ=", ""},    // incomplete padding
		{"YQ===", ""},  // too much padding
		{"YWJj=", ""},  // padding where none belongs
		{"YR", ""},     // non-zero trailing bits
		{"Y", ""},      // impossible length
		{"+/+/", ""},   // standard alphabet
		{"YW\nJj", ""}, // Go's decoder would skip the newline
		{"", ""}, {"==", ""},
	}
	for _, c := range cases {
		got, err := decodeBase64URL(c.in)
		if c.want == "" {
			if err == nil {
				t.Errorf("decodeBase64URL(%q) = %q, want error", c.in, got)
			}
			continue
		}
		if err != nil || string(got) != c.want {
			t.Errorf("decodeBase64URL(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestObjectID(t *testing.T) {
	cases := []struct {
		json       string
		digitsOnly bool
		want       string
		ok         bool
		err        bool
	}{
		{`{"id":"abc"}`, false, "abc", true, false},
		{`{"id":"abc"}`, true, "", false, true},
		{`{"id":123}`, true, "123", true, false},
		{`{"id":"123"}`, true, "123", true, false},
		{`{"id":123456789012345678901234567890}`, true, "123456789012345678901234567890", true, false},
		{`{"id":-1}`, false, "", false, true},
		{`{"id":1.0}`, false, "", false, true},
		{`{"id":1e3}`, false, "", false, true},
		{`{"id":""}`, false, "", false, false}, // empty counts as absent
		{`{"id":"a\u0000b"}`, false, "", false, true},
		{`{"id":"` + strings.Repeat("a", maxIDLen+1) + `"}`, false, "", false, true},
		{`{"id":true}`, false, "", false, true},
		{`{"id":{}}`, false, "", false, true},
		{`{"id":null}`, false, "", false, false},
		{`{}`, false, "", false, false},
		{`{"ID":"abc"}`, false, "", false, false}, // keys match exactly
	}
	for _, c := range cases {
		o, err := parseObject([]byte(c.json), "test")
		if err != nil {
			t.Fatalf("%s: %v", c.json, err)
		}
		got, ok, err := o.id("id", c.digitsOnly)
		if got != c.want || ok != c.ok || (err != nil) != c.err {
			t.Errorf("%s digitsOnly=%v: id = %q, %v, %v; want %q, %v, err=%v", c.json, c.digitsOnly, got, ok, err, c.want, c.ok, c.err)
		}
		if err != nil {
			wantErr(t, err, ErrMalformed)
		}
	}
}

func TestParseObjectRejects(t *testing.T) {
	for _, in := range []string{``, `null`, `[]`, `"x"`, `1`, `{`, `{"a":1}x`, `{"a":1}{}`, `{"a":}`} {
		if _, err := decodeBody([]byte(in)); err == nil {
			t.Errorf("decodeBody(%q) = nil error", in)
		} else {
			wantErr(t, err, ErrMalformed)
		}
	}
	o, err := decodeBody([]byte(" \n{\"a\":\"\xff\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s, _, _ := o.str("a"); !utf8.ValidString(s) {
		t.Fatalf("invalid UTF-8 survived: %q", s)
	}
}

func TestEqualSecret(t *testing.T) {
	if !equalSecret("abc", "abc") || equalSecret("abc", "abd") || equalSecret("abc", "abcd") || equalSecret("", "a") {
		t.Fatal("equalSecret is wrong")
	}
}
