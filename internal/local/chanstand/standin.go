package chanstand

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Where each channel's stand-in is served, under the prefix given to Register.
const (
	TelegramPath = "/telegram"
	GraphPath    = "/graph"
	SlackPath    = "/slack"
	VKPath       = "/vk"
	ViberPath    = "/viber"
)

// Message is what was sent into a chat.
type Message struct {
	To   string    `json:"to"`
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// StandIn keeps, per credential, whether it was revoked and what was sent with it.
type StandIn struct {
	now func() time.Time

	mu      sync.Mutex
	revoked map[string]bool
	sent    map[string][]Message
	vkSeen  map[string]int // credential + random_id → message id: VK sends a repeated random_id once
}

// New returns a stand-in that accepts every credential; now stamps the messages (time.Now when nil).
func New(now func() time.Time) *StandIn {
	if now == nil {
		now = time.Now
	}
	return &StandIn{now: now, revoked: map[string]bool{}, sent: map[string][]Message{}, vkSeen: map[string]int{}}
}

// Revoke makes every channel refuse credential from now on, as it refuses a revoked one.
func (s *StandIn) Revoke(credential string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked[credential] = true
}

// Messages are what was sent with credential, oldest first.
func (s *StandIn) Messages(credential string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent[credential])
}

func (s *StandIn) isRevoked(credential string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.revoked[credential]
}

func (s *StandIn) record(credential, to, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent[credential] = append(s.sent[credential], Message{To: to, Text: text, At: s.now().UTC()})
}

// Register serves every channel's stand-in on mux under prefix ("/_local" serves Telegram at
// /_local/telegram, and so on).
func (s *StandIn) Register(mux *http.ServeMux, prefix string) {
	tg, gr, sl, vk, vb := prefix+TelegramPath, prefix+GraphPath, prefix+SlackPath, prefix+VKPath, prefix+ViberPath
	mux.HandleFunc("GET "+tg+"/{bot}/getMe", s.telegramGetMe)
	mux.HandleFunc("POST "+tg+"/{bot}/sendMessage", s.telegramSendMessage)
	mux.HandleFunc("GET "+gr+"/me", s.graphNode)
	mux.HandleFunc("GET "+gr+"/{id}", s.graphNode)
	mux.HandleFunc("POST "+gr+"/me/messages", s.graphSendAPI)
	mux.HandleFunc("POST "+gr+"/{id}/messages", s.whatsappMessages)
	mux.HandleFunc("POST "+sl+"/auth.test", s.slackAuthTest)
	mux.HandleFunc("POST "+sl+"/chat.postMessage", s.slackPostMessage)
	mux.HandleFunc("POST "+vk+"/groups.getById", s.vkGroupsGetByID)
	mux.HandleFunc("POST "+vk+"/messages.send", s.vkMessagesSend)
	mux.HandleFunc("POST "+vb+"/get_account_info", s.viberAccountInfo)
	mux.HandleFunc("POST "+vb+"/send_message", s.viberSendMessage)
}

// digits is a stable number derived from s, for the ids the stand-ins answer with.
func digits(s string, n int) string {
	sum := sha256.Sum256([]byte(s))
	v := strconv.FormatUint(binary.BigEndian.Uint64(sum[:8]), 10)
	for len(v) < n {
		v += v
	}
	return "1" + v[:n-1]
}

func decodeJSON(r *http.Request, v any) bool {
	return json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(v) == nil
}

// Telegram: the token is the path segment after "bot"; a token without its colon is of the wrong
// form (404), as Telegram answers.

func (s *StandIn) telegramToken(w http.ResponseWriter, r *http.Request) (string, bool) {
	token, ok := strings.CutPrefix(r.PathValue("bot"), "bot")
	if !ok || token == "" || !strings.Contains(token, ":") {
		TelegramNotFound.Write(w)
		return "", false
	}
	if s.isRevoked(token) {
		TelegramUnauthorized.Write(w)
		return "", false
	}
	return token, true
}

func (s *StandIn) telegramGetMe(w http.ResponseWriter, r *http.Request) {
	token, ok := s.telegramToken(w, r)
	if !ok {
		return
	}
	id, _, _ := strings.Cut(token, ":")
	TelegramOK(map[string]any{"id": json.Number(id), "is_bot": true, "first_name": "Demo bot",
		"username": "demo_" + id + "_bot", "can_join_groups": true}).Write(w)
}

