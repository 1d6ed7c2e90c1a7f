package gateway

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lethe-dev/lethe/internal/local/localauth"
)

const (
	testIssuer   = "http://127.0.0.1:3000/_local"
	testAudience = "lethe-dashboard"
)

var testNow = time.Date(2026, 11, 22, 13, 10, 0, 0, time.UTC)

// recorder is a handler that hands every event it gets to the test and answers with res.
func recorder(res events.APIGatewayV2HTTPResponse) (Handler, <-chan events.APIGatewayV2HTTPRequest) {
	ch := make(chan events.APIGatewayV2HTTPRequest, 16)
	return func(_ context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		ch <- req
		return res, nil
	}, ch
}

type result struct {
	status int
	header http.Header
	body   []byte
}

func call(t *testing.T, srv *httptest.Server, method, path string, header http.Header, body []byte) result {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: b}
}

// received returns the event the handler got, or fails when it was not called.
func received(t *testing.T, ch <-chan events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPRequest {
	t.Helper()
	select {
	case ev := <-ch:
		return ev
	default:
		t.Fatal("handler was not called")
		return events.APIGatewayV2HTTPRequest{}
	}
}

func notCalled(t *testing.T, ch <-chan events.APIGatewayV2HTTPRequest) {
	t.Helper()
	select {
	case ev := <-ch:
		t.Fatalf("handler was called with %s", ev.RouteKey)
	default:
	}
}

func wantMessage(t *testing.T, r result, status int, message string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d (body %s)", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if want := `{"message":"` + message + `"}`; string(r.body) != want {
		t.Errorf("body = %s, want %s", r.body, want)
	}
	if r.header.Get("Apigw-Requestid") == "" {
		t.Error("no apigw-requestid header")
	}
}

