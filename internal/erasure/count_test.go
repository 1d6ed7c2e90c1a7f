package erasure_test

import (
	"context"
	"maps"
	"testing"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/erasure"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/scopetest"
)

// Count runs the deletion's own plan without deleting: for several scopes over one seeded world —
// Privacy filters with a held end user and an expired-but-stored one in range, then a whole
// account — it changes nothing, and the deletion that follows reports, per category, exactly
// what Count said.
func TestCountIsWhatDeleteDestroys(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	a0, a1 := w.manifest.Accounts[0], w.manifest.Accounts[1]
	bot := a0.Bots[0]
	old := now.AddDate(0, -14, 0)
	ghost := platform.EndUser{AccountID: a0.ID, BotID: bot.ID, ConnectionID: bot.Connections[0].ID, ID: platform.NewID(old),
		Channel: bot.Connections[0].Channel, DisplayName: "Призрак", NormalizedName: "призрак", FirstConversationAt: old, LastActiveAt: old}
	conv := platform.Conversation{AccountID: a0.ID, BotID: bot.ID, EndUserID: ghost.ID, ID: platform.NewID(old), StartedAt: old, LastMessageAt: old}
	msg := platform.Message{AccountID: a0.ID, BotID: bot.ID, EndUserID: ghost.ID, ConversationID: conv.ID, ID: platform.NewID(old), SentAt: old}
	if err := w.store.PutAll(ctx, []platform.Record{ghost, conv, msg}); err != nil {
		t.Fatal(err)
	}
	var heldUser string
	for _, u := range a0.EndUsers {
		if u.BotID == bot.ID {
			heldUser = u.ID
			break
		}
	}
	if _, err := w.ledger.PlaceHold(ctx, platform.LegalHold{AccountID: a0.ID, ScopeKind: platform.HoldEndUser, ScopeID: heldUser,
		Reason: "court order", AuthorityRef: "№ 1/2-26"}, "operator:test"); err != nil {
		t.Fatal(err)
	}

	scopes := []struct {
		name string
		ref  platform.ScopeRef
	}{
		{"one bot, from long ago (a held and an expired end user in range)", platform.ScopeRef{Kind: datamap.ScopeEndUserFilter,
			AccountID: a0.ID, BotID: bot.ID, From: now.AddDate(-3, 0, 0), To: now}},
		{"one bot of another account, a year", platform.ScopeRef{Kind: datamap.ScopeEndUserFilter,
			AccountID: a1.ID, BotID: a1.Bots[0].ID, From: now.AddDate(-1, 0, 0), To: now.AddDate(0, -1, 0)}},
		{"every bot, last 7 days", platform.ScopeRef{Kind: datamap.ScopeEndUserFilter, AccountID: a1.ID, From: now.AddDate(0, 0, -7), To: now}},
		{"another account's bot", platform.ScopeRef{Kind: datamap.ScopeEndUserFilter, AccountID: a0.ID, BotID: a1.Bots[1].ID,
			From: now.AddDate(-3, 0, 0), To: now}},
		{"a whole account", platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: a1.ID}},
	}
	for _, sc := range scopes {
		before := w.snapshot(t)
		counted, err := w.engine.Count(ctx, sc.ref)
		if err != nil {
			t.Fatalf("%s: count: %v", sc.name, err)
		}
		if d := scopetest.Diff(before, w.snapshot(t), nil, nil, nil); len(d) > 0 {
			t.Fatalf("%s: counting changed the stores: %v", sc.name, d)
		}
		cp := w.run(t, w.engine, sc.ref, erasure.Budget{Items: 40})
		if !maps.Equal(counted, cp.Deleted) {
			t.Errorf("%s: counted %v, deleted %v", sc.name, counted, cp.Deleted)
		}
		if sc.ref.Kind == datamap.ScopeEndUserFilter && sc.name != "another account's bot" && counted[datamap.Message] == 0 {
			t.Errorf("%s: nothing counted: the scope is not exercised (%v)", sc.name, counted)
		}
	}
	if _, err := w.store.EndUser(ctx, heldUser); err != nil {
		t.Errorf("the held end user: %v", err)
	}
}
