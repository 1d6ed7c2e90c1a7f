package chanapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/lethe-dev/lethe/internal/platform"
)

// viberAnswer is the REST bot API's envelope: HTTP 200 with a status (0 is ok).
type viberAnswer struct {
	Status        *int   `json:"status"`
	StatusMessage string `json:"status_message"`
}

func parseViber(body []byte) (viberAnswer, bool) {
	var v viberAnswer
	if json.Unmarshal(body, &v) != nil || v.Status == nil {
		return viberAnswer{}, false
	}
	return v, true
}

// viberCall is a REST bot API call with the token in the X-Viber-Auth-Token header.
func (c *Clients) viberCall(method, op, token string, body []byte, secrets []string) call {
	b := base(c.Endpoints.Viber, DefaultViber)
	return call{channel: platform.ChannelViber, op: op, method: http.MethodPost, url: b + "/" + method,
		safeURL: b + "/" + method, header: http.Header{"X-Viber-Auth-Token": {token}, "Content-Type": {"application/json"}},
		body: body, secrets: secrets}
}

func viberError(cl call, a answer, v viberAnswer, isViber bool) error {
	if !isViber {
		return apiError(cl, a, "", notTheChannel)
	}
	return apiError(cl, a, strconv.Itoa(*v.Status), v.StatusMessage)
}

// viberCheck calls get_account_info. Status 2 (invalidAuthToken) refuses the token; 12
// (tooManyRequests) and every other status say nothing about it.
func (c *Clients) viberCheck(ctx context.Context, token string) (Result, error) {
	cl := c.viberCall("get_account_info", "check", token, []byte("{}"), []string{token})
	a, err := c.do(ctx, cl)
	if err != nil {
		return Result{}, err
	}
	v, isViber := parseViber(a.body)
	if a.status == http.StatusOK && isViber {
		switch *v.Status {
		case 0:
			return Result{Verdict: Valid, StatusCode: a.status}, nil
		case 2:
			return Result{Verdict: Revoked, StatusCode: a.status, Code: "2", Description: scrub(v.StatusMessage, cl.secrets)}, nil
		}
	}
	return Result{}, viberError(cl, a, v, isViber)
}

// viberSenderName is the sender name Viber shows (at most 28 characters): the connection's name.
func viberSenderName(name string) string {
	r := []rune(name)
	if len(r) == 0 {
		return "Bot"
	}
	if len(r) > 28 {
		r = r[:28]
	}
	return string(r)
}

// viberSend calls send_message. Status 5 (receiverNotRegistered) and 6 (notSubscribed: the user
// unsubscribed from the bot, or never subscribed) refuse the recipient.
func (c *Clients) viberSend(ctx context.Context, s send, name string) error {
	body, _ := json.Marshal(map[string]any{"receiver": s.to, "type": "text",
		"sender": map[string]string{"name": viberSenderName(name)}, "text": CodeText(s.locale, s.code)})
	cl := c.viberCall("send_message", "send", s.cred, body, s.secrets())
	a, err := c.do(ctx, cl)
	if err != nil {
		return err
	}
	v, isViber := parseViber(a.body)
	if a.status == http.StatusOK && isViber {
		switch *v.Status {
		case 0:
			return nil
		case 5, 6:
			return refused(platform.ChannelViber, strconv.Itoa(*v.Status))
		}
	}
	return viberError(cl, a, v, isViber)
}
