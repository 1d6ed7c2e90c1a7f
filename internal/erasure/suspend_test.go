package erasure_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/erasure"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/scopetest"
)

// Soft delete destroys nothing and switches off exactly what was on; restore puts back exactly what
// was there — a full snapshot of every table and bucket before the soft delete and after the restore
// is identical, including things that were already off before.
func TestSoftDeleteAndRestore(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	a := w.manifest.Accounts[0]

	// Some things are off before the soft delete and must stay off after the restore.
	toks, err := w.store.APITokens(ctx, a.ID)
	if err != nil || len(toks) == 0 {
		t.Fatalf("tokens: %v", err)
	}
	toks[0].Disabled = true
	bots, err := w.store.Bots(ctx, a.ID)
	if err != nil || len(bots) < 2 {
		t.Fatalf("bots: %v", err)
	}
	bots[1].Status = platform.BotStopped
	if err := w.store.PutAll(ctx, []platform.Record{toks[0], bots[1]}); err != nil {
		t.Fatal(err)
	}

	before := w.snapshot(t)
	sus, err := w.engine.SoftDelete(ctx, a.ID, "req-1")
	if err != nil {
		t.Fatal(err)
	}
	if sus[datamap.AccountProfile] != 1 || sus[datamap.Bot] != len(bots)-1 || sus[datamap.APIToken] != len(toks)-1 || sus[datamap.TeamMember] == 0 {
		t.Errorf("switched off %v", sus)
	}
	during := w.snapshot(t)
	// Nothing destroyed, nothing outside the account touched; what changed is exactly the switch.
	for _, d := range scopetest.Diff(before, during, nil, nil, func(key string, was, now map[string]types.AttributeValue) error {
		if !strings.Contains(key, " A#"+a.ID+" ") && !strings.Contains(key, " C#") {
			return fmt.Errorf("outside the account")
		}
		if by, ok := now[erasure.AttrSuspendedBy].(*types.AttributeValueMemberS); !ok || by.Value != "req-1" {
			return fmt.Errorf("changed without the request's mark")
		}
		return nil
	}) {
		t.Error(d)
	}
	acc, err := w.store.Account(ctx, a.ID)
	if err != nil || acc.Status != platform.AccountSoftDeleted {
		t.Errorf("account status %q, %v", acc.Status, err)
	}
	toks2, _ := w.store.APITokens(ctx, a.ID)
	for _, tk := range toks2 {
		if !tk.Disabled {
			t.Errorf("token %s still enabled", tk.ID)
		}
	}
	hooks, _ := w.store.Webhooks(ctx, a.ID)
	for _, h := range hooks {
		if !h.Disabled {
			t.Errorf("webhook %s still enabled", h.ID)
		}
	}
	conns, _ := w.store.Connections(ctx, a.ID, "")
	for _, c := range conns {
		if c.Status == platform.ConnectionActive {
			t.Errorf("connection %s still active", c.ID)
		}
	}
	// Soft delete twice is harmless; another request cannot restore what this one switched off.
	if again, err := w.engine.SoftDelete(ctx, a.ID, "req-1"); err != nil || len(again) != 0 {
		t.Errorf("second soft delete switched %v (%v)", again, err)
	}
	if other, err := w.engine.Restore(ctx, a.ID, "req-2"); err != nil || len(other) != 0 {
		t.Errorf("another request restored %v (%v)", other, err)
	}

	if _, err := w.engine.Restore(ctx, a.ID, "req-1"); err != nil {
		t.Fatal(err)
	}
	for _, d := range scopetest.Diff(before, w.snapshot(t), nil, nil, nil) {
		t.Error(d)
	}
}
