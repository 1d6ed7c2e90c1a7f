// Package chsweep is the connection-health sweep: it finds the channel connections whose
// credential the channel no longer accepts and wipes them (SPEC: "a revoked bot token found by a
// sweep → connection wipe"). Most channels tell no one when an owner revokes a token, removes an
// app or uninstalls a bot without a webhook reaching Lethe; the 30-day promise must hold anyway.
// So every hour the sweep asks each channel's API (internal/chanapi) about the credential of the
// connections whose hour slot it is (platform.ConnectionSlot, found by the sparse GSI3 index, never
// a Scan): each active connection is checked once a day, the checks spread over the day.
//
// A wipe cannot be undone, so one refusal is not enough. A refusal (one of the channel's documented
// "revoked" answers, chanapi.Result.Revoked) records a suspicion (datamap.ConnectionSuspicion);
// every run first asks again about the suspicions at least an hour old. Refused again, for the same
// credential, the connection is wiped; accepted, the suspicion goes. A rate limit, a 5xx, a timeout
// or a connection without a credential says nothing about the credential and never counts either
// way. Too many refusals at once relative to the answers is taken for a fault (the channel's, or a
// base URL pointing at the wrong service), and the run wipes nothing.
//
// Meta's page access token is the page's: once it is refused twice, every Messenger and Instagram
// connection of that page is wiped.
//
// A credential is sent to its channel (by chanapi) and nowhere else: the sweep keeps only its
// SHA-256, to tell whether a connection still holds what was checked, and logs connections by id.
package chsweep

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/lethe-dev/lethe/internal/chanapi"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/requests"
)

// SourcePrefix is the source and actor of the wipe requests the sweep makes: "sweep:<channel>",
// the channel of the connection wiped.
const SourcePrefix = "sweep:"

// Source is the source and actor of the sweep's wipe request for a connection of channel.
func Source(channel string) string { return SourcePrefix + channel }

// DefaultConcurrency is how many checks are in flight at once when Sweep.Concurrency is not set.
const DefaultConcurrency = 8

// DefaultPageSize is how many connections one Query of a slot reads when Sweep.PageSize is not set;
// the position is saved after each page.
const DefaultPageSize = 100

// SuspicionAge is how long a refusal must stand before a second one confirms it: a channel's
// momentary fault (a bad deploy answering 401 for a minute) is not a revocation.
const SuspicionAge = time.Hour

// The breaker: when at least breakerMinimum refusals (first or second) are seen in one run and
// they are more than breakerShare of the definite answers, the refusals are taken for a fault
// rather than that many owners revoking at once, and the run wipes nothing. A wipe cannot be
// undone; a sweep that waits costs an hour.
const (
	breakerMinimum = 10
	breakerShare   = 0.5
)

// wipeReserve is the time kept, of an invocation's deadline, to request the wipes after the checks.
const wipeReserve = time.Minute

// ErrTooManyRevoked: the run saw too many refusals to trust (see the breaker), and wiped nothing.
var ErrTooManyRevoked = errors.New("channel sweep: too many credentials refused at once to be owners revoking them; nothing was wiped")

// ErrNotConfigured: the sweep lacks one of its parts.
var ErrNotConfigured = errors.New("channel sweep: not configured")

// Sweep checks the credential of every active channel connection once a day and requests a
// connection wipe for each one its channel refused twice, at least an hour apart.
type Sweep struct {
	// DB marks a connection revoked once its wipe is requested (the one write of the sweep to the
	// platform table). The sweep has no Scan: each slot is a Query (platform.Store.ConnectionsInSlot).
	DB platform.UpdateDB
	// Checks keeps the sweep's position and the suspicions in the ledger.
	Checks   *ledger.ConnChecks
	Store    *platform.Store
	Requests *requests.Service
	Client   chanapi.Client
	// Now is the clock slots and suspicion ages are judged by (the virtual clock locally);
	// time.Now when nil.
	Now func() time.Time
	// Log receives one line per refusal, unchecked connection and wipe, and one per run, naming
	// connections by id only; slog.Default when nil.
	Log *slog.Logger
	// Concurrency bounds the checks in flight; DefaultConcurrency when 0.
	Concurrency int
	// PageSize is how many connections one Query of a slot reads; DefaultPageSize when 0.
	PageSize int32

	// window is checkWindow unless a test closes the window for checks itself.
	window func(context.Context) (context.Context, context.CancelFunc)
}

