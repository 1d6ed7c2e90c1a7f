package channels

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Invariants every fuzz target checks:
//   - nothing panics;
//   - every error wraps exactly one of ErrForged, ErrExpired, ErrMalformed;
//   - every string field of a successful parse is valid UTF-8 (and ids are well formed);
//   - a request signed with one secret verifies with it and fails with a different one.

func fuzzErr(t *testing.T, err error) {
	t.Helper()
	if err != nil && sentinelCount(err) != 1 {
		t.Fatalf("error %v wraps %d sentinels, want 1", err, sentinelCount(err))
	}
}

func fuzzUTF8(t *testing.T, fields ...string) {
	t.Helper()
	for _, f := range fields {
		if !utf8.ValidString(f) {
			t.Fatalf("field %q is not valid UTF-8", f)
		}
	}
}

// hostile seeds shared by the JSON parsers.
var hostileBodies = []string{
	``, `null`, `[]`, `{}`, `"x"`, `{"a":`, `{"a":1}x`, "{\"a\":\"\xff\xfe\"}",
	strings.Repeat(`[`, 10000) + strings.Repeat(`]`, 10000),
	`{"x":` + strings.Repeat(`{"x":`, 5000) + `1` + strings.Repeat(`}`, 5001),
	`{"update_id":1e400,"group_id":1e400,"timestamp":1e400}`,
	`{"id":123456789012345678901234567890123456789012345678901234567890}`,
	"{\"type\":\"\\u0000\",\"event\":\"\\ud800\"}",
}

func FuzzParseSignedRequest(f *testing.F) {
	for _, s := range []string{fbSDKEntities, fbSDKJavaScript, fbSDKWithCode, fbSDKUnauthorized} {
		f.Add(s, fbSDKSecret)
	}
	f.Add(pyDocsExample, pySecret)
	f.Add(pyBigNumber, pySecret)
	f.Add("", "")
	f.Add(".", "k")
	f.Add("a.b.c", "k")
	f.Add("====.====", "k")
	f.Add(`{"algorithm":"HMAC-SHA256","user_id":"1"}`, "k")
	f.Add(`{"algorithm":"HMAC-SHA256","user_id":99999999999999999999999}`, "k")
	f.Fuzz(func(t *testing.T, signed, secret string) {
		check := func(signed string) {
			sr, err := ParseSignedRequest(signed, secret)
			fuzzErr(t, err)
			if err != nil {
				if sr != (SignedRequest{}) {
					t.Fatalf("non-zero result %+v with error", sr)
				}
				return
			}
			fuzzUTF8(t, sr.UserID, sr.Algorithm)
			if !validID(sr.UserID) || !strings.EqualFold(sr.Algorithm, "HMAC-SHA256") {
				t.Fatalf("accepted %+v", sr)
			}
			if _, err := ParseSignedRequest(signed, secret+"x"); !errors.Is(err, ErrForged) {
				t.Fatalf("verified under a different secret: %v", err)
			}
			if _, err := ParseSignedRequest(signed, ""); !errors.Is(err, ErrForged) {
				t.Fatalf("verified without a secret: %v", err)
			}
		}
		check(signed)
		// Also treat the input as a payload JSON and sign it properly, so the fuzzer reaches the
		// decoding past the HMAC.
		if secret != "" && len(signed) < 1<<16 {
			p := base64.RawURLEncoding.EncodeToString([]byte(signed))
			m := hmac.New(sha256.New, []byte(secret))
			m.Write([]byte(p))
			check(base64.URLEncoding.EncodeToString(m.Sum(nil)) + "." + p)
		}
	})
}

