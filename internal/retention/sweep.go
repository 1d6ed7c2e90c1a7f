// Package retention is the daily retention sweep: the third of the three ways personal data never
// outlives its retention (SPEC §2–§3, issue 8). Every item carries the TTL its data-map rule gives and
// every read hides expired items; the sweep scans the platform and ledger tables in parallel
// segments and deletes what has expired but DynamoDB has not removed yet (with the S3 objects the
// item points at), repairs personal items that carry no TTL, and expires the retained categories
// (payments, consents, evidence) by their own rules, never earlier.
//
// A run that its time budget stops before the scan ends stores a checkpoint (the position of every
// segment, the counts so far) in the ledger table; the next invocation resumes it. A finished run is
// recorded as one completed ledger request (Source "retention", kind retention_expiry) with
// per-category counts in its progress and its history, and, when it destroyed data naming a
// subject, an Order 179 act of destruction (reason retention_expired) under that request.
package retention

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"

	"github.com/lethe-dev/lethe/internal/capmeter"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/obs"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
)

// Source is the source and actor of the requests the sweep records; internal/deletion maps it to
// the reason evidence.ReasonRetentionExpired.
const Source = "retention"

// KindRetentionExpiry is the kind of the ledger request that records a sweep run. The ledger has no
// kind for an automatic expiry; this one is defined here rather than in internal/ledger.
const KindRetentionExpiry request.Kind = "retention_expiry"

// Defaults.
const (
	// DefaultSegments is the fewest Scan segments a table gets.
	DefaultSegments = 4
	// DefaultSegmentItems is how many items one segment spans when a run sizes its segments to the
	// tables (Sweep.Segments zero): a few 1 MB pages. Small segments spread a table over the workers
	// evenly, keep the work a checkpoint can lose small, and on DynamoDB Local keep a Scan page cheap
	// (there a page costs in proportion to the part of the table its segment spans).
	DefaultSegmentItems = 5000
	// MaxSegments bounds the segments of one table, and so the checkpoint's size (a position per
	// segment, well under DynamoDB's 400 KB item limit at 512 per table).
	MaxSegments = 512
	// DefaultConcurrency is how many segments are scanned at once (each holds a page and the next).
	DefaultConcurrency = 16
	// DefaultCheckpointEvery is how often a running invocation stores its checkpoint; it is stored
	// again when the invocation ends. A run that dies in between scans that much again (its deletes
	// are conditional, so a second pass finds nothing to do twice).
	DefaultCheckpointEvery = 5 * time.Second
	// deleteConcurrency bounds the S3 deletes in flight per segment, and the writer's calls in flight.
	deleteConcurrency = 8
	// maxPagesInFlight bounds the pages of a segment whose writes are not done yet.
	maxPagesInFlight = 8
	// DefaultBudget is the scanning time of one invocation of the deployed function (Timeout 900 s):
	// it leaves minutes for the pages in flight, the checkpoint and the request.
	DefaultBudget = 12 * time.Minute
	// reserve is kept of an invocation's deadline to store the checkpoint and the request.
	reserve = time.Minute
)

// Tables scanned: the analytics table holds no personal data and is never touched.
var sweptTables = []string{datamap.PlatformTable, datamap.LedgerTable}

