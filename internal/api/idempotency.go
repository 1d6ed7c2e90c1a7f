package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/platform"
)

// idempotency keeps the first answer to a mutating call made with an Idempotency-Key, so that a
// retry gets it again and starts nothing new. Records live two days (the data map's TwoDays).
type idempotency struct {
	ledger *ledger.Ledger
	store  *platform.Store
	now    func() time.Time
}

type idemRecord struct {
	AccountID   string    `dynamodbav:"accountId"`
	Key         string    `dynamodbav:"key"`
	RequestHash string    `dynamodbav:"requestHash"`
	State       string    `dynamodbav:"state"` // pending, done
	Response    string    `dynamodbav:"response,omitempty"`
	CreatedAt   time.Time `dynamodbav:"createdAt"`
}

func (idemRecord) Category() string { return datamap.IdempotencyRecord }
func (r idemRecord) KeyVars() map[string]string {
	return map[string]string{"account": r.AccountID, "key": r.Key}
}
func (r idemRecord) RetentionAnchor() time.Time { return r.CreatedAt }

const maxIdempotencyKey = 255

func (i *idempotency) do(ctx context.Context, acct, key string, req events.APIGatewayV2HTTPRequest, run func() events.APIGatewayV2HTTPResponse) (events.APIGatewayV2HTTPResponse, error) {
	if len(key) > maxIdempotencyKey {
		return render(problemFor(http.StatusBadRequest, "the request is invalid", FieldError{Field: "Idempotency-Key", Message: "at most 255 characters"})), nil
	}
	sum := sha256.Sum256([]byte(req.RouteKey + "\n" + req.RawPath + "\n" + req.Body))
	rec := idemRecord{AccountID: acct, Key: key, RequestHash: hex.EncodeToString(sum[:]), State: "pending", CreatedAt: i.now().UTC()}
	item, err := platform.Encode(rec, i.store.Policy())
	if err != nil {
		return render(problemOf(err)), nil
	}
	db, table := i.store.DB(), i.store.Table(datamap.LedgerTable)
	_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: item,
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR #state = :abandoned"),
		ExpressionAttributeNames:  map[string]string{"#state": "state"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":abandoned": &types.AttributeValueMemberS{Value: "abandoned"}}})
	var taken *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &taken):
		return i.replay(ctx, rec, item)
	case err != nil:
		return render(problemOf(err)), nil
	}
	resp := run()
	if resp.StatusCode >= 500 {
		// Nothing was decided: let a retry run again.
		_, _ = i.store.DB().PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: deleted(item)})
		return resp, nil
	}
	b, err := json.Marshal(resp)
	if err != nil {
		return resp, nil
	}
	rec.State, rec.Response = "done", string(b)
	if done, err := platform.Encode(rec, i.store.Policy()); err == nil {
		_, _ = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: done})
	}
	return resp, nil
}

// deleted marks the record abandoned (the store's interface has no DeleteItem): the next call with
// the key runs afresh.
func deleted(item map[string]types.AttributeValue) map[string]types.AttributeValue {
	out := make(map[string]types.AttributeValue, len(item))
	for k, v := range item {
		out[k] = v
	}
	out["state"] = &types.AttributeValueMemberS{Value: "abandoned"}
	return out
}

func (i *idempotency) replay(ctx context.Context, rec idemRecord, item map[string]types.AttributeValue) (events.APIGatewayV2HTTPResponse, error) {
	table := i.store.Table(datamap.LedgerTable)
	out, err := i.store.DB().GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{platform.AttrPK: item[platform.AttrPK], platform.AttrSK: item[platform.AttrSK]}})
	if err != nil {
		return render(problemOf(err)), nil
	}
	var prev idemRecord
	if err := attributevalue.UnmarshalMap(out.Item, &prev); err != nil {
		return render(problemOf(err)), nil
	}
	switch {
	case prev.RequestHash != rec.RequestHash:
		return render(problemFor(http.StatusConflict, "this Idempotency-Key was used for another request")), nil
	case prev.State == "done":
		var resp events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal([]byte(prev.Response), &resp); err != nil {
			return render(problemOf(err)), nil
		}
		if resp.Headers == nil {
			resp.Headers = map[string]string{}
		}
		resp.Headers["idempotent-replayed"] = "true"
		return resp, nil
	}
	return render(problemFor(http.StatusConflict, "a request with this Idempotency-Key is still being processed")), nil
}
