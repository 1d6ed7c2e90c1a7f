package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lethe-dev/lethe/internal/apispec"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/local/gateway"
	"github.com/lethe-dev/lethe/internal/local/localauth"
	"github.com/lethe-dev/lethe/internal/local/localaws"
	"github.com/lethe-dev/lethe/internal/local/statemachine"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/requests"
	"github.com/lethe-dev/lethe/internal/seed"
	"github.com/lethe-dev/lethe/internal/system"
	"github.com/lethe-dev/lethe/internal/testenv"
	testworld "github.com/lethe-dev/lethe/internal/testenv/world"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

var start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// world is the API behind the local gateway, over a test's own stack with the demo data.
type world struct {
	t        *testing.T
	ctx      context.Context
	env      *testenv.Env
	sys      *system.System
	eng      *statemachine.Engine
	srv      *httptest.Server
	iss      *localauth.Issuer
	manifest seed.Manifest
	spec     *apispec.Validator
}

// newWorld starts the world; tune, if given, adjusts the services before the engine starts.
func newWorld(t *testing.T, tune ...func(*system.System)) *world {
	t.Helper()
	var tuned func(*system.System)
	if len(tune) > 0 {
		tuned = tune[0]
	}
	wd := testworld.New(t, testworld.Options{Start: start, Seed: 9, Tune: tuned,
		Size: seed.Size{Accounts: 2, BotsPerAccount: 2, EndUsersPerBot: 4, ConversationsPerEndUser: 1, MessagesPerConversation: 3,
			InboxPerEndUser: 1, FilesPerEndUser: 1, ActivityLogsPerAccount: 3, PaymentsPerAccount: 1}, Password: "owner-password"})
	iss, err := localauth.New("http://127.0.0.1/_local", "lethe-dashboard", time.Now)
	if err != nil {
		t.Fatal(err)
	}
	gw := &gateway.Gateway{Routes: wd.Sys.API().Routes(), Authorizer: gateway.JWTAuthorizer(iss)}
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	return &world{t: t, ctx: wd.Ctx, env: wd.Env, sys: wd.Sys, eng: wd.Engine, srv: srv, iss: iss, manifest: wd.Manifest, spec: testworld.Spec(t)}
}

// member is the sub of the first member with that role in account i.
func (w *world) member(i int, role string) string {
	for _, m := range w.manifest.Accounts[i].Members {
		if m.Role == role {
			return m.Sub
		}
	}
	w.t.Fatalf("account %d has no %s", i, role)
	return ""
}

func (w *world) token(i int, role string) string {
	tok, err := w.iss.Mint(w.member(i, role), w.manifest.Accounts[i].ID, time.Hour)
	if err != nil {
		w.t.Fatal(err)
	}
	return tok
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%d %s: %v", r.status, r.body, err)
	}
}