// DB is the part of the DynamoDB client the sweep uses; *dynamodb.Client satisfies it. The platform
// store has no Scan on purpose; the sweep is one of the few jobs that must see every item.
type DB interface {
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// S3 is the part of the S3 client the sweep uses; *s3.Client satisfies it. The listing and tags
// are a legal hold's: it re-tags what it covers so the lifecycle rule never expires it (holdttl.go).
type S3 interface {
	DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObjectTagging(ctx context.Context, in *s3.GetObjectTaggingInput, optFns ...func(*s3.Options)) (*s3.GetObjectTaggingOutput, error)
	PutObjectTagging(ctx context.Context, in *s3.PutObjectTaggingInput, optFns ...func(*s3.Options)) (*s3.PutObjectTaggingOutput, error)
}

// Sweep is the retention sweep.
type Sweep struct {
	DB DB
	// Tables maps logical table ids (datamap.PlatformTable, datamap.LedgerTable) to physical names.
	Tables map[string]string
	S3     S3
	// Buckets maps logical bucket ids (datamap.FilesBucket) to physical names.
	Buckets map[string]string
	Ledger  *ledger.Ledger
	// Store walks a legal hold's scope to take its items' TTL off or give it back (holdttl.go).
	Store  *platform.Store
	Policy datamap.Policy
	// Operator is the personal-data operator the acts of destruction name.
	Operator evidence.Operator
	// Now is the clock expiry is judged by (the virtual clock locally); time.Now when nil.
	Now func() time.Time
	// Log gets one line per run and per undatable category, never personal data; slog.Default when nil.
	Log *slog.Logger
	// Segments fixes the number of Scan segments per table. Zero: a new run sizes them to each
	// table, one per SegmentItems items (DescribeTable's item count), between DefaultSegments and
	// MaxSegments. A resumed run keeps the segments it began with.
	Segments int
	// SegmentItems is the items per segment when the run sizes them (DefaultSegmentItems when 0).
	SegmentItems int64
	// Concurrency is how many segments are scanned at once, over both tables (DefaultConcurrency
	// when 0).
	Concurrency int
	// CheckpointEvery is how often the checkpoint is stored while scanning (DefaultCheckpointEvery
	// when 0).
	CheckpointEvery time.Duration
	// Budget is the wall-clock time one invocation may scan; it then stops, stores the checkpoint and
	// returns. Zero: until the context's deadline less a minute. Every segment scans at least one
	// page per invocation, so a run always progresses.
	Budget time.Duration
	// PageSize limits the items of one Scan page (0: DynamoDB's 1 MB pages).
	PageSize int32
	// Mail sends the privacy officer the monthly report (report.go); PrivacyOfficer is the address.
	// Without either, no report is sent (and the sweep says so in its log).
	Mail           Mailer
	PrivacyOfficer string
}

// Input is what an invocation receives. EventBridge Scheduler sends {"sweep": "retention"}: no
// checkpoint, so the stored one (if a run is unfinished) or a new run is used.
type Input struct {
	// Checkpoint resumes a run from this position rather than the stored one (a Step Functions loop
	// or an operator passes back the Result's checkpoint).
	Checkpoint *Checkpoint `json:"checkpoint,omitempty"`
	// ContinueOnly resumes a stored unfinished run and otherwise does nothing: the hourly schedule,
	// so that a run its time budget cut short goes on within the hour rather than the next day.
	ContinueOnly bool `json:"continueOnly,omitempty"`
}

// CategoryReport is what the run did with one category. No personal data: counts and a date.
type CategoryReport struct {
	Deleted      int64 `json:"deleted,omitempty"`
	Objects      int64 `json:"objects,omitempty"` // S3 objects deleted with the items
	Repaired     int64 `json:"repaired,omitempty"`
	Unrepairable int64 `json:"unrepairable,omitempty"`
	// Held counts items past retention, or without TTL, kept because a legal hold covers them.
	Held int64 `json:"held,omitempty"`
	// Oldest is the retention anchor of the oldest personal item of the category left stored.
	Oldest *time.Time `json:"oldest,omitempty"`
}

func (c *CategoryReport) add(o *CategoryReport) {
	c.Deleted += o.Deleted
	c.Objects += o.Objects
	c.Repaired += o.Repaired
	c.Unrepairable += o.Unrepairable
	c.Held += o.Held
	if o.Oldest != nil && (c.Oldest == nil || o.Oldest.Before(*c.Oldest)) {
		t := *o.Oldest
		c.Oldest = &t
	}
}

// Result is what one invocation returns: the run's totals so far (the monthly report's content), and
// the checkpoint to resume from when the run is not finished.
type Result struct {
	RunID      string                     `json:"runId"`
	Categories map[string]*CategoryReport `json:"categories"`
	// Partial: the budget ended before the scan; Checkpoint says where to resume.
	Partial    bool        `json:"partial,omitempty"`
	Checkpoint *Checkpoint `json:"checkpoint,omitempty"`
	// Invocations is how many invocations the run has taken so far.
	Invocations int `json:"invocations"`
	// Errors counts items the run could not delete or repair; the next run tries them again.
	Errors int64 `json:"errors,omitempty"`
	// Idle: nothing was done. A ContinueOnly invocation found no unfinished run, or another
	// invocation holds the run (Busy).
	Idle bool `json:"idle,omitempty"`
	Busy bool `json:"busy,omitempty"`
	// Reported is the month ("2006-01") whose report this invocation mailed to the privacy officer.
	Reported string `json:"reported,omitempty"`
}

// Handle is the Lambda handler (EventBridge Scheduler, daily).
func (s *Sweep) Handle(ctx context.Context, raw json.RawMessage) (Result, error) {
	var in Input
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &in); err != nil {
			return Result{}, fmt.Errorf("retention sweep: input: %w", err)
		}
	}
	return s.Run(ctx, in)
}

