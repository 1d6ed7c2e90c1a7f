package harddelete

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"sort"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lethe-dev/lethe/internal/bench"
	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/erasure"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/local/localaws"
	"github.com/lethe-dev/lethe/internal/platform"
)

// WorkerReport is what the erase worker prints on stdout: how long the engine took to delete the
// account, what it deleted, its own peak memory, and every call it made.
type WorkerReport struct {
	ElapsedNS int64 `json:"elapsed_ns"`
	// CPUNS is the worker's CPU time (user and system) during the deletion.
	CPUNS   int64 `json:"cpu_ns"`
	Items   int64 `json:"items"` // DynamoDB items deleted
	Objects int64 `json:"objects"`
	// Deleted counts the items by data-map category.
	Deleted map[string]int64 `json:"deleted"`
	Slices  int              `json:"slices"`
	// PeakRSS is the worker's VmHWM: the engine's peak memory and nothing else's.
	PeakRSS int64 `json:"peak_rss_bytes"`
	// Calls counts the calls by operation ("dynamodb.Query", "s3.ListObjectsV2" …).
	Calls map[string]CallStats `json:"calls"`
	// BatchSizes counts BatchWriteItem calls by the number of requests they carried.
	BatchSizes map[string]int64 `json:"batch_sizes"`
	// Capacity is the engine's metered capacity, in a run with -meter.
	Capacity *WorkerCapacity `json:"capacity,omitempty"`
}

// CallStats describes the calls of one operation.
type CallStats struct {
	Calls int64 `json:"calls"`
	// Items is what the calls carried: items returned (Query), requests sent (BatchWriteItem), keys
	// listed (ListObjectsV2) or deleted (DeleteObjects).
	Items int64 `json:"items,omitempty"`
	// TimeNS is the calls' latencies summed: with parallel calls it exceeds wall time; its shares tell
	// where the worker waited.
	TimeNS int64 `json:"time_ns"`
}

// RunWorker is `lethe bench erase-worker`: it deletes one account with the erasure engine, in slices,
// to the end, and prints a WorkerReport as JSON. It finds the stack through LETHE_*_ENDPOINT and the
// tables and bucket through PLATFORM_TABLE, LEDGER_TABLE and FILES_BUCKET, as a function would.
func RunWorker(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench erase-worker", flag.ContinueOnError)
	account := fs.String("account", "", "the account to delete")
	nowFlag := fs.String("now", "", "the clock, RFC 3339 (the seeded data's now)")
	workers := fs.Int("workers", defaultWorkers, "parallel BatchWriteItem calls")
	budget := fs.Int64("budget", defaultBudget, "items per slice")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the deletion to `file`")
	meter := fs.Bool("meter", false, "meter the engine's DynamoDB capacity (sizes from an untimed Scan first)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *account == "" {
		return errors.New("erase-worker: -account is required")
	}
	now, err := time.Parse(time.RFC3339Nano, *nowFlag)
	if err != nil {
		return fmt.Errorf("erase-worker: -now: %w", err)
	}
	stack, err := localaws.ConnectFromEnv()
	if err != nil {
		return fmt.Errorf("erase-worker: %w", err)
	}
	tables := platform.Tables{datamap.PlatformTable: os.Getenv(config.EnvPlatformTable), datamap.LedgerTable: os.Getenv(config.EnvLedgerTable)}
	buckets := map[string]string{datamap.FilesBucket: os.Getenv(config.EnvFilesBucket)}
	if tables[datamap.PlatformTable] == "" || tables[datamap.LedgerTable] == "" || buckets[datamap.FilesBucket] == "" {
		return fmt.Errorf("erase-worker: %s, %s and %s must be set", config.EnvPlatformTable, config.EnvLedgerTable, config.EnvFilesBucket)
	}

	clock := func() time.Time { return now }
	calls := newCallCounter()
	base := stack.DynamoDB()
	var capacity func() (*WorkerCapacity, error)
	if *meter {
		if base, capacity, err = meteredDB(ctx, base, tables[datamap.PlatformTable], tables[datamap.LedgerTable]); err != nil {
			return fmt.Errorf("erase-worker: %w", err)
		}
	}
	db := countingDB{Client: base, c: calls}
	store := platform.NewStore(db, tables, policy, clock)
	holds := ledger.New(db, tables[datamap.LedgerTable], policy, clock)
	engine := erasure.New(store, db, countingS3{Client: stack.S3(), c: calls}, buckets, holds, erasure.Options{Workers: *workers, Now: clock})
	ref := platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: *account}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	cpu0, began := bench.SelfCPU(), time.Now()
	var cp erasure.Checkpoint
	for !cp.Done {
		if cp, err = engine.Delete(ctx, ref, cp, erasure.Budget{Items: *budget}); err != nil {
			return fmt.Errorf("erase-worker: slice %d: %w", cp.Slices+1, err)
		}
	}
	elapsed, cpu := time.Since(began), bench.SelfCPU()-cpu0
	if *cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	mem, err := bench.SelfMemory()
	if err != nil {
		return err
	}
	rep := WorkerReport{ElapsedNS: elapsed.Nanoseconds(), CPUNS: cpu.Nanoseconds(), Items: cp.Total() - cp.Objects,
		Objects: cp.Objects, Deleted: cp.Deleted, Slices: cp.Slices, PeakRSS: mem.Peak, Calls: calls.stats(), BatchSizes: calls.batchSizes()}
	if capacity != nil {
		if rep.Capacity, err = capacity(); err != nil {
			return fmt.Errorf("erase-worker: %w", err)
		}
	}
	return json.NewEncoder(stdout).Encode(rep)
}

