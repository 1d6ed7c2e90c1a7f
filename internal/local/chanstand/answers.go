// Package chanstand stands in for every messaging channel's API that internal/chanapi speaks to
// (Telegram Bot API, Meta Graph API for Messenger, Instagram and WhatsApp, Slack Web API, VK API,
// Viber REST bot API), for `make run` and tests: it answers exactly the calls chanapi makes, with
// the bodies each channel's reference documents. A credential is accepted until Revoke; a revoked
// one gets its channel's documented refusal. What is sent into chats is kept, so a person running
// the service locally (and a test) can read a one-time code.
//
// The answers below are the channels' documented bodies, shared by the stand-in and chanapi's
// tests, so both speak one wire format.
package chanstand

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Answer is one HTTP answer of a channel's API.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// Write sends the answer.
func (a Answer) Write(w http.ResponseWriter) {
	for k, v := range a.Header {
		w.Header()[k] = v
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(a.Status)
	_, _ = w.Write(a.Body)
}

func jsonAnswer(status int, v any) Answer {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only this file's literals are marshalled
	}
	return Answer{Status: status, Body: b}
}

// Telegram Bot API: {"ok":true,"result":…}, or {"ok":false,"error_code":N,"description":…} with
// HTTP status N.

// TelegramOK is a successful Bot API answer.
func TelegramOK(result any) Answer {
	return jsonAnswer(http.StatusOK, map[string]any{"ok": true, "result": result})
}

// TelegramError is a Bot API error: HTTP code, and the same error_code in the body.
func TelegramError(code int, description string) Answer {
	return jsonAnswer(code, map[string]any{"ok": false, "error_code": code, "description": description})
}

// TelegramRetryAfter is the Bot API's flood-control answer.
func TelegramRetryAfter(seconds int) Answer {
	return jsonAnswer(http.StatusTooManyRequests, map[string]any{"ok": false, "error_code": 429,
		"description": "Too Many Requests: retry after " + strconv.Itoa(seconds),
		"parameters":  map[string]any{"retry_after": seconds}})
}

// Telegram's documented answers.
var (
	// TelegramUnauthorized: getMe (any method) with a revoked token.
	TelegramUnauthorized = TelegramError(http.StatusUnauthorized, "Unauthorized")
	// TelegramNotFound: a token of the wrong form.
	TelegramNotFound = TelegramError(http.StatusNotFound, "Not Found")
	// TelegramBlocked: sendMessage to a user who blocked the bot.
	TelegramBlocked = TelegramError(http.StatusForbidden, "Forbidden: bot was blocked by the user")
	// TelegramDeactivated: sendMessage to a deleted account.
	TelegramDeactivated = TelegramError(http.StatusForbidden, "Forbidden: user is deactivated")
	// TelegramChatNotFound: sendMessage to a chat the bot has never seen.
	TelegramChatNotFound = TelegramError(http.StatusBadRequest, "Bad Request: chat not found")
)

// Graph API: {"error":{"message","type","code","error_subcode","fbtrace_id"}}.

// GraphOK is a successful Graph answer.
func GraphOK(v any) Answer { return jsonAnswer(http.StatusOK, v) }

// GraphError is a Graph error object (type OAuthException, as Graph types its errors) at status.
func GraphError(status, code, subcode int, message string) Answer {
	e := map[string]any{"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEfGhIjKlMnOp"}
	if subcode != 0 {
		e["error_subcode"] = subcode
	}
	return jsonAnswer(status, map[string]any{"error": e})
}

// whatsappError is a WhatsApp Cloud API error: a Graph error with error_data.details.
func whatsappError(status, code int, message, details string) Answer {
	return jsonAnswer(status, map[string]any{"error": map[string]any{"message": message, "type": "OAuthException",
		"code": code, "error_data": map[string]any{"messaging_product": "whatsapp", "details": details},
		"fbtrace_id": "AbCdEfGhIjKlMnOp"}})
}

