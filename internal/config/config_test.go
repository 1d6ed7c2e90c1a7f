package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func full() map[string]string {
	m := LocalDefaults(3000)
	for _, n := range []string{EnvPlatformTable, EnvLedgerTable, EnvAnalyticsTable, EnvFilesBucket, EnvInboundMailBucket,
		EnvAccountDeletionMachine, EnvEndUserDeletionMachine, EnvConnectionWipeMachine, EnvEndCustomerRequestMachine} {
		m[n] = strings.ToLower(n)
	}
	return m
}

func TestLoad(t *testing.T) {
	c, err := Load(env(full()))
	if err != nil {
		t.Fatal(err)
	}
	if c.PublicBaseURL != "http://127.0.0.1:3000" || c.PlatformTable != "platform_table" || c.TTLSafetyMargin != 168*time.Hour {
		t.Errorf("unexpected config %+v", c)
	}
	if c.Policy().SafetyMargin != c.TTLSafetyMargin {
		t.Error("policy does not carry the margin")
	}
}

func TestLoadNamesEveryMissingVariable(t *testing.T) {
	m := full()
	delete(m, EnvMetaAppSecret)
	m[EnvLedgerTable] = "  "
	_, err := Load(env(m))
	if err == nil || !strings.Contains(err.Error(), EnvMetaAppSecret) || !strings.Contains(err.Error(), EnvLedgerTable) {
		t.Fatalf("want both missing names in the error, got %v", err)
	}
}

func TestLoadRejectsBadMargin(t *testing.T) {
	for _, v := range []string{"soon", "-1h", "1000h"} {
		m := full()
		m[EnvTTLSafetyMargin] = v
		if _, err := Load(env(m)); err == nil || !strings.Contains(err.Error(), EnvTTLSafetyMargin) {
			t.Errorf("margin %q: want an error naming %s, got %v", v, EnvTTLSafetyMargin, err)
		}
	}
}

func TestNamesCoverLoad(t *testing.T) {
	read := map[string]bool{}
	_, _ = Load(func(k string) string { read[k] = true; return "" })
	for _, n := range Names() {
		if !read[n] {
			t.Errorf("Names lists %s, which Load does not read", n)
		}
		delete(read, n)
	}
	for n := range read {
		t.Errorf("Load reads %s, which Names does not list", n)
	}
}

func TestTelegramAPIBaseURL(t *testing.T) {
	m := full()
	delete(m, EnvTelegramAPIBaseURL)
	c, err := Load(env(m))
	if err != nil {
		t.Fatal(err)
	}
	if c.TelegramAPIBaseURL != DefaultTelegramAPIBaseURL {
		t.Errorf("unset: got %q, want the default %q", c.TelegramAPIBaseURL, DefaultTelegramAPIBaseURL)
	}
	for v, want := range map[string]string{
		"":                          DefaultTelegramAPIBaseURL,
		"  ":                        DefaultTelegramAPIBaseURL,
		"http://127.0.0.1:8081/":    "http://127.0.0.1:8081",
		"https://tg-proxy.internal": "https://tg-proxy.internal",
	} {
		m[EnvTelegramAPIBaseURL] = v
		c, err := Load(env(m))
		if err != nil || c.TelegramAPIBaseURL != want {
			t.Errorf("%q: got %q, %v; want %q", v, c.TelegramAPIBaseURL, err, want)
		}
	}
	for _, v := range []string{"api.telegram.org", "ftp://api.telegram.org", "https://", "https://u:p@api.telegram.org", "https://api.telegram.org?x=1"} {
		m[EnvTelegramAPIBaseURL] = v
		if _, err := Load(env(m)); err == nil || !strings.Contains(err.Error(), EnvTelegramAPIBaseURL) {
			t.Errorf("%q: want an error naming %s, got %v", v, EnvTelegramAPIBaseURL, err)
		}
	}
}

// The console's sign-in settings are optional; when set, the OIDC endpoints are http(s) URLs and
// the demo sign-in is a path on the API's own origin, so config.json can point nowhere else.
func TestConsoleSignInSettings(t *testing.T) {
	c, err := Load(env(full()))
	if err != nil || c.ConsoleOIDCAuthorizeURL != "" || c.ConsoleDemoSignIn != "" {
		t.Fatalf("unset: %+v, %v", c, err)
	}
	m := full()
	m[EnvConsoleOIDCAuthorizeURL] = "https://auth.example.com/oauth2/authorize"
	m[EnvConsoleOIDCTokenURL] = "https://auth.example.com/oauth2/token"
	m[EnvConsoleOIDCClientID] = "console"
	m[EnvConsoleDemoSignIn] = "/_local/demo"
	if c, err = Load(env(m)); err != nil || c.ConsoleOIDCTokenURL != m[EnvConsoleOIDCTokenURL] || c.ConsoleOIDCClientID != "console" || c.ConsoleDemoSignIn != "/_local/demo" {
		t.Errorf("set: %+v, %v", c, err)
	}
	for name, v := range map[string]string{EnvConsoleOIDCAuthorizeURL: "javascript:alert(1)", EnvConsoleOIDCTokenURL: "auth.example.com/token",
		EnvConsoleDemoSignIn: "https://elsewhere.example.com/demo"} {
		m := full()
		m[name] = v
		if _, err := Load(env(m)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: want an error naming it, got %v", name, v, err)
		}
	}
	m = full()
	m[EnvConsoleDemoSignIn] = "//elsewhere.example.com/demo"
	if _, err := Load(env(m)); err == nil {
		t.Error("a protocol-relative demo path was taken")
	}
}
