package tgsweep_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/tgsweep"
)

const token = "5820187346:AAHk3mP9qLrT2vXz8WcYb4NsJd6FgE1uQoI"

func TestGetMeVerdicts(t *testing.T) {
	f := newFakeTelegram(t)
	c := &tgsweep.Client{BaseURL: f.URL() + "/"} // a trailing slash is tolerated
	ctx := context.Background()
	tests := []struct {
		answer      string
		verdict     tgsweep.Verdict
		status      int
		description string
	}{
		{valid, tgsweep.Valid, 200, ""},
		{revoked, tgsweep.Revoked, 401, "Unauthorized"},
		{malformed, tgsweep.Revoked, 404, "Not Found"},
	}
	for _, tt := range tests {
		t.Run(tt.answer, func(t *testing.T) {
			f.set(token, tt.answer)
			res, err := c.GetMe(ctx, token)
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict != tt.verdict || res.StatusCode != tt.status || res.Description != tt.description {
				t.Fatalf("got %+v, want %s %d %q", res, tt.verdict, tt.status, tt.description)
			}
			if res.Valid() != (tt.verdict == tgsweep.Valid) || res.Revoked() != (tt.verdict == tgsweep.Revoked) {
				t.Errorf("Valid %v Revoked %v for %s", res.Valid(), res.Revoked(), tt.verdict)
			}
			if tt.verdict == tgsweep.Valid && res.BotID != 5820187346 {
				t.Errorf("bot id %d", res.BotID)
			}
		})
	}
}

// Nothing but Telegram's own 401 or 404 is a verdict: every other answer, and no answer, is an
// error that never names the token.
func TestGetMeFailuresAreErrorsWithoutTheToken(t *testing.T) {
	f := newFakeTelegram(t)
	c := &tgsweep.Client{BaseURL: f.URL()}
	ctx := context.Background()
	for _, tt := range []struct {
		answer string
		status int
		retry  time.Duration
	}{
		{down, 500, 0},
		{busy, 429, 7 * time.Second},
		{proxy401, 401, 0},
		{gateway, 502, 0},
		{redirect, 302, 0},
		{drop, 0, 0},
	} {
		t.Run(tt.answer, func(t *testing.T) {
			f.set(token, tt.answer)
			res, err := c.GetMe(ctx, token)
			if err == nil {
				t.Fatalf("got %+v and no error", res)
			}
			if res.Verdict != 0 {
				t.Errorf("a failure gave the verdict %s", res.Verdict)
			}
			noToken(t, "the error", err.Error(), token)
			var api *tgsweep.APIError
			if tt.status == 0 {
				if errors.As(err, &api) {
					t.Errorf("a network failure is an APIError: %v", err)
				}
				return
			}
			if !errors.As(err, &api) || api.StatusCode != tt.status || api.RetryAfter != tt.retry {
				t.Fatalf("got %#v, want an APIError with HTTP %d, retry after %s", err, tt.status, tt.retry)
			}
		})
	}
}

func TestGetMeUnreachableAndSlow(t *testing.T) {
	ctx := context.Background()
	// A port nothing listens on: net/http's error names the URL, which holds the token.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = (&tgsweep.Client{BaseURL: "http://" + addr}).GetMe(ctx, token)
	if err == nil {
		t.Fatal("no error from a closed port")
	}
	noToken(t, "the error", err.Error(), token)

	// A client timeout bounds a call that hangs.
	f := newFakeTelegram(t)
	f.set(token, slow)
	start := time.Now()
	_, err = (&tgsweep.Client{BaseURL: f.URL(), HTTP: &http.Client{Timeout: 200 * time.Millisecond}}).GetMe(ctx, token)
	if err == nil || time.Since(start) > 1500*time.Millisecond {
		t.Fatalf("slow answer: err %v after %s", err, time.Since(start))
	}
	noToken(t, "the error", err.Error(), token)

	// So does the caller's context, and the error still says so.
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err = (&tgsweep.Client{BaseURL: f.URL()}).GetMe(cctx, token)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want a deadline error", err)
	}
	noToken(t, "the error", err.Error(), token)
}

func TestGetMeEscapesTheToken(t *testing.T) {
	f := newFakeTelegram(t)
	c := &tgsweep.Client{BaseURL: f.URL()}
	odd := "123:ab/../../sendMessage?chat_id=1#x"
	f.set(odd, malformed)
	res, err := c.GetMe(context.Background(), odd)
	if err != nil || !res.Revoked() {
		t.Fatalf("got %+v, %v", res, err)
	}
	if f.callsFor(odd) != 1 || len(f.other) != 0 {
		t.Fatalf("the token did not arrive as one path segment: calls %d, other requests %v", f.callsFor(odd), f.other)
	}
	if _, err := c.GetMe(context.Background(), " "); !errors.Is(err, tgsweep.ErrNoToken) {
		t.Errorf("empty token: %v", err)
	}
}
