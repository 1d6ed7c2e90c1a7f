package api_test

import (
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
)

// A cursor is bound to the account that was given it: another account sending it, on any listing,
// gets a 400 problem naming the cursor, never a page of its own data from a position it did not
// reach, and a tampered cursor is refused the same way.
func TestCursorsAreBoundToTheAccount(t *testing.T) {
	w := newWorld(t)
	for i := range 2 {
		acct := w.manifest.Accounts[i].ID
		for k := range 3 {
			if _, err := w.sys.Ledger.Create(w.ctx, request.Request{ID: platform.NewID(start.Add(time.Duration(10*i+k) * time.Minute)), AccountID: acct,
				Kind: request.KindEndUserDeletion, Source: "dashboard", Scope: platform.ScopeRef{Kind: datamap.ScopeEndUser, AccountID: acct},
				Status: request.StatusCompleted}); err != nil {
				t.Fatal(err)
			}
		}
	}
	owner0, owner1 := w.token(0, platform.RoleOwner), w.token(1, platform.RoleOwner)
	for _, path := range []string{
		"/v1/deletion-requests?limit=1",
		"/v1/activity-logs?limit=1&from=2000-01-01T00:00:00Z",
		"/v1/privacy/end-users?limit=1&from=2000-01-01T00:00:00Z&to=" + rfc(start),
	} {
		var p struct{ NextCursor string }
		r := w.call("GET", path, owner0, "")
		r.json(t, &p)
		if r.status != 200 || p.NextCursor == "" {
			t.Fatalf("%s: %d, next cursor %q", path, r.status, p.NextCursor)
		}
		if r := w.call("GET", path+"&cursor="+p.NextCursor, owner0, ""); r.status != 200 {
			t.Errorf("%s: the account's own cursor: %d %s", path, r.status, r.body)
		}
		tampered := p.NextCursor[:len(p.NextCursor)-2] + "xx"
		for name, c := range map[string]struct {
			token, cursor string
		}{"another account's cursor": {owner1, p.NextCursor}, "a tampered cursor": {owner0, tampered}} {
			r := w.call("GET", path+"&cursor="+c.cursor, c.token, "")
			if r.status != 400 || problemField(t, r) != "cursor" || r.header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s on %s: %d %s %s", name, path, r.status, r.header.Get("Content-Type"), r.body)
			}
		}
	}
}
