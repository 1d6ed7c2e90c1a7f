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
)

// Status is a request's state (SPEC §3).
type Status string

const (
	StatusReceived               Status = "received"
	StatusAwaitingVerification   Status = "awaiting_verification"
	StatusScheduled              Status = "scheduled"
	StatusSoftDeleted            Status = "soft_deleted"
	StatusCancelled              Status = "cancelled"
	StatusHardDeleting           Status = "hard_deleting"
	StatusAwaitingBackupRotation Status = "awaiting_backup_rotation"
	StatusCompleted              Status = "completed"
	StatusHeld                   Status = "held"
	StatusDeclined               Status = "declined"
	StatusFailed                 Status = "failed"
)

// Closed reports whether nothing more will happen to a request in this status.
func (s Status) Closed() bool {
	return s == StatusCompleted || s == StatusCancelled || s == StatusDeclined
}

// Kind is what a request asks for.
type Kind string

const (
	KindAccountDeletion    Kind = "account_deletion"
	KindBotDeletion        Kind = "bot_deletion"
	KindConnectionWipe     Kind = "connection_wipe"
	KindEndUserFilter      Kind = "end_user_filter"
	KindEndUserDeletion    Kind = "end_user_deletion"
	KindChannelIdentity    Kind = "channel_identity_deletion"
	KindInboxMessage       Kind = "inbox_message_deletion"
	KindActivityLogs       Kind = "activity_log_deletion"
	KindEndCustomerRequest Kind = "end_customer_request"
)

// Kinds lists every request kind.
var Kinds = []Kind{KindAccountDeletion, KindBotDeletion, KindConnectionWipe, KindEndUserFilter, KindEndUserDeletion,
	KindChannelIdentity, KindInboxMessage, KindActivityLogs, KindEndCustomerRequest}

// Decision is the answer to an end-customer request.
type Decision struct {
	Approved bool      `dynamodbav:"approved" json:"approved"`
	By       string    `dynamodbav:"by" json:"by"` // "owner:<sub>", "privacy_officer:<sub>"
	At       time.Time `dynamodbav:"at" json:"at"`
	Reason   string    `dynamodbav:"reason,omitempty" json:"reason,omitempty"`
}

// Event is one entry of a request's history.
type Event struct {
	At     time.Time `dynamodbav:"at" json:"at"`
	Status Status    `dynamodbav:"status" json:"status"`
	Actor  string    `dynamodbav:"actor" json:"actor"` // "owner:<sub>", "system", "operator:<name>", "email", "webhook:meta" …
	Note   string    `dynamodbav:"note,omitempty" json:"note,omitempty"`
}

// Request is one deletion request.
type Request struct {
	ID        string            `dynamodbav:"requestId"`
	AccountID string            `dynamodbav:"accountId"`
	Kind      Kind              `dynamodbav:"kind"`
	Source    string            `dynamodbav:"source"` // dashboard, email, webhook:<channel>, retention, operator
	Scope     platform.ScopeRef `dynamodbav:"scope"`
	Status    Status            `dynamodbav:"status"`
	History   []Event           `dynamodbav:"history"`
	// Deadlines by name (start, soft_delete_ends, hard_delete_by, backups_rotated_by, …).
	Deadlines    map[string]time.Time `dynamodbav:"deadlines,omitempty"`
	ExecutionARN string               `dynamodbav:"executionArn,omitempty"`
	// Progress counts destroyed items per data-map category.
	Progress map[string]int64 `dynamodbav:"progress,omitempty"`
	// HeldBy lists the legal holds that keep part of the scope.
	HeldBy []string `dynamodbav:"heldBy,omitempty,stringset"`
	// Evidence lists the ids the evidence of each round of destruction is stored under (a request a
	// hold paused is finished in a second round after the release).
	Evidence []string `dynamodbav:"evidence,omitempty"`
	Locale   string   `dynamodbav:"locale,omitempty"`
	// RequestedBy is the dashboard user (token sub) who asked, for the mail that says it is done.
	RequestedBy string `dynamodbav:"requestedBy,omitempty"`
	// Requester is the address an end customer or an emailed request wrote from: the one piece of
	// contact data the ledger keeps, to tell them each outcome.
	Requester string `dynamodbav:"requester,omitempty"`
	// TaskToken is the Step Functions token of the decision the workflow waits for.
	TaskToken string `dynamodbav:"taskToken,omitempty"`
	// Decision records the bot owner's or privacy officer's answer to an end-customer request.
	Decision *Decision `dynamodbav:"decision,omitempty"`
	// Mail holds, per mail template, the SES message id of what was sent, so that a second delivery of
	// a task sends nothing and replies can be matched by In-Reply-To.
	Mail      map[string]string `dynamodbav:"mail,omitempty"`
	CreatedAt time.Time         `dynamodbav:"createdAt"`
	UpdatedAt time.Time         `dynamodbav:"updatedAt"`
	ClosedAt  *time.Time        `dynamodbav:"closedAt,omitempty"`
	Version   int64             `dynamodbav:"version"` // incremented by every write
}

