// Package webhooks serves the public routes messaging channels call when access is revoked or a
// person wants their data gone (SPEC §5, §8): Meta's data-deletion and deauthorize callbacks,
// WhatsApp, Slack, Telegram, VK and Viber, and the status page Meta's answer points to.
//
// Every signal is believed only when it verifies exactly as its channel specifies (internal/channels:
// raw-body HMACs and secrets compared in constant time, Slack's replay window). A forged, tampered,
// expired or unknown-connection signal answers 401 with no detail and changes nothing. A genuine one
// is claimed once by its channel's delivery id (a conditional write with a TTL), so a redelivery makes
// no second request and gets the first answer; then the deletion is recorded and its workflow started,
// and the route answers at once — the deletion itself runs in the workflow.
package webhooks

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lethe-dev/lethe/internal/channels"
	"github.com/lethe-dev/lethe/internal/httpapi"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/obs"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/requests"
	"github.com/lethe-dev/lethe/internal/verification"
)

// MaxBody bounds what a route reads: no channel's signal is near it.
const MaxBody = 1 << 20

// Lease is how long one delivery's claim stands while it is acted on; a redelivery meanwhile is
// answered 500 so that the channel tries again later.
const Lease = 60 * time.Second

// Service serves the channels' routes. Build it once and share it.
type Service struct {
	Ledger   *ledger.Ledger
	Store    *platform.Store
	Requests *requests.Service
	// Secrets from configuration (SPEC §8): Meta's app secret signs the Meta callbacks and WhatsApp's
	// X-Hub-Signature-256; Slack's signing secret; the token of WhatsApp's GET handshake.
	MetaAppSecret, SlackSigningSecret, WhatsAppVerifyToken string
	// Verification checks the one-time codes end customers enter on their status page.
	Verification *verification.Service
	// PublicBaseURL is where the status page is served (PUBLIC_BASE_URL).
	PublicBaseURL string
	Now           func() time.Time
	Log           *slog.Logger

	routesOnce sync.Once
	byRoute    map[string]handler // route key → handler, built on the first request
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// call is one request as a route sees it.
type call struct {
	req  events.APIGatewayV2HTTPRequest
	body []byte // decoded from API Gateway's base64 when it was
}

// header looks a header up case-insensitively (API Gateway lower-cases them; tests and other
// proxies may not).
func (c *call) header(name string) string {
	if v, ok := c.req.Headers[strings.ToLower(name)]; ok {
		return v
	}
	for k, v := range c.req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// answer is what a route returns.
type answer struct {
	status      int
	contentType string
	body        []byte
	headers     map[string]string // beyond the content type
}

func text(status int, s string) answer {
	return answer{status: status, contentType: "text/plain; charset=utf-8", body: []byte(s)}
}

func jsonAnswer(status int, v any) answer {
	b, err := json.Marshal(v)
	if err != nil {
		return problem(http.StatusInternalServerError, "")
	}
	return answer{status: status, contentType: "application/json", body: b}
}

// problem is an RFC 9457 answer with the dashboard API's stable types (httpapi writes both).
func problem(status int, detail string) answer {
	return problemAnswer(httpapi.NewProblem(status, detail))
}

func problemAnswer(p httpapi.Problem) answer {
	return answer{status: p.Status, contentType: httpapi.ProblemContentType, body: p.JSON()}
}

// errAnswer maps a channels error by its code: forged or expired → 401 that says nothing more,
// malformed → 400, anything else 500.
func errAnswer(err error) answer {
	return problemAnswer(httpapi.ProblemOf(err))
}

type handler func(ctx context.Context, c *call) (answer, error)

type route struct {
	method, path string
	h            handler
}

func (s *Service) routes() []route {
	return []route{
		{http.MethodPost, "/webhooks/meta/data-deletion", s.metaDataDeletion},
		{http.MethodPost, "/webhooks/meta/deauthorize", s.metaDeauthorize},
		{http.MethodGet, "/webhooks/whatsapp", s.whatsappHandshake},
		{http.MethodPost, "/webhooks/whatsapp", s.whatsappEvents},
		{http.MethodPost, "/webhooks/slack/events", s.slackEvents},
		{http.MethodPost, "/webhooks/telegram/{connectionId}", s.telegramUpdate},
		{http.MethodPost, "/webhooks/vk/{connectionId}", s.vkCallback},
		{http.MethodPost, "/webhooks/viber/{connectionId}", s.viberCallback},
		{http.MethodGet, "/deletion-status/{confirmationCode}", s.statusPage},
		{http.MethodPost, "/deletion-status/{confirmationCode}/verification", s.verifyCode},
	}
}

// Routes are the public routes for the local gateway (no JWT); each calls Handle, as API Gateway
// would call the function.
func (s *Service) Routes() []httpapi.Route {
	var out []httpapi.Route
	for _, r := range s.routes() {
		out = append(out, httpapi.Route{Method: r.method, Path: r.path, Handler: s.Handle})
	}
	return out
}

// RouteKeys lists the route keys ("POST /webhooks/slack/events") the function serves.
func (s *Service) RouteKeys() []string {
	var out []string
	for _, r := range s.routes() {
		out = append(out, r.method+" "+r.path)
	}
	return out
}

// Handle serves one API Gateway (payload 2.0) event. Failures never escape as Lambda errors: an
// unexpected one answers 500, so the channel retries, and is logged without personal data.
func (s *Service) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	s.routesOnce.Do(func() {
		s.byRoute = map[string]handler{}
		for _, r := range s.routes() {
			s.byRoute[r.method+" "+r.path] = r.h
		}
	})
	h := s.byRoute[req.RouteKey]
	if h == nil {
		return render(problem(http.StatusNotFound, "no such route")), nil
	}
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return render(problem(http.StatusBadRequest, "the body is not valid base64")), nil
		}
		body = b
	}
	if len(body) > MaxBody {
		return render(problem(http.StatusBadRequest, "the body is too large")), nil
	}
	a, err := h(ctx, &call{req: req, body: body})
	if err != nil {
		s.log().ErrorContext(ctx, "webhook failed", "route", req.RouteKey, "error", obs.ErrorType(err))
		return render(problem(http.StatusInternalServerError, "")), nil
	}
	return render(a), nil
}

