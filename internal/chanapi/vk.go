package chanapi

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/lethe-dev/lethe/internal/platform"
)

// VKAPIVersion is the VK API version every call names.
const VKAPIVersion = "5.199"

// vkAnswer is the VK API's envelope: HTTP 200 with either a response or an error.
type vkAnswer struct {
	Response json.RawMessage `json:"response"`
	Error    *struct {
		ErrorCode int    `json:"error_code"`
		ErrorMsg  string `json:"error_msg"`
	} `json:"error"`
}

func parseVK(body []byte) (vkAnswer, bool) {
	var v vkAnswer
	if json.Unmarshal(body, &v) != nil || (v.Error == nil || v.Error.ErrorCode == 0) && (len(v.Response) == 0 || string(v.Response) == "null") {
		return vkAnswer{}, false
	}
	return v, true
}

// vkCall is a VK API method call: the form (access_token among it) is the POST body, never the URL.
func (c *Clients) vkCall(method, op string, form url.Values, secrets []string) call {
	b := base(c.Endpoints.VK, DefaultVK)
	form.Set("v", VKAPIVersion)
	return call{channel: platform.ChannelVK, op: op, method: http.MethodPost, url: b + "/" + method,
		safeURL: b + "/" + method, header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		body: []byte(form.Encode()), secrets: secrets}
}

func vkError(cl call, a answer, v vkAnswer, isVK bool) error {
	if !isVK || v.Error == nil {
		return apiError(cl, a, "", notTheChannel)
	}
	return apiError(cl, a, strconv.Itoa(v.Error.ErrorCode), v.Error.ErrorMsg)
}

// vkCheck calls groups.getById with the community token, which answers the community itself.
// Error 5 (user authorization failed: the token is invalid or was revoked) and 27 (group
// authorization failed) refuse the token; 6 and 29 (rate limits), 9 (flood control), 10 (internal)
// and everything else say nothing about it.
func (c *Clients) vkCheck(ctx context.Context, token string) (Result, error) {
	cl := c.vkCall("groups.getById", "check", url.Values{"access_token": {token}}, []string{token})
	a, err := c.do(ctx, cl)
	if err != nil {
		return Result{}, err
	}
	v, isVK := parseVK(a.body)
	if a.status == http.StatusOK && isVK {
		if v.Error == nil {
			return Result{Verdict: Valid, StatusCode: a.status}, nil
		}
		if v.Error.ErrorCode == 5 || v.Error.ErrorCode == 27 {
			return Result{Verdict: Revoked, StatusCode: a.status, Code: strconv.Itoa(v.Error.ErrorCode),
				Description: scrub(v.Error.ErrorMsg, cl.secrets)}, nil
		}
	}
	return Result{}, vkError(cl, a, v, isVK)
}

// vkRandomID is messages.send's random_id for this code to this user: derived from both, so a
// retry of the same send is one message (VK drops a repeated random_id), and a new code is a new one.
func vkRandomID(to, code string) string {
	sum := sha256.Sum256([]byte("lethe-vk-code\x00" + to + "\x00" + code))
	return strconv.FormatUint(uint64(binary.BigEndian.Uint32(sum[:4])&0x7fffffff), 10)
}

// vkSend calls messages.send. 900 (the user blacklisted the community), 901 (the user has not
// allowed the community's messages) and 902 (their privacy settings) refuse the recipient.
func (c *Clients) vkSend(ctx context.Context, s send) error {
	form := url.Values{"access_token": {s.cred}, "user_id": {s.to}, "random_id": {vkRandomID(s.to, s.code)},
		"message": {CodeText(s.locale, s.code)}}
	cl := c.vkCall("messages.send", "send", form, s.secrets())
	a, err := c.do(ctx, cl)
	if err != nil {
		return err
	}
	v, isVK := parseVK(a.body)
	if a.status == http.StatusOK && isVK {
		if v.Error == nil {
			return nil
		}
		switch v.Error.ErrorCode {
		case 900, 901, 902:
			return refused(platform.ChannelVK, strconv.Itoa(v.Error.ErrorCode))
		}
	}
	return vkError(cl, a, v, isVK)
}
