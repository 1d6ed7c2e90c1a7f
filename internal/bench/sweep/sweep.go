// Package sweep is the retention-sweep benchmark: the daily sweep (internal/retention) scanning a
// table of mostly live personal data — with a small share past retention, which it deletes, and a
// small share without a TTL, which it repairs — measured against a raw parallel Scan of the same
// tables (same segments, same page size) that makes the same conditional deletes and repairs with a
// plain loop of single requests, and against the raw Scan alone, alternating, within one run, on
// DynamoDB Local; and its time per item at two sizes, to show the cost is linear.
package sweep

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/lethe-dev/lethe/internal/bench"
	"github.com/lethe-dev/lethe/internal/bulkwrite"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/retention"
	"github.com/lethe-dev/lethe/internal/seed"
)

const (
	defaultSeed = 20261
	// DefaultExpiredShare and DefaultNoTTLShare are the shares of the personal 13-month items made
	// past retention and TTL-less. A daily sweep behind DynamoDB's TTL (which removes expired items
	// within a few days) finds about a day or two of expiries out of 13 months' data, some 0.5%; the
	// benchmark takes twice that, and a TTL missing on one item in 200.
	DefaultExpiredShare = 0.01
	DefaultNoTTLShare   = 0.005
)

// warmupLimit is the largest size that gets an untimed warm-up scan.
const warmupLimit = 200_000

var policy = datamap.Policy{SafetyMargin: datamap.DefaultSafetyMargin}

// operator is who the acts of destruction name (the local demo operator).
var operator = evidence.Operator{Name: "ООО «Демо Боты» (local demo operator)", Address: "127001, Москва, ул. Локальная, д. 1", INN: "7700000000"}

// DefaultSizes are the table sizes, in scanned items, of a full run; QuickSizes of a quick one
// (small, so that the whole quick set stays under 3 minutes).
var (
	DefaultSizes = []int64{100_000, 1_000_000}
	QuickSizes   = []int64{10_000, 20_000}
)

// Options of the benchmark; zero values take the defaults.
type Options struct {
	// Sizes are the scanned items of each round, smallest first (default DefaultSizes, quick QuickSizes).
	Sizes []int64
	// Segments fixes the segments per table of both the sweep and the raw scan; zero (the default)
	// lets the sweep size them to the tables as deployed (retention.Sweep.Plan), and the raw scan
	// uses the same. PageSize likewise (default DynamoDB's 1 MB pages, as deployed).
	Segments int
	PageSize int32
	// ExpiredShare and NoTTLShare of the personal 13-month items (defaults above).
	ExpiredShare, NoTTLShare float64
	// Repeats overrides how many times raw and sweep alternate at every size.
	Repeats int
	Seed    uint64
	// Profile writes a CPU profile of this process during the sweeps of each size to the scratch folder.
	Profile bool
}

func (o *Options) defaults(quick bool) {
	if len(o.Sizes) == 0 {
		o.Sizes = DefaultSizes
		if quick {
			o.Sizes = QuickSizes
		}
	}
	if o.ExpiredShare <= 0 {
		o.ExpiredShare = DefaultExpiredShare
	}
	if o.NoTTLShare <= 0 {
		o.NoTTLShare = DefaultNoTTLShare
	}
	if o.Seed == 0 {
		o.Seed = defaultSeed
	}
}

// repeats is how many times raw and sweep alternate at a size.
func (o Options) repeats(size int64, quick bool) int {
	switch {
	case o.Repeats > 0:
		return o.Repeats
	case size > 200_000:
		return 1
	case quick:
		return 2
	}
	return 3
}

// Benchmark returns the retention-sweep benchmark.
func Benchmark(o Options) bench.Benchmark {
	return bench.Benchmark{Name: "retention-sweep", Run: func(ctx context.Context, env *bench.Env) (bench.Section, error) {
		o.defaults(env.Quick)
		b := &run{o: o, env: env, now: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), quick: env.Quick}
		for _, size := range o.Sizes {
			r, err := b.round(ctx, size)
			if err != nil {
				return bench.Section{}, fmt.Errorf("%s items: %w", label(size), err)
			}
			b.rounds = append(b.rounds, r)
			b.record(r)
		}
		b.headline()
		return b.withCapacity(b.section()), nil
	}}
}

