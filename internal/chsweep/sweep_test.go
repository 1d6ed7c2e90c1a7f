package chsweep_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/chanapi"
	"github.com/lethe-dev/lethe/internal/chsweep"
	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/samtemplate"
	"github.com/lethe-dev/lethe/internal/seed"
	"github.com/lethe-dev/lethe/internal/testenv/world"
)

// Monday 2 March 2026, 09:00 UTC: the first run's hour, slot "09".
var monday = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// rig is a test's own Lethe with a small demo seeded (two accounts whose bots use all seven
// channels), and a channel sweep over a counting DynamoDB client, asking a scripted channel API and
// logging into a buffer. Its clock is the engine's virtual clock.
type rig struct {
	t      *testing.T
	ctx    context.Context
	w      *world.World
	db     *countingDB
	api    *script
	logs   *logBuf
	sweep  *chsweep.Sweep
	checks *ledger.ConnChecks
	// secrets are every secret of every connection the test saw: none may reach a log or report.
	secrets []string
	// account and bot are where the test's own connections go.
	account, bot string
}

func newRig(t *testing.T) *rig {
	t.Helper()
	w := world.New(t, world.Options{Start: monday, Seed: 5,
		Size: seed.Size{Accounts: 2, BotsPerAccount: 2, EndUsersPerBot: 2, ConversationsPerEndUser: 1, MessagesPerConversation: 2,
			InboxPerEndUser: 1, FilesPerEndUser: 1, ActivityLogsPerAccount: 1, PaymentsPerAccount: 1}})
	now := w.Engine.Clock().Now
	db := &countingDB{Client: w.Env.DynamoDB}
	policy := w.Sys.Store.Policy()
	store := platform.NewStore(db, w.Env.Tables, policy, now)
	r := &rig{t: t, ctx: w.Ctx, w: w, db: db, api: newScript(now), logs: &logBuf{},
		checks:  ledger.NewConnChecks(db, w.Env.Tables[datamap.LedgerTable], policy, now),
		account: w.Manifest.Accounts[0].ID, bot: w.Manifest.Accounts[0].Bots[0].ID}
	for i, a := range w.Manifest.Accounts {
		w.OwnerMail(a.ID, "owner"+strconv.Itoa(i))
		for _, b := range a.Bots {
			for _, c := range b.Connections {
				for _, v := range c.Secrets {
					r.secrets = append(r.secrets, v)
				}
			}
		}
	}
	r.sweep = &chsweep.Sweep{DB: db, Checks: r.checks, Store: store, Requests: w.Sys.Requests, Client: r.api, Now: now,
		Log: slog.New(slog.NewJSONHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Concurrency: 4, PageSize: 3}
	return r
}

// run sweeps once and checks that it made no Scan and that neither the error, the report nor the
// logs hold a secret.
func (r *rig) run() (chsweep.Report, error) {
	r.t.Helper()
	rep, err := r.sweep.Run(r.ctx)
	if err != nil {
		noSecrets(r.t, "the error", err.Error(), r.secrets)
	}
	b, _ := json.Marshal(rep)
	noSecrets(r.t, "the report", string(b), r.secrets)
	noSecrets(r.t, "the logs", r.logs.String(), r.secrets)
	if n := r.db.scans.Load(); n != 0 {
		r.t.Fatalf("the sweep made %d Scans", n)
	}
	return rep, err
}

// mustRun is run, failing the test on an error.
func (r *rig) mustRun() chsweep.Report {
	r.t.Helper()
	rep, err := r.run()
	if err != nil {
		r.t.Fatal(err)
	}
	return rep
}

func (r *rig) advance(d time.Duration) {
	r.t.Helper()
	if _, err := r.w.Engine.Advance(r.ctx, d); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) settle() {
	r.t.Helper()
	if err := r.w.Engine.Settle(r.ctx); err != nil {
		r.t.Fatal(err)
	}
}

// connection stores a new active connection of channel on the rig's bot, with an id whose slot is
// slot, made at created.
func (r *rig) connection(channel, slot, channelKey string, created time.Time) platform.ChannelConnection {
	r.t.Helper()
	var id string
	for i := 0; ; i++ {
		id = platform.NewID(created.Add(time.Duration(i) * time.Millisecond))
		if platform.ConnectionSlot(id) == slot {
			break
		}
	}
	secret := "s3cr3t-" + channel + "-" + id
	c := platform.ChannelConnection{AccountID: r.account, BotID: r.bot, ID: id, Channel: channel, ChannelKey: channelKey,
		Name: "test " + channel, Status: platform.ConnectionActive, Secrets: map[string]string{"access_token": secret},
		CreatedAt: created}
	if err := r.w.Sys.Store.Put(r.ctx, c); err != nil {
		r.t.Fatal(err)
	}
	r.secrets = append(r.secrets, secret)
	return c
}

// allConnections is every connection of every seeded account, as stored now.
func (r *rig) allConnections() []platform.ChannelConnection {
	r.t.Helper()
	var out []platform.ChannelConnection
	for _, a := range r.w.Manifest.Accounts {
		cs, err := r.w.Sys.Store.Connections(r.ctx, a.ID, "")
		if err != nil {
			r.t.Fatal(err)
		}
		out = append(out, cs...)
	}
	return out
}

// wipes lists the connection-wipe requests of every seeded account, by connection id.
func (r *rig) wipes() map[string]request.Request {
	r.t.Helper()
	out := map[string]request.Request{}
	for _, a := range r.w.Manifest.Accounts {
		rs, _, err := r.w.Sys.Ledger.ByAccount(r.ctx, a.ID, 0, "")
		if err != nil {
			r.t.Fatal(err)
		}
		for _, q := range rs {
			if q.Kind == request.KindConnectionWipe {
				if _, dup := out[q.Scope.ConnectionID]; dup {
					r.t.Errorf("two wipe requests for connection %s", q.Scope.ConnectionID)
				}
				out[q.Scope.ConnectionID] = q
			}
		}
	}
	return out
}

func (r *rig) suspects() []string {
	r.t.Helper()
	ss, err := r.checks.Suspicions(r.ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	var out []string
	for _, s := range ss {
		out = append(out, s.ConnectionID)
	}
	sort.Strings(out)
	return out
}

// gone fails the test unless the connection was wiped by the sweep's request, completed.
func (r *rig) wiped(c platform.ChannelConnection) {
	r.t.Helper()
	w, ok := r.wipes()[c.ID]
	if !ok {
		r.t.Fatalf("no wipe of %s connection %s", c.Channel, c.ID)
	}
	src := chsweep.Source(c.Channel)
	if w.ID != chsweep.RequestID(c) || w.Source != src || w.Scope.Kind != datamap.ScopeConnection || w.Scope.Channel != c.Channel ||
		w.Scope.AccountID != c.AccountID || w.Scope.BotID != c.BotID || len(w.History) == 0 || w.History[0].Actor != src {
		r.t.Errorf("wipe %+v: want id %s, source and first actor %s, the connection's scope", w, chsweep.RequestID(c), src)
	}
	if w.Status != request.StatusCompleted {
		r.t.Errorf("the wipe of %s is %s", c.ID, w.Status)
	}
	if _, err := r.w.Sys.Store.Connection(r.ctx, c.ID); !errors.Is(err, platform.ErrNotFound) {
		r.t.Errorf("the wiped connection %s reads back: %v", c.ID, err)
	}
}

// kept fails the test if the connection is not still there, active, unwiped.
func (r *rig) kept(c platform.ChannelConnection) {
	r.t.Helper()
	got, err := r.w.Sys.Store.Connection(r.ctx, c.ID)
	if err != nil || got.Status != platform.ConnectionActive {
		r.t.Errorf("connection %s (%s): %+v, %v; want it active", c.ID, c.Channel, got.Status, err)
	}
	if _, ok := r.wipes()[c.ID]; ok {
		r.t.Errorf("connection %s (%s) has a wipe request", c.ID, c.Channel)
	}
}

func hourOf(t time.Time) string { return t.UTC().Truncate(time.Hour).Format(chsweep.HourFormat) }

// Every connection is in one slot, and 24 hourly runs over a virtual day check each exactly once,
// in its own hour, by Queries of the sparse index and never a Scan.
func TestEveryConnectionIsCheckedOnceADayInItsHour(t *testing.T) {
	r := newRig(t)
	conns := r.allConnections()
	if len(conns) < 14 {
		t.Fatalf("the demo has %d connections", len(conns))
	}
	bySlot := map[string]int{}
	for _, c := range conns {
		bySlot[platform.ConnectionSlot(c.ID)]++
	}
	var slots []string
	for i := range 24 {
		rep := r.mustRun()
		at := r.w.Engine.Clock().Now()
		if want := []string{hourOf(at)}; !reflect.DeepEqual(rep.Slots, want) || rep.Partial {
			t.Fatalf("run %d at %s: slots %v partial %v, want %v", i, at, rep.Slots, rep.Partial, want)
		}
		if want := bySlot[platform.SlotName(at.Hour())]; rep.Total.Checked != want || rep.Total.Errors != 0 || rep.Total.Suspected != 0 {
			t.Fatalf("run %d at %s: %+v, want %d checked", i, at, rep.Total, want)
		}
		slots = append(slots, rep.Slots...)
		r.advance(time.Hour)
	}
	for _, c := range conns {
		ts := r.api.times(c.ID)
		if len(ts) != 1 {
			t.Errorf("connection %s checked %d times in a day, want once", c.ID, len(ts))
			continue
		}
		if got := platform.SlotName(ts[0].Hour()); got != platform.ConnectionSlot(c.ID) {
			t.Errorf("connection %s of slot %s checked at %s", c.ID, platform.ConnectionSlot(c.ID), ts[0])
		}
	}
	if len(slots) != 24 {
		t.Fatalf("a day of runs went through %d slots: %v", len(slots), slots)
	}
	if r.db.slotQueries.Load() < 24 {
		t.Errorf("%d Queries of GSI3 for 24 slots", r.db.slotQueries.Load())
	}
	// The next day, the same again.
	r.mustRun()
	for _, c := range conns {
		if platform.ConnectionSlot(c.ID) == platform.SlotName(monday.Hour()) && r.api.checks(c.ID) != 2 {
			t.Errorf("connection %s of slot 09 checked %d times after a day and an hour", c.ID, r.api.checks(c.ID))
		}
	}
}

// A run that did not happen is caught up by the next: every slot since the saved position, at most
// a day's 24.
func TestAMissedRunIsCaughtUp(t *testing.T) {
	r := newRig(t)
	conns := r.allConnections()
	r.mustRun()              // 09
	r.advance(5 * time.Hour) // the runs of 10 to 13 did not happen
	rep := r.mustRun()
	want := []string{"2026-03-02T10", "2026-03-02T11", "2026-03-02T12", "2026-03-02T13", "2026-03-02T14"}
	if !reflect.DeepEqual(rep.Slots, want) {
		t.Fatalf("slots %v, want %v", rep.Slots, want)
	}
	for _, c := range conns {
		h, _ := strconv.Atoi(platform.ConnectionSlot(c.ID))
		want := 0
		if h >= 9 && h <= 14 {
			want = 1
		}
		if n := r.api.checks(c.ID); n != want {
			t.Errorf("connection %s of slot %02d checked %d times, want %d", c.ID, h, n, want)
		}
	}
	// A day and a half without a run (within the two days the position is kept): the last 24
	// hours, each slot once.
	r.advance(36 * time.Hour)
	rep = r.mustRun()
	if len(rep.Slots) != 24 || rep.Slots[23] != hourOf(r.w.Engine.Clock().Now()) {
		t.Fatalf("after a day and a half: slots %v", rep.Slots)
	}
	for _, c := range conns {
		h, _ := strconv.Atoi(platform.ConnectionSlot(c.ID))
		want := 1
		if h >= 9 && h <= 14 {
			want = 2
		}
		if n := r.api.checks(c.ID); n != want {
			t.Errorf("connection %s of slot %02d checked %d times, want %d", c.ID, h, n, want)
		}
	}
}

// A run whose time ran out part way through a slot saves where it stopped; the next run resumes
// there and checks no connection twice.
func TestARunCutShortResumesWithoutRecheck(t *testing.T) {
	r := newRig(t)
	for i := range 7 {
		r.connection(platform.ChannelTelegram, "09", "700000010"+strconv.Itoa(i), monday.Add(-48*time.Hour))
	}
	r.sweep.Concurrency = 1 // checks in the slot's order
	var cancel context.CancelFunc
	chsweep.SetWindow(r.sweep, func(ctx context.Context) (context.Context, context.CancelFunc) {
		c, cf := context.WithCancel(ctx)
		cancel = cf
		return c, cf
	})
	// The fourth check of the slot is answered, and then the window closes.
	checked := 0
	var slot09 []platform.ChannelConnection
	for _, c := range r.allConnections() {
		if platform.ConnectionSlot(c.ID) == "09" && c.Status == platform.ConnectionActive {
			slot09 = append(slot09, c)
		}
	}
	for _, c := range slot09 {
		r.api.set(c.ID, answer{res: valid.res, hook: func() {
			checked++
			if checked == 4 {
				cancel()
			}
		}})
	}
	rep, err := r.run()
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Partial || len(rep.Slots) != 0 || rep.Total.Checked != 4 {
		t.Fatalf("cut-short run: %+v", rep)
	}
	chsweep.SetWindow(r.sweep, nil)
	rep = r.mustRun()
	if rep.Partial || !reflect.DeepEqual(rep.Slots, []string{"2026-03-02T09"}) || rep.Total.Checked != len(slot09)-4 {
		t.Fatalf("resumed run: %+v, want the other %d of slot 09", rep, len(slot09)-4)
	}
	for _, c := range slot09 {
		if n := r.api.checks(c.ID); n != 1 {
			t.Errorf("connection %s checked %d times, want once", c.ID, n)
		}
	}
	// Done for the hour: a third run in the same hour checks nothing.
	if rep := r.mustRun(); rep.Total.Checked != 0 || len(rep.Slots) != 0 {
		t.Fatalf("a third run in the hour: %+v", rep)
	}
}

// One refusal is a suspicion, not a wipe; a second refusal less than an hour later is not looked
// for; the second at least an hour later wipes, once.
func TestTwoRefusalsAnHourApartWipe(t *testing.T) {
	r := newRig(t)
	c := r.connection(platform.ChannelTelegram, "09", "7000000001", monday.Add(-48*time.Hour))
	r.api.set(c.ID, refused(platform.ChannelTelegram))

	rep := r.mustRun() // 09:00
	if got := rep.Channels[platform.ChannelTelegram]; got.Suspected != 1 || got.Confirmed != 0 || got.Requested != 0 {
		t.Fatalf("first refusal: %+v", rep)
	}
	r.settle()
	r.kept(c)
	if got := r.suspects(); !reflect.DeepEqual(got, []string{c.ID}) {
		t.Fatalf("suspicions %v", got)
	}
	r.advance(59 * time.Minute) // 09:59: too soon for the second
	rep = r.mustRun()
	if rep.Total.Confirmed != 0 || rep.Total.Requested != 0 || r.api.checks(c.ID) != 1 {
		t.Fatalf("59 minutes later: %+v, %d checks", rep, r.api.checks(c.ID))
	}
	r.settle()
	r.kept(c)

	r.advance(time.Minute) // 10:00: an hour since the first
	rep = r.mustRun()
	if got := rep.Channels[platform.ChannelTelegram]; got.Confirmed != 1 || got.Requested != 1 || got.Errors != 0 {
		t.Fatalf("second refusal an hour later: %+v", rep)
	}
	r.settle()
	r.wiped(c)
	if got := r.suspects(); len(got) != 0 {
		t.Errorf("suspicions left after the wipe: %v", got)
	}
	// Later runs make no second request.
	r.advance(time.Hour)
	if rep := r.mustRun(); rep.Total.Requested != 0 || rep.Total.Confirmed != 0 {
		t.Fatalf("after the wipe: %+v", rep)
	}
	r.settle()
	if n := len(r.wipes()); n != 1 {
		t.Fatalf("%d wipes, want 1", n)
	}
}

// The channel accepting the credential at the second check clears the suspicion: a later refusal
// starts over.
func TestAcceptedBetweenRefusalsClearsTheSuspicion(t *testing.T) {
	r := newRig(t)
	c := r.connection(platform.ChannelSlack, "09", "T0SLACK001", monday.Add(-48*time.Hour))
	r.api.set(c.ID, refused(platform.ChannelSlack), valid, refused(platform.ChannelSlack))
	r.mustRun()
	r.advance(time.Hour)
	if rep := r.mustRun(); rep.Total.Confirmed != 0 || rep.Total.Requested != 0 {
		t.Fatalf("accepted at the recheck: %+v", rep)
	}
	if got := r.suspects(); len(got) != 0 {
		t.Fatalf("suspicions after the credential was accepted: %v", got)
	}
	// The next day's check is refused: a first refusal again, not a wipe.
	r.advance(23 * time.Hour)
	rep := r.mustRun()
	if got := rep.Channels[platform.ChannelSlack]; got.Suspected != 1 || got.Requested != 0 {
		t.Fatalf("next day: %+v", rep)
	}
	r.settle()
	r.kept(c)
}

// A rate limit, a 5xx, a timeout or a missing credential says nothing: at the first check it
// records no suspicion, at the second it keeps the suspicion without wiping; only a real second
// refusal wipes.
func TestTransientAnswersNeverCount(t *testing.T) {
	for name, tr := range transient {
		t.Run(name, func(t *testing.T) {
			r := newRig(t)
			first := r.connection(platform.ChannelTelegram, "09", "7000000002", monday.Add(-48*time.Hour))
			second := r.connection(platform.ChannelTelegram, "09", "7000000003", monday.Add(-48*time.Hour))
			r.api.set(first.ID, tr)
			r.api.set(second.ID, refused(platform.ChannelTelegram), tr, tr, refused(platform.ChannelTelegram))

			rep := r.mustRun() // 09: first fails, second refused
			if got := rep.Channels[platform.ChannelTelegram]; got.Suspected != 1 || got.Errors != 1 {
				t.Fatalf("first run: %+v", rep)
			}
			if got := r.suspects(); !reflect.DeepEqual(got, []string{second.ID}) {
				t.Fatalf("suspicions %v, want only the refused connection", got)
			}
			for range 2 { // 10, 11: the recheck fails
				r.advance(time.Hour)
				rep := r.mustRun()
				if got := rep.Channels[platform.ChannelTelegram]; got.Confirmed != 0 || got.Requested != 0 || got.Errors != 1 {
					t.Fatalf("a failed recheck: %+v", rep)
				}
				if got := r.suspects(); !reflect.DeepEqual(got, []string{second.ID}) {
					t.Fatalf("suspicions %v after a failed recheck", got)
				}
			}
			r.settle()
			r.kept(first)
			r.kept(second)
			r.advance(time.Hour) // 12: refused again
			if rep := r.mustRun(); rep.Total.Requested != 1 {
				t.Fatalf("refused again: %+v", rep)
			}
			r.settle()
			r.wiped(second)
			r.kept(first)
		})
	}
}

// A connection given a new credential between the refusals is not wiped: neither when it changed
// before the recheck (no recheck; the suspicion goes) nor while the recheck was answered.
func TestChangedCredentialIsNotWiped(t *testing.T) {
	r := newRig(t)
	before := r.connection(platform.ChannelVK, "09", "100000001", monday.Add(-48*time.Hour))
	during := r.connection(platform.ChannelViber, "09", "lethebot", monday.Add(-48*time.Hour))
	renew := func(c platform.ChannelConnection) {
		c.Secrets = map[string]string{"access_token": "renewed-" + c.ID}
		r.secrets = append(r.secrets, c.Secrets["access_token"])
		if err := r.w.Sys.Store.Put(r.ctx, c); err != nil {
			t.Error(err)
		}
	}
	r.api.set(before.ID, refused(platform.ChannelVK))
	r.api.set(during.ID, refused(platform.ChannelViber), answer{res: refusals[platform.ChannelViber], hook: func() { renew(during) }})
	if rep := r.mustRun(); rep.Total.Suspected != 2 {
		t.Fatalf("first run: %+v", rep)
	}
	renew(before)
	r.advance(time.Hour)
	rep := r.mustRun()
	if rep.Total.Requested != 0 || r.api.checks(before.ID) != 1 || r.api.checks(during.ID) != 2 {
		t.Fatalf("second run: %+v; checks %d, %d", rep, r.api.checks(before.ID), r.api.checks(during.ID))
	}
	r.settle()
	r.kept(before)
	r.kept(during)
	if got := r.suspects(); len(got) != 0 {
		t.Errorf("suspicions of changed connections kept: %v", got)
	}
}

// Many refusals at once are a fault, not that many owners: the runs wipe nothing and say so.
func TestBreakerStopsAMassWipe(t *testing.T) {
	r := newRig(t)
	var ours []platform.ChannelConnection
	for i := range 12 {
		c := r.connection(platform.ChannelWhatsApp, "09", "10000000000000"+strconv.Itoa(i), monday.Add(-48*time.Hour))
		r.api.set(c.ID, refused(platform.ChannelWhatsApp))
		ours = append(ours, c)
	}
	rep, err := r.run()
	if !errors.Is(err, chsweep.ErrTooManyRevoked) || rep.Total.Suspected != 12 {
		t.Fatalf("first run: %+v, %v; want ErrTooManyRevoked", rep, err)
	}
	r.advance(time.Hour)
	rep, err = r.run()
	if !errors.Is(err, chsweep.ErrTooManyRevoked) || rep.Total.Confirmed != 12 || rep.Total.Requested != 0 {
		t.Fatalf("second run: %+v, %v; want ErrTooManyRevoked", rep, err)
	}
	r.settle()
	if w := r.wipes(); len(w) != 0 {
		t.Fatalf("the breaker let %d wipes through", len(w))
	}
	for _, c := range ours {
		r.kept(c)
	}
	if n := len(r.suspects()); n != 12 {
		t.Errorf("%d suspicions kept, want 12 for the runs after the fault", n)
	}
}

// A Messenger page token refused twice wipes every Messenger and Instagram connection of the page;
// another page's, and one connected after the refusal, stay.
func TestRefusedPageTokenWipesThePage(t *testing.T) {
	r := newRig(t)
	const page, other = "104000000000001", "104000000000002"
	made := monday.Add(-48 * time.Hour)
	messenger := r.connection(platform.ChannelMessenger, "09", page, made)
	instagram := r.connection(platform.ChannelInstagram, "15", page, made)
	elsewhere := r.connection(platform.ChannelInstagram, "15", other, made)
	r.api.set(messenger.ID, refused(platform.ChannelMessenger))

	r.mustRun()                 // 09:00, refused
	r.advance(30 * time.Minute) // the owner reconnects Instagram with a new token
	later := r.connection(platform.ChannelInstagram, "15", page, r.w.Engine.Clock().Now())
	r.advance(30 * time.Minute)
	rep := r.mustRun() // 10:00, refused again
	if rep.Channels[platform.ChannelMessenger].Requested != 1 || rep.Channels[platform.ChannelInstagram].Requested != 1 {
		t.Fatalf("%+v: want the page's Messenger and Instagram connections wiped", rep)
	}
	r.settle()
	r.wiped(messenger)
	r.wiped(instagram)
	r.kept(elsewhere)
	r.kept(later)
	if n := r.api.checks(instagram.ID); n != 0 {
		t.Errorf("the page's Instagram connection was checked %d times; its page's refusal is enough", n)
	}
}

// Every channel's connection is wiped after two refusals of its channel's own.
func TestEveryChannelIsWipedAfterTwoRefusals(t *testing.T) {
	r := newRig(t)
	var ours []platform.ChannelConnection
	for i, ch := range []string{platform.ChannelTelegram, platform.ChannelWhatsApp, platform.ChannelMessenger,
		platform.ChannelInstagram, platform.ChannelVK, platform.ChannelViber, platform.ChannelSlack} {
		c := r.connection(ch, "09", "key"+strconv.Itoa(i), monday.Add(-48*time.Hour))
		r.api.set(c.ID, refused(ch))
		ours = append(ours, c)
	}
	r.mustRun()
	r.settle()
	for _, c := range ours {
		r.kept(c)
	}
	r.advance(time.Hour)
	rep := r.mustRun()
	for _, c := range ours {
		if got := rep.Channels[c.Channel]; got.Confirmed != 1 || got.Requested != 1 {
			t.Errorf("%s: %+v", c.Channel, got)
		}
	}
	if rep.Total.Requested != 7 || rep.Total.Confirmed != 7 {
		t.Fatalf("%+v", rep.Total)
	}
	r.settle()
	for _, c := range ours {
		r.wiped(c)
	}
	// The seeded connections are all there.
	for _, c := range r.allConnections() {
		if c.Status != platform.ConnectionActive {
			t.Errorf("seeded connection %s is %s", c.ID, c.Status)
		}
	}
}

// system.New wires the sweep from the configuration: the channels' real APIs, the ledger's
// bookkeeping; and the Lambda handler takes the scheduled event's input, whatever it is.
func TestSystemWiresTheSweep(t *testing.T) {
	r := newRig(t)
	s := r.w.Sys.ChannelSweep
	if s == nil || s.Checks == nil || s.Store == nil || s.Requests == nil || s.DB == nil {
		t.Fatalf("system.New wired the sweep as %+v", s)
	}
	clients, ok := s.Client.(*chanapi.Clients)
	want := chanapi.Endpoints{Telegram: config.DefaultTelegramAPIBaseURL, MetaGraph: config.DefaultMetaGraphBaseURL,
		Slack: config.DefaultSlackAPIBaseURL, VK: config.DefaultVKAPIBaseURL, Viber: config.DefaultViberAPIBaseURL}
	if !ok || clients.Endpoints != want {
		t.Fatalf("the sweep's client %+v, want the channels' real APIs %+v", s.Client, want)
	}
	path, err := samtemplate.Find()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(filepath.Dir(path), "events", "channel-sweep", "scheduled.json"))
	if err != nil || !json.Valid(b) {
		t.Fatalf("events/channel-sweep/scheduled.json: %v", err)
	}
	s.Client = r.api // never the real APIs from a test
	for i, in := range []json.RawMessage{b, json.RawMessage(`{}`), nil} {
		rep, err := s.Handle(r.ctx, in)
		if err != nil || (i == 0 && len(rep.Slots) != 1) || rep.Total.Errors != 0 {
			t.Fatalf("input %s: %+v, %v", in, rep, err)
		}
	}
}

func TestRequestIDIsTheConnections(t *testing.T) {
	a := platform.ChannelConnection{ID: "01JQ8ZK7M3V6TQ2R5X9YB4C1DE", CreatedAt: monday.Add(-400 * 24 * time.Hour)}
	b := a
	b.ID = "01JQ8ZK7M3V6TQ2R5X9YB4C1DF"
	if chsweep.RequestID(a) != chsweep.RequestID(a) || chsweep.RequestID(a) == chsweep.RequestID(b) {
		t.Fatal("the request id is not one per connection")
	}
	if id := chsweep.RequestID(platform.ChannelConnection{ID: "x"}); len(id) != 26 {
		t.Fatalf("a connection without a creation time: id %q", id)
	}
}
