package sweep

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/bench"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/samtemplate"
	"github.com/lethe-dev/lethe/internal/seed"
	"github.com/lethe-dev/lethe/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

var now = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// The shares picked by the key hash are what was asked, the same key always gets the same answer,
// and no key is both expired and TTL-less.
func TestMarkPicksTheShares(t *testing.T) {
	const n = 200_000
	var counts [3]int
	for i := range n {
		pk, sk := fmt.Sprintf("V#conv%d", i/20), fmt.Sprintf("msg%06d", i)
		k := markOf(pk, sk, 0.01, 0.005)
		if again := markOf(pk, sk, 0.01, 0.005); again != k {
			t.Fatalf("%s|%s marked %v, then %v", pk, sk, k, again)
		}
		counts[k]++
	}
	for k, want := range map[kind]float64{expired: 0.01, noTTL: 0.005} {
		got := float64(counts[k]) / n
		if got < want*0.9 || got > want*1.1 {
			t.Errorf("kind %v: share %.4f, want %.4f ±10%%", k, got, want)
		}
	}
	if markOf("a", "b", 0, 0) != live {
		t.Error("zero shares marked an item")
	}
}

// An expired item is past both its stored TTL and its rule's limit from its anchor; a TTL-less one
// lost only its expiresAt; the seeded item itself is never changed; items of other rules are left.
func TestTransform(t *testing.T) {
	msg := platform.Message{AccountID: "a1", BotID: "b1", EndUserID: "u1", ConversationID: "c1", ID: "m1", Direction: "in",
		Text: "hello", SentAt: now.Add(-30 * 24 * time.Hour)}
	item, err := platform.Encode(msg, policy)
	if err != nil {
		t.Fatal(err)
	}
	c := datamap.MustLookup(datamap.Message)
	seeded := item[platform.AttrExpiresAt].(*types.AttributeValueMemberN).Value

	old, ok := transform(item, c, expired, policy)
	if !ok {
		t.Fatal("a message could not be made expired")
	}
	anchor, err := time.Parse(time.RFC3339Nano, old["sentAt"].(*types.AttributeValueMemberS).Value)
	if err != nil {
		t.Fatal(err)
	}
	if limit, _ := datamap.Limit(c.Retention.Kind, anchor); !limit.Before(now) {
		t.Errorf("expired message's anchor %v: its limit %v is not past %v", anchor, limit, now)
	}
	exp, _ := strconv.ParseInt(old[platform.AttrExpiresAt].(*types.AttributeValueMemberN).Value, 10, 64)
	if want, _ := policy.ExpiresAt(c, anchor); exp != want.Unix() || exp > now.Unix() {
		t.Errorf("expired message's expiresAt %d, want %d (before now %d)", exp, want.Unix(), now.Unix())
	}
	if old["text"].(*types.AttributeValueMemberS).Value != "hello" || old[platform.AttrPK] != item[platform.AttrPK] {
		t.Error("the expired version lost other attributes")
	}

	bare, ok := transform(item, c, noTTL, policy)
	if !ok {
		t.Fatal("a message could not lose its TTL")
	}
	if _, has := bare[platform.AttrExpiresAt]; has {
		t.Error("the TTL-less version has an expiresAt")
	}
	if len(bare) != len(item)-1 || bare["sentAt"] != item["sentAt"] {
		t.Error("the TTL-less version changed more than its expiresAt")
	}

	if got := item[platform.AttrExpiresAt].(*types.AttributeValueMemberN).Value; got != seeded {
		t.Errorf("the seeded item was changed: expiresAt %s, was %s", got, seeded)
	}
	if item["sentAt"].(*types.AttributeValueMemberS).Value == old["sentAt"].(*types.AttributeValueMemberS).Value {
		t.Error("the seeded item's anchor was changed")
	}

	pay := platform.Payment{AccountID: "a1", ID: "p1", PaidAt: now.AddDate(-1, 0, 0), Currency: "RUB"}
	pitem, err := platform.Encode(pay, policy)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := transform(pitem, datamap.MustLookup(datamap.Payment), expired, policy); ok {
		t.Error("a payment (5-year rule) was made expired")
	}
	noAnchor := map[string]types.AttributeValue{platform.AttrPK: item[platform.AttrPK]}
	if _, ok := transform(noAnchor, c, noTTL, policy); ok {
		t.Error("an item without its anchor was changed")
	}
}

// mark finds the same items in the generator's output every time, only of 13-month categories,
// with the S3 objects of the expired ones.
func TestMarkOnGeneratedData(t *testing.T) {
	opts := seed.Options{Seed: 7, Now: now, Size: seed.SizeForMessages(20_000)}
	store := platform.NewStore(nil, platform.Tables{datamap.PlatformTable: "p", datamap.LedgerTable: "l", datamap.AnalyticsTable: "a"},
		policy, func() time.Time { return now })
	specials, objects, per, err := mark(store, opts, 0.05, 0.02)
	if err != nil {
		t.Fatal(err)
	}
	again, _, _, err := mark(store, opts, 0.05, 0.02)
	if err != nil {
		t.Fatal(err)
	}
	if len(specials) == 0 || len(specials) != len(again) {
		t.Fatalf("%d special items, then %d", len(specials), len(again))
	}
	var n [2]int64
	for _, s := range specials {
		if c := datamap.MustLookup(s.category); c.Retention.Kind != datamap.Personal13Months {
			t.Errorf("a %s item (%s) was picked", s.category, c.Retention.Kind)
		}
		n[s.kind-1]++
	}
	var sum [2]int64
	for _, v := range per {
		sum[0] += v[0]
		sum[1] += v[1]
	}
	if sum != n {
		t.Errorf("per-category counts %v, items %v", sum, n)
	}
	if n[0] == 0 || n[1] == 0 || n[0] < n[1] {
		t.Errorf("%d expired, %d TTL-less: want both, more expired", n[0], n[1])
	}
	d := dataset{specials: specials}
	if d.count(expired) != n[0] || d.count(noTTL) != n[1] {
		t.Error("dataset.count disagrees")
	}
	if len(objects) == 0 {
		t.Error("no expired item had S3 objects (inbox attachments): the sweep's S3 path is not exercised")
	}
}

