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