// callCounter counts calls per operation; the operations are fixed, so the map is only read.
type callCounter struct {
	ops     map[string]*opCounter
	batches [26]atomic.Int64 // BatchWriteItem calls by request count
}

type opCounter struct{ calls, items, nanos atomic.Int64 }

var countedOps = []string{"dynamodb.GetItem", "dynamodb.PutItem", "dynamodb.Query", "dynamodb.UpdateItem",
	"dynamodb.BatchWriteItem", "dynamodb.DeleteItem", "s3.ListObjectsV2", "s3.DeleteObjects"}

func newCallCounter() *callCounter {
	c := &callCounter{ops: map[string]*opCounter{}}
	for _, op := range countedOps {
		c.ops[op] = &opCounter{}
	}
	return c
}

func (c *callCounter) add(op string, items int, began time.Time) {
	o := c.ops[op]
	o.calls.Add(1)
	o.items.Add(int64(items))
	o.nanos.Add(int64(time.Since(began)))
}

func (c *callCounter) stats() map[string]CallStats {
	out := map[string]CallStats{}
	for op, o := range c.ops {
		if n := o.calls.Load(); n > 0 {
			out[op] = CallStats{Calls: n, Items: o.items.Load(), TimeNS: o.nanos.Load()}
		}
	}
	return out
}

func (c *callCounter) batchSizes() map[string]int64 {
	out := map[string]int64{}
	for n := range c.batches {
		if v := c.batches[n].Load(); v > 0 {
			out[strconv.Itoa(n)] = v
		}
	}
	return out
}

// countingDB is the DynamoDB client with every call the engine makes counted and timed.
type countingDB struct {
	*dynamodb.Client
	c *callCounter
}

func (d countingDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	t := time.Now()
	out, err := d.Client.GetItem(ctx, in, optFns...)
	d.c.add("dynamodb.GetItem", 1, t)
	return out, err
}

func (d countingDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	t := time.Now()
	out, err := d.Client.PutItem(ctx, in, optFns...)
	d.c.add("dynamodb.PutItem", 1, t)
	return out, err
}

func (d countingDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	t := time.Now()
	out, err := d.Client.UpdateItem(ctx, in, optFns...)
	d.c.add("dynamodb.UpdateItem", 1, t)
	return out, err
}

func (d countingDB) Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	t := time.Now()
	out, err := d.Client.Query(ctx, in, optFns...)
	n := 0
	if out != nil {
		n = len(out.Items)
	}
	d.c.add("dynamodb.Query", n, t)
	return out, err
}

func (d countingDB) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	t := time.Now()
	out, err := d.Client.BatchWriteItem(ctx, in, optFns...)
	n := 0
	for _, reqs := range in.RequestItems {
		n += len(reqs)
	}
	d.c.add("dynamodb.BatchWriteItem", n, t)
	d.c.batches[min(n, len(d.c.batches)-1)].Add(1)
	return out, err
}

// countingS3 is the S3 client with the engine's calls counted and timed.
type countingS3 struct {
	*s3.Client
	c *callCounter
}

func (s countingS3) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	t := time.Now()
	out, err := s.Client.ListObjectsV2(ctx, in, optFns...)
	n := 0
	if out != nil {
		n = len(out.Contents)
	}
	s.c.add("s3.ListObjectsV2", n, t)
	return out, err
}

func (s countingS3) DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error) {
	t := time.Now()
	out, err := s.Client.DeleteObjects(ctx, in, optFns...)
	n := 0
	if in.Delete != nil {
		n = len(in.Delete.Objects)
	}
	s.c.add("s3.DeleteObjects", n, t)
	return out, err
}

// sortedOps lists the operations of a report, busiest first.
func sortedOps(calls map[string]CallStats) []string {
	ops := make([]string, 0, len(calls))
	for op := range calls {
		ops = append(ops, op)
	}
	sort.Slice(ops, func(i, j int) bool { return calls[ops[i]].TimeNS > calls[ops[j]].TimeNS })
	return ops
}
