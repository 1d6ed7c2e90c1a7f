// Package tgsweep finds Telegram connections whose bot token no longer works and wipes them (SPEC: "a
// revoked bot token (getMe 401) found by a sweep → connection wipe"). Telegram sends no webhook when
// an owner revokes a token in @BotFather, so a scheduled sweep asks Telegram's getMe about every
// active connection's token: a token Telegram refuses is a connection the owner took away, and its
// data is wiped like any other revoked connection's. A token Telegram could not be asked about
// (a 5xx, a 429, a network failure) is never taken for revoked.
//
// A bot token is a credential: it is sent to Telegram and nowhere else, and never logged nor put in
// an error.
package tgsweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultBaseURL is Telegram's Bot API.
const DefaultBaseURL = "https://api.telegram.org"

// DefaultTimeout bounds one getMe call (connection, request and reading the answer).
const DefaultTimeout = 10 * time.Second

// maxBody bounds how much of an answer is read: getMe's is a few hundred bytes.
const maxBody = 64 << 10

// Client calls the Telegram Bot API's getMe.
type Client struct {
	// BaseURL is the Bot API's base URL; DefaultBaseURL when empty.
	BaseURL string
	// HTTP is the client used; when nil, one with DefaultTimeout that follows no redirect. A client
	// given here should have a Timeout too: each call is also bounded by DefaultTimeout.
	HTTP *http.Client
}

// Verdict is what Telegram said about a token.
type Verdict int

const (
	// Valid: getMe answered ok; the token works.
	Valid Verdict = iota + 1
	// Revoked: Telegram refused the token: 401 Unauthorized (revoked, or never valid) or 404 Not
	// Found (what it answers for a malformed token).
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

// Result is Telegram's definite answer about a token.
type Result struct {
	Verdict Verdict
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// BotID is the bot's user id, when Valid.
	BotID int64
	// Description is Telegram's description of a refusal ("Unauthorized", "Not Found").
	Description string
}

// Valid reports whether the token works.
func (r Result) Valid() bool { return r.Verdict == Valid }

// Revoked reports whether Telegram refused the token.
func (r Result) Revoked() bool { return r.Verdict == Revoked }

// ErrNoToken: there is no token to ask about.
var ErrNoToken = errors.New("telegram getMe: no bot token")

// APIError is an answer of Telegram's that says nothing about the token (5xx, 429, anything
// unexpected): the call may be tried again later, and the token must not be taken for revoked.
type APIError struct {
	StatusCode  int
	ErrorCode   int // Telegram's error_code, when the body had one
	Description string
	// RetryAfter is how long Telegram asked to wait (a 429's parameters.retry_after).
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("telegram getMe: HTTP %d", e.StatusCode)
	if e.Description != "" {
		msg += ": " + e.Description
	}
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return msg
}

// answer is the Bot API's response envelope.
type answer struct {
	OK          bool   `json:"ok"`
	ErrorCode   int    `json:"error_code"`
	Description string `json:"description"`
	Result      *struct {
		ID    int64 `json:"id"`
		IsBot bool  `json:"is_bot"`
	} `json:"result"`
	Parameters *struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

var defaultHTTP = &http.Client{
	Timeout: DefaultTimeout,
	// A redirect is not an answer about the token; following one would only send the request (and
	// the token in its path) somewhere else.
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func (c *Client) base() string {
	if c.BaseURL == "" {
		return DefaultBaseURL
	}
	return strings.TrimRight(c.BaseURL, "/")
}

// GetMe asks Telegram whether token works. It returns a Result only for a definite answer: Valid
// (HTTP 200, ok) or Revoked (HTTP 401 or 404 with Telegram's own error body). Everything else — a
// 5xx, a 429, a network failure, an answer that is not Telegram's — is an error, and says nothing
// about the token. No error names the token.
func (c *Client) GetMe(ctx context.Context, token string) (Result, error) {
	if strings.TrimSpace(token) == "" {
		return Result{}, ErrNoToken
	}
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	// The token is one path segment, escaped: a malformed token cannot reach another endpoint.
	endpoint := c.base() + "/bot" + url.PathEscape(token) + "/getMe"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return Result{}, redact(fmt.Errorf("telegram getMe: %w", err), c.base(), token)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return Result{}, redact(fmt.Errorf("telegram getMe: %w", err), c.base(), token)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return Result{}, redact(fmt.Errorf("telegram getMe: read the answer: %w", err), c.base(), token)
	}
	var a answer
	isTelegram := json.Unmarshal(body, &a) == nil
	res := Result{StatusCode: resp.StatusCode, Description: scrub(a.Description, token)}
	switch {
	case resp.StatusCode == http.StatusOK && isTelegram && a.OK && a.Result != nil:
		res.Verdict, res.BotID = Valid, a.Result.ID
		return res, nil
	// A refusal counts only when Telegram's own body says so: a proxy's or a load balancer's 401 or
	// 404 page must not wipe every connection.
	case (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusNotFound) &&
		isTelegram && !a.OK && a.ErrorCode == resp.StatusCode:
		res.Verdict = Revoked
		return res, nil
	}
	e := &APIError{StatusCode: resp.StatusCode, ErrorCode: a.ErrorCode, Description: a.Description}
	if !isTelegram {
		e.Description = "the answer is not a Bot API response"
	}
	if a.Parameters != nil && a.Parameters.RetryAfter > 0 {
		e.RetryAfter = time.Duration(a.Parameters.RetryAfter) * time.Second
	}
	e.Description = scrub(e.Description, token)
	return Result{}, e
}

// redact removes the token from err: net/http's errors carry the request URL, whose path holds it.
func redact(err error, base, token string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = base + "/bot<redacted>/getMe"
	}
	msg := err.Error()
	if strings.Contains(msg, token) || strings.Contains(msg, url.PathEscape(token)) {
		// Some error further down named it too: keep only the cause's kind.
		return &redactedError{msg: scrub(msg, token), err: errors.Unwrap(err)}
	}
	return err
}

// scrub replaces every form of the token in s.
func scrub(s, token string) string {
	if token == "" {
		return s
	}
	s = strings.ReplaceAll(s, token, "<redacted>")
	return strings.ReplaceAll(s, url.PathEscape(token), "<redacted>")
}

// redactedError is an error whose text had to be scrubbed of the token. It unwraps only to the
// sentinel causes callers branch on (a cancelled or expired context), never to the original chain.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }

func (e *redactedError) Unwrap() error {
	switch {
	case errors.Is(e.err, context.Canceled):
		return context.Canceled
	case errors.Is(e.err, context.DeadlineExceeded):
		return context.DeadlineExceeded
	}
	return nil
}
