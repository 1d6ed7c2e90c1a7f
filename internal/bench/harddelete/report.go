package harddelete

import (
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/lethe-dev/lethe/internal/bench"
)

// The targets of SPEC §7 this benchmark measures.
var targets = []bench.Target{
	{Figure: "hard_delete_vs_list_and_batch_ratio", Label: "hard delete vs listing the keys (Query) and then deleting them with the raw parallel BatchWriteItem loop, timed together (largest size)", Op: ">=", Bound: 1},
	{Figure: "hard_delete_vs_sequential_ratio", Label: "hard delete ÷ sequential DeleteItem, against the emulator's ceiling: the raw loop ÷ sequential (largest size)", Op: ">=", Bound: 0.9, Of: "hard_delete_raw_vs_sequential_ratio"},
	{Figure: "hard_delete_growth_ratio", Label: "time per item, largest ÷ smallest size (linear cost)", Op: "<=", Bound: 1.2},
	{Figure: "hard_delete_peak_rss_growth_ratio", Label: "engine peak RSS, largest ÷ smallest size (memory independent of items)", Op: "<=", Bound: 1.25},
	capacityTarget,
}

// record sets the figures of one size, named with its label (hard_delete_items_100k …).
func (b *run) record(r *round) {
	set := func(name string, v any) { b.env.Results.Set("hard_delete_"+name+"_"+r.label, v) }
	set("items", r.items)
	set("objects", r.objects)
	set("seed_messages", r.messages)
	set("seed_seconds", r.seeded.Seconds())

	set("walk_seconds", r.walk.wall.Seconds())
	set("walk_server_cpu_us_per_item", r.walk.perItem(r.walk.server))
	set("list_seconds", r.listTime().Seconds())
	set("list_server_cpu_us_per_item", r.list.perItem(r.list.server))
	set("list_and_raw_seconds", (r.listTime() + r.rawTime()).Seconds())
	set("list_and_raw_items_per_s", r.listAndRaw().rate())
	set("raw_seconds", r.rawTime().Seconds())
	set("raw_items_per_s", r.raw.rate())
	set("raw_batch_calls", r.rawStats.Calls)
	set("raw_server_cpu_us_per_item", r.raw.perItem(r.raw.server))
	set("raw_client_cpu_us_per_item", r.raw.perItem(r.raw.client))

	set("lethe_seconds", r.letheTime().Seconds())
	set("lethe_items_per_s", r.lethe.rate())
	set("lethe_us_per_item", r.lethe.perItem(r.lethe.wall))
	set("lethe_slices", r.worker.Slices)
	set("lethe_server_cpu_us_per_item", r.lethe.perItem(r.lethe.server))
	set("lethe_client_cpu_us_per_item", r.lethe.perItem(r.lethe.client))
	set("lethe_s3_cpu_us_per_item", r.lethe.perItem(r.s3CPU))
	q, w := r.worker.Calls["dynamodb.Query"], r.worker.Calls["dynamodb.BatchWriteItem"]
	set("lethe_query_calls", q.Calls)
	set("lethe_query_items", q.Items)
	set("lethe_batch_calls", w.Calls)
	set("lethe_mean_batch", float64(w.Items)/float64(max(w.Calls, 1)))
	set("lethe_full_batch_share", float64(r.worker.BatchSizes["25"])/float64(max(w.Calls, 1)))
	set("lethe_getitem_calls", r.worker.Calls["dynamodb.GetItem"].Calls)
	set("lethe_s3_calls", r.worker.Calls["s3.ListObjectsV2"].Calls+r.worker.Calls["s3.DeleteObjects"].Calls)
	set("peak_rss_mb", float64(r.worker.PeakRSS)/(1<<20))

	set("sequential_items", r.sequential.items)
	set("sequential_seconds", r.sequential.wall.Seconds())
	set("sequential_items_per_s", r.sequential.rate())
	set("sequential_server_cpu_us_per_item", r.sequential.perItem(r.sequential.server))

	set("vs_list_and_batch_ratio", r.lethe.rate()/r.listAndRaw().rate())
	set("vs_batch_ratio", r.lethe.rate()/r.raw.rate())
	set("repeats", r.reps)
	set("remeasured", r.remeasured)
	if r.reps > 1 {
		set("vs_list_and_batch_ratio_min", r.ratioMin)
		set("vs_list_and_batch_ratio_max", r.ratioMax)
	}
	set("vs_sequential_ratio", r.lethe.rate()/r.sequential.rate())
	set("raw_vs_sequential_ratio", r.raw.rate()/r.sequential.rate())
	set("parent_rss_mb", r.parentRSS.CurrentMB())
	// What other processes took from the machine while raw and Lethe ran: above a few percent, the
	// ratio is disturbed.
	other, window := r.list.other+r.raw.other+r.lethe.other, r.list.window+r.raw.window+r.lethe.window
	set("other_cpu_share", other.Seconds()/(window.Seconds()*float64(runtime.NumCPU())))
	set("raw_other_cpu_share", r.listAndRaw().otherShare())
	set("lethe_other_cpu_share", r.lethe.otherShare())
}

