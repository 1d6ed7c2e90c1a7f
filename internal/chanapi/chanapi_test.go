package chanapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/chanapi"
	"github.com/lethe-dev/lethe/internal/local/chanstand"
	"github.com/lethe-dev/lethe/internal/platform"
)

// Connections as the seed makes them, one per channel.
var conns = map[string]platform.ChannelConnection{
	platform.ChannelTelegram: {ID: "c-tg", Channel: platform.ChannelTelegram, ChannelKey: "5820187346", Name: "Support bot",
		Secrets: map[string]string{"bot_token": "5820187346:AAHk3mP9qLrT2vXz8WcYb4NsJd6FgE1uQoI", "secret_token": "s3cr3t-webhook"}},
	platform.ChannelWhatsApp: {ID: "c-wa", Channel: platform.ChannelWhatsApp, ChannelKey: "104996122399160",
		Secrets: map[string]string{"access_token": "EAAGwhatsAppSystemUserToken0123456789abcdefXYZ"},
		Keys:    map[string]string{platform.ConnKeyPhoneNumberID: "106540352242922"}},
	platform.ChannelMessenger: {ID: "c-fb", Channel: platform.ChannelMessenger, ChannelKey: "112233445566778",
		Secrets: map[string]string{"page_access_token": "EAAGmessengerPageToken0123456789abcdefXYZ"}},
	platform.ChannelInstagram: {ID: "c-ig", Channel: platform.ChannelInstagram, ChannelKey: "118877665544332",
		Secrets: map[string]string{"page_access_token": "EAAGinstagramPageToken0123456789abcdefXYZ"},
		Keys:    map[string]string{platform.ConnKeyInstagramAccountID: "17841400000000001"}},
	platform.ChannelVK: {ID: "c-vk", Channel: platform.ChannelVK, ChannelKey: "218375446",
		Secrets: map[string]string{"access_token": "vk1.a.communityTokenAbCdEf0123456789", "secret": "vkSecret"}},
	platform.ChannelViber: {ID: "c-vb", Channel: platform.ChannelViber, ChannelKey: "demobot1", Name: "Служба поддержки ООО «Ромашка» и партнёры",
		Secrets: map[string]string{"auth_token": "445da6az1s345z78-dazcczb2542zv51a-e0vc5fva17480im9"}},
	platform.ChannelSlack: {ID: "c-sl", Channel: platform.ChannelSlack, ChannelKey: "T0ABCDEFG1",
		Secrets: map[string]string{"bot_token": "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"}},
}

// recipients are the end users' ids on each channel.
var recipients = map[string]string{
	platform.ChannelTelegram: "734519826", platform.ChannelWhatsApp: "79161234567",
	platform.ChannelMessenger: "6543210987654321", platform.ChannelInstagram: "1357924680135792",
	platform.ChannelVK: "48213657", platform.ChannelViber: "01234567890A=", platform.ChannelSlack: "U0123ABCD",
}

var channels = []string{platform.ChannelTelegram, platform.ChannelWhatsApp, platform.ChannelMessenger,
	platform.ChannelInstagram, platform.ChannelVK, platform.ChannelViber, platform.ChannelSlack}

const code = "482915"

// request is what the fake received.
type request struct {
	method, path, query string
	header              http.Header
	body                []byte
}

// fake serves every channel's base path at once and answers with whatever its handler says.
type fake struct {
	srv *httptest.Server

	mu       sync.Mutex
	handler  http.HandlerFunc
	requests []request
}

func newFake(t *testing.T) *fake {
	t.Helper()
	f := &fake{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.requests = append(f.requests, request{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), body})
		h := f.handler
		f.mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		h(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) answer(a chanstand.Answer) {
	f.serve(func(w http.ResponseWriter, _ *http.Request) { a.Write(w) })
}

func (f *fake) serve(h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handler, f.requests = h, nil
}

func (f *fake) last(t *testing.T) request {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		t.Fatal("the channel got no request")
	}
	return f.requests[len(f.requests)-1]
}

func (f *fake) endpoints() chanapi.Endpoints {
	return chanapi.Endpoints{Telegram: f.srv.URL + "/tg", MetaGraph: f.srv.URL + "/graph/v21.0/",
		Slack: f.srv.URL + "/slack", VK: f.srv.URL + "/vk", Viber: f.srv.URL + "/viber"}
}

func (f *fake) client() *chanapi.Clients { return chanapi.New(f.endpoints(), nil) }

// noSecret fails when err names the connection's credentials, the code or the recipient.
func noSecret(t *testing.T, err error, channel string) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	secrets := []string{code, recipients[channel]}
	for _, s := range conns[channel].Secrets {
		secrets = append(secrets, s, url.PathEscape(s), url.QueryEscape(s))
	}
	for _, s := range secrets {
		if strings.Contains(msg, s) {
			t.Errorf("%s: the error names a secret (%q): %s", channel, s, msg)
		}
	}
}