func FuzzParseWhatsApp(f *testing.F) {
	f.Add([]byte(waBody), waSecret, "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token="+waSecret)
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"account_update","value":{"event":"ACCOUNT_DELETED"}}]}]}`), "k", "hub.mode=subscribe&hub.challenge=%3Cx%3E&hub.verify_token=k")
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"id":1,"changes":[{"field":"account_update","value":{"event":"PARTNER_REMOVED","waba_info":{"waba_id":null}}}]}]}`), "", "")
	for _, b := range hostileBodies {
		f.Add([]byte(b), "k", "hub.mode=subscribe&hub.mode=subscribe")
	}
	f.Fuzz(func(t *testing.T, body []byte, secret, query string) {
		// signature
		m := hmac.New(sha256.New, []byte(secret))
		m.Write(body)
		header := "sha256=" + strings.ToUpper(string(hexOf(m.Sum(nil))))
		err := VerifyHubSignature(header, body, []byte(secret))
		fuzzErr(t, err)
		if secret != "" && len(body) <= MaxBodyBytes && err != nil {
			t.Fatalf("own signature rejected: %v", err)
		}
		if err == nil {
			if err := VerifyHubSignature(header, body, []byte(secret+"x")); !errors.Is(err, ErrForged) {
				t.Fatalf("verified under a different secret: %v", err)
			}
		}
		fuzzErr(t, VerifyHubSignature(query, body, []byte(secret)))

		// body
		revs, err := ParseWhatsApp(body)
		fuzzErr(t, err)
		if err == nil {
			if revs == nil {
				t.Fatal("nil slice on success")
			}
			for _, r := range revs {
				fuzzUTF8(t, r.AccountID, r.Event, r.EntryID)
				if !validID(r.AccountID) {
					t.Fatalf("bad account id %q", r.AccountID)
				}
				switch r.Event {
				case WhatsAppPartnerAppUninstalled, WhatsAppPartnerRemoved, WhatsAppAccountDeleted:
				default:
					t.Fatalf("unexpected event %q", r.Event)
				}
			}
		} else if revs != nil {
			t.Fatal("result with error")
		}

		// handshake
		q, qerr := url.ParseQuery(query)
		if qerr != nil {
			return
		}
		ch, err := WhatsAppHandshake(q, secret)
		fuzzErr(t, err)
		if err == nil {
			if ch != q.Get("hub.challenge") || !tokenString(ch, maxChallengeLen) || q.Get("hub.verify_token") != secret {
				t.Fatalf("accepted %q for %v", ch, q)
			}
			if _, err := WhatsAppHandshake(q, secret+"x"); !errors.Is(err, ErrForged) {
				t.Fatalf("handshake verified under a different token: %v", err)
			}
		}
	})
}

