package wiring

import (
	"strings"
	"testing"
	"time"
)

// The local run's clock offset shifts a function's clock only against a local DynamoDB; anywhere
// else it stops the function's init, and unset it leaves the wall clock.
func TestLocalClockOnlyAgainstALoopbackDynamoDB(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if now, err := localClock(env(nil)); now != nil || err != nil {
		t.Errorf("unset: a clock (%v) or %v, want the wall clock", now != nil, err)
	}
	for _, ep := range []string{"http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000"} {
		now, err := localClock(env(map[string]string{EnvLocalClockOffset: "720h", "AWS_ENDPOINT_URL_DYNAMODB": ep}))
		if err != nil || now == nil || now().Sub(time.Now()) < 719*time.Hour {
			t.Errorf("%s: %v, want the clock 720h on", ep, err)
		}
	}
	for _, ep := range []string{"", "https://dynamodb.us-east-1.amazonaws.com", "http://10.0.0.5:8000"} {
		_, err := localClock(env(map[string]string{EnvLocalClockOffset: "720h", "AWS_ENDPOINT_URL_DYNAMODB": ep}))
		if err == nil || !strings.Contains(err.Error(), EnvLocalClockOffset) {
			t.Errorf("%q: %v, want a refusal naming %s", ep, err, EnvLocalClockOffset)
		}
	}
	if _, err := localClock(env(map[string]string{EnvLocalClockOffset: "soon", "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:1"})); err == nil {
		t.Error("a malformed offset was taken")
	}
}
