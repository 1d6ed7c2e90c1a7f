package retention_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/retention"
)

// countDB counts what the sweep asks of DynamoDB: the Scan calls in flight at once (the most seen),
// the TotalSegments of every table's scan, and the stores of the checkpoint item.
type countDB struct {
	retention.DB
	ledger string

	inFlight, most atomic.Int64
	mu             sync.Mutex
	totals         map[string]map[int32]bool
	segments       map[string]map[int32]bool
	puts           int
}

func (d *countDB) Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	n := d.inFlight.Add(1)
	defer d.inFlight.Add(-1)
	for {
		m := d.most.Load()
		if n <= m || d.most.CompareAndSwap(m, n) {
			break
		}
	}
	d.mu.Lock()
	t := aws.ToString(in.TableName)
	if d.totals == nil {
		d.totals, d.segments = map[string]map[int32]bool{}, map[string]map[int32]bool{}
	}
	if d.totals[t] == nil {
		d.totals[t], d.segments[t] = map[int32]bool{}, map[int32]bool{}
	}
	d.totals[t][aws.ToInt32(in.TotalSegments)] = true
	d.segments[t][aws.ToInt32(in.Segment)] = true
	d.mu.Unlock()
	// A little latency, so that scans overlap as they do against a real table.
	time.Sleep(2 * time.Millisecond)
	return d.DB.Scan(ctx, in, optFns...)
}

func (d *countDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if aws.ToString(in.TableName) == d.ledger {
		if sk, ok := in.Item[platform.AttrSK].(*types.AttributeValueMemberS); ok && sk.Value == "CHECKPOINT" {
			d.mu.Lock()
			d.puts++
			d.mu.Unlock()
		}
	}
	return d.DB.PutItem(ctx, in, optFns...)
}

