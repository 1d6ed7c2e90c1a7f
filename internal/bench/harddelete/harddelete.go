// Package harddelete is the hard-delete benchmark of SPEC §7: the erasure engine deleting one large
// account, measured against a raw parallel BatchWriteItem loop over the same keys and a sequential
// DeleteItem loop, on DynamoDB Local, within one run. The engine runs in a child process, the erase
// worker, so that its peak memory is its own.
package harddelete

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/bench"
	"github.com/lethe-dev/lethe/internal/bulkwrite"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/erasure"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/seed"
)

const (
	defaultWorkers = 8      // the engine's default, and the raw loop's
	defaultBudget  = 50_000 // items per slice
	defaultSample  = 10_000 // keys the sequential loop deletes
	quickSample    = 2_000  // and in a quick run
	defaultSeed    = 20260
	warmupItems    = 10_000
	quickWarmup    = 3_000 // the warm-up round of a quick run
	warmupSample   = 2_000
	scalingItems   = 20_000
	// rawChunk bounds the delete requests the raw loop builds at once (outside the timing).
	rawChunk = 100_000
)

var policy = datamap.Policy{SafetyMargin: datamap.DefaultSafetyMargin}

// DefaultSizes are the account sizes, in DynamoDB items, of a full run; QuickSizes of a quick one
// (BENCH_QUICK=1), which also leaves out the raw loop by worker count, samples 2,000 keys for the
// sequential loop, warms up with 3,000 items, alternates raw and Lethe twice at 10k and once above,
// and meters capacity at its largest size only, so that the whole quick set stays under 3 minutes.
var (
	DefaultSizes = []int64{10_000, 100_000, 1_000_000}
	QuickSizes   = []int64{10_000, 20_000}
)

// Options of the benchmark; zero values take the defaults.
type Options struct {
	// Sizes are the target item counts of the account, smallest first (default DefaultSizes).
	Sizes []int64
	// Worker is the command that runs RunWorker (`lethe bench erase-worker`); its flags are appended.
	Worker []string
	// Workers is the parallelism of both the engine and the raw loop (default 8).
	Workers int
	// Budget is the engine's slice, in items (default 50,000).
	Budget int64
	// Sample is how many keys the sequential loop deletes (default 10,000).
	Sample int
	Seed   uint64
	// Profile has the worker write a CPU profile of each size to the scratch folder.
	Profile bool
	// SkipWarmup leaves out the throwaway round that warms DynamoDB Local's JVM, and SkipScaling the
	// raw loop at other worker counts (for tests).
	SkipWarmup, SkipScaling bool
}

func (o *Options) defaults(quick bool) {
	if len(o.Sizes) == 0 {
		o.Sizes = DefaultSizes
		if quick {
			o.Sizes = QuickSizes
		}
	}
	if quick {
		o.SkipScaling = true
		if o.Sample <= 0 {
			o.Sample = quickSample
		}
	}
	if o.Workers <= 0 {
		o.Workers = defaultWorkers
	}
	if o.Budget <= 0 {
		o.Budget = defaultBudget
	}
	if o.Sample <= 0 {
		o.Sample = defaultSample
	}
	if o.Seed == 0 {
		o.Seed = defaultSeed
	}
}

// Benchmark returns the hard-delete benchmark.
func Benchmark(o Options) bench.Benchmark {
	return bench.Benchmark{Name: "hard-delete", Run: func(ctx context.Context, env *bench.Env) (bench.Section, error) {
		o.defaults(env.Quick)
		if len(o.Worker) == 0 {
			return bench.Section{}, errors.New("no erase-worker command")
		}
		b := &run{o: o, env: env, now: time.Now().UTC().Truncate(time.Second)}
		if !o.SkipWarmup {
			b.warmup = warmupItems
			if env.Quick {
				b.warmup = quickWarmup
			}
			env.Logf("hard delete: warming DynamoDB Local's JVM with a throwaway round of %d items", b.warmup)
			if _, err := b.round(ctx, b.warmup, "warmup", warmupSample, 1); err != nil {
				return bench.Section{}, fmt.Errorf("warm-up: %w", err)
			}
		}
		if !o.SkipScaling {
			if err := b.scale(ctx); err != nil {
				return bench.Section{}, fmt.Errorf("raw loop by workers: %w", err)
			}
		}
		for _, size := range o.Sizes {
			r, err := b.round(ctx, size, label(size), o.Sample, repeats(size, env.Quick))
			if err != nil {
				return bench.Section{}, fmt.Errorf("%s items: %w", label(size), err)
			}
			b.rounds = append(b.rounds, r)
			b.record(r)
			b.recordCapacity(r)
		}
		b.headline()
		return b.withCapacity(b.section()), nil
	}}
}