// Run sweeps until the scan ends or the budget does.
func (s *Sweep) Run(ctx context.Context, in Input) (Result, error) {
	if s.DB == nil || s.Ledger == nil || s.Tables[datamap.PlatformTable] == "" || s.Tables[datamap.LedgerTable] == "" {
		return Result{}, errors.New("retention sweep: not configured")
	}
	// The capacity DynamoDB reports for the invocation's calls (through a client with capmeter.Ask),
	// for its log line and metrics.
	ctx, _ = capmeter.WithCounter(ctx)
	// What earlier invocations left is settled while this one takes the lease and opens its run
	// (a new run sizes its scan with DescribeTable, which DynamoDB Local answers by counting the
	// table): the invocation waits for the slower of the two, not their sum. Settling never needed
	// the lease, and is done before the scan and before an idle invocation returns.
	settled := make(chan struct{})
	go func() {
		defer close(settled)
		s.settleBeforeScan(ctx)
	}()
	cp, idle, err := s.open(ctx, in)
	<-settled
	if idle != nil {
		return *idle, err
	}
	if err != nil {
		return Result{}, err
	}
	r := s.newRun(ctx, cp)
	scanErr := r.scan(ctx)
	r.reportOldest()
	res, err := s.conclude(ctx, r)
	if err != nil {
		return res, err
	}
	return res, scanErr
}

// settleBeforeScan does what each invocation settles before its scan; a failure is logged and left
// to the next invocation.
func (s *Sweep) settleBeforeScan(ctx context.Context) {
	log := s.log()
	// The three are independent of one another (the TTL acts are journal reads and act writes, the
	// pending files S3 deletions of items already gone, the holds' batches TTL updates of held
	// items): they go at once, so an invocation waits for the slowest, not their sum.
	var wg sync.WaitGroup
	wg.Go(func() {
		// The acts of the days whose TTL removals changed since their act was drawn (stream.go). A
		// failure leaves their journal as it is: the next invocation draws them.
		if err := s.DrawTTLActs(ctx); err != nil {
			log.Error("retention sweep: could not draw up the acts of TTL removals", "err", err)
		}
	})
	wg.Go(func() {
		if err := s.deletePendingFiles(ctx); err != nil {
			log.Error("retention sweep: could not delete the files earlier runs left pending", "err", err)
		}
	})
	// The legal holds whose items' TTL is still to be taken off or given back, for a part of the
	// budget; the next invocation continues them. (The sweep honours every active hold in any case.)
	if s.Store != nil {
		wg.Go(func() {
			dl := s.deadline(ctx)
			if budget := time.Until(dl) / 4; !dl.IsZero() {
				dl = time.Now().Add(budget)
			}
			if err := s.SettleHolds(ctx, dl); err != nil {
				log.Error("retention sweep: could not settle the TTL of legal holds", "err", err)
			}
		})
	}
	wg.Wait()
}

// open takes the sweep's lease and the checkpoint of the run the invocation goes on with: in's, the
// stored one, or a new run's. idle is the result when there is nothing to do (with the error of
// releasing the lease, if any).
func (s *Sweep) open(ctx context.Context, in Input) (cp *Checkpoint, idle *Result, err error) {
	// One invocation at a time runs the sweep: the daily start and the hourly continuation may fire
	// together. The lease is on the checkpoint item and ends with the invocation (or, if it dies,
	// after the longest a Lambda invocation can last).
	owner, err := s.acquire(ctx)
	if errors.Is(err, errBusy) {
		s.log().Info("retention sweep: another invocation is running the sweep; nothing to do")
		return nil, &Result{Idle: true, Busy: true}, nil
	}
	if err != nil {
		return nil, nil, err
	}
	cp = in.Checkpoint
	if cp == nil {
		stored, err := s.loadCheckpoint(ctx)
		if err != nil {
			return nil, nil, errors.Join(err, s.release(ctx, owner, nil))
		}
		cp = stored
	}
	// A stored checkpoint whose scan is done is a run whose recording failed: it is recorded now.
	if cp == nil && in.ContinueOnly {
		return nil, &Result{Idle: true}, s.release(ctx, owner, nil)
	}
	if cp == nil {
		if cp, err = s.begin(ctx, owner); err != nil {
			return nil, nil, errors.Join(err, s.release(ctx, owner, nil))
		}
	}
	cp.owner = owner
	if cp.RunID == "" {
		return nil, nil, errors.New("retention sweep: the checkpoint has no run id")
	}
	for _, t := range sweptTables {
		if cp.segmentsOf(t) == 0 {
			return nil, nil, fmt.Errorf("retention sweep: the checkpoint has no positions for %s", t)
		}
	}
	cp.Invocations++
	if cp.Categories == nil {
		cp.Categories = map[string]*CategoryReport{}
	}
	return cp, nil, nil
}