// Counts is what a run did, for all channels or one. It holds no credential and no personal data.
type Counts struct {
	// Checked is the number of checks asked of the channels (the slots' connections and the
	// suspicions rechecked).
	Checked int `json:"checked"`
	// Suspected is how many first refusals the run recorded.
	Suspected int `json:"suspected"`
	// Confirmed is how many suspicions were refused again, an hour or more later, for the same
	// credential.
	Confirmed int `json:"confirmed"`
	// Requested is the number of connection-wipe requests the run made (a Meta page's other
	// connections included); a request an earlier run made for the same connection is not counted
	// again.
	Requested int `json:"requested"`
	// Errors counts the checks that got no definite answer (a rate limit, a 5xx, a timeout, no
	// credential) and the connections whose item, suspicion or wipe could not be handled; the next
	// run or the next day tries them again.
	Errors int `json:"errors"`
}

func (c *Counts) add(o Counts) {
	c.Checked += o.Checked
	c.Suspected += o.Suspected
	c.Confirmed += o.Confirmed
	c.Requested += o.Requested
	c.Errors += o.Errors
}

// Report is what one run did.
type Report struct {
	Total Counts `json:"total"`
	// Channels are the counts of each channel the run met.
	Channels map[string]Counts `json:"channels,omitempty"`
	// Slots are the hours (UTC, "2006-01-02T15") whose slot the run went through to the end.
	Slots []string `json:"slots,omitempty"`
	// Partial: the run ran out of time before it went through every slot due; the next run
	// resumes where it stopped.
	Partial bool `json:"partial,omitempty"`
}

// HourFormat is how Report.Slots names an hour.
const HourFormat = "2006-01-02T15"

// Handle is the Lambda handler: EventBridge Scheduler invokes it with whatever input the schedule
// names, which it ignores.
func (s *Sweep) Handle(ctx context.Context, _ json.RawMessage) (Report, error) {
	return s.Run(ctx)
}

// tally collects a run's counts from concurrent checks.
type tally struct {
	mu       sync.Mutex
	channels map[string]*Counts
	errors   int // failures not of one channel (an item that cannot be read)
	answered int // definite answers: the breaker's denominator
}

func (t *tally) count(channel string, f func(*Counts)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.channels[channel]
	if c == nil {
		c = &Counts{}
		t.channels[channel] = c
	}
	f(c)
}

func (t *tally) report() Report {
	t.mu.Lock()
	defer t.mu.Unlock()
	rep := Report{Channels: map[string]Counts{}}
	for ch, c := range t.channels {
		rep.Channels[ch] = *c
		rep.Total.add(*c)
	}
	rep.Total.Errors += t.errors
	if len(rep.Channels) == 0 {
		rep.Channels = nil
	}
	return rep
}

// confirmed is a connection refused twice: what its wipe needs to know, without the credential.
type confirmed struct {
	id, channel string
	sum         string // hex SHA-256 of the credential refused
	firstSeen   time.Time
}

// Run sweeps once: the suspicions due first, then every slot from the one after the saved position
// up to the current hour, then the wipes of what was refused twice. Per-connection failures are
// counted and logged, not returned: a later run tries those connections again. The error is for a
// run that could not do its job (the ledger unreadable, the breaker tripped, the context ended).
func (s *Sweep) Run(ctx context.Context) (Report, error) {
	if s.DB == nil || s.Checks == nil || s.Store == nil || s.Requests == nil || s.Client == nil {
		return Report{}, ErrNotConfigured
	}
	log := s.log()
	now := s.now()
	t := &tally{channels: map[string]*Counts{}}
	window := s.window
	if window == nil {
		window = checkWindow
	}
	checkCtx, cancel := window(ctx)
	defer cancel()

	list, err := s.Checks.Suspicions(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("channel sweep: %w", err)
	}
	suspects := make(map[string]ledger.Suspicion, len(list))
	for _, sp := range list {
		suspects[sp.ConnectionID] = sp
	}
	found := s.recheck(checkCtx, t, suspects, now)
	slots, partial, slotErr := s.sweepSlots(ctx, checkCtx, t, suspects, now)
	if slotErr != nil && ctx.Err() == nil && checkCtx.Err() != nil {
		slotErr, partial = nil, true // the window for checks closed; the wipes still get their time
	}
	if checkCtx.Err() != nil && ctx.Err() == nil {
		partial = true
	}
	rep := t.report()
	rep.Slots, rep.Partial = slots, partial
	if rep.Partial {
		log.Warn("channel sweep: ran out of time before every slot due was gone through; the next run resumes")
	}
	refused := rep.Total.Suspected + rep.Total.Confirmed
	if refused >= breakerMinimum && float64(refused) > breakerShare*float64(t.answered) {
		log.Error("channel sweep: too many credentials refused at once; wiping nothing", "refused", refused, "answered", t.answered)
		return rep, ErrTooManyRevoked
	}
	// The refusals confirmed are real even when a slot failed part way: act on them.
	s.wipeAll(ctx, t, found)
	rep = t.report()
	rep.Slots, rep.Partial = slots, partial
	log.Info("channel sweep finished", "at", now, "checked", rep.Total.Checked, "suspected", rep.Total.Suspected,
		"confirmed", rep.Total.Confirmed, "requested", rep.Total.Requested, "errors", rep.Total.Errors,
		"slots", len(rep.Slots), "partial", rep.Partial)
	if slotErr != nil {
		return rep, slotErr
	}
	return rep, ctx.Err()
}

