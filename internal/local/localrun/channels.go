package localrun

import (
	"errors"
	"net/http"

	"github.com/lethe-dev/lethe/internal/chanapi"
	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/local/chanstand"
	"github.com/lethe-dev/lethe/internal/platform"
)

// localChannelsPath is where the stand-ins for every channel's API are served (chanstand):
// /_local/telegram, /_local/graph, /_local/slack, /_local/vk and /_local/viber. The token sweep,
// the connection-health sweep and the one-time codes run locally as they do in AWS, over HTTP.
const localChannelsPath = "/_local"

// channelBaseURLs are the configuration variables naming each channel's API, and where its
// stand-in is served.
var channelBaseURLs = map[string]string{
	config.EnvTelegramAPIBaseURL: chanstand.TelegramPath,
	config.EnvMetaGraphBaseURL:   chanstand.GraphPath,
	config.EnvSlackAPIBaseURL:    chanstand.SlackPath,
	config.EnvVKAPIBaseURL:       chanstand.VKPath,
	config.EnvViberAPIBaseURL:    chanstand.ViberPath,
}

// connectionCredential reads the connection named in the path and its credential, answering 404
// for an unknown connection or one that holds no credential.
func (s *System) connectionCredential(w http.ResponseWriter, r *http.Request) (platform.ChannelConnection, string, bool) {
	conn, err := s.Store.Connection(r.Context(), r.PathValue("connectionId"))
	if errors.Is(err, platform.ErrNotFound) || err == nil && chanapi.Credential(conn) == "" {
		writeProblem(w, http.StatusNotFound, "no channel connection with that id")
		return conn, "", false
	}
	if err != nil {
		writeProblem(w, http.StatusInternalServerError, "")
		return conn, "", false
	}
	return conn, chanapi.Credential(conn), true
}

// revokeConnection serves POST /_local/channels/{connectionId}/revoke: from now on the connection's
// channel refuses its credential with its documented answer, as if its owner had revoked the bot
// token (Telegram's @BotFather, Slack, VK, Viber), the system user's token (WhatsApp), or a page
// admin had removed the app (Messenger, Instagram).
func (s *System) revokeConnection(w http.ResponseWriter, r *http.Request) {
	conn, cred, ok := s.connectionCredential(w, r)
	if !ok {
		return
	}
	s.channels.Revoke(cred)
	writeJSON(w, http.StatusOK, map[string]string{"connectionId": conn.ID, "channel": conn.Channel, "credential": "revoked"})
}

// connectionMessages serves GET /_local/channels/{connectionId}/messages: what was sent into chats
// through the connection ({to, text, at}, newest last) — where a one-time code is read locally.
func (s *System) connectionMessages(w http.ResponseWriter, r *http.Request) {
	conn, cred, ok := s.connectionCredential(w, r)
	if !ok {
		return
	}
	msgs := s.channels.Messages(cred)
	if msgs == nil {
		msgs = []chanstand.Message{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"connectionId": conn.ID, "channel": conn.Channel, "messages": msgs})
}
