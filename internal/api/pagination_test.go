package api_test

import (
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
)

// Requests made while someone pages through the list neither push an earlier request off the pages
// nor bring one back: every request that existed when paging began is listed exactly once.
func TestPagesNeitherSkipNorRepeatUnderConcurrentInserts(t *testing.T) {
	w := newWorld(t)
	acct := w.manifest.Accounts[0].ID
	create := func(n int) {
		for range n {
			if _, err := w.sys.Ledger.Create(w.ctx, request.Request{ID: platform.NewID(time.Now()), AccountID: acct,
				Kind: request.KindEndUserDeletion, Source: "dashboard", Status: request.StatusCompleted,
				Scope: platform.ScopeRef{Kind: datamap.ScopeEndUser, AccountID: acct}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	create(9)
	existing, err := w.sys.Ledger.ByStatus(w.ctx, request.StatusCompleted)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, r := range existing {
		want[r.ID] = true
	}
	admin := w.token(0, platform.RoleAccountAdmin)
	seen, cursor := map[string]int{}, ""
	for pages := 0; pages < 20; pages++ {
		var p struct {
			Items      []struct{ ID string }
			NextCursor string
		}
		path := "/v1/deletion-requests?limit=2"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		w.call("GET", path, admin, "").json(t, &p)
		for _, it := range p.Items {
			seen[it.ID]++
		}
		create(2) // others keep asking while we page
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	for id := range want {
		if seen[id] != 1 {
			t.Errorf("request %s listed %d times", id, seen[id])
		}
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("request %s listed %d times", id, n)
		}
	}
}
