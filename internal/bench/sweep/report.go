package sweep

import (
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/lethe-dev/lethe/internal/bench"
	"github.com/lethe-dev/lethe/internal/retention"
)

// The targets this benchmark measures.
var targets = []bench.Target{
	{Figure: "sweep_vs_scan_and_writes_ratio", Label: "retention sweep vs raw parallel Scan plus the same conditional deletes and repairs by a plain loop, items scanned per second (worst size)", Op: ">=", Bound: 0.9},
	{Figure: "sweep_growth_ratio", Label: "retention sweep time per item, largest ÷ smallest size (linear cost)", Op: "<=", Bound: 1.2},
}

// record sets the figures of one size, named with its label (sweep_items_100k …).
func (b *run) record(r *round) {
	set := func(name string, v any) { b.env.Results.Set("sweep_"+name+"_"+r.label, v) }
	d := r.data
	set("items", d.scanned)
	set("expired", d.count(expired))
	set("no_ttl", d.count(noTTL))
	set("objects", d.objects)
	set("seed_messages", d.messages)
	set("seed_seconds", d.seeded.Seconds())

	set("raw_seconds", r.rawTime().Seconds())
	set("raw_items_per_s", r.raw.rate())
	set("raw_server_cpu_us_per_item", r.raw.perItem(r.raw.server))
	set("raw_client_cpu_us_per_item", r.raw.perItem(r.raw.client))
	set("raw_scan_calls", r.rawCalls["dynamodb.Scan"].Calls)
	set("raw_writes_seconds", r.rawWriteTime().Seconds())
	set("raw_writes_items_per_s", r.rawWrite.rate())
	set("raw_writes_server_cpu_us_per_item", r.rawWrite.perItem(r.rawWrite.server))
	set("raw_writes_client_cpu_us_per_item", r.rawWrite.perItem(r.rawWrite.client))
	set("raw_writes_deleteitem_calls", r.rawWriteCalls["dynamodb.DeleteItem"].Calls)
	set("raw_writes_updateitem_calls", r.rawWriteCalls["dynamodb.UpdateItem"].Calls)

	set("seconds", r.sweepTime().Seconds())
	set("items_per_s", r.sweep.rate())
	set("us_per_item", r.sweep.perItem(r.sweep.wall))
	set("server_cpu_us_per_item", r.sweep.perItem(r.sweep.server))
	set("client_cpu_us_per_item", r.sweep.perItem(r.sweep.client))
	set("deleted", r.deleted)
	set("repaired", r.repaired)
	set("objects_deleted", r.objects)
	set("unrepairable", r.unrepairable)
	for op, name := range map[string]string{"dynamodb.Scan": "scan_calls", "dynamodb.DeleteItem": "deleteitem_calls",
		"dynamodb.UpdateItem": "updateitem_calls", "dynamodb.PutItem": "putitem_calls", "dynamodb.BatchWriteItem": "batch_calls",
		"s3.DeleteObjects": "s3_calls"} {
		set(name, r.sweepCalls[op].Calls)
	}

	set("segments_platform", r.segments[0])
	set("segments_ledger", r.segments[1])
	set("second_seconds", r.cleanTime().Seconds())
	set("second_items_per_s", r.clean.rate())
	set("second_vs_scan_ratio", r.clean.rate()/r.raw.rate())
	set("second_server_cpu_us_per_item", r.clean.perItem(r.clean.server))
	set("write_wall_us", r.writeWall())
	set("write_server_cpu_us", r.writeServerCPU())
	set("transactions", r.sweepCalls["dynamodb.TransactWriteItems"].Calls)

	set("vs_scan_and_writes_ratio", r.sweep.rate()/r.rawWrite.rate())
	set("vs_scan_ratio", r.sweep.rate()/r.raw.rate())
	set("repeats", r.reps)
	set("remeasured", r.remeasured)
	if r.reps > 1 {
		set("vs_scan_and_writes_ratio_min", r.ratioMin)
		set("vs_scan_and_writes_ratio_max", r.ratioMax)
	}
	set("raw_other_cpu_share", r.raw.otherShare())
	set("raw_writes_other_cpu_share", r.rawWrite.otherShare())
	set("other_cpu_share", r.sweep.otherShare())
	set("restore_seconds", r.restoreTime.Seconds())
}

