package channels

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// Slack's documented example ("Verifying requests from Slack", api.slack.com/authentication/
// verifying-requests-from-slack), verbatim.
const (
	slackDocSecret    = "8f742231b10e8888abcd99yyyzzz85a5"
	slackDocTimestamp = "1531420618"
	slackDocBody      = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	slackDocSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
)

func TestVerifySlack(t *testing.T) {
	ts := time.Unix(1531420618, 0)
	body := []byte(slackDocBody)
	cases := []struct {
		name, sig, ts string
		body          []byte
		secret        string
		now           time.Time
		err           error
	}{
		{"documented example", slackDocSignature, slackDocTimestamp, body, slackDocSecret, ts, nil},
		{"upper-case hex", "v0=" + strings.ToUpper(slackDocSignature[3:]), slackDocTimestamp, body, slackDocSecret, ts, nil},
		{"now 5 min after: accepted", slackDocSignature, slackDocTimestamp, body, slackDocSecret, ts.Add(5 * time.Minute), nil},
		{"now 5 min before: accepted", slackDocSignature, slackDocTimestamp, body, slackDocSecret, ts.Add(-5 * time.Minute), nil},
		{"now 5 min 1 s after: replay", slackDocSignature, slackDocTimestamp, body, slackDocSecret, ts.Add(5*time.Minute + time.Second), ErrExpired},
		{"now 5 min 1 ns after: replay", slackDocSignature, slackDocTimestamp, body, slackDocSecret, ts.Add(5*time.Minute + 1), ErrExpired},
		{"now 5 min 1 s before: future", slackDocSignature, slackDocTimestamp, body, slackDocSecret, ts.Add(-5*time.Minute - time.Second), ErrExpired},
		{"replayed a day later", slackDocSignature, slackDocTimestamp, body, slackDocSecret, ts.Add(24 * time.Hour), ErrExpired},
		{"real clock (2018 request)", slackDocSignature, slackDocTimestamp, body, slackDocSecret, time.Now(), ErrExpired},
		{"wrong secret", slackDocSignature, slackDocTimestamp, body, slackDocSecret + "x", ts, ErrForged},
		{"one byte of body changed", slackDocSignature, slackDocTimestamp, []byte(strings.Replace(slackDocBody, "roadrunner", "roadrunneR", 1)), slackDocSecret, ts, ErrForged},
		{"timestamp changed by 1 s", slackDocSignature, "1531420619", body, slackDocSecret, ts, ErrForged},
		{"no secret configured", slackDocSignature, slackDocTimestamp, body, "", ts, ErrForged},
		{"missing signature", "", slackDocTimestamp, body, slackDocSecret, ts, ErrForged},
		{"v1 prefix", "v1=" + slackDocSignature[3:], slackDocTimestamp, body, slackDocSecret, ts, ErrForged},
		{"no prefix", slackDocSignature[3:], slackDocTimestamp, body, slackDocSecret, ts, ErrForged},
		{"truncated", slackDocSignature[:20], slackDocTimestamp, body, slackDocSecret, ts, ErrForged},
		{"non-numeric timestamp", slackDocSignature, "yesterday", body, slackDocSecret, ts, ErrMalformed},
		{"empty timestamp", slackDocSignature, "", body, slackDocSecret, ts, ErrMalformed},
		{"signed timestamp", slackDocSignature, "+1531420618", body, slackDocSecret, ts, ErrMalformed},
		{"negative timestamp", slackDocSignature, "-1531420618", body, slackDocSecret, ts, ErrMalformed},
		{"fractional timestamp", slackDocSignature, "1531420618.5", body, slackDocSecret, ts, ErrMalformed},
		{"timestamp with space", slackDocSignature, " 1531420618", body, slackDocSecret, ts, ErrMalformed},
		{"timestamp overflows int64", slackDocSignature, "9999999999999999999", body, slackDocSecret, ts, ErrMalformed},
		{"timestamp far future", slackDocSignature, "999999999999999999", body, slackDocSecret, ts, ErrExpired},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantErr(t, VerifySlack(c.sig, c.ts, c.body, c.secret, c.now), c.err)
		})
	}
}

// A request built the documented way verifies at every second of the window and at neither second
// just outside it.
func TestVerifySlackWindowEdges(t *testing.T) {
	const secret = "edge-secret"
	body := []byte(`{"type":"event_callback"}`)
	ts := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tsStr := "1772366400"
	if ts.Unix() != 1772366400 {
		t.Fatal("fixture timestamp is wrong")
	}
	sig := "v0=" + hexMAC(secret, "v0:"+tsStr+":", string(body))
	for d := -301; d <= 301; d++ {
		err := VerifySlack(sig, tsStr, body, secret, ts.Add(time.Duration(d)*time.Second))
		if d < -300 || d > 300 {
			wantErr(t, err, ErrExpired)
		} else {
			wantErr(t, err, nil)
		}
	}
}

