// Package gateway is a local stand-in for the API Gateway HTTP API in front of Lethe's Lambda handlers.
// It routes an HTTP request as an HTTP API does, runs the route's JWT authorizer, builds the exact
// payload format 2.0 event the Lambda would receive, calls the very handler production runs, and turns
// its response back into HTTP — so `make run` exercises the handlers through the same contract, quirks
// included (base64 form bodies, comma-joined headers, string claims, ignored multiValueHeaders).
// It is never deployed.
package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/lethe-dev/lethe/internal/httpapi"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// MaxBodyBytes is the HTTP API payload quota (10 MB); a larger request is refused with 413.
const MaxBodyBytes = 10 << 20

// DefaultStage is the stage an HTTP API serves at the root of its URL.
const DefaultStage = "$default"

// Handler and Route are the production handlers' own (package httpapi): the gateway serves what
// the template deploys.
type (
	Handler = httpapi.Handler
	Route   = httpapi.Route
)

// Gateway serves Routes as an HTTP API would. Set the fields before the first request; routes are
// compiled once.
type Gateway struct {
	Routes     []Route
	Authorizer Authorizer
	APIID      string // the API id reported in requestContext.apiId
	Stage      string // DefaultStage when empty; a named stage is a path prefix, as in AWS
	AccountID  string
	Now        func() time.Time // the request time in the event; time.Now when nil
	Log        *slog.Logger     // where handler failures are reported; slog.Default when nil

	once     sync.Once
	compiled []route
	err      error
}

// Validate compiles the routes and reports what API Gateway would refuse to deploy.
func (g *Gateway) Validate() error {
	g.once.Do(func() { g.compiled, g.err = compileRoutes(g.Routes) })
	return g.err
}

// ServeHTTP answers one request the way the HTTP API would.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	// API Gateway stamps every answer, its own errors included, with the request id.
	w.Header().Set("Apigw-Requestid", reqID)
	log := g.Log
	if log == nil {
		log = slog.Default()
	}
	if err := g.Validate(); err != nil {
		log.Error("gateway routes are invalid", "err", err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeMessage(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
			return
		}
		writeMessage(w, http.StatusBadRequest, "Bad Request")
		return
	}

	stage := g.Stage
	if stage == "" {
		stage = DefaultStage
	}
	rawPath := decodePath(r.URL.EscapedPath())
	routePath, ok := stripStage(rawPath, stage)
	if !ok {
		writeMessage(w, http.StatusNotFound, "Not Found")
		return
	}
	rt, params := g.match(r.Method, routePath)
	if rt == nil {
		// An HTTP API has no 405: a method no route names is simply an unmatched route.
		writeMessage(w, http.StatusNotFound, "Not Found")
		return
	}

	var authz *events.APIGatewayV2HTTPRequestContextAuthorizerDescription
	if rt.Auth {
		if g.Authorizer == nil {
			log.Error("route has the JWT authorizer but the gateway has none", "route", rt.key)
			writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
			return
		}
		tok, err := bearerToken(r.Header.Get("Authorization"))
		if err != nil {
			writeMessage(w, http.StatusUnauthorized, "Unauthorized")
			return
		}
		claims, err := g.Authorizer.Verify(tok)
		if err != nil {
			// The wording after error_description is the verifier's, not AWS's.
			w.Header().Set("Www-Authenticate", fmt.Sprintf(`Bearer scope="" error="invalid_token" error_description=%q`, err.Error()))
			writeMessage(w, http.StatusUnauthorized, "Unauthorized")
			return
		}
		jwt := &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims}
		if len(rt.Scopes) > 0 {
			have := tokenScopes(claims)
			if !anyIn(rt.Scopes, have) {
				writeMessage(w, http.StatusForbidden, "Forbidden")
				return
			}
			jwt.Scopes = have
		}
		authz = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: jwt}
	}

	ev, err := g.event(r, reqID, stage, rawPath, rt, params, body, authz)
	if err != nil {
		log.Error("build the payload 2.0 event", "route", rt.key, "requestId", reqID, "err", err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	res, err := invoke(r.Context(), rt.Handler, ev)
	if err != nil {
		// A function error reaches the client as API Gateway's generic 500; the detail stays in the log.
		log.Error("handler failed", "route", rt.key, "requestId", reqID, "err", err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	if err := writeResponse(w, res); err != nil {
		log.Error("handler returned a response API Gateway cannot use", "route", rt.key, "requestId", reqID, "err", err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
	}
}

// match picks the most specific route that fits.
func (g *Gateway) match(method, path string) (*route, map[string]string) {
	var best *route
	var bestParams map[string]string
	for i := range g.compiled {
		rt := &g.compiled[i]
		params, ok := rt.match(method, path)
		if ok && (best == nil || moreSpecific(rt, best)) {
			best, bestParams = rt, params
		}
	}
	return best, bestParams
}

// stripStage removes a named stage's path prefix; the $default stage has none.
func stripStage(path, stage string) (string, bool) {
	if stage == DefaultStage {
		return path, true
	}
	prefix := "/" + stage
	switch {
	case path == prefix:
		return "/", true
	case strings.HasPrefix(path, prefix+"/"):
		return path[len(prefix):], true
	}
	return "", false
}

// invoke calls the handler as the Lambda runtime would: a panic is a function error, not a crash.
func invoke(ctx context.Context, h Handler, ev events.APIGatewayV2HTTPRequest) (res events.APIGatewayV2HTTPResponse, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return h(ctx, ev)
}

// event builds the payload format 2.0 event for a request.
func (g *Gateway) event(r *http.Request, reqID, stage, rawPath string, rt *route, params map[string]string, body []byte, authz *events.APIGatewayV2HTTPRequestContextAuthorizerDescription) (events.APIGatewayV2HTTPRequest, error) {
	now := time.Now
	if g.Now != nil {
		now = g.Now
	}
	t := now().UTC()
	sourceIP := r.RemoteAddr
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		sourceIP = host
	}
	domain := r.Host
	if host, _, err := net.SplitHostPort(r.Host); err == nil {
		domain = host
	}

	headers, cookies := eventHeaders(r, sourceIP, t)

	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              rt.key,
		RawPath:               rawPath,
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: queryParameters(r.URL.RawQuery),
		PathParameters:        params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     rt.key,
			AccountID:    g.AccountID,
			Stage:        stage,
			RequestID:    reqID,
			Authorizer:   authz,
			APIID:        g.APIID,
			DomainName:   domain,
			DomainPrefix: strings.SplitN(domain, ".", 2)[0],
			Time:         t.Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    t.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      rawPath,
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if textual(r.Header.Get("Content-Type")) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	// The Lambda receives JSON, not a Go value: a round trip hands the handler exactly what the
	// runtime would decode (absent fields, invalid UTF-8 replaced).
	b, err := json.Marshal(ev)
	if err != nil {
		return events.APIGatewayV2HTTPRequest{}, err
	}
	var out events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &out); err != nil {
		return events.APIGatewayV2HTTPRequest{}, err
	}
	return out, nil
}

// eventHeaders renders request headers as payload 2.0 does: names lower-cased, repeated headers joined
// with commas, Cookie headers moved to the cookies list, and the headers API Gateway adds itself.
func eventHeaders(r *http.Request, sourceIP string, t time.Time) (map[string]string, []string) {
	headers := map[string]string{}
	var cookies []string
	for name, values := range r.Header {
		lname := strings.ToLower(name)
		if lname == "cookie" {
			for _, v := range values {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[lname] = strings.Join(values, ",")
	}
	// Go keeps Host out of r.Header; API Gateway forwards it.
	headers["host"] = r.Host
	if xff := headers["x-forwarded-for"]; xff != "" {
		headers["x-forwarded-for"] = xff + ", " + sourceIP
	} else {
		headers["x-forwarded-for"] = sourceIP
	}
	proto, port := "http", "80"
	if r.TLS != nil {
		proto, port = "https", "443"
	}
	if addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, p, err := net.SplitHostPort(addr.String()); err == nil {
			port = p
		}
	}
	headers["x-forwarded-proto"] = proto
	headers["x-forwarded-port"] = port
	headers["x-amzn-trace-id"] = traceID(t)
	return headers, cookies
}

// queryParameters decodes the query string, joining repeated names with commas as payload 2.0 does;
// nil when there is none, since API Gateway then leaves the field out.
func queryParameters(raw string) map[string]string {
	if raw == "" {
		return nil
	}
	// A malformed pair is dropped and the rest kept, as lenient as a gateway has to be.
	values, _ := url.ParseQuery(raw)
	if len(values) == 0 {
		return nil
	}
	out := make(map[string]string, len(values))
	for k, v := range values {
		out[k] = strings.Join(v, ",")
	}
	return out
}

// textual reports whether API Gateway passes a body of this content type as a plain string. Only
// text/*, application/json, application/xml and application/javascript are; everything else — no
// content type, application/x-www-form-urlencoded, multipart, application/*+json — arrives base64.
func textual(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]))
	}
	switch {
	case strings.HasPrefix(mt, "text/"):
		return true
	case mt == "application/json", mt == "application/xml", mt == "application/javascript":
		return true
	}
	return false
}