func (s *StandIn) telegramSendMessage(w http.ResponseWriter, r *http.Request) {
	token, ok := s.telegramToken(w, r)
	if !ok {
		return
	}
	var in struct {
		ChatID json.RawMessage `json:"chat_id"`
		Text   string          `json:"text"`
	}
	if !decodeJSON(r, &in) || len(in.ChatID) == 0 {
		TelegramError(http.StatusBadRequest, "Bad Request: chat_id is empty").Write(w)
		return
	}
	if in.Text == "" {
		TelegramError(http.StatusBadRequest, "Bad Request: message text is empty").Write(w)
		return
	}
	chat := strings.Trim(string(in.ChatID), `"`)
	s.record(token, chat, in.Text)
	botID, _, _ := strings.Cut(token, ":")
	TelegramOK(map[string]any{"message_id": len(s.Messages(token)),
		"from": map[string]any{"id": json.Number(botID), "is_bot": true, "first_name": "Demo bot"},
		"chat": map[string]any{"id": json.Number(chat), "type": "private"},
		"date": s.now().Unix(), "text": in.Text}).Write(w)
}

// Graph: the token comes as "Authorization: Bearer" or the access_token parameter.

func graphToken(r *http.Request) string {
	if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return strings.TrimSpace(t)
	}
	return r.FormValue("access_token")
}

// graphAuth answers for a missing or revoked token: a page token's revocation is the page admin
// removing the app (190/458); a system user's (WhatsApp) is an invalidated session (190/460).
func (s *StandIn) graphAuth(w http.ResponseWriter, r *http.Request, pageToken bool) (string, bool) {
	token := graphToken(r)
	switch {
	case token == "":
		GraphNoToken.Write(w)
		return "", false
	case s.isRevoked(token) && pageToken:
		GraphAppRemoved.Write(w)
		return "", false
	case s.isRevoked(token):
		GraphPasswordChanged.Write(w)
		return "", false
	}
	return token, true
}

// graphNode serves GET /me (the page a page token stands for) and GET /{id} (a WhatsApp Business
// Account) with fields=id.
func (s *StandIn) graphNode(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	token, ok := s.graphAuth(w, r, id == "")
	if !ok {
		return
	}
	if id == "" {
		id = digits("page\x00"+token, 15)
	}
	GraphOK(map[string]any{"id": id}).Write(w)
}

// graphSendAPI serves the Send API (Messenger and Instagram) at /me/messages.
func (s *StandIn) graphSendAPI(w http.ResponseWriter, r *http.Request) {
	token, ok := s.graphAuth(w, r, true)
	if !ok {
		return
	}
	var in struct {
		Recipient struct {
			ID string `json:"id"`
		} `json:"recipient"`
		MessagingType string `json:"messaging_type"`
		Tag           string `json:"tag"`
		Message       struct {
			Text string `json:"text"`
		} `json:"message"`
	}
	switch {
	case !decodeJSON(r, &in) || in.Recipient.ID == "":
		GraphError(http.StatusBadRequest, 100, 0, "(#100) The parameter recipient is required").Write(w)
		return
	case in.Message.Text == "":
		GraphError(http.StatusBadRequest, 100, 0, "(#100) The parameter message is required").Write(w)
		return
	case in.MessagingType == "MESSAGE_TAG" && in.Tag == "":
		GraphError(http.StatusBadRequest, 100, 0, "(#100) Param tag must be non-empty when messaging_type is MESSAGE_TAG").Write(w)
		return
	case in.MessagingType != "MESSAGE_TAG" && in.MessagingType != "RESPONSE" && in.MessagingType != "UPDATE":
		GraphError(http.StatusBadRequest, 100, 0, "(#100) Param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}").Write(w)
		return
	}
	s.record(token, in.Recipient.ID, in.Message.Text)
	GraphOK(map[string]any{"recipient_id": in.Recipient.ID,
		"message_id": "m_" + digits(token+in.Recipient.ID+strconv.Itoa(len(s.Messages(token))), 18)}).Write(w)
}