// run is one run of the benchmark.
type run struct {
	o       Options
	env     *bench.Env
	now     time.Time // the clock of the seeded data and of the engine
	warmup  int64     // items of the throwaway round (0: none)
	rounds  []*round
	scaling []scalePoint
}

// scalePoint is the raw loop at one worker count.
type scalePoint struct {
	workers int
	raw     phase
}

// scalingWorkers are the worker counts the raw loop is tried with, to show where DynamoDB Local
// stops going faster.
var scalingWorkers = []int{1, 2, 4, 8, 16}

// scale runs the raw loop over one small account at several worker counts, re-seeding in between.
func (b *run) scale(ctx context.Context) error {
	env := b.env
	res, err := env.NewResources(ctx, "scaling")
	if err != nil {
		return err
	}
	defer func() {
		if err := res.Drop(context.WithoutCancel(ctx)); err != nil {
			env.Logf("drop %s: %v", res.StackName, err)
		}
	}()
	clock := func() time.Time { return b.now }
	db := env.Stack.DynamoDB()
	store := platform.NewStore(db, platform.Tables(res.Tables), policy, clock)
	opts := seed.Options{Seed: b.o.Seed + 1, Now: b.now}
	n, err := tune(opts, scalingItems)
	if err != nil {
		return err
	}
	opts.Size = seed.SizeForMessages(n)
	var keys []platform.Key
	for _, w := range scalingWorkers {
		m, _, err := seed.Write(ctx, store, env.Stack.S3(), res.Buckets, opts, nil)
		if err != nil {
			return err
		}
		if keys == nil {
			if keys, err = walkKeys(ctx, store, platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: m.Accounts[0].ID}); err != nil {
				return err
			}
		}
		p, _, err := b.rawDeleteWith(ctx, db, keys, w)
		if err != nil {
			return err
		}
		env.Logf("  raw loop with %2d workers: %.0f items/s, DynamoDB Local busy %.2f CPUs", w, p.rate(), p.server.Seconds()/p.wall.Seconds())
		b.scaling = append(b.scaling, scalePoint{workers: w, raw: p})
	}
	return nil
}

// phase is one timed deletion.
type phase struct {
	items  int64
	wall   time.Duration
	server time.Duration // DynamoDB Local's CPU (the JVM, all threads)
	client time.Duration // the deleting process's CPU
	// other is the CPU time processes outside the run took during the phase's window (window long).
	other, window time.Duration
}

func (p phase) rate() float64 { return float64(p.items) / p.wall.Seconds() }

// otherShare is the share of the machine's CPU that processes outside the run took meanwhile.
func (p phase) otherShare() float64 {
	if p.window <= 0 {
		return 0
	}
	return p.other.Seconds() / (p.window.Seconds() * float64(runtime.NumCPU()))
}

// add sums two runs of the same phase: their rate is the total items over the total time.
func (p phase) add(q phase) phase {
	return phase{items: p.items + q.items, wall: p.wall + q.wall, server: p.server + q.server, client: p.client + q.client,
		other: p.other + q.other, window: p.window + q.window}
}

// repeats is how many times raw and Lethe alternate at a size: short rounds are noisy, and cheap
// to repeat (a quick run repeats only the shortest).
func repeats(target int64, quick bool) int {
	switch {
	case quick && target <= 10_000:
		return 2
	case quick:
		return 1
	case target <= 20_000:
		return 3
	case target <= 200_000 && !quick:
		return 2
	}
	return 1
}

// perItem is a duration per item, in microseconds.
func (p phase) perItem(d time.Duration) float64 {
	return float64(d.Nanoseconds()) / 1e3 / float64(max(p.items, 1))
}

