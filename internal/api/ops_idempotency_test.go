package api_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/request"
)

// Each operator POST honours Idempotency-Key: the same key and body answer the first answer again
// (marked replayed) and change nothing, where the same call without the key is refused; the same
// key with another body is a 409; another operator's key of the same name is their own.
func TestOpsPostsHonourIdempotencyKeys(t *testing.T) {
	w := newWorld(t)
	tok := w.operatorToken("officer-7", "Ирина Смирнова")
	other := w.operatorToken("officer-8", "Пётр Иванов")
	a0 := w.manifest.Accounts[0].ID
	now := w.sys.Now()

	replays := func(t *testing.T, path, body, key string, first reply) {
		t.Helper()
		again := w.call("POST", path, tok, body, "Idempotency-Key", key)
		if again.status != first.status || !bytes.Equal(again.body, first.body) || again.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("repeated key: %d %s (replayed=%q), want the first answer %d %s", again.status, again.body,
				again.header.Get("Idempotent-Replayed"), first.status, first.body)
		}
	}

	t.Run("decision", func(t *testing.T) {
		w.create(request.Request{ID: "E-due", AccountID: a0, Kind: request.KindEndCustomerRequest, Status: request.StatusAwaitingVerification,
			Deadlines: map[string]time.Time{request.DeadlineEscalateAt: now.Add(-time.Hour), request.DeadlineCompleteBy: now.Add(20 * 24 * time.Hour)}})
		path, body := "/v1/ops/requests/E-due/decision", `{"approve":false,"reason":"the contract requires keeping it"}`
		first := w.call("POST", path, tok, body, "Idempotency-Key", "decide-1")
		if first.status != 200 {
			t.Fatalf("decision: %d %s", first.status, first.body)
		}
		decided := w.request("E-due")
		replays(t, path, body, "decide-1", first)
		if r := w.call("POST", path, tok, body); r.status != 409 {
			t.Errorf("the same decision without the key: %d, want 409", r.status)
		}
		if r := w.call("POST", path, tok, `{"approve":true}`, "Idempotency-Key", "decide-1"); r.status != 409 {
			t.Errorf("the key with another body: %d, want 409", r.status)
		}
		if r := w.call("POST", path, other, body, "Idempotency-Key", "decide-1"); r.status != 409 || r.header.Get("Idempotent-Replayed") != "" {
			t.Errorf("another operator's key of the same name: %d replayed=%q, want their own 409", r.status, r.header.Get("Idempotent-Replayed"))
		}
		if after := w.request("E-due"); after.Version != decided.Version || after.Decision.By != "operator:officer-7 (Ирина Смирнова)" {
			t.Errorf("the repeated calls changed the request: version %d → %d, decision %+v", decided.Version, after.Version, after.Decision)
		}
	})

	t.Run("retry", func(t *testing.T) {
		registerFixture(w)
		path := "/v1/ops/requests/R-failed/retry"
		first := w.call("POST", path, tok, "", "Idempotency-Key", "retry-1")
		if first.status != 202 {
			t.Fatalf("retry: %d %s", first.status, first.body)
		}
		replays(t, path, "", "retry-1", first)
		retries := 0
		for _, e := range w.request("R-failed").History {
			if e.Actor == "operator:officer-7 (Ирина Смирнова)" {
				retries++
			}
		}
		if retries != 1 {
			t.Errorf("%d retries recorded, want 1", retries)
		}
	})

	t.Run("holds", func(t *testing.T) {
		body := `{"accountId":"` + a0 + `","scope":{"kind":"account","id":""},"reason":"r","authority":"court","authorityRef":"1"}`
		first := w.call("POST", "/v1/ops/holds", tok, body, "Idempotency-Key", "hold-1")
		if first.status != 201 {
			t.Fatalf("place: %d %s", first.status, first.body)
		}
		replays(t, "/v1/ops/holds", body, "hold-1", first)
		if hs, err := w.sys.Ledger.Holds(w.ctx, a0); err != nil || len(hs) != 1 {
			t.Fatalf("%d holds placed (%v), want 1", len(hs), err)
		}
		var h holdReply
		first.json(t, &h)
		path, note := "/v1/ops/holds/"+h.ID+"/release", `{"note":"дело закрыто"}`
		rel := w.call("POST", path, tok, note, "Idempotency-Key", "release-1")
		if rel.status != 200 {
			t.Fatalf("release: %d %s", rel.status, rel.body)
		}
		replays(t, path, note, "release-1", rel)
		if r := w.call("POST", path, tok, note); r.status != 409 {
			t.Errorf("the same release without the key: %d, want 409", r.status)
		}
		hs, err := w.sys.Ledger.Holds(w.ctx, a0)
		if err != nil || len(hs) != 1 || hs[0].ReleasedAt == nil || len(hs[0].Actions) != 2 {
			t.Fatalf("holds after the release: %+v (%v)", hs, err)
		}
	})
}
