// Package ledger is the request ledger: every deletion request with its scope, status and
// timestamped history, deadlines, execution, progress and evidence reference, and the legal holds
// that pause deletions. Status changes are conditional writes, so two actors racing on one request
// (a cancel against the start of a hard delete) have exactly one winner.
package ledger

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/lerr"
	"github.com/lethe-dev/lethe/internal/obs"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
)

// Errors callers branch on.
var (
	ErrNotFound = lerr.New(lerr.ENOTFOUND, "request not found").Tell("no such deletion request")
	// ErrExists is EINTERNAL: callers that create idempotently handle it; met unhandled, it is an id
	// collision of Lethe's own.
	ErrExists = lerr.New(lerr.EINTERNAL, "request already exists")
	// ErrConflict: the request is not in a status the change may start from (someone else won);
	// the domain's refusals (request.TransitionError) name it too.
	ErrConflict = request.ErrConflict
)

// DB is the part of the DynamoDB client the ledger uses; *dynamodb.Client satisfies it.
type DB interface {
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	// Scan finds the legal holds recorded before the all-holds index (once; see indexHolds).
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// Ledger reads and writes requests and holds in the ledger table.
type Ledger struct {
	db     DB
	table  string
	policy datamap.Policy
	now    func() time.Time
}

// New builds a ledger over the ledger table.
func New(db DB, table string, policy datamap.Policy, now func() time.Time) *Ledger {
	if now == nil {
		now = time.Now
	}
	return &Ledger{db: db, table: table, policy: policy, now: now}
}

// Now is the ledger's clock.
func (l *Ledger) Now() time.Time { return l.now() }

func key(id string) (map[string]types.AttributeValue, bool) {
	return recordKey(datamap.DeletionRequest, map[string]string{"request": id})
}

// recordKey is the primary key of a ledger record of a data-map category: the category's patterns
// filled with vars (datamap.Fill). A value that would leave a hole (an empty id) names no record:
// ok is false, and a read answers as for a record that does not exist.
func recordKey(category string, vars map[string]string) (key map[string]types.AttributeValue, ok bool) {
	c := datamap.MustLookup(category)
	pk, err := c.Partition("", vars)
	if err != nil {
		return nil, false
	}
	sk, err := c.SortKey(vars)
	if err != nil {
		return nil, false
	}
	return platform.Key{PK: pk, SK: sk}.Attributes(), true
}

// indexPartition is the partition of a category's index for vars; ok is false when a value would
// leave a hole, a partition no record is in.
func indexPartition(category, index string, vars map[string]string) (string, bool) {
	p, err := datamap.MustLookup(category).Partition(index, vars)
	return p, err == nil
}

// Create records a new request in status r.Status (received if empty). A request id that exists is
// ErrExists, so an intake delivered twice makes one request.
func (l *Ledger) Create(ctx context.Context, r request.Request) (request.Request, error) {
	r, item, err := l.prepare(r)
	if err != nil {
		return request.Request{}, err
	}
	_, err = l.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &l.table, Item: item,
		ConditionExpression: aws.String("attribute_not_exists(pk)")})
	var cf *types.ConditionalCheckFailedException
	if errors.As(err, &cf) {
		return request.Request{}, ErrExists
	}
	if err != nil {
		return request.Request{}, fmt.Errorf("create request: %w", err)
	}
	created(r)
	return r, nil
}

// created counts a new request (CloudWatch: Lethe/RequestsCreated by kind and source).
func created(r request.Request) {
	obs.Counter("RequestsCreated", 1, map[string]string{"Kind": string(r.Kind), "Source": sourceDimension(r.Source)})
}

// sourceDimension keeps a source's kind ("webhook:telegram", "email"), never anything after a
// second colon.
func sourceDimension(s string) string {
	if i := strings.Index(s, ":"); i >= 0 {
		if j := strings.Index(s[i+1:], ":"); j >= 0 {
			return s[:i+1+j]
		}
	}
	return s
}

// prepare fills a new request's defaults and encodes it.
func (l *Ledger) prepare(r request.Request) (request.Request, map[string]types.AttributeValue, error) {
	now := l.now().UTC()
	if r.ID == "" || r.AccountID == "" && r.Kind != request.KindChannelIdentity {
		return request.Request{}, nil, errors.New("a request needs an id and an account")
	}
	if r.Status == "" {
		r.Status = request.StatusReceived
	}
	r.CreatedAt, r.UpdatedAt, r.Version = now, now, 1
	if r.AccountID == "" {
		r.AccountID = "-" // platform-wide (a Meta identity spans accounts)
	}
	if len(r.History) == 0 {
		r.History = []request.Event{{At: now, Status: r.Status, Actor: r.Source}}
	}
	item, err := platform.Encode(r, l.policy)
	return r, item, err
}

// Get reads a request.
func (l *Ledger) Get(ctx context.Context, id string) (request.Request, error) {
	k, ok := key(id)
	if !ok {
		return request.Request{}, ErrNotFound
	}
	out, err := l.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &l.table, Key: k, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return request.Request{}, fmt.Errorf("get request: %w", err)
	}
	if out.Item == nil {
		return request.Request{}, ErrNotFound
	}
	return platform.Decode[request.Request](out.Item)
}

