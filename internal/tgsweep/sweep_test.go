package tgsweep_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/local/localflow"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/samtemplate"
	"github.com/lethe-dev/lethe/internal/seed"
	"github.com/lethe-dev/lethe/internal/system"
	"github.com/lethe-dev/lethe/internal/testenv"
	"github.com/lethe-dev/lethe/internal/testenv/world"
	"github.com/lethe-dev/lethe/internal/tgsweep"
)

// Monday 2 March 2026, 09:00 UTC.
var monday = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// rig is a test's own Lethe with a small demo seeded, its Telegram sweep pointed at a fake Bot API
// and logging into a buffer.
type rig struct {
	t     *testing.T
	ctx   context.Context
	env   *testenv.Env
	stack *localflow.Stack
	sys   *system.System
	man   seed.Manifest
	tg    *fakeTelegram
	logs  *logBuf
	sweep *tgsweep.Sweep
	// telegram lists the seeded Telegram connections (one per account), with their account.
	telegram []tgConn
}

type tgConn struct {
	account string
	bot     string
	seed.ManifestConnection
}

func (c tgConn) token() string { return c.Secrets["bot_token"] }

func newRig(t *testing.T) *rig {
	t.Helper()
	wd := world.New(t, world.Options{Start: monday, Seed: 5,
		Size: seed.Size{Accounts: 2, BotsPerAccount: 2, EndUsersPerBot: 4, ConversationsPerEndUser: 1, MessagesPerConversation: 3,
			InboxPerEndUser: 1, FilesPerEndUser: 1, ActivityLogsPerAccount: 2, PaymentsPerAccount: 1}})
	env, stack, m := wd.Env, wd.Stack, wd.Manifest
	r := &rig{t: t, ctx: wd.Ctx, env: env, stack: stack, sys: stack.System, tg: newFakeTelegram(t), logs: &logBuf{}, man: m}
	for i, a := range m.Accounts {
		// The owners' mail lands in the test's own mail domain.
		wd.OwnerMail(a.ID, "owner"+string(rune('a'+i)))
		for _, b := range a.Bots {
			for _, c := range b.Connections {
				if c.Channel == platform.ChannelTelegram {
					r.telegram = append(r.telegram, tgConn{account: a.ID, bot: b.ID, ManifestConnection: c})
				}
			}
		}
	}
	if len(r.telegram) != 2 {
		t.Fatalf("the demo has %d Telegram connections, want one per account", len(r.telegram))
	}
	// The system's own sweep, wired by system.New from the configuration.
	r.sweep = r.sys.TelegramSweep
	if r.sweep == nil || r.sweep.Client == nil || r.sweep.Client.BaseURL != config.DefaultTelegramAPIBaseURL || r.sweep.Table != r.env.Tables[datamap.PlatformTable] {
		t.Fatalf("system.New wired the sweep as %+v", r.sweep)
	}
	r.sweep.Client.BaseURL = r.tg.URL()
	r.sweep.Log = slog.New(slog.NewJSONHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return r
}

// run sweeps once and checks that neither the error nor the logs hold a token.
func (r *rig) run() (tgsweep.Report, error) {
	r.t.Helper()
	rep, err := r.sweep.Run(r.ctx)
	if err != nil {
		r.noTokens("the error", err.Error())
	}
	b, _ := json.Marshal(rep)
	r.noTokens("the report", string(b))
	r.noTokens("the logs", r.logs.String())
	return rep, err
}

func (r *rig) settle() {
	r.t.Helper()
	if err := r.stack.Engine.Settle(r.ctx); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) noTokens(what, s string) {
	r.t.Helper()
	var toks []string
	for _, c := range r.allConnections() {
		for _, v := range c.Secrets {
			toks = append(toks, v)
		}
	}
	for _, c := range r.telegram {
		toks = append(toks, c.token())
	}
	noToken(r.t, what, s, toks...)
}

// allConnections is every connection of every seeded account, as stored now.
func (r *rig) allConnections() []platform.ChannelConnection {
	r.t.Helper()
	var out []platform.ChannelConnection
	for _, a := range r.man.Accounts {
		cs, err := r.sys.Store.Connections(r.ctx, a.ID, "")
		if err != nil {
			r.t.Fatal(err)
		}
		out = append(out, cs...)
	}
	return out
}

// wipes lists the connection-wipe requests of every seeded account.
func (r *rig) wipes() []request.Request {
	r.t.Helper()
	var out []request.Request
	for _, a := range r.man.Accounts {
		rs, _, err := r.sys.Ledger.ByAccount(r.ctx, a.ID, 0, "")
		if err != nil {
			r.t.Fatal(err)
		}
		for _, q := range rs {
			if q.Kind == request.KindConnectionWipe {
				out = append(out, q)
			}
		}
	}
	return out
}

func TestRevokedTokenWipesItsConnection(t *testing.T) {
	r := newRig(t)
	gone, kept := r.telegram[0], r.telegram[1]
	before, err := r.sys.Store.Connection(r.ctx, gone.ID)
	if err != nil {
		t.Fatal(err)
	}
	r.tg.set(gone.token(), revoked)

	rep, err := r.run()
	if err != nil {
		t.Fatal(err)
	}
	if want := (tgsweep.Report{Checked: 2, Revoked: 1, Requested: 1}); rep != want {
		t.Fatalf("first run: %+v, want %+v", rep, want)
	}
	// A second run while the wipe may still be running finds the connection marked revoked (or
	// already gone) and asks nothing of Telegram about it.
	rep, err = r.run()
	if err != nil {
		t.Fatal(err)
	}
	if want := (tgsweep.Report{Checked: 1}); rep != want {
		t.Fatalf("second run: %+v, want %+v", rep, want)
	}
	if n := r.tg.callsFor(gone.token()); n != 1 {
		t.Errorf("the revoked token was checked %d times, want once", n)
	}
	r.settle()

	wipes := r.wipes()
	if len(wipes) != 1 {
		t.Fatalf("%d connection wipes, want 1: %+v", len(wipes), wipes)
	}
	w := wipes[0]
	wantScope := platform.ScopeRef{Kind: datamap.ScopeConnection, AccountID: gone.account, BotID: gone.bot,
		ConnectionID: gone.ID, Channel: platform.ChannelTelegram}
	if w.ID != tgsweep.RequestID(before) || w.Kind != request.KindConnectionWipe || w.Source != tgsweep.Source ||
		w.Scope.Kind != wantScope.Kind || w.Scope.AccountID != wantScope.AccountID || w.Scope.BotID != wantScope.BotID ||
		w.Scope.ConnectionID != wantScope.ConnectionID || w.Scope.Channel != wantScope.Channel {
		t.Errorf("request %+v, want id %s, source %s, scope %+v", w, tgsweep.RequestID(before), tgsweep.Source, wantScope)
	}
	if w.Status != request.StatusCompleted {
		t.Fatalf("the wipe is %s, want completed", w.Status)
	}
	if len(w.History) == 0 || w.History[0].Actor != tgsweep.Source {
		t.Errorf("history %+v: want the sweep as the first actor", w.History)
	}
	left, err := r.sys.Engine.Verify(r.ctx, w.Scope)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Fatalf("left after the wipe: %v", left)
	}
	if _, err := r.sys.Store.Connection(r.ctx, gone.ID); !errors.Is(err, platform.ErrNotFound) {
		t.Fatalf("the wiped connection reads back: %v", err)
	}
	// Every other connection, of both accounts and all channels, is still there and active.
	seeded := 0
	for _, a := range r.man.Accounts {
		for _, b := range a.Bots {
			seeded += len(b.Connections)
		}
	}
	others := r.allConnections()
	if len(others) != seeded-1 {
		t.Fatalf("%d connections left, want %d", len(others), seeded-1)
	}
	for _, c := range others {
		if c.ID == gone.ID || c.Status != platform.ConnectionActive {
			t.Errorf("connection %s (%s) is %s", c.ID, c.Channel, c.Status)
		}
	}
	if c, err := r.sys.Store.Connection(r.ctx, kept.ID); err != nil || c.Status != platform.ConnectionActive || c.Secrets["bot_token"] != kept.token() {
		t.Errorf("the valid Telegram connection: %+v, %v", c, err)
	}
	// The other account's data is whole.
	if left, err := r.sys.Engine.Verify(r.ctx, platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: kept.account}); err != nil ||
		left[datamap.ChannelConnection] == 0 || left[datamap.EndUserProfile] == 0 {
		t.Errorf("the other account: %v, %v", left, err)
	}

	// After the wipe: nothing new.
	rep, err = r.run()
	if err != nil {
		t.Fatal(err)
	}
	if want := (tgsweep.Report{Checked: 1}); rep != want {
		t.Fatalf("run after the wipe: %+v, want %+v", rep, want)
	}
	r.settle()
	if n := len(r.wipes()); n != 1 {
		t.Fatalf("%d wipes after another run, want 1", n)
	}

	// The same connection found again (say its status was set back before the wipe ran) makes no
	// second request: the id is the connection's.
	if err := r.sys.Store.Put(r.ctx, before); err != nil {
		t.Fatal(err)
	}
	rep, err = r.run()
	if err != nil {
		t.Fatal(err)
	}
	if want := (tgsweep.Report{Checked: 2, Revoked: 1}); rep != want {
		t.Fatalf("run over the same connection: %+v, want %+v", rep, want)
	}
	r.settle()
	if n := len(r.wipes()); n != 1 {
		t.Fatalf("%d wipes after the same connection was found again, want 1", n)
	}
	if !strings.Contains(r.logs.String(), gone.ID) {
		t.Error("the logs do not name the wiped connection")
	}
}

