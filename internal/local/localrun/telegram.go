package localrun

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/lethe-dev/lethe/internal/platform"
)

// localTelegram stands in for Telegram's Bot API under /_local/telegram, so that the token sweep
// runs locally as it does in AWS, over HTTP: getMe accepts every bot token except those revoked with
// POST /_local/telegram/revoke, which it refuses as Telegram refuses a revoked token (401).
type localTelegram struct {
	mu      sync.Mutex
	revoked map[string]bool // bot tokens
}

const localTelegramPath = "/_local/telegram"

// getMe serves GET /_local/telegram/bot<token>/getMe.
func (lt *localTelegram) getMe(w http.ResponseWriter, r *http.Request) {
	seg := r.PathValue("bot")
	token, ok := strings.CutPrefix(seg, "bot")
	if !ok || token == "" || !strings.Contains(token, ":") {
		writeJSON(w, http.StatusNotFound, map[string]any{"ok": false, "error_code": 404, "description": "Not Found"})
		return
	}
	lt.mu.Lock()
	revoked := lt.revoked[token]
	lt.mu.Unlock()
	if revoked {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"ok": false, "error_code": 401, "description": "Unauthorized"})
		return
	}
	id, _, _ := strings.Cut(token, ":")
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "result": map[string]any{"id": json.Number(id), "is_bot": true, "first_name": "Demo bot"}})
}

// revoke serves POST /_local/telegram/revoke {"connectionId"}: from now on the connection's bot
// token is refused, as if its owner had revoked it in @BotFather.
func (s *System) revokeTelegram(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ConnectionID string `json:"connectionId"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&in); err != nil || in.ConnectionID == "" {
		writeProblem(w, http.StatusBadRequest, `the body must be {"connectionId": "…"}`)
		return
	}
	conn, err := s.Store.Connection(r.Context(), in.ConnectionID)
	if errors.Is(err, platform.ErrNotFound) || err == nil && (conn.Channel != platform.ChannelTelegram || conn.Secrets["bot_token"] == "") {
		writeProblem(w, http.StatusNotFound, "no Telegram connection with that id")
		return
	}
	if err != nil {
		writeProblem(w, http.StatusInternalServerError, "")
		return
	}
	s.telegram.mu.Lock()
	s.telegram.revoked[conn.Secrets["bot_token"]] = true
	s.telegram.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"connectionId": conn.ID, "token": "revoked"})
}