// call makes one HTTP request through the gateway and checks the answer against api/openapi.yaml.
func (w *world) call(method, path, token, body string, headers ...string) reply {
	w.t.Helper()
	req, err := http.NewRequest(method, w.srv.URL+path, strings.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusUnauthorized || token != "" { // the gateway's own 401 is not the API's
		route := path
		if i := strings.IndexByte(route, '?'); i >= 0 {
			route = route[:i]
		}
		if err := w.spec.ValidateResponse(w.ctx, method, route, resp.StatusCode, resp.Header, b); err != nil {
			w.t.Errorf("%s %s → %d does not match api/openapi.yaml: %v\n%s", method, path, resp.StatusCode, err, b)
		}
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

func (w *world) settle() {
	w.t.Helper()
	if err := w.eng.Settle(w.ctx); err != nil {
		w.t.Fatal(err)
	}
}

func problemType(t *testing.T, r reply) string {
	t.Helper()
	var p struct{ Type string }
	r.json(t, &p)
	return p.Type
}

func TestAccountDeletionOverHTTP(t *testing.T) {
	w := newWorld(t)
	owner, admin := w.token(0, platform.RoleOwner), w.token(0, platform.RoleAccountAdmin)

	if r := w.call("POST", "/v1/account/deletion", "", `{"password":"owner-password"}`); r.status != 401 {
		t.Fatalf("no token: %d", r.status)
	}
	if r := w.call("POST", "/v1/account/deletion", admin, `{"password":"owner-password"}`); r.status != 403 {
		t.Fatalf("account admin: %d %s", r.status, r.body)
	}
	if r := w.call("POST", "/v1/account/deletion", owner, `{"password":"nope"}`); r.status != 403 || problemType(t, r) != "https://lethe.dev/problems/forbidden" {
		t.Fatalf("wrong password: %d %s", r.status, r.body)
	}
	if r := w.call("POST", "/v1/account/deletion", owner, `{"pasword":"owner-password"}`); r.status != 400 {
		t.Fatalf("misspelt field: %d %s", r.status, r.body)
	}
	if r := w.call("GET", "/v1/account/deletion", owner, ""); r.status != 404 {
		t.Fatalf("before any request: %d", r.status)
	}
	r := w.call("POST", "/v1/account/deletion", owner, `{"password":"owner-password"}`, "Idempotency-Key", "k-1")
	if r.status != 202 {
		t.Fatalf("request: %d %s", r.status, r.body)
	}
	var req struct {
		ID, Status string
		Deadlines  map[string]time.Time
	}
	r.json(t, &req)
	if r.header.Get("Location") != "/v1/deletion-requests/"+req.ID {
		t.Errorf("Location %q", r.header.Get("Location"))
	}
	// A retry with the same key gets the first answer; the same key with another body is a conflict.
	again := w.call("POST", "/v1/account/deletion", owner, `{"password":"owner-password"}`, "Idempotency-Key", "k-1")
	if again.status != 202 || !bytes.Equal(again.body, r.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %d replayed=%q", again.status, again.header.Get("Idempotent-Replayed"))
	}
	if c := w.call("POST", "/v1/account/deletion", owner, `{"password":"other"}`, "Idempotency-Key", "k-1"); c.status != 409 {
		t.Fatalf("key reused with another body: %d", c.status)
	}
	w.settle()
	var cur struct {
		ID, Status string
		Deadlines  map[string]time.Time
	}
	w.call("GET", "/v1/account/deletion", owner, "").json(t, &cur)
	if cur.ID != req.ID || cur.Status != string(request.StatusSoftDeleted) || cur.Deadlines["soft_delete_ends"].IsZero() {
		t.Fatalf("status after the workflow opened: %+v", cur)
	}
	// While deactivated, the rest of the dashboard is closed; the deletion's own routes are open.
	if r := w.call("GET", "/v1/deletion-requests", owner, ""); r.status != 403 {
		t.Fatalf("other routes while deactivated: %d", r.status)
	}
	c := w.call("POST", "/v1/account/deletion/cancel", owner, "")
	if c.status != 200 {
		t.Fatalf("cancel: %d %s", c.status, c.body)
	}
	w.settle()
	if c := w.call("POST", "/v1/account/deletion/cancel", owner, ""); c.status != 200 {
		t.Fatalf("second cancel: %d", c.status)
	}
	var list struct{ Items []struct{ ID, Status string } }
	w.call("GET", "/v1/deletion-requests", admin, "").json(t, &list)
	if len(list.Items) != 1 || list.Items[0].Status != string(request.StatusCancelled) {
		t.Fatalf("requests after the cancel: %+v", list)
	}
}

func TestFiveWrongPasswordsLockAccountDeletion(t *testing.T) {
	w := newWorld(t)
	owner := w.token(0, platform.RoleOwner)
	// A form post (curl -d without a JSON type) is refused before the password is looked at: it
	// is no guess.
	if r := w.call("POST", "/v1/account/deletion", owner, `{"password":"guess"}`, "Content-Type", "application/x-www-form-urlencoded"); r.status != 415 {
		t.Fatalf("a form post: %d %s", r.status, r.body)
	}
	for i := 1; i < 5; i++ {
		if r := w.call("POST", "/v1/account/deletion", owner, `{"password":"guess"}`); r.status != 403 {
			t.Fatalf("guess %d: %d", i, r.status)
		}
	}
	r := w.call("POST", "/v1/account/deletion", owner, `{"password":"guess"}`)
	if r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Fatalf("fifth guess: %d retry-after %q", r.status, r.header.Get("Retry-After"))
	}
	if r := w.call("POST", "/v1/account/deletion", owner, `{"password":"owner-password"}`); r.status != 429 {
		t.Fatalf("right password while locked: %d", r.status)
	}
	if _, err := w.sys.Requests.CurrentAccountDeletion(w.ctx, w.manifest.Accounts[0].ID); err == nil {
		t.Fatal("a request was made while locked")
	}
}

func TestAnotherAccountsRequestIsNotFound(t *testing.T) {
	w := newWorld(t)
	a := w.manifest.Accounts[0]
	req, _, err := w.sys.Requests.RequestDeletion(w.ctx, requestsDeletion(a.ID, a.Bots[0].ID, a.EndUsers[0].ID))
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	before, _ := w.sys.Ledger.Get(w.ctx, req.ID)
	other := w.token(1, platform.RoleOwner)
	for _, p := range []string{"/v1/deletion-requests/" + req.ID, "/v1/deletion-requests/" + req.ID + "/evidence"} {
		if r := w.call("GET", p, other, ""); r.status != 404 {
			t.Errorf("%s from another account: %d", p, r.status)
		}
	}
	mine := w.token(0, platform.RoleOwner)
	if r := w.call("GET", "/v1/deletion-requests/"+req.ID, mine, ""); r.status != 200 {
		t.Fatalf("own request: %d", r.status)
	}
	ev := w.call("GET", "/v1/deletion-requests/"+req.ID+"/evidence", mine, "")
	var acts struct{ Acts []map[string]any }
	ev.json(t, &acts)
	if ev.status != 200 || len(acts.Acts) != 1 {
		t.Fatalf("evidence: %d, %d acts", ev.status, len(acts.Acts))
	}
	html := w.call("GET", "/v1/deletion-requests/"+req.ID+"/evidence", mine, "", "Accept", "text/html")
	if html.status != 200 || !strings.Contains(string(html.body), req.ID) {
		t.Fatalf("evidence as HTML: %d", html.status)
	}
	actCSPAdmitsItsStyleOnly(t, html.header.Get("Content-Security-Policy"), string(html.body))
	after, _ := w.sys.Ledger.Get(w.ctx, req.ID)
	if after.Version != before.Version {
		t.Error("reading the request changed it")
	}
	if r := w.call("GET", "/v1/deletion-requests", w.token(0, platform.RoleMember), ""); r.status != 403 {
		t.Errorf("a member lists requests: %d", r.status)
	}
}

// Pages neither skip nor repeat, filters hold across pages, and a cursor is checked.
func TestDeletionRequestsPaginate(t *testing.T) {
	w := newWorld(t)
	acct := w.manifest.Accounts[0].ID
	want := map[string]bool{}
	for i := range 7 {
		kind := request.KindEndUserDeletion
		if i%3 == 0 {
			kind = request.KindConnectionWipe
		}
		r, err := w.sys.Ledger.Create(w.ctx, request.Request{ID: platform.NewID(start.Add(time.Duration(i) * time.Minute)), AccountID: acct, Kind: kind,
			Source: "dashboard", Scope: platform.ScopeRef{Kind: datamap.ScopeEndUser, AccountID: acct}, Status: request.StatusCompleted})
		if err != nil {
			t.Fatal(err)
		}
		if kind == request.KindEndUserDeletion {
			want[r.ID] = true
		}
	}
	admin := w.token(0, platform.RoleAccountAdmin)
	seen, cursor, pages := map[string]bool{}, "", 0
	for {
		var p struct {
			Items      []struct{ ID, Kind string }
			NextCursor string
		}
		path := "/v1/deletion-requests?limit=2&kind=end_user_deletion"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		w.call("GET", path, admin, "").json(t, &p)
		pages++
		for _, it := range p.Items {
			if seen[it.ID] || it.Kind != "end_user_deletion" {
				t.Fatalf("page %d: %s repeated or of kind %s", pages, it.ID, it.Kind)
			}
			seen[it.ID] = true
		}
		if p.NextCursor == "" || pages > 10 {
			break
		}
		cursor = p.NextCursor
	}
	if len(seen) != len(want) {
		t.Fatalf("listed %d of %d requests", len(seen), len(want))
	}
	if r := w.call("GET", "/v1/deletion-requests?cursor=garbage!", admin, ""); r.status != 400 {
		t.Errorf("bad cursor: %d", r.status)
	}
	if r := w.call("GET", "/v1/deletion-requests?status=nope", admin, ""); r.status != 400 {
		t.Errorf("bad status: %d", r.status)
	}
}

func requestsDeletion(acct, bot, endUser string) requests.Deletion {
	return requests.Deletion{Kind: request.KindEndUserDeletion, Source: "dashboard",
		Scope: platform.ScopeRef{Kind: datamap.ScopeEndUser, AccountID: acct, BotID: bot, EndUserID: endUser}}
}

// The sample event of functions/api reaches its route; its account is not in the test's data, so the
// answer is a 403 problem, the same as AWS would give a token of an unknown account.
func TestSampleEventsReachTheirRoutes(t *testing.T) {
	w := newWorld(t)
	files, _ := filepath.Glob(filepath.Join(repoRoot(t), "events", "api", "*.json"))
	if len(files) == 0 {
		t.Fatal("no sample events for functions/api")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		resp, err := w.sys.API().Handle(w.ctx, ev)
		if err != nil || resp.StatusCode != 403 || resp.Headers["content-type"] != "application/problem+json" {
			t.Errorf("%s: %d %s %v", filepath.Base(f), resp.StatusCode, resp.Body, err)
		}
	}
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := localaws.FindRepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// A soft delete switches the members off before the account itself: in between, the owner still
// reaches the deletion's own routes (to see and cancel it), and nothing else.
func TestAMemberSwitchedOffByTheSoftDeleteKeepsTheDeletionRoutes(t *testing.T) {
	w := newWorld(t)
	a := w.manifest.Accounts[0]
	m, err := w.sys.Store.TeamMember(w.ctx, a.ID, w.member(0, platform.RoleOwner))
	if err != nil {
		t.Fatal(err)
	}
	m.Disabled, m.SuspendedBy = true, "R-in-progress"
	if err := w.sys.Store.Put(w.ctx, m); err != nil {
		t.Fatal(err)
	}
	owner := w.token(0, platform.RoleOwner)
	if r := w.call("GET", "/v1/account/deletion", owner, ""); r.status != 404 {
		t.Errorf("the deletion's own route: %d, want 404 (no request yet)", r.status)
	}
	if r := w.call("GET", "/v1/deletion-requests", owner, ""); r.status != 403 {
		t.Errorf("another route: %d, want 403", r.status)
	}
	m.SuspendedBy = "" // switched off by someone, not by a deletion
	if err := w.sys.Store.Put(w.ctx, m); err != nil {
		t.Fatal(err)
	}
	if r := w.call("GET", "/v1/account/deletion", owner, ""); r.status != 403 {
		t.Errorf("a member disabled otherwise: %d, want 403", r.status)
	}
}

func (w *world) remaining(ref platform.ScopeRef) map[string]int64 {
	w.t.Helper()
	left, err := w.sys.Engine.Verify(w.ctx, ref)
	if err != nil {
		w.t.Fatal(err)
	}
	return left
}

// Once the hard delete has removed the account itself, its owner's token still meets the ledger's
// request: cancelling (or asking again) answers 409, as it did while the account record was there,
// not a 403 as if the account had never been; and nothing changes.
func TestCancelAfterTheAccountIsGoneIsAConflict(t *testing.T) {
	w := newWorld(t)
	owner := w.token(0, platform.RoleOwner)
	acct := w.manifest.Accounts[0].ID
	r := w.call("POST", "/v1/account/deletion", owner, `{"password":"owner-password"}`)
	if r.status != 202 {
		t.Fatalf("request: %d %s", r.status, r.body)
	}
	var req struct{ ID string }
	r.json(t, &req)
	w.settle()
	for day := 0; ; day++ {
		if _, err := w.sys.Store.Account(w.ctx, acct); errors.Is(err, platform.ErrNotFound) {
			break
		}
		if day == 120 {
			t.Fatal("the account is still there 120 days after its deletion was requested")
		}
		if _, err := w.eng.Advance(w.ctx, 24*time.Hour); err != nil {
			t.Fatal(err)
		}
		w.settle()
	}
	before := w.versionAfterSettle(req.ID)
	for _, path := range []string{"/v1/account/deletion/cancel", "/v1/account/deletion"} {
		body := ""
		if path == "/v1/account/deletion" {
			body = `{"password":"owner-password"}`
		}
		if c := w.call("POST", path, owner, body); c.status != 409 || problemType(t, c) != "https://lethe.dev/problems/conflict" {
			t.Errorf("POST %s after the account is gone: %d %s, want 409", path, c.status, c.body)
		}
	}
	if after := w.versionAfterSettle(req.ID); after != before {
		t.Errorf("the refused cancel changed the request (version %d → %d)", before, after)
	}
	if _, err := w.sys.Store.Account(w.ctx, acct); !errors.Is(err, platform.ErrNotFound) {
		t.Errorf("the account is back: %v", err)
	}
}
