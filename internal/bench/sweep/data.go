package sweep

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/lethe-dev/lethe/internal/bulkwrite"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/retention"
	"github.com/lethe-dev/lethe/internal/seed"
)

// kind is what the benchmark makes of one seeded item.
type kind int

const (
	// live: left as seed.Write stored it, within its retention with the TTL its rule gives.
	live kind = iota
	// expired: its retention anchor moved 14 months back and its TTL recomputed from it, so both
	// have passed: an item past retention that DynamoDB's TTL has not removed yet. The sweep deletes it.
	expired
	// noTTL: its expiresAt removed. The sweep sets it again from the rule.
	noTTL
)

// markScale is the resolution of the fractions: an item is picked by a hash of its key modulo it.
const markScale = 1_000_000

// markOf decides, from a hash of the item's key alone, what a personal 13-month item becomes: the
// same key always gets the same answer, so every size and every re-seed picks the same items, and
// the picked ones are spread evenly over accounts, end users, categories and Scan segments.
func markOf(pk, sk string, expiredShare, noTTLShare float64) kind {
	h := fnv.New64a()
	h.Write([]byte(pk))
	h.Write([]byte{0})
	h.Write([]byte(sk))
	v := h.Sum64() % markScale
	switch {
	case v < uint64(expiredShare*markScale):
		return expired
	case v < uint64((expiredShare+noTTLShare)*markScale):
		return noTTL
	}
	return live
}

// eligible reports whether an item of the category can be made expired or TTL-less: personal data
// of the 13-month rule, which the sweep dates by its anchor.
func eligible(c datamap.Category) bool {
	return c.Personal && c.Retention.Kind == datamap.Personal13Months && c.Retention.Anchor != ""
}

// anchorShift is how far an expired item's anchor is moved back: past 13 months from anything the
// generator writes (at most 360 days old).
const anchorShift = 14 // months

// transform returns a copy of a seeded item changed to k, or false when it cannot be (an item of
// another rule, or without a readable anchor): it then stays live.
func transform(item map[string]types.AttributeValue, c datamap.Category, k kind, p datamap.Policy) (map[string]types.AttributeValue, bool) {
	if k == live || !eligible(c) {
		return nil, false
	}
	a, ok := item[c.Retention.Anchor].(*types.AttributeValueMemberS)
	if !ok {
		return nil, false
	}
	anchor, err := time.Parse(time.RFC3339Nano, a.Value)
	if err != nil || anchor.IsZero() {
		return nil, false
	}
	out := make(map[string]types.AttributeValue, len(item))
	for name, v := range item {
		out[name] = v
	}
	switch k {
	case expired:
		old := anchor.AddDate(0, -anchorShift, 0)
		exp, ok := p.ExpiresAt(c, old)
		if !ok {
			return nil, false
		}
		out[c.Retention.Anchor] = &types.AttributeValueMemberS{Value: old.UTC().Format(time.RFC3339Nano)}
		out[platform.AttrExpiresAt] = &types.AttributeValueMemberN{Value: strconv.FormatInt(exp.Unix(), 10)}
	case noTTL:
		delete(out, platform.AttrExpiresAt)
	}
	return out, true
}

// special is one item the benchmark changed after seeding, as it was stored: what every sweep run
// deletes or repairs, and what is written back after each.
type special struct {
	kind     kind
	category string
	table    string
	item     map[string]types.AttributeValue
}

// dataset is one size's table contents: what seed.Write stored, then the special items written over
// their seeded versions.
type dataset struct {
	opts     seed.Options
	messages int64 // what seed.SizeForMessages was given
	records  int64 // records seeded (analytics included)
	scanned  int64 // items in the platform and ledger tables: what a scan of them reads
	objects  int64 // S3 objects seeded
	seeded   time.Duration
	specials []special
	// restore are the S3 objects of the expired items (the sweep deletes them with their items).
	restore []seed.Object
	// perCategory counts the special items by category and kind.
	perCategory map[string][2]int64 // [expired, noTTL]
}

func (d *dataset) count(k kind) int64 {
	var n int64
	for _, s := range d.specials {
		if s.kind == k {
			n++
		}
	}
	return n
}