// A malformed token (Telegram's 404) is a token that can never work: its connection is wiped too.
func TestMalformedTokenWipesItsConnection(t *testing.T) {
	r := newRig(t)
	gone := r.telegram[1]
	r.tg.set(gone.token(), malformed)
	rep, err := r.run()
	if err != nil {
		t.Fatal(err)
	}
	if want := (tgsweep.Report{Checked: 2, Revoked: 1, Requested: 1}); rep != want {
		t.Fatalf("%+v, want %+v", rep, want)
	}
	r.settle()
	wipes := r.wipes()
	if len(wipes) != 1 || wipes[0].Scope.ConnectionID != gone.ID || wipes[0].Status != request.StatusCompleted {
		t.Fatalf("wipes %+v", wipes)
	}
}

// Telegram down, busy or unreachable says nothing about a token: nothing is wiped, each is an error
// of the run, and the next run asks again.
func TestTransientFailuresNeverWipe(t *testing.T) {
	r := newRig(t)
	// A third and fourth Telegram connection on the first account's bot, to cover every failure.
	extra := []platform.ChannelConnection{}
	for i, tok := range []string{"7000000001:AAFailsWithANetworkErrorxxxxxxxxxxx", "7000000002:AAProxyAnswers401Itselfxxxxxxxxxxxx"} {
		c := platform.ChannelConnection{AccountID: r.telegram[0].account, BotID: r.telegram[0].bot,
			ID: platform.NewID(monday.Add(-time.Duration(i+1) * time.Hour)), Channel: platform.ChannelTelegram,
			ChannelKey: strings.Split(tok, ":")[0], Name: "@extra_bot", Status: platform.ConnectionActive,
			Secrets: map[string]string{"bot_token": tok}, CreatedAt: monday.Add(-48 * time.Hour)}
		if err := r.sys.Store.Put(r.ctx, c); err != nil {
			t.Fatal(err)
		}
		extra = append(extra, c)
		r.telegram = append(r.telegram, tgConn{account: c.AccountID, bot: c.BotID,
			ManifestConnection: seed.ManifestConnection{ID: c.ID, Channel: c.Channel, ChannelKey: c.ChannelKey, Secrets: c.Secrets}})
	}
	r.tg.set(r.telegram[0].token(), down)
	r.tg.set(r.telegram[1].token(), busy)
	r.tg.set(extra[0].Secrets["bot_token"], drop)
	r.tg.set(extra[1].Secrets["bot_token"], proxy401)

	rep, err := r.run()
	if err != nil {
		t.Fatal(err)
	}
	if want := (tgsweep.Report{Checked: 4, Errors: 4}); rep != want {
		t.Fatalf("%+v, want %+v", rep, want)
	}
	r.settle()
	if w := r.wipes(); len(w) != 0 {
		t.Fatalf("transient failures made wipes: %+v", w)
	}
	for _, c := range r.allConnections() {
		if c.Status != platform.ConnectionActive {
			t.Errorf("connection %s is %s", c.ID, c.Status)
		}
	}
	logs := r.logs.String()
	for _, c := range r.telegram {
		if !strings.Contains(logs, c.ID) {
			t.Errorf("the logs do not name the unchecked connection %s", c.ID)
		}
	}
	if !strings.Contains(logs, "retry after 7s") {
		t.Errorf("the 429's retry_after is not in the logs:\n%s", logs)
	}

	// Telegram back: the next run checks them all again, and they are fine.
	for _, c := range r.telegram {
		r.tg.set(c.token(), valid)
	}
	rep, err = r.run()
	if err != nil || rep != (tgsweep.Report{Checked: 4}) {
		t.Fatalf("run after recovery: %+v, %v", rep, err)
	}
}

