package ledger

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
)

// AttemptsDB is the part of the DynamoDB client the attempt counter uses; *dynamodb.Client
// satisfies it.
type AttemptsDB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// Attempts stores the failed password re-entries before a destructive action (data map
// ReauthAttempts): one counter per account and action, and the lock the counter leads to. The
// rule (how many failures lock, for how long) is the caller's (internal/reauth).
type Attempts struct {
	db     AttemptsDB
	table  string
	policy datamap.Policy
}

// NewAttempts builds the counter over the ledger table.
func NewAttempts(db AttemptsDB, ledgerTable string, policy datamap.Policy) *Attempts {
	return &Attempts{db: db, table: ledgerTable, policy: policy}
}

func attemptsKey(accountID, action string) (map[string]types.AttributeValue, error) {
	k, ok := recordKey(datamap.ReauthAttempts, map[string]string{"account": accountID, "action": action})
	if !ok {
		return nil, fmt.Errorf("attempts: an account and an action are needed")
	}
	return k, nil
}

// LockedUntil reads the lock of the action on the account; ok is false when there is none.
func (a *Attempts) LockedUntil(ctx context.Context, accountID, action string) (until time.Time, ok bool, err error) {
	key, err := attemptsKey(accountID, action)
	if err != nil {
		return time.Time{}, false, err
	}
	out, err := a.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &a.table, Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read attempts: %w", err)
	}
	s, isS := out.Item["lockedUntil"].(*types.AttributeValueMemberS)
	if !isS {
		return time.Time{}, false, nil
	}
	t, perr := time.Parse(time.RFC3339Nano, s.Value)
	return t, perr == nil, nil
}

// Clear forgets the failures (and any lock) of the action on the account.
func (a *Attempts) Clear(ctx context.Context, accountID, action string) error {
	key, err := attemptsKey(accountID, action)
	if err != nil {
		return err
	}
	if _, err := a.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &a.table, Key: key}); err != nil {
		return fmt.Errorf("clear attempts: %w", err)
	}
	return nil
}

// Fail counts one failure atomically (parallel guesses each count) and returns the failures so
// far.
func (a *Attempts) Fail(ctx context.Context, accountID, action string, now time.Time) (int, error) {
	key, err := attemptsKey(accountID, action)
	if err != nil {
		return 0, err
	}
	exp, _ := a.policy.ExpiresAt(datamap.MustLookup(datamap.ReauthAttempts), now)
	vals := map[string]types.AttributeValue{
		":one": &types.AttributeValueMemberN{Value: "1"},
		":now": &types.AttributeValueMemberS{Value: now.Format(time.RFC3339Nano)},
		":exp": &types.AttributeValueMemberN{Value: strconv.FormatInt(exp.Unix(), 10)},
		":cat": &types.AttributeValueMemberS{Value: datamap.ReauthAttempts},
		":acc": &types.AttributeValueMemberS{Value: accountID},
		":act": &types.AttributeValueMemberS{Value: action},
	}
	out, err := a.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &a.table, Key: key,
		UpdateExpression:          aws.String("ADD failures :one SET updatedAt = :now, expiresAt = :exp, cat = :cat, accountId = :acc, #action = :act"),
		ExpressionAttributeNames:  map[string]string{"#action": "action"},
		ExpressionAttributeValues: vals, ReturnValues: types.ReturnValueUpdatedNew})
	if err != nil {
		return 0, fmt.Errorf("count a failed attempt: %w", err)
	}
	var n int
	if v, ok := out.Attributes["failures"].(*types.AttributeValueMemberN); ok {
		n, _ = strconv.Atoi(v.Value)
	}
	return n, nil
}

// Lock refuses the action on the account until until, and starts the failures from zero.
func (a *Attempts) Lock(ctx context.Context, accountID, action string, until time.Time) error {
	key, err := attemptsKey(accountID, action)
	if err != nil {
		return err
	}
	_, err = a.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &a.table, Key: key,
		UpdateExpression: aws.String("SET lockedUntil = :until, failures = :zero"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":until": &types.AttributeValueMemberS{Value: until.Format(time.RFC3339Nano)},
			":zero":  &types.AttributeValueMemberN{Value: "0"}}})
	if err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	return nil
}