// newRun is the shared state of an invocation that goes on with cp until the deadline.
func (s *Sweep) newRun(ctx context.Context, cp *Checkpoint) *run {
	r := &run{s: s, cp: cp, deadline: s.deadline(ctx), oldest: map[string]time.Time{}, saved: time.Now()}
	// The writes outlive a failing segment's context: a page handed to the writer is finished.
	r.holds = &holdView{s: s}
	r.w = s.newWriter(ctx, cp.RunID, r.holds)
	return r
}

// scan scans the unfinished segments of both tables, interleaved, with a pool of workers, and waits
// for their writes. Segments started before the deadline scan at least one page each, so every
// invocation progresses; one still queued at the deadline waits for the next invocation.
func (r *run) scan(ctx context.Context) error {
	cp := r.cp
	type job struct {
		logical string
		seg     int
	}
	var jobs []job
	for seg := range max(cp.segmentsOf(sweptTables[0]), cp.segmentsOf(sweptTables[1])) {
		for _, logical := range sweptTables {
			if seg < cp.segmentsOf(logical) && !cp.Positions[logical][seg].Done {
				jobs = append(jobs, job{logical, seg})
			}
		}
	}
	workers := r.s.Concurrency
	if workers <= 0 {
		workers = DefaultConcurrency
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for i, j := range jobs {
		if i >= workers && (gctx.Err() != nil || r.pastDeadline()) {
			break
		}
		g.Go(func() error { return r.segment(gctx, j.logical, j.seg) })
	}
	err := g.Wait()
	r.w.close()
	return err
}

// reportOldest puts the oldest personal item the invocation saw of each category in the run's
// report. Only a finished scan has seen every item; a partial one reports what it saw.
func (r *run) reportOldest() {
	for cat, t := range r.oldest {
		rep := r.cp.Categories[cat]
		if rep == nil {
			rep = &CategoryReport{}
			r.cp.Categories[cat] = rep
		}
		rep.add(&CategoryReport{Oldest: &t})
	}
}

// conclude ends the invocation: it records the checkpoint, or the finished run (and the first run
// finished in a month reports the month before to the privacy officer), and logs what was done.
func (s *Sweep) conclude(ctx context.Context, r *run) (Result, error) {
	cp := r.cp
	res := Result{RunID: cp.RunID, Categories: cp.clone().Categories, Errors: r.errors, Invocations: cp.Invocations}
	if err := s.record(ctx, cp); err != nil {
		return res, err
	}
	if cp.Done() {
		month, err := s.monthlyReport(ctx)
		if err != nil {
			return res, err
		}
		res.Reported = month
	}
	if !cp.Done() {
		res.Partial, res.Checkpoint = true, cp.clone()
	} else {
		s.logReport(cp)
	}
	rcu, wcu := consumed(ctx)
	s.log().Info("retention sweep", "run", cp.RunID, "at", s.now(), "partial", res.Partial, "invocation", cp.Invocations,
		"deleted", total(cp, func(c *CategoryReport) int64 { return c.Deleted }),
		"objects", total(cp, func(c *CategoryReport) int64 { return c.Objects }),
		"repaired", total(cp, func(c *CategoryReport) int64 { return c.Repaired }),
		"unrepairable", total(cp, func(c *CategoryReport) int64 { return c.Unrepairable }),
		"errors", r.errors, "consumedRCU", rcu, "consumedWCU", wcu)
	obs.Emit(map[string]string{"Function": "RetentionSweep"},
		obs.Metric{Name: "ConsumedReadCapacity", Unit: obs.Count, Value: rcu},
		obs.Metric{Name: "ConsumedWriteCapacity", Unit: obs.Count, Value: wcu})
	return res, nil
}

// logReport logs the report of a finished run, one line per category: counts and the date of the
// oldest personal item left (what the privacy officer's monthly report states).
func (s *Sweep) logReport(cp *Checkpoint) {
	for _, name := range slices.Sorted(maps.Keys(cp.Categories)) {
		c := cp.Categories[name]
		attrs := []any{"run", cp.RunID, "category", name, "deleted", c.Deleted, "objects", c.Objects,
			"repaired", c.Repaired, "unrepairable", c.Unrepairable}
		if c.Oldest != nil {
			attrs = append(attrs, "oldest", c.Oldest.UTC().Format(time.DateOnly))
		}
		s.log().Info("retention sweep report", attrs...)
	}
}

// begin starts a new run: a new run id, a checkpoint at the start of every segment.
func (s *Sweep) begin(ctx context.Context, owner string) (*Checkpoint, error) {
	now := s.now()
	segs, err := s.Plan(ctx)
	if err != nil {
		return nil, err
	}
	cp := &Checkpoint{RunID: platform.NewID(now), StartedAt: now,
		Positions: map[string][]Position{}, Categories: map[string]*CategoryReport{}, owner: owner}
	for _, t := range sweptTables {
		cp.Positions[t] = make([]Position, segs[t])
	}
	if err := s.saveCheckpoint(ctx, cp); err != nil {
		return nil, err
	}
	return cp, nil
}

// record stores the checkpoint of an unfinished run. A finished run gets its act of destruction
// and its ledger request, and only then is its checkpoint removed: a failure on the way leaves the
// checkpoint, and the next invocation finishes the recording.
//
// The request is written once the run is finished, already completed, with the run's start in its
// history: an open request without a workflow execution would be taken by the SLA sweep for a
// stalled deletion. While a run is unfinished, its progress is in the checkpoint.
func (s *Sweep) record(ctx context.Context, cp *Checkpoint) error {
	if !cp.Done() {
		return s.release(ctx, cp.owner, cp)
	}
	stored, err := s.drawUpAct(ctx, cp, "")
	if err != nil {
		return err
	}
	now := s.now()
	progress := progressOf(cp.Categories)
	req := request.Request{ID: cp.RunID, AccountID: "-", Kind: KindRetentionExpiry, Source: Source,
		Status: request.StatusCompleted, Progress: progress, ClosedAt: &now,
		History: []request.Event{
			{At: cp.StartedAt, Status: request.StatusHardDeleting, Actor: Source,
				Note: "daily retention sweep: personal data past its retention rule (13 months; payments 5 years; consents 5 years after withdrawal; evidence 3 years)"},
			{At: now, Status: request.StatusCompleted, Actor: "system", Note: summary(cp)}}}
	if stored {
		req.Evidence = []string{cp.RunID}
	}
	_, err = s.Ledger.Create(ctx, req)
	if errors.Is(err, ledger.ErrExists) {
		err = nil // recorded by an invocation that failed after it
	}
	if err != nil {
		return fmt.Errorf("retention sweep: record the run: %w", err)
	}
	if err := s.tally(ctx, cp, now); err != nil {
		return err
	}
	return s.clearCheckpoint(ctx, cp.owner)
}

// Plan is the Scan segments a new run gives each swept table (by logical id): Segments when set,
// else one per SegmentItems items of the table's item count (which DynamoDB refreshes about every
// six hours), between DefaultSegments and MaxSegments.
func (s *Sweep) Plan(ctx context.Context) (map[string]int, error) {
	plan := map[string]int{}
	per := s.SegmentItems
	if per <= 0 {
		per = DefaultSegmentItems
	}
	// The tables are described at once: a run waits for the slower of the two, not their sum.
	var mu sync.Mutex
	var g errgroup.Group
	for _, t := range sweptTables {
		if s.Segments > 0 {
			plan[t] = s.Segments
			continue
		}
		g.Go(func() error {
			out, err := s.DB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.Tables[t])})
			if err != nil {
				return fmt.Errorf("retention sweep: size the scan of %s: %w", t, err)
			}
			var items int64
			if out.Table != nil {
				items = aws.ToInt64(out.Table.ItemCount)
			}
			mu.Lock()
			plan[t] = int(min(max((items+per-1)/per, DefaultSegments), MaxSegments))
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return plan, nil
}

// progressOf is a run's progress as its ledger request states it: the items deleted per category,
// and the S3 objects.
func progressOf(categories map[string]*CategoryReport) map[string]int64 {
	progress := map[string]int64{}
	var objects int64
	for cat, c := range categories {
		if c.Deleted > 0 {
			progress[cat] = c.Deleted
		}
		objects += c.Objects
	}
	if objects > 0 {
		progress["s3_objects"] = objects
	}
	return progress
}

func summary(cp *Checkpoint) string {
	var parts []string
	for _, cat := range slices.Sorted(maps.Keys(cp.Categories)) {
		c := cp.Categories[cat]
		if c.Deleted+c.Repaired+c.Unrepairable == 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s: %d deleted, %d files, %d repaired, %d undatable", cat, c.Deleted, c.Objects, c.Repaired, c.Unrepairable))
	}
	if len(parts) == 0 {
		return fmt.Sprintf("retention sweep done in %d invocations: nothing past retention", cp.Invocations)
	}
	return fmt.Sprintf("retention sweep done in %d invocations: %s", cp.Invocations, strings.Join(parts, "; "))
}

func total(cp *Checkpoint, f func(*CategoryReport) int64) int64 {
	var n int64
	for _, c := range cp.Categories {
		n += f(c)
	}
	return n
}

func (s *Sweep) deadline(ctx context.Context) time.Time {
	var dl time.Time
	if s.Budget > 0 {
		dl = time.Now().Add(s.Budget)
	}
	if cdl, ok := ctx.Deadline(); ok {
		c := cdl.Add(-reserve)
		if time.Until(cdl) <= 2*reserve {
			c = cdl.Add(-time.Until(cdl) / 4)
		}
		if dl.IsZero() || c.Before(dl) {
			dl = c
		}
	}
	return dl
}

// run is one invocation's shared state.
type run struct {
	s        *Sweep
	cp       *Checkpoint
	deadline time.Time

	mu     sync.Mutex
	oldest map[string]time.Time
	errors int64
	// saved is when the checkpoint was last stored; saving says a store is under way.
	saved  time.Time
	saving bool
	// w makes the pages' writes.
	w *writer
	// holds are the active legal holds the pages are judged by (holds.go).
	holds *holdView
}

func (r *run) pastDeadline() bool { return !r.deadline.IsZero() && time.Now().After(r.deadline) }

// segment scans one segment of one table from its position until its end or the deadline. Each page
// is judged and its writes handed to the run's writer, and the scan goes on to the next page while
// they are made; a page's position (and what its writes did) is recorded once all of them are done,
// in page order, so a stored position never passes a write that has not been made.
func (r *run) segment(ctx context.Context, logical string, seg int) error {
	s := r.s
	r.w.segmentStarted()
	defer r.w.segmentEnded()
	r.mu.Lock()
	pos := r.cp.Positions[logical][seg]
	r.mu.Unlock()
	in := &dynamodb.ScanInput{TableName: aws.String(s.Tables[logical]), Segment: aws.Int32(int32(seg)),
		TotalSegments: aws.Int32(int32(r.cp.segmentsOf(logical))), ExclusiveStartKey: pos.startKey()}
	// Eventually consistent reads (half the cost): an item read stale is at worst refreshed since,
	// and the conditional delete then spares it; one written since is seen by the next run.
	if s.PageSize > 0 {
		in.Limit = aws.Int32(s.PageSize)
	}
	var queue []*pageWrites
	// settle records the oldest page of the queue once its writes are done. After a failure the
	// segment's position stays where it is: the pages after it are counted, not passed.
	failed := false
	settle := func() error {
		p := queue[0]
		queue = queue[1:]
		r.w.waitFor(p)
		err := r.settle(ctx, logical, seg, p, !failed)
		failed = failed || err != nil
		return err
	}
	drain := func(err error) error {
		failed = failed || err != nil
		for len(queue) > 0 {
			err = errors.Join(err, settle())
		}
		return err
	}
	// The next page is read while this one is judged (prefetch, fast.go); a page read past the
	// deadline is dropped unjudged.
	next := prefetch(ctx, s.DB, in)
	for first := true; ; first = false {
		if !first && r.pastDeadline() {
			return drain(nil)
		}
		page, err := next.wait()
		if err != nil {
			return drain(fmt.Errorf("retention sweep: scan %s segment %d: %w", logical, seg, err))
		}
		if len(page.LastEvaluatedKey) > 0 {
			after := *in
			after.ExclusiveStartKey = page.LastEvaluatedKey
			next = prefetch(ctx, s.DB, &after)
		}
		p, err := r.page(ctx, page.Items)
		if err != nil {
			return drain(err)
		}
		p.lek = page.LastEvaluatedKey
		queue = append(queue, p)
		for len(queue) > 0 && (len(queue) > maxPagesInFlight || queue[0].finished()) {
			if err := settle(); err != nil {
				return drain(err)
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			return drain(nil)
		}
	}
}

// settle records a page whose writes are done: what they did in the run's counts and, when advance
// is set, the position after the page in the checkpoint, which is stored every CheckpointEvery by
// whichever segment comes by, one store at a time (the end of the invocation stores it in any case).
func (r *run) settle(ctx context.Context, logical string, seg int, p *pageWrites, advance bool) error {
	s := r.s
	counts, released := r.countWrites(p)
	r.mu.Lock()
	for _, h := range released {
		if !slices.Contains(r.cp.ReleasedHolds, h) {
			r.cp.ReleasedHolds = append(r.cp.ReleasedHolds, h)
		}
	}
	for cat, c := range counts {
		rep := r.cp.Categories[cat]
		if rep == nil {
			rep = &CategoryReport{}
			r.cp.Categories[cat] = rep
		}
		rep.add(c)
	}
	if p.err != nil || !advance {
		// The journal of the page's deletions failed, or a page before it did: its position is
		// not passed, so the next invocation looks at the page again (what went is not found twice).
		r.mu.Unlock()
		return p.err
	}
	r.cp.Positions[logical][seg] = positionAfter(p.lek)
	var state []byte
	var err error
	if !r.saving && time.Since(r.saved) >= s.checkpointEvery() {
		r.saving = true
		state, err = json.Marshal(r.cp)
	}
	r.mu.Unlock()
	if state != nil {
		err = s.putState(ctx, r.cp.owner, state, true)
		r.mu.Lock()
		r.saving, r.saved = false, time.Now()
		r.mu.Unlock()
	}
	return err
}

// countWrites counts what a page's writes did in the page's counts (logging each failure), and
// names the released legal holds whose data they destroyed.
func (r *run) countWrites(p *pageWrites) (map[string]*CategoryReport, []string) {
	s := r.s
	counts := p.counts
	get := func(cat string) *CategoryReport {
		c := counts[cat]
		if c == nil {
			c = &CategoryReport{}
			counts[cat] = c
		}
		return c
	}
	var released []string
	for _, c := range p.changes {
		cat := c.d.category.Name
		switch {
		case c.err != nil && c.d.action == repair:
			r.fail()
			s.log().Error("retention sweep: could not set a TTL", "category", cat, "err", c.err)
		case c.err != nil:
			r.fail()
			s.log().Error("retention sweep: could not delete an expired item", "category", cat, "err", c.err)
		case c.held:
			get(cat).Held++
		case !c.applied:
		case c.d.action == repair:
			get(cat).Repaired++
		default:
			get(cat).Deleted++
			get(cat).Objects += c.objects
			if c.filesErr != nil {
				// The item went; its files wait in a pending record that the next run deletes.
				r.fail()
				s.log().Error("retention sweep: could not delete a removed item's files; retried by the next run", "category", cat, "err", c.filesErr)
			}
			if h := platform.AttrString(c.item[AttrReleasedHold]); h != "" {
				released = append(released, h)
			}
		}
	}
	return counts, released
}

// page judges one page of items: the items past retention have their S3 objects deleted, then every
// deletion and TTL repair goes to the writer. The counts known now (undatable items, objects) are in
// the pageWrites; those of the writes are counted when it settles.
func (r *run) page(ctx context.Context, items []map[string]types.AttributeValue) (*pageWrites, error) {
	s := r.s
	now := s.now()
	p := &pageWrites{counts: map[string]*CategoryReport{}, done: make(chan struct{})}
	get := func(cat string) *CategoryReport {
		c := p.counts[cat]
		if c == nil {
			c = &CategoryReport{}
			p.counts[cat] = c
		}
		return c
	}
	type removal struct {
		item map[string]types.AttributeValue
		d    decision
	}
	var removals []removal
	var changes []*change
	// The oldest anchor of the page per category, noted in the run once the page is judged: a lock
	// taken per page, not per item.
	oldest := map[string]time.Time{}
	note := func(cat string, anchor time.Time) {
		if o, ok := oldest[cat]; !anchor.IsZero() && (!ok || anchor.Before(o)) {
			oldest[cat] = anchor
		}
	}
	// The page is judged by the holds of the current epoch; its writes are made only while it lasts.
	epoch, err := r.holds.refresh(ctx)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		d := decide(s.Policy, it, now)
		cat := d.category.Name
		if d.action == remove || d.action == repair {
			held, err := r.holds.covers(ctx, epoch, d.category, it)
			if err != nil {
				return nil, err
			}
			if held {
				// Kept, and given no TTL: the hold took it off (or will).
				get(cat).Held++
				continue
			}
		}
		switch d.action {
		case skip:
		case keep:
			note(cat, d.anchor)
		case unrepairable:
			get(cat).Unrepairable++
			s.log().Warn("retention sweep: a personal item cannot be dated (no retention anchor); left as it is",
				"category", cat, "anchor", d.category.Retention.Anchor)
		case repair:
			changes = append(changes, &change{item: it, d: d, epoch: epoch})
			note(cat, d.anchor)
		case remove:
			removals = append(removals, removal{item: it, d: d})
		}
	}
	for cat, anchor := range oldest {
		r.noteOldest(cat, anchor)
	}
	// Expired items go to the writer with their S3 objects, which it deletes once their items are
	// (fast.go): a hold placed before the write spares the files too.
	for _, rm := range removals {
		changes = append(changes, &change{item: rm.item, d: rm.d, epoch: epoch, keys: ObjectKeys(rm.item)})
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Then each expired item is deleted and each missing TTL set, by a write conditional on the TTL
	// the item was scanned with, so an item a writer refreshed in between (a conversation that got a
	// message) is neither destroyed nor given an old TTL (the writer, fast.go).
	p.changes = changes
	r.w.submit(p)
	return p, nil
}

func (r *run) noteOldest(cat string, anchor time.Time) {
	if anchor.IsZero() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if o, ok := r.oldest[cat]; !ok || anchor.Before(o) {
		r.oldest[cat] = anchor.UTC()
	}
}

func (r *run) fail() {
	r.mu.Lock()
	r.errors++
	r.mu.Unlock()
}

// repair sets expiresAt from the rule, only if the item still exists and its expiresAt is what was
// scanned (a writer in between set its own). ok is false when the item changed.
func (s *Sweep) repair(ctx context.Context, item map[string]types.AttributeValue, d decision) (bool, error) {
	cond := "attribute_exists(#pk) AND attribute_not_exists(#exp)"
	vals := map[string]types.AttributeValue{
		":e": &types.AttributeValueMemberN{Value: fmt.Sprint(d.expires.Unix())},
	}
	if d.stored != "" {
		cond = "attribute_exists(#pk) AND #exp = :old"
		vals[":old"] = &types.AttributeValueMemberN{Value: d.stored}
	}
	_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.Tables[d.category.Location.Table]),
		Key:                       map[string]types.AttributeValue{platform.AttrPK: item[platform.AttrPK], platform.AttrSK: item[platform.AttrSK]},
		UpdateExpression:          aws.String("SET #exp = :e"),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  map[string]string{"#pk": platform.AttrPK, "#exp": platform.AttrExpiresAt},
		ExpressionAttributeValues: vals,
	})
	var cf *types.ConditionalCheckFailedException
	if errors.As(err, &cf) {
		return false, nil
	}
	return err == nil, err
}