// Each channel's valid answer, as its reference shows it.
var validCheck = map[string]chanstand.Answer{
	platform.ChannelTelegram:  chanstand.TelegramOK(map[string]any{"id": 5820187346, "is_bot": true, "first_name": "Support bot", "username": "support_bot"}),
	platform.ChannelWhatsApp:  chanstand.GraphOK(map[string]any{"id": "104996122399160"}),
	platform.ChannelMessenger: chanstand.GraphOK(map[string]any{"id": "112233445566778"}),
	platform.ChannelInstagram: chanstand.GraphOK(map[string]any{"id": "118877665544332"}),
	platform.ChannelVK: chanstand.VKResponse(map[string]any{"groups": []map[string]any{{"id": 218375446, "name": "Demo",
		"screen_name": "club218375446", "is_closed": 0, "type": "group"}}, "profiles": []any{}}),
	platform.ChannelViber: chanstand.ViberStatus(0, "ok", map[string]any{"id": "pa:75346594275468546724", "name": "Demo", "uri": "demobot1"}),
	platform.ChannelSlack: chanstand.SlackOK(map[string]any{"url": "https://demo.slack.com/", "team": "Demo", "user": "bot",
		"team_id": "T0ABCDEFG1", "user_id": "U0BOT", "bot_id": "B0BOT"}),
}

func TestCheckVerdicts(t *testing.T) {
	f := newFake(t)
	c := f.client()
	tests := []struct {
		channel string
		answer  chanstand.Answer
		verdict chanapi.Verdict
		status  int
		code    string
	}{
		{platform.ChannelTelegram, validCheck[platform.ChannelTelegram], chanapi.Valid, 200, ""},
		{platform.ChannelTelegram, chanstand.TelegramUnauthorized, chanapi.Revoked, 401, "401"},
		{platform.ChannelTelegram, chanstand.TelegramNotFound, chanapi.Revoked, 404, "404"},
		{platform.ChannelMessenger, validCheck[platform.ChannelMessenger], chanapi.Valid, 200, ""},
		{platform.ChannelMessenger, chanstand.GraphAppRemoved, chanapi.Revoked, 400, "190/458"},
		{platform.ChannelMessenger, chanstand.GraphPasswordChanged, chanapi.Revoked, 400, "190/460"},
		{platform.ChannelMessenger, chanstand.GraphExpired, chanapi.Revoked, 401, "190/463"},
		{platform.ChannelMessenger, chanstand.GraphError(400, 190, 459, "Error validating access token: You cannot access the app till you log in to www.facebook.com and follow the instructions given."), chanapi.Revoked, 400, "190/459"},
		{platform.ChannelMessenger, chanstand.GraphError(400, 190, 464, "Error validating access token: Sessions for the user are not allowed because the user is not a confirmed user."), chanapi.Revoked, 400, "190/464"},
		{platform.ChannelMessenger, chanstand.GraphError(400, 190, 467, "Error validating access token: The session is invalid because the user logged out."), chanapi.Revoked, 400, "190/467"},
		{platform.ChannelMessenger, chanstand.GraphError(400, 190, 492, "Error validating access token: The user must be an administrator, editor, or moderator of the page in order to impersonate it."), chanapi.Revoked, 400, "190/492"},
		{platform.ChannelMessenger, chanstand.GraphError(401, 190, 0, "Invalid OAuth access token - Cannot parse access token"), chanapi.Revoked, 401, "190"},
		{platform.ChannelInstagram, validCheck[platform.ChannelInstagram], chanapi.Valid, 200, ""},
		{platform.ChannelInstagram, chanstand.GraphAppRemoved, chanapi.Revoked, 400, "190/458"},
		{platform.ChannelWhatsApp, validCheck[platform.ChannelWhatsApp], chanapi.Valid, 200, ""},
		{platform.ChannelWhatsApp, chanstand.GraphPasswordChanged, chanapi.Revoked, 400, "190/460"},
		{platform.ChannelWhatsApp, chanstand.GraphExpired, chanapi.Revoked, 401, "190/463"},
		{platform.ChannelSlack, validCheck[platform.ChannelSlack], chanapi.Valid, 200, ""},
		{platform.ChannelSlack, chanstand.SlackError("invalid_auth"), chanapi.Revoked, 200, "invalid_auth"},
		{platform.ChannelSlack, chanstand.SlackError("token_revoked"), chanapi.Revoked, 200, "token_revoked"},
		{platform.ChannelSlack, chanstand.SlackError("account_inactive"), chanapi.Revoked, 200, "account_inactive"},
		{platform.ChannelVK, validCheck[platform.ChannelVK], chanapi.Valid, 200, ""},
		{platform.ChannelVK, chanstand.VKInvalidToken, chanapi.Revoked, 200, "5"},
		{platform.ChannelVK, chanstand.VKGroupAuthFailed, chanapi.Revoked, 200, "27"},
		{platform.ChannelViber, validCheck[platform.ChannelViber], chanapi.Valid, 200, ""},
		{platform.ChannelViber, chanstand.ViberInvalidToken, chanapi.Revoked, 200, "2"},
	}
	for _, tt := range tests {
		t.Run(tt.channel+"/"+tt.verdict.String()+"/"+tt.code, func(t *testing.T) {
			f.answer(tt.answer)
			res, err := c.Check(context.Background(), conns[tt.channel])
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict != tt.verdict || res.StatusCode != tt.status || res.Code != tt.code {
				t.Fatalf("got %+v, want %s %d %q", res, tt.verdict, tt.status, tt.code)
			}
			if res.Valid() != (tt.verdict == chanapi.Valid) || res.Revoked() != (tt.verdict == chanapi.Revoked) {
				t.Errorf("Valid %v Revoked %v", res.Valid(), res.Revoked())
			}
			if tt.verdict == chanapi.Revoked && res.Description == "" && tt.channel != platform.ChannelSlack {
				t.Error("a refusal without the channel's description")
			}
		})
	}
}