// whatsappTemplateTexts are the authentication template's preset text, as the stand-in renders it
// into the chat (WhatsApp writes its own words around the code).
var whatsappTemplateTexts = map[string]string{
	"en": "%s is your verification code. For your security, do not share this code.",
	"ru": "Ваш код подтверждения: %s. В целях безопасности не сообщайте его никому.",
}

// whatsappMessages serves the Cloud API's POST /{phone-number-id}/messages for a template.
func (s *StandIn) whatsappMessages(w http.ResponseWriter, r *http.Request) {
	token, ok := s.graphAuth(w, r, false)
	if !ok {
		return
	}
	var in struct {
		MessagingProduct string `json:"messaging_product"`
		To               string `json:"to"`
		Type             string `json:"type"`
		Template         struct {
			Name     string `json:"name"`
			Language struct {
				Code string `json:"code"`
			} `json:"language"`
			Components []struct {
				Type       string `json:"type"`
				SubType    string `json:"sub_type"`
				Index      string `json:"index"`
				Parameters []struct {
					Type string `json:"type"`
					Text string `json:"text"`
				} `json:"parameters"`
			} `json:"components"`
		} `json:"template"`
	}
	if !decodeJSON(r, &in) || in.MessagingProduct != "whatsapp" || in.To == "" || in.Type != "template" ||
		in.Template.Name == "" {
		GraphError(http.StatusBadRequest, 100, 0, "(#100) Invalid parameter").Write(w)
		return
	}
	preset, known := whatsappTemplateTexts[in.Template.Language.Code]
	if !known {
		whatsappError(http.StatusNotFound, 132001, "(#132001) Template name does not exist in the translation",
			"template name ("+in.Template.Name+") does not exist in "+in.Template.Language.Code).Write(w)
		return
	}
	var code, button string
	for _, c := range in.Template.Components {
		if len(c.Parameters) != 1 || c.Parameters[0].Type != "text" {
			continue
		}
		switch {
		case c.Type == "body":
			code = c.Parameters[0].Text
		case c.Type == "button" && c.SubType == "url" && c.Index == "0":
			button = c.Parameters[0].Text
		}
	}
	if code == "" || button != code {
		whatsappError(http.StatusBadRequest, 132000, "(#132000) Number of parameters does not match the expected number of params",
			"body: number of localizable_params does not match the expected number of params").Write(w)
		return
	}
	s.record(token, in.To, strings.Replace(preset, "%s", code, 1))
	GraphOK(map[string]any{"messaging_product": "whatsapp",
		"contacts": []map[string]string{{"input": in.To, "wa_id": in.To}},
		"messages": []map[string]string{{"id": "wamid." + digits(token+in.To+code, 18)}}}).Write(w)
}

// Slack: the token is a Bearer header (or the token form field).

func (s *StandIn) slackAuth(w http.ResponseWriter, r *http.Request) (string, bool) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		token = r.PostFormValue("token")
	}
	switch {
	case token == "":
		SlackError("not_authed").Write(w)
		return "", false
	case s.isRevoked(token):
		SlackError("token_revoked").Write(w)
		return "", false
	}
	return token, true
}

func (s *StandIn) slackAuthTest(w http.ResponseWriter, r *http.Request) {
	token, ok := s.slackAuth(w, r)
	if !ok {
		return
	}
	SlackOK(map[string]any{"url": "https://demo.slack.com/", "team": "Demo workspace", "user": "demo_bot",
		"team_id": "T" + digits("team\x00"+token, 9), "user_id": "U" + digits("user\x00"+token, 9),
		"bot_id": "B" + digits("bot\x00"+token, 9), "is_enterprise_install": false}).Write(w)
}

func (s *StandIn) slackPostMessage(w http.ResponseWriter, r *http.Request) {
	token, ok := s.slackAuth(w, r)
	if !ok {
		return
	}
	var in struct {
		Channel string `json:"channel"`
		Text    string `json:"text"`
	}
	switch {
	case !decodeJSON(r, &in) || in.Channel == "":
		SlackError("channel_not_found").Write(w)
		return
	case in.Text == "":
		SlackError("no_text").Write(w)
		return
	}
	s.record(token, in.Channel, in.Text)
	ts := strconv.FormatInt(s.now().Unix(), 10) + ".000" + strconv.Itoa(100+len(s.Messages(token)))
	SlackOK(map[string]any{"channel": "D" + digits("dm\x00"+in.Channel, 9), "ts": ts,
		"message": map[string]any{"type": "message", "text": in.Text, "ts": ts}}).Write(w)
}

