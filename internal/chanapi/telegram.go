package chanapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lethe-dev/lethe/internal/platform"
)

// telegramAnswer is the Bot API's response envelope.
type telegramAnswer struct {
	OK          *bool           `json:"ok"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Result      json.RawMessage `json:"result"`
	Parameters  *struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// telegramCall is a Bot API method call: the token is one escaped path segment, so a malformed
// token cannot reach another endpoint, and errors name the URL without it.
func (c *Clients) telegramCall(method, op, token string, body []byte, secrets []string) call {
	b := base(c.Endpoints.Telegram, DefaultTelegram)
	cl := call{channel: platform.ChannelTelegram, op: op, method: http.MethodGet,
		url: b + "/bot" + url.PathEscape(token) + "/" + method, safeURL: b + "/bot<redacted>/" + method,
		secrets: secrets}
	if body != nil {
		cl.method, cl.body = http.MethodPost, body
		cl.header = http.Header{"Content-Type": {"application/json"}}
	}
	return cl
}

// parseTelegram reads a Bot API answer; ok reports whether it was one (JSON with an "ok" field).
func parseTelegram(body []byte) (telegramAnswer, bool) {
	var a telegramAnswer
	if json.Unmarshal(body, &a) != nil || a.OK == nil {
		return telegramAnswer{}, false
	}
	return a, true
}

func (c *Clients) telegramCheck(ctx context.Context, token string) (Result, error) {
	cl := c.telegramCall("getMe", "check", token, nil, []string{token})
	a, err := c.do(ctx, cl)
	if err != nil {
		return Result{}, err
	}
	t, isTelegram := parseTelegram(a.body)
	switch {
	case a.status == http.StatusOK && isTelegram && *t.OK && len(t.Result) > 0 && string(t.Result) != "null":
		return Result{Verdict: Valid, StatusCode: a.status}, nil
	// A refusal counts only when Telegram's own body says so: a proxy's or a load balancer's 401 or
	// 404 page must not wipe every connection. 401 is a revoked (or never valid) token; 404 is what
	// Telegram answers for a token of the wrong form.
	case (a.status == http.StatusUnauthorized || a.status == http.StatusNotFound) && isTelegram && !*t.OK &&
		t.ErrorCode == a.status:
		return Result{Verdict: Revoked, StatusCode: a.status, Code: strconv.Itoa(t.ErrorCode),
			Description: scrub(t.Description, cl.secrets)}, nil
	}
	return Result{}, telegramError(cl, a, t, isTelegram)
}

func telegramError(cl call, a answer, t telegramAnswer, isTelegram bool) error {
	if !isTelegram {
		return apiError(cl, a, "", notTheChannel)
	}
	code := ""
	if t.ErrorCode != 0 {
		code = strconv.Itoa(t.ErrorCode)
	}
	e := apiError(cl, a, code, t.Description)
	if t.Parameters != nil && t.Parameters.RetryAfter > 0 {
		e.RetryAfter = time.Duration(t.Parameters.RetryAfter) * time.Second
	}
	return e
}

// telegramSend calls sendMessage. The chat is refused when Telegram says so in its own body: 403
// (the user blocked the bot, was deactivated, or never started it) or 400 "chat not found".
func (c *Clients) telegramSend(ctx context.Context, s send) error {
	body, _ := json.Marshal(map[string]string{"chat_id": s.to, "text": CodeText(s.locale, s.code)})
	cl := c.telegramCall("sendMessage", "send", s.cred, body, s.secrets())
	a, err := c.do(ctx, cl)
	if err != nil {
		return err
	}
	t, isTelegram := parseTelegram(a.body)
	switch {
	case a.status == http.StatusOK && isTelegram && *t.OK:
		return nil
	case isTelegram && !*t.OK && t.ErrorCode == a.status && (a.status == http.StatusForbidden ||
		a.status == http.StatusBadRequest && strings.Contains(strings.ToLower(t.Description), "chat not found")):
		return refused(platform.ChannelTelegram, strconv.Itoa(t.ErrorCode))
	}
	return telegramError(cl, a, t, isTelegram)
}
