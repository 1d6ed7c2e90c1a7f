package webhooks_test

import (
	"strings"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/config"
)

// The code entry answers only an end customer's page with a pending code, through the local
// gateway (whose source address the address limit counts): an unknown page and a Meta deletion's
// page are 404, a body that is neither a form nor JSON 415, broken JSON 400, a wrong code 422 with
// the tries left; each answer as api/openapi.yaml says, and none kept in a cache.
func TestCodeEntryTakesOnlyACodeForAPendingRequest(t *testing.T) {
	w := newWorld(t)
	page := w.pendingCode(w.eng.Clock().Now())
	sr := signedRequest(w.cfg[config.EnvMetaAppSecret], map[string]any{"algorithm": "HMAC-SHA256", "issued_at": start.Unix(), "user_id": w.man.MetaASIDShared}, false)
	meta := w.sys.Webhooks.ConfirmationCode(sr)
	if r := w.do("POST", "/webhooks/meta/data-deletion", formType, metaForm(sr)); r.status != 200 {
		t.Fatalf("meta deletion: %d %s", r.status, r.body)
	}
	at := func(p string) string { return "/deletion-status/" + p + "/verification" }
	tests := []struct {
		name, path, contentType, body string
		status                        int
		says                          string
	}{
		{"an unknown page, JSON", at(strings.Repeat("a", 32)), "application/json", `{"code":"123456"}`, 404, "no deletion"},
		{"an unknown page, form", at(strings.Repeat("a", 32)), formType, "code=123456", 404, "No deletion has this confirmation code"},
		{"a Meta deletion's page", at(meta), formType, "code=123456", 404, "No deletion has this confirmation code"},
		{"plain text", at(page), "text/plain", "123456", 415, "form"},
		{"broken JSON", at(page), "application/json", `{"code":`, 400, "JSON"},
		{"a wrong code, JSON", at(page), "application/json", `{"code":"123456"}`, 422, "Tries left: 4."},
		{"a wrong code, form", at(page), formType, "code=654321", 422, "Tries left: 3."},
	}
	for _, tc := range tests {
		r := w.do("POST", tc.path, tc.contentType, tc.body)
		if r.status != tc.status || !strings.Contains(r.body, tc.says) {
			t.Errorf("%s: %d %s, want %d saying %q", tc.name, r.status, r.body, tc.status, tc.says)
		}
		if tc.status != 415 && tc.status != 400 && r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", tc.name, r.header.Get("Cache-Control"))
		}
	}
	// Past its 15 minutes the code is gone.
	if _, err := w.eng.Advance(w.ctx, 16*time.Minute); err != nil {
		t.Fatal(err)
	}
	if r := w.do("POST", at(page), "application/json", `{"code":"123456"}`); r.status != 410 {
		t.Errorf("an expired code: %d %s, want 410", r.status, r.body)
	}
}