func (Request) Category() string { return datamap.DeletionRequest }
func (r Request) KeyVars() map[string]string {
	return map[string]string{"request": r.ID, "account": r.AccountID, "status": string(r.Status),
		"createdAt": r.CreatedAt.UTC().Format(platform.KeyTime), "updatedAt": r.UpdatedAt.UTC().Format(platform.KeyTime)}
}
func (r Request) RetentionAnchor() time.Time {
	if r.ClosedAt == nil {
		return time.Time{}
	}
	return *r.ClosedAt
}

// Errors callers branch on.
var (
	ErrNotFound = lerr.New(lerr.ENOTFOUND, "request not found").Tell("no such deletion request")
	// ErrExists is EINTERNAL: callers that create idempotently handle it; met unhandled, it is an id
	// collision of Lethe's own.
	ErrExists = lerr.New(lerr.EINTERNAL, "request already exists")
	// ErrConflict: the request is not in a status the change may start from (someone else won).
	ErrConflict = lerr.New(lerr.ECONFLICT, "request status changed").Tell("the request can no longer be changed")
)

// DB is the part of the DynamoDB client the ledger uses; *dynamodb.Client satisfies it.
type DB interface {
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
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

func key(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		platform.AttrPK: &types.AttributeValueMemberS{Value: "R#" + id},
		platform.AttrSK: &types.AttributeValueMemberS{Value: "REQUEST"},
	}
}

// Create records a new request in status r.Status (received if empty). A request id that exists is
// ErrExists, so an intake delivered twice makes one request.
func (l *Ledger) Create(ctx context.Context, r Request) (Request, error) {
	r, item, err := l.prepare(r)
	if err != nil {
		return Request{}, err
	}
	_, err = l.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &l.table, Item: item,
		ConditionExpression: aws.String("attribute_not_exists(pk)")})
	var cf *types.ConditionalCheckFailedException
	if errors.As(err, &cf) {
		return Request{}, ErrExists
	}
	if err != nil {
		return Request{}, fmt.Errorf("create request: %w", err)
	}
	created(r)
	return r, nil
}

// created counts a new request (CloudWatch: Lethe/RequestsCreated by kind and source).
func created(r Request) {
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
func (l *Ledger) prepare(r Request) (Request, map[string]types.AttributeValue, error) {
	now := l.now().UTC()
	if r.ID == "" || r.AccountID == "" && r.Kind != KindChannelIdentity {
		return Request{}, nil, errors.New("a request needs an id and an account")
	}
	if r.Status == "" {
		r.Status = StatusReceived
	}
	r.CreatedAt, r.UpdatedAt, r.Version = now, now, 1
	if r.AccountID == "" {
		r.AccountID = "-" // platform-wide (a Meta identity spans accounts)
	}
	if len(r.History) == 0 {
		r.History = []Event{{At: now, Status: r.Status, Actor: r.Source}}
	}
	item, err := platform.Encode(r, l.policy)
	return r, item, err
}

// Get reads a request.
func (l *Ledger) Get(ctx context.Context, id string) (Request, error) {
	out, err := l.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &l.table, Key: key(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return Request{}, fmt.Errorf("get request: %w", err)
	}
	if out.Item == nil {
		return Request{}, ErrNotFound
	}
	return platform.Decode[Request](out.Item)
}

// Update applies change to the current request and writes it back only if nobody else wrote it in
// between (optimistic concurrency on Version); change returns an error to refuse. It retries when it
// loses a race and change still accepts the newer state.
func (l *Ledger) Update(ctx context.Context, id string, change func(*Request) error) (Request, error) {
	for attempt := 0; ; attempt++ {
		r, err := l.Get(ctx, id)
		if err != nil {
			return Request{}, err
		}
		prev := r.Version
		if err := change(&r); err != nil {
			return Request{}, err
		}
		r.Version = prev + 1
		r.UpdatedAt = l.now().UTC()
		if r.Status.Closed() && r.ClosedAt == nil {
			t := r.UpdatedAt
			r.ClosedAt = &t
		}
		item, err := platform.Encode(r, l.policy)
		if err != nil {
			return Request{}, err
		}
		_, err = l.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &l.table, Item: item,
			ConditionExpression:       aws.String("version = :v"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(prev, 10)}}})
		var cf *types.ConditionalCheckFailedException
		if errors.As(err, &cf) {
			if attempt >= 20 {
				return Request{}, fmt.Errorf("update request %s: %w", id, ErrConflict)
			}
			continue // someone else wrote: re-read and ask change again
		}
		if err != nil {
			return Request{}, fmt.Errorf("update request: %w", err)
		}
		return r, nil
	}
}