func TestParseSlack(t *testing.T) {
	cases := []struct {
		name    string
		body    string
		want    SlackEnvelope
		revokes bool
		err     error
	}{
		{"url_verification (documented)", `{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`,
			SlackEnvelope{Type: "url_verification", Challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}, false, nil},
		{"app_uninstalled (documented)", `{"token":"XXYYZZ","team_id":"TXXXXXXXX","api_app_id":"AXXXXXXXXX","event":{"type":"app_uninstalled"},"type":"event_callback","event_id":"EvXXXXXXXX","event_time":1234567890}`,
			SlackEnvelope{Type: "event_callback", EventID: "EvXXXXXXXX", TeamID: "TXXXXXXXX", APIAppID: "AXXXXXXXXX", EventType: "app_uninstalled"}, true, nil},
		{"tokens_revoked (documented)", `{"token":"XXYYZZ","team_id":"TXXXXXXXX","api_app_id":"AXXXXXXXXX","event":{"type":"tokens_revoked","tokens":{"oauth":["UXXXXXXXX"],"bot":["UXXXXXXXX"]}},"type":"event_callback","event_id":"EvXXXXXXXX","event_time":1234567890}`,
			SlackEnvelope{Type: "event_callback", EventID: "EvXXXXXXXX", TeamID: "TXXXXXXXX", APIAppID: "AXXXXXXXXX", EventType: "tokens_revoked", RevokedOAuth: []string{"UXXXXXXXX"}, RevokedBot: []string{"UXXXXXXXX"}}, true, nil},
		{"tokens_revoked, user tokens only", `{"team_id":"T1","event":{"type":"tokens_revoked","tokens":{"oauth":["U1","U2"]}},"type":"event_callback","event_id":"Ev1"}`,
			SlackEnvelope{Type: "event_callback", EventID: "Ev1", TeamID: "T1", EventType: "tokens_revoked", RevokedOAuth: []string{"U1", "U2"}}, false, nil},
		{"tokens_revoked, empty bot list", `{"team_id":"T1","event":{"type":"tokens_revoked","tokens":{"oauth":[],"bot":[]}},"type":"event_callback","event_id":"Ev1"}`,
			SlackEnvelope{Type: "event_callback", EventID: "Ev1", TeamID: "T1", EventType: "tokens_revoked"}, false, nil},
		{"team from authorizations", `{"authorizations":[{"enterprise_id":"E1","team_id":"T9","user_id":"U1","is_bot":true}],"event":{"type":"app_uninstalled"},"type":"event_callback","event_id":"Ev2"}`,
			SlackEnvelope{Type: "event_callback", EventID: "Ev2", TeamID: "T9", EnterpriseID: "E1", EventType: "app_uninstalled"}, true, nil},
		{"empty team_id falls back to authorizations", `{"team_id":"","authorizations":[{"team_id":"T9"}],"event":{"type":"app_uninstalled"},"type":"event_callback","event_id":"Ev2"}`,
			SlackEnvelope{Type: "event_callback", EventID: "Ev2", TeamID: "T9", EventType: "app_uninstalled"}, true, nil},
		{"org-wide install: enterprise only", `{"enterprise_id":"E1","event":{"type":"app_uninstalled"},"type":"event_callback","event_id":"Ev3"}`,
			SlackEnvelope{Type: "event_callback", EventID: "Ev3", EnterpriseID: "E1", EventType: "app_uninstalled"}, true, nil},
		{"message event", `{"team_id":"T1","event":{"type":"message","text":"app_uninstalled"},"type":"event_callback","event_id":"Ev4"}`,
			SlackEnvelope{Type: "event_callback", EventID: "Ev4", TeamID: "T1", EventType: "message"}, false, nil},
		{"other envelope type", `{"type":"app_rate_limited","team_id":"T1","minute_rate_limited":1518467820,"api_app_id":"A1"}`,
			SlackEnvelope{Type: "app_rate_limited", TeamID: "T1", APIAppID: "A1"}, false, nil},
		{"event outside event_callback is not read", `{"type":"something","team_id":"T1","event":{"type":"app_uninstalled"}}`,
			SlackEnvelope{Type: "something", TeamID: "T1"}, false, nil},
		{"challenge missing", `{"type":"url_verification"}`, SlackEnvelope{}, false, ErrMalformed},
		{"challenge with markup", `{"type":"url_verification","challenge":"<img src=x>"}`, SlackEnvelope{}, false, ErrMalformed},
		{"event_id missing", `{"team_id":"T1","event":{"type":"app_uninstalled"},"type":"event_callback"}`, SlackEnvelope{}, false, ErrMalformed},
		{"team missing", `{"event":{"type":"app_uninstalled"},"type":"event_callback","event_id":"Ev1"}`, SlackEnvelope{}, false, ErrMalformed},
		{"event missing", `{"team_id":"T1","type":"event_callback","event_id":"Ev1"}`, SlackEnvelope{}, false, ErrMalformed},
		{"event.type missing", `{"team_id":"T1","event":{},"type":"event_callback","event_id":"Ev1"}`, SlackEnvelope{}, false, ErrMalformed},
		{"tokens missing", `{"team_id":"T1","event":{"type":"tokens_revoked"},"type":"event_callback","event_id":"Ev1"}`, SlackEnvelope{}, false, ErrMalformed},
		{"bot not an array", `{"team_id":"T1","event":{"type":"tokens_revoked","tokens":{"bot":"U1"}},"type":"event_callback","event_id":"Ev1"}`, SlackEnvelope{}, false, ErrMalformed},
		{"bot list of numbers", `{"team_id":"T1","event":{"type":"tokens_revoked","tokens":{"bot":[1]}},"type":"event_callback","event_id":"Ev1"}`, SlackEnvelope{}, false, ErrMalformed},
		{"type missing", `{"team_id":"T1"}`, SlackEnvelope{}, false, ErrMalformed},
		{"type not a string", `{"type":["event_callback"]}`, SlackEnvelope{}, false, ErrMalformed},
		{"form-encoded body", slackDocBody, SlackEnvelope{}, false, ErrMalformed},
		{"empty", ``, SlackEnvelope{}, false, ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseSlack([]byte(c.body))
			wantErr(t, err, c.err)
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
			if got.Revokes() != c.revokes {
				t.Fatalf("Revokes() = %v, want %v", got.Revokes(), c.revokes)
			}
		})
	}
}
