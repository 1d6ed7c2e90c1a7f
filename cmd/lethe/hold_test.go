package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/local/gateway"
	"github.com/lethe-dev/lethe/internal/local/localauth"
	"github.com/lethe-dev/lethe/internal/seed"
	"github.com/lethe-dev/lethe/internal/testenv"
	testworld "github.com/lethe-dev/lethe/internal/testenv/world"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// opsServer is the API of a test world behind the local gateway, with the local run's token route.
func opsServer(t *testing.T) (*testworld.World, *httptest.Server, *localauth.Issuer) {
	t.Helper()
	w := testworld.New(t, testworld.Options{Start: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), Seed: 4,
		Size: seed.Size{Accounts: 1, BotsPerAccount: 1, EndUsersPerBot: 2, ConversationsPerEndUser: 1, MessagesPerConversation: 2}})
	iss, err := localauth.New("http://127.0.0.1/_local", "lethe-dashboard", time.Now)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /_local/token", func(rw http.ResponseWriter, r *http.Request) {
		var in struct {
			Sub, Name string
			Operator  bool
		}
		if json.NewDecoder(r.Body).Decode(&in) != nil || !in.Operator {
			http.Error(rw, "operator tokens only here", http.StatusBadRequest)
			return
		}
		tok, err := iss.MintOperator(in.Sub, in.Name, config.DefaultOpsGroupClaim, []string{config.DefaultOpsGroup}, time.Hour)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(rw).Encode(map[string]string{"token": tok})
	})
	mux.Handle("/", &gateway.Gateway{Routes: w.Sys.API().Routes(), Authorizer: gateway.JWTAuthorizer(iss)})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return w, srv, iss
}

func hold(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := holdCommand(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

type holdOut struct {
	ID, PlacedBy, ReleasedBy string
	TTL                      struct{ State string }
}

// `lethe hold` is a client of the ops API: it places, lists and releases as the operator its token
// names (a local token for the demo officer when none is given), prints the API's JSON, and turns a
// problem into an error that says what was wrong.
func TestHoldCommandCallsTheOpsAPI(t *testing.T) {
	w, srv, iss := opsServer(t)
	t.Setenv(EnvOpsToken, "")
	acc, bot := w.Manifest.Accounts[0].ID, w.Manifest.Accounts[0].Bots[0].ID

	// Refused by the API: a problem naming the fields, a non-zero exit, nothing placed.
	_, _, err := hold(t, "place", "--api", srv.URL, "--account", acc, "--scope", "bot", "--id", bot)
	if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "reason") ||
		!strings.Contains(err.Error(), "authority") {
		t.Fatalf("incomplete hold: %v", err)
	}
	if hs, _ := w.Sys.Ledger.Holds(w.Ctx, acc); len(hs) != 0 {
		t.Fatalf("a refused hold was placed: %+v", hs)
	}

	// No token: the local run mints one for the first demo officer.
	out, _, err := hold(t, "place", "--api", srv.URL, "--account", acc, "--scope", "bot", "--id", bot, "--reason", "investigation",
		"--authority", "СК России", "--ref", "9/2026", "--until", "2099-06-01")
	if err != nil {
		t.Fatalf("place: %v", err)
	}
	var h holdOut
	if err := json.Unmarshal([]byte(out), &h); err != nil || h.ID == "" || h.PlacedBy != "operator:officer-1 (Ирина Смирнова)" {
		t.Fatalf("placed hold %+v (%v) from %s", h, err, out)
	}
	if h.TTL.State != "removed" {
		t.Errorf("placed hold's TTL: %q", h.TTL.State)
	}
	if out, _, err := hold(t, "list", "--api", srv.URL, "--account", acc, "--active"); err != nil || !strings.Contains(out, h.ID) {
		t.Fatalf("list: %v %s", err, out)
	}
	// Without an account: every account's holds in force, all pages.
	if out, _, err := hold(t, "list", "--api", srv.URL, "--active"); err != nil || !strings.Contains(out, h.ID) {
		t.Fatalf("list every account's holds: %v %s", err, out)
	}

	// A token given names another operator, who is recorded on the release.
	tok, err := iss.MintOperator("officer-2", "Pavel Orlov", config.DefaultOpsGroupClaim, []string{config.DefaultOpsGroup}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvOpsToken, tok)

	// A listing of every account's holds is followed page by page.
	out, _, err = hold(t, "place", "--api", srv.URL, "--account", acc, "--scope", "account", "--reason", "audit",
		"--authority", "court", "--ref", "A-2")
	var second holdOut
	if err != nil || json.Unmarshal([]byte(out), &second) != nil {
		t.Fatalf("place a second hold: %v %s", err, out)
	}
	c := &opsClient{base: srv.URL, token: tok}
	first, err := c.do(w.Ctx, http.MethodGet, "/v1/ops/holds?active=true&limit=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	all, err := c.allPages(w.Ctx, "/v1/ops/holds?active=true&limit=1", first)
	if err != nil || !strings.Contains(string(all), h.ID) || !strings.Contains(string(all), second.ID) || strings.Contains(string(first), h.ID) {
		t.Fatalf("every page: %v %s (first page %s)", err, all, first)
	}
	if _, _, err := hold(t, "release", "--api", srv.URL, "--hold", h.ID); err == nil || !strings.Contains(err.Error(), "note") {
		t.Fatalf("release without a note: %v", err)
	}
	out, _, err = hold(t, "release", "--api", srv.URL, "--hold", h.ID, "--note", "case closed")
	if err != nil {
		t.Fatalf("release: %v", err)
	}
	if err := json.Unmarshal([]byte(out), &h); err != nil || h.ReleasedBy != "operator:officer-2 (Pavel Orlov)" {
		t.Fatalf("released hold %+v (%v)", h, err)
	}
	if _, _, err := hold(t, "release", "--api", srv.URL, "--hold", h.ID, "--note", "again"); err == nil || !strings.Contains(err.Error(), "409") {
		t.Errorf("second release: %v", err)
	}
	if _, _, err := hold(t, "fly"); err == nil {
		t.Error("unknown action accepted")
	}
	if _, _, err := hold(t, "list", "--api", srv.URL, "--account", acc, "--token", "not-a-token"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("a bad token: %v", err)
	}
}