// scannedItems counts what the generator puts in the tables the sweep scans.
func scannedItems(m seed.Manifest) int64 {
	var n int64
	for cat, c := range m.Counts {
		d, ok := datamap.Lookup(cat)
		if ok && (d.Location.Table == datamap.PlatformTable || d.Location.Table == datamap.LedgerTable) {
			n += c
		}
	}
	return n
}

// tune finds the message count whose data set puts about target items in the scanned tables, from
// the generator's own counts (generation without writing takes a fraction of a second per 100k).
// The generator's sizes move in steps (one more end user per bot adds a block of items), so a
// proportional step can circle a target it cannot hit exactly: tune returns the closest count it
// evaluated, never a guess it did not.
func tune(opts seed.Options, target int64) (int64, error) {
	n := max(target*3/4, 1)
	best, bestOff := n, int64(-1)
	for range 8 {
		opts.Size = seed.SizeForMessages(n)
		m, err := seed.Generate(opts, func(platform.Record) error { return nil }, func(seed.Object) error { return nil })
		if err != nil {
			return 0, err
		}
		got := scannedItems(m)
		if off := abs(got - target); bestOff < 0 || off < bestOff {
			best, bestOff = n, off
		}
		if got == 0 || abs(got-target)*200 < target { // within 0.5%
			break
		}
		next := max(n*target/got, 1)
		if next == n {
			break
		}
		n = next
	}
	return best, nil
}

func abs(v int64) int64 { return max(v, -v) }

// mark generates the data set again (the same bytes seed.Write stored) and picks the special items,
// changed as they are to be stored, with the S3 objects of the expired ones.
func mark(store *platform.Store, opts seed.Options, expiredShare, noTTLShare float64) ([]special, []seed.Object, map[string][2]int64, error) {
	var out []special
	per := map[string][2]int64{}
	objects := map[string]seed.Object{}
	p := store.Policy()
	_, err := seed.Generate(opts, func(r platform.Record) error {
		c, ok := datamap.Lookup(r.Category())
		if !ok || !eligible(c) {
			return nil
		}
		key, err := store.KeyOf(r)
		if err != nil {
			return err
		}
		k := markOf(key.PK, key.SK, expiredShare, noTTLShare)
		if k == live {
			return nil
		}
		item, err := platform.Encode(r, p)
		if err != nil {
			return err
		}
		changed, ok := transform(item, c, k, p)
		if !ok {
			return nil
		}
		out = append(out, special{kind: k, category: c.Name, table: key.Table, item: changed})
		n := per[c.Name]
		n[k-1]++
		per[c.Name] = n
		return nil
	}, func(o seed.Object) error {
		objects[o.Key] = o
		return nil
	})
	if err != nil {
		return nil, nil, nil, err
	}
	var restore []seed.Object
	for _, s := range out {
		if s.kind != expired {
			continue
		}
		for _, k := range retention.ObjectKeys(s.item) {
			o, ok := objects[k]
			if !ok {
				return nil, nil, nil, fmt.Errorf("%s item points at %s, which the generator did not write", s.category, k)
			}
			restore = append(restore, o)
		}
	}
	return out, restore, per, nil
}

// writeSpecials stores the special items (over their seeded versions, or again after a sweep
// deleted or repaired them) and the S3 objects of the expired ones.
func writeSpecials(ctx context.Context, store *platform.Store, s3c *s3.Client, buckets map[string]string, d *dataset) error {
	reqs := make([]bulkwrite.Request, len(d.specials))
	for i, s := range d.specials {
		reqs[i] = bulkwrite.Request{Table: s.table, Write: types.WriteRequest{PutRequest: &types.PutRequest{Item: s.item}}}
	}
	w := bulkwrite.Writer{DB: store.DB()}
	if _, err := w.WriteAll(ctx, reqs); err != nil {
		return fmt.Errorf("write the expired and TTL-less items: %w", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, o := range d.restore {
		bucket, ok := buckets[o.Bucket]
		if !ok {
			return fmt.Errorf("no physical name for bucket %s", o.Bucket)
		}
		g.Go(func() error {
			_, err := s3c.PutObject(gctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(o.Key),
				Body: bytes.NewReader(o.Body), ContentLength: aws.Int64(int64(len(o.Body))), ContentType: aws.String(o.ContentType)})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("write the expired items' objects: %w", err)
	}
	return nil
}
