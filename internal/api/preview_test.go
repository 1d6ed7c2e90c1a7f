package api_test

import (
	"testing"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
)

// For several filters over one seeded world — one bot, every bot of another account, and a bot
// with a held end user in range — what the preview counts is, per category it shows, what the
// deletion its token starts reports destroyed.
func TestPrivacyPreviewIsWhatItsDeletionDestroys(t *testing.T) {
	w := newWorld(t)
	a0 := w.manifest.Accounts[0]
	var held string
	for _, eu := range w.accountEndUsers(0) {
		if eu.BotID == a0.Bots[1].ID {
			held = eu.ID
			break
		}
	}
	if held == "" {
		t.Fatal("no end user on the second bot")
	}
	if _, err := w.sys.Ledger.PlaceHold(w.ctx, platform.LegalHold{AccountID: a0.ID, ScopeKind: platform.HoldEndUser, ScopeID: held,
		Reason: "court order", AuthorityRef: "№ 7/8-26"}, "operator:test"); err != nil {
		t.Fatal(err)
	}
	to := `"to":"` + start.Format("2006-01-02T15:04:05Z") + `"`
	for _, c := range []struct {
		name  string
		owner int
		body  string
	}{
		{"one bot", 0, `{"botId":"` + a0.Bots[0].ID + `","from":"2020-01-01T00:00:00Z",` + to + `}`},
		{"every bot of another account", 1, `{"from":"2020-01-01T00:00:00Z",` + to + `}`},
		{"a bot with a held end user", 0, `{"botId":"` + a0.Bots[1].ID + `","from":"2020-01-01T00:00:00Z",` + to + `}`},
	} {
		owner := w.token(c.owner, platform.RoleOwner)
		r := w.call("POST", "/v1/privacy/deletions/preview", owner, c.body)
		var p previewReply
		r.json(t, &p)
		if r.status != 200 || p.EndUsers == 0 || p.Messages == 0 {
			t.Fatalf("%s: preview %d %s", c.name, r.status, r.body)
		}
		r = w.call("POST", "/v1/privacy/deletions", owner, `{"previewToken":"`+p.PreviewToken+`"}`)
		var req struct{ ID string }
		r.json(t, &req)
		if r.status != 202 {
			t.Fatalf("%s: start %d %s", c.name, r.status, r.body)
		}
		w.settle()
		got, err := w.sys.Ledger.Get(w.ctx, req.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Progress[datamap.EndUserProfile] != p.EndUsers || got.Progress[datamap.Conversation] != p.Conversations ||
			got.Progress[datamap.Message] != p.Messages {
			t.Errorf("%s: the preview counted %+v, the deletion (%s) destroyed %v", c.name, p, got.Status, got.Progress)
		}
	}
	if _, err := w.sys.Store.EndUser(w.ctx, held); err != nil {
		t.Errorf("the held end user: %v", err)
	}
}
