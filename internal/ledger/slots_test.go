package ledger_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/request"
)

// A request made twice at once — two clicks, an email delivered twice — makes one request; once it is
// closed, the next one gets the slot.
func TestCreateUniqueMakesOneOpenRequestPerSlot(t *testing.T) {
	l := newLedger(t)
	ctx := context.Background()
	slot := ledger.AccountDeletionSlot("A1")
	var wg sync.WaitGroup
	ids := make([]string, 8)
	created := make([]bool, 8)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := req("R"+string(rune('a'+i)), "A1")
			r.Status = request.StatusReceived
			out, c, err := l.CreateUnique(ctx, r, slot)
			if err != nil {
				t.Errorf("attempt %d: %v", i, err)
				return
			}
			ids[i], created[i] = out.ID, c
		}()
	}
	wg.Wait()
	n := 0
	for i := range ids {
		if created[i] {
			n++
		}
		if ids[i] != ids[0] {
			t.Errorf("attempt %d got request %s, attempt 0 got %s", i, ids[i], ids[0])
		}
	}
	if n != 1 {
		t.Fatalf("%d requests created, want 1", n)
	}
	if _, err := l.Update(ctx, ids[0], func(r *request.Request) error { return r.Cancel(l.Now(), "owner:u", "") }); err != nil {
		t.Fatal(err)
	}
	r := req("Rnext", "A1")
	out, c, err := l.CreateUnique(ctx, r, slot)
	if err != nil || !c || out.ID != "Rnext" {
		t.Fatalf("after the first closed: got %s created=%v err=%v, want Rnext created", out.ID, c, err)
	}
	// Another account's slot is its own.
	if _, c, err := l.CreateUnique(ctx, req("Rother", "A2"), ledger.AccountDeletionSlot("A2")); err != nil || !c {
		t.Fatalf("other account: created=%v err=%v", c, err)
	}
}

func TestReferencesResolveTokensByHash(t *testing.T) {
	l := newLedger(t)
	ctx := context.Background()
	if err := l.PutReference(ctx, ledger.RefToken, "secret-token", "R1", "cancel"); err != nil {
		t.Fatal(err)
	}
	if err := l.PutReference(ctx, ledger.RefMessage, "0100-abc", "R1", "reply"); err != nil {
		t.Fatal(err)
	}
	id, action, err := l.Reference(ctx, ledger.RefToken, "secret-token")
	if err != nil || id != "R1" || action != "cancel" {
		t.Fatalf("token: %s %s %v", id, action, err)
	}
	if id, _, err := l.Reference(ctx, ledger.RefMessage, "0100-abc"); err != nil || id != "R1" {
		t.Fatalf("message: %s %v", id, err)
	}
	if _, _, err := l.Reference(ctx, ledger.RefToken, "secret-tokeN"); !errors.Is(err, ledger.ErrUnknownReference) {
		t.Fatalf("a different token: %v, want ErrUnknownReference", err)
	}
	// The token itself is not stored: its key is the hash.
	if _, _, err := l.Reference(ctx, ledger.RefMessage, "secret-token"); !errors.Is(err, ledger.ErrUnknownReference) {
		t.Fatalf("token stored under its own value")
	}
}
