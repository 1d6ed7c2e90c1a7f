// Package reauth checks the password an owner re-enters before a destructive action (deleting the
// account), and locks the action for 15 minutes after 5 failures in a row, so that a stolen session
// cannot guess its way to deleting an account.
package reauth

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/lerr"
	"github.com/lethe-dev/lethe/internal/password"
	"github.com/lethe-dev/lethe/internal/platform"
)

// The lockout rule of SPEC §4.
const (
	MaxFailures = 5
	LockFor     = 15 * time.Minute
)

// Actions a password guards.
const ActionAccountDeletion = "account_deletion"

// ErrWrongPassword: the password does not match; the failure was counted.
var ErrWrongPassword = lerr.New(lerr.EFORBIDDEN, "wrong password").Tell("the password is not right")

// LockedError: too many failures; the action is refused until Until, whatever the password.
type LockedError struct{ Until time.Time }

// ErrLocked is what every LockedError is (errors.Is), and carries its code.
var ErrLocked = lerr.New(lerr.ELOCKED, "locked after too many failed attempts").Tell("too many wrong passwords: try again later")

// Unwrap makes errors.Is(err, ErrLocked) true and gives the error its code.
func (e *LockedError) Unwrap() error { return ErrLocked }

func (e *LockedError) Error() string {
	return "locked after " + strconv.Itoa(MaxFailures) + " failed attempts until " + e.Until.UTC().Format(time.RFC3339)
}

// DB is the part of the DynamoDB client the guard uses; *dynamodb.Client satisfies it.
type DB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// Guard counts failures per account and action in the ledger table.
type Guard struct {
	db     DB
	table  string
	policy datamap.Policy
	now    func() time.Time
}

// New builds a guard over the ledger table.
func New(db DB, ledgerTable string, policy datamap.Policy, now func() time.Time) *Guard {
	if now == nil {
		now = time.Now
	}
	return &Guard{db: db, table: ledgerTable, policy: policy, now: now}
}

func (g *Guard) key(accountID, action string) (map[string]types.AttributeValue, error) {
	c := datamap.MustLookup(datamap.ReauthAttempts)
	vars := map[string]string{"account": accountID, "action": action}
	pk, err := datamap.Fill(c.Location.PK, vars)
	if err != nil {
		return nil, err
	}
	sk, err := datamap.Fill(c.Location.SK, vars)
	if err != nil {
		return nil, err
	}
	return map[string]types.AttributeValue{platform.AttrPK: &types.AttributeValueMemberS{Value: pk}, platform.AttrSK: &types.AttributeValueMemberS{Value: sk}}, nil
}

// Check verifies password against hash for the action on the account. A locked action is refused
// (*LockedError) without looking at the password; a wrong one is counted (ErrWrongPassword, or
// *LockedError on the fifth); a right one clears the count.
func (g *Guard) Check(ctx context.Context, accountID, action, pw, hash string) error {
	key, err := g.key(accountID, action)
	if err != nil {
		return err
	}
	now := g.now().UTC()
	out, err := g.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &g.table, Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return fmt.Errorf("read attempts: %w", err)
	}
	if until, ok := lockedUntil(out.Item); ok && now.Before(until) {
		return &LockedError{Until: until}
	}
	ok, err := password.Verify(hash, pw)
	if err != nil {
		return fmt.Errorf("verify password: %w", err)
	}
	if ok {
		if _, err := g.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &g.table, Key: key}); err != nil {
			return fmt.Errorf("clear attempts: %w", err)
		}
		return nil
	}
	return g.fail(ctx, key, accountID, action, now)
}

// fail counts one failure atomically (parallel guesses each count) and locks on the fifth.
func (g *Guard) fail(ctx context.Context, key map[string]types.AttributeValue, accountID, action string, now time.Time) error {
	exp, _ := g.policy.ExpiresAt(datamap.MustLookup(datamap.ReauthAttempts), now)
	vals := map[string]types.AttributeValue{
		":one": &types.AttributeValueMemberN{Value: "1"},
		":now": &types.AttributeValueMemberS{Value: now.Format(time.RFC3339Nano)},
		":exp": &types.AttributeValueMemberN{Value: strconv.FormatInt(exp.Unix(), 10)},
		":cat": &types.AttributeValueMemberS{Value: datamap.ReauthAttempts},
		":acc": &types.AttributeValueMemberS{Value: accountID},
		":act": &types.AttributeValueMemberS{Value: action},
	}
	out, err := g.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &g.table, Key: key,
		UpdateExpression:          aws.String("ADD failures :one SET updatedAt = :now, expiresAt = :exp, cat = :cat, accountId = :acc, #action = :act"),
		ExpressionAttributeNames:  map[string]string{"#action": "action"},
		ExpressionAttributeValues: vals, ReturnValues: types.ReturnValueUpdatedNew})
	if err != nil {
		return fmt.Errorf("count a failed attempt: %w", err)
	}
	n, _ := strconv.Atoi(numberAttr(out.Attributes["failures"]))
	if n < MaxFailures {
		return ErrWrongPassword
	}
	until := now.Add(LockFor)
	_, err = g.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &g.table, Key: key,
		UpdateExpression: aws.String("SET lockedUntil = :until, failures = :zero"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":until": &types.AttributeValueMemberS{Value: until.Format(time.RFC3339Nano)},
			":zero":  &types.AttributeValueMemberN{Value: "0"}}})
	if err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	return &LockedError{Until: until}
}

func numberAttr(v types.AttributeValue) string {
	if n, ok := v.(*types.AttributeValueMemberN); ok {
		return n.Value
	}
	return ""
}

func lockedUntil(item map[string]types.AttributeValue) (time.Time, bool) {
	s, ok := item["lockedUntil"].(*types.AttributeValueMemberS)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s.Value)
	return t, err == nil
}
