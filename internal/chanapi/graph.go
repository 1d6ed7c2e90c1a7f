package chanapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/lethe-dev/lethe/internal/platform"
)

// WhatsAppCodeTemplate is the name of the authentication template (category AUTHENTICATION, with
// a copy-code button, in "ru" and "en") that a WhatsApp connection's business account must hold
// for one-time codes: WhatsApp delivers a business-initiated message only as an approved template.
const WhatsAppCodeTemplate = "lethe_verification_code"

// graphErrorBody is the Graph API's error object.
type graphErrorBody struct {
	Error *struct {
		Message      string `json:"message"`
		Type         string `json:"type"`
		Code         int    `json:"code"`
		ErrorSubcode int    `json:"error_subcode"`
		FBTraceID    string `json:"fbtrace_id"`
	} `json:"error"`
}

// graphCode is "code" or "code/subcode", as Result.Code and APIError.Code carry it.
func (g graphErrorBody) code() string {
	c := strconv.Itoa(g.Error.Code)
	if g.Error.ErrorSubcode != 0 {
		c += "/" + strconv.Itoa(g.Error.ErrorSubcode)
	}
	return c
}

// parseGraphError reads a Graph error answer; ok reports whether the body was one (an error
// object with a code and a type, as every Graph error has).
func parseGraphError(body []byte) (graphErrorBody, bool) {
	var g graphErrorBody
	if json.Unmarshal(body, &g) != nil || g.Error == nil || g.Error.Code == 0 || g.Error.Type == "" {
		return graphErrorBody{}, false
	}
	return g, true
}

// graphCall is a Graph API call. The token goes in the Authorization header (Graph accepts an
// OAuth bearer token there as it does the access_token parameter), so no URL, and no error naming
// one, ever holds it.
func (c *Clients) graphCall(channel, op, method, path, token string, body []byte, secrets []string) call {
	b := base(c.Endpoints.MetaGraph, DefaultMetaGraph)
	cl := call{channel: channel, op: op, method: method, url: b + path, safeURL: b + path,
		header: http.Header{"Authorization": {"Bearer " + token}}, body: body, secrets: secrets}
	if body != nil {
		cl.header.Set("Content-Type", "application/json")
	}
	return cl
}

// graphCheck reads the node the credential stands for (the page with a page token, the WhatsApp
// Business Account with a system-user token): its id comes back while the credential works.
// Error 190 (OAuthException "access token expired", whatever its subcode: 458 app not installed,
// 460 password changed, 463 expired, 467 invalid, 492 user not a page admin …) refuses it; Graph
// answers it with HTTP 400 or 401. Rate limits (4, 17, 32, 613, 80001…, WhatsApp's 80007, 130429,
// 131056), 1 and 2 (unknown, service) and everything else say nothing about the credential.
func (c *Clients) graphCheck(ctx context.Context, channel, path, token string) (Result, error) {
	cl := c.graphCall(channel, "check", http.MethodGet, path+"?fields=id", token, nil, []string{token})
	a, err := c.do(ctx, cl)
	if err != nil {
		return Result{}, err
	}
	if a.status == http.StatusOK {
		var node struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(a.body, &node) == nil && node.ID != "" {
			return Result{Verdict: Valid, StatusCode: a.status}, nil
		}
		return Result{}, apiError(cl, a, "", notTheChannel)
	}
	g, isGraph := parseGraphError(a.body)
	if !isGraph {
		return Result{}, apiError(cl, a, "", notTheChannel)
	}
	if g.Error.Code == 190 && (a.status == http.StatusBadRequest || a.status == http.StatusUnauthorized) {
		return Result{Verdict: Revoked, StatusCode: a.status, Code: g.code(),
			Description: scrub(g.Error.Message, cl.secrets)}, nil
	}
	return Result{}, apiError(cl, a, g.code(), g.Error.Message)
}

// graphRefusals are the Send API's answers that the recipient cannot be written to: 551 (the person
// is not available: blocked the page, deactivated), 100/2018001 (no matching user), 200/1545041
// (the person is not receiving messages from the page), and the messaging window: 10/2018278,
// 10/2018108, 10/2018065 (Messenger), 10/2534022 (Instagram).
func graphRefused(g graphErrorBody) bool {
	switch g.Error.Code {
	case 551:
		return true
	case 100:
		return g.Error.ErrorSubcode == 2018001
	case 200:
		return g.Error.ErrorSubcode == 1545041
	case 10:
		switch g.Error.ErrorSubcode {
		case 2018278, 2018108, 2018065, 2534022:
			return true
		}
	}
	return false
}