// VK: form parameters, access_token among them, and v.

func (s *StandIn) vkAuth(w http.ResponseWriter, r *http.Request, method string) (string, bool) {
	token := r.PostFormValue("access_token")
	switch {
	case token == "" || s.isRevoked(token):
		VKError(5, "User authorization failed: invalid access_token (4).", method).Write(w)
		return "", false
	case r.PostFormValue("v") == "":
		VKError(8, "Invalid request: v (version) is required", method).Write(w)
		return "", false
	}
	return token, true
}

func (s *StandIn) vkGroupsGetByID(w http.ResponseWriter, r *http.Request) {
	token, ok := s.vkAuth(w, r, "groups.getById")
	if !ok {
		return
	}
	id, _ := strconv.ParseInt(digits("group\x00"+token, 9), 10, 64)
	VKResponse(map[string]any{"groups": []map[string]any{{"id": id, "name": "Demo community",
		"screen_name": "club" + strconv.FormatInt(id, 10), "is_closed": 0, "type": "group"}},
		"profiles": []any{}}).Write(w)
}

func (s *StandIn) vkMessagesSend(w http.ResponseWriter, r *http.Request) {
	token, ok := s.vkAuth(w, r, "messages.send")
	if !ok {
		return
	}
	to, msg, rid := r.PostFormValue("user_id"), r.PostFormValue("message"), r.PostFormValue("random_id")
	switch {
	case rid == "":
		VKError(100, "One of the parameters specified was missing or invalid: random_id is a required parameter", "messages.send").Write(w)
		return
	case to == "" || msg == "":
		VKError(100, "One of the parameters specified was missing or invalid: you should specify peer_id, user_id, domain, chat_id or user_ids param", "messages.send").Write(w)
		return
	}
	key := token + "\x00" + rid
	s.mu.Lock()
	id, repeated := s.vkSeen[key]
	if !repeated {
		id = len(s.vkSeen) + 1
		s.vkSeen[key] = id
	}
	s.mu.Unlock()
	if !repeated {
		s.record(token, to, msg)
	}
	VKResponse(id).Write(w)
}

// Viber: the token is the X-Viber-Auth-Token header.

func (s *StandIn) viberAuth(w http.ResponseWriter, r *http.Request) (string, bool) {
	token := r.Header.Get("X-Viber-Auth-Token")
	if token == "" {
		ViberInvalidToken.Write(w)
		return "", false
	}
	if s.isRevoked(token) {
		ViberInvalidToken.Write(w)
		return "", false
	}
	return token, true
}

func (s *StandIn) viberAccountInfo(w http.ResponseWriter, r *http.Request) {
	token, ok := s.viberAuth(w, r)
	if !ok {
		return
	}
	ViberStatus(0, "ok", map[string]any{"id": "pa:" + digits("pa\x00"+token, 19), "name": "Demo bot",
		"uri": "demobot", "category": "Services", "subscribers_count": 0, "event_types": []string{
			"delivered", "seen", "failed", "subscribed", "unsubscribed", "conversation_started"}}).Write(w)
}

func (s *StandIn) viberSendMessage(w http.ResponseWriter, r *http.Request) {
	token, ok := s.viberAuth(w, r)
	if !ok {
		return
	}
	var in struct {
		Receiver string `json:"receiver"`
		Type     string `json:"type"`
		Sender   struct {
			Name string `json:"name"`
		} `json:"sender"`
		Text string `json:"text"`
	}
	switch {
	case !decodeJSON(r, &in) || in.Receiver == "" || in.Type != "text" || in.Text == "":
		ViberStatus(3, "badData", nil).Write(w)
		return
	case in.Sender.Name == "" || len([]rune(in.Sender.Name)) > 28:
		ViberStatus(3, "badData", nil).Write(w)
		return
	}
	s.record(token, in.Receiver, in.Text)
	tok, _ := strconv.ParseInt(digits(token+in.Receiver+strconv.Itoa(len(s.Messages(token))), 18), 10, 64)
	ViberStatus(0, "ok", map[string]any{"message_token": tok, "billing_status": 1}).Write(w)
}
