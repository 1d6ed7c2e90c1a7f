package config

import (
	"reflect"
	"strings"
	"testing"
)

// A Loader reads only the variables asked for: one a function does not use can be missing without
// failing it, and the error names only the missing variables that were asked for.
func TestLoaderReadsOnlyWhatIsAsked(t *testing.T) {
	read := map[string]bool{}
	l := NewLoader(func(k string) string { read[k] = true; return map[string]string{EnvLedgerTable: "ledger"}[k] })
	c := l.Need(EnvLedgerTable, EnvTTLSafetyMargin)
	if err := l.Err(); err != nil {
		t.Fatalf("err %v, want none: META_APP_SECRET was never asked for", err)
	}
	if c.LedgerTable != "ledger" || c.TTLSafetyMargin != loadFull().TTLSafetyMargin {
		t.Errorf("got %+v", c)
	}
	if got, want := l.Asked(), []string{EnvLedgerTable, EnvTTLSafetyMargin}; !reflect.DeepEqual(got, want) {
		t.Errorf("asked %v, want %v", got, want)
	}
	if got := len(read); got != 2 {
		t.Errorf("read %d variables, want 2: %v", got, read)
	}
	l.Need(EnvPlatformTable, EnvMetaAppSecret, EnvLedgerTable)
	err := l.Err()
	if err == nil || !strings.Contains(err.Error(), EnvPlatformTable) || !strings.Contains(err.Error(), EnvMetaAppSecret) ||
		strings.Contains(err.Error(), EnvAnalyticsTable) {
		t.Errorf("err %v, want PLATFORM_TABLE and META_APP_SECRET named, nothing never asked for", err)
	}
}

// Loaded hands out a configuration loaded whole and reads nothing.
func TestLoadedReadsNothing(t *testing.T) {
	c := loadFull()
	l := Loaded(c)
	if got := l.Need(Names()...); !reflect.DeepEqual(got, c) || l.Err() != nil || len(l.Asked()) != 0 {
		t.Errorf("got %+v, %v, asked %v", got, l.Err(), l.Asked())
	}
}

func loadFull() Config {
	c, err := Load(env(full()))
	if err != nil {
		panic(err)
	}
	return c
}
