package localauth

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMintVerify(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	iss, err := New("http://127.0.0.1:3000/_local", "lethe-dashboard", clock)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := iss.Mint("sub-1", "acc-1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, err := iss.Verify(tok)
	if err != nil || c.Subject != "sub-1" || c.AccountID != "acc-1" {
		t.Fatalf("Verify = %+v, %v", c, err)
	}

	other, _ := New("http://127.0.0.1:3000/_local", "lethe-dashboard", clock)
	wrongAud, _ := New("http://127.0.0.1:3000/_local", "someone-else", clock)
	wrongIss, _ := New("https://evil.example", "lethe-dashboard", clock)
	forged, _ := other.Mint("sub-1", "acc-1", time.Hour)
	parts := strings.Split(tok, ".")
	tampered := parts[0] + "." + strings.TrimRight(parts[1], "=") + "x." + parts[2]
	for name, bad := range map[string]string{"other key": forged, "tampered": tampered, "garbage": "a.b.c"} {
		if _, err := iss.Verify(bad); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
	// Same key but wrong audience or issuer: mint with our key and other claims.
	wrongAud.key, wrongIss.key = iss.key, iss.key
	badAud, _ := wrongAud.Mint("sub-1", "acc-1", time.Hour)
	badIss, _ := wrongIss.Mint("sub-1", "acc-1", time.Hour)
	for name, bad := range map[string]string{"audience": badAud, "issuer": badIss} {
		if _, err := iss.Verify(bad); err == nil {
			t.Errorf("wrong %s: verified", name)
		}
	}
	now = now.Add(2 * time.Hour)
	if _, err := iss.Verify(tok); err == nil {
		t.Error("expired token verified")
	}
	if _, err := iss.Mint("", "acc", time.Hour); err == nil {
		t.Error("minted a token without sub")
	}
}

func TestKeyPersistsAcrossRestarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.pem")
	a, err := LoadOrCreate(path, "i", "a", nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := a.Mint("s", "acc", time.Hour)
	b, err := LoadOrCreate(path, "i", "a", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Verify(tok); err != nil {
		t.Fatalf("token from before the restart: %v", err)
	}
}
