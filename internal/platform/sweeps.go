package platform

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
)

// SweepDB is the part of the DynamoDB client a sweep over every item of a kind uses: a Scan and
// a conditional update; *dynamodb.Client satisfies it. The Store has no Scan on purpose (every
// request scope is reachable without one); finding every connection of a channel is the one job
// outside the retention sweep that needs it (internal/tgsweep).
type SweepDB interface {
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// ScanConnections calls fn with the id and one secret of every unexpired connection of a channel
// in a status, by a paginated Scan of the platform table (its physical name) filtered on category,
// channel and status that reads only the connection id, that secret and the expiry. bad is called,
// with the id if it could be read, for an item that cannot be read; fn's error ends the scan.
func ScanConnections(ctx context.Context, db SweepDB, table, channel, status, secret string, now func() time.Time,
	fn func(id, secret string) error, bad func(id string)) error {
	in := &dynamodb.ScanInput{
		TableName:            aws.String(table),
		FilterExpression:     aws.String("#cat = :cat AND #channel = :channel AND #status = :status"),
		ProjectionExpression: aws.String("#id, #secrets.#secret, #expires"),
		ExpressionAttributeNames: map[string]string{
			"#cat": AttrCategory, "#channel": "channel", "#status": "status",
			"#id": "connectionId", "#secrets": "secrets", "#secret": secret, "#expires": AttrExpiresAt,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":cat":     &types.AttributeValueMemberS{Value: datamap.ChannelConnection},
			":channel": &types.AttributeValueMemberS{Value: channel},
			":status":  &types.AttributeValueMemberS{Value: status},
		},
	}
	for {
		page, err := db.Scan(ctx, in)
		if err != nil {
			return fmt.Errorf("scan the platform table: %w", err)
		}
		for _, item := range page.Items {
			if Expired(item, now()) {
				continue
			}
			var c struct {
				ID      string            `dynamodbav:"connectionId"`
				Secrets map[string]string `dynamodbav:"secrets"`
			}
			if err := attributevalue.UnmarshalMap(item, &c); err != nil || c.ID == "" {
				bad(c.ID)
				continue
			}
			if err := fn(c.ID, c.Secrets[secret]); err != nil {
				return err
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// SetConnectionStatus moves a stored connection from status from to status to with a conditional
// update, never a put: a wipe may already have deleted the item, and a put would bring it back,
// secrets and all. A connection gone, or no longer in from, is left as it is (nil).
func (s *Store) SetConnectionStatus(ctx context.Context, db SweepDB, conn ChannelConnection, from, to string) error {
	key, err := s.KeyOf(conn)
	if err != nil {
		return err
	}
	_, err = db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(key.Table),
		Key:                 key.Attributes(),
		UpdateExpression:    aws.String("SET #status = :to"),
		ConditionExpression: aws.String("attribute_exists(#pk) AND #status = :from"),
		ExpressionAttributeNames: map[string]string{
			"#pk": AttrPK, "#status": "status",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":to":   &types.AttributeValueMemberS{Value: to},
			":from": &types.AttributeValueMemberS{Value: from},
		},
	})
	var gone *types.ConditionalCheckFailedException
	if errors.As(err, &gone) {
		return nil
	}
	return err
}