func render(a answer) events.APIGatewayV2HTTPResponse {
	out := events.APIGatewayV2HTTPResponse{StatusCode: a.status, Headers: map[string]string{}}
	if a.contentType != "" {
		out.Headers["content-type"] = a.contentType
	}
	for k, v := range a.headers {
		out.Headers[k] = v
	}
	out.Body = string(a.body)
	return out
}

// form reads an application/x-www-form-urlencoded body.
func form(body []byte) (url.Values, error) {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("%w: form body", channels.ErrMalformed)
	}
	return v, nil
}

// once acts on a delivery at most once: act runs only for the delivery that claims id, and
// answers it; a redelivery of one already handled gets the same answer without acting again, and
// one arriving while another attempt acts is answered 500, so the channel tries again.
func (s *Service) once(ctx context.Context, channel, id string, answerWith answer, act func(d delivery) error) (answer, error) {
	claim, fresh, err := s.Ledger.ClaimDelivery(ctx, channel, id, Lease)
	if err != nil {
		return answer{}, err
	}
	if !fresh {
		if claim.State == ledger.DeliveryDone {
			return answerWith, nil
		}
		return problem(http.StatusInternalServerError, "the same delivery is being handled; try again"), nil
	}
	if err := act(delivery{key: channel + "\x00" + id, at: claim.CreatedAt}); err != nil {
		if ferr := s.Ledger.FinishDelivery(ctx, claim, false); ferr != nil {
			err = errors.Join(err, ferr)
		}
		return answer{}, err
	}
	if err := s.Ledger.FinishDelivery(ctx, claim, true); err != nil {
		return answer{}, err
	}
	return answerWith, nil
}

// delivery is the signal being acted on: what the ids of the requests it makes derive from.
type delivery struct {
	key string
	at  time.Time // when it first arrived
}

// requestID derives the id of the request a delivery makes about one subject: the same on every
// retry of the same delivery, so a retried delivery cannot make a second request.
func (d delivery) requestID(subject string) string {
	sum := sha256.Sum256([]byte("lethe-webhook\x00" + d.key + "\x00" + subject))
	return platform.NewIDFrom(d.at, bytes.NewReader(sum[:]))
}

// connection is the connection a per-connection route names, if it is of that channel. An unknown
// id cannot be verified and answers like a forged signal: 401, nothing said.
func (s *Service) connection(ctx context.Context, c *call, channel string) (platform.ChannelConnection, bool, error) {
	id := c.req.PathParameters["connectionId"]
	if id == "" || len(id) > 128 {
		return platform.ChannelConnection{}, false, nil
	}
	conn, err := s.Store.Connection(ctx, id)
	if errors.Is(err, platform.ErrNotFound) {
		return platform.ChannelConnection{}, false, nil
	}
	if err != nil {
		return platform.ChannelConnection{}, false, err
	}
	if conn.Channel != channel {
		return platform.ChannelConnection{}, false, nil
	}
	return conn, true, nil
}