func TestTuneHitsTheTarget(t *testing.T) {
	opts := seed.Options{Seed: 5, Now: now}
	for _, target := range []int64{3_000, 10_000, 100_000} {
		n, err := tune(opts, target)
		if err != nil {
			t.Fatal(err)
		}
		opts.Size = seed.SizeForMessages(n)
		m, err := seed.Generate(opts, func(platform.Record) error { return nil }, func(seed.Object) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		if got := scannedItems(m); abs(got-target)*100 > target*2 {
			t.Errorf("target %d: %d messages give %d scanned items, more than 2%% off", target, n, got)
		}
	}
}

func TestLabel(t *testing.T) {
	for n, want := range map[int64]string{10_000: "10k", 100_000: "100k", 1_000_000: "1m", 1_500: "1500"} {
		if got := label(n); got != want {
			t.Errorf("label(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestSmallRun runs the whole benchmark on two small tables: every sweep deletes and repairs exactly
// the prepared items, every raw scan reads the seeded count, and the figures and section come out.
func TestSmallRun(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds and sweeps tables on DynamoDB Local")
	}
	path, err := samtemplate.Find()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := samtemplate.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 3)
	rand.Read(id)
	env := &bench.Env{Stack: testenv.Stack(t), Template: tmpl, Results: bench.NewResults(), OutDir: t.TempDir(),
		RunID: hex.EncodeToString(id), Log: logWriter{t}}
	b := Benchmark(Options{Sizes: []int64{1_500, 3_000}, Repeats: 2, ExpiredShare: 0.03, NoTTLShare: 0.02})
	s, err := b.Run(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"sweep_items_1500", "sweep_items_3k", "sweep_expired_3k", "sweep_no_ttl_3k", "sweep_deleted_3k",
		"sweep_repaired_3k", "sweep_vs_scan_ratio", "sweep_growth_ratio", "sweep_raw_items_per_s_3k", "sweep_items_per_s_3k",
		"sweep_vs_scan_and_writes_ratio", "sweep_raw_writes_items_per_s_3k", "sweep_vs_scan_and_writes_ratio_3k"} {
		if v, ok := env.Results.Number(name); !ok || v <= 0 {
			t.Errorf("figure %s = %v, %v; want a positive number", name, v, ok)
		}
	}
	if d, _ := env.Results.Number("sweep_deleted_3k"); d != mustNumber(t, env.Results, "sweep_expired_3k") {
		t.Errorf("deleted %v, expired %v", d, mustNumber(t, env.Results, "sweep_expired_3k"))
	}
	// The baseline made the same writes as the sweep, one request each.
	if d, _ := env.Results.Number("sweep_raw_writes_deleteitem_calls_3k"); d != mustNumber(t, env.Results, "sweep_expired_3k") {
		t.Errorf("the raw loop sent %v DeleteItem, expired %v", d, mustNumber(t, env.Results, "sweep_expired_3k"))
	}
	if u, _ := env.Results.Number("sweep_raw_writes_updateitem_calls_3k"); u != mustNumber(t, env.Results, "sweep_no_ttl_3k") {
		t.Errorf("the raw loop sent %v UpdateItem, TTL-less %v", u, mustNumber(t, env.Results, "sweep_no_ttl_3k"))
	}
	if n, _ := env.Results.Number("sweep_repeats_3k"); n != 2 {
		t.Errorf("%v repeats, want 2", n)
	}
	// Capacity (capacity.go): the metered sweep deleted what was expired, charged at least the
	// documented minimum, and its reads per item scanned are those of a plain Scan or more.
	for _, name := range []string{"sweep_capacity_write_vs_min_ratio", "sweep_capacity_read_vs_scan_ratio",
		"sweep_capacity_wcu_per_deleted", "sweep_capacity_rcu_per_scanned", "sweep_capacity_mean_item_bytes"} {
		if v, ok := env.Results.Number(name); !ok || v <= 0 {
			t.Errorf("figure %s = %v, %v; want a positive number", name, v, ok)
		}
	}
	if v := mustNumber(t, env.Results, "sweep_capacity_write_vs_min_ratio"); v < 1 {
		t.Errorf("sweep writes ÷ minimum = %v, below the minimum", v)
	}
	if v := mustNumber(t, env.Results, "sweep_capacity_read_vs_scan_ratio"); v < 0.99 {
		t.Errorf("sweep reads ÷ plain Scan = %v: the sweep reads every item a Scan does", v)
	}
	if len(s.Targets) != len(targets)+len(capacityTargets) || len(s.Tables) != 4 || s.Reading == "" {
		t.Errorf("incomplete section: %d targets, %d tables, reading %q", len(s.Targets), len(s.Tables), s.Reading)
	}
}

func mustNumber(t *testing.T, r *bench.Results, name string) float64 {
	t.Helper()
	v, ok := r.Number(name)
	if !ok {
		t.Fatalf("no figure %s", name)
	}
	return v
}

type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
