// Package cost prices what the benchmarks measured at us-east-1 on-demand list prices: an account
// deletion by account size, and the retention sweep per million items, with TTL deletions apart.
package cost

import (
	"context"
	"fmt"

	"github.com/lethe-dev/lethe/internal/bench"
)

// Prices are list prices in USD per unit.
type Prices struct {
	WriteRequestUnit float64 // DynamoDB on-demand, per write request unit
	ReadRequestUnit  float64 // DynamoDB on-demand, per read request unit
	StateTransition  float64 // Step Functions Standard
	LambdaGBSecond   float64 // Lambda arm64
	LambdaRequest    float64
	Email            float64 // SES outbound
	S3Request        float64 // S3 Standard PUT, COPY, POST, LIST; DELETE is free
}

// USEast1 are us-east-1's on-demand list prices (checked 2026-12-07):
//   - DynamoDB on-demand, Standard table class: $0.625 per million write request units and $0.125 per
//     million read request units (https://aws.amazon.com/dynamodb/pricing/on-demand/; halved from
//     $1.25 and $0.25 on 2024-11-01);
//   - Step Functions Standard: $0.025 per 1,000 state transitions (https://aws.amazon.com/step-functions/pricing/);
//   - Lambda arm64: $0.0000133334 per GB-second, $0.20 per million requests (https://aws.amazon.com/lambda/pricing/);
//   - SES: $0.10 per 1,000 emails (https://aws.amazon.com/ses/pricing/);
//   - S3 Standard: $0.005 per 1,000 PUT, COPY, POST or LIST requests; DELETE requests are free
//     (https://aws.amazon.com/s3/pricing/).
var USEast1 = Prices{
	WriteRequestUnit: 0.625 / 1e6,
	ReadRequestUnit:  0.125 / 1e6,
	StateTransition:  0.025 / 1000,
	LambdaGBSecond:   0.0000133334,
	LambdaRequest:    0.20 / 1e6,
	Email:            0.10 / 1000,
	S3Request:        0.005 / 1000,
}

// Usage is what some work consumes.
type Usage struct {
	WRU, RRU        float64
	Transitions     float64
	LambdaGBSeconds float64
	LambdaRequests  float64
	Emails          float64
	S3Requests      float64 // billable ones (LIST, PUT); DELETEs are free
}

// Add is u plus v.
func (u Usage) Add(v Usage) Usage {
	return Usage{u.WRU + v.WRU, u.RRU + v.RRU, u.Transitions + v.Transitions, u.LambdaGBSeconds + v.LambdaGBSeconds,
		u.LambdaRequests + v.LambdaRequests, u.Emails + v.Emails, u.S3Requests + v.S3Requests}
}

// Scale is u times n.
func (u Usage) Scale(n float64) Usage {
	return Usage{u.WRU * n, u.RRU * n, u.Transitions * n, u.LambdaGBSeconds * n, u.LambdaRequests * n, u.Emails * n, u.S3Requests * n}
}

// Bill is a Usage priced, per service.
type Bill struct {
	DynamoDB, StepFunctions, Lambda, SES, S3 float64
}

// Total is the sum of the services.
func (b Bill) Total() float64 { return b.DynamoDB + b.StepFunctions + b.Lambda + b.SES + b.S3 }

// Price is what u costs at p.
func (p Prices) Price(u Usage) Bill {
	return Bill{
		DynamoDB:      u.WRU*p.WriteRequestUnit + u.RRU*p.ReadRequestUnit,
		StepFunctions: u.Transitions * p.StateTransition,
		Lambda:        u.LambdaGBSeconds*p.LambdaGBSecond + u.LambdaRequests*p.LambdaRequest,
		SES:           u.Emails * p.Email,
		S3:            u.S3Requests * p.S3Request,
	}
}

// Deletion models one account deletion of n items: Fixed is what one deletion uses whatever its size
// (transitions, invocations, mails: measured by the lifecycle benchmark), PerItem what each item
// destroyed adds (capacity, and the Lambda time the erase slices spend per item).
type Deletion struct {
	Fixed, PerItem Usage
}

