package retention

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/platform"
)

// Placing a legal hold takes the TTL off every item it covers, so DynamoDB does not remove them;
// releasing it gives each item back the expiry its data-map rule gives (what is then past it goes
// with the next sweep). A scope can be large: the work goes in bounded batches over the scope's
// targets, resumable from the cursor kept on the hold, with its progress there too; the hold stays
// pending (ledger.PendingHolds) until its batches are done. Every sweep invocation continues the
// pending holds, and the CLI runs a hold's batches to the end when it places or releases it.

// AttrReleasedHold names, on an item given its TTL back, the hold that kept it: the act of its
// destruction names the hold.
const AttrReleasedHold = "releasedHold"

// DefaultHoldBatch is how many of a scope's targets one batch passes.
const DefaultHoldBatch = 500

// errBatchFull stops a scope's walk at the end of a batch.
var errBatchFull = errors.New("batch full")

// SettleHold makes one batch of at most limit targets of a hold's scope: the TTL taken off while the
// hold is active, given back once it is released. done: the hold's scope is all passed.
func (s *Sweep) SettleHold(ctx context.Context, holdID string, limit int) (done bool, err error) {
	if s.Store == nil {
		return false, errors.New("retention: no platform store to walk a hold's scope")
	}
	if limit <= 0 {
		limit = DefaultHoldBatch
	}
	h, err := s.Ledger.Hold(ctx, holdID)
	if err != nil {
		return false, err
	}
	released := h.ReleasedAt != nil
	if (released && h.TTLState == platform.HoldTTLRestored) || (!released && h.TTLState == platform.HoldTTLRemoved) {
		return true, s.Ledger.HoldTTLProgress(ctx, h.ID, released, h.TTLCursor, h.TTLItems, true)
	}
	var others []platform.LegalHold
	if released {
		// An item another active hold covers keeps no TTL.
		if others, err = s.Ledger.ActiveHolds(ctx, h.AccountID); err != nil {
			return false, err
		}
	}
	var pos, passed int64
	items := h.TTLItems
	walkErr := s.Store.Walk(ctx, holdScope(h), func(t platform.Target) error {
		pos++
		if pos <= h.TTLCursor {
			return nil
		}
		if passed == int64(limit) {
			return errBatchFull
		}
		passed++
		if t.IsObjects() {
			return s.holdObjectsTag(ctx, t, released, len(others) > 0)
		}
		changed, err := s.holdItemTTL(ctx, t.Key, h.ID, released, others)
		if changed {
			items++
		}
		return err
	})
	done = walkErr == nil
	if walkErr != nil && !errors.Is(walkErr, errBatchFull) {
		return false, fmt.Errorf("retention: hold %s: %w", h.ID, walkErr)
	}
	err = s.Ledger.HoldTTLProgress(ctx, h.ID, released, h.TTLCursor+passed, items, done)
	if errors.Is(err, ledger.ErrConflict) {
		return false, nil // released (or placed again) meanwhile: the next batch starts its new state
	}
	return done, err
}

// SettleHolds continues every pending hold until its scope is passed or the deadline comes.
func (s *Sweep) SettleHolds(ctx context.Context, deadline time.Time) error {
	ids, err := s.Ledger.PendingHolds(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		for {
			done, err := s.SettleHold(ctx, id, DefaultHoldBatch)
			if err != nil {
				return err
			}
			if done || (!deadline.IsZero() && time.Now().After(deadline)) {
				break
			}
		}
	}
	return nil
}

func holdScope(h platform.LegalHold) platform.ScopeRef {
	switch h.ScopeKind {
	case platform.HoldBot:
		return platform.ScopeRef{Kind: datamap.ScopeBot, AccountID: h.AccountID, BotID: h.ScopeID}
	case platform.HoldEndUser:
		return platform.ScopeRef{Kind: datamap.ScopeEndUser, AccountID: h.AccountID, EndUserID: h.ScopeID}
	}
	return platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: h.AccountID}
}