// headline sets the figures the targets read: the largest size against the smallest.
func (b *run) headline() {
	res := b.env.Results
	for _, p := range b.scaling {
		res.Set(fmt.Sprintf("hard_delete_raw_items_per_s_workers_%d", p.workers), p.raw.rate())
	}
	small, large := b.rounds[0], b.rounds[len(b.rounds)-1]
	res.Set("hard_delete_items", large.items)
	res.Set("hard_delete_vs_list_and_batch_ratio", large.lethe.rate()/large.listAndRaw().rate())
	res.Set("hard_delete_vs_batch_ratio", large.lethe.rate()/large.raw.rate())
	res.Set("hard_delete_vs_sequential_ratio", large.lethe.rate()/large.sequential.rate())
	res.Set("hard_delete_raw_vs_sequential_ratio", large.raw.rate()/large.sequential.rate())
	if len(b.rounds) > 1 {
		res.Set("hard_delete_growth_ratio", large.lethe.perItem(large.lethe.wall)/small.lethe.perItem(small.lethe.wall))
		res.Set("hard_delete_peak_rss_growth_ratio", float64(large.worker.PeakRSS)/float64(small.worker.PeakRSS))
	}
	res.Set("hard_delete_peak_rss_mb", float64(large.worker.PeakRSS)/(1<<20))
	res.Set("hard_delete_workers", b.o.Workers)
	res.Set("hard_delete_budget_items", b.o.Budget)
}

// quickNote says what a quick run leaves out.
func (b *run) quickNote() string {
	if !b.env.Quick {
		return ""
	}
	sizes := make([]string, len(b.rounds))
	for i, r := range b.rounds {
		sizes[i] = display(r.label)
	}
	return fmt.Sprintf("\n\nA quick run (`BENCH_QUICK=1`) measures %s (the full run: 10k, 100k and 1M), samples %d keys for the "+
		"sequential loop, warms up with %d items, alternates raw and Lethe twice at 10k and once above, meters capacity at "+
		"its largest size only and leaves out the raw loop by worker count, so that the whole quick set stays under 3 minutes.", strings.Join(sizes, " and "), b.o.Sample, b.warmup)
}

// scalingNote says how the raw loop scaled with workers, when that was measured.
func (b *run) scalingNote() string {
	if len(b.scaling) == 0 {
		return ""
	}
	var parts []string
	for _, p := range b.scaling {
		parts = append(parts, fmt.Sprintf("%d: %.0f", p.workers, p.raw.rate()))
	}
	return fmt.Sprintf(", and parallel batches help little: by worker count the raw loop deleted %s items/s, its JVM "+
		"never busier than %.2f CPUs", strings.Join(parts, ", "), maxBusy(b.scaling))
}

func maxBusy(ps []scalePoint) float64 {
	var m float64
	for _, p := range ps {
		m = max(m, p.raw.server.Seconds()/p.raw.wall.Seconds())
	}
	return m
}

// display is a size's label for people: 10k, 100k, 1M.
func display(label string) string {
	if n, ok := strings.CutSuffix(label, "m"); ok {
		return n + "M"
	}
	return label
}

// rawTime, listTime and letheTime are one run's time (the mean over the repetitions).
func (r *round) rawTime() time.Duration   { return r.raw.wall / time.Duration(max(r.reps, 1)) }
func (r *round) listTime() time.Duration  { return r.list.wall / time.Duration(max(r.reps, 1)) }
func (r *round) letheTime() time.Duration { return r.lethe.wall / time.Duration(max(r.reps, 1)) }

// listAndRaw is the raw loop with its listing: the keys found with Query, then deleted.
func (r *round) listAndRaw() phase {
	p := r.list.add(r.raw)
	p.items = r.raw.items
	return p
}

