package chanstand_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/chanapi"
	"github.com/lethe-dev/lethe/internal/local/chanstand"
	"github.com/lethe-dev/lethe/internal/platform"
)

func conn(channel, key, secret, value string, keys map[string]string) platform.ChannelConnection {
	return platform.ChannelConnection{ID: "c-" + channel, Channel: channel, ChannelKey: key, Name: "Demo bot",
		Secrets: map[string]string{secret: value}, Keys: keys}
}

// chanapi's clients, pointed at the stand-in, find every channel's credential valid, then revoked
// with the channel's documented code once revoked; their sends land in the stand-in's chats.
func TestStandInSpeaksWhatChanapiSpeaks(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	s := chanstand.New(func() time.Time { return at })
	mux := http.NewServeMux()
	s.Register(mux, "/_local")
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := chanapi.New(chanapi.Endpoints{Telegram: srv.URL + "/_local/telegram", MetaGraph: srv.URL + "/_local/graph",
		Slack: srv.URL + "/_local/slack", VK: srv.URL + "/_local/vk", Viber: srv.URL + "/_local/viber"}, nil)
	tests := []struct {
		conn       platform.ChannelConnection
		to, locale string
		text       string
		revoked    string
	}{
		{conn(platform.ChannelTelegram, "5820187346", "bot_token", "5820187346:AAHk3mP9qLrT2vXz8WcYb4NsJd6FgE1uQoI", nil),
			"734519826", "ru", "Ваш код подтверждения запроса на удаление данных: 482915. Никому его не сообщайте.", "401"},
		{conn(platform.ChannelMessenger, "112233445566778", "page_access_token", "EAAGmessenger0123456789", nil),
			"6543210987654321", "en", "Your data-deletion request verification code: 482915. Do not share it.", "190/458"},
		{conn(platform.ChannelInstagram, "118877665544332", "page_access_token", "EAAGinstagram0123456789",
			map[string]string{platform.ConnKeyInstagramAccountID: "17841400000000001"}),
			"1357924680135792", "ru", "Ваш код подтверждения запроса на удаление данных: 482915. Никому его не сообщайте.", "190/458"},
		{conn(platform.ChannelWhatsApp, "104996122399160", "access_token", "EAAGwhatsapp0123456789",
			map[string]string{platform.ConnKeyPhoneNumberID: "106540352242922"}),
			"79161234567", "en", "482915 is your verification code. For your security, do not share this code.", "190/460"},
		{conn(platform.ChannelSlack, "T0ABCDEFG1", "bot_token", "xoxb-123456789012-1234567890123-AbCdEfGh", nil),
			"U0123ABCD", "en", "Your data-deletion request verification code: 482915. Do not share it.", "token_revoked"},
		{conn(platform.ChannelVK, "218375446", "access_token", "vk1.a.community0123456789", nil),
			"48213657", "ru", "Ваш код подтверждения запроса на удаление данных: 482915. Никому его не сообщайте.", "5"},
		{conn(platform.ChannelViber, "demobot1", "auth_token", "445da6az1s345z78-dazcczb2542zv51a-e0vc5fva17480im9", nil),
			"01234567890A=", "en", "Your data-deletion request verification code: 482915. Do not share it.", "2"},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.conn.Channel, func(t *testing.T) {
			cred := chanapi.Credential(tt.conn)
			if res, err := c.Check(ctx, tt.conn); err != nil || !res.Valid() {
				t.Fatalf("check before revoking: %+v %v", res, err)
			}
			if err := c.SendCode(ctx, tt.conn, tt.to, "482915", tt.locale); err != nil {
				t.Fatalf("send: %v", err)
			}
			got := s.Messages(cred)
			if len(got) != 1 || got[0] != (chanstand.Message{To: tt.to, Text: tt.text, At: at}) {
				t.Fatalf("messages %+v", got)
			}
			s.Revoke(cred)
			res, err := c.Check(ctx, tt.conn)
			if err != nil || !res.Revoked() || res.Code != tt.revoked {
				t.Fatalf("check after revoking: %+v %v, want revoked %s", res, err, tt.revoked)
			}
			// A revoked credential sends nothing: the channel refuses it (an APIError: the sweep,
			// not the send, decides what a refused credential means).
			var ae *chanapi.APIError
			if err := c.SendCode(ctx, tt.conn, tt.to, "111111", tt.locale); !errors.As(err, &ae) || ae.Code != tt.revoked {
				t.Errorf("send with a revoked credential: %v", err)
			}
			if n := len(s.Messages(cred)); n != 1 {
				t.Errorf("%d messages after a refused send", n)
			}
		})
	}
}

// VK sends a message once per random_id, as VK does: chanapi's retry of a send is one message.
func TestStandInVKSendsARetryOnce(t *testing.T) {
	s := chanstand.New(nil)
	mux := http.NewServeMux()
	s.Register(mux, "")
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := chanapi.New(chanapi.Endpoints{VK: srv.URL + "/vk"}, nil)
	vk := conn(platform.ChannelVK, "218375446", "access_token", "vk1.a.community0123456789", nil)
	for _, code := range []string{"482915", "482915", "907113"} {
		if err := c.SendCode(context.Background(), vk, "48213657", code, "en"); err != nil {
			t.Fatal(err)
		}
	}
	got := s.Messages("vk1.a.community0123456789")
	if len(got) != 2 || !strings.Contains(got[0].Text, "482915") || !strings.Contains(got[1].Text, "907113") {
		t.Errorf("messages %+v", got)
	}
}

// The stand-in answers what the channels answer to a malformed call, not success.
func TestStandInRefusesMalformedCalls(t *testing.T) {
	s := chanstand.New(nil)
	mux := http.NewServeMux()
	s.Register(mux, "/_local")
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, tt := range []struct {
		method, path, header, body string
		status                     int
		contains                   string
	}{
		{"GET", "/_local/telegram/botnocolon/getMe", "", "", 404, `"error_code":404`},
		{"GET", "/_local/graph/me", "", "", 400, `"code":2500`},
		{"POST", "/_local/graph/me/messages", "Bearer EAAGx", `{"recipient":{"id":"1"},"messaging_type":"MESSAGE_TAG","message":{"text":"hi"}}`, 400, `"code":100`},
		{"POST", "/_local/graph/1065/messages", "Bearer EAAGx", `{"messaging_product":"whatsapp","to":"7916","type":"template","template":{"name":"t","language":{"code":"de"}}}`, 404, `"code":132001`},
		{"POST", "/_local/slack/auth.test", "", "", 200, `"error":"not_authed"`},
		{"POST", "/_local/viber/get_account_info", "", "{}", 200, `"status":2`},
	} {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
		if tt.header != "" {
			req.Header.Set("Authorization", tt.header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		_, _ = io.Copy(&b, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.Contains(b.String(), tt.contains) {
			t.Errorf("%s %s: %d %s", tt.method, tt.path, resp.StatusCode, b.String())
		}
	}
}