// round is one account size, measured three ways on the same keys.
type round struct {
	label    string
	target   int64
	messages int64 // what seed.SizeForMessages was given
	items    int64 // DynamoDB items the account scope reaches (Store.Walk)
	objects  int64 // S3 objects of the account
	seeded   time.Duration
	records  int64 // everything seeded, kept categories and analytics included

	walk phase // Store.Walk enumerating the keys once, untimed: the counts and the sequential sample
	// list, raw and lethe sum the repetitions: list is Store.Walk finding the keys with Query as the
	// engine must, raw the parallel BatchWriteItem loop deleting them right after, timed together
	// as "list, then delete"; ratioMin and ratioMax are the spread of Lethe ÷ (list + raw).
	reps               int
	remeasured         int // phases measured again because other processes disturbed them
	list, raw, lethe   phase
	rawStats           bulkwrite.Stats // per repetition
	worker             WorkerReport    // the last repetition's, with the highest peak RSS of all
	s3CPU              time.Duration   // this process's CPU during the engine runs: the in-process S3 serving them
	ratioMin, ratioMax float64
	sequential         phase

	parentRSS bench.Memory // this process after the round

	capacity *WorkerCapacity // the engine's, from an extra metered run
}

// round seeds an account of about target items and deletes it three times over.
func (b *run) round(ctx context.Context, target int64, name string, sample, reps int) (*round, error) {
	env := b.env
	res, err := env.NewResources(ctx, name)
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
	r := &round{label: name, target: target}

	opts := seed.Options{Seed: b.o.Seed, Now: b.now}
	if r.messages, err = tune(opts, target); err != nil {
		return nil, err
	}
	opts.Size = seed.SizeForMessages(r.messages)
	reseed := func() (seed.Manifest, error) {
		m, st, err := seed.Write(ctx, store, env.Stack.S3(), res.Buckets, opts, nil)
		if err != nil {
			return m, err
		}
		if r.seeded == 0 {
			r.seeded, r.records, r.objects = st.Elapsed, st.Records, st.Objects
			env.Logf("  %s: seeded %d records and %d objects in %v (%.0f records/s)", name, st.Records, st.Objects,
				st.Elapsed.Round(time.Millisecond), float64(st.Records)/st.Elapsed.Seconds())
		}
		return m, nil
	}
	m, err := reseed()
	if err != nil {
		return nil, err
	}
	if len(m.Accounts) != 1 {
		return nil, fmt.Errorf("seeded %d accounts, want 1", len(m.Accounts))
	}
	ref := platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: m.Accounts[0].ID}

	// The keys, enumerated once, untimed: their count and categories check the engine, and the first
	// of them are the sequential loop's sample. (Each raw run lists them again, timed.)
	server0, client0, began := b.jvmCPU(), bench.SelfCPU(), time.Now()
	keys, counts, err := walkCount(ctx, store, ref)
	if err != nil {
		return nil, err
	}
	r.items = int64(len(keys))
	r.walk = phase{items: r.items, wall: time.Since(began), client: bench.SelfCPU() - client0, server: b.jvmCPU() - server0}
	env.Logf("  %s: Store.Walk listed %d keys in %v (untimed: the counts and the sequential sample)", name, r.items, r.walk.wall.Round(time.Millisecond))

	// 1. sequential: one DeleteItem after another over the sample, which is then written back from
	// the same generator, so the other two modes start from the identical data.
	sampled := keys[:min(sample, len(keys))]
	if r.sequential, err = b.sequentialDelete(ctx, db, sampled); err != nil {
		return nil, fmt.Errorf("sequential loop: %w", err)
	}
	env.Logf("  %s: sequential DeleteItem deleted %d items in %v (%.0f items/s)", name, r.sequential.items,
		r.sequential.wall.Round(time.Millisecond), r.sequential.rate())
	if err := restore(ctx, store, opts, sampled); err != nil {
		return nil, fmt.Errorf("restore the sequential loop's sample: %w", err)
	}
	keys, sampled = nil, nil // each raw run lists its own

	// 2 and 3, as many times as the size calls for, alternating: raw, the keys listed with Query
	// (Store.Walk) and then deleted by parallel BatchWriteItem, timed together; then Lethe, the same
	// data again deleted by the engine in the erase worker, which finds and deletes at once.
	engine := erasure.New(store, db, env.Stack.S3(), res.Buckets, ledger.New(db, res.Tables[datamap.LedgerTable], policy, clock), erasure.Options{Now: clock})
	for i := range reps {
		var list, raw phase
		var stats bulkwrite.Stats
		for attempt := 0; ; attempt++ {
			if i > 0 || attempt > 0 {
				if _, err := reseed(); err != nil {
					return nil, err
				}
			}
			var listed []platform.Key
			if listed, list, err = b.list(ctx, store, ref); err != nil {
				return nil, fmt.Errorf("list the keys: %w", err)
			}
			if int64(len(listed)) != r.items {
				return nil, fmt.Errorf("listed %d keys; the scope held %d", len(listed), r.items)
			}
			if raw, stats, err = b.rawDelete(ctx, db, listed); err != nil {
				return nil, fmt.Errorf("raw loop: %w", err)
			}
			listed = nil
			both := list.add(raw)
			both.items = raw.items
			env.Logf("  %s: listed %d keys in %v, then raw BatchWriteItem deleted them in %v: %v in all (%.0f items/s; delete alone %.0f items/s)",
				name, list.items, list.wall.Round(time.Millisecond), raw.wall.Round(time.Millisecond), both.wall.Round(time.Millisecond), both.rate(), raw.rate())
			if raw.items != r.items {
				return nil, fmt.Errorf("raw loop deleted %d items of %d", raw.items, r.items)
			}
			if left, err := walkKeys(ctx, store, ref); err != nil || len(left) > 0 {
				return nil, fmt.Errorf("raw loop left %d items (%v)", len(left), err)
			}
			if !b.again(r, "the raw loop", both, attempt) {
				break
			}
		}
		if i == reps-1 {
			// The listed keys are garbage now: the engine's peak RSS is its own, and this process's too.
			runtime.GC()
			debug.FreeOSMemory()
		}

		var lethe phase
		var rep WorkerReport
		var s3CPU time.Duration
		for attempt := 0; ; attempt++ {
			if _, err := reseed(); err != nil {
				return nil, err
			}
			if lethe, rep, s3CPU, err = b.lethe(ctx, r.label, res, ref); err != nil {
				return nil, err
			}
			env.Logf("  %s: Lethe deleted %d items and %d objects in %d slices, %v (%.0f items/s, %.2f× list then raw); worker peak RSS %.1f MiB",
				name, rep.Items, rep.Objects, rep.Slices, lethe.wall.Round(time.Millisecond), lethe.rate(),
				(list.wall+raw.wall).Seconds()/lethe.wall.Seconds(), float64(rep.PeakRSS)/(1<<20))
			// Verification is no part of the timed deletion.
			left, err := engine.Verify(ctx, ref)
			if err != nil {
				return nil, err
			}
			if !left.Empty() {
				return nil, fmt.Errorf("the engine reported done but left %v", left)
			}
			if rep.Items != r.items {
				return nil, fmt.Errorf("the engine deleted %d items; the scope held %d (%s)", rep.Items, r.items, countDiff(rep.Deleted, counts))
			}
			if !b.again(r, "the engine", lethe, attempt) {
				break
			}
		}

		r.list, r.raw, r.lethe = r.list.add(list), r.raw.add(raw), r.lethe.add(lethe)
		r.rawStats.Calls += stats.Calls
		r.rawStats.Retries += stats.Retries
		r.s3CPU += s3CPU
		ratio := (list.wall + raw.wall).Seconds() / lethe.wall.Seconds()
		if i == 0 {
			r.ratioMin, r.ratioMax = ratio, ratio
		}
		r.ratioMin, r.ratioMax = min(r.ratioMin, ratio), max(r.ratioMax, ratio)
		peak := max(r.worker.PeakRSS, rep.PeakRSS)
		r.worker = rep // the calls are the same every time
		r.worker.PeakRSS = peak
		r.reps++
	}

	// Per repetition, the call counts are those of one run.
	r.rawStats.Calls /= int64(r.reps)
	r.rawStats.Retries /= int64(r.reps)
	// The metered run costs a seed and a deletion more: a quick run meters its largest size only
	// (the one the bar and the cost section read).
	if name != "warmup" && (!b.env.Quick || target == slices.Max(b.o.Sizes)) {
		if err := b.meterCapacity(ctx, r, res, ref, reseed, engine); err != nil {
			return nil, err
		}
	}
	r.parentRSS, _ = bench.SelfMemory()
	return r, nil
}