// spread is the range of Lethe ÷ (list + raw) over a size's repetitions.
func spread(r *round) string {
	if r.reps < 2 {
		return ""
	}
	return fmt.Sprintf(" (%.2f–%.2f, %d runs)", r.ratioMin, r.ratioMax, r.reps)
}

func f0(v float64) string { return fmt.Sprintf("%.0f", v) }
func f1(v float64) string { return fmt.Sprintf("%.1f", v) }
func f2(v float64) string { return fmt.Sprintf("%.2f", v) }
func secs(d time.Duration) string {
	if d < 10*time.Second {
		return fmt.Sprintf("%.2f", d.Seconds())
	}
	return fmt.Sprintf("%.1f", d.Seconds())
}

// section is the benchmark's part of BENCHMARKS.md.
func (b *run) section() bench.Section {
	s := bench.Section{Title: "Hard delete of one account", Targets: targets}
	s.Intro = fmt.Sprintf(`One account of each size is seeded with `+"`seed.Write`"+` (seed %d; `+"`seed.SizeForMessages`"+`
tuned so the account scope holds about the target number of DynamoDB items — the real count is shown)
into fresh tables of the template, on an in-memory DynamoDB Local started by the run. The account's
keys are listed once with `+"`Store.Walk`"+`, untimed, to count them, and the same data is deleted three ways:

1. **sequential** — one DeleteItem call after another over the first %d keys (all of them when fewer);
   those items are then written back from the same generator;
2. **list, then raw** — the account's keys found with Query as the engine must find them (`+"`Store.Walk`"+`,
   timed), and then all of them deleted by `+"`bulkwrite.Writer.WriteAll`"+` with %d workers: parallel
   BatchWriteItem of 25 and nothing else (the requests are built outside the timing). The two are timed
   together, as the like-for-like baseline of the engine; the delete alone is the *raw* loop. The listing is
   the plain one: whole items, one Query after another, where the engine reads only the attributes it needs
   and lists end users in parallel — part of what the engine gains over it is that;
3. **Lethe** — after an identical re-seed, the erasure engine (`+"`erasure.Engine.Delete`"+`, %d workers,
   slices of %d items) deletes the account scope to completion, finding what to delete itself with
   Query, in a child process (`+"`lethe bench erase-worker`"+`) whose peak RSS (VmHWM) is the engine's alone.
   A verification pass, not timed, then finds nothing left, and the engine's count equals the walk's.

The ceiling this emulator allows a batching client over one DeleteItem at a time is *raw ÷ sequential*
(both handed their keys); the engine's *Lethe ÷ sequential* is held to 0.9 of it, in the same run.

Raw and Lethe alternate, re-seeding before each, three times at up to 20k items, twice up to 200k, once above
(a quick run: twice at 10k, once above); their rates are total items over total time, and the ratio's spread over the runs is shown.
A raw or Lethe phase during which other processes took more than 5%% of the machine's CPU is measured
again, once (the machine may be shared).
A throwaway %d-item round warms the JVM first.%s Rates are DynamoDB items per second of wall time.
CPU figures are per item deleted: *DynamoDB Local* is the JVM's CPU time (all threads) during the
timed phase, *client* the deleting process's, *S3* this process's while the engine ran (it serves the
in-process S3), *list* the Query listing of the keys timed with the raw loop.`, b.o.Seed, b.o.Sample, b.o.Workers, b.o.Workers, b.o.Budget, b.warmup, b.quickNote())

	main := bench.Table{Header: []string{"size", "items", "S3 objects", "list s", "raw s", "list + raw items/s", "Lethe s", "Lethe items/s",
		"slices", "Lethe ÷ (list + raw)", "Lethe ÷ raw", "sequential items/s", "raw ÷ sequential (ceiling)", "Lethe ÷ sequential", "Lethe µs/item", "engine peak RSS MiB"}}
	for _, r := range b.rounds {
		main.Rows = append(main.Rows, []string{display(r.label), fmt.Sprint(r.items), fmt.Sprint(r.objects),
			secs(r.listTime()), secs(r.rawTime()), f0(r.listAndRaw().rate()), secs(r.letheTime()), f0(r.lethe.rate()), fmt.Sprint(r.worker.Slices),
			"**" + f2(r.lethe.rate()/r.listAndRaw().rate()) + "**" + spread(r), f2(r.lethe.rate() / r.raw.rate()),
			f0(r.sequential.rate()) + " (" + fmt.Sprint(r.sequential.items) + ")",
			f1(r.raw.rate() / r.sequential.rate()), "**" + f1(r.lethe.rate()/r.sequential.rate()) + "**", f1(r.lethe.perItem(r.lethe.wall)),
			f1(float64(r.worker.PeakRSS) / (1 << 20))})
	}
	s.Tables = append(s.Tables, main)

	if len(b.scaling) > 0 {
		sc := bench.Table{Caption: fmt.Sprintf("The raw loop by worker count (one account of %d items, re-seeded before each), "+
			"to show where DynamoDB Local stops going faster:", b.scaling[0].raw.items),
			Header: []string{"workers", "items/s", "× 1 worker", "DynamoDB Local CPUs busy", "DynamoDB Local CPU µs/item"}}
		for _, p := range b.scaling {
			sc.Rows = append(sc.Rows, []string{fmt.Sprint(p.workers), f0(p.raw.rate()), f2(p.raw.rate() / b.scaling[0].raw.rate()),
				f2(p.raw.server.Seconds() / p.raw.wall.Seconds()), f1(p.raw.perItem(p.raw.server))})
		}
		s.Tables = append(s.Tables, sc)
	}

	cpu := bench.Table{Caption: "Where the time goes (CPU µs per item deleted; calls made by the engine):",
		Header: []string{"size", "list: DynamoDB Local", "raw: DynamoDB Local", "raw: client", "Lethe: DynamoDB Local", "Lethe: engine", "Lethe: S3",
			"sequential: DynamoDB Local", "other processes (raw / Lethe)", "raw BatchWriteItem calls", "Lethe BatchWriteItem calls (mean size, full)", "Lethe Query calls (items)",
			"Lethe GetItem", "Lethe S3 calls"}}
	for _, r := range b.rounds {
		q, w := r.worker.Calls["dynamodb.Query"], r.worker.Calls["dynamodb.BatchWriteItem"]
		cpu.Rows = append(cpu.Rows, []string{display(r.label), f1(r.list.perItem(r.list.server)), f1(r.raw.perItem(r.raw.server)), f1(r.raw.perItem(r.raw.client)),
			f1(r.lethe.perItem(r.lethe.server)), f1(r.lethe.perItem(r.lethe.client)), f1(r.lethe.perItem(r.s3CPU)),
			f1(r.sequential.perItem(r.sequential.server)),
			fmt.Sprintf("%.0f%% / %.0f%%", 100*r.raw.otherShare(), 100*r.lethe.otherShare()), fmt.Sprint(r.rawStats.Calls),
			fmt.Sprintf("%d (%.1f, %.0f%%)", w.Calls, float64(w.Items)/float64(max(w.Calls, 1)), 100*float64(r.worker.BatchSizes["25"])/float64(max(w.Calls, 1))), fmt.Sprintf("%d (%d)", q.Calls, q.Items),
			fmt.Sprint(r.worker.Calls["dynamodb.GetItem"].Calls),
			fmt.Sprint(r.worker.Calls["s3.ListObjectsV2"].Calls + r.worker.Calls["s3.DeleteObjects"].Calls)})
	}
	s.Tables = append(s.Tables, cpu)

	waits := bench.Table{Caption: "The engine's calls by summed latency (8 BatchWriteItem workers and 16 end users run at once, so the sums exceed wall time; the shares say what the engine waited on):",
		Header: []string{"size", "operation", "calls", "items", "summed latency s", "share", "mean latency ms"}}
	for _, r := range b.rounds {
		var total int64
		for _, c := range r.worker.Calls {
			total += c.TimeNS
		}
		for _, op := range sortedOps(r.worker.Calls) {
			c := r.worker.Calls[op]
			waits.Rows = append(waits.Rows, []string{display(r.label), op, fmt.Sprint(c.Calls), fmt.Sprint(c.Items),
				f1(float64(c.TimeNS) / 1e9), fmt.Sprintf("%.0f%%", 100*float64(c.TimeNS)/float64(max(total, 1))),
				f2(float64(c.TimeNS) / 1e6 / float64(max(c.Calls, 1)))})
		}
	}
	s.Tables = append(s.Tables, waits)

	var raw, lethe, seq, rawRate, letheRate, seqRate []bench.Point
	for _, r := range b.rounds {
		x := float64(r.items)
		raw = append(raw, bench.Point{X: x, Y: r.rawTime().Seconds()})
		lethe = append(lethe, bench.Point{X: x, Y: r.letheTime().Seconds()})
		seq = append(seq, bench.Point{X: x, Y: x / r.sequential.rate()})
		rawRate = append(rawRate, bench.Point{X: x, Y: r.raw.rate()})
		letheRate = append(letheRate, bench.Point{X: x, Y: r.lethe.rate()})
		seqRate = append(seqRate, bench.Point{X: x, Y: r.sequential.rate()})
	}
	s.Plots = []bench.Plot{
		{File: "hard-delete-time.svg", Title: "Hard delete: time against account size", XLabel: "DynamoDB items in the account",
			YLabel: "time to delete (s)", LogX: true, LogY: true, YFormat: bench.Seconds,
			Series: []bench.Series{{Name: "Lethe engine", Points: lethe}, {Name: "raw BatchWriteItem", Points: raw},
				{Name: "sequential (projected)", Points: seq, Dashed: true}},
			Caption: "Log–log: a straight line of slope 1 is cost linear in the items. The sequential line is projected " +
				"from its sample's rate (items ÷ items/s)."},
		{File: "hard-delete-rate.svg", Title: "Hard delete: throughput against account size", XLabel: "DynamoDB items in the account",
			YLabel: "items deleted per second", LogX: true,
			Series: []bench.Series{{Name: "Lethe engine", Points: letheRate}, {Name: "raw BatchWriteItem", Points: rawRate},
				{Name: "sequential", Points: seqRate}}},
	}
	s.Reading = b.reading()
	return s
}