// recheck asks again about every suspicion at least SuspicionAge old whose connection still holds
// the credential refused, and returns those refused again. A suspicion whose connection is gone,
// no longer active, holds another credential or was accepted goes; one that got no definite answer
// stays for the next run.
func (s *Sweep) recheck(ctx context.Context, t *tally, suspects map[string]ledger.Suspicion, now time.Time) []confirmed {
	var (
		mu  sync.Mutex
		out []confirmed
		g   = s.group()
	)
	for _, sp := range oldestFirst(suspects) {
		if now.Sub(sp.FirstSeenAt) < SuspicionAge {
			continue // too young to confirm; and its connection is not checked again meanwhile
		}
		g.Go(func() {
			if ctx.Err() != nil {
				return
			}
			conn, err := s.Store.Connection(ctx, sp.ConnectionID)
			switch {
			case errors.Is(err, platform.ErrNotFound):
				s.clear(ctx, t, sp, "the connection is gone")
				return
			case err != nil:
				t.count(sp.Channel, func(c *Counts) { c.Errors++ })
				s.log().Warn("channel sweep: could not read a suspected connection; the next run tries again",
					"connection", sp.ConnectionID, "err", err)
				return
			case conn.Status != platform.ConnectionActive || conn.Channel != sp.Channel || credentialSum(conn) != sp.CredentialSHA256:
				s.clear(ctx, t, sp, "the connection changed since its credential was refused")
				return
			}
			res, err := s.Client.Check(ctx, conn)
			if err != nil && ctx.Err() != nil {
				return // cut short: not examined
			}
			t.count(conn.Channel, func(c *Counts) { c.Checked++ })
			switch {
			case err != nil:
				t.count(conn.Channel, func(c *Counts) { c.Errors++ })
				s.log().Warn("channel sweep: could not recheck a suspected connection; the suspicion stays",
					"connection", conn.ID, "channel", conn.Channel, "err", err)
			case res.Revoked():
				t.answer()
				t.count(conn.Channel, func(c *Counts) { c.Confirmed++ })
				s.log().Info("channel sweep: the channel refused the credential again", "connection", conn.ID,
					"channel", conn.Channel, "status", res.StatusCode, "code", res.Code, "first_seen", sp.FirstSeenAt)
				mu.Lock()
				out = append(out, confirmed{id: conn.ID, channel: conn.Channel, sum: sp.CredentialSHA256, firstSeen: sp.FirstSeenAt})
				mu.Unlock()
			default:
				t.answer()
				s.clear(ctx, t, sp, "the channel accepted the credential again")
			}
		})
	}
	g.Wait()
	return out
}

// oldestFirst is the suspicions oldest first (then by id): the longest-standing are rechecked first
// when time is short.
func oldestFirst(m map[string]ledger.Suspicion) []ledger.Suspicion {
	out := make([]ledger.Suspicion, 0, len(m))
	for _, sp := range m {
		out = append(out, sp)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].FirstSeenAt.Equal(out[j].FirstSeenAt) {
			return out[i].FirstSeenAt.Before(out[j].FirstSeenAt)
		}
		return out[i].ConnectionID < out[j].ConnectionID
	})
	return out
}

func (t *tally) answer() {
	t.mu.Lock()
	t.answered++
	t.mu.Unlock()
}