// A run sizes its segments to each table: one per SegmentItems items of DescribeTable's count,
// at least DefaultSegments, at most MaxSegments; the checkpoint keeps them, and the scan uses them.
func TestSweepSizesItsSegmentsToTheTables(t *testing.T) {
	r := newRig(t, true)
	platformTable, ledgerTable := r.env.Tables[datamap.PlatformTable], r.env.Tables[datamap.LedgerTable]
	count := func(table string) int64 {
		out, err := r.env.DynamoDB.DescribeTable(r.ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToInt64(out.Table.ItemCount)
	}
	items := count(platformTable)
	if items < 60 {
		t.Fatalf("the seeded platform table holds %d items; the test needs more", items)
	}
	want := func(n, per int64) int {
		return int(min(max((n+per-1)/per, retention.DefaultSegments), retention.MaxSegments))
	}

	s := *r.sweep
	s.Segments = 0
	for _, per := range []int64{1, 7, 1_000_000} {
		s.SegmentItems = per
		plan, err := s.Plan(r.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got, w := plan[datamap.PlatformTable], want(items, per); got != w {
			t.Errorf("%d items, %d a segment: %d platform segments, want %d", items, per, got, w)
		}
		if got, w := plan[datamap.LedgerTable], want(count(ledgerTable), per); got != w {
			t.Errorf("%d a segment: %d ledger segments, want %d", per, got, w)
		}
	}
	// Fixed segments win over sizing.
	s.Segments = 3
	if plan, err := s.Plan(r.ctx); err != nil || plan[datamap.PlatformTable] != 3 || plan[datamap.LedgerTable] != 3 {
		t.Errorf("Segments 3: plan %v, %v", plan, err)
	}

	// A run (cut short at once) scans in the planned segments and keeps them in its checkpoint; the
	// run resumed to its end uses the same ones, whatever the tables hold by then.
	r.advanceTo(t0.AddDate(0, 13, 1))
	s.Segments, s.SegmentItems, s.Budget, s.PageSize = 0, 7, time.Nanosecond, 4
	db := &countDB{DB: s.DB, ledger: ledgerTable}
	s.DB = db
	plan, err := s.Plan(r.ctx)
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.Run(r.ctx, retention.Input{})
	if err != nil {
		t.Fatal(err)
	}
	if !first.Partial || first.Checkpoint == nil {
		t.Fatalf("a run with a tiny budget finished at once: %+v", first)
	}
	got := map[string]int{}
	for logical, positions := range first.Checkpoint.Positions {
		got[logical] = len(positions)
	}
	if got[datamap.PlatformTable] != plan[datamap.PlatformTable] || got[datamap.LedgerTable] != plan[datamap.LedgerTable] {
		t.Errorf("checkpoint segments %v, plan %v", got, plan)
	}
	s.Budget, s.SegmentItems = 0, 1_000_000 // a plan of 4 segments now: the run keeps its own
	if _, err := s.Run(r.ctx, retention.Input{}); err != nil {
		t.Fatal(err)
	}
	for logical, table := range map[string]string{datamap.PlatformTable: platformTable, datamap.LedgerTable: ledgerTable} {
		totals := db.totals[table]
		if len(totals) != 1 || !totals[int32(plan[logical])] {
			t.Errorf("%s scanned with TotalSegments %v, want %d alone", logical, totals, plan[logical])
		}
		if got := len(db.segments[table]); got != plan[logical] {
			t.Errorf("%s: %d segments scanned, want all %d", logical, got, plan[logical])
		}
	}
	for name, items := range r.stored() {
		if c, ok := datamap.Lookup(name); ok && c.Retention.Kind == datamap.Personal13Months && len(items) > 0 {
			t.Errorf("%s: %d items past retention left", name, len(items))
		}
	}
}

// However many segments, at most Concurrency are scanned at once, and every one is scanned.
func TestSweepScansConcurrencySegmentsAtOnce(t *testing.T) {
	r := newRig(t, true)
	r.advanceTo(t0.AddDate(0, 13, 1))
	s := *r.sweep
	db := &countDB{DB: s.DB, ledger: r.env.Tables[datamap.LedgerTable]}
	s.DB, s.Segments, s.Concurrency, s.PageSize = db, 24, 3, 3
	res, err := s.Run(r.ctx, retention.Input{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Partial {
		t.Fatal("the run did not finish")
	}
	// Each segment holds its page and reads the next ahead: two Scan calls per worker at most.
	if most := db.most.Load(); most > 2*3 || most < 2 {
		t.Errorf("%d Scan calls in flight at once, want 2 to 6 for 3 workers", most)
	}
	for _, logical := range []string{datamap.PlatformTable, datamap.LedgerTable} {
		if got := len(db.segments[r.env.Tables[logical]]); got != 24 {
			t.Errorf("%s: %d of 24 segments scanned", logical, got)
		}
	}
	for name, items := range r.stored() {
		if c, ok := datamap.Lookup(name); ok && c.Retention.Kind == datamap.Personal13Months && len(items) > 0 {
			t.Errorf("%s: %d items past retention left", name, len(items))
		}
	}
}

// The checkpoint is stored every CheckpointEvery while the scan runs, and once at the end of an
// invocation however long the interval.
func TestSweepStoresItsCheckpointEveryInterval(t *testing.T) {
	stores := func(every time.Duration) (int, int64) {
		r := newRig(t, true)
		s := *r.sweep
		db := &countDB{DB: s.DB, ledger: r.env.Tables[datamap.LedgerTable]}
		s.DB, s.Segments, s.Concurrency, s.PageSize, s.CheckpointEvery = db, 2, 2, 2, every
		res, err := s.Run(r.ctx, retention.Input{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Partial {
			t.Fatal("the run did not finish")
		}
		var pages int64
		for _, c := range db.segments {
			pages += int64(len(c))
		}
		return db.puts, pages
	}
	often, _ := stores(time.Nanosecond)
	rarely, _ := stores(time.Hour)
	// Hourly: the new run's checkpoint, and nothing more while it scans (a finished run's
	// checkpoint is removed, not stored). Every nanosecond: after every page.
	if rarely != 1 {
		t.Errorf("with an hour between stores the checkpoint was stored %d times, want once (the run's start)", rarely)
	}
	if often < 20 {
		t.Errorf("with no wait between stores the checkpoint was stored %d times; the scan has more pages than that", often)
	}
}