// writeResponse turns a payload 2.0 response into HTTP. multiValueHeaders is not part of the 2.0
// response format and API Gateway ignores it, so it is ignored here too; cookies become one Set-Cookie
// each, ahead of any Set-Cookie in headers.
func writeResponse(w http.ResponseWriter, res events.APIGatewayV2HTTPResponse) error {
	if res.StatusCode < 100 || res.StatusCode > 599 {
		return fmt.Errorf("status code %d", res.StatusCode)
	}
	body := []byte(res.Body)
	if res.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(res.Body)
		if err != nil {
			return fmt.Errorf("base64 body: %w", err)
		}
		body = b
	}
	h := w.Header()
	for _, c := range res.Cookies {
		h.Add("Set-Cookie", c)
	}
	names := make([]string, 0, len(res.Headers))
	for k := range res.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if strings.EqualFold(k, "set-cookie") {
			h.Add("Set-Cookie", res.Headers[k])
			continue
		}
		h.Set(k, res.Headers[k])
	}
	if _, ok := h["Content-Type"]; !ok {
		// Say nothing the handler did not say: stop net/http from sniffing a content type.
		h["Content-Type"] = nil
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(res.StatusCode)
	_, _ = w.Write(body)
	return nil
}

// writeMessage answers with API Gateway's own error shape, {"message": "..."}.
func writeMessage(w http.ResponseWriter, code int, message string) {
	b, _ := json.Marshal(map[string]string{"message": message})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// newRequestID makes an id shaped like an HTTP API's: 16 base64 characters.
func newRequestID() string {
	b := make([]byte, 11)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// traceID makes an X-Ray trace header value like the one API Gateway adds: Root=1-<epoch hex>-<96 bits>.
func traceID(t time.Time) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return fmt.Sprintf("Root=1-%08x-%s", t.Unix(), hex.EncodeToString(b))
}

func anyIn(want, have []string) bool {
	for _, w := range want {
		for _, h := range have {
			if w == h {
				return true
			}
		}
	}
	return false
}