// deleteItem deletes an expired item if it is still stored with the TTL it was scanned with.
// deleted is false when it changed or went in between.
func (s *Sweep) deleteItem(ctx context.Context, item map[string]types.AttributeValue, d decision) (bool, error) {
	cond, vals := condition(d)
	_, err := s.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.Tables[d.category.Location.Table]),
		Key:                       itemKey(item),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  conditionNames(),
		ExpressionAttributeValues: vals,
	})
	var cf *types.ConditionalCheckFailedException
	if errors.As(err, &cf) {
		return false, nil
	}
	return err == nil, err
}

// deleteObjects deletes an expired item's S3 objects from its category's bucket; n counts those
// deleted (an absent object counts: S3 reports it deleted).
func (s *Sweep) deleteObjects(ctx context.Context, c datamap.Category, keys []string) (int64, error) {
	bucket := s.Buckets[c.Location.Bucket]
	if s.S3 == nil || bucket == "" {
		return 0, fmt.Errorf("no bucket for %s", c.Name)
	}
	ids := make([]s3types.ObjectIdentifier, len(keys))
	for i, k := range keys {
		ids[i] = s3types.ObjectIdentifier{Key: aws.String(k)}
	}
	out, err := s.S3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bucket),
		Delete: &s3types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
	if err != nil {
		return 0, err
	}
	if len(out.Errors) > 0 {
		return int64(len(keys) - len(out.Errors)), fmt.Errorf("%d of %d objects not deleted", len(out.Errors), len(keys))
	}
	return int64(len(keys)), nil
}

func (s *Sweep) checkpointEvery() time.Duration {
	if s.CheckpointEvery > 0 {
		return s.CheckpointEvery
	}
	return DefaultCheckpointEvery
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

// consumed is the read and write capacity DynamoDB reported for the calls made with ctx so far (zero
// when ctx carries no capmeter.Counter or the client does not ask).
func consumed(ctx context.Context) (rcu, wcu float64) {
	if c := capmeter.CounterFrom(ctx); c != nil {
		u, _ := c.Units()
		return u.Read, u.Write
	}
	return 0, 0
}