// Each channel is asked the way its reference documents, with the credential where the channel
// reads it and nowhere else.
func TestCheckRequests(t *testing.T) {
	f := newFake(t)
	c := f.client()
	tests := []struct {
		channel, method, path string
		check                 func(t *testing.T, r request)
	}{
		{platform.ChannelTelegram, "GET", "/tg/bot5820187346:AAHk3mP9qLrT2vXz8WcYb4NsJd6FgE1uQoI/getMe", nil},
		{platform.ChannelMessenger, "GET", "/graph/v21.0/me", func(t *testing.T, r request) {
			bearer(t, r, conns[platform.ChannelMessenger].Secrets["page_access_token"])
		}},
		{platform.ChannelInstagram, "GET", "/graph/v21.0/me", func(t *testing.T, r request) {
			bearer(t, r, conns[platform.ChannelInstagram].Secrets["page_access_token"])
		}},
		{platform.ChannelWhatsApp, "GET", "/graph/v21.0/104996122399160", func(t *testing.T, r request) {
			bearer(t, r, conns[platform.ChannelWhatsApp].Secrets["access_token"])
		}},
		{platform.ChannelSlack, "POST", "/slack/auth.test", func(t *testing.T, r request) {
			bearer(t, r, conns[platform.ChannelSlack].Secrets["bot_token"])
		}},
		{platform.ChannelVK, "POST", "/vk/groups.getById", func(t *testing.T, r request) {
			form := parseForm(t, r)
			if form.Get("access_token") != conns[platform.ChannelVK].Secrets["access_token"] || form.Get("v") != "5.199" {
				t.Errorf("form %v", form)
			}
		}},
		{platform.ChannelViber, "POST", "/viber/get_account_info", func(t *testing.T, r request) {
			if r.header.Get("X-Viber-Auth-Token") != conns[platform.ChannelViber].Secrets["auth_token"] || string(r.body) != "{}" {
				t.Errorf("header %v body %s", r.header, r.body)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.channel, func(t *testing.T) {
			f.answer(validCheck[tt.channel])
			if res, err := c.Check(context.Background(), conns[tt.channel]); err != nil || !res.Valid() {
				t.Fatalf("%+v %v", res, err)
			}
			r := f.last(t)
			if r.method != tt.method || r.path != tt.path {
				t.Fatalf("%s %s, want %s %s", r.method, r.path, tt.method, tt.path)
			}
			if tt.channel == platform.ChannelMessenger || tt.channel == platform.ChannelInstagram || tt.channel == platform.ChannelWhatsApp {
				if got := r.query; got != "fields=id" {
					t.Errorf("query %q", got)
				}
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

func bearer(t *testing.T, r request, token string) {
	t.Helper()
	if got := r.header.Get("Authorization"); got != "Bearer "+token {
		t.Errorf("Authorization %q", got)
	}
	if strings.Contains(r.path, token) {
		t.Error("the token is in the URL")
	}
}

func parseForm(t *testing.T, r request) url.Values {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type %q", ct)
	}
	v, err := url.ParseQuery(string(r.body))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// html is a page of some proxy or load balancer: never the channel's word.
func html(status int) chanstand.Answer {
	return chanstand.Answer{Status: status, Header: http.Header{"Content-Type": {"text/html"}},
		Body: []byte("<html><head><title>" + http.StatusText(status) + "</title></head><body>nginx</body></html>")}
}

// Nothing but a channel's own documented refusal is a verdict: rate limits, 5xx, other codes,
// proxies' pages, malformed bodies and redirects are *APIError, and none names a secret.
func TestCheckFailuresAreAPIErrors(t *testing.T) {
	f := newFake(t)
	c := f.client()
	malformed := chanstand.Answer{Status: 200, Body: []byte(`{"ok":tru`)}
	type failure struct {
		name   string
		answer chanstand.Answer
		code   string
		retry  time.Duration
	}
	common := []failure{
		{"html502", html(502), "", 0}, {"html401", html(401), "", 0}, {"html403", html(403), "", 0},
		{"html404", html(404), "", 0}, {"html200", html(200), "", 0}, {"malformed", malformed, "", 0},
		{"empty500", chanstand.Answer{Status: 500}, "", 0},
	}
	graph := []failure{
		{"rate4", chanstand.GraphRateLimited, "4", 0},
		{"rate17", chanstand.GraphError(400, 17, 0, "(#17) User request limit reached"), "17", 0},
		{"rate32", chanstand.GraphError(400, 32, 0, "(#32) Page request limit reached"), "32", 0},
		{"rate613", chanstand.GraphError(400, 613, 0, "(#613) Calls to this api have exceeded the rate limit."), "613", 0},
		{"rate80001", chanstand.GraphError(400, 80001, 0, "(#80001) There have been too many calls to this Page account."), "80001", 0},
		{"unknown1", chanstand.GraphError(500, 1, 0, "An unknown error occurred"), "1", 0},
		{"service2", chanstand.GraphUnavailable, "2", 0},
		{"permission10", chanstand.GraphError(403, 10, 0, "(#10) Application does not have permission for this action"), "10", 0},
		{"190on500", chanstand.GraphError(500, 190, 460, "Error validating access token"), "190/460", 0},
	}
	perChannel := map[string][]failure{
		platform.ChannelTelegram: {
			{"429", chanstand.TelegramRetryAfter(17), "429", 17 * time.Second},
			{"500", chanstand.TelegramError(500, "Internal Server Error"), "500", 0},
			{"401bodyMismatch", chanstand.TelegramError(401, "Unauthorized"), "", 0}, // replaced below
		},
		platform.ChannelMessenger: graph, platform.ChannelInstagram: graph,
		platform.ChannelWhatsApp: append([]failure{
			{"rate80007", chanstand.GraphError(400, 80007, 0, "(#80007) Rate limit issues"), "80007", 0},
			{"rate130429", chanstand.WhatsAppRateLimited, "130429", 0},
			{"rate131056", chanstand.GraphError(400, 131056, 0, "(#131056) (Business Account, Consumer Account) pair rate limit hit"), "131056", 0},
		}, graph...),
		platform.ChannelSlack: {
			{"ratelimited", chanstand.SlackRateLimited(30), "ratelimited", 30 * time.Second},
			{"not_authed", chanstand.SlackError("not_authed"), "not_authed", 0},
			{"fatal", chanstand.SlackError("fatal_error"), "fatal_error", 0},
			{"okOn500", chanstand.Answer{Status: 500, Body: []byte(`{"ok":false,"error":"invalid_auth"}`)}, "invalid_auth", 0},
		},
		platform.ChannelVK: {
			{"6", chanstand.VKTooMany, "6", 0}, {"9", chanstand.VKError(9, "Flood control", "groups.getById"), "9", 0},
			{"10", chanstand.VKInternal, "10", 0}, {"29", chanstand.VKError(29, "Rate limit reached", "groups.getById"), "29", 0},
			{"5on502", chanstand.Answer{Status: 502, Body: chanstand.VKInvalidToken.Body}, "5", 0},
		},
		platform.ChannelViber: {
			{"12", chanstand.ViberTooMany, "12", 0}, {"1", chanstand.ViberStatus(1, "invalidUrl", nil), "1", 0},
			{"2on503", chanstand.Answer{Status: 503, Body: chanstand.ViberInvalidToken.Body}, "2", 0},
		},
	}
	// A 401 whose body is Telegram's but whose error_code is not the status is not Telegram's refusal.
	perChannel[platform.ChannelTelegram][2] = failure{"401codeMismatch",
		chanstand.Answer{Status: 401, Body: []byte(`{"ok":false,"error_code":502,"description":"Bad Gateway"}`)}, "502", 0}
	for _, ch := range channels {
		for _, tt := range append(perChannel[ch], common...) {
			t.Run(ch+"/"+tt.name, func(t *testing.T) {
				f.answer(tt.answer)
				res, err := c.Check(context.Background(), conns[ch])
				var ae *chanapi.APIError
				if !errors.As(err, &ae) {
					t.Fatalf("got %+v, %v; want an *APIError", res, err)
				}
				if res.Verdict != 0 || ae.Channel != ch || ae.Op != "check" || ae.StatusCode != tt.answer.Status ||
					ae.Code != tt.code || ae.RetryAfter != tt.retry {
					t.Errorf("got %+v %+v", res, ae)
				}
				noSecret(t, err, ch)
			})
		}
	}
}

// A redirect is not followed (the credential would go along), a channel that does not answer in
// time is an error, and a dropped connection too; none names a secret — not even Telegram's, whose
// token is in the URL net/http puts in its errors.
func TestCheckTransportFailures(t *testing.T) {
	f := newFake(t)
	elsewhere := newFake(t)
	elsewhere.answer(chanstand.TelegramOK(map[string]any{"id": 1}))
	for _, ch := range channels {
		t.Run(ch+"/redirect", func(t *testing.T) {
			f.serve(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, elsewhere.srv.URL+r.URL.Path, http.StatusFound)
			})
			_, err := f.client().Check(context.Background(), conns[ch])
			var ae *chanapi.APIError
			if !errors.As(err, &ae) || ae.StatusCode != http.StatusFound {
				t.Fatalf("%v", err)
			}
			elsewhere.mu.Lock()
			n := len(elsewhere.requests)
			elsewhere.mu.Unlock()
			if n != 0 {
				t.Error("the redirect was followed")
			}
			noSecret(t, err, ch)
		})
		t.Run(ch+"/timeout", func(t *testing.T) {
			f.serve(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
			c := chanapi.New(f.endpoints(), &http.Client{Timeout: 100 * time.Millisecond})
			_, err := c.Check(context.Background(), conns[ch])
			if err == nil {
				t.Fatal("no error from a channel that never answered")
			}
			var ae *chanapi.APIError
			if errors.As(err, &ae) {
				t.Errorf("a timeout is not the channel's answer: %v", err)
			}
			noSecret(t, err, ch)
		})
		t.Run(ch+"/cancelled", func(t *testing.T) {
			f.serve(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
			ctx, cancel := context.WithCancel(context.Background())
			f.mu.Lock()
			f.handler = func(w http.ResponseWriter, r *http.Request) { cancel(); <-r.Context().Done() }
			f.mu.Unlock()
			_, err := f.client().Check(ctx, conns[ch])
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("%v is not context.Canceled", err)
			}
			noSecret(t, err, ch)
		})
		t.Run(ch+"/dropped", func(t *testing.T) {
			f.serve(func(w http.ResponseWriter, r *http.Request) {
				conn, _, err := w.(http.Hijacker).Hijack()
				if err == nil {
					conn.Close()
				}
			})
			_, err := f.client().Check(context.Background(), conns[ch])
			if err == nil {
				t.Fatal("no error from a dropped connection")
			}
			noSecret(t, err, ch)
		})
	}
}

func TestCheckWithoutCredentialOrChannel(t *testing.T) {
	c := chanapi.New(chanapi.Endpoints{}, nil) // no request is made: the real APIs are never reached
	for _, ch := range channels {
		conn := conns[ch]
		conn.Secrets = map[string]string{}
		if _, err := c.Check(context.Background(), conn); !errors.Is(err, chanapi.ErrNoCredential) {
			t.Errorf("%s without a credential: %v", ch, err)
		}
		if err := c.SendCode(context.Background(), conn, recipients[ch], code, "ru"); !errors.Is(err, chanapi.ErrNoCredential) {
			t.Errorf("%s send without a credential: %v", ch, err)
		}
		if err := c.SendCode(context.Background(), conns[ch], "", code, "ru"); !errors.Is(err, chanapi.ErrNoRecipient) {
			t.Errorf("%s send to nobody: %v", ch, err)
		}
	}
	wa := conns[platform.ChannelWhatsApp]
	wa.Keys = nil
	if err := c.SendCode(context.Background(), wa, recipients[platform.ChannelWhatsApp], code, "en"); !errors.Is(err, chanapi.ErrNoCredential) {
		t.Errorf("WhatsApp without its phone number id: %v", err)
	}
	other := platform.ChannelConnection{Channel: "line", Secrets: map[string]string{"token": "x"}}
	if _, err := c.Check(context.Background(), other); !errors.Is(err, chanapi.ErrUnsupported) {
		t.Errorf("an unknown channel: %v", err)
	}
	if err := c.SendCode(context.Background(), other, "u", code, "en"); !errors.Is(err, chanapi.ErrUnsupported) {
		t.Errorf("an unknown channel's send: %v", err)
	}
}

// Each channel's documented success answer to a send.
var sentOK = map[string]chanstand.Answer{
	platform.ChannelTelegram: chanstand.TelegramOK(map[string]any{"message_id": 42, "chat": map[string]any{"id": 734519826, "type": "private"},
		"date": 1764950000, "text": "…"}),
	platform.ChannelWhatsApp: chanstand.GraphOK(map[string]any{"messaging_product": "whatsapp",
		"contacts": []map[string]string{{"input": "79161234567", "wa_id": "79161234567"}},
		"messages": []map[string]string{{"id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI4QUFERjg0NDEzNDdFODU3MUMA"}}}),
	platform.ChannelMessenger: chanstand.GraphOK(map[string]any{"recipient_id": "6543210987654321", "message_id": "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P"}),
	platform.ChannelInstagram: chanstand.GraphOK(map[string]any{"recipient_id": "1357924680135792", "message_id": "aWdfZAG1faWQ6MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIz"}),
	platform.ChannelVK:        chanstand.VKResponse(1843),
	platform.ChannelViber:     chanstand.ViberStatus(0, "ok", map[string]any{"message_token": 5741311803571721087, "billing_status": 1}),
	platform.ChannelSlack: chanstand.SlackOK(map[string]any{"channel": "D0123DM", "ts": "1503435956.000247",
		"message": map[string]any{"text": "…", "type": "message"}}),
}

func jsonBody(t *testing.T, r request) map[string]any {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("%v in %s", err, r.body)
	}
	return m
}

func get(m map[string]any, path ...string) any {
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[p]
	}
	return v
}

// Each channel receives the send as its reference documents it.
func TestSendCodeRequests(t *testing.T) {
	f := newFake(t)
	c := f.client()
	ru := "Ваш код подтверждения запроса на удаление данных: 482915. Никому его не сообщайте."
	en := "Your data-deletion request verification code: 482915. Do not share it."
	tests := []struct {
		channel, locale, method, path string
		check                         func(t *testing.T, r request)
	}{
		{platform.ChannelTelegram, "ru", "POST", "/tg/bot5820187346:AAHk3mP9qLrT2vXz8WcYb4NsJd6FgE1uQoI/sendMessage", func(t *testing.T, r request) {
			m := jsonBody(t, r)
			if m["chat_id"] != "734519826" || m["text"] != ru {
				t.Errorf("body %v", m)
			}
		}},
		{platform.ChannelMessenger, "en", "POST", "/graph/v21.0/me/messages", func(t *testing.T, r request) {
			bearer(t, r, conns[platform.ChannelMessenger].Secrets["page_access_token"])
			m := jsonBody(t, r)
			if get(m, "recipient", "id") != "6543210987654321" || m["messaging_type"] != "MESSAGE_TAG" ||
				m["tag"] != "ACCOUNT_UPDATE" || get(m, "message", "text") != en {
				t.Errorf("body %v", m)
			}
		}},
		{platform.ChannelInstagram, "ru-RU", "POST", "/graph/v21.0/me/messages", func(t *testing.T, r request) {
			bearer(t, r, conns[platform.ChannelInstagram].Secrets["page_access_token"])
			m := jsonBody(t, r)
			if get(m, "recipient", "id") != "1357924680135792" || m["messaging_type"] != "RESPONSE" ||
				m["tag"] != nil || get(m, "message", "text") != ru {
				t.Errorf("body %v", m)
			}
		}},
		{platform.ChannelWhatsApp, "ru", "POST", "/graph/v21.0/106540352242922/messages", func(t *testing.T, r request) {
			bearer(t, r, conns[platform.ChannelWhatsApp].Secrets["access_token"])
			var m struct {
				MessagingProduct string `json:"messaging_product"`
				To, Type         string
				Template         struct {
					Name     string
					Language struct{ Code string }
					// The body's parameter and the copy-code button's, as the authentication
					// template guide shows.
					Components []struct {
						Type       string
						SubType    string `json:"sub_type"`
						Index      string
						Parameters []struct{ Type, Text string }
					}
				}
			}
			if err := json.Unmarshal(r.body, &m); err != nil {
				t.Fatal(err)
			}
			tp := m.Template
			if m.MessagingProduct != "whatsapp" || m.To != "79161234567" || m.Type != "template" ||
				tp.Name != "lethe_verification_code" || tp.Language.Code != "ru" || len(tp.Components) != 2 {
				t.Fatalf("body %s", r.body)
			}
			b, btn := tp.Components[0], tp.Components[1]
			if b.Type != "body" || len(b.Parameters) != 1 || b.Parameters[0].Type != "text" || b.Parameters[0].Text != code ||
				btn.Type != "button" || btn.SubType != "url" || btn.Index != "0" || len(btn.Parameters) != 1 ||
				btn.Parameters[0].Type != "text" || btn.Parameters[0].Text != code {
				t.Errorf("components %s", r.body)
			}
		}},
		{platform.ChannelSlack, "en", "POST", "/slack/chat.postMessage", func(t *testing.T, r request) {
			bearer(t, r, conns[platform.ChannelSlack].Secrets["bot_token"])
			m := jsonBody(t, r)
			if m["channel"] != "U0123ABCD" || m["text"] != en {
				t.Errorf("body %v", m)
			}
		}},
		{platform.ChannelVK, "ru", "POST", "/vk/messages.send", func(t *testing.T, r request) {
			form := parseForm(t, r)
			if form.Get("access_token") != conns[platform.ChannelVK].Secrets["access_token"] || form.Get("v") != "5.199" ||
				form.Get("user_id") != "48213657" || form.Get("message") != ru || form.Get("random_id") == "" {
				t.Errorf("form %v", form)
			}
		}},
		{platform.ChannelViber, "en", "POST", "/viber/send_message", func(t *testing.T, r request) {
			if r.header.Get("X-Viber-Auth-Token") != conns[platform.ChannelViber].Secrets["auth_token"] {
				t.Errorf("header %v", r.header)
			}
			m := jsonBody(t, r)
			name, _ := get(m, "sender", "name").(string)
			if m["receiver"] != "01234567890A=" || m["type"] != "text" || m["text"] != en ||
				name != "Служба поддержки ООО «Ромашк" || len([]rune(name)) != 28 {
				t.Errorf("body %v (sender %q)", m, name)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.channel, func(t *testing.T) {
			f.answer(sentOK[tt.channel])
			if err := c.SendCode(context.Background(), conns[tt.channel], recipients[tt.channel], code, tt.locale); err != nil {
				t.Fatal(err)
			}
			r := f.last(t)
			if r.method != tt.method || r.path != tt.path {
				t.Fatalf("%s %s, want %s %s", r.method, r.path, tt.method, tt.path)
			}
			tt.check(t, r)
		})
	}
}

// VK's random_id is derived from the recipient and the code: a retried send is the same message to
// VK, a new code is a new one.
func TestVKRandomIDMakesARetryOneMessage(t *testing.T) {
	f := newFake(t)
	c := f.client()
	f.answer(sentOK[platform.ChannelVK])
	rid := func(to, code string) string {
		if err := c.SendCode(context.Background(), conns[platform.ChannelVK], to, code, "ru"); err != nil {
			t.Fatal(err)
		}
		return parseForm(t, f.last(t)).Get("random_id")
	}
	first := rid("48213657", code)
	if again := rid("48213657", code); again != first {
		t.Errorf("a retry has random_id %s, the first send %s", again, first)
	}
	if other := rid("48213657", "907113"); other == first {
		t.Error("a new code has the same random_id")
	}
	if other := rid("48213658", code); other == first {
		t.Error("another user has the same random_id")
	}
}

// A channel's documented "cannot write to this chat" is ErrRecipientRefused; its rate limits, 5xx,
// refusals of the credential and proxies' pages are *APIError. No error names a secret.
func TestSendCodeAnswers(t *testing.T) {
	f := newFake(t)
	c := f.client()
	tests := []struct {
		channel, name string
		answer        chanstand.Answer
		refused       bool
		code          string
	}{
		{platform.ChannelTelegram, "blocked", chanstand.TelegramBlocked, true, ""},
		{platform.ChannelTelegram, "deactivated", chanstand.TelegramDeactivated, true, ""},
		{platform.ChannelTelegram, "chatNotFound", chanstand.TelegramChatNotFound, true, ""},
		{platform.ChannelTelegram, "otherBadRequest", chanstand.TelegramError(400, "Bad Request: message text is empty"), false, "400"},
		{platform.ChannelTelegram, "revoked", chanstand.TelegramUnauthorized, false, "401"},
		{platform.ChannelTelegram, "429", chanstand.TelegramRetryAfter(3), false, "429"},
		{platform.ChannelTelegram, "html403", html(403), false, ""},
		{platform.ChannelMessenger, "551", chanstand.MessengerUnavailable, true, ""},
		{platform.ChannelMessenger, "window2018278", chanstand.MessengerOutsideWindow, true, ""},
		{platform.ChannelMessenger, "window2018108", chanstand.GraphError(400, 10, 2018108, "(#10) This message is sent outside of allowed window."), true, ""},
		{platform.ChannelMessenger, "noUser", chanstand.GraphError(400, 100, 2018001, "(#100) No matching user found"), true, ""},
		{platform.ChannelMessenger, "permission10", chanstand.GraphError(403, 10, 0, "(#10) Application does not have permission for this action"), false, "10"},
		{platform.ChannelMessenger, "revoked", chanstand.GraphAppRemoved, false, "190/458"},
		{platform.ChannelMessenger, "rate613", chanstand.GraphError(400, 613, 0, "(#613) Calls to this api have exceeded the rate limit."), false, "613"},
		{platform.ChannelMessenger, "5xx", chanstand.GraphUnavailable, false, "2"},
		{platform.ChannelInstagram, "window2534022", chanstand.InstagramOutsideWindow, true, ""},
		{platform.ChannelInstagram, "551", chanstand.MessengerUnavailable, true, ""},
		{platform.ChannelInstagram, "html502", html(502), false, ""},
		{platform.ChannelWhatsApp, "131026", chanstand.WhatsAppUndeliverable, true, ""},
		{platform.ChannelWhatsApp, "131047", chanstand.WhatsAppReengagement, true, ""},
		{platform.ChannelWhatsApp, "130429", chanstand.WhatsAppRateLimited, false, "130429"},
		{platform.ChannelWhatsApp, "revoked", chanstand.GraphPasswordChanged, false, "190/460"},
		{platform.ChannelWhatsApp, "okWithoutMessages", chanstand.GraphOK(map[string]any{"messaging_product": "whatsapp"}), false, ""},
		{platform.ChannelSlack, "channel_not_found", chanstand.SlackError("channel_not_found"), true, ""},
		{platform.ChannelSlack, "user_not_found", chanstand.SlackError("user_not_found"), true, ""},
		{platform.ChannelSlack, "cannot_dm_bot", chanstand.SlackError("cannot_dm_bot"), true, ""},
		{platform.ChannelSlack, "invalid_auth", chanstand.SlackError("invalid_auth"), false, "invalid_auth"},
		{platform.ChannelSlack, "ratelimited", chanstand.SlackRateLimited(5), false, "ratelimited"},
		{platform.ChannelVK, "900", chanstand.VKBlacklisted, true, ""},
		{platform.ChannelVK, "901", chanstand.VKNoPermission, true, ""},
		{platform.ChannelVK, "902", chanstand.VKPrivacy, true, ""},
		{platform.ChannelVK, "revoked", chanstand.VKError(5, "User authorization failed: invalid access_token (4).", "messages.send"), false, "5"},
		{platform.ChannelVK, "flood9", chanstand.VKError(9, "Flood control", "messages.send"), false, "9"},
		{platform.ChannelViber, "5", chanstand.ViberNotRegistered, true, ""},
		{platform.ChannelViber, "6", chanstand.ViberNotSubscribed, true, ""},
		{platform.ChannelViber, "12", chanstand.ViberTooMany, false, "12"},
		{platform.ChannelViber, "revoked", chanstand.ViberInvalidToken, false, "2"},
		{platform.ChannelViber, "malformed", chanstand.Answer{Status: 200, Body: []byte("{")}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.channel+"/"+tt.name, func(t *testing.T) {
			f.answer(tt.answer)
			err := c.SendCode(context.Background(), conns[tt.channel], recipients[tt.channel], code, "ru")
			if err == nil {
				t.Fatal("no error")
			}
			var ae *chanapi.APIError
			switch {
			case tt.refused && !errors.Is(err, chanapi.ErrRecipientRefused):
				t.Errorf("%v is not ErrRecipientRefused", err)
			case !tt.refused && errors.Is(err, chanapi.ErrRecipientRefused):
				t.Errorf("%v is ErrRecipientRefused", err)
			case !tt.refused && (!errors.As(err, &ae) || ae.Code != tt.code || ae.Op != "send" || ae.StatusCode != tt.answer.Status):
				t.Errorf("%v (%+v), want an *APIError with code %q", err, ae, tt.code)
			}
			noSecret(t, err, tt.channel)
		})
	}
}

// A send's transport failures name neither the credential nor the code nor the recipient.
func TestSendCodeTransportFailures(t *testing.T) {
	f := newFake(t)
	for _, ch := range channels {
		f.serve(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
		c := chanapi.New(f.endpoints(), &http.Client{Timeout: 100 * time.Millisecond})
		err := c.SendCode(context.Background(), conns[ch], recipients[ch], code, "en")
		if err == nil {
			t.Fatalf("%s: no error from a channel that never answered", ch)
		}
		noSecret(t, err, ch)
	}
}

func TestCodeText(t *testing.T) {
	for _, tt := range []struct{ locale, want string }{
		{"ru", "Ваш код подтверждения запроса на удаление данных: 123456. Никому его не сообщайте."},
		{"ru_RU", "Ваш код подтверждения запроса на удаление данных: 123456. Никому его не сообщайте."},
		{"en", "Your data-deletion request verification code: 123456. Do not share it."},
		{"", "Your data-deletion request verification code: 123456. Do not share it."},
		{"de", "Your data-deletion request verification code: 123456. Do not share it."},
	} {
		if got := chanapi.CodeText(tt.locale, "123456"); got != tt.want {
			t.Errorf("%q: %q", tt.locale, got)
		}
	}
}