// again reports whether a phase that other processes disturbed should be measured again: once.
func (b *run) again(r *round, what string, p phase, attempt int) bool {
	if p.otherShare() <= bench.DisturbedShare || attempt > 0 {
		return false
	}
	b.env.Logf("  %s: other processes took %.0f%% of the CPUs while %s ran: measuring it again", r.label, 100*p.otherShare(), what)
	r.remeasured++
	return true
}

// countDiff names the categories whose deleted count differs from the walk's.
func countDiff(deleted, walked map[string]int64) string {
	var out []string
	for cat := range mergeKeys(deleted, walked) {
		if deleted[cat] != walked[cat] {
			out = append(out, fmt.Sprintf("%s: deleted %d, walked %d", cat, deleted[cat], walked[cat]))
		}
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

func mergeKeys(a, b map[string]int64) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// tune finds the message count whose account holds about target items in scope, from the
// generator's own counts (generation without writing takes a fraction of a second).
func tune(opts seed.Options, target int64) (int64, error) {
	n := max(target*5/6, 1)
	for range 4 {
		opts.Size = seed.SizeForMessages(n)
		got, err := scopeItems(opts)
		if err != nil {
			return 0, err
		}
		if got == 0 || abs(got-target)*200 < target { // within 0.5%
			break
		}
		n = max(n*target/got, 1)
	}
	return n, nil
}

func abs(v int64) int64 { return max(v, -v) }

// scopeItems counts the items an account scope reaches among what opts generates: platform-table
// items of every category not kept by law.
func scopeItems(opts seed.Options) (int64, error) {
	m, err := seed.Generate(opts, func(platform.Record) error { return nil }, func(seed.Object) error { return nil })
	if err != nil {
		return 0, err
	}
	var n int64
	for cat, c := range m.Counts {
		d, ok := datamap.Lookup(cat)
		if ok && !d.Kept() && d.Location.Table == datamap.PlatformTable {
			n += c
		}
	}
	return n, nil
}

// list is the raw loop's head: the scope's keys found with Query (Store.Walk, as the engine must
// find them), timed.
func (b *run) list(ctx context.Context, store *platform.Store, ref platform.ScopeRef) ([]platform.Key, phase, error) {
	machine0, server0, client0, began := bench.MachineCPU(), b.jvmCPU(), bench.SelfCPU(), time.Now()
	keys, err := walkKeys(ctx, store, ref)
	p := phase{items: int64(len(keys)), wall: time.Since(began), client: bench.SelfCPU() - client0, server: b.jvmCPU() - server0}
	p.window, p.other = p.wall, max(0, bench.MachineCPU()-machine0-p.client-p.server)
	return keys, p, err
}

// walkKeys lists the DynamoDB keys of a scope.
func walkKeys(ctx context.Context, store *platform.Store, ref platform.ScopeRef) ([]platform.Key, error) {
	keys, _, err := walkCount(ctx, store, ref)
	return keys, err
}

// walkCount lists the DynamoDB keys of a scope and counts them by category.
func walkCount(ctx context.Context, store *platform.Store, ref platform.ScopeRef) ([]platform.Key, map[string]int64, error) {
	var keys []platform.Key
	counts := map[string]int64{}
	err := store.Walk(ctx, ref, func(t platform.Target) error {
		if t.IsObjects() {
			return nil
		}
		counts[t.Category]++
		k := t.Key
		if n := len(keys); n > 0 && keys[n-1].Table == k.Table {
			k.Table = keys[n-1].Table // one copy of the table name
		}
		keys = append(keys, platform.Key{Table: k.Table, PK: strings.Clone(k.PK), SK: strings.Clone(k.SK)})
		return nil
	})
	return keys, counts, err
}

// restore writes back the records of the given keys, generated again from the same options: the
// part of a re-seed that the sequential loop's deletions call for.
func restore(ctx context.Context, store *platform.Store, opts seed.Options, keys []platform.Key) error {
	want := make(map[[2]string]bool, len(keys))
	for _, k := range keys {
		want[[2]string{k.PK, k.SK}] = true
	}
	var reqs []bulkwrite.Request
	_, err := seed.Generate(opts, func(r platform.Record) error {
		k, err := store.KeyOf(r)
		if err != nil || !want[[2]string{k.PK, k.SK}] {
			return err
		}
		req, err := store.PutRequest(r)
		reqs = append(reqs, req)
		return err
	}, func(seed.Object) error { return nil })
	if err != nil {
		return err
	}
	if len(reqs) != len(keys) {
		return fmt.Errorf("found %d of the %d records again", len(reqs), len(keys))
	}
	w := bulkwrite.Writer{DB: store.DB()}
	_, err = w.WriteAll(ctx, reqs)
	return err
}

func deleteRequest(k platform.Key) bulkwrite.Request {
	return bulkwrite.Request{Table: k.Table, Write: types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k.Attributes()}}}
}