// run is one run of the benchmark.
type run struct {
	o      Options
	env    *bench.Env
	now    time.Time // the sweep's clock; the data is seeded an hour before
	quick  bool
	rounds []*round
}

// phase is one timed scan or sweep.
type phase struct {
	items  int64 // items scanned
	wall   time.Duration
	server time.Duration // DynamoDB Local's CPU (the JVM, all threads)
	client time.Duration // this process's CPU (the sweep or the raw scan, and the in-process S3)
	// other is the CPU time processes outside the run took during the phase (window long).
	other, window time.Duration
}

func (p phase) rate() float64 { return float64(p.items) / p.wall.Seconds() }

func (p phase) perItem(d time.Duration) float64 {
	return float64(d.Nanoseconds()) / 1e3 / float64(max(p.items, 1))
}

func (p phase) otherShare() float64 {
	if p.window <= 0 {
		return 0
	}
	return p.other.Seconds() / (p.window.Seconds() * float64(runtime.NumCPU()))
}

func (p phase) add(q phase) phase {
	return phase{items: p.items + q.items, wall: p.wall + q.wall, server: p.server + q.server, client: p.client + q.client,
		other: p.other + q.other, window: p.window + q.window}
}

// round is one table size, scanned raw and swept, alternating.
type round struct {
	label string
	data  *dataset
	reps  int
	// remeasured counts phases measured again because other processes disturbed them.
	remeasured int
	// raw is the raw Scan alone; rawWrite the raw Scan with the sweep's conditional writes made by a
	// plain loop (rawScanWrite): the like-for-like baseline of the sweep.
	raw, rawWrite, sweep phase
	// clean is the sweep run again right after a sweep, over tables with nothing left to delete or
	// repair: the scan and the judging alone, to tell them from the writes.
	clean phase
	// ratioMin and ratioMax are the spread of sweep ÷ rawWrite over the repetitions.
	ratioMin, ratioMax float64
	rawCalls           map[string]callStats // one repetition's
	rawWriteCalls      map[string]callStats // one repetition's
	sweepCalls         map[string]callStats // one repetition's
	result             retention.Result     // the last sweep's
	capacity           *capFigures          // capacity.go
	deleted, repaired  int64                // per sweep
	objects            int64                // S3 objects deleted per sweep
	unrepairable       int64
	restoreTime        time.Duration // writing back one sweep's deletions and repairs (untimed)
	// segments is the Scan segments of each scanned table (platform, ledger), the sweep's plan.
	segments []int
}