// worst is the size at which the sweep came closest to failing the ratio bar.
func (b *run) worst() *round {
	w := b.rounds[0]
	for _, r := range b.rounds[1:] {
		if r.sweep.rate()/r.rawWrite.rate() < w.sweep.rate()/w.rawWrite.rate() {
			w = r
		}
	}
	return w
}

// headline sets the figures the targets read: the sweep against the raw scan and writes at the
// size where it did worst (at the largest sizes DynamoDB Local's own Scan dominates both), and the largest size's
// time per item against the smallest's.
func (b *run) headline() {
	res := b.env.Results
	small, large, worst := b.rounds[0], b.rounds[len(b.rounds)-1], b.worst()
	res.Set("sweep_items", large.data.scanned)
	res.Set("sweep_vs_scan_and_writes_ratio", worst.sweep.rate()/worst.rawWrite.rate())
	res.Set("sweep_vs_scan_and_writes_ratio_size", worst.label)
	res.Set("sweep_vs_scan_ratio", worst.sweep.rate()/worst.raw.rate())
	if len(b.rounds) > 1 {
		gr := large.sweep.perItem(large.sweep.wall) / small.sweep.perItem(small.sweep.wall)
		rawGr := large.raw.perItem(large.raw.wall) / small.raw.perItem(small.raw.wall)
		res.Set("sweep_growth_ratio", gr)
		res.Set("sweep_raw_growth_ratio", rawGr)
		res.Set("sweep_growth_vs_raw_ratio", gr/rawGr)
	}
	res.Set("sweep_segments", large.segments[0])
	res.Set("sweep_second_vs_scan_ratio", worst.clean.rate()/worst.raw.rate())
	res.Set("sweep_page_size", b.o.PageSize)
	res.Set("sweep_expired_share", b.o.ExpiredShare)
	res.Set("sweep_no_ttl_share", b.o.NoTTLShare)
}

// rawTime and sweepTime are one run's time (the mean over the repetitions).
func (r *round) rawTime() time.Duration { return r.raw.wall / time.Duration(max(r.reps, 1)) }
func (r *round) rawWriteTime() time.Duration {
	return r.rawWrite.wall / time.Duration(max(r.reps, 1))
}
func (r *round) sweepTime() time.Duration { return r.sweep.wall / time.Duration(max(r.reps, 1)) }
func (r *round) cleanTime() time.Duration { return r.clean.wall / time.Duration(max(r.reps, 1)) }

// writes is the conditional writes (deletions and repairs) of one sweep.
func (r *round) writes() int64 { return max(r.deleted+r.repaired, 1) }

// writeWall is the wall time one conditional write added to a sweep, µs: the sweep's time beyond
// the second sweep's (which had nothing to write), over its writes.
func (r *round) writeWall() float64 {
	return float64((r.sweepTime() - r.cleanTime()).Microseconds()) / float64(r.writes())
}

// writeServerCPU is DynamoDB Local's CPU per conditional write, µs, the same way.
func (r *round) writeServerCPU() float64 {
	per := time.Duration(max(r.reps, 1))
	return float64((r.sweep.server/per - r.clean.server/per).Microseconds()) / float64(r.writes())
}

func spread(r *round) string {
	if r.reps < 2 {
		return ""
	}
	return fmt.Sprintf(" (%.2f–%.2f, %d runs)", r.ratioMin, r.ratioMax, r.reps)
}