// rawDelete deletes the keys with bulkwrite.Writer.WriteAll. The requests are built a chunk at a
// time outside the timing, so the loop measures BatchWriteItem and nothing else.
func (b *run) rawDelete(ctx context.Context, db *dynamodb.Client, keys []platform.Key) (phase, bulkwrite.Stats, error) {
	return b.rawDeleteWith(ctx, db, keys, b.o.Workers)
}

func (b *run) rawDeleteWith(ctx context.Context, db *dynamodb.Client, keys []platform.Key, workers int) (phase, bulkwrite.Stats, error) {
	w := bulkwrite.Writer{DB: db, Workers: workers}
	var p phase
	var st bulkwrite.Stats
	for len(keys) > 0 {
		part := keys[:min(rawChunk, len(keys))]
		keys = keys[len(part):]
		reqs := make([]bulkwrite.Request, len(part))
		for i, k := range part {
			reqs[i] = deleteRequest(k)
		}
		machine0, server0, client0, began := bench.MachineCPU(), b.jvmCPU(), bench.SelfCPU(), time.Now()
		s, err := w.WriteAll(ctx, reqs)
		wall, client, server := time.Since(began), bench.SelfCPU()-client0, b.jvmCPU()-server0
		p.wall += wall
		p.window += wall
		p.client += client
		p.server += server
		p.other += max(0, bench.MachineCPU()-machine0-client-server)
		st.Written += s.Written
		st.Calls += s.Calls
		st.Retries += s.Retries
		if err != nil {
			return p, st, err
		}
	}
	p.items = st.Written
	return p, st, nil
}