func FuzzSlack(f *testing.F) {
	f.Add([]byte(slackDocBody), slackDocTimestamp, slackDocSecret, int64(0))
	f.Add([]byte(`{"token":"XXYYZZ","team_id":"TXXXXXXXX","api_app_id":"AXXXXXXXXX","event":{"type":"tokens_revoked","tokens":{"oauth":["UXXXXXXXX"],"bot":["UXXXXXXXX"]}},"type":"event_callback","event_id":"EvXXXXXXXX","event_time":1234567890}`), "1700000000", "k", int64(300))
	f.Add([]byte(`{"type":"url_verification","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}`), "1700000000", "k", int64(-301))
	f.Add([]byte(`{"authorizations":[{"team_id":"T9"}],"event":{"type":"app_uninstalled"},"type":"event_callback","event_id":"Ev2"}`), "x", "", int64(1))
	for _, b := range hostileBodies {
		f.Add([]byte(b), "0", "k", int64(0))
	}
	f.Fuzz(func(t *testing.T, body []byte, ts, secret string, skew int64) {
		skew %= 1000 // seconds
		now := time.Unix(1700000000, 0)
		if n, err := strconv.ParseInt(ts, 10, 64); err == nil {
			now = time.Unix(n, 0).Add(time.Duration(skew) * time.Second)
		}
		sig := "v0=" + hexMAC(secret, "v0:"+ts+":", string(body))
		err := VerifySlack(sig, ts, body, secret, now)
		fuzzErr(t, err)
		wellFormed := secret != "" && len(body) <= MaxBodyBytes && len(ts) <= 19 && isDigits(ts)
		if _, perr := strconv.ParseInt(ts, 10, 64); perr != nil {
			wellFormed = false
		}
		switch {
		case !wellFormed:
			if err == nil {
				t.Fatalf("accepted secret=%q ts=%q", secret, ts)
			}
		case skew > 300 || skew < -300:
			if !errors.Is(err, ErrExpired) {
				t.Fatalf("skew %d s: %v, want ErrExpired", skew, err)
			}
		default:
			if err != nil {
				t.Fatalf("own signature rejected (skew %d s): %v", skew, err)
			}
			if err := VerifySlack(sig, ts, body, secret+"x", now); !errors.Is(err, ErrForged) {
				t.Fatalf("verified under a different secret: %v", err)
			}
		}
		fuzzErr(t, VerifySlack(string(body), ts, body, secret, now))

		env, err := ParseSlack(body)
		fuzzErr(t, err)
		if err != nil {
			return
		}
		fuzzUTF8(t, env.Type, env.Challenge, env.EventID, env.TeamID, env.EnterpriseID, env.APIAppID, env.EventType)
		for _, id := range append(append([]string{}, env.RevokedOAuth...), env.RevokedBot...) {
			fuzzUTF8(t, id)
			if !validID(id) {
				t.Fatalf("bad user id %q", id)
			}
		}
		if env.Type == "" {
			t.Fatal("empty type accepted")
		}
		if env.Type == SlackURLVerification && !tokenString(env.Challenge, maxChallengeLen) {
			t.Fatalf("challenge %q accepted", env.Challenge)
		}
		if env.Type == SlackEventCallback && (env.EventID == "" || env.EventType == "" || env.TeamID == "" && env.EnterpriseID == "") {
			t.Fatalf("incomplete event_callback accepted: %+v", env)
		}
		if env.Revokes() && env.Type != SlackEventCallback {
			t.Fatalf("Revokes outside event_callback: %+v", env)
		}
	})
}

func FuzzParseTelegram(f *testing.F) {
	f.Add([]byte(`{"update_id":10000,"my_chat_member":{"chat":{"id":987654321,"type":"private"},"from":{"id":987654321,"is_bot":false,"first_name":"Ann"},"date":1700000000,"old_chat_member":{"user":{"id":111,"is_bot":true,"first_name":"Bot"},"status":"member"},"new_chat_member":{"user":{"id":111,"is_bot":true,"first_name":"Bot"},"status":"kicked","until_date":0}}}`), "Abc_123", "Abc_123")
	f.Add([]byte(`{"update_id":1,"my_chat_member":{"chat":{"id":-100,"type":"group"},"from":{"id":5},"new_chat_member":{"status":"kicked"}}}`), "", "x")
	f.Add([]byte(`{"update_id":1,"my_chat_member":{"chat":{"id":1,"type":"private"},"from":{"id":"5"},"new_chat_member":{"status":"kicked"}}}`), "x", "")
	for _, b := range hostileBodies {
		f.Add([]byte(b), "a", "b")
	}
	f.Fuzz(func(t *testing.T, body []byte, header, secret string) {
		err := VerifyTelegramSecret(header, secret)
		fuzzErr(t, err)
		if (err == nil) != (secret != "" && header == secret) {
			t.Fatalf("VerifyTelegramSecret(%q, %q) = %v", header, secret, err)
		}
		if secret != "" {
			wantErr(t, VerifyTelegramSecret(secret, secret), nil)
		}
		wantErr(t, VerifyTelegramSecret(secret, secret+"x"), ErrForged)

		u, err := ParseTelegram(body)
		fuzzErr(t, err)
		if err != nil {
			if u != (TelegramUpdate{}) {
				t.Fatalf("result %+v with error", u)
			}
			return
		}
		fuzzUTF8(t, u.UserID)
		if u.UpdateID < 0 || u.Blocked != (u.UserID != "") || (u.Blocked && !isDigits(u.UserID)) {
			t.Fatalf("accepted %+v", u)
		}
	})
}

