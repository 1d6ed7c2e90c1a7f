package tgsweep

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/requests"
)

// Source is the source and actor of the wipe requests the sweep makes.
const Source = "sweep:" + platform.ChannelTelegram

// DefaultConcurrency is how many tokens are checked at once when Sweep.Concurrency is not set.
const DefaultConcurrency = 8

// The breaker: when at least breakerMinimum tokens of one run are refused and they are more than
// breakerShare of the tokens Telegram answered for, the refusals are taken for a fault (Telegram's,
// or a TELEGRAM_API_BASE_URL that points at the wrong service) rather than that many owners revoking
// at once, and the run wipes nothing. A wipe cannot be undone; a sweep that waits costs an hour.
const (
	breakerMinimum = 10
	breakerShare   = 0.5
)

// wipeReserve is the time kept, of an invocation's deadline, to request the wipes after the checks.
const wipeReserve = time.Minute

// ErrTooManyRevoked: the run found too many refused tokens to trust (see the breaker), and wiped
// nothing.
var ErrTooManyRevoked = errors.New("telegram sweep: too many tokens refused at once to be owners revoking them; nothing was wiped")

// DB is the part of the DynamoDB client the sweep uses; *dynamodb.Client satisfies it. The platform
// store has no Scan on purpose (every request scope is reachable without one); finding every
// Telegram connection is the one job that needs it (platform.ScanConnections).
type DB = platform.SweepDB

// Sweep checks the bot token of every active Telegram connection and requests a connection wipe
// for each token Telegram refuses.
type Sweep struct {
	DB       DB
	Table    string // the platform table's physical name
	Store    *platform.Store
	Requests *requests.Service
	Client   *Client
	// Now is the clock expiry is judged by (the virtual clock locally); time.Now when nil.
	Now func() time.Time
	// Log receives one line per refused or unchecked token and one per run, naming connections by
	// id only; slog.Default when nil.
	Log *slog.Logger
	// Concurrency bounds the getMe calls in flight; DefaultConcurrency when 0.
	Concurrency int
}

// Report counts what one run did. It holds no token and no personal data.
type Report struct {
	// Checked is the number of active Telegram connections the run examined.
	Checked int `json:"checked"`
	// Revoked is how many of them had a token Telegram refused (401, or 404 for a malformed token).
	Revoked int `json:"revoked"`
	// Requested is the number of connection-wipe requests the run made; a request an earlier run
	// made for the same connection is not counted again.
	Requested int `json:"requested"`
	// Errors counts connections the run could not check (Telegram unavailable, 429, a network
	// failure, no token) or whose wipe it could not request; the next run tries them again.
	Errors int `json:"errors"`
	// Partial: the run ran out of time before it examined every connection.
	Partial bool `json:"partial,omitempty"`
}

// Handle is the Lambda handler: EventBridge Scheduler invokes it with whatever input the schedule
// names, which it ignores.
func (s *Sweep) Handle(ctx context.Context, _ json.RawMessage) (Report, error) {
	return s.Run(ctx)
}

// candidate is an active Telegram connection the scan found. The token lives only as long as its
// check.
type candidate struct {
	id    string
	token string
}

// refused is a connection whose token Telegram refused: the token itself is no longer kept, only
// its hash, to tell whether the connection still holds the token that was checked.
type refused struct {
	id  string
	sum [sha256.Size]byte
}

// Run sweeps once. Per-connection failures are counted and logged, not returned: the next run tries
// those connections again. The error is for a run that could not do its job (the scan failed, the
// breaker tripped, the context ended).
func (s *Sweep) Run(ctx context.Context) (Report, error) {
	if s.DB == nil || s.Store == nil || s.Requests == nil || s.Client == nil || s.Table == "" {
		return Report{}, errors.New("telegram sweep: not configured")
	}
	log := s.log()
	var (
		mu       sync.Mutex
		rep      Report
		answered int
		found    []refused
	)
	checkCtx, cancel := checkWindow(ctx)
	defer cancel()
	cands := make(chan candidate)
	g, gctx := errgroup.WithContext(checkCtx)
	g.Go(func() error {
		defer close(cands)
		return s.scan(gctx, cands, func() {
			mu.Lock()
			rep.Errors++
			mu.Unlock()
		})
	})
	for range s.concurrency() {
		g.Go(func() error {
			for c := range cands {
				res, err := s.Client.GetMe(gctx, c.token)
				mu.Lock()
				switch {
				case err != nil && gctx.Err() != nil:
					// Cut short (the window for checks closed, or the scan failed): not examined.
					rep.Partial = rep.Partial || checkCtx.Err() != nil
				case err != nil:
					rep.Checked++
					rep.Errors++
					log.Warn("telegram sweep: could not check the token; the next sweep tries again",
						"connection", c.id, "err", err)
				case res.Revoked():
					rep.Checked++
					rep.Revoked++
					answered++
					found = append(found, refused{id: c.id, sum: sha256.Sum256([]byte(c.token))})
					log.Info("telegram sweep: Telegram refused the bot token", "connection", c.id,
						"status", res.StatusCode, "description", res.Description)
				default:
					rep.Checked++
					answered++
				}
				mu.Unlock()
			}
			return nil
		})
	}
	scanErr := g.Wait()
	if scanErr != nil && ctx.Err() == nil && checkCtx.Err() != nil {
		scanErr, rep.Partial = nil, true // the window for checks closed; the wipes still get their time
	}
	if rep.Partial {
		log.Warn("telegram sweep: ran out of time before every connection was examined")
	}
	if rep.Revoked >= breakerMinimum && float64(rep.Revoked) > breakerShare*float64(answered) {
		log.Error("telegram sweep: too many tokens refused at once; wiping nothing", "revoked", rep.Revoked, "answered", answered)
		return rep, ErrTooManyRevoked
	}
	// The refusals found are real even when the scan failed part way: act on them.
	var wipes errgroup.Group
	wipes.SetLimit(s.concurrency())
	for _, f := range found {
		wipes.Go(func() error {
			created, err := s.wipe(ctx, f)
			mu.Lock()
			defer mu.Unlock()
			if created {
				rep.Requested++
			}
			if err != nil {
				rep.Errors++
				log.Error("telegram sweep: could not request the connection wipe; the next sweep tries again",
					"connection", f.id, "err", err)
			}
			return nil
		})
	}
	_ = wipes.Wait()
	log.Info("telegram sweep finished", "at", s.now(), "checked", rep.Checked, "revoked", rep.Revoked,
		"requested", rep.Requested, "errors", rep.Errors, "partial", rep.Partial)
	if scanErr != nil {
		return rep, scanErr
	}
	return rep, ctx.Err()
}