// holdItemTTL takes an item's TTL off, or gives it back from its data-map rule (unless another
// active hold covers it, or it has one again). changed: the item was written.
func (s *Sweep) holdItemTTL(ctx context.Context, key platform.Key, holdID string, released bool, others []platform.LegalHold) (bool, error) {
	table := aws.String(s.Tables[datamap.PlatformTable])
	names := map[string]string{"#pk": platform.AttrPK, "#exp": platform.AttrExpiresAt, "#h": AttrReleasedHold}
	var in *dynamodb.UpdateItemInput
	if !released {
		in = &dynamodb.UpdateItemInput{TableName: table, Key: key.Attributes(), UpdateExpression: aws.String("REMOVE #exp, #h"),
			ConditionExpression: aws.String("attribute_exists(#pk) AND attribute_exists(#exp)"), ExpressionAttributeNames: names}
	} else {
		out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: table, Key: key.Attributes(), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return false, err
		}
		it := out.Item
		if it == nil || it[platform.AttrExpiresAt] != nil || coveredBy(others, it) {
			return false, nil
		}
		c, ok := datamap.Lookup(platform.AttrString(it[platform.AttrCategory]))
		if !ok {
			return false, nil
		}
		anchor, _ := timeAttr(it, c.Retention.Anchor)
		exp, dated := s.Policy.ExpiresAt(c, anchor)
		if !dated {
			return false, nil // the sweep reports what cannot be dated
		}
		in = &dynamodb.UpdateItemInput{TableName: table, Key: key.Attributes(), UpdateExpression: aws.String("SET #exp = :e, #h = :h"),
			ConditionExpression: aws.String("attribute_exists(#pk) AND attribute_not_exists(#exp)"), ExpressionAttributeNames: names,
			ExpressionAttributeValues: map[string]types.AttributeValue{":e": &types.AttributeValueMemberN{Value: strconv.FormatInt(exp.Unix(), 10)},
				":h": &types.AttributeValueMemberS{Value: holdID}}}
	}
	_, err := s.DB.UpdateItem(ctx, in)
	var cf *types.ConditionalCheckFailedException
	if errors.As(err, &cf) {
		return false, nil
	}
	return err == nil, err
}

// holdObjectsTag sets the lifecycle tag of the objects under a hold's prefix: LifecycleHeld while
// the hold stands, so the lifecycle rule never expires them; back to what their category carries
// once it is released (kept held while another hold on the account stands: which of their objects
// that one covers is not told by the prefix). Other tags are kept.
func (s *Sweep) holdObjectsTag(ctx context.Context, t platform.Target, released, otherHolds bool) error {
	if released && otherHolds {
		return nil
	}
	bucket := s.Buckets[t.Bucket]
	if s.S3 == nil || bucket == "" {
		return fmt.Errorf("no bucket %s for %s", t.Bucket, t.Category)
	}
	want := datamap.LifecycleHeld
	if released {
		want = ""
		if c, ok := datamap.Lookup(t.Category); ok && c.ExpiresByLifecycle() {
			want = datamap.LifecycleExpires
		}
	}
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(t.Prefix)}
	for {
		page, err := s.S3.ListObjectsV2(ctx, in)
		if err != nil {
			return fmt.Errorf("list a hold's files: %w", err)
		}
		for _, o := range page.Contents {
			if err := s.setLifecycleTag(ctx, bucket, aws.ToString(o.Key), want); err != nil {
				return err
			}
		}
		if page.NextContinuationToken == nil {
			return nil
		}
		in.ContinuationToken = page.NextContinuationToken
	}
}

// setLifecycleTag sets (or, with "", removes) an object's lifecycle tag, keeping its other tags. A
// file deleted between the listing and the tagging (a deletion a released hold resumed) needs no tag.
func (s *Sweep) setLifecycleTag(ctx context.Context, bucket, key, value string) error {
	cur, err := s.S3.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if noSuchKey(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read a file's tags: %w", err)
	}
	tags := []s3types.Tag{} // S3 wants a tag set, empty or not
	for _, tg := range cur.TagSet {
		if aws.ToString(tg.Key) == datamap.LifecycleTagKey {
			if aws.ToString(tg.Value) == value {
				return nil
			}
			continue
		}
		tags = append(tags, tg)
	}
	if value == "" && len(tags) == len(cur.TagSet) {
		return nil
	}
	if value != "" {
		tags = append(tags, s3types.Tag{Key: aws.String(datamap.LifecycleTagKey), Value: aws.String(value)})
	}
	_, err = s.S3.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Tagging: &s3types.Tagging{TagSet: tags}})
	if noSuchKey(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("tag a file: %w", err)
	}
	return nil
}

// noSuchKey reports whether S3 answered that the object does not exist (not a modelled error of
// the tagging calls: its code says it).
func noSuchKey(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "NoSuchKey"
}
