// Package chanapi speaks to each messaging channel's own API on behalf of one channel connection:
// it asks whether the connection's credential still works (the connection-health sweep,
// internal/chsweep) and sends a one-time code into an end customer's chat (verification of an end
// customer's request). Each channel is spoken to as its public API reference documents:
//
//   - Telegram Bot API: getMe (401/404 refuse the token), sendMessage.
//   - Meta Graph API (Messenger and Instagram, with the page access token): GET /me; error 190
//     (with any subcode) refuses the token; Send API POST /me/messages.
//   - WhatsApp Cloud API (system-user token): GET /{WABA id}; error 190 refuses the token;
//     POST /{phone-number-id}/messages with the authentication template carrying the code.
//   - Slack Web API: auth.test (invalid_auth, token_revoked, account_inactive refuse the token);
//     chat.postMessage to the member's id.
//   - VK API: groups.getById (errors 5 and 27 refuse the token); messages.send.
//   - Viber REST bot API: get_account_info (status 2, invalid auth token); send_message.
//
// A credential is sent to its channel and nowhere else, and never logged nor put in an error.
// Only a definite answer of the channel's own is a Result; a rate limit, a 5xx, a timeout, a proxy's
// page or anything unexpected is an error and says nothing about the credential.
package chanapi

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lethe-dev/lethe/internal/platform"
)

// Verdict is what a channel said about a connection's credential.
type Verdict int

const (
	// Valid: the channel accepted the credential.
	Valid Verdict = iota + 1
	// Revoked: the channel refused the credential with one of its documented "revoked" answers.
	Revoked
)

func (v Verdict) String() string {
	switch v {
	case Valid:
		return "valid"
	case Revoked:
		return "revoked"
	}
	return "unknown"
}

// Result is a channel's definite answer about a connection's credential.
type Result struct {
	Verdict Verdict
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Code is the channel's own code for a refusal, as text: "401" (Telegram), "190/460" (Meta
	// error/subcode), "token_revoked" (Slack), "5" (VK), "2" (Viber).
	Code string
	// Description is the channel's description of a refusal, scrubbed of the credential.
	Description string
}

// Valid reports whether the credential works.
func (r Result) Valid() bool { return r.Verdict == Valid }

// Revoked reports whether the channel refused the credential.
func (r Result) Revoked() bool { return r.Verdict == Revoked }

var (
	// ErrUnsupported: the connection's channel is not one this package speaks to.
	ErrUnsupported = errors.New("chanapi: unsupported channel")
	// ErrNoCredential: the connection holds no credential (or no id) the call needs.
	ErrNoCredential = errors.New("chanapi: the connection holds no credential for this call")
	// ErrRecipientRefused: the channel answered that the chat cannot be written to (the end user
	// blocked the bot, left, never wrote, or is outside the channel's messaging window). Definite for
	// this recipient; says nothing about the connection's credential.
	ErrRecipientRefused = errors.New("chanapi: the channel refused to deliver to this chat")
)

// APIError is an answer that says nothing definite (a rate limit, a 5xx, anything unexpected): the
// call may be tried again later. It never holds a credential.
type APIError struct {
	Channel     string
	Op          string // "check", "send"
	StatusCode  int
	Code        string
	Description string
	// RetryAfter is how long the channel asked to wait, when it said.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("chanapi: %s %s: HTTP %d", e.Channel, e.Op, e.StatusCode)
	if e.Code != "" {
		msg += " code " + e.Code
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return msg
}

// Client checks and writes through a connection's channel.
type Client interface {
	// Check asks the connection's channel whether its credential works.
	Check(ctx context.Context, conn platform.ChannelConnection) (Result, error)
	// SendCode sends a one-time verification code into the chat of the end user the channel knows
	// as to (a ChannelIdentity's ExternalID on the connection's channel), in locale ("ru" or "en").
	SendCode(ctx context.Context, conn platform.ChannelConnection, to, code, locale string) error
}

// Endpoints are the base URLs of the channels' APIs (config: TELEGRAM_API_BASE_URL,
// META_GRAPH_BASE_URL, SLACK_API_BASE_URL, VK_API_BASE_URL, VIBER_API_BASE_URL); an empty one is
// the channel's real API.
type Endpoints struct {
	Telegram, MetaGraph, Slack, VK, Viber string
}

// The channels' real APIs.
const (
	DefaultTelegram  = "https://api.telegram.org"
	DefaultMetaGraph = "https://graph.facebook.com/v21.0"
	DefaultSlack     = "https://slack.com/api"
	DefaultVK        = "https://api.vk.com/method"
	DefaultViber     = "https://chatapi.viber.com/pa"
)