// A connection that changed between the check and the wipe (a new token, disabled) is not wiped.
func TestChangedConnectionIsNotWiped(t *testing.T) {
	r := newRig(t)
	c := r.telegram[0]
	r.tg.set(c.token(), revoked)
	// The owner pastes a new token while the sweep runs: simulated by a client that answers for
	// the old token only after the connection was updated.
	conn, err := r.sys.Store.Connection(r.ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	var putErr error
	r.sweep.Client = &tgsweep.Client{BaseURL: r.sweep.Client.BaseURL, HTTP: &http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		once.Do(func() {
			conn.Secrets = map[string]string{"bot_token": c.ChannelKey + ":AAfreshTokenAfterTheOldWasRevokedxx", "secret_token": conn.Secrets["secret_token"]}
			putErr = r.sys.Store.Put(r.ctx, conn)
		})
		if putErr != nil {
			return nil, putErr
		}
		return http.DefaultTransport.RoundTrip(req)
	})}}
	r.sweep.Concurrency = 1
	rep, err := r.run()
	if err != nil {
		t.Fatal(err)
	}
	if rep.Revoked != 1 || rep.Requested != 0 || rep.Errors != 0 {
		t.Fatalf("%+v: want the refusal seen and nothing requested", rep)
	}
	r.settle()
	if w := r.wipes(); len(w) != 0 {
		t.Fatalf("wipes %+v", w)
	}
	got, err := r.sys.Store.Connection(r.ctx, c.ID)
	if err != nil || got.Status != platform.ConnectionActive {
		t.Fatalf("connection %+v, %v", got.Status, err)
	}
}