// Graph's documented answers.
var (
	// GraphAppRemoved: a page token once the page's admin removed the app (190/458).
	GraphAppRemoved = GraphError(http.StatusBadRequest, 190, 458, "Error validating access token: The user has not authorized application 1234567890.")
	// GraphPasswordChanged: a token invalidated by a password change or for security reasons (190/460).
	GraphPasswordChanged = GraphError(http.StatusBadRequest, 190, 460, "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.")
	// GraphExpired: an expired token (190/463).
	GraphExpired = GraphError(http.StatusUnauthorized, 190, 463, "Error validating access token: Session has expired on Tuesday, 01-Dec-26 10:00:00 PST.")
	// GraphNoToken: a call without a token.
	GraphNoToken = GraphError(http.StatusBadRequest, 2500, 0, "An active access token must be used to query information about the current user.")
	// GraphRateLimited: the application's request limit (4).
	GraphRateLimited = GraphError(http.StatusBadRequest, 4, 0, "(#4) Application request limit reached")
	// GraphUnavailable: a temporary service error (2).
	GraphUnavailable = GraphError(http.StatusInternalServerError, 2, 0, "An unexpected error has occurred. Please retry your request later.")
	// MessengerUnavailable: the person isn't available (551/1545041).
	MessengerUnavailable = GraphError(http.StatusBadRequest, 551, 1545041, "(#551) This person isn't available right now.")
	// MessengerOutsideWindow: the message is outside the allowed window (10/2018278).
	MessengerOutsideWindow = GraphError(http.StatusBadRequest, 10, 2018278, "(#10) This message is sent outside of allowed window.")
	// InstagramOutsideWindow: Instagram's outside-window answer (10/2534022).
	InstagramOutsideWindow = GraphError(http.StatusBadRequest, 10, 2534022, "(#10) This message is sent outside of allowed window.")
	// WhatsAppUndeliverable: 131026.
	WhatsAppUndeliverable = whatsappError(http.StatusBadRequest, 131026, "(#131026) Message Undeliverable", "Message Undeliverable.")
	// WhatsAppReengagement: 131047, more than 24 hours since the user last wrote.
	WhatsAppReengagement = whatsappError(http.StatusBadRequest, 131047, "(#131047) Re-engagement message", "Message failed to send because more than 24 hours have passed since the customer last replied to this number.")
	// WhatsAppRateLimited: 130429, the Cloud API's throughput limit.
	WhatsAppRateLimited = whatsappError(http.StatusBadRequest, 130429, "(#130429) Rate limit hit", "Cloud API message throughput has been reached.")
)

// Slack Web API: HTTP 200 {"ok":true,…} or {"ok":false,"error":"…"}; 429 with Retry-After.

// SlackOK is a successful Web API answer with fields.
func SlackOK(fields map[string]any) Answer {
	m := map[string]any{"ok": true}
	for k, v := range fields {
		m[k] = v
	}
	return jsonAnswer(http.StatusOK, m)
}

// SlackError is a Web API error (HTTP 200).
func SlackError(code string) Answer {
	return jsonAnswer(http.StatusOK, map[string]any{"ok": false, "error": code})
}

// SlackRateLimited is the Web API's rate-limit answer.
func SlackRateLimited(seconds int) Answer {
	a := jsonAnswer(http.StatusTooManyRequests, map[string]any{"ok": false, "error": "ratelimited"})
	a.Header = http.Header{"Retry-After": {strconv.Itoa(seconds)}}
	return a
}

// VK API: HTTP 200 {"response":…} or {"error":{"error_code","error_msg","request_params"}}.

// VKResponse is a successful VK answer.
func VKResponse(v any) Answer { return jsonAnswer(http.StatusOK, map[string]any{"response": v}) }

// VKError is a VK error for method (HTTP 200). request_params echo the call's method, as VK's do;
// VK leaves out the token.
func VKError(code int, msg, method string) Answer {
	return jsonAnswer(http.StatusOK, map[string]any{"error": map[string]any{"error_code": code, "error_msg": msg,
		"request_params": []map[string]string{{"key": "method", "value": method}, {"key": "oauth", "value": "1"},
			{"key": "v", "value": "5.199"}}}})
}

// VK's documented answers.
var (
	// VKInvalidToken: error 5, a revoked or invalid token.
	VKInvalidToken = VKError(5, "User authorization failed: invalid access_token (4).", "groups.getById")
	// VKGroupAuthFailed: error 27.
	VKGroupAuthFailed = VKError(27, "Group authorization failed: method is unavailable with group auth.", "groups.getById")
	// VKTooMany: error 6.
	VKTooMany = VKError(6, "Too many requests per second", "groups.getById")
	// VKInternal: error 10.
	VKInternal = VKError(10, "Internal server error", "groups.getById")
	// VKBlacklisted: messages.send to a user who blacklisted the community (900).
	VKBlacklisted = VKError(900, "Can't send messages for users from blacklist", "messages.send")
	// VKNoPermission: messages.send to a user who has not allowed the community's messages (901).
	VKNoPermission = VKError(901, "Can't send messages for users without permission", "messages.send")
	// VKPrivacy: messages.send against the user's privacy settings (902).
	VKPrivacy = VKError(902, "Can't send messages to this user due to their privacy settings", "messages.send")
)

// Viber REST bot API: HTTP 200 {"status":N,"status_message":…}; 0 is ok.

// ViberStatus is a Viber answer with status and fields.
func ViberStatus(status int, message string, fields map[string]any) Answer {
	m := map[string]any{"status": status, "status_message": message, "chat_hostname": "SN-CHAT-05_"}
	for k, v := range fields {
		m[k] = v
	}
	return jsonAnswer(http.StatusOK, m)
}

// Viber's documented answers.
var (
	// ViberInvalidToken: status 2.
	ViberInvalidToken = ViberStatus(2, "invalidAuthToken", nil)
	// ViberNotRegistered: status 5.
	ViberNotRegistered = ViberStatus(5, "receiverNotRegistered", nil)
	// ViberNotSubscribed: status 6.
	ViberNotSubscribed = ViberStatus(6, "notSubscribed", nil)
	// ViberTooMany: status 12.
	ViberTooMany = ViberStatus(12, "tooManyRequests", nil)
)
