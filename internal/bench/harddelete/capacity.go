package harddelete

import (
	"context"
	"fmt"
	"math"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/bench"
	"github.com/lethe-dev/lethe/internal/bench/cost"
	"github.com/lethe-dev/lethe/internal/capmeter"
	"github.com/lethe-dev/lethe/internal/erasure"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/seed"
)

// WorkerCapacity is the capacity the engine consumed in a metered erase-worker run, by DynamoDB's
// documented rules (internal/capmeter), and the documented minimum for the items it destroyed.
type WorkerCapacity struct {
	// Totals are the meter's: Metered.Read (RCU) and Metered.Write (WCU) of every call the engine
	// made, Deleted and DeleteMinimum over every delete, where the sizes came from.
	Totals capmeter.Totals `json:"totals"`
	// Destroyed are the platform-table items present before the run and gone after it, and
	// DestroyedBytes their sizes summed.
	Destroyed      int64 `json:"destroyed"`
	DestroyedBytes int64 `json:"destroyed_bytes"`
	// MinDeleteWCU is Σ ceil(size/1 KB) over the destroyed items; MinFindRCU is an eventually
	// consistent Query's 0.5 RCU per started 4 KB over their sizes.
	MinDeleteWCU float64 `json:"min_delete_wcu"`
	MinFindRCU   float64 `json:"min_find_rcu"`
}

// capacityTarget is issue 19 §3's bar on what the engine's hard delete costs in capacity.
var capacityTarget = bench.Target{Figure: cost.FigHardDeleteVsMin,
	Label: "hard delete RCU+WCU per item ÷ documented minimum (largest size)", Op: "<=", Bound: 1.15,
	Note: "metered on the engine; minimum: Σ ceil(size/1 KB) WCU to delete + 0.5 RCU per started 4 KB to find by Query"}

// sizeScan lists every item of a table with a plain (unmetered) Scan: its size by key.
func sizeScan(ctx context.Context, db *dynamodb.Client, table string, each func(key string, item map[string]types.AttributeValue)) error {
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: &table})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, it := range out.Items {
			pk, _ := it[platform.AttrPK].(*types.AttributeValueMemberS)
			sk, _ := it[platform.AttrSK].(*types.AttributeValueMemberS)
			if pk == nil || sk == nil {
				return fmt.Errorf("item of %s without a string pk and sk", table)
			}
			each(pk.Value+"\x00"+sk.Value, it)
		}
	}
	return nil
}

