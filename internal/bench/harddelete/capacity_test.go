package harddelete

import (
	"strings"
	"testing"

	"github.com/lethe-dev/lethe/internal/bench"
	"github.com/lethe-dev/lethe/internal/bench/cost"
)

// checkCapacity holds TestSmallRun's metered figures: every size has the engine's capacity per item,
// positive, at or above the documented minimum (a floor), with no delete charged at an unknown size;
// the bar's figure and the per-item figures the cost section prices are set, and it prices them.
func checkCapacity(t *testing.T, rs *bench.Results, labels []string) {
	t.Helper()
	num := func(name string) float64 {
		v, _ := rs.Number(name)
		return v
	}
	for _, l := range labels {
		for _, f := range []string{"rcu_per_item", "wcu_per_item", "per_item", "min_per_item", "vs_min_ratio"} {
			if v, ok := rs.Number("hard_delete_capacity_" + f + "_" + l); !ok || v <= 0 {
				t.Errorf("figure hard_delete_capacity_%s_%s = %v, %v; want a positive number", f, l, v, ok)
			}
		}
		if v, ok := rs.Number("hard_delete_capacity_vs_min_ratio_" + l); !ok || v < 1 {
			t.Errorf("%s: engine capacity ÷ minimum = %v; the minimum is a floor", l, v)
		}
		if v, ok := rs.Number("hard_delete_capacity_sizes_unknown_" + l); !ok || v != 0 {
			t.Errorf("%s: %v deletes or updates charged at an unknown size, want 0", l, v)
		}
		t.Logf("%s: engine %.4f RCU/item + %.4f WCU/item; minimum %.4f per item; ratio %.4f", l,
			num("hard_delete_capacity_rcu_per_item_"+l), num("hard_delete_capacity_wcu_per_item_"+l),
			num("hard_delete_capacity_min_per_item_"+l), num("hard_delete_capacity_vs_min_ratio_"+l))
	}
	for _, name := range []string{cost.FigHardDeleteVsMin, cost.FigHardDeleteWCUPerItem, cost.FigHardDeleteRCUPerItem} {
		if v, ok := rs.Number(name); !ok || v <= 0 {
			t.Errorf("figure %s = %v, %v; want a positive number", name, v, ok)
		}
	}
	if !strings.Contains(cost.Section(rs).Reading, "measured by the capacity meter on the erase engine") {
		t.Error("the cost section does not price the engine's measured capacity")
	}
}