// Transition moves a request to status to, only from one of the statuses in from; otherwise
// ErrConflict and nothing changes.
func (l *Ledger) Transition(ctx context.Context, id string, from []Status, to Status, actor, note string) (Request, error) {
	return l.Update(ctx, id, func(r *Request) error {
		ok := false
		for _, f := range from {
			ok = ok || r.Status == f
		}
		if !ok {
			return fmt.Errorf("%w: %s is %s, not one of %v", ErrConflict, id, r.Status, from)
		}
		r.Status = to
		r.History = append(r.History, Event{At: l.now().UTC(), Status: to, Actor: actor, Note: note})
		return nil
	})
}

// Note appends a history entry without changing the status (progress, hold actions …).
func (l *Ledger) Note(ctx context.Context, id, actor, note string) (Request, error) {
	return l.Update(ctx, id, func(r *Request) error {
		r.History = append(r.History, Event{At: l.now().UTC(), Status: r.Status, Actor: actor, Note: note})
		return nil
	})
}

// ByAccount lists an account's requests, newest first, one page at a time. cursor is "" for the
// first page or a cursor ByAccount (or CursorAfter) gave out for this account; next is "" after
// the last page. Another account's cursor, or a tampered one, is platform.ErrBadCursor.
func (l *Ledger) ByAccount(ctx context.Context, accountID string, limit int32, cursor string) ([]Request, string, error) {
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
		if id == "" || id == cur.After {
			return nil, "", platform.ErrBadCursor
		}
		in.ExclusiveStartKey = key(id)
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
	var rs []Request
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
func CursorAfter(r Request) string {
	part, err := accountPartition(r.AccountID)
	if err != nil {
		return ""
	}
	return platform.Cursor{Partition: part, After: r.CreatedAt.UTC().Format(platform.KeyTime) + "#" + r.ID}.Encode()
}

// accountPartition is the GSI1 partition of an account's requests.
func accountPartition(accountID string) (string, error) {
	return datamap.MustLookup(datamap.DeletionRequest).Partition("GSI1", map[string]string{"account": accountID})
}

// ByStatus lists every request in a status (GSI2), oldest change first.
func (l *Ledger) ByStatus(ctx context.Context, s Status) ([]Request, error) {
	return l.ByStatusSince(ctx, s, time.Time{})
}

// ByStatusSince lists the requests in a status last changed at or after since (GSI2 sorts by the
// time of the last change), oldest change first: the recent part of a status that only grows, such
// as completed.
func (l *Ledger) ByStatusSince(ctx context.Context, s Status, since time.Time) ([]Request, error) {
	var all []Request
	in := &dynamodb.QueryInput{TableName: &l.table, IndexName: aws.String("GSI2"),
		KeyConditionExpression:    aws.String("gsi2pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "STATUS#" + string(s)}}}
	if !since.IsZero() {
		in.KeyConditionExpression = aws.String("gsi2pk = :p AND gsi2sk >= :since")
		in.ExpressionAttributeValues[":since"] = &types.AttributeValueMemberS{Value: since.UTC().Format(platform.KeyTime)}
	}
	for {
		out, err := l.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list %s requests: %w", s, err)
		}
		var rs []Request
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
