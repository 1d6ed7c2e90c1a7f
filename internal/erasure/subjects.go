package erasure

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"

	"github.com/lethe-dev/lethe/internal/bulkwrite"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
)

// subject is one end user to delete.
type subject struct{ AccountID, BotID, EndUserID string }

type sourcesFn func(ctx context.Context, s *slice) ([]string, error)
type listFn func(ctx context.Context, s *slice, source string, start map[string]types.AttributeValue) ([]subject, map[string]types.AttributeValue, error)

// users deletes the end users a scope reaches, many at once, page after page of its sources, until
// the sources are exhausted or the slice's budget is.
func users(sources sourcesFn, list listFn) func(context.Context, *slice) (bool, error) {
	return func(ctx context.Context, s *slice) (bool, error) {
		if s.cp.Sources == nil {
			ids, err := sources(ctx, s)
			if err != nil {
				return false, err
			}
			s.cp.Sources = append([]string{}, ids...)
		}
		g, gctx := errgroup.WithContext(ctx)
		work := make(chan subject)
		for range s.e.opts.Subjects {
			g.Go(func() error {
				for u := range work {
					if err := s.deleteSubject(gctx, u); err != nil {
						return fmt.Errorf("end user %s: %w", u.EndUserID, err)
					}
				}
				return nil
			})
		}
		finished, listErr := false, error(nil)
	produce:
		for {
			if s.cp.Source >= len(s.cp.Sources) {
				finished = true
				break
			}
			if s.exhausted() {
				break
			}
			page, next, err := list(gctx, s, s.cp.Sources[s.cp.Source], platform.PositionFrom(s.cp.Cursor))
			if err != nil {
				listErr = err
				break
			}
			for _, u := range page {
				select {
				case work <- u:
				case <-gctx.Done():
					break produce
				}
			}
			if next == nil {
				s.cp.Source++
				s.cp.Cursor = nil
			} else {
				s.cp.Cursor = platform.PositionStrings(next)
			}
		}
		close(work)
		if err := g.Wait(); err != nil {
			return false, err
		}
		return finished, listErr
	}
}

// deleteSubject destroys one end user, children before parents: messages, inbox messages and
// objects first; then the rest of their partition; the profile (by which every scope finds them)
// last.
func (s *slice) deleteSubject(ctx context.Context, u subject) error {
	held, err := s.held(ctx, u.AccountID, u.BotID, u.EndUserID)
	if err != nil {
		return fmt.Errorf("read holds: %w", err)
	}
	if held {
		s.mu.Lock()
		s.cp.HeldSubjects++
		s.mu.Unlock()
		return nil
	}
	st := s.e.store
	var items []map[string]types.AttributeValue
	pk, ok := partition(datamap.EndUserProfile, "", map[string]string{"endUser": u.EndUserID})
	if !ok {
		return nil // no end user id: reaches nothing
	}
	if err := st.EachItem(ctx, platform.QuerySpec{Logical: datamap.PlatformTable, PK: pk, IncludeExpired: true,
		Projection: subjectAttrs}, func(it map[string]types.AttributeValue) error {
		items = append(items, it)
		return nil
	}); err != nil {
		return fmt.Errorf("list items: %w", err)
	}
	var children sync.WaitGroup
	for _, it := range items {
		if platform.AttrString(it[platform.AttrCategory]) != datamap.Conversation {
			continue
		}
		messages, ok := partition(datamap.Message, "", map[string]string{"conversation": platform.AttrString(it["conversationId"])})
		if !ok {
			continue
		}
		// Keys only: a message's text is not needed to destroy it.
		err := st.EachItem(ctx, platform.QuerySpec{Logical: datamap.PlatformTable, PK: messages, IncludeExpired: true,
			Projection: []string{}}, func(m map[string]types.AttributeValue) error {
			return s.send(ctx, datamap.Message, s.keyOfItem(datamap.PlatformTable, m), &children)
		})
		if err != nil {
			return fmt.Errorf("delete messages of conversation %s: %w", platform.AttrString(it["conversationId"]), err)
		}
	}
	inbox, _ := partition(datamap.InboxMessage, "GSI2", map[string]string{"endUser": u.EndUserID})
	err = st.EachItem(ctx, platform.QuerySpec{Logical: datamap.PlatformTable, Index: "GSI2", PK: inbox, IncludeExpired: true,
		Projection: []string{"endUserId"}}, func(m map[string]types.AttributeValue) error {
		return s.send(ctx, datamap.InboxMessage, s.keyOfItem(datamap.PlatformTable, m), &children)
	})
	if err != nil {
		return fmt.Errorf("delete inbox messages: %w", err)
	}
	// Files are leaves nothing leads from: when the scope ends by deleting the whole account's or
	// bot's prefix (nothing held), they go then, without listing every end user's prefix now.
	filesLast, err := s.filesGoLast(ctx)
	if err != nil {
		return fmt.Errorf("read the account's holds: %w", err)
	}
	if !filesLast {
		if err := s.deletePrefix(ctx, "accounts/"+u.AccountID+"/bots/"+u.BotID+"/users/"+u.EndUserID+"/"); err != nil {
			return fmt.Errorf("delete files: %w", err)
		}
	}
	if err := wait(ctx, &children); err != nil {
		return fmt.Errorf("delete messages and inbox messages: %w", err)
	}
	var rest sync.WaitGroup
	var profile map[string]types.AttributeValue
	for _, it := range items {
		cat := platform.AttrString(it[platform.AttrCategory])
		if err := assertDeletable(cat); err != nil {
			return err
		}
		if cat == datamap.EndUserProfile {
			profile = it
			continue
		}
		if err := s.send(ctx, cat, s.keyOfItem(datamap.PlatformTable, it), &rest); err != nil {
			return fmt.Errorf("delete %s: %w", cat, err)
		}
	}
	if err := wait(ctx, &rest); err != nil {
		return fmt.Errorf("delete the rest of the partition: %w", err)
	}
	if profile == nil {
		return nil
	}
	var last sync.WaitGroup
	if err := s.send(ctx, datamap.EndUserProfile, s.keyOfItem(datamap.PlatformTable, profile), &last, profile); err != nil {
		return fmt.Errorf("delete the profile: %w", err)
	}
	return wait(ctx, &last)
}