// round seeds a table of about size items and scans it raw and with the sweep, alternating.
func (b *run) round(ctx context.Context, size int64) (*round, error) {
	env := b.env
	name := label(size)
	res, err := env.NewResources(ctx, "sweep-"+name)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := res.Drop(context.WithoutCancel(ctx)); err != nil {
			env.Logf("drop %s: %v", res.StackName, err)
		}
	}()
	clock := func() time.Time { return b.now }
	db := env.Stack.DynamoDB()
	store := platform.NewStore(db, platform.Tables(res.Tables), policy, clock)
	r := &round{label: name}

	// The data: seed.Write, then the chosen items overwritten with their expired or TTL-less versions.
	d := &dataset{opts: seed.Options{Seed: b.o.Seed, Now: b.now.Add(-time.Hour)}}
	if d.messages, err = tune(d.opts, size); err != nil {
		return nil, err
	}
	d.opts.Size = seed.SizeForMessages(d.messages)
	m, st, err := seed.Write(ctx, store, env.Stack.S3(), res.Buckets, d.opts, nil)
	if err != nil {
		return nil, err
	}
	d.records, d.objects, d.seeded, d.scanned = st.Records, st.Objects, st.Elapsed, scannedItems(m)
	if d.specials, d.restore, d.perCategory, err = mark(store, d.opts, b.o.ExpiredShare, b.o.NoTTLShare); err != nil {
		return nil, err
	}
	if err := writeSpecials(ctx, store, env.Stack.S3(), res.Buckets, d); err != nil {
		return nil, err
	}
	r.data = d
	env.Logf("  sweep %s: seeded %d records (%d in the scanned tables) and %d objects in %v; %d made past retention, %d without a TTL",
		name, st.Records, d.scanned, st.Objects, st.Elapsed.Round(time.Millisecond), d.count(expired), d.count(noTTL))

	var c calls
	cdb := countingDB{db: db, c: &c}
	tables := []string{res.Tables[datamap.PlatformTable], res.Tables[datamap.LedgerTable]}
	baseline, err := keySet(ctx, db, res.Tables[datamap.LedgerTable])
	if err != nil {
		return nil, err
	}
	sw := &retention.Sweep{DB: cdb, Tables: map[string]string{datamap.PlatformTable: tables[0], datamap.LedgerTable: tables[1]},
		S3: countingS3{Client: env.Stack.S3(), c: &c}, Buckets: res.Buckets,
		Ledger: ledger.New(db, tables[1], policy, clock), Policy: policy, Operator: operator, Now: clock,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Segments: b.o.Segments, PageSize: b.o.PageSize,
		// One invocation to the end: the budget is far beyond any size here.
		Budget: 6 * time.Hour}

	// The raw scan reads the tables in the segments the sweep gives them, as many at once.
	plan, err := sw.Plan(ctx)
	if err != nil {
		return nil, err
	}
	r.segments = []int{plan[datamap.PlatformTable], plan[datamap.LedgerTable]}
	workers := retention.DefaultConcurrency
	actions, err := rawActions(d, policy, res.Buckets)
	if err != nil {
		return nil, err
	}
	s3c := countingS3{Client: env.Stack.S3(), c: &c}
	env.Logf("  sweep %s: %d and %d segments (platform, ledger), %d at once", name, r.segments[0], r.segments[1], workers)

	// An untimed scan first: the table's first read after its writes warms DynamoDB Local (not at
	// the large sizes, where a scan takes minutes). At the first size an untimed sweep too, which
	// warms the JVM's paths for conditional writes.
	if size <= warmupLimit {
		if _, err := rawScan(ctx, cdb, tables, r.segments, workers, b.o.PageSize); err != nil {
			return nil, err
		}
	}
	if len(b.rounds) == 0 {
		if _, err := sw.Run(ctx, retention.Input{}); err != nil {
			return nil, fmt.Errorf("warm-up sweep: %w", err)
		}
		if err := writeSpecials(ctx, store, env.Stack.S3(), res.Buckets, d); err != nil {
			return nil, err
		}
		if err := restoreLedger(ctx, db, tables[1], baseline); err != nil {
			return nil, err
		}
	}
	c.snapshot()

	reps := b.o.repeats(size, b.quick)
	for i := range reps {
		var raw phase
		for attempt := 0; ; attempt++ {
			if raw, err = b.measure(func() (int64, error) { return rawScan(ctx, cdb, tables, r.segments, workers, b.o.PageSize) }); err != nil {
				return nil, fmt.Errorf("raw scan: %w", err)
			}
			r.rawCalls = c.snapshot()
			if raw.items != d.scanned {
				return nil, fmt.Errorf("the raw scan read %d items; the tables hold %d", raw.items, d.scanned)
			}
			env.Logf("  sweep %s: raw Scan read %d items in %v (%.0f items/s)", name, raw.items, raw.wall.Round(time.Millisecond), raw.rate())
			if !b.again(r, "the raw scan", raw, attempt) {
				break
			}
		}

		// The raw scan again, with the sweep's conditional writes made by a plain loop; the items it
		// deleted and repaired are then written back (untimed).
		var rawWrite phase
		for attempt := 0; ; attempt++ {
			var t rawTally
			if rawWrite, err = b.measure(func() (int64, error) {
				var err error
				t, err = rawScanWrite(ctx, cdb, s3c, tables, r.segments, workers, b.o.PageSize, actions)
				return t.scanned, err
			}); err != nil {
				return nil, fmt.Errorf("raw scan and writes: %w", err)
			}
			r.rawWriteCalls = c.snapshot()
			if t.scanned != d.scanned || t.deleted != d.count(expired) || t.repaired != d.count(noTTL) || t.objects != int64(len(d.restore)) {
				return nil, fmt.Errorf("the raw loop read %d items, deleted %d (%d objects), repaired %d; want %d, %d (%d), %d",
					t.scanned, t.deleted, t.objects, t.repaired, d.scanned, d.count(expired), len(d.restore), d.count(noTTL))
			}
			env.Logf("  sweep %s: raw Scan with the same conditional writes read %d items, deleted %d, repaired %d in %v (%.0f items/s)",
				name, t.scanned, t.deleted, t.repaired, rawWrite.wall.Round(time.Millisecond), rawWrite.rate())
			if err := writeSpecials(ctx, store, env.Stack.S3(), res.Buckets, d); err != nil {
				return nil, err
			}
			c.snapshot()
			if !b.again(r, "the raw scan and writes", rawWrite, attempt) {
				break
			}
		}

		var sweep, clean phase
		for attempt := 0; ; attempt++ {
			var result retention.Result
			stop := b.profile(name, i == reps-1 && attempt == 0)
			sweep, err = b.measure(func() (int64, error) {
				res, err := sw.Run(ctx, retention.Input{})
				result = res
				return 0, err
			})
			stop()
			if err != nil {
				return nil, fmt.Errorf("sweep: %w", err)
			}
			r.sweepCalls = c.snapshot()
			sweep.items = r.sweepCalls["dynamodb.Scan"].Items
			if err := r.check(result); err != nil {
				return nil, err
			}
			env.Logf("  sweep %s: the sweep read %d items, deleted %d (%d objects), repaired %d in %v (%.0f items/s, %.2f× raw scan and writes)",
				name, sweep.items, r.deleted, r.objects, r.repaired, sweep.wall.Round(time.Millisecond), sweep.rate(), sweep.rate()/rawWrite.rate())
			// The same sweep again, at once: nothing is left to delete or repair.
			var again retention.Result
			if clean, err = b.measure(func() (int64, error) {
				res, err := sw.Run(ctx, retention.Input{})
				again = res
				return 0, err
			}); err != nil {
				return nil, fmt.Errorf("second sweep: %w", err)
			}
			clean.items = c.snapshot()["dynamodb.Scan"].Items
			if err := nothingDone(again); err != nil {
				return nil, fmt.Errorf("second sweep: %w", err)
			}
			env.Logf("  sweep %s: the sweep again, with nothing to write, read %d items in %v (%.0f items/s, %.2f× raw)",
				name, clean.items, clean.wall.Round(time.Millisecond), clean.rate(), clean.rate()/raw.rate())
			// Identical contents for the next scan: the deleted and repaired items written back as
			// they were, the run's ledger records removed (untimed).
			began := time.Now()
			if err := writeSpecials(ctx, store, env.Stack.S3(), res.Buckets, d); err != nil {
				return nil, err
			}
			if err := restoreLedger(ctx, db, tables[1], baseline); err != nil {
				return nil, err
			}
			r.restoreTime = time.Since(began)
			c.snapshot()
			if !b.again(r, "the sweep", sweep, attempt) {
				break
			}
		}

		r.raw, r.rawWrite, r.sweep, r.clean = r.raw.add(raw), r.rawWrite.add(rawWrite), r.sweep.add(sweep), r.clean.add(clean)
		ratio := sweep.rate() / rawWrite.rate()
		if i == 0 {
			r.ratioMin, r.ratioMax = ratio, ratio
		}
		r.ratioMin, r.ratioMax = min(r.ratioMin, ratio), max(r.ratioMax, ratio)
		r.reps++
	}
	// Capacity (issue 19 §3): one more sweep, metered, and the data restored after it.
	if err := b.capacity(ctx, r, sw, db, tables, workers, func() error {
		if err := writeSpecials(ctx, store, env.Stack.S3(), res.Buckets, d); err != nil {
			return err
		}
		return restoreLedger(ctx, db, tables[1], baseline)
	}); err != nil {
		return nil, fmt.Errorf("capacity: %w", err)
	}
	return r, nil
}