// clear removes a suspicion that no longer stands.
func (s *Sweep) clear(ctx context.Context, t *tally, sp ledger.Suspicion, why string) {
	if err := s.Checks.DropSuspicion(ctx, sp.ConnectionID); err != nil {
		t.count(sp.Channel, func(c *Counts) { c.Errors++ })
		s.log().Warn("channel sweep: could not remove a suspicion", "connection", sp.ConnectionID, "err", err)
		return
	}
	s.log().Info("channel sweep: suspicion removed: "+why, "connection", sp.ConnectionID, "channel", sp.Channel)
}

// check asks the channel about one connection of a slot: a refusal records a suspicion. It reports
// whether the connection was examined (false: the check window closed first).
func (s *Sweep) check(ctx context.Context, t *tally, conn platform.ChannelConnection) bool {
	if ctx.Err() != nil {
		return false
	}
	res, err := s.Client.Check(ctx, conn)
	if err != nil && ctx.Err() != nil {
		return false
	}
	t.count(conn.Channel, func(c *Counts) { c.Checked++ })
	switch {
	case err != nil:
		t.count(conn.Channel, func(c *Counts) { c.Errors++ })
		s.log().Warn("channel sweep: could not check the connection; tomorrow's check tries again",
			"connection", conn.ID, "channel", conn.Channel, "err", err)
	case res.Revoked():
		t.answer()
		sp := ledger.Suspicion{ConnectionID: conn.ID, Channel: conn.Channel, FirstSeenAt: s.now(),
			CredentialSHA256: credentialSum(conn), Code: res.Code}
		if err := s.Checks.Suspect(ctx, sp); err != nil {
			t.count(conn.Channel, func(c *Counts) { c.Errors++ })
			s.log().Error("channel sweep: could not record the refusal; tomorrow's check tries again",
				"connection", conn.ID, "channel", conn.Channel, "err", err)
			return true
		}
		t.count(conn.Channel, func(c *Counts) { c.Suspected++ })
		s.log().Info("channel sweep: the channel refused the credential; suspected until a second check",
			"connection", conn.ID, "channel", conn.Channel, "status", res.StatusCode, "code", res.Code)
	default:
		t.answer()
	}
	return true
}

// credentialSum is the hex SHA-256 of a connection's secrets (every one, in key order): a
// connection given any new secret since its check holds another credential than the one checked.
func credentialSum(conn platform.ChannelConnection) string {
	keys := make([]string, 0, len(conn.Secrets))
	for k := range conn.Secrets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{0})
		h.Write([]byte(conn.Secrets[k]))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// RequestID is the id of the wipe request the sweep makes for a connection: the same for every run,
// so that a connection is wiped by one request however many sweeps find it refused. Its time is the
// connection's creation, which never changes. It is the id the Telegram-only sweep before this one
// made, so a Telegram connection it already asked to wipe gets no second request.
func RequestID(conn platform.ChannelConnection) string {
	at := conn.CreatedAt
	if at.Before(time.Unix(0, 0)) {
		at = time.Unix(0, 0) // a ULID cannot hold a time before 1970
	}
	sum := sha256.Sum256([]byte("tgsweep\x00" + conn.ID))
	return platform.NewIDFrom(at, bytes.NewReader(sum[:]))
}

// checkWindow is the part of ctx's time the checks may use: all of it but wipeReserve, when the
// deadline leaves room for that.
func checkWindow(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) > 2*wipeReserve {
		return context.WithDeadline(ctx, dl.Add(-wipeReserve))
	}
	return context.WithCancel(ctx)
}

// group runs functions with at most the sweep's concurrency in flight.
type group struct {
	wg  sync.WaitGroup
	sem chan struct{}
}

func (s *Sweep) group() *group { return &group{sem: make(chan struct{}, s.concurrency())} }

func (g *group) Go(f func()) {
	g.sem <- struct{}{}
	g.wg.Add(1)
	go func() {
		defer func() { <-g.sem; g.wg.Done() }()
		f()
	}()
}

func (g *group) Wait() { g.wg.Wait() }

func (s *Sweep) concurrency() int {
	if s.Concurrency > 0 {
		return s.Concurrency
	}
	return DefaultConcurrency
}

func (s *Sweep) pageSize() int32 {
	if s.PageSize > 0 {
		return s.PageSize
	}
	return DefaultPageSize
}

func (s *Sweep) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Sweep) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}