// filesGoLast reports whether the scope's last stages delete every object under the account's or
// bot's prefix: an account or bot scope of an account with no active hold. A failed read of the
// holds fails the slice, as everywhere else.
func (s *slice) filesGoLast(ctx context.Context) (bool, error) {
	if s.ref.Kind != datamap.ScopeAccount && s.ref.Kind != datamap.ScopeBot {
		return false, nil
	}
	hs, err := s.activeHolds(ctx, s.ref.AccountID)
	if err != nil {
		return false, err
	}
	return len(hs) == 0, nil
}

// objects deletes every object under a prefix, up to 1000 per step.
func objects(prefix func(context.Context, *slice) (string, bool, error)) func(context.Context, *slice) (bool, error) {
	return func(ctx context.Context, s *slice) (bool, error) {
		p, ok, err := prefix(ctx, s)
		if err != nil || !ok {
			return err == nil, err
		}
		n, err := s.deletePage(ctx, p)
		return n == 0, err
	}
}

// deletePrefix deletes every object under prefix in the files bucket.
func (s *slice) deletePrefix(ctx context.Context, prefix string) error {
	for {
		n, err := s.deletePage(ctx, prefix)
		if err != nil || n == 0 {
			return err
		}
	}
}

// deletePage lists up to 1000 objects under prefix and deletes them with one DeleteObjects call,
// retrying the keys S3 reports as failed with backoff. It returns how many it found. In the
// versioned bucket this leaves noncurrent versions, which the lifecycle rule expires within 30 days
// (backup rotation).
func (s *slice) deletePage(ctx context.Context, prefix string) (int, error) {
	if prefix == "" || prefix[len(prefix)-1] != '/' {
		return 0, fmt.Errorf("refusing to delete under prefix %q", prefix)
	}
	if s.dry {
		return 0, nil // a count is of items, not of objects
	}
	bucket := s.e.buckets[datamap.FilesBucket]
	out, err := s.e.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix, MaxKeys: aws.Int32(1000)})
	if err != nil {
		return 0, fmt.Errorf("list %s: %w", prefix, err)
	}
	if len(out.Contents) == 0 {
		return 0, nil
	}
	ids := make([]s3types.ObjectIdentifier, 0, len(out.Contents))
	for _, o := range out.Contents {
		ids = append(ids, s3types.ObjectIdentifier{Key: o.Key})
	}
	var lastErr error
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	for attempt := 0; len(ids) > 0; attempt++ {
		if attempt > 0 {
			if attempt >= s.e.opts.S3Retries {
				return 0, fmt.Errorf("delete objects under %s: %d keys still failing: %w", prefix, len(ids), lastErr)
			}
			if err := bulkwrite.Sleep(ctx, bulkwrite.Backoff(rng, attempt, s.e.opts.RetryBase, s.e.opts.RetryMaxGap)); err != nil {
				return 0, err
			}
		}
		res, err := s.e.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &bucket, Delete: &s3types.Delete{Objects: ids}})
		if err != nil {
			lastErr = err
			continue // the whole call failed (throttled, 5xx): retry it
		}
		s.objects.Add(int64(len(res.Deleted)))
		failed := map[string]bool{}
		for _, e := range res.Errors {
			failed[aws.ToString(e.Key)] = true
			lastErr = fmt.Errorf("%s: %s", aws.ToString(e.Code), aws.ToString(e.Message))
		}
		next := ids[:0]
		for _, id := range ids {
			if failed[aws.ToString(id.Key)] {
				next = append(next, id)
			}
		}
		ids = next
	}
	return len(out.Contents), nil
}

// Sources and listings of end users for each scope.

func accountBots(ctx context.Context, s *slice) ([]string, error) {
	bots, err := s.e.store.Bots(ctx, s.ref.AccountID)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(bots))
	for _, b := range bots {
		ids = append(ids, b.ID)
	}
	sort.Strings(ids)
	return ids, nil
}

