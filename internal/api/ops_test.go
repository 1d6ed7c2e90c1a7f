package api_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/api"
	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/local/gateway"
	"github.com/lethe-dev/lethe/internal/platform"
)

// operatorToken is a privacy officer's token: the default group claim holding the default group.
func (w *world) operatorToken(sub, name string, groups ...string) string {
	w.t.Helper()
	if len(groups) == 0 {
		groups = []string{"staff", config.DefaultOpsGroup}
	}
	tok, err := w.iss.MintOperator(sub, name, config.DefaultOpsGroupClaim, groups, time.Hour)
	if err != nil {
		w.t.Fatal(err)
	}
	return tok
}

// An operator route admits a token carrying the operator group, whatever else it carries, and
// answers who will be recorded; every other token is refused before anything is read.
func TestOpsRoutesAdmitOnlyTheOperatorGroup(t *testing.T) {
	w := newWorld(t)
	r := w.call("GET", "/v1/ops/me", w.operatorToken("officer-7", "Ирина Смирнова"), "")
	var me struct{ Sub, Name, Group string }
	r.json(t, &me)
	if r.status != 200 || me.Sub != "officer-7" || me.Name != "Ирина Смирнова" || me.Group != config.DefaultOpsGroup {
		t.Fatalf("operator: %d %+v", r.status, me)
	}

	refused := map[string]string{
		"a team member of an account (owner)": w.token(0, platform.RoleOwner),
		"a token with other groups only":      w.operatorToken("officer-8", "X", "staff", "privacy-officers-readonly"),
	}
	for what, tok := range refused {
		if r := w.call("GET", "/v1/ops/me", tok, ""); r.status != 403 || !strings.Contains(r.header.Get("Content-Type"), "problem+json") {
			t.Errorf("%s: %d %s, want a 403 problem", what, r.status, r.body)
		}
	}
	if r := w.call("GET", "/v1/ops/me", "", ""); r.status != 401 {
		t.Errorf("no token: %d, want 401", r.status)
	}
}

// An operator's token opens no account's routes: it names no account, so the dashboard's routes
// refuse it as they refuse any token without one.
func TestAnOperatorTokenOpensNoAccountRoute(t *testing.T) {
	w := newWorld(t)
	tok := w.operatorToken("officer-7", "Ирина Смирнова")
	a := w.manifest.Accounts[0]
	ids := strings.NewReplacer("{botId}", a.Bots[0].ID, "{endUserId}", a.EndUsers[0].ID,
		"{messageId}", "01JNOSUCHMESSAGE0000000000", "{id}", "01JNOSUCHREQUEST0000000000")
	checked := 0
	for _, key := range w.sys.API().RouteKeys() {
		method, path, _ := strings.Cut(key, " ")
		if strings.HasPrefix(path, "/v1/ops/") || !strings.HasPrefix(path, "/v1/") || strings.HasPrefix(path, "/v1/email-actions/") {
			continue
		}
		body := ""
		if method == "POST" {
			body = "{}"
		}
		if r := w.call(method, ids.Replace(path), tok, body); r.status != 401 && r.status != 403 {
			t.Errorf("%s with an operator token: %d, want 401 or 403", key, r.status)
		}
		checked++
	}
	if checked < 10 {
		t.Fatalf("only %d account routes checked", checked)
	}
}

// The claim and the group are configuration: a deployment whose identity provider lists groups
// under another claim admits its operators there, and no longer under the default one.
func TestTheOperatorClaimIsConfigurable(t *testing.T) {
	w := newWorld(t)
	a := api.New(api.Services{Store: w.sys.Store, Ledger: w.sys.Ledger, Requests: w.sys.Requests, Deletion: w.sys.Deletion,
		Reauth: w.sys.Reauth, Now: w.sys.Now, Ops: api.OpsAccess{Claim: "groups", Group: "dpo"}})
	gw := &gateway.Gateway{Routes: a.Routes(), Authorizer: gateway.JWTAuthorizer(w.iss)}
	custom, err := w.iss.MintOperator("officer-9", "Custom", "groups", []string{"dpo"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if r := serve(t, gw, "GET", "/v1/ops/me", custom); r != 200 {
		t.Errorf("token with the configured claim and group: %d, want 200", r)
	}
	if r := serve(t, gw, "GET", "/v1/ops/me", w.operatorToken("officer-7", "Default")); r != 403 {
		t.Errorf("token with the default claim only: %d, want 403", r)
	}
}

// serve sends one request through a gateway and returns its status.
func serve(t *testing.T, gw *gateway.Gateway, method, path, token string) int {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	gw.ServeHTTP(rec, req)
	return rec.Code
}
