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

// CodeTries counts the one-time codes entered from one source address in one hour (data map
// VerificationTries), whatever request they were for: a guesser spreading tries over many
// requests' status pages is stopped by its address. The address arrives already hashed (the
// caller keys the HMAC); the rule (how many tries an hour) is the caller's.
type CodeTries struct {
	db     AttemptsDB
	table  string
	policy datamap.Policy
}

// NewCodeTries builds the counter over the ledger table.
func NewCodeTries(db AttemptsDB, ledgerTable string, policy datamap.Policy) *CodeTries {
	return &CodeTries{db: db, table: ledgerTable, policy: policy}
}

// hourKey names the hour a try falls in.
func hourKey(t time.Time) string { return t.UTC().Format("2006010215") }

// Count counts one try from the hashed address at now, atomically (parallel tries each count),
// and returns the tries from that address within now's hour so far.
func (c *CodeTries) Count(ctx context.Context, addressHash string, now time.Time) (int, error) {
	hour := hourKey(now)
	key, ok := recordKey(datamap.VerificationTries, map[string]string{"address": addressHash, "hour": hour})
	if !ok {
		return 0, fmt.Errorf("code tries: an address is needed")
	}
	exp, _ := c.policy.ExpiresAt(datamap.MustLookup(datamap.VerificationTries), now)
	out, err := c.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &c.table, Key: key,
		UpdateExpression:         aws.String("ADD tries :one SET updatedAt = :now, expiresAt = :exp, cat = :cat, #hour = :hour"),
		ExpressionAttributeNames: map[string]string{"#hour": "hour"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one":  &types.AttributeValueMemberN{Value: "1"},
			":now":  &types.AttributeValueMemberS{Value: now.UTC().Format(time.RFC3339Nano)},
			":exp":  &types.AttributeValueMemberN{Value: strconv.FormatInt(exp.Unix(), 10)},
			":cat":  &types.AttributeValueMemberS{Value: datamap.VerificationTries},
			":hour": &types.AttributeValueMemberS{Value: hour},
		}, ReturnValues: types.ReturnValueUpdatedNew})
	if err != nil {
		return 0, fmt.Errorf("count a code try: %w", err)
	}
	var n int
	if v, ok := out.Attributes["tries"].(*types.AttributeValueMemberN); ok {
		n, _ = strconv.Atoi(v.Value)
	}
	return n, nil
}

// HourEnds is when the hour of now ends: the address may try again then.
func HourEnds(now time.Time) time.Time { return now.UTC().Truncate(time.Hour).Add(time.Hour) }