func oneBot(ctx context.Context, s *slice) ([]string, error) {
	if _, err := s.e.store.Bot(ctx, s.ref.AccountID, s.ref.BotID); err != nil {
		return []string{}, ignoreNotFound(err) // not this account's bot: reaches nothing
	}
	return []string{s.ref.BotID}, nil
}

func filterBots(ctx context.Context, s *slice) ([]string, error) {
	if s.ref.BotID != "" {
		return oneBot(ctx, s)
	}
	return accountBots(ctx, s)
}

func botEndUsers(ctx context.Context, s *slice, bot string, start map[string]types.AttributeValue) ([]subject, map[string]types.AttributeValue, error) {
	pk, ok := partition(datamap.EndUserProfile, "GSI1", map[string]string{"bot": bot})
	if !ok {
		return nil, nil, nil
	}
	q := platform.QuerySpec{Logical: datamap.PlatformTable, Index: "GSI1", PK: pk, Limit: s.e.opts.PageSize, Start: start,
		IncludeExpired: true, Projection: listAttrs}
	if s.ref.Kind == datamap.ScopeEndUserFilter {
		q.SKFrom = s.ref.From.UTC().Format(platform.KeyTime)
		q.SKTo = s.ref.To.UTC().Format(platform.KeyTime) + "#\U0010FFFF"
	}
	return s.listed(ctx, q)
}

// Attributes the engine reads: enough to find, authorize and name what it deletes, no more.
var (
	listAttrs    = []string{"accountId", "botId", "endUserId"}
	subjectAttrs = []string{"accountId", "botId", "endUserId", "conversationId", "displayName", "channel"}
)

// listed runs one page of a listing of end users and keeps those of the scope's account.
func (s *slice) listed(ctx context.Context, q platform.QuerySpec) ([]subject, map[string]types.AttributeValue, error) {
	items, next, err := s.e.store.QueryItems(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	var out []subject
	for _, it := range items {
		if s.ref.AccountID != "" && platform.AttrString(it["accountId"]) != s.ref.AccountID {
			continue
		}
		out = append(out, subject{platform.AttrString(it["accountId"]), platform.AttrString(it["botId"]), platform.AttrString(it["endUserId"])})
	}
	return out, next, nil
}

func oneConnection(ctx context.Context, s *slice) ([]string, error) {
	c, err := s.e.store.Connection(ctx, s.ref.ConnectionID)
	if err != nil || c.AccountID != s.ref.AccountID {
		return []string{}, ignoreNotFound(err)
	}
	return []string{c.ID}, nil
}

func connectionEndUsers(ctx context.Context, s *slice, conn string, start map[string]types.AttributeValue) ([]subject, map[string]types.AttributeValue, error) {
	pk, ok := partition(datamap.EndUserProfile, "GSI2", map[string]string{"connection": conn})
	if !ok {
		return nil, nil, nil
	}
	return s.listed(ctx, platform.QuerySpec{Logical: datamap.PlatformTable, Index: "GSI2", PK: pk, Limit: s.e.opts.PageSize,
		Start: start, IncludeExpired: true, Projection: listAttrs})
}

func oneEndUser(context.Context, *slice) ([]string, error) { return []string{"end user"}, nil }

func singleEndUser(ctx context.Context, s *slice, _ string, _ map[string]types.AttributeValue) ([]subject, map[string]types.AttributeValue, error) {
	u, ok, err := s.getItem(ctx, datamap.EndUserProfile, map[string]string{"endUser": s.ref.EndUserID})
	if err != nil || !ok || platform.AttrString(u["accountId"]) != s.ref.AccountID || (s.ref.BotID != "" && platform.AttrString(u["botId"]) != s.ref.BotID) {
		return nil, nil, err
	}
	return []subject{{platform.AttrString(u["accountId"]), platform.AttrString(u["botId"]), s.ref.EndUserID}}, nil, nil
}

// getItem reads the item of a category that vars name, whether or not its TTL has passed (still
// stored: still to destroy). A missing id reaches nothing.
func (s *slice) getItem(ctx context.Context, category string, vars map[string]string) (map[string]types.AttributeValue, bool, error) {
	k, ok := s.e.key(category, vars)
	if !ok {
		return nil, false, nil
	}
	out, err := s.e.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &k.Table, Key: k.Attributes(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, false, err
	}
	return out.Item, out.Item != nil, nil
}

func oneIdentity(context.Context, *slice) ([]string, error) { return []string{"identity"}, nil }

func identityEndUsers(ctx context.Context, s *slice, _ string, start map[string]types.AttributeValue) ([]subject, map[string]types.AttributeValue, error) {
	pk, ok := partition(datamap.ChannelIdentity, "GSI1", map[string]string{"channel": s.ref.Channel, "externalId": s.ref.ExternalID})
	if !ok {
		return nil, nil, nil
	}
	return s.listed(ctx, platform.QuerySpec{Logical: datamap.PlatformTable, Index: "GSI1", PK: pk,
		Limit: s.e.opts.PageSize, Start: start, IncludeExpired: true, Projection: listAttrs})
}
