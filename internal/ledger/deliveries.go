package ledger

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
)

// Delivery states.
const (
	DeliveryProcessing = "processing" // claimed: an attempt is acting on it
	DeliveryDone       = "done"       // acted on; a redelivery does nothing
	DeliveryReleased   = "released"   // an attempt failed and gave it up: the next delivery acts
)

// Delivery is one webhook delivery a channel sent, by its own delivery id (update_id, event_id …),
// hashed: a redelivery of a signal makes no second request.
type Delivery struct {
	Key   string `dynamodbav:"delivery"` // hex SHA-256 of channel and delivery id
	State string `dynamodbav:"state"`
	// LeaseUntil (Unix seconds): until then a processing claim stands; after it a redelivery may act.
	LeaseUntil int64     `dynamodbav:"leaseUntil"`
	CreatedAt  time.Time `dynamodbav:"createdAt"`
}

func (Delivery) Category() string             { return datamap.WebhookDelivery }
func (d Delivery) KeyVars() map[string]string { return map[string]string{"delivery": d.Key} }
func (d Delivery) RetentionAnchor() time.Time { return d.CreatedAt }

func deliveryKey(channel, id string) string {
	return hashHex(channel + "\x00" + id)
}

// ClaimDelivery records that a channel's delivery id is being acted on. fresh is true for the one
// caller that may act: the first delivery, or one after an earlier attempt released its claim or let
// its lease run out. Otherwise the returned Delivery says why not: done (with the first answer) or
// still processing. The claim is one conditional write, so concurrent deliveries have one winner.
//
// CreatedAt stays that of the first delivery however often the claim is retaken, so what an attempt
// derives from it (a request's id) is the same on every retry.
func (l *Ledger) ClaimDelivery(ctx context.Context, channel, id string, lease time.Duration) (Delivery, bool, error) {
	now := l.now().UTC()
	d := Delivery{Key: deliveryKey(channel, id), State: DeliveryProcessing, LeaseUntil: now.Add(lease).Unix(), CreatedAt: now}
	cur, err := l.delivery(ctx, d.Key)
	switch {
	case err == nil:
		if cur.State == DeliveryDone || cur.LeaseUntil >= now.Unix() {
			return cur, false, nil
		}
		d.CreatedAt = cur.CreatedAt
	case !errors.Is(err, ErrNotFound):
		return Delivery{}, false, err
	}
	item, err := platform.Encode(d, l.policy)
	if err != nil {
		return Delivery{}, false, err
	}
	_, err = l.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &l.table, Item: item,
		ConditionExpression:      aws.String("attribute_not_exists(pk) OR (#st <> :done AND leaseUntil < :now)"),
		ExpressionAttributeNames: map[string]string{"#st": "state"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":done": &types.AttributeValueMemberS{Value: DeliveryDone},
			":now":  &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)},
		}})
	var cf *types.ConditionalCheckFailedException
	if errors.As(err, &cf) {
		cur, gerr := l.delivery(ctx, d.Key)
		return cur, false, gerr
	}
	if err != nil {
		return Delivery{}, false, fmt.Errorf("claim delivery: %w", err)
	}
	return d, true, nil
}

func (l *Ledger) delivery(ctx context.Context, key string) (Delivery, error) {
	k, ok := recordKey(datamap.WebhookDelivery, map[string]string{"delivery": key})
	if !ok {
		return Delivery{}, ErrNotFound
	}
	out, err := l.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &l.table, ConsistentRead: aws.Bool(true), Key: k})
	if err != nil {
		return Delivery{}, fmt.Errorf("read delivery: %w", err)
	}
	if out.Item == nil {
		return Delivery{}, ErrNotFound
	}
	return platform.Decode[Delivery](out.Item)
}

// FinishDelivery marks the delivery a claim names done (done=true) or
// gives the claim up after a failure (done=false), so that the channel's retry acts.
func (l *Ledger) FinishDelivery(ctx context.Context, claim Delivery, done bool) error {
	d := Delivery{Key: claim.Key, State: DeliveryReleased, CreatedAt: claim.CreatedAt}
	if done {
		d.State = DeliveryDone
	}
	item, err := platform.Encode(d, l.policy)
	if err != nil {
		return err
	}
	if _, err := l.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &l.table, Item: item}); err != nil {
		return fmt.Errorf("finish delivery: %w", err)
	}
	return nil
}
