package localrun

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/lethe-dev/lethe/internal/chanapi"
	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/platform"
)

// Every channel's client, at the base URLs `make run` configures, speaks to the local stand-ins
// about the seeded connections: each is valid, a code it sends is read at
// /_local/channels/{id}/messages, and once revoked at /_local/channels/{id}/revoke its channel
// refuses it with its documented code. The other connections of the same channel stay valid.
func TestLocalRunChannelStandIns(t *testing.T) {
	sys, stop, _ := start(t, t.TempDir())
	defer func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	}()
	ctx := context.Background()
	// The function environment points every channel at its stand-in.
	for name, path := range channelBaseURLs {
		if want := sys.APIURL + "/_local" + path; sys.Env[name] != want {
			t.Errorf("%s = %q, want %q", name, sys.Env[name], want)
		}
	}
	cfg := sys.Config
	if cfg.TelegramAPIBaseURL != sys.Env[config.EnvTelegramAPIBaseURL] || cfg.MetaGraphBaseURL != sys.Env[config.EnvMetaGraphBaseURL] ||
		cfg.SlackAPIBaseURL != sys.Env[config.EnvSlackAPIBaseURL] || cfg.VKAPIBaseURL != sys.Env[config.EnvVKAPIBaseURL] ||
		cfg.ViberAPIBaseURL != sys.Env[config.EnvViberAPIBaseURL] {
		t.Fatalf("the configuration does not read the stand-ins' URLs: %+v", cfg)
	}
	c := chanapi.New(chanapi.Endpoints{Telegram: cfg.TelegramAPIBaseURL, MetaGraph: cfg.MetaGraphBaseURL,
		Slack: cfg.SlackAPIBaseURL, VK: cfg.VKAPIBaseURL, Viber: cfg.ViberAPIBaseURL}, nil)

	// Two seeded connections of every channel: the first is revoked, the second must stay valid.
	byChannel := map[string][]string{}
	for _, a := range sys.Manifest.Accounts {
		for _, b := range a.Bots {
			for _, cn := range b.Connections {
				byChannel[cn.Channel] = append(byChannel[cn.Channel], cn.ID)
			}
		}
	}
	want := map[string]struct{ to, revoked string }{
		platform.ChannelTelegram:  {"734519826", "401"},
		platform.ChannelWhatsApp:  {"79161234567", "190/460"},
		platform.ChannelMessenger: {"6543210987654321", "190/458"},
		platform.ChannelInstagram: {"1357924680135792", "190/458"},
		platform.ChannelVK:        {"48213657", "5"},
		platform.ChannelViber:     {"01234567890A==", "2"},
		platform.ChannelSlack:     {"U0123ABCD", "token_revoked"},
	}
	for channel, w := range want {
		t.Run(channel, func(t *testing.T) {
			ids := byChannel[channel]
			if len(ids) < 2 {
				t.Fatalf("the seed has %d %s connections", len(ids), channel)
			}
			conn, err := sys.Store.Connection(ctx, ids[0])
			if err != nil {
				t.Fatal(err)
			}
			other, err := sys.Store.Connection(ctx, ids[1])
			if err != nil {
				t.Fatal(err)
			}
			if res, err := c.Check(ctx, conn); err != nil || !res.Valid() {
				t.Fatalf("check: %+v %v", res, err)
			}
			if err := c.SendCode(ctx, conn, w.to, "482915", "ru"); err != nil {
				t.Fatalf("send: %v", err)
			}
			var msgs struct {
				ConnectionID, Channel string
				Messages              []struct{ To, Text, At string }
			}
			if code := getJSON(t, sys.APIURL+"/_local/channels/"+conn.ID+"/messages", &msgs); code != 200 ||
				msgs.ConnectionID != conn.ID || msgs.Channel != channel || len(msgs.Messages) != 1 ||
				msgs.Messages[0].To != w.to || !strings.Contains(msgs.Messages[0].Text, "482915") || msgs.Messages[0].At == "" {
				t.Fatalf("messages: %d %+v", code, msgs)
			}
			var revoked map[string]string
			if code := postJSON(t, sys.APIURL+"/_local/channels/"+conn.ID+"/revoke", ``, &revoked); code != 200 ||
				revoked["connectionId"] != conn.ID {
				t.Fatalf("revoke: %d %v", code, revoked)
			}
			if res, err := c.Check(ctx, conn); err != nil || !res.Revoked() || res.Code != w.revoked {
				t.Fatalf("check after revoking: %+v %v, want revoked %s", res, err, w.revoked)
			}
			if res, err := c.Check(ctx, other); err != nil || !res.Valid() {
				t.Errorf("another %s connection after revoking one: %+v %v", channel, res, err)
			}
			var none struct{ Messages []any }
			if code := getJSON(t, sys.APIURL+"/_local/channels/"+other.ID+"/messages", &none); code != 200 || none.Messages == nil || len(none.Messages) != 0 {
				t.Errorf("another connection's chats: %d %+v", code, none)
			}
		})
	}
	var problem struct {
		Status int
		Detail string
	}
	if code := postJSON(t, sys.APIURL+"/_local/channels/no-such-connection/revoke", ``, &problem); code != 404 || problem.Status != 404 {
		t.Errorf("revoking an unknown connection: %d %+v", code, problem)
	}
	resp, err := http.Get(sys.APIURL + "/_local/channels/no-such-connection/messages")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 || !strings.Contains(resp.Header.Get("Content-Type"), "problem+json") {
		t.Errorf("an unknown connection's messages: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// The old Telegram-only route is gone.
	if code := postJSON(t, sys.APIURL+"/_local/telegram/revoke", `{"connectionId":"`+byChannel[platform.ChannelTelegram][1]+`"}`, &problem); code != 404 {
		t.Errorf("/_local/telegram/revoke answered %d", code)
	}
}
