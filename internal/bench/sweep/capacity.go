package sweep

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lethe-dev/lethe/internal/bench"
	"github.com/lethe-dev/lethe/internal/bench/cost"
	"github.com/lethe-dev/lethe/internal/capmeter"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/retention"
)

// capFigures is the capacity of one metered plain Scan and one metered sweep over a round's data, by
// DynamoDB's documented rules (internal/capmeter), not by DynamoDB Local's timing.
type capFigures struct {
	scanned  int64
	plain    capmeter.Totals // the plain Scan of both tables
	sweep    capmeter.Totals // the sweep, its ledger writes included
	repairs  float64         // the sweep's UpdateItem writes (TTL repairs), not part of deleting
	deleteWU float64         // the sweep's writes that delete or journal: all but repairs
	// perRun is what a run writes whatever it finds (its lease, checkpoints and record): the
	// writes of a second metered run over the same data, which finds nothing to delete or repair.
	perRun float64
}

// capacityTargets are issue 19 §3's bars on what AWS charges.
var capacityTargets = []bench.Target{
	{Figure: "sweep_capacity_write_vs_min_ratio", Label: "retention sweep writes per item destroyed ÷ documented minimum", Op: "<=", Bound: 1.05,
		Note: "metered WCU of the sweep's deletes, journal, pending-file records and act, less what a run writes whatever it finds (shown apart), over Σ ceil(size/1 KB) of the items deleted"},
	{Figure: "sweep_capacity_read_vs_scan_ratio", Label: "retention sweep reads per item scanned ÷ a plain Scan's", Op: "<=", Bound: 1.1,
		Note: "both metered: 0.5 RCU per started 4 KB of each page's items"},
}

// capacity meters a plain Scan and then a sweep of the round's data through a client carrying a
// capmeter.Meter (the Scan teaches it every item's size, so the sweep's deletes are charged the size
// of what they delete: "learned" sizes), then restores the data for what follows.
func (b *run) capacity(ctx context.Context, r *round, sw *retention.Sweep, db *dynamodb.Client, tables []string, workers int, restore func() error) error {
	m := capmeter.New()
	mdb := dynamodb.New(db.Options(), m.Option)
	n, err := rawScan(ctx, mdb, tables, r.segments, workers, b.o.PageSize)
	if err != nil {
		return fmt.Errorf("metered scan: %w", err)
	}
	plain := m.Totals()
	var t capmeter.Totals
	msw := *sw
	msw.DB = mdb
	msw.Ledger = ledger.New(mdb, tables[1], policy, func() time.Time { return b.now })
	// One whole metered run: its result and what the meter counted.
	run := func(what string) (retention.Result, capmeter.Totals, error) {
		m.Reset()
		res, err := msw.Run(ctx, retention.Input{})
		if err == nil && res.Partial {
			err = fmt.Errorf("it stopped part way")
		}
		if err != nil {
			return res, capmeter.Totals{}, fmt.Errorf("metered %s: %w", what, err)
		}
		return res, m.Totals(), nil
	}
	if _, t, err = run("sweep"); err != nil {
		return err
	}
	// A second run over what the first left: nothing to delete or repair, so its writes are what
	// every run writes whatever it finds.
	again, empty, err := run("second sweep")
	if err != nil {
		return err
	}
	for cat, c := range again.Categories {
		if c.Deleted != 0 || c.Repaired != 0 {
			return fmt.Errorf("the metered second sweep deleted %d and repaired %d %s items: the first left work undone", c.Deleted, c.Repaired, cat)
		}
	}
	if err := restore(); err != nil {
		return err
	}
	// The repairs are the first run's UpdateItem writes but those every run makes (its lease and
	// tally, counted in perRun).
	repairs := t.WriteByOp["UpdateItem"] - empty.WriteByOp["UpdateItem"]
	r.capacity = &capFigures{scanned: n, plain: plain, sweep: t, repairs: repairs, deleteWU: t.Metered.Write - repairs, perRun: empty.Metered.Write}
	b.env.Logf("  sweep %s: metered: plain Scan %.1f RCU for %d items; sweep %.1f RCU, %.1f WCU (%.1f repairs) for %d deleted (minimum %.1f WCU; sizes learned %d, unknown %d); writes by call %v; a run finding nothing %.1f WCU (%v)",
		r.label, plain.Metered.Read, n, t.Metered.Read, t.Metered.Write, repairs, t.Deleted, t.DeleteMinimum, t.SizesLearned, t.SizesUnknown, t.WriteByOp, empty.Metered.Write, empty.WriteByOp)
	return nil
}

