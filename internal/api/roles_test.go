package api_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/lethe-dev/lethe/internal/apispec"
	"github.com/lethe-dev/lethe/internal/platform"
	testworld "github.com/lethe-dev/lethe/internal/testenv/world"
)

// Every role a route's x-lethe-roles (api/openapi.yaml) leaves out gets 403 from that route, and
// nothing changes. The ids in the path are real ids of the caller's own account, so only the role
// can be what refuses.
func TestEveryRoleTheDocumentExcludesIsRefused(t *testing.T) {
	w := newWorld(t)
	a := w.manifest.Accounts[0]
	doc := testworld.Document(t)
	served := map[string]bool{}
	for _, k := range w.sys.API().RouteKeys() {
		served[k] = true
	}
	req, _, err := w.sys.Requests.RequestDeletion(w.ctx, requestsDeletion(a.ID, a.Bots[0].ID, a.EndUsers[0].ID))
	if err != nil {
		t.Fatal(err)
	}
	before := w.versionAfterSettle(req.ID)
	ids := strings.NewReplacer("{botId}", a.Bots[1].ID, "{endUserId}", a.EndUsers[len(a.EndUsers)-1].ID,
		"{messageId}", "01JNOSUCHMESSAGE0000000000", "{id}", req.ID)
	// A bot admin of neither bot, so bot routes refuse them too where the document excludes them.
	w.setBotAdmin(0, w.member(0, platform.RoleBotAdmin), "01JNOSUCHBOT00000000000000")
	roles := []string{platform.RoleOwner, platform.RoleAccountAdmin, platform.RoleBotAdmin, platform.RoleMember}
	checked := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			key := strings.ToUpper(method) + " " + path
			if !served[key] || !apispec.RequiresJWT(doc, op) {
				continue // public routes have no roles
			}
			var allowed []string
			if raw, ok := op.Extensions["x-lethe-roles"]; ok {
				b, _ := json.Marshal(raw)
				_ = json.Unmarshal(b, &allowed)
			}
			if len(allowed) == 0 {
				t.Errorf("%s documents no x-lethe-roles", key)
				continue
			}
			for _, role := range roles {
				if slices.Contains(allowed, role) {
					continue
				}
				body := ""
				if strings.ToUpper(method) == "POST" {
					body = "{}"
				}
				if r := w.call(strings.ToUpper(method), ids.Replace(path), w.token(0, role), body); r.status != 403 {
					t.Errorf("%s as %s: %d, want 403", key, role, r.status)
				}
				checked++
			}
		}
	}
	if checked == 0 {
		t.Fatal("no route was checked")
	}
	if after := w.versionAfterSettle(req.ID); after != before {
		t.Errorf("refused calls changed the request (version %d → %d)", before, after)
	}
}

func (w *world) versionAfterSettle(id string) int64 {
	w.settle()
	r, err := w.sys.Ledger.Get(w.ctx, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return r.Version
}
