package erasure

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/lerr"
	"github.com/lethe-dev/lethe/internal/platform"
)

// Remaining is what a verification pass still found in a scope, per category ("s3_objects" for
// files), outside legal holds.
type Remaining map[string]int64

// Empty reports whether nothing remains.
func (r Remaining) Empty() bool { return len(r) == 0 }

// ErrNotVerified is returned when a deletion reports done but the scope still holds data.
var ErrNotVerified = lerr.New(lerr.ENOTVERIFIED, "verification found data left in scope")

// Verify queries every category the scope reaches and counts what is still there, leaving out what
// an active legal hold covers. A deletion may report success only when it finds nothing.
func (e *Engine) Verify(ctx context.Context, ref platform.ScopeRef) (Remaining, error) {
	s := &slice{e: e, ref: ref, cp: &Checkpoint{}, holds: map[string][]platform.LegalHold{}}
	left := Remaining{}
	bucket := e.buckets[datamap.FilesBucket]
	err := e.store.Walk(ctx, ref, func(t platform.Target) error {
		if t.IsObjects() {
			out, err := e.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &t.Prefix, MaxKeys: aws.Int32(1000)})
			if err != nil {
				return fmt.Errorf("list objects: %w", err)
			}
			if n := len(out.Contents); n > 0 {
				held, err := e.prefixHeld(ctx, s, ref, t)
				if err != nil {
					return fmt.Errorf("read the holds over objects: %w", err)
				}
				if !held {
					left["s3_objects"] += int64(n)
				}
			}
			return nil
		}
		held, err := e.itemHeld(ctx, s, t)
		if err != nil {
			return fmt.Errorf("read the holds over a %s item: %w", t.Category, err)
		}
		if !held {
			left[t.Category]++
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("verify %s scope: %w", ref.Kind, err)
	}
	return left, nil
}

// itemHeld reads an item's owners and asks whether a hold covers them.
func (e *Engine) itemHeld(ctx context.Context, s *slice, t platform.Target) (bool, error) {
	out, err := e.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(t.Key.Table), Key: t.Key.Attributes(), ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		return false, err
	}
	acc, bot, eu := platform.AttrString(out.Item["accountId"]), platform.AttrString(out.Item["botId"]), platform.AttrString(out.Item["endUserId"])
	if t.Category == datamap.Bot || t.Category == datamap.ChannelConnection || t.Category == datamap.ConnectionKey {
		// Kept while they lead to held data, as the deletion keeps them.
		p, err := s.pathsToHeld(ctx, acc)
		if err != nil {
			return false, err
		}
		if t.Category == datamap.Bot && p.bots[bot] || (t.Category == datamap.ChannelConnection || t.Category == datamap.ConnectionKey) && p.conns[platform.AttrString(out.Item["connectionId"])] {
			return true, nil
		}
		eu = ""
	}
	return s.held(ctx, acc, bot, eu)
}

func (e *Engine) prefixHeld(ctx context.Context, s *slice, ref platform.ScopeRef, t platform.Target) (bool, error) {
	var acc, bot, eu string
	// accounts/{account}/bots/{bot}/users/{endUser}/…
	parts := splitPath(t.Prefix)
	if len(parts) >= 2 {
		acc = parts[1]
	}
	if len(parts) >= 4 && parts[2] == "bots" {
		bot = parts[3]
	}
	if len(parts) >= 6 && parts[4] == "users" {
		eu = parts[5]
	}
	if acc == "" {
		acc = ref.AccountID
	}
	return s.held(ctx, acc, bot, eu)
}

func splitPath(p string) []string {
	var out []string
	start := 0
	for i := 0; i < len(p); i++ {
		if p[i] == '/' {
			out = append(out, p[start:i])
			start = i + 1
		}
	}
	if start < len(p) {
		out = append(out, p[start:])
	}
	return out
}
