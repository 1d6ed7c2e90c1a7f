package chanapi

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/lethe-dev/lethe/internal/platform"
)

// slackAnswer is the Web API's envelope: HTTP 200 with ok and, when not ok, an error string.
type slackAnswer struct {
	OK    *bool  `json:"ok"`
	Error string `json:"error"`
}

func parseSlack(body []byte) (slackAnswer, bool) {
	var s slackAnswer
	if json.Unmarshal(body, &s) != nil || s.OK == nil || !*s.OK && s.Error == "" {
		return slackAnswer{}, false
	}
	return s, true
}

// slackRevoked are auth.test's errors that the token itself no longer works: invalid_auth (the
// token is invalid — Slack's doc adds "or the request comes from a disallowed IP address", which
// only an admin's IP allow-list causes, and which also leaves the connection unusable), token_revoked
// and account_inactive (the bot or its workspace deactivated). not_authed is not among them: Slack
// documents it as "no authentication token provided", and this client always provides one, so it
// means something between us and Slack dropped the header.
var slackRevoked = map[string]bool{"invalid_auth": true, "token_revoked": true, "account_inactive": true}

// slackRefusals are chat.postMessage's errors that the member's DM cannot be written to.
var slackRefusals = map[string]bool{"channel_not_found": true, "user_not_found": true, "cannot_dm_bot": true}

// slackCall is a Web API method call with the token as a Bearer header.
func (c *Clients) slackCall(method, op, token string, body []byte, secrets []string) call {
	b := base(c.Endpoints.Slack, DefaultSlack)
	h := http.Header{"Authorization": {"Bearer " + token}}
	if body != nil {
		h.Set("Content-Type", "application/json; charset=utf-8")
	}
	return call{channel: platform.ChannelSlack, op: op, method: http.MethodPost, url: b + "/" + method,
		safeURL: b + "/" + method, header: h, body: body, secrets: secrets}
}

func slackError(cl call, a answer, s slackAnswer, isSlack bool) error {
	if !isSlack {
		e := apiError(cl, a, "", notTheChannel)
		e.RetryAfter = retryAfterHeader(a.header)
		return e
	}
	e := apiError(cl, a, s.Error, "")
	e.RetryAfter = retryAfterHeader(a.header)
	return e
}

// slackCheck calls auth.test.
func (c *Clients) slackCheck(ctx context.Context, token string) (Result, error) {
	cl := c.slackCall("auth.test", "check", token, nil, []string{token})
	a, err := c.do(ctx, cl)
	if err != nil {
		return Result{}, err
	}
	s, isSlack := parseSlack(a.body)
	if a.status == http.StatusOK && isSlack {
		if *s.OK {
			return Result{Verdict: Valid, StatusCode: a.status}, nil
		}
		if slackRevoked[s.Error] {
			return Result{Verdict: Revoked, StatusCode: a.status, Code: s.Error}, nil
		}
	}
	return Result{}, slackError(cl, a, s, isSlack)
}

// slackSend posts the code to the member's id: chat.postMessage opens (or finds) the bot's DM with
// them.
func (c *Clients) slackSend(ctx context.Context, s send) error {
	body, _ := json.Marshal(map[string]string{"channel": s.to, "text": CodeText(s.locale, s.code)})
	cl := c.slackCall("chat.postMessage", "send", s.cred, body, s.secrets())
	a, err := c.do(ctx, cl)
	if err != nil {
		return err
	}
	sa, isSlack := parseSlack(a.body)
	if a.status == http.StatusOK && isSlack {
		if *sa.OK {
			return nil
		}
		if slackRefusals[sa.Error] {
			return refused(platform.ChannelSlack, sa.Error)
		}
	}
	return slackError(cl, a, sa, isSlack)
}