// reading says in words what the figures show; it is written from them, so it stays true.
func (b *run) reading() string {
	small, large := b.rounds[0], b.rounds[len(b.rounds)-1]
	var w strings.Builder
	verdict := func(t bench.Target) string {
		if t.Check(b.env.Results).Pass {
			return "meets"
		}
		return "misses"
	}
	us := func(p phase, d time.Duration) float64 { return p.perItem(d) }
	ceiling := large.raw.rate() / large.sequential.rate()
	fmt.Fprintf(&w, "- At the largest size (%d items) the engine deleted the account in %s s at %.0f items/s: "+
		"**%.2f×** listing the same keys with Query and then deleting them with the raw BatchWriteItem loop (%s s + %s s, "+
		"%.0f items/s), which %s the %s bar. Against the delete alone, handed its keys, it is %.2f× (%.0f items/s).\n",
		large.items, secs(large.letheTime()), large.lethe.rate(), large.lethe.rate()/large.listAndRaw().rate(),
		secs(large.listTime()), secs(large.rawTime()), large.listAndRaw().rate(), verdict(targets[0]), targets[0].String(),
		large.lethe.rate()/large.raw.rate(), large.raw.rate())
	fmt.Fprintf(&w, "- The emulator's ceiling, the raw loop ÷ the sequential DeleteItem loop (%.0f items/s), is %.1f×; the engine "+
		"÷ sequential is **%.1f×**, %.2f of the ceiling, which %s the bar (%s, i.e. %.1f×).\n",
		large.sequential.rate(), ceiling, large.lethe.rate()/large.sequential.rate(),
		large.lethe.rate()/large.sequential.rate()/ceiling, verdict(targets[1]), targets[1].String(), targets[1].Bound*ceiling)
	if len(b.rounds) > 1 {
		fmt.Fprintf(&w, "- Time per item went from %.1f µs at %s to %.1f µs at %s (×%.2f; the bar is %s), and the engine's "+
			"peak RSS from %.1f MiB to %.1f MiB while the account grew %.0f×: cost linear in the items, memory flat.\n",
			us(small.lethe, small.lethe.wall), display(small.label), us(large.lethe, large.lethe.wall), display(large.label),
			us(large.lethe, large.lethe.wall)/us(small.lethe, small.lethe.wall), targets[2].String(),
			float64(small.worker.PeakRSS)/(1<<20), float64(large.worker.PeakRSS)/(1<<20), float64(large.items)/float64(small.items))
	}
	fmt.Fprintf(&w, "- DynamoDB Local applies a batch's deletes one by one (%.0f µs of JVM CPU per item in a batch against "+
		"%.0f µs per DeleteItem request: batching saves only the per-request overhead)%s. On DynamoDB itself a batch of 25 "+
		"costs about one request's latency, so the same bar compares differently.\n",
		us(large.raw, large.raw.server), us(large.sequential, large.sequential.server), b.scalingNote())
	q := large.worker.Calls["dynamodb.Query"]
	wr := large.worker.Calls["dynamodb.BatchWriteItem"]
	fmt.Fprintf(&w, "- **Where the engine's time goes:** DynamoDB Local is the bottleneck of both loops: it serves "+
		"requests largely one at a time (its JVM kept %.2f CPUs busy under the raw loop, %.2f under the engine, of %d), and the "+
		"engine kept %.1f BatchWriteItem calls in flight on average, waiting on it. Per item deleted its JVM spent %.0f µs "+
		"under the engine against %.0f µs "+
		"in the raw loop: %.0f µs more, where listing the items with Query before the raw loop costs it "+
		"%.0f µs per item. The engine reads every item it deletes (%d Query calls returning %d full items, consistent "+
		"reads); the raw loop is handed its keys. The engine's writes are as full as the raw loop's: %d BatchWriteItem "+
		"calls of %.1f requests on average against %d of 25. Its own CPU was %.0f µs per item, and the S3 it calls "+
		"(%d calls) %.0f µs.\n",
		large.raw.server.Seconds()/large.raw.wall.Seconds(), large.lethe.server.Seconds()/large.lethe.wall.Seconds(), runtime.NumCPU(),
		float64(wr.TimeNS)/float64(max(large.worker.ElapsedNS, 1)),
		us(large.lethe, large.lethe.server), us(large.raw, large.raw.server),
		us(large.lethe, large.lethe.server)-us(large.raw, large.raw.server), us(large.list, large.list.server),
		q.Calls, q.Items, wr.Calls, float64(wr.Items)/float64(max(wr.Calls, 1)), large.rawStats.Calls,
		us(large.lethe, large.lethe.client),
		large.worker.Calls["s3.ListObjectsV2"].Calls+large.worker.Calls["s3.DeleteObjects"].Calls, us(large.lethe, large.s3CPU))
	fmt.Fprintf(&w, "- So the ratio to the delete alone measures, on this emulator, mostly the price of reading before deleting: "+
		"with DynamoDB Local's work per item as the limit, an engine that lists before it deletes can reach about "+
		"raw ÷ (raw + listing) = %.2f of the raw rate — which is why the bar compares the engine with listing and deleting together.\n",
		us(large.raw, large.raw.server)/(us(large.raw, large.raw.server)+us(large.list, large.list.server)))
	sl, ll := small.worker.Calls["s3.ListObjectsV2"], large.worker.Calls["s3.ListObjectsV2"]
	if len(b.rounds) > 1 && us(large.lethe, large.s3CPU) > 2*us(small.lethe, small.s3CPU) {
		fmt.Fprintf(&w, "- **The in-process S3 does not scale:** its CPU per item deleted went from %.0f µs at %s to %.0f µs at %s, "+
			"and a ListObjectsV2 call from %.1f ms to %.1f ms. gofakes3's in-memory backend walks the bucket from its first key "+
			"on every listing, so the engine's listing of each end user's prefix costs more the larger the bucket — an "+
			"artifact of the emulator (S3 lists a prefix at a cost that does not depend on the bucket) that the raw loop, "+
			"which touches no S3, does not pay, and that takes CPU from DynamoDB Local on this machine.\n",
			us(small.lethe, small.s3CPU), display(small.label), us(large.lethe, large.s3CPU), display(large.label),
			float64(sl.TimeNS)/1e6/float64(max(sl.Calls, 1)), float64(ll.TimeNS)/1e6/float64(max(ll.Calls, 1)))
	}
	fmt.Fprintf(&w, "- Noise: short rounds vary by several percent from run to run, which is why they are repeated; "+
		"the sequential rate comes from a sample of at most %d items.", b.o.Sample)
	var busy []string
	for _, r := range b.rounds {
		if sh := max(r.listAndRaw().otherShare(), r.lethe.otherShare()); sh > bench.DisturbedShare {
			busy = append(busy, fmt.Sprintf("%s (%.0f%% of the machine's CPU during list + raw, %.0f%% during Lethe)", display(r.label),
				100*r.listAndRaw().otherShare(), 100*r.lethe.otherShare()))
		}
	}
	if len(busy) > 0 {
		fmt.Fprintf(&w, " Other processes competed for the CPUs at %s: those figures are disturbed.", strings.Join(busy, ", "))
	}
	w.WriteString("\n")
	return w.String()
}