// metaSend posts a Send API message to /me/messages with the page token.
func (c *Clients) metaSend(ctx context.Context, channel string, s send, msg map[string]any) error {
	body, _ := json.Marshal(msg)
	cl := c.graphCall(channel, "send", http.MethodPost, "/me/messages", s.cred, body, s.secrets())
	a, err := c.do(ctx, cl)
	if err != nil {
		return err
	}
	if a.status == http.StatusOK {
		var ok struct {
			MessageID string `json:"message_id"`
		}
		if json.Unmarshal(a.body, &ok) == nil && ok.MessageID != "" {
			return nil
		}
		return apiError(cl, a, "", notTheChannel)
	}
	g, isGraph := parseGraphError(a.body)
	if !isGraph {
		return apiError(cl, a, "", notTheChannel)
	}
	if graphRefused(g) {
		return refused(channel, g.code())
	}
	return apiError(cl, a, g.code(), g.Error.Message)
}

// messengerSend sends the code with the ACCOUNT_UPDATE message tag: the Send API's tag for "a
// non-recurring change to the recipient's application or account", which a request to delete
// their data is, and which may be sent outside the 24-hour standard messaging window. Messenger
// refuses it (a graphRefused answer) to a person who never wrote to the page.
func (c *Clients) messengerSend(ctx context.Context, s send) error {
	return c.metaSend(ctx, platform.ChannelMessenger, s, map[string]any{
		"recipient":      map[string]string{"id": s.to},
		"messaging_type": "MESSAGE_TAG",
		"tag":            "ACCOUNT_UPDATE",
		"message":        map[string]string{"text": CodeText(s.locale, s.code)},
	})
}

// instagramSend sends the code through the Messenger Platform's Instagram messaging with the page
// token. Instagram has no message tag for account updates (only HUMAN_AGENT, for a person
// replying), so the message is a RESPONSE within the standard window; outside it Instagram answers
// 10/2534022, a refusal.
func (c *Clients) instagramSend(ctx context.Context, s send) error {
	return c.metaSend(ctx, platform.ChannelInstagram, s, map[string]any{
		"recipient":      map[string]string{"id": s.to},
		"messaging_type": "RESPONSE",
		"message":        map[string]string{"text": CodeText(s.locale, s.code)},
	})
}

// whatsappSend sends the authentication template from the connection's phone number: the code is
// the body's one parameter and the copy-code button's (a URL button at index 0 once created), as
// WhatsApp's authentication-template guide shows. 131026 (undeliverable: not a WhatsApp user, or
// an old client) and 131047 (re-engagement: more than 24 hours since the user last wrote) refuse
// the recipient.
func (c *Clients) whatsappSend(ctx context.Context, s send, phoneNumberID string) error {
	codeParam := []map[string]string{{"type": "text", "text": s.code}}
	body, _ := json.Marshal(map[string]any{
		"messaging_product": "whatsapp",
		"recipient_type":    "individual",
		"to":                s.to,
		"type":              "template",
		"template": map[string]any{
			"name":     WhatsAppCodeTemplate,
			"language": map[string]string{"code": s.locale},
			"components": []map[string]any{
				{"type": "body", "parameters": codeParam},
				{"type": "button", "sub_type": "url", "index": "0", "parameters": codeParam},
			},
		},
	})
	path := "/" + url.PathEscape(phoneNumberID) + "/messages"
	cl := c.graphCall(platform.ChannelWhatsApp, "send", http.MethodPost, path, s.cred, body, s.secrets())
	a, err := c.do(ctx, cl)
	if err != nil {
		return err
	}
	if a.status == http.StatusOK {
		var ok struct {
			Messages []struct {
				ID string `json:"id"`
			} `json:"messages"`
		}
		if json.Unmarshal(a.body, &ok) == nil && len(ok.Messages) > 0 && ok.Messages[0].ID != "" {
			return nil
		}
		return apiError(cl, a, "", notTheChannel)
	}
	g, isGraph := parseGraphError(a.body)
	if !isGraph {
		return apiError(cl, a, "", notTheChannel)
	}
	if g.Error.Code == 131026 || g.Error.Code == 131047 {
		return refused(platform.ChannelWhatsApp, g.code())
	}
	return apiError(cl, a, g.code(), g.Error.Message)
}