// Many refusals at once are a fault, not that many owners: the run wipes nothing and says so.
func TestBreakerStopsAMassWipe(t *testing.T) {
	r := newRig(t)
	for i := range 12 {
		tok := "70000001" + string(rune('0'+i/10)) + string(rune('0'+i%10)) + ":AAmassRevocationxxxxxxxxxxxxxxxxxxx"
		c := platform.ChannelConnection{AccountID: r.telegram[0].account, BotID: r.telegram[0].bot,
			ID: platform.NewID(monday.Add(-time.Duration(i+1) * time.Minute)), Channel: platform.ChannelTelegram,
			ChannelKey: strings.Split(tok, ":")[0], Status: platform.ConnectionActive,
			Secrets: map[string]string{"bot_token": tok}, CreatedAt: monday.Add(-48 * time.Hour)}
		if err := r.sys.Store.Put(r.ctx, c); err != nil {
			t.Fatal(err)
		}
		r.tg.set(tok, revoked)
	}
	rep, err := r.run()
	if !errors.Is(err, tgsweep.ErrTooManyRevoked) {
		t.Fatalf("got %v, want ErrTooManyRevoked", err)
	}
	if rep.Revoked != 12 || rep.Requested != 0 {
		t.Fatalf("%+v", rep)
	}
	r.settle()
	if w := r.wipes(); len(w) != 0 {
		t.Fatalf("the breaker let %d wipes through", len(w))
	}
	for _, c := range r.allConnections() {
		if c.Status != platform.ConnectionActive {
			t.Errorf("connection %s is %s", c.ID, c.Status)
		}
	}
}

// The Lambda handler takes the scheduled event's input, whatever it is.
func TestHandleTakesTheScheduledEvent(t *testing.T) {
	r := newRig(t)
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "events", "telegram-sweep", "scheduled.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b) {
		t.Fatal("events/telegram-sweep/scheduled.json is not JSON")
	}
	for _, in := range []json.RawMessage{b, json.RawMessage(`{}`), nil} {
		rep, err := r.sweep.Handle(r.ctx, in)
		if err != nil || rep != (tgsweep.Report{Checked: 2}) {
			t.Fatalf("input %s: %+v, %v", in, rep, err)
		}
	}
}

func TestRequestIDIsTheConnections(t *testing.T) {
	a := platform.ChannelConnection{ID: "01JQ8ZK7M3V6TQ2R5X9YB4C1DE", CreatedAt: monday.Add(-400 * 24 * time.Hour)}
	b := a
	b.ID = "01JQ8ZK7M3V6TQ2R5X9YB4C1DF"
	if tgsweep.RequestID(a) != tgsweep.RequestID(a) || tgsweep.RequestID(a) == tgsweep.RequestID(b) {
		t.Fatal("the request id is not one per connection")
	}
	if id := tgsweep.RequestID(platform.ChannelConnection{ID: "x"}); len(id) != 26 {
		t.Fatalf("a connection without a creation time: id %q", id)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

func repoRoot(t *testing.T) string {
	t.Helper()
	path, err := samtemplate.Find()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(path)
}