// check verifies one sweep run: finished in one invocation, everything expired deleted, everything
// TTL-less repaired, no errors; and keeps its counts.
func (r *round) check(res retention.Result) error {
	if res.Partial {
		return errors.New("the sweep stopped before the end of the scan")
	}
	if res.Errors > 0 {
		return fmt.Errorf("the sweep failed on %d items", res.Errors)
	}
	var deleted, repaired, objects, unrepairable int64
	for _, c := range res.Categories {
		deleted += c.Deleted
		repaired += c.Repaired
		objects += c.Objects
		unrepairable += c.Unrepairable
	}
	if want := r.data.count(expired); deleted != want {
		return fmt.Errorf("the sweep deleted %d items; %d were past retention", deleted, want)
	}
	if want := r.data.count(noTTL); repaired != want {
		return fmt.Errorf("the sweep repaired %d items; %d had no TTL", repaired, want)
	}
	if want := int64(len(r.data.restore)); objects != want {
		return fmt.Errorf("the sweep deleted %d S3 objects; the expired items had %d", objects, want)
	}
	r.result, r.deleted, r.repaired, r.objects, r.unrepairable = res, deleted, repaired, objects, unrepairable
	return nil
}

// nothingDone verifies a sweep over swept tables: finished, nothing deleted or repaired, no errors.
func nothingDone(res retention.Result) error {
	if res.Partial || res.Errors > 0 {
		return fmt.Errorf("partial %v, %d errors", res.Partial, res.Errors)
	}
	for cat, c := range res.Categories {
		if c.Deleted+c.Repaired+c.Objects > 0 {
			return fmt.Errorf("%s: %d deleted, %d repaired, %d objects after a sweep", cat, c.Deleted, c.Repaired, c.Objects)
		}
	}
	return nil
}