func FuzzParseVK(f *testing.F) {
	f.Add([]byte(`{"type":"confirmation","group_id":186648891}`), "s3cr3t")
	f.Add([]byte(`{"group_id":186648891,"type":"message_deny","event_id":"5e4b0f6c","v":"5.199","object":{"user_id":1234567},"secret":"s3cr3t"}`), "s3cr3t")
	f.Add([]byte(`{"group_id":"1","type":"message_deny","object":{"user_id":"0"}}`), "")
	for _, b := range hostileBodies {
		f.Add([]byte(b), "k")
	}
	f.Fuzz(func(t *testing.T, body []byte, want string) {
		c, err := ParseVK(body)
		fuzzErr(t, err)
		if err != nil {
			if c != (VKCallback{}) {
				t.Fatalf("result %+v with error", c)
			}
		} else {
			fuzzUTF8(t, c.Type, c.GroupID, c.EventID, c.Secret, c.UserID, c.Version)
			if c.Type == "" || !isDigits(c.GroupID) || !positive(c.GroupID) {
				t.Fatalf("accepted %+v", c)
			}
			if c.Type == VKMessageDeny && (!isDigits(c.UserID) || !positive(c.UserID)) {
				t.Fatalf("message_deny accepted without a user: %+v", c)
			}
			if c.Type != VKMessageDeny && c.UserID != "" {
				t.Fatalf("user id outside message_deny: %+v", c)
			}
		}
		err = VerifyVKSecret(c.Secret, want)
		fuzzErr(t, err)
		if (err == nil) != (want != "" && c.Secret == want) {
			t.Fatalf("VerifyVKSecret(%q, %q) = %v", c.Secret, want, err)
		}
		wantErr(t, VerifyVKSecret(want, want+"x"), ErrForged)
	})
}

func FuzzParseViber(f *testing.F) {
	f.Add([]byte(viberPyBody), viberPyToken)
	f.Add([]byte(viberUnsubBody), viberUnsubToken)
	f.Add([]byte(`{"event":"message","sender":{"id":"01234567890A="},"message_token":"99999999999999999999999"}`), "k")
	f.Add([]byte(`{"event":"unsubscribed","user_id":12}`), "")
	for _, b := range hostileBodies {
		f.Add([]byte(b), "k")
	}
	f.Fuzz(func(t *testing.T, body []byte, token string) {
		m := hmac.New(sha256.New, []byte(token))
		m.Write(body)
		sig := string(hexOf(m.Sum(nil)))
		err := VerifyViber(sig, body, token)
		fuzzErr(t, err)
		if token != "" && len(body) <= MaxBodyBytes && err != nil {
			t.Fatalf("own signature rejected: %v", err)
		}
		if err == nil {
			if err := VerifyViber(sig, body, token+"x"); !errors.Is(err, ErrForged) {
				t.Fatalf("verified under a different token: %v", err)
			}
		}
		fuzzErr(t, VerifyViber(token, body, token))

		e, err := ParseViber(body)
		fuzzErr(t, err)
		if err != nil {
			if e != (ViberEvent{}) {
				t.Fatalf("result %+v with error", e)
			}
			return
		}
		fuzzUTF8(t, e.Event, e.MessageToken, e.UserID)
		if e.Event == "" || e.Timestamp < 0 || (e.MessageToken != "" && !isDigits(e.MessageToken)) ||
			(e.UserID != "" && !validID(e.UserID)) || (e.Revokes() && e.UserID == "") {
			t.Fatalf("accepted %+v", e)
		}
	})
}

// hexOf is lower-case hex, written out here so the fuzz targets do not share code with verifyHexMAC.
func hexOf(b []byte) []byte {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return out
}