// Update applies change to the current request and writes it back only if nobody else wrote it in
// between (optimistic concurrency on Version); change returns an error to refuse, and a status
// changes only through the request's transition methods (request.Request.Cancel …) called in
// change. It retries when it loses a race and change still accepts the newer state.
func (l *Ledger) Update(ctx context.Context, id string, change func(*request.Request) error) (request.Request, error) {
	for attempt := 0; ; attempt++ {
		r, err := l.Get(ctx, id)
		if err != nil {
			return request.Request{}, err
		}
		prev := r.Version
		if err := change(&r); err != nil {
			return request.Request{}, err
		}
		r.Version = prev + 1
		r.UpdatedAt = l.now().UTC()
		if r.Status.Closed() && r.ClosedAt == nil {
			t := r.UpdatedAt
			r.ClosedAt = &t
		}
		item, err := platform.Encode(r, l.policy)
		if err != nil {
			return request.Request{}, err
		}
		_, err = l.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &l.table, Item: item,
			ConditionExpression:       aws.String("version = :v"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(prev, 10)}}})
		var cf *types.ConditionalCheckFailedException
		if errors.As(err, &cf) {
			if attempt >= 20 {
				return request.Request{}, fmt.Errorf("update request %s: %w", id, ErrConflict)
			}
			continue // someone else wrote: re-read and ask change again
		}
		if err != nil {
			return request.Request{}, fmt.Errorf("update request: %w", err)
		}
		return r, nil
	}
}

// Note appends a history entry without changing the status (progress, hold actions …).
func (l *Ledger) Note(ctx context.Context, id, actor, note string) (request.Request, error) {
	return l.Update(ctx, id, func(r *request.Request) error {
		r.History = append(r.History, request.Event{At: l.now().UTC(), Status: r.Status, Actor: actor, Note: note})
		return nil
	})
}

// ByAccount lists an account's requests, newest first, one page at a time. cursor is "" for the
// first page or a cursor ByAccount (or CursorAfter) gave out for this account; next is "" after
// the last page. Another account's cursor, or a tampered one, is platform.ErrBadCursor.
func (l *Ledger) ByAccount(ctx context.Context, accountID string, limit int32, cursor string) ([]request.Request, string, error) {
	part, err := accountPartition(accountID)
	if err != nil {
		return nil, "", err
	}
	cur, err := platform.DecodeCursor(cursor, part)
	if err != nil {
		return nil, "", err
	}
	in := &dynamodb.QueryInput{TableName: &l.table, IndexName: aws.String("GSI1"),
		KeyConditionExpression:    aws.String("gsi1pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: part}},
		ScanIndexForward:          aws.Bool(false)}
	if cur.After != "" {
		id := cur.After[strings.LastIndexByte(cur.After, '#')+1:]
		start, ok := key(id)
		if !ok || id == cur.After {
			return nil, "", platform.ErrBadCursor
		}
		in.ExclusiveStartKey = start
		in.ExclusiveStartKey["gsi1pk"] = &types.AttributeValueMemberS{Value: part}
		in.ExclusiveStartKey["gsi1sk"] = &types.AttributeValueMemberS{Value: cur.After}
	}
	if limit > 0 {
		in.Limit = aws.Int32(limit)
	}
	out, err := l.db.Query(ctx, in)
	if err != nil {
		return nil, "", fmt.Errorf("list requests: %w", err)
	}
	var rs []request.Request
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &rs); err != nil {
		return nil, "", err
	}
	next := ""
	if out.LastEvaluatedKey != nil {
		next = platform.Cursor{Partition: part, After: platform.AttrString(out.LastEvaluatedKey["gsi1sk"])}.Encode()
	}
	return rs, next, nil
}

// CursorAfter is the ByAccount cursor whose page starts after r: for a caller that shows fewer
// requests than a page read.
func CursorAfter(r request.Request) string {
	part, err := accountPartition(r.AccountID)
	if err != nil {
		return ""
	}
	ix, _ := datamap.MustLookup(datamap.DeletionRequest).Index("GSI1")
	after, err := datamap.Fill(ix.SK, map[string]string{"createdAt": r.CreatedAt.UTC().Format(platform.KeyTime), "request": r.ID})
	if err != nil {
		return ""
	}
	return platform.Cursor{Partition: part, After: after}.Encode()
}

// accountPartition is the GSI1 partition of an account's requests.
func accountPartition(accountID string) (string, error) {
	return datamap.MustLookup(datamap.DeletionRequest).Partition("GSI1", map[string]string{"account": accountID})
}

// ByStatus lists every request in a status (GSI2), oldest change first.
func (l *Ledger) ByStatus(ctx context.Context, s request.Status) ([]request.Request, error) {
	return l.ByStatusSince(ctx, s, time.Time{})
}

// ByStatusSince lists the requests in a status last changed at or after since (GSI2 sorts by the
// time of the last change), oldest change first: the recent part of a status that only grows, such
// as completed.
func (l *Ledger) ByStatusSince(ctx context.Context, s request.Status, since time.Time) ([]request.Request, error) {
	var all []request.Request
	part, ok := indexPartition(datamap.DeletionRequest, "GSI2", map[string]string{"status": string(s)})
	if !ok {
		return nil, nil // no request has an empty status
	}
	in := &dynamodb.QueryInput{TableName: &l.table, IndexName: aws.String("GSI2"),
		KeyConditionExpression:    aws.String("gsi2pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: part}}}
	if !since.IsZero() {
		in.KeyConditionExpression = aws.String("gsi2pk = :p AND gsi2sk >= :since")
		in.ExpressionAttributeValues[":since"] = &types.AttributeValueMemberS{Value: since.UTC().Format(platform.KeyTime)}
	}
	for {
		out, err := l.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list %s requests: %w", s, err)
		}
		var rs []request.Request
		if err := attributevalue.UnmarshalListOfMaps(out.Items, &rs); err != nil {
			return nil, err
		}
		all = append(all, rs...)
		if out.LastEvaluatedKey == nil {
			return all, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}