// measure times f with the CPU of DynamoDB Local, of this process and of the rest of the machine.
func (b *run) measure(f func() (int64, error)) (phase, error) {
	machine0, server0, client0, began := bench.MachineCPU(), b.jvmCPU(), bench.SelfCPU(), time.Now()
	n, err := f()
	p := phase{items: n, wall: time.Since(began), client: bench.SelfCPU() - client0, server: b.jvmCPU() - server0}
	p.window, p.other = p.wall, max(0, bench.MachineCPU()-machine0-p.client-p.server)
	return p, err
}

// again reports whether a phase that other processes disturbed should be measured again: once.
func (b *run) again(r *round, what string, p phase, attempt int) bool {
	if p.otherShare() <= bench.DisturbedShare || attempt > 0 {
		return false
	}
	b.env.Logf("  sweep %s: other processes took %.0f%% of the CPUs while %s ran: measuring it again", r.label, 100*p.otherShare(), what)
	r.remeasured++
	return true
}

// profile starts a CPU profile of this process when asked to, and returns what stops it.
func (b *run) profile(name string, on bool) func() {
	if !b.o.Profile || !on {
		return func() {}
	}
	dir, err := b.env.ScratchDir()
	if err != nil {
		b.env.Logf("  sweep %s: no profile: %v", name, err)
		return func() {}
	}
	path := filepath.Join(dir, "retention-sweep-"+name+".cpu.pprof")
	f, err := os.Create(path)
	if err != nil {
		b.env.Logf("  sweep %s: no profile: %v", name, err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		b.env.Logf("  sweep %s: no profile: %v", name, err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
		b.env.Logf("  sweep %s: CPU profile of the sweep (and the in-process S3) in %s", name, path)
	}
}

// jvmCPU is DynamoDB Local's CPU time so far (zero when the stack's processes are not ours).
func (b *run) jvmCPU() time.Duration {
	pid, ok := b.env.Stack.PIDs()["dynamodb"]
	if !ok {
		return 0
	}
	d, err := bench.ProcessCPU(pid)
	if err != nil {
		return 0
	}
	return d
}

// scanner is the part of the DynamoDB client a scan needs.
type scanner interface {
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// rawScan reads every item of the tables with a parallel Scan, segments[t] segments of table t,
// workers of them at once in the sweep's order (interleaving the tables), pages of pageSize items
// (0: 1 MB), eventually consistent like the sweep's, and does nothing with them: the sweep's scan
// with none of its work.
func rawScan(ctx context.Context, db scanner, tables []string, segments []int, workers int, pageSize int32) (int64, error) {
	return scanPages(ctx, db, tables, segments, workers, pageSize, nil)
}

// scanPages is rawScan's parallel Scan, handing each page to onPage (nil: none) from the segment's
// goroutine; it returns the items scanned.
func scanPages(ctx context.Context, db scanner, tables []string, segments []int, workers int, pageSize int32,
	onPage func(table string, items []map[string]types.AttributeValue)) (int64, error) {
	var scanned atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for seg := range slices.Max(segments) {
		for t, table := range tables {
			if seg >= segments[t] {
				continue
			}
			g.Go(func() error {
				in := &dynamodb.ScanInput{TableName: aws.String(table), Segment: aws.Int32(int32(seg)), TotalSegments: aws.Int32(int32(segments[t]))}
				if pageSize > 0 {
					in.Limit = aws.Int32(pageSize)
				}
				for {
					out, err := db.Scan(gctx, in)
					if err != nil {
						return err
					}
					scanned.Add(int64(len(out.Items)))
					if onPage != nil {
						onPage(table, out.Items)
					}
					if len(out.LastEvaluatedKey) == 0 {
						return nil
					}
					in.ExclusiveStartKey = out.LastEvaluatedKey
				}
			})
		}
	}
	err := g.Wait()
	return scanned.Load(), err
}

// keySet lists the keys of a table (a small one: the ledger).
func keySet(ctx context.Context, db *dynamodb.Client, table string) (map[[2]string]bool, error) {
	keys := map[[2]string]bool{}
	in := &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String("#pk, #sk"), ExpressionAttributeNames: map[string]string{"#pk": platform.AttrPK, "#sk": platform.AttrSK}}
	for {
		out, err := db.Scan(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, it := range out.Items {
			pk, _ := it[platform.AttrPK].(*types.AttributeValueMemberS)
			sk, _ := it[platform.AttrSK].(*types.AttributeValueMemberS)
			if pk != nil && sk != nil {
				keys[[2]string{pk.Value, sk.Value}] = true
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return keys, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// restoreLedger deletes what a sweep run added to the ledger table (its request, act of destruction
// and journal), so that the next scan reads the table as it was.
func restoreLedger(ctx context.Context, db *dynamodb.Client, table string, baseline map[[2]string]bool) error {
	now, err := keySet(ctx, db, table)
	if err != nil {
		return err
	}
	var reqs []bulkwrite.Request
	for k := range now {
		if !baseline[k] {
			key := platform.Key{PK: k[0], SK: k[1]}
			reqs = append(reqs, bulkwrite.Request{Table: table, Write: types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key.Attributes()}}})
		}
	}
	w := bulkwrite.Writer{DB: db}
	_, err = w.WriteAll(ctx, reqs)
	return err
}

// label names a size in figure names: 10k, 100k, 1m.
func label(n int64) string {
	switch {
	case n%1_000_000 == 0:
		return fmt.Sprintf("%dm", n/1_000_000)
	case n%1_000 == 0:
		return fmt.Sprintf("%dk", n/1_000)
	}
	return fmt.Sprint(n)
}
