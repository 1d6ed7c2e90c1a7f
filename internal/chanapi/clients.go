package chanapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lethe-dev/lethe/internal/platform"
)

// DefaultTimeout bounds one call to a channel (connection, request and reading the answer).
const DefaultTimeout = 10 * time.Second

// maxBody bounds how much of an answer is read: every answer this package reads is a few hundred
// bytes; a VK error echoes its request's parameters, still far below this.
const maxBody = 64 << 10

// ErrNoRecipient: SendCode was given no chat to write to, or no code to write.
var ErrNoRecipient = errors.New("chanapi: no recipient or no code to send")

// Clients is the Client of every channel, choosing by the connection's channel.
type Clients struct {
	Endpoints Endpoints
	HTTP      *http.Client
}

// New returns the Client of every channel at the given endpoints; hc nil means a client with
// DefaultTimeout. Whatever hc is given, no redirect is followed: a redirect is not the channel's
// answer, and following one would only carry the request (and its credential) somewhere else.
func New(e Endpoints, hc *http.Client) *Clients {
	c := &http.Client{Timeout: DefaultTimeout}
	if hc != nil {
		cp := *hc
		c = &cp
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Clients{Endpoints: e, HTTP: c}
}

// Credential is the secret of conn that its channel's API is called with ("" when the connection
// holds none): the bot token (Telegram, Slack), the system-user token (WhatsApp), the page access
// token (Messenger, Instagram), the community token (VK), the auth token (Viber). The local
// stand-ins key their state by it.
func Credential(conn platform.ChannelConnection) string {
	switch conn.Channel {
	case platform.ChannelTelegram, platform.ChannelSlack:
		return conn.Secrets["bot_token"]
	case platform.ChannelWhatsApp, platform.ChannelVK:
		return conn.Secrets["access_token"]
	case platform.ChannelMessenger, platform.ChannelInstagram:
		return conn.Secrets["page_access_token"]
	case platform.ChannelViber:
		return conn.Secrets["auth_token"]
	}
	return ""
}

// Check asks the connection's channel whether its credential works.
func (c *Clients) Check(ctx context.Context, conn platform.ChannelConnection) (Result, error) {
	cred := strings.TrimSpace(Credential(conn))
	switch conn.Channel {
	case platform.ChannelTelegram, platform.ChannelMessenger, platform.ChannelInstagram, platform.ChannelWhatsApp,
		platform.ChannelSlack, platform.ChannelVK, platform.ChannelViber:
	default:
		return Result{}, ErrUnsupported
	}
	if cred == "" || conn.Channel == platform.ChannelWhatsApp && conn.ChannelKey == "" {
		return Result{}, ErrNoCredential
	}
	switch conn.Channel {
	case platform.ChannelTelegram:
		return c.telegramCheck(ctx, cred)
	case platform.ChannelMessenger, platform.ChannelInstagram:
		return c.graphCheck(ctx, conn.Channel, "/me", cred)
	case platform.ChannelWhatsApp:
		return c.graphCheck(ctx, conn.Channel, "/"+url.PathEscape(conn.ChannelKey), cred)
	case platform.ChannelSlack:
		return c.slackCheck(ctx, cred)
	case platform.ChannelVK:
		return c.vkCheck(ctx, cred)
	default:
		return c.viberCheck(ctx, cred)
	}
}

// SendCode sends a one-time verification code into the chat of the end user the channel knows as
// to. A refusal to deliver to that chat is ErrRecipientRefused (wrapped with the channel's code);
// every other failure is an *APIError or a transport error. No error names the credential, the
// code or the recipient.
func (c *Clients) SendCode(ctx context.Context, conn platform.ChannelConnection, to, code, locale string) error {
	cred := strings.TrimSpace(Credential(conn))
	switch conn.Channel {
	case platform.ChannelTelegram, platform.ChannelMessenger, platform.ChannelInstagram, platform.ChannelWhatsApp,
		platform.ChannelSlack, platform.ChannelVK, platform.ChannelViber:
	default:
		return ErrUnsupported
	}
	if cred == "" || conn.Channel == platform.ChannelWhatsApp && conn.Keys[platform.ConnKeyPhoneNumberID] == "" {
		return ErrNoCredential
	}
	if strings.TrimSpace(to) == "" || strings.TrimSpace(code) == "" {
		return ErrNoRecipient
	}
	s := send{cred: cred, to: to, code: code, locale: normLocale(locale)}
	switch conn.Channel {
	case platform.ChannelTelegram:
		return c.telegramSend(ctx, s)
	case platform.ChannelMessenger:
		return c.messengerSend(ctx, s)
	case platform.ChannelInstagram:
		return c.instagramSend(ctx, s)
	case platform.ChannelWhatsApp:
		return c.whatsappSend(ctx, s, conn.Keys[platform.ConnKeyPhoneNumberID])
	case platform.ChannelSlack:
		return c.slackSend(ctx, s)
	case platform.ChannelVK:
		return c.vkSend(ctx, s)
	default:
		return c.viberSend(ctx, s, conn.Name)
	}
}

// send is one SendCode's values.
type send struct{ cred, to, code, locale string }

// secrets are the values no error may carry.
func (s send) secrets() []string { return []string{s.cred, s.to, s.code} }

// refused is ErrRecipientRefused with the channel's code for it.
func refused(channel, code string) error {
	return fmt.Errorf("%w (%s %s)", ErrRecipientRefused, channel, code)
}

func base(configured, def string) string {
	if configured == "" {
		configured = def
	}
	return strings.TrimRight(configured, "/")
}

// call is one HTTP request to a channel.
type call struct {
	channel, op string
	method      string
	// url may hold the credential (Telegram puts it in the path); safeURL is what an error names
	// instead.
	url, safeURL string
	header       http.Header
	body         []byte
	// secrets are what no error may carry: the credential, and on a send the recipient and the code.
	secrets []string
}

// answer is a channel's HTTP answer, its body read up to maxBody.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// do makes the call within DefaultTimeout and reads the answer. An error never names a secret.
func (c *Clients) do(ctx context.Context, cl call) (answer, error) {
	hc := c.HTTP
	if hc == nil {
		hc = New(Endpoints{}, nil).HTTP
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	var body io.Reader
	if cl.body != nil {
		body = bytes.NewReader(cl.body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, cl.url, body)
	if err != nil {
		return answer{}, redact(fmt.Errorf("chanapi: %s %s: %w", cl.channel, cl.op, err), cl.safeURL, cl.secrets)
	}
	for k, v := range cl.header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return answer{}, redact(fmt.Errorf("chanapi: %s %s: %w", cl.channel, cl.op, err), cl.safeURL, cl.secrets)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return answer{}, redact(fmt.Errorf("chanapi: %s %s: read the answer: %w", cl.channel, cl.op, err), cl.safeURL, cl.secrets)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// apiError is the *APIError for an answer that said nothing definite, its description scrubbed.
func apiError(cl call, a answer, code, description string) *APIError {
	return &APIError{Channel: cl.channel, Op: cl.op, StatusCode: a.status, Code: scrub(code, cl.secrets),
		Description: scrub(description, cl.secrets)}
}

// notTheChannel is the description of an answer that is not the channel's API speaking (a proxy's
// page, a load balancer's 502, a redirect, malformed JSON).
const notTheChannel = "the answer is not the channel's API response"

// retryAfterHeader reads a Retry-After header given in seconds (what Slack sends with a 429).
func retryAfterHeader(h http.Header) time.Duration {
	var s int
	if _, err := fmt.Sscanf(h.Get("Retry-After"), "%d", &s); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return 0
}

// redact removes every secret from err: net/http's errors carry the request URL, whose path holds
// Telegram's token.
func redact(err error, safeURL string, secrets []string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = safeURL
	}
	msg := err.Error()
	if scrubbed := scrub(msg, secrets); scrubbed != msg {
		// Some error further down named one too: keep only the cause's kind.
		return &redactedError{msg: scrubbed, err: errors.Unwrap(err)}
	}
	return err
}

// scrub replaces every form of every secret in s.
func scrub(s string, secrets []string) string {
	for _, v := range secrets {
		if len(v) < 4 { // too short to be told from ordinary text; nothing this package sends is
			continue
		}
		s = strings.ReplaceAll(s, v, "<redacted>")
		s = strings.ReplaceAll(s, url.PathEscape(v), "<redacted>")
		s = strings.ReplaceAll(s, url.QueryEscape(v), "<redacted>")
	}
	return s
}

// redactedError is an error whose text had to be scrubbed of a secret. It unwraps only to the
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