// display is a size's label for people: 10k, 100k, 1M.
func display(label string) string {
	if n, ok := strings.CutSuffix(label, "m"); ok {
		return n + "M"
	}
	return label
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

func pageSize(n int32) string {
	if n <= 0 {
		return "DynamoDB's 1 MB pages (no Limit, as deployed)"
	}
	return fmt.Sprintf("pages of %d items", n)
}

func percent(v float64) string {
	return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.2f", 100*v), "0"), ".0") + "%"
}

// section is the benchmark's part of BENCHMARKS.md.
func (b *run) section() bench.Section {
	s := bench.Section{Title: "Retention sweep", Targets: targets}
	sizes := make([]string, len(b.rounds))
	for i, r := range b.rounds {
		sizes[i] = display(r.label)
	}
	var plans []string
	for _, r := range b.rounds {
		plans = append(plans, fmt.Sprintf("%d and %d at %s", r.segments[0], r.segments[1], display(r.label)))
	}
	segments := fmt.Sprintf("the segments the sweep gives the tables as deployed — one per %d items of DescribeTable's count, at least %d "+
		"(`retention.Sweep.Plan`): %s (platform, ledger) — %d of them scanned at once",
		retention.DefaultSegmentItems, retention.DefaultSegments, strings.Join(plans, ", "), retention.DefaultConcurrency)
	if b.o.Segments > 0 {
		segments = fmt.Sprintf("%d segments per table (fixed by the run's options), %d scanned at once", b.o.Segments, retention.DefaultConcurrency)
	}
	quick := ""
	if b.quick {
		quick = fmt.Sprintf("\n\nA quick run (`BENCH_QUICK=1`) measures %s instead of the full run's 100k and 1M, "+
			"and alternates twice at every size, so that the whole quick set stays under 3 minutes.", strings.Join(sizes, " and "))
	}
	s.Intro = fmt.Sprintf(`The daily retention sweep (`+"`retention.Sweep.Run`"+`, one invocation to the end) against a raw
parallel Scan of the same tables plus the same conditional writes made by a plain loop, and against the raw Scan
alone, at %[1]s items. Each size is seeded into fresh tables of the template with
`+"`seed.Write`"+` (seed %[2]d; `+"`seed.SizeForMessages`"+` tuned so that the platform and ledger tables — the two the
sweep scans — hold about the target number of items): one account of end users with conversations, messages,
inbox messages with attachments in S3, contacts, tags, notes, activity logs, payments and consents, every item
with the TTL its data-map rule gives. Of the personal 13-month items, picked by a hash of their key (so evenly
over end users, categories and segments, and the same ones at every size), **%[3]s** are then written over
as *past retention* — their retention anchor moved 14 months back and their TTL recomputed from it, the items
DynamoDB's TTL has not removed yet — which the sweep deletes (their S3 objects first), and **%[4]s** without an
`+"`expiresAt`"+`, which it repairs; each deletion and repair is one request conditional on the TTL the scan saw,
in groups gathered from every page, each group's deletions announced first in one journal part naming their
subjects (and a pending record of their files), the holds epoch read again after them. The rest is live.

Both scans use %[5]s, and %[6]s, eventually consistent. (On DynamoDB Local a Scan page costs in proportion to the
part of the table its segment spans, so segments sized to the table keep the cost per item flat; with a fixed 4
segments a million items take many minutes.) The **raw** scan reads every page of
both tables and does nothing with the items; the **raw scan and writes** — the like-for-like baseline — is the
same scan which, handed the answer (the keys the benchmark made past retention or TTL-less; it judges nothing),
makes the sweep's writes as a plain loop would: one conditional DeleteItem per expired item (its S3 objects
deleted first) and one conditional UpdateItem per TTL-less one, on the same condition expressions (the item
still exists and holds the TTL the scan saw), 8 in flight while the scan goes on, as the sweep's writer keeps,
and nothing else (no journal, checkpoint or act); the **sweep** judges every item by the data map, hands each page's
deletions and repairs to its writer and scans on, records a page's position once its writes are made, stores its
checkpoint every 5 s, and at the end records its run in the ledger with an act of destruction. Right after each
sweep, the **second sweep** runs over the swept tables, timed apart: nothing is left to delete or repair, so it
is the scan and the judging without the writes. Raw and sweep alternate at every size: three
times up to 200k items (twice in a quick run), once above, where one scan takes minutes; an untimed
raw scan warms DynamoDB Local first up to 200k, and an untimed sweep at the first size. After each sweep the deleted and repaired items are
written back exactly as they were (with the deleted items' S3 objects) and the run's ledger records removed,
outside the timing, and likewise after each raw scan and writes, so every raw scan and every sweep reads identical
contents: the raw scan's item count is checked against the seeded count each time, and every sweep and raw loop
must delete and repair exactly the prepared items.
Rates are items scanned per second of wall time, total items over total time of the repetitions; the
ratio's spread over the runs is shown. A phase during which other processes took more than 5%% of the
machine's CPU is measured again, once. CPU figures are per item scanned: *DynamoDB Local* is the JVM's CPU
during the phase, *client* this process's (the scan or the sweep, and the in-process S3).%[7]s`,
		strings.Join(sizes, " and "), b.o.Seed, percent(b.o.ExpiredShare), percent(b.o.NoTTLShare), segments, pageSize(b.o.PageSize), quick)

	main := bench.Table{Header: []string{"size", "items scanned", "past retention", "no TTL", "raw scan + writes s", "raw scan + writes items/s",
		"raw scan s", "raw scan items/s", "sweep s", "sweep items/s", "sweep ÷ (scan + writes)", "sweep ÷ scan", "sweep µs/item", "raw scan µs/item",
		"second sweep s", "second ÷ scan"}}
	for _, r := range b.rounds {
		main.Rows = append(main.Rows, []string{display(r.label), fmt.Sprint(r.data.scanned), fmt.Sprint(r.data.count(expired)),
			fmt.Sprint(r.data.count(noTTL)), secs(r.rawWriteTime()), f0(r.rawWrite.rate()), secs(r.rawTime()), f0(r.raw.rate()),
			secs(r.sweepTime()), f0(r.sweep.rate()),
			"**" + f2(r.sweep.rate()/r.rawWrite.rate()) + "**" + spread(r), f2(r.sweep.rate() / r.raw.rate()),
			f2(r.sweep.perItem(r.sweep.wall)), f2(r.raw.perItem(r.raw.wall)),
			secs(r.cleanTime()), f2(r.clean.rate() / r.raw.rate())})
	}
	s.Tables = append(s.Tables, main)

	cpu := bench.Table{Caption: "Where the time goes (CPU µs per item scanned; the calls of one sweep):",
		Header: []string{"size", "raw: DynamoDB Local", "raw: client", "sweep: DynamoDB Local", "sweep: client",
			"other processes (raw / sweep)", "Scan calls (raw / sweep)", "DeleteItem", "UpdateItem", "PutItem (checkpoints, run)",
			"BatchWriteItem (journal parts, pending files, act)", "TransactWriteItems (writes)", "S3 DeleteObjects (objects)"}}
	for _, r := range b.rounds {
		sc := r.sweepCalls
		cpu.Rows = append(cpu.Rows, []string{display(r.label), f1(r.raw.perItem(r.raw.server)), f1(r.raw.perItem(r.raw.client)),
			f1(r.sweep.perItem(r.sweep.server)), f1(r.sweep.perItem(r.sweep.client)),
			fmt.Sprintf("%.0f%% / %.0f%%", 100*r.raw.otherShare(), 100*r.sweep.otherShare()),
			fmt.Sprintf("%d / %d", r.rawCalls["dynamodb.Scan"].Calls, sc["dynamodb.Scan"].Calls),
			fmt.Sprint(sc["dynamodb.DeleteItem"].Calls), fmt.Sprint(sc["dynamodb.UpdateItem"].Calls), fmt.Sprint(sc["dynamodb.PutItem"].Calls),
			fmt.Sprint(sc["dynamodb.BatchWriteItem"].Calls),
			fmt.Sprintf("%d (%d)", sc["dynamodb.TransactWriteItems"].Calls, sc["dynamodb.TransactWriteItems"].Items),
			fmt.Sprintf("%d (%d)", sc["s3.DeleteObjects"].Calls, sc["s3.DeleteObjects"].Items)})
	}
	s.Tables = append(s.Tables, cpu)

	waits := bench.Table{Caption: fmt.Sprintf("The sweep's calls by summed latency (%d segments scanned at once, each reading its next page ahead, and up to 8 write calls in flight, so the sums exceed wall time):", retention.DefaultConcurrency),
		Header: []string{"size", "operation", "calls", "items", "summed latency s", "share", "mean latency ms"}}
	for _, r := range b.rounds {
		var total time.Duration
		for _, c := range r.sweepCalls {
			total += c.Time
		}
		for _, op := range byTime(r.sweepCalls) {
			c := r.sweepCalls[op]
			waits.Rows = append(waits.Rows, []string{display(r.label), op, fmt.Sprint(c.Calls), fmt.Sprint(c.Items),
				f1(c.Time.Seconds()), fmt.Sprintf("%.0f%%", 100*c.Time.Seconds()/max(total.Seconds(), 1e-9)),
				f2(c.Time.Seconds() * 1e3 / float64(max(c.Calls, 1)))})
		}
	}
	s.Tables = append(s.Tables, waits)
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
	for _, r := range b.rounds {
		fmt.Fprintf(&w, "- At %s (%d items) the sweep scanned both tables in %s s at %.0f items/s, deleting %d items past retention "+
			"(and %d S3 objects) and repairing %d TTLs on the way: **%.2f×** the raw parallel Scan with the same conditional writes "+
			"made by a plain loop (%s s, %.0f items/s)%s, and %.2f× the raw Scan alone (%.0f items/s), which writes nothing.\n",
			display(r.label), r.data.scanned, secs(r.sweepTime()), r.sweep.rate(), r.deleted, r.objects, r.repaired,
			r.sweep.rate()/r.rawWrite.rate(), secs(r.rawWriteTime()), r.rawWrite.rate(), spread(r), r.sweep.rate()/r.raw.rate(), r.raw.rate())
	}
	worst := b.worst()
	fmt.Fprintf(&w, "- The target takes the worst size, %s: **%.2f×**, which %s the %s bar. The plain loop sent %d DeleteItem and %d "+
		"UpdateItem requests; the sweep sends the same conditional requests, with a journal part before each group of them "+
		"and the holds epoch read after it.\n", display(worst.label),
		worst.sweep.rate()/worst.rawWrite.rate(), verdict(targets[0]), targets[0].String(),
		worst.rawWriteCalls["dynamodb.DeleteItem"].Calls, worst.rawWriteCalls["dynamodb.UpdateItem"].Calls)
	if len(b.rounds) > 1 {
		gr := large.sweep.perItem(large.sweep.wall) / small.sweep.perItem(small.sweep.wall)
		rawGr := large.raw.perItem(large.raw.wall) / small.raw.perItem(small.raw.wall)
		fmt.Fprintf(&w, "- Time per item went from %.2f µs at %s to %.2f µs at %s (×%.2f; the bar is %s, which it %s); the raw "+
			"scan's went from %.2f µs to %.2f µs (×%.2f) over the same sizes, so the sweep adds %s.",
			small.sweep.perItem(small.sweep.wall), display(small.label), large.sweep.perItem(large.sweep.wall), display(large.label),
			gr, targets[1].String(), verdict(targets[1]), small.raw.perItem(small.raw.wall), large.raw.perItem(large.raw.wall),
			rawGr, growthNote(gr, rawGr))
		if rawGr > targets[1].Bound {
			fmt.Fprintf(&w, " **The growth bar cannot be met on DynamoDB Local by any Scan:** the emulator serves every request on "+
				"one SQLite thread, and the cost of a Scan page there grows with the size of the table (a page of the raw scan took "+
				"%.0f ms on average at %s, %.0f ms at %s), so a full scan costs more per item the larger the table — the raw "+
				"scan, which does nothing with the items, grew ×%.2f. On DynamoDB a Scan page costs the same wherever it is "+
				"in the table.",
				meanMS(small.rawCalls["dynamodb.Scan"]), display(small.label), meanMS(large.rawCalls["dynamodb.Scan"]), display(large.label),
				rawGr)
			if g := addedGrowth(small, large); g > 0 {
				fmt.Fprintf(&w, " What the sweep adds to the scan per item grew ×%.2f.", g)
			}
		}
		w.WriteString("\n")
	}
	sc := large.sweepCalls
	extraServer := large.sweep.perItem(large.sweep.server) - large.raw.perItem(large.raw.server)
	fmt.Fprintf(&w, "- **Where the time goes:** DynamoDB Local's JVM spent %.1f µs per item under the raw scan and %.1f µs under "+
		"the sweep (%+.1f µs), kept %.2f and %.2f CPUs busy of %d; this process spent %.1f µs per item on the raw scan (reading the "+
		"pages) and %.1f µs on the sweep (reading them, judging every item, and serving the in-process S3). Per sweep the writes "+
		"were %d TransactWriteItems (%d writes), %d DeleteItem, %d UpdateItem, %d PutItem (checkpoints every 5 s, and the run's request) "+
		"and %d BatchWriteItem (the groups' journal parts and pending-file records, the act), over %d Scan pages.\n",
		large.raw.perItem(large.raw.server), large.sweep.perItem(large.sweep.server), extraServer,
		large.raw.server.Seconds()/large.raw.wall.Seconds(), large.sweep.server.Seconds()/large.sweep.wall.Seconds(), runtime.NumCPU(),
		large.raw.perItem(large.raw.client), large.sweep.perItem(large.sweep.client),
		sc["dynamodb.TransactWriteItems"].Calls, sc["dynamodb.TransactWriteItems"].Items,
		sc["dynamodb.DeleteItem"].Calls, sc["dynamodb.UpdateItem"].Calls, sc["dynamodb.PutItem"].Calls, sc["dynamodb.BatchWriteItem"].Calls,
		sc["dynamodb.Scan"].Calls)
	var seconds []string
	for _, r := range b.rounds {
		seconds = append(seconds, fmt.Sprintf("%.2f× at %s", r.clean.rate()/r.raw.rate(), display(r.label)))
	}
	fmt.Fprintf(&w, "- **What the writes cost:** with nothing to write, the second sweep ran at %s the raw scan's rate: "+
		"that is what scanning, judging and checkpointing cost. The rest of the sweep's time is the writes: at %s a sweep's %d conditional writes "+
		"(and %d transactions) added %.0f µs of wall time each, and each cost DynamoDB Local's JVM %.0f µs of CPU, against %.1f µs "+
		"per item the raw scan read. At these shares (%s of the personal items past retention, %s without a TTL) that is about "+
		"%.0f%% of the sweep's work on the emulator, which serves every request on one SQLite store. On DynamoDB each write "+
		"goes to its own partition, not scan time; this run does not measure that (its capacity is measured below).\n",
		strings.Join(seconds, ", "), display(large.label), large.deleted+large.repaired, large.sweepCalls["dynamodb.TransactWriteItems"].Calls,
		large.writeWall(), large.writeServerCPU(), large.raw.perItem(large.raw.server),
		percent(b.o.ExpiredShare), percent(b.o.NoTTLShare),
		100*large.writeServerCPU()*float64(large.writes())/max(large.sweep.server.Seconds()*1e6/float64(max(large.reps, 1)), 1))
	fmt.Fprintf(&w, "- Noise: the machine has %d CPUs shared by DynamoDB Local, this process and anything else running; the "+
		"ratios are of phases alternated within seconds of each other on identical contents.", runtime.NumCPU())
	var busy []string
	for _, r := range b.rounds {
		if sh := max(r.raw.otherShare(), r.rawWrite.otherShare(), r.sweep.otherShare()); sh > bench.DisturbedShare {
			busy = append(busy, fmt.Sprintf("%s (%.0f%% of the machine's CPU during the raw scan, %.0f%% during the raw scan and writes, %.0f%% during the sweep)",
				display(r.label), 100*r.raw.otherShare(), 100*r.rawWrite.otherShare(), 100*r.sweep.otherShare()))
		}
	}
	if len(busy) > 0 {
		fmt.Fprintf(&w, " Other processes competed for the CPUs at %s: those figures are disturbed.", strings.Join(busy, ", "))
	}
	w.WriteString("\n")
	return w.String()
}

func meanMS(c callStats) float64 { return c.Time.Seconds() * 1e3 / float64(max(c.Calls, 1)) }

// addedGrowth is how the sweep's time per item beyond the raw scan's grew from small to large.
func addedGrowth(small, large *round) float64 {
	added := func(r *round) float64 { return r.sweep.perItem(r.sweep.wall) - r.raw.perItem(r.raw.wall) }
	if added(small) <= 0 || added(large) <= 0 {
		return 0
	}
	return added(large) / added(small)
}

func growthNote(sweep, raw float64) string {
	if sweep <= raw*1.05 {
		return "no growth of its own"
	}
	return fmt.Sprintf("%.0f%% of its own", 100*(sweep/raw-1))
}