// At is the usage of deleting an account of n items: linear in n.
func (d Deletion) At(n float64) Usage { return d.Fixed.Add(d.PerItem.Scale(n)) }

// Figure names this package reads (set by the harddelete, sweep and lifecycle benchmarks) and sets.
const (
	FigHardDeleteWCUPerItem = "hard_delete_capacity_wcu_per_item"
	FigHardDeleteRCUPerItem = "hard_delete_capacity_rcu_per_item"
	FigHardDeleteVsMin      = "hard_delete_capacity_vs_min_ratio"
	FigSweepWCUPerDeleted   = "sweep_capacity_wcu_per_deleted"
	// FigSweepWCUPerRun is what a sweep run writes whatever it finds (lease, checkpoints, record).
	FigSweepWCUPerRun       = "sweep_capacity_write_per_run"
	FigSweepRCUPerScanned   = "sweep_capacity_rcu_per_scanned"
	FigSweepMinWCUPerDelete = "sweep_capacity_min_wcu_per_deleted"
	FigSweepMeanItemBytes   = "sweep_capacity_mean_item_bytes"
	FigLifecycleItems       = "account_lifecycle_items"
	FigLifecycleTransitions = "account_lifecycle_transitions"
	FigLifecycleInvocations = "account_lifecycle_lambda_invocations"
	FigLifecycleEmails      = "account_lifecycle_emails"
	FigLifecycleGBSeconds   = "account_lifecycle_lambda_gb_s"
	FigDeletion1MUSD        = "cost_account_deletion_1m_items_usd"
	FigSweep1MUSD           = "cost_sweep_per_million_expired_usd"
)

// Sizes are the account sizes the table prices.
var Sizes = []int64{1_000, 100_000, 1_000_000}

// MinimumPerItem is the documented minimum capacity of finding and deleting one item of size bytes:
// one WCU per started KB, and half an RCU per 4 KB read by an eventually consistent Query (not
// rounded per item: a page's sizes are summed).
func MinimumPerItem(size float64) Usage {
	kb := 1.0
	for kb*1024 < size {
		kb++
	}
	return Usage{WRU: kb, RRU: size / 4096 / 2}
}

