package tgsweep_test

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// How the fake Bot API answers getMe for a token.
const (
	valid     = "valid"     // 200 ok
	revoked   = "revoked"   // 401 Unauthorized: what Telegram answers once the owner revoked the token
	malformed = "malformed" // 404 Not Found: what Telegram answers for a token of the wrong form
	down      = "down"      // 500
	busy      = "busy"      // 429 with retry_after
	drop      = "drop"      // the connection is closed without an answer (a network failure)
	proxy401  = "proxy401"  // a 401 that is not Telegram's (an HTML page of some proxy)
	gateway   = "gateway"   // 502 HTML from a load balancer
	redirect  = "redirect"  // 302 elsewhere
	slow      = "slow"      // answers after 2 s
)

// fakeTelegram is a Bot API on 127.0.0.1 that answers getMe per token; tokens it was not told about
// are valid.
type fakeTelegram struct {
	srv *httptest.Server

	mu      sync.Mutex
	answers map[string]string
	calls   map[string]int
	other   []string // requests for anything but /bot<token>/getMe
}

func newFakeTelegram(t *testing.T) *fakeTelegram {
	t.Helper()
	f := &fakeTelegram{answers: map[string]string{}, calls: map[string]int{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewUnstartedServer(f)
	f.srv.Listener.Close()
	f.srv.Listener = l
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTelegram) URL() string { return f.srv.URL }

func (f *fakeTelegram) set(token, answer string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers[token] = answer
}

func (f *fakeTelegram) callsFor(token string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[token]
}

func (f *fakeTelegram) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The token is one escaped path segment: /bot<token>/getMe.
	seg, ok := strings.CutPrefix(r.URL.EscapedPath(), "/bot")
	seg, ok2 := strings.CutSuffix(seg, "/getMe")
	token, err := url.PathUnescape(seg)
	f.mu.Lock()
	if !ok || !ok2 || err != nil || strings.Contains(seg, "/") || r.Method != http.MethodGet {
		f.other = append(f.other, r.Method+" "+r.URL.EscapedPath())
		f.mu.Unlock()
		http.Error(w, "no such endpoint", http.StatusTeapot)
		return
	}
	f.calls[token]++
	answer := f.answers[token]
	f.mu.Unlock()

	js := func(status int, body string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
	switch answer {
	case revoked:
		js(401, `{"ok":false,"error_code":401,"description":"Unauthorized"}`)
	case malformed:
		js(404, `{"ok":false,"error_code":404,"description":"Not Found"}`)
	case down:
		js(500, `{"ok":false,"error_code":500,"description":"Internal Server Error"}`)
	case busy:
		js(429, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}`)
	case drop:
		hj, _ := w.(http.Hijacker)
		conn, _, err := hj.Hijack()
		if err == nil {
			conn.Close()
		}
	case proxy401:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(401)
		fmt.Fprint(w, "<html><body><h1>401 Authorization Required</h1></body></html>")
	case gateway:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(502)
		fmt.Fprint(w, "<html><body>502 Bad Gateway</body></html>")
	case redirect:
		http.Redirect(w, r, "http://127.0.0.1:1/elsewhere", http.StatusFound)
	case slow:
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
			return
		}
		js(200, `{"ok":true,"result":{"id":1,"is_bot":true,"first_name":"Slow"}}`)
	default:
		id, _, _ := strings.Cut(token, ":")
		if id == "" || strings.Trim(id, "0123456789") != "" {
			id = "1"
		}
		js(200, `{"ok":true,"result":{"id":`+id+`,"is_bot":true,"first_name":"Demo","username":"demo_bot","can_join_groups":true}}`)
	}
}

// logBuf collects slog output from concurrent goroutines.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// noToken fails the test when s holds a token, plain or escaped.
func noToken(t *testing.T, what, s string, tokens ...string) {
	t.Helper()
	for _, tok := range tokens {
		if tok == "" {
			continue
		}
		if strings.Contains(s, tok) || strings.Contains(s, url.PathEscape(tok)) {
			t.Errorf("%s holds a bot token:\n%s", what, s)
		}
		// The part after the colon is the secret part of a Telegram token.
		if _, secret, ok := strings.Cut(tok, ":"); ok && len(secret) >= 8 && strings.Contains(s, secret) {
			t.Errorf("%s holds the secret part of a bot token:\n%s", what, s)
		}
	}
}