func TestEventShape(t *testing.T) {
	h, evs := recorder(events.APIGatewayV2HTTPResponse{StatusCode: 200})
	g := &Gateway{
		Routes: []Route{
			{Method: "GET", Path: "/v1/bots/{botId}/end-users/{endUserId}", Handler: h},
			{Method: "POST", Path: "/webhooks/meta/data-deletion", Handler: h},
		},
		APIID: "lethelocal", AccountID: "123456789012", Now: func() time.Time { return testNow },
	}
	srv := httptest.NewServer(g)
	defer srv.Close()

	binary := []byte{0x00, 0xff, 0xfe, 0x01, '\n', 0x80}
	form := []byte("signed_request=YWJj.eyJ1c2VyX2lkIjoiMSJ9&x=%D0%B1")
	cases := []struct {
		name        string
		method      string
		path        string
		header      http.Header
		body        []byte
		check       func(t *testing.T, ev events.APIGatewayV2HTTPRequest)
		wantBody    []byte // the bytes the handler must recover from body
		wantBase64  bool
		wantNoQuery bool
	}{
		{
			name:   "GET with Cyrillic path parameters and repeated query names",
			method: "GET",
			path:   "/v1/bots/%D0%B1%D0%BE%D1%82-1/end-users/%D0%98%D0%B2%D0%B0%D0%BD%20%D0%9F?name=%D0%98%D0%B2%D0%B0%D0%BD&x=1&x=2&empty=&plus=a+b",
			check: func(t *testing.T, ev events.APIGatewayV2HTTPRequest) {
				if ev.RouteKey != "GET /v1/bots/{botId}/end-users/{endUserId}" || ev.RequestContext.RouteKey != ev.RouteKey {
					t.Errorf("routeKey = %q / %q", ev.RouteKey, ev.RequestContext.RouteKey)
				}
				if want := map[string]string{"botId": "бот-1", "endUserId": "Иван П"}; !reflect.DeepEqual(ev.PathParameters, want) {
					t.Errorf("pathParameters = %v, want %v", ev.PathParameters, want)
				}
				if want := "/v1/bots/бот-1/end-users/Иван П"; ev.RawPath != want || ev.RequestContext.HTTP.Path != want {
					t.Errorf("rawPath = %q, http.path = %q, want %q", ev.RawPath, ev.RequestContext.HTTP.Path, want)
				}
				if want := "name=%D0%98%D0%B2%D0%B0%D0%BD&x=1&x=2&empty=&plus=a+b"; ev.RawQueryString != want {
					t.Errorf("rawQueryString = %q, want %q", ev.RawQueryString, want)
				}
				want := map[string]string{"name": "Иван", "x": "1,2", "empty": "", "plus": "a b"}
				if !reflect.DeepEqual(ev.QueryStringParameters, want) {
					t.Errorf("queryStringParameters = %v, want %v", ev.QueryStringParameters, want)
				}
			},
		},
		{
			name:   "JSON POST arrives as a plain string",
			method: "POST", path: "/webhooks/meta/data-deletion",
			header: http.Header{"Content-Type": {"application/json; charset=utf-8"}},
			body:   []byte(`{"name":"Иван"}`), wantBody: []byte(`{"name":"Иван"}`),
			wantNoQuery: true,
		},
		{
			name:   "form POST arrives base64-encoded",
			method: "POST", path: "/webhooks/meta/data-deletion",
			header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
			body:   form, wantBody: form, wantBase64: true, wantNoQuery: true,
		},
		{
			name:   "binary body arrives base64-encoded",
			method: "POST", path: "/webhooks/meta/data-deletion",
			header: http.Header{"Content-Type": {"application/octet-stream"}},
			body:   binary, wantBody: binary, wantBase64: true, wantNoQuery: true,
		},
		{
			name:   "a body without a content type arrives base64-encoded",
			method: "POST", path: "/webhooks/meta/data-deletion",
			body: []byte("hello"), wantBody: []byte("hello"), wantBase64: true, wantNoQuery: true,
		},
		{
			name:   "application/*+json is not on API Gateway's text list",
			method: "POST", path: "/webhooks/meta/data-deletion",
			header: http.Header{"Content-Type": {"application/problem+json"}},
			body:   []byte(`{}`), wantBody: []byte(`{}`), wantBase64: true, wantNoQuery: true,
		},
		{
			name:   "text/plain arrives as a plain string",
			method: "POST", path: "/webhooks/meta/data-deletion",
			header: http.Header{"Content-Type": {"Text/Plain; charset=utf-8"}},
			body:   []byte("ok"), wantBody: []byte("ok"), wantNoQuery: true,
		},
		{
			name:   "headers lower-cased and joined, cookies moved out of headers",
			method: "POST", path: "/webhooks/meta/data-deletion",
			header: http.Header{
				"X-Hub-Signature-256": {"sha256=abc"},
				"X-Repeated":          {"a", "b"},
				"Cookie":              {"session=1; theme=dark", "lang=ru"},
				"User-Agent":          {"lethe-test/1"},
				"X-Forwarded-For":     {"203.0.113.9"},
			},
			wantNoQuery: true,
			check: func(t *testing.T, ev events.APIGatewayV2HTTPRequest) {
				for name, want := range map[string]string{
					"x-hub-signature-256": "sha256=abc",
					"x-repeated":          "a,b",
					"user-agent":          "lethe-test/1",
					"host":                strings.TrimPrefix(srv.URL, "http://"),
					"x-forwarded-for":     "203.0.113.9, 127.0.0.1",
					"x-forwarded-proto":   "http",
				} {
					if got := ev.Headers[name]; got != want {
						t.Errorf("headers[%s] = %q, want %q", name, got, want)
					}
				}
				for name := range ev.Headers {
					if name != strings.ToLower(name) {
						t.Errorf("header %q is not lower case", name)
					}
				}
				if _, ok := ev.Headers["cookie"]; ok {
					t.Error("cookie left in headers")
				}
				if want := []string{"session=1", "theme=dark", "lang=ru"}; !reflect.DeepEqual(ev.Cookies, want) {
					t.Errorf("cookies = %q, want %q", ev.Cookies, want)
				}
				if !regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$`).MatchString(ev.Headers["x-amzn-trace-id"]) {
					t.Errorf("x-amzn-trace-id = %q", ev.Headers["x-amzn-trace-id"])
				}
				if ev.RequestContext.HTTP.UserAgent != "lethe-test/1" {
					t.Errorf("http.userAgent = %q", ev.RequestContext.HTTP.UserAgent)
				}
			},
		},
	}
	seenIDs := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, srv, tc.method, tc.path, tc.header, tc.body)
			if r.status != http.StatusOK {
				t.Fatalf("status = %d, body %s", r.status, r.body)
			}
			ev := received(t, evs)

			// What every event carries, whatever the request.
			rc := ev.RequestContext
			if ev.Version != "2.0" || rc.Stage != "$default" || rc.APIID != "lethelocal" || rc.AccountID != "123456789012" {
				t.Errorf("version/stage/apiId/accountId = %q %q %q %q", ev.Version, rc.Stage, rc.APIID, rc.AccountID)
			}
			if rc.HTTP.Method != tc.method || rc.HTTP.Protocol != "HTTP/1.1" || rc.HTTP.SourceIP != "127.0.0.1" {
				t.Errorf("http = %+v", rc.HTTP)
			}
			if rc.Time != "22/Nov/2026:13:10:00 +0000" || rc.TimeEpoch != testNow.UnixMilli() {
				t.Errorf("time = %q, timeEpoch = %d", rc.Time, rc.TimeEpoch)
			}
			if rc.DomainName != "127.0.0.1" || rc.DomainPrefix != "127" {
				t.Errorf("domainName = %q, domainPrefix = %q", rc.DomainName, rc.DomainPrefix)
			}
			if len(rc.RequestID) != 16 || seenIDs[rc.RequestID] || r.header.Get("Apigw-Requestid") != rc.RequestID {
				t.Errorf("requestId = %q (header %q), not a fresh 16-character id", rc.RequestID, r.header.Get("Apigw-Requestid"))
			}
			seenIDs[rc.RequestID] = true
			if rc.Authorizer != nil {
				t.Errorf("authorizer = %+v on a route without one", rc.Authorizer)
			}
			if tc.wantNoQuery && (ev.QueryStringParameters != nil || ev.RawQueryString != "") {
				t.Errorf("query = %q %v, want none", ev.RawQueryString, ev.QueryStringParameters)
			}

			if ev.IsBase64Encoded != tc.wantBase64 {
				t.Errorf("isBase64Encoded = %v, want %v", ev.IsBase64Encoded, tc.wantBase64)
			}
			got := []byte(ev.Body)
			if ev.IsBase64Encoded {
				var err error
				if got, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
					t.Fatalf("body is not base64: %v", err)
				}
			}
			if !bytes.Equal(got, tc.wantBody) {
				t.Errorf("body = %q, want %q", got, tc.wantBody)
			}
			if tc.check != nil {
				tc.check(t, ev)
			}
		})
	}
}

// The event a handler gets must be what the Lambda runtime decodes from AWS's JSON, so a handler that
// reads the JSON sample in events/ and one that runs here see the same thing.
func TestEventSurvivesJSON(t *testing.T) {
	h, ch := recorder(events.APIGatewayV2HTTPResponse{StatusCode: 204})
	g := &Gateway{Routes: []Route{{Method: "GET", Path: "/deletion-status/{confirmationCode}", Handler: h}}, Now: func() time.Time { return testNow }}
	srv := httptest.NewServer(g)
	defer srv.Close()
	call(t, srv, "GET", "/deletion-status/abc", nil, nil)
	ev := received(t, ch)
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var generic map[string]any
	if err := json.Unmarshal(b, &generic); err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{"body", "queryStringParameters", "cookies"} {
		if _, ok := generic[absent]; ok {
			t.Errorf("%s present in a bodyless, query-less, cookie-less event", absent)
		}
	}
	if generic["isBase64Encoded"] != false {
		t.Errorf("isBase64Encoded = %v, want false", generic["isBase64Encoded"])
	}
}

func TestRouting(t *testing.T) {
	h := func(_ context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: req.RouteKey, Headers: map[string]string{"Content-Type": "text/plain"}}, nil
	}
	routes := []Route{
		{Method: "GET", Path: "/v1/bots/{botId}/end-users", Handler: h},
		{Method: "GET", Path: "/v1/bots/special/end-users", Handler: h},
		{Method: "DELETE", Path: "/v1/bots/{botId}/end-users/{endUserId}", Handler: h},
		{Method: "ANY", Path: "/webhooks/{proxy+}", Handler: h},
		{Method: "POST", Path: "/webhooks/slack/events", Handler: h},
		{Method: "GET", Path: "/webhooks/whatsapp", Handler: h},
		{Method: "ANY", Path: "/webhooks/whatsapp", Handler: h},
		{Method: "POST", Path: "/webhooks/{proxy+}", Handler: h},
	}
	cases := []struct {
		method, path string
		wantRoute    string // "" = 404
	}{
		{"GET", "/v1/bots/b1/end-users", "GET /v1/bots/{botId}/end-users"},
		{"GET", "/v1/bots/special/end-users", "GET /v1/bots/special/end-users"},
		{"DELETE", "/v1/bots/b1/end-users/u1", "DELETE /v1/bots/{botId}/end-users/{endUserId}"},
		{"POST", "/webhooks/slack/events", "POST /webhooks/slack/events"},
		{"GET", "/webhooks/whatsapp", "GET /webhooks/whatsapp"},
		{"POST", "/webhooks/whatsapp", "ANY /webhooks/whatsapp"},
		{"PUT", "/webhooks/telegram/c1", "ANY /webhooks/{proxy+}"},
		{"POST", "/webhooks/telegram/c1", "POST /webhooks/{proxy+}"},
		{"GET", "/webhooks/a/b/c", "ANY /webhooks/{proxy+}"},
		// An HTTP API has no 405: the wrong method is an unmatched route.
		{"POST", "/v1/bots/b1/end-users", ""},
		{"GET", "/v1/bots/b1/end-users/u1", ""},
		{"GET", "/v1/bots/b1/end-users/", ""},
		{"GET", "/v1/bots//end-users", ""},
		{"GET", "/webhooks", ""},
		{"GET", "/webhooks/", ""},
		{"GET", "/nowhere", ""},
		{"GET", "/V1/bots/b1/end-users", ""},
	}
	g := &Gateway{Routes: routes}
	srv := httptest.NewServer(g)
	defer srv.Close()
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := call(t, srv, tc.method, tc.path, nil, nil)
			if tc.wantRoute == "" {
				wantMessage(t, r, http.StatusNotFound, "Not Found")
				return
			}
			if r.status != 200 || string(r.body) != tc.wantRoute {
				t.Errorf("got %d %q, want route %q", r.status, r.body, tc.wantRoute)
			}
		})
	}

	// Parameter values, greedy included.
	h2, ch := recorder(events.APIGatewayV2HTTPResponse{StatusCode: 200})
	g2 := &Gateway{Routes: []Route{{Method: "ANY", Path: "/files/{bucket}/{key+}", Handler: h2}}}
	srv2 := httptest.NewServer(g2)
	defer srv2.Close()
	call(t, srv2, "GET", "/files/b%C3%BC/a/b%20c/d.txt", nil, nil)
	if got, want := received(t, ch).PathParameters, map[string]string{"bucket": "bü", "key": "a/b c/d.txt"}; !reflect.DeepEqual(got, want) {
		t.Errorf("pathParameters = %v, want %v", got, want)
	}
}

func TestNamedStage(t *testing.T) {
	h, ch := recorder(events.APIGatewayV2HTTPResponse{StatusCode: 200})
	g := &Gateway{Stage: "dev", Routes: []Route{{Method: "GET", Path: "/v1/deletion-requests/{id}", Handler: h}}}
	srv := httptest.NewServer(g)
	defer srv.Close()
	if r := call(t, srv, "GET", "/dev/v1/deletion-requests/r1", nil, nil); r.status != 200 {
		t.Fatalf("status = %d", r.status)
	}
	ev := received(t, ch)
	if ev.RawPath != "/dev/v1/deletion-requests/r1" || ev.RequestContext.Stage != "dev" || ev.PathParameters["id"] != "r1" {
		t.Errorf("rawPath = %q, stage = %q, params = %v", ev.RawPath, ev.RequestContext.Stage, ev.PathParameters)
	}
	wantMessage(t, call(t, srv, "GET", "/v1/deletion-requests/r1", nil, nil), http.StatusNotFound, "Not Found")
}

func TestDecodePath(t *testing.T) {
	for in, want := range map[string]string{
		"/plain":              "/plain",
		"/%D0%B1%D0%BE%D1%82": "/бот",
		"/a%20b":              "/a b",
		"/a%252Eb":            "/a%252Eb", // %25 stays, so nothing decodes twice
		"/a%2":                "/a%2",
		"/a%zz":               "/a%zz",
	} {
		if got := decodePath(in); got != want {
			t.Errorf("decodePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidate(t *testing.T) {
	h, _ := recorder(events.APIGatewayV2HTTPResponse{StatusCode: 200})
	bad := map[string][]Route{
		"greedy not last":  {{Method: "GET", Path: "/a/{p+}/b", Handler: h}},
		"no leading slash": {{Method: "GET", Path: "a", Handler: h}},
		"duplicate key":    {{Method: "GET", Path: "/a", Handler: h}, {Method: "get", Path: "/a", Handler: h}},
		"duplicate param":  {{Method: "GET", Path: "/{a}/{a}", Handler: h}},
		"mixed segment":    {{Method: "GET", Path: "/a{b}", Handler: h}},
		"empty variable":   {{Method: "GET", Path: "/{}", Handler: h}},
		"no handler":       {{Method: "GET", Path: "/a"}},
		"no method":        {{Path: "/a", Handler: h}},
	}
	for name, routes := range bad {
		t.Run(name, func(t *testing.T) {
			g := &Gateway{Routes: routes}
			if err := g.Validate(); err == nil {
				t.Fatal("Validate accepted it")
			}
			rec := httptest.NewRecorder()
			g.ServeHTTP(rec, httptest.NewRequest("GET", "/a", nil))
			if rec.Code != http.StatusInternalServerError {
				t.Errorf("status = %d, want 500", rec.Code)
			}
		})
	}
	good := &Gateway{Routes: []Route{{Method: "GET", Path: "/a/{b}/{c+}", Handler: h}, {Method: "ANY", Path: "/a/{b}/{c+}", Handler: h}}}
	if err := good.Validate(); err != nil {
		t.Errorf("Validate(good) = %v", err)
	}
}

// authFixture is an issuer, a second issuer sharing its key but claiming another issuer or audience,
// and a gateway with one authorized route.
type authFixture struct {
	iss      *localauth.Issuer
	setClock func(time.Time)
	srv      *httptest.Server
	events   <-chan events.APIGatewayV2HTTPRequest
	tokens   map[string]string
}

func newAuthFixture(t *testing.T) *authFixture {
	t.Helper()
	now := testNow
	clock := func() time.Time { return now }
	keyPath := filepath.Join(t.TempDir(), "jwt.pem")
	iss, err := localauth.LoadOrCreate(keyPath, testIssuer, testAudience, clock)
	if err != nil {
		t.Fatal(err)
	}
	// Same key, other claims: only the claim checks can tell these apart.
	wrongAud, err := localauth.LoadOrCreate(keyPath, testIssuer, "someone-else", clock)
	if err != nil {
		t.Fatal(err)
	}
	wrongIss, err := localauth.LoadOrCreate(keyPath, "https://evil.example", testAudience, clock)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := localauth.New(testIssuer, testAudience, clock)
	if err != nil {
		t.Fatal(err)
	}
	mint := func(i *localauth.Issuer) string {
		tok, err := i.Mint("user-1", "acc-1", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tokens := map[string]string{
		"valid":        mint(iss),
		"other key":    mint(otherKey),
		"wrong aud":    mint(wrongAud),
		"wrong issuer": mint(wrongIss),
	}
	now = testNow.Add(-2 * time.Hour)
	tokens["expired"] = mint(iss)
	now = testNow.Add(time.Hour)
	tokens["not yet valid"] = mint(iss)
	now = testNow

	parts := strings.Split(tokens["valid"], ".")
	tokens["tampered"] = parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin","account_id":"acc-2"}`)) + "." + parts[2]

	h, ch := recorder(events.APIGatewayV2HTTPResponse{StatusCode: 200})
	g := &Gateway{
		Routes: []Route{
			{Method: "GET", Path: "/v1/account/deletion", Auth: true, Handler: h},
			{Method: "GET", Path: "/deletion-status/{code}", Handler: h},
		},
		Authorizer: JWTAuthorizer(iss),
	}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return &authFixture{iss: iss, setClock: func(t time.Time) { now = t }, srv: srv, events: ch, tokens: tokens}
}

func TestAuthorizerRefuses(t *testing.T) {
	f := newAuthFixture(t)
	cases := map[string]http.Header{
		"no header":       nil,
		"empty bearer":    {"Authorization": {"Bearer "}},
		"garbage":         {"Authorization": {"Bearer a.b.c"}},
		"another key":     {"Authorization": {"Bearer " + f.tokens["other key"]}},
		"tampered claims": {"Authorization": {"Bearer " + f.tokens["tampered"]}},
		"expired":         {"Authorization": {"Bearer " + f.tokens["expired"]}},
		"not yet valid":   {"Authorization": {"Bearer " + f.tokens["not yet valid"]}},
		"wrong audience":  {"Authorization": {"Bearer " + f.tokens["wrong aud"]}},
		"wrong issuer":    {"Authorization": {"Bearer " + f.tokens["wrong issuer"]}},
		"other scheme":    {"Authorization": {"Basic " + f.tokens["valid"]}},
	}
	for name, header := range cases {
		t.Run(name, func(t *testing.T) {
			r := call(t, f.srv, "GET", "/v1/account/deletion", header, nil)
			wantMessage(t, r, http.StatusUnauthorized, "Unauthorized")
			notCalled(t, f.events)
		})
	}
}

func TestAuthorizerPassesClaims(t *testing.T) {
	f := newAuthFixture(t)
	for name, value := range map[string]string{
		"bearer":     "Bearer " + f.tokens["valid"],
		"lower case": "bearer " + f.tokens["valid"],
		"bare token": f.tokens["valid"], // the identity source may hold the token alone
	} {
		t.Run(name, func(t *testing.T) {
			r := call(t, f.srv, "GET", "/v1/account/deletion", http.Header{"Authorization": {value}}, nil)
			if r.status != 200 {
				t.Fatalf("status = %d, body %s", r.status, r.body)
			}
			ev := received(t, f.events)
			if ev.RequestContext.Authorizer == nil || ev.RequestContext.Authorizer.JWT == nil {
				t.Fatal("no requestContext.authorizer.jwt")
			}
			jwt := ev.RequestContext.Authorizer.JWT
			want := map[string]string{
				"sub":        "user-1",
				"account_id": "acc-1",
				"iss":        testIssuer,
				"aud":        "[" + testAudience + "]",
				"iat":        "1795353000",
				"nbf":        "1795352940",
				"exp":        "1795356600",
			}
			if !reflect.DeepEqual(jwt.Claims, want) {
				t.Errorf("claims = %v\nwant     %v", jwt.Claims, want)
			}
			if jwt.Scopes != nil {
				t.Errorf("scopes = %v on a route without authorization scopes", jwt.Scopes)
			}
			if ev.Headers["authorization"] != value {
				t.Errorf("authorization header = %q, want it forwarded", ev.Headers["authorization"])
			}
		})
	}

	// A public route ignores tokens, even bad ones.
	r := call(t, f.srv, "GET", "/deletion-status/c1", http.Header{"Authorization": {"Bearer junk"}}, nil)
	if r.status != 200 {
		t.Fatalf("public route: status %d", r.status)
	}
	if ev := received(t, f.events); ev.RequestContext.Authorizer != nil {
		t.Errorf("public route got authorizer %+v", ev.RequestContext.Authorizer)
	}

	// The token expires while the gateway runs.
	f.setClock(testNow.Add(2 * time.Hour))
	wantMessage(t, call(t, f.srv, "GET", "/v1/account/deletion", http.Header{"Authorization": {"Bearer " + f.tokens["valid"]}}, nil), http.StatusUnauthorized, "Unauthorized")
	notCalled(t, f.events)
}

// fakeAuthorizer is a hand-written double: the claims it returns, or its error.
type fakeAuthorizer struct {
	claims map[string]string
	err    error
}

func (f fakeAuthorizer) Verify(string) (map[string]string, error) { return f.claims, f.err }

func TestRouteScopes(t *testing.T) {
	cases := []struct {
		name       string
		claims     map[string]string
		wantStatus int
		wantScopes []string
	}{
		{"scope claim grants", map[string]string{"sub": "u", "scope": "read lethe/admin"}, 200, []string{"lethe/admin", "read"}},
		{"scp array grants", map[string]string{"sub": "u", "scp": "[lethe/admin]"}, 200, []string{"lethe/admin"}},
		{"no matching scope", map[string]string{"sub": "u", "scope": "read"}, http.StatusForbidden, nil},
		{"no scope at all", map[string]string{"sub": "u"}, http.StatusForbidden, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, ch := recorder(events.APIGatewayV2HTTPResponse{StatusCode: 200})
			g := &Gateway{
				Routes:     []Route{{Method: "GET", Path: "/v1/activity-logs", Auth: true, Scopes: []string{"lethe/admin"}, Handler: h}},
				Authorizer: fakeAuthorizer{claims: tc.claims},
			}
			srv := httptest.NewServer(g)
			defer srv.Close()
			r := call(t, srv, "GET", "/v1/activity-logs", http.Header{"Authorization": {"Bearer t"}}, nil)
			if tc.wantStatus != 200 {
				wantMessage(t, r, tc.wantStatus, "Forbidden")
				notCalled(t, ch)
				return
			}
			ev := received(t, ch)
			if got := ev.RequestContext.Authorizer.JWT.Scopes; !reflect.DeepEqual(got, tc.wantScopes) {
				t.Errorf("scopes = %v, want %v", got, tc.wantScopes)
			}
		})
	}
}

