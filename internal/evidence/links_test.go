package evidence

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

// A link checks only for the act and the expiry it was signed for, with the secret it was signed
// with, and only until it expires.
func TestActLinksAreSignedAndExpire(t *testing.T) {
	l := ActLinks{Secret: []byte("a-secret-of-at-least-thirty-two-bytes")}
	now := time.Date(2026, 11, 22, 14, 0, 0, 0, time.UTC)
	exp := now.Add(ActLinkTTL)
	p := l.Path("req-01JD5-2", exp)
	u, err := url.Parse(p)
	if err != nil || u.Path != "/v1/acts/req-01JD5-2" {
		t.Fatalf("path %q (%v)", p, err)
	}
	e, sig := u.Query().Get("exp"), u.Query().Get("sig")
	if err := l.Check("req-01JD5-2", e, sig, now); err != nil {
		t.Fatalf("a fresh link: %v", err)
	}
	if err := l.Check("req-01JD5-2", e, sig, exp); !errors.Is(err, ErrLinkExpired) {
		t.Errorf("at its expiry: %v", err)
	}
	flipped := "0" + sig[1:]
	if sig[0] == '0' {
		flipped = "1" + sig[1:]
	}
	for what, c := range map[string][3]string{
		"another act":         {"req-01JD5", e, sig},
		"a later expiry":      {"req-01JD5-2", e + "0", sig},
		"a changed signature": {"req-01JD5-2", e, flipped},
		"a short signature":   {"req-01JD5-2", e, sig[:10]},
		"no signature":        {"req-01JD5-2", e, ""},
		"not hex":             {"req-01JD5-2", e, strings.Repeat("z", len(sig))},
	} {
		if err := l.Check(c[0], c[1], c[2], now); !errors.Is(err, ErrLinkInvalid) {
			t.Errorf("%s: %v, want invalid", what, err)
		}
	}
	if err := (ActLinks{Secret: []byte("another-secret-of-thirty-two-bytes!")}).Check("req-01JD5-2", e, sig, now); !errors.Is(err, ErrLinkInvalid) {
		t.Errorf("another secret: %v", err)
	}
	if err := (ActLinks{}).Check("req-01JD5-2", e, sig, now); !errors.Is(err, ErrLinkInvalid) {
		t.Errorf("no secret: %v", err)
	}
}