// withCapacity adds the capacity table and bars of the largest metered round to the section, and
// records the figures the cost section prices.
func (b *run) withCapacity(s bench.Section) bench.Section {
	var last *round
	var rows [][]string
	for _, r := range b.rounds {
		c := r.capacity
		if c == nil || c.scanned == 0 {
			continue
		}
		last = r
		rows = append(rows, []string{display(r.label), fmt.Sprint(c.scanned),
			fmt.Sprintf("%.4f", c.plain.Metered.Read/float64(c.scanned)), fmt.Sprintf("%.4f", c.sweep.Metered.Read/float64(c.scanned)),
			fmt.Sprint(c.sweep.Deleted), fmt.Sprintf("%.3f", c.deleteWU/float64(max(c.sweep.Deleted, 1))),
			fmt.Sprintf("%.3f", (c.deleteWU-c.perRun)/float64(max(c.sweep.Deleted, 1))),
			fmt.Sprintf("%.3f", c.sweep.DeleteMinimum/float64(max(c.sweep.Deleted, 1))), fmt.Sprintf("%.1f", c.perRun), fmt.Sprintf("%.1f", c.repairs),
			fmt.Sprintf("%.1f / %.1f", c.sweep.Reported.Read, c.sweep.Reported.Write)})
	}
	if last == nil {
		return s
	}
	c := last.capacity
	rs := b.env.Results
	if c.sweep.Deleted > 0 && c.sweep.DeleteMinimum > 0 {
		rs.Set("sweep_capacity_write_vs_min_ratio", (c.deleteWU-c.perRun)/c.sweep.DeleteMinimum)
		rs.Set("sweep_capacity_write_all_vs_min_ratio", c.deleteWU/c.sweep.DeleteMinimum)
		rs.Set(cost.FigSweepWCUPerRun, c.perRun)
		rs.Set(cost.FigSweepWCUPerDeleted, (c.deleteWU-c.perRun)/float64(c.sweep.Deleted))
		rs.Set(cost.FigSweepMinWCUPerDelete, c.sweep.DeleteMinimum/float64(c.sweep.Deleted))
	}
	if c.plain.Metered.Read > 0 {
		rs.Set("sweep_capacity_read_vs_scan_ratio", c.sweep.Metered.Read/c.plain.Metered.Read)
	}
	rs.Set(cost.FigSweepRCUPerScanned, c.sweep.Metered.Read/float64(c.scanned))
	if c.plain.PageItems > 0 {
		rs.Set(cost.FigSweepMeanItemBytes, float64(c.plain.PageBytes)/float64(c.plain.PageItems))
	}
	s.Targets = append(s.Targets, capacityTargets...)
	s.Tables = append(s.Tables, bench.Table{
		Caption: "Capacity, metered by DynamoDB's documented rules (internal/capmeter); delete sizes learned from the metered Scan before the sweep",
		Header: []string{"items", "scanned", "plain Scan RCU/item", "sweep RCU/item", "deleted", "sweep WCU/deleted, all of the run's but repairs",
			"sweep WCU/deleted, less the per-run writes", "minimum WCU/deleted", "per-run WCU (a run finding nothing)", "repair WCU", "DynamoDB Local reported RCU / WCU"},
		Rows: rows,
	})
	return s
}