func TestStringClaims(t *testing.T) {
	payload := `{"sub":"u1","exp":1795875000,"ratio":1.5,"admin":true,"gone":null,
		"cognito:groups":["admin","power user"],"mixed":[1,"a",false],"empty":[],
		"nested":{"b": 2, "a": "x"},"quote":"say \"hi\""}`
	got, err := stringClaims([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"sub": "u1", "exp": "1795875000", "ratio": "1.5", "admin": "true",
		"cognito:groups": "[admin power user]", "mixed": "[1 a false]", "empty": "[]",
		"nested": `{"b":2,"a":"x"}`, "quote": `say "hi"`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stringClaims =\n%v\nwant\n%v", got, want)
	}
	if _, err := stringClaims([]byte("[1]")); err == nil {
		t.Error("a payload that is not an object was accepted")
	}
}

func TestResponseTranslation(t *testing.T) {
	png := []byte{0x89, 'P', 'N', 'G', 0x00, 0xff}
	cases := []struct {
		name       string
		res        events.APIGatewayV2HTTPResponse
		err        error
		panics     bool
		wantStatus int
		wantBody   []byte
		wantHeader map[string][]string // nil slice = header must be absent
	}{
		{
			name: "status, headers and a plain body",
			res: events.APIGatewayV2HTTPResponse{StatusCode: 202, Body: `{"id":"r1"}`,
				Headers: map[string]string{"Content-Type": "application/json", "location": "/v1/deletion-requests/r1"}},
			wantStatus: 202, wantBody: []byte(`{"id":"r1"}`),
			wantHeader: map[string][]string{"Content-Type": {"application/json"}, "Location": {"/v1/deletion-requests/r1"}},
		},
		{
			name: "base64 body is decoded",
			res: events.APIGatewayV2HTTPResponse{StatusCode: 200, IsBase64Encoded: true,
				Body: base64.StdEncoding.EncodeToString(png), Headers: map[string]string{"content-type": "image/png"}},
			wantStatus: 200, wantBody: png,
			wantHeader: map[string][]string{"Content-Type": {"image/png"}},
		},
		{
			name: "multiValueHeaders is not part of payload 2.0 and is ignored",
			res: events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "ok",
				Headers:           map[string]string{"X-Single": "a,b"},
				MultiValueHeaders: map[string][]string{"X-Multi": {"a", "b"}, "X-Single": {"c"}}},
			wantStatus: 200, wantBody: []byte("ok"),
			wantHeader: map[string][]string{"X-Single": {"a,b"}, "X-Multi": nil},
		},
		{
			name: "cookies become Set-Cookie headers, before a set-cookie header",
			res: events.APIGatewayV2HTTPResponse{StatusCode: 200,
				Cookies: []string{"a=1; Path=/; HttpOnly", "b=2"}, Headers: map[string]string{"set-cookie": "c=3"}},
			wantStatus: 200, wantBody: []byte{},
			wantHeader: map[string][]string{"Set-Cookie": {"a=1; Path=/; HttpOnly", "b=2", "c=3"}},
		},
		{
			name:       "no content type is invented",
			res:        events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "<html>hello</html>"},
			wantStatus: 200, wantBody: []byte("<html>hello</html>"),
			wantHeader: map[string][]string{"Content-Type": nil},
		},
		{
			name:       "a status code of 0 is a malformed response",
			res:        events.APIGatewayV2HTTPResponse{Body: "forgot the status"},
			wantStatus: 500, wantBody: []byte(`{"message":"Internal Server Error"}`),
		},
		{
			name:       "a body flagged base64 that is not base64 is a malformed response",
			res:        events.APIGatewayV2HTTPResponse{StatusCode: 200, IsBase64Encoded: true, Body: "not base64!"},
			wantStatus: 500, wantBody: []byte(`{"message":"Internal Server Error"}`),
		},
		{
			name:       "a handler error is API Gateway's 500",
			res:        events.APIGatewayV2HTTPResponse{StatusCode: 400, Body: "ignored"},
			err:        errors.New("dynamodb: throttled"),
			wantStatus: 500, wantBody: []byte(`{"message":"Internal Server Error"}`),
			wantHeader: map[string][]string{"Content-Type": {"application/json"}},
		},
		{
			name:       "a handler panic is a function error",
			panics:     true,
			wantStatus: 500, wantBody: []byte(`{"message":"Internal Server Error"}`),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
				if tc.panics {
					panic("boom")
				}
				return tc.res, tc.err
			}
			srv := httptest.NewServer(&Gateway{Routes: []Route{{Method: "GET", Path: "/x", Handler: h}}})
			defer srv.Close()
			r := call(t, srv, "GET", "/x", nil, nil)
			if r.status != tc.wantStatus || !bytes.Equal(r.body, tc.wantBody) {
				t.Errorf("got %d %q, want %d %q", r.status, r.body, tc.wantStatus, tc.wantBody)
			}
			for name, want := range tc.wantHeader {
				got := r.header.Values(name)
				if want == nil && len(got) > 0 {
					t.Errorf("header %s = %q, want absent", name, got)
				}
				if want != nil && !reflect.DeepEqual(got, want) {
					t.Errorf("header %s = %q, want %q", name, got, want)
				}
			}
			if r.header.Get("Apigw-Requestid") == "" {
				t.Error("no apigw-requestid header")
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	h, ch := recorder(events.APIGatewayV2HTTPResponse{StatusCode: 200})
	srv := httptest.NewServer(&Gateway{Routes: []Route{{Method: "POST", Path: "/upload", Handler: h}}})
	defer srv.Close()
	ct := http.Header{"Content-Type": {"application/octet-stream"}}

	wantMessage(t, call(t, srv, "POST", "/upload", ct, make([]byte, MaxBodyBytes+1)), http.StatusRequestEntityTooLarge, "Request Entity Too Large")
	notCalled(t, ch)

	if r := call(t, srv, "POST", "/upload", ct, make([]byte, MaxBodyBytes)); r.status != 200 {
		t.Fatalf("a body of exactly the limit: status %d", r.status)
	}
	ev := received(t, ch)
	if n := base64.StdEncoding.DecodedLen(len(ev.Body)); n < MaxBodyBytes || !ev.IsBase64Encoded {
		t.Errorf("body decodes to about %d bytes (base64 %v), want %d", n, ev.IsBase64Encoded, MaxBodyBytes)
	}
}