// sequentialDelete deletes the keys one DeleteItem call after another.
func (b *run) sequentialDelete(ctx context.Context, db *dynamodb.Client, keys []platform.Key) (phase, error) {
	machine0, server0, client0, began := bench.MachineCPU(), b.jvmCPU(), bench.SelfCPU(), time.Now()
	for _, k := range keys {
		if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &k.Table, Key: k.Attributes()}); err != nil {
			return phase{}, err
		}
	}
	p := phase{items: int64(len(keys)), wall: time.Since(began), client: bench.SelfCPU() - client0, server: b.jvmCPU() - server0}
	p.window, p.other = p.wall, max(0, bench.MachineCPU()-machine0-p.client-p.server)
	return p, nil
}

// lethe runs the erase worker on the account and reads its report. s3CPU is this process's CPU
// meanwhile: the in-process S3 serving the engine.
func (b *run) lethe(ctx context.Context, name string, res *bench.Resources, ref platform.ScopeRef, extra ...string) (p phase, rep WorkerReport, s3CPU time.Duration, err error) {
	args := append(append(append([]string{}, b.o.Worker[1:]...), extra...),
		"-account", ref.AccountID, "-now", b.now.Format(time.RFC3339Nano),
		"-workers", fmt.Sprint(b.o.Workers), "-budget", fmt.Sprint(b.o.Budget))
	if b.o.Profile {
		dir, err := b.env.ScratchDir()
		if err != nil {
			return p, rep, 0, err
		}
		path, _ := filepath.Abs(filepath.Join(dir, "hard-delete-"+name+".cpu.pprof"))
		args = append(args, "-cpuprofile", path)
		defer b.env.Logf("  %s: CPU profile of the engine in %s", name, path)
		// This process serves the engine's S3 calls: profile it too.
		own := filepath.Join(dir, "hard-delete-"+name+".s3.cpu.pprof")
		f, err := os.Create(own)
		if err != nil {
			return p, rep, 0, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err == nil {
			defer pprof.StopCPUProfile()
			defer b.env.Logf("  %s: CPU profile of the in-process S3 (this process) in %s", name, own)
		}
	}
	cmd := exec.CommandContext(ctx, b.o.Worker[0], args...)
	cmd.Env = append(append(os.Environ(), b.env.Stack.Env()...), res.Env()...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, b.env.Log
	machine0, server0, self0, began := bench.MachineCPU(), b.jvmCPU(), bench.SelfCPU(), time.Now()
	if err := cmd.Run(); err != nil {
		return p, rep, 0, fmt.Errorf("erase worker: %w", err)
	}
	server, self, window := b.jvmCPU()-server0, bench.SelfCPU()-self0, time.Since(began)
	worker := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	other := max(0, bench.MachineCPU()-machine0-server-self-worker)
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		return p, rep, 0, fmt.Errorf("erase worker's report %q: %w", out.String(), err)
	}
	p = phase{items: rep.Items, wall: time.Duration(rep.ElapsedNS), server: server, client: time.Duration(rep.CPUNS),
		other: other, window: window}
	return p, rep, self, nil
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