// Section is the cost table over the run's figures. What a run did not measure is said: the engine's
// own capacity falls back to the documented minimum for the sweep's mean item size.
func Section(r *bench.Results) bench.Section {
	p := USEast1
	num := func(name string) (float64, bool) { return r.Number(name) }
	var notes []string

	// An account deletion.
	var d Deletion
	items, okItems := num(FigLifecycleItems)
	if tr, ok := num(FigLifecycleTransitions); ok {
		d.Fixed.Transitions = tr
		inv, _ := num(FigLifecycleInvocations)
		mails, _ := num(FigLifecycleEmails)
		d.Fixed.LambdaRequests, d.Fixed.Emails = inv, mails
		if gbs, ok := num(FigLifecycleGBSeconds); ok && okItems && items > 0 {
			d.PerItem.LambdaGBSeconds = gbs / items
		}
		notes = append(notes, fmt.Sprintf("transitions, Lambda requests and mails are the lifecycle benchmark's for one account of %.0f items, "+
			"taken as fixed per deletion (a slice runs up to ten minutes, so more slices only come with many millions of items); "+
			"Lambda GB-seconds are its measured GB-seconds per item, extrapolated linearly", items))
	} else {
		notes = append(notes, "the lifecycle benchmark did not run: transitions, Lambda and mail are left out")
	}
	capSource := "measured by the capacity meter on the erase engine"
	if w, ok := num(FigHardDeleteWCUPerItem); ok {
		rd, _ := num(FigHardDeleteRCUPerItem)
		d.PerItem.WRU, d.PerItem.RRU = w, rd
		capSource += fmt.Sprintf(" (%.4f WCU + %.4f RCU per item destroyed", w, rd)
		if ratio, ok := num(FigHardDeleteVsMin); ok {
			capSource += fmt.Sprintf(", %.3f× the documented minimum for the same items", ratio)
		}
		capSource += ")"
	} else if size, ok := num(FigSweepMeanItemBytes); ok {
		min := MinimumPerItem(size)
		d.PerItem.WRU, d.PerItem.RRU = min.WRU, min.RRU
		capSource = fmt.Sprintf("NOT measured on the engine in this run: the documented minimum for the seeded data's mean item size (%.0f B), a lower bound", size)
	} else {
		capSource = "not measured in this run"
	}
	notes = append(notes, "DynamoDB capacity per item: "+capSource)
	rows := [][]string{}
	for _, n := range Sizes {
		b := p.Price(d.At(float64(n)))
		how := "extrapolated"
		if okItems && float64(n) == items {
			how = "measured"
		}
		rows = append(rows, []string{label(n), usd(b.DynamoDB), usd(b.StepFunctions), usd(b.Lambda), usd(b.SES), usd(b.Total()), how})
		if n == 1_000_000 {
			r.Set(FigDeletion1MUSD, b.Total())
		}
	}
	tables := []bench.Table{{Caption: "One account deletion, by account size (USD, us-east-1 on-demand)",
		Header: []string{"items", "DynamoDB", "Step Functions", "Lambda", "SES", "total", "figures"}, Rows: rows}}

	// The sweep, per million items it deletes, and TTL apart.
	if w, ok := num(FigSweepWCUPerDeleted); ok {
		rd, _ := num(FigSweepRCUPerScanned)
		min, _ := num(FigSweepMinWCUPerDelete)
		writes := p.Price(Usage{WRU: w * 1e6})
		reads := p.Price(Usage{RRU: rd * 1e6})
		r.Set(FigSweep1MUSD, writes.Total())
		tables = append(tables, bench.Table{Caption: "Retention, per million end-user items (USD, us-east-1 on-demand; capacity measured by the meter, extrapolated linearly)",
			Header: []string{"what", "capacity per item", "USD per million items"},
			Rows: [][]string{
				{"sweep: writes per item it deletes", fmt.Sprintf("%.3f WCU (minimum %.3f)", w, min), usd(writes.Total())},
				{"sweep: reads per item it scans (expired or not)", fmt.Sprintf("%.4f RCU", rd), usd(reads.Total())},
				{"TTL deletion by DynamoDB", "0 (TTL deletes are free)", usd(0)},
			}})
		if pr, ok := num(FigSweepWCUPerRun); ok {
			tables[len(tables)-1].Rows = append(tables[len(tables)-1].Rows,
				[]string{"sweep: writes per run, whatever it finds (lease, checkpoints, the run's record; once a day)", fmt.Sprintf("%.1f WCU", pr),
					usd(p.Price(Usage{WRU: pr * 1e6}).Total()) + " per million runs"})
		}
		notes = append(notes, "TTL deletions cost no write capacity; the stream consumer's own reads and journal writes per removal are not metered here")
	} else {
		notes = append(notes, "the sweep's capacity was not measured in this run")
	}
	intro := "Prices: DynamoDB on-demand $0.625 per million write request units and $0.125 per million read request units " +
		"(aws.amazon.com/dynamodb/pricing/on-demand, since the 2024-11-01 price cut), Step Functions Standard $0.025 per 1,000 transitions, " +
		"Lambda arm64 $0.0000133334 per GB-second and $0.20 per million requests, SES $0.10 per 1,000 emails, S3 $0.005 per 1,000 " +
		"PUT/POST/LIST requests (DELETE free). Capacity comes from the client-side meter (internal/capmeter), which counts it by " +
		"DynamoDB's documented item-size rules, not from DynamoDB Local's timing."
	reading := ""
	for _, n := range notes {
		reading += "- " + n + ".\n"
	}
	return bench.Section{Title: "Cost at AWS list prices", Intro: intro, Tables: tables, Reading: reading}
}

// Benchmark is the cost section as a benchmark of the run: it measures nothing itself and prices the
// figures the benchmarks before it recorded.
func Benchmark() bench.Benchmark {
	return bench.Benchmark{Name: "cost", Run: func(_ context.Context, env *bench.Env) (bench.Section, error) {
		return Section(env.Results), nil
	}}
}

func usd(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v < 0.01:
		return fmt.Sprintf("%.6f", v)
	default:
		return fmt.Sprintf("%.4f", v)
	}
}

func label(n int64) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}