// meteredDB prepares a metered run in the worker: it returns the engine's client with the meter on
// it, after teaching the meter the size of every item of the platform table (an untimed, unmetered
// Scan), and a function that, after the deletion, works out what was destroyed and its minimum.
func meteredDB(ctx context.Context, base *dynamodb.Client, table string, others ...string) (*dynamodb.Client, func() (*WorkerCapacity, error), error) {
	m := capmeter.New()
	for _, t := range others { // the ledger: its items are updated, not destroyed
		if err := sizeScan(ctx, base, t, func(_ string, it map[string]types.AttributeValue) { m.Register(t, it) }); err != nil {
			return nil, nil, fmt.Errorf("size scan of %s: %w", t, err)
		}
	}
	sizes := map[string]int{}
	err := sizeScan(ctx, base, table, func(k string, it map[string]types.AttributeValue) {
		m.Register(table, it)
		sizes[k] = capmeter.ItemSize(it)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("size scan: %w", err)
	}
	done := func() (*WorkerCapacity, error) {
		c := &WorkerCapacity{Totals: m.Totals()}
		if err := sizeScan(ctx, base, table, func(k string, _ map[string]types.AttributeValue) { delete(sizes, k) }); err != nil {
			return nil, fmt.Errorf("size scan after: %w", err)
		}
		for _, s := range sizes {
			c.Destroyed++
			c.DestroyedBytes += int64(s)
			c.MinDeleteWCU += capmeter.WriteUnits(s)
		}
		c.MinFindRCU = 0.5 * math.Ceil(float64(c.DestroyedBytes)/4096)
		return c, nil
	}
	return dynamodb.New(base.Options(), m.Option), done, nil
}

// PerItem is the engine's RCU+WCU per item destroyed, the minimum's, and their ratio.
func (c *WorkerCapacity) PerItem() (engine, minimum, ratio float64) {
	if c == nil || c.Destroyed == 0 {
		return 0, 0, 0
	}
	n := float64(c.Destroyed)
	engine = (c.Totals.Metered.Read + c.Totals.Metered.Write) / n
	minimum = (c.MinDeleteWCU + c.MinFindRCU) / n
	if minimum > 0 {
		ratio = engine / minimum
	}
	return engine, minimum, ratio
}

// meterCapacity runs the engine once more on a fresh copy of the account, metered: the timed runs
// stay unmetered, so the meter's CPU and the size map's memory touch neither time nor peak RSS.
func (b *run) meterCapacity(ctx context.Context, r *round, res *bench.Resources, ref platform.ScopeRef,
	reseed func() (seed.Manifest, error), engine *erasure.Engine) error {
	if _, err := reseed(); err != nil {
		return err
	}
	_, rep, _, err := b.lethe(ctx, r.label+"-metered", res, ref, "-meter")
	if err != nil {
		return fmt.Errorf("metered run: %w", err)
	}
	if left, err := engine.Verify(ctx, ref); err != nil || !left.Empty() {
		return fmt.Errorf("metered run left %v (%v)", left, err)
	}
	c := rep.Capacity
	if c == nil || c.Destroyed != r.items {
		return fmt.Errorf("metered run: capacity %+v for %d items", c, r.items)
	}
	if n := c.Totals.ProjectedUnknown; n > 0 {
		// Charged only what the projection returned: the capacity would be under-counted.
		return fmt.Errorf("metered run: %d items read with a projection were of unknown size", n)
	}
	r.capacity = c
	e, m, ratio := c.PerItem()
	b.env.Logf("  %s: metered engine: %.1f RCU + %.1f WCU for %d items destroyed (%.3f per item); minimum %.1f WCU + %.1f RCU (%.3f per item); ratio %.3f; sizes registered %d, learned %d, unknown %d; writes by call %v",
		r.label, c.Totals.Metered.Read, c.Totals.Metered.Write, c.Destroyed, e, c.MinDeleteWCU, c.MinFindRCU, m, ratio,
		c.Totals.SizesRegistered, c.Totals.SizesLearned, c.Totals.SizesUnknown, c.Totals.WriteByOp)
	return nil
}

// recordCapacity sets a size's capacity figures.
func (b *run) recordCapacity(r *round) {
	c := r.capacity
	if c == nil {
		return
	}
	set := func(name string, v any) { b.env.Results.Set("hard_delete_capacity_"+name+"_"+r.label, v) }
	e, m, ratio := c.PerItem()
	n := float64(c.Destroyed)
	set("rcu_per_item", c.Totals.Metered.Read/n)
	set("wcu_per_item", c.Totals.Metered.Write/n)
	set("per_item", e)
	set("min_per_item", m)
	set("vs_min_ratio", ratio)
	set("min_wcu_per_item", c.MinDeleteWCU/n)
	set("min_rcu_per_item", c.MinFindRCU/n)
	set("mean_item_bytes", float64(c.DestroyedBytes)/n)
	set("meter_deleted", c.Totals.Deleted)
	set("meter_delete_minimum", c.Totals.DeleteMinimum)
	set("sizes_unknown", c.Totals.SizesUnknown)
}

// withCapacity adds the capacity bar's figure (the bar is among targets), its headline figures (the largest metered size's, which the
// cost section prices) and a table by size.
func (b *run) withCapacity(s bench.Section) bench.Section {
	var last *round
	var rows [][]string
	for _, r := range b.rounds {
		c := r.capacity
		if c == nil || c.Destroyed == 0 {
			continue
		}
		last = r
		e, m, ratio := c.PerItem()
		n := float64(c.Destroyed)
		rows = append(rows, []string{display(r.label), fmt.Sprint(c.Destroyed), f0(float64(c.DestroyedBytes) / n),
			fmt.Sprintf("%.4f", c.Totals.Metered.Read/n), fmt.Sprintf("%.4f", c.Totals.Metered.Write/n), fmt.Sprintf("%.4f", e),
			fmt.Sprintf("%.4f", m), fmt.Sprintf("%.3f", ratio), fmt.Sprint(c.Totals.SizesUnknown)})
	}
	if last == nil {
		return s
	}
	c := last.capacity
	_, _, ratio := c.PerItem()
	rs := b.env.Results
	rs.Set(capacityTarget.Figure, ratio)
	rs.Set(cost.FigHardDeleteWCUPerItem, c.Totals.Metered.Write/float64(c.Destroyed))
	rs.Set(cost.FigHardDeleteRCUPerItem, c.Totals.Metered.Read/float64(c.Destroyed))
	s.Tables = append(s.Tables, bench.Table{
		Caption: "Capacity of the engine's hard delete, metered by DynamoDB's documented rules (internal/capmeter) in an extra, untimed run " +
			"of the erase worker; every item's size registered from a Scan before it",
		Header: []string{"items", "destroyed", "mean item bytes", "engine RCU/item", "engine WCU/item", "engine RCU+WCU/item",
			"minimum/item", "engine ÷ minimum", "sizes unknown"},
		Rows: rows,
	})
	return s
}
