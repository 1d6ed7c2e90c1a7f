package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/lerr"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
)

// slot marks the one open request a subject may have of a kind (one account deletion per account).
type slot struct {
	Slot      string    `dynamodbav:"slot"`
	RequestID string    `dynamodbav:"requestId"`
	CreatedAt time.Time `dynamodbav:"createdAt"`
}

func (slot) Category() string             { return datamap.RequestSlot }
func (s slot) KeyVars() map[string]string { return map[string]string{"slot": s.Slot} }
func (s slot) RetentionAnchor() time.Time { return s.CreatedAt }
func slotKey(name string) (map[string]types.AttributeValue, bool) {
	return recordKey(datamap.RequestSlot, map[string]string{"slot": name})
}

// AccountDeletionSlot names the slot of an account's deletion.
func AccountDeletionSlot(accountID string) string { return "account_deletion#" + accountID }

// CreateUnique records r unless the slot already names an open request, in which case it returns
// that request and created=false: a request made twice (two clicks, an email delivered twice) makes
// one request. A slot naming a closed request is taken over.
func (l *Ledger) CreateUnique(ctx context.Context, r request.Request, slotName string) (out request.Request, created bool, err error) {
	for attempt := 0; attempt < 5; attempt++ {
		cur, err := l.slotRequest(ctx, slotName)
		if err != nil {
			return request.Request{}, false, err
		}
		if cur != nil && !cur.Status.Closed() {
			return *cur, false, nil
		}
		out, err := l.createWithSlot(ctx, r, slotName, cur)
		if errors.Is(err, errSlotRace) {
			continue
		}
		return out, err == nil, err
	}
	return request.Request{}, false, fmt.Errorf("slot %s: %w", slotName, ErrConflict)
}

var errSlotRace = errors.New("slot changed")

func (l *Ledger) slotRequest(ctx context.Context, name string) (*request.Request, error) {
	k, ok := slotKey(name)
	if !ok {
		return nil, nil // an empty slot name holds no request
	}
	out, err := l.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &l.table, Key: k, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("read slot: %w", err)
	}
	if out.Item == nil {
		return nil, nil
	}
	id := platform.AttrString(out.Item["requestId"])
	r, err := l.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		// The request expired with its retention: the slot is free, but must still be taken over.
		return &request.Request{ID: id, Status: request.StatusCompleted}, nil
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

func (l *Ledger) createWithSlot(ctx context.Context, r request.Request, name string, stale *request.Request) (request.Request, error) {
	r, item, err := l.prepare(r)
	if err != nil {
		return request.Request{}, err
	}
	slotItem, err := platform.Encode(slot{Slot: name, RequestID: r.ID, CreatedAt: r.CreatedAt}, l.policy)
	if err != nil {
		return request.Request{}, err
	}
	slotPut := &types.Put{TableName: &l.table, Item: slotItem, ConditionExpression: aws.String("attribute_not_exists(pk)")}
	if stale != nil {
		slotPut.ConditionExpression = aws.String("requestId = :stale")
		slotPut.ExpressionAttributeValues = map[string]types.AttributeValue{":stale": &types.AttributeValueMemberS{Value: stale.ID}}
	}
	_, err = l.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: slotPut},
		{Put: &types.Put{TableName: &l.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
	}})
	var tc *types.TransactionCanceledException
	if errors.As(err, &tc) {
		for i, reason := range tc.CancellationReasons {
			if reason.Code != nil && *reason.Code == "ConditionalCheckFailed" {
				if i == 1 {
					return request.Request{}, ErrExists
				}
				return request.Request{}, errSlotRace
			}
		}
		return request.Request{}, fmt.Errorf("create request: %w", err)
	}
	if err != nil {
		return request.Request{}, fmt.Errorf("create request: %w", err)
	}
	created(r)
	return r, nil
}

// reference leads from an email action token (hashed) or an SES message id to a request.
type reference struct {
	Ref       string    `dynamodbav:"ref"`
	RequestID string    `dynamodbav:"requestId"`
	Action    string    `dynamodbav:"action"`
	CreatedAt time.Time `dynamodbav:"createdAt"`
}

func (reference) Category() string             { return datamap.RequestReference }
func (r reference) KeyVars() map[string]string { return map[string]string{"ref": r.Ref} }
func (r reference) RetentionAnchor() time.Time { return r.CreatedAt }

// Reference kinds.
const (
	RefToken   = "token"   // an action token from a link or a Reply-To plus-address
	RefMessage = "message" // the SES message id a reply's In-Reply-To carries
	// RefStatus is the confirmation code of a deletion a channel asked for (Meta's data-deletion
	// callback): it opens the public status page, so it is stored hashed like a token.
	RefStatus = "status"
)

// ActionEndCustomerStatus is the action of the RefStatus reference an end customer's "received"
// mail links to: the page follows the request through the owner's decision.
const ActionEndCustomerStatus = "end_customer_status"

// hashHex is the ledger's one way of naming a secret or an outside id it must not store as is: the
// hex SHA-256 of it.
func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func refName(kind, value string) string {
	if kind == RefToken || kind == RefStatus {
		// Only the hash is stored: a read of the ledger does not hand out working links.
		value = hashHex(value)
	}
	return kind + "#" + value
}

// ErrUnknownReference: no request answers to that token or message id.
var ErrUnknownReference = lerr.New(lerr.ENOTFOUND, "unknown request reference")

// PutReference records that value (of kind RefToken or RefMessage) leads to request id for action.
func (l *Ledger) PutReference(ctx context.Context, kind, value, requestID, action string) error {
	item, err := platform.Encode(reference{Ref: refName(kind, value), RequestID: requestID, Action: action, CreatedAt: l.now().UTC()}, l.policy)
	if err != nil {
		return err
	}
	if _, err := l.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &l.table, Item: item}); err != nil {
		return fmt.Errorf("store reference: %w", err)
	}
	return nil
}

// Reference resolves a token or message id to its request id and action.
func (l *Ledger) Reference(ctx context.Context, kind, value string) (requestID, action string, err error) {
	r, err := l.ReferenceInfo(ctx, kind, value)
	return r.RequestID, r.Action, err
}

// Ref is what a token or message id leads to, and since when.
type Ref struct {
	RequestID, Action string
	CreatedAt         time.Time
}

// ReferenceInfo is Reference with the time the reference was made (links expire).
func (l *Ledger) ReferenceInfo(ctx context.Context, kind, value string) (Ref, error) {
	k, ok := recordKey(datamap.RequestReference, map[string]string{"ref": refName(kind, value)})
	if !ok {
		return Ref{}, ErrUnknownReference
	}
	out, err := l.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &l.table, Key: k})
	if err != nil {
		return Ref{}, fmt.Errorf("read reference: %w", err)
	}
	if out.Item == nil {
		return Ref{}, ErrUnknownReference
	}
	var r reference
	if err := attributevalue.UnmarshalMap(out.Item, &r); err != nil {
		return Ref{}, err
	}
	return Ref{RequestID: r.RequestID, Action: r.Action, CreatedAt: r.CreatedAt}, nil
}

// InSlot returns the request a slot names (open or not); ErrNotFound if the slot was never taken.
func (l *Ledger) InSlot(ctx context.Context, slotName string) (request.Request, error) {
	r, err := l.slotRequest(ctx, slotName)
	if err != nil {
		return request.Request{}, err
	}
	if r == nil || r.AccountID == "" {
		return request.Request{}, ErrNotFound
	}
	return *r, nil
}