// scan streams every active Telegram connection of the platform table to out: a paginated Scan
// filtered on category, channel and status that reads only the connection id, the bot token and
// the expiry. bad is called for an item that cannot be read.
func (s *Sweep) scan(ctx context.Context, out chan<- candidate, bad func()) error {
	var stopped error // the context's end, met while handing a candidate on
	err := platform.ScanConnections(ctx, s.DB, s.Table, platform.ChannelTelegram, platform.ConnectionActive, "bot_token", s.now,
		func(id, token string) error {
			select {
			case out <- candidate{id: id, token: token}:
				return nil
			case <-ctx.Done():
				stopped = ctx.Err()
				return stopped
			}
		},
		func(id string) {
			bad()
			s.log().Warn("telegram sweep: a connection item could not be read", "connection", id)
		})
	if err != nil && err != stopped {
		return fmt.Errorf("telegram sweep: %w", err)
	}
	return err
}

// wipe requests the wipe of a connection whose token was refused, once the connection, read again,
// is still the active Telegram connection holding that token; then marks it revoked so that later
// sweeps skip it while the wipe runs. created reports whether this call made the request.
func (s *Sweep) wipe(ctx context.Context, f refused) (created bool, err error) {
	conn, err := s.Store.Connection(ctx, f.id)
	if errors.Is(err, platform.ErrNotFound) {
		return false, nil // wiped in the meantime
	}
	if err != nil {
		return false, fmt.Errorf("read the connection: %w", err)
	}
	if conn.Channel != platform.ChannelTelegram || conn.Status != platform.ConnectionActive ||
		sha256.Sum256([]byte(conn.Secrets["bot_token"])) != f.sum {
		// Disabled, revoked or given a new token since the check: what was checked is gone.
		s.log().Info("telegram sweep: the connection changed since its check; not wiped", "connection", f.id)
		return false, nil
	}
	req, created, err := s.Requests.RequestDeletion(ctx, requests.Deletion{
		ID: RequestID(conn), Kind: request.KindConnectionWipe, Source: Source, Actor: Source,
		Scope: platform.ScopeRef{Kind: datamap.ScopeConnection, AccountID: conn.AccountID, BotID: conn.BotID,
			ConnectionID: conn.ID, Channel: conn.Channel}})
	if err != nil {
		return created, fmt.Errorf("request the connection wipe: %w", err)
	}
	s.log().Info("telegram sweep: connection wipe requested", "connection", conn.ID, "request", req.ID, "new", created)
	if err := s.markRevoked(ctx, conn); err != nil {
		return created, err
	}
	return created, nil
}

// markRevoked sets the connection's status to revoked with a conditional update, never a put: the
// wipe just started may already have deleted the item, and a put would bring it back, token and all.
func (s *Sweep) markRevoked(ctx context.Context, conn platform.ChannelConnection) error {
	// Already wiped, or no longer active: left as it is.
	if err := s.Store.SetConnectionStatus(ctx, s.DB, conn, platform.ConnectionActive, platform.ConnectionRevoked); err != nil {
		return fmt.Errorf("mark the connection revoked: %w", err)
	}
	return nil
}

// RequestID is the id of the wipe request the sweep makes for a connection: the same for every run,
// so that a connection is wiped by one request however many sweeps find its token refused. Its time
// is the connection's creation, which never changes.
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

func (s *Sweep) concurrency() int {
	if s.Concurrency > 0 {
		return s.Concurrency
	}
	return DefaultConcurrency
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
