package platform

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
)

// ConnectionSlots is how many hour slots the connection-health sweep spreads the connections over:
// one a day per hour, so that each connection is checked once a day and the channels' APIs see the
// sweep's calls spread over the day.
const ConnectionSlots = 24

// ConnectionSlot is the hour of the day ("00".."23", UTC) in which the connection-health sweep
// checks a connection: its GSI3 partition (datamap: CONNCHECK#{slot}). It comes from a hash of the
// connection's id, never changes for a connection, and spreads connections evenly whatever their
// ids look like (ULIDs share their time prefix).
func ConnectionSlot(connectionID string) string {
	sum := sha256.Sum256([]byte("connslot\x00" + connectionID))
	return SlotName(int(binary.BigEndian.Uint32(sum[:4]) % ConnectionSlots))
}

// SlotName is the GSI3 slot of an hour of the day (0..23): "00".."23".
func SlotName(hour int) string { return fmt.Sprintf("%02d", hour) }

// ConnectionsInSlot reads one page of the connections the health sweep checks in an hour slot
// (GSI3), after start (a previous page's Next; nil for the first), raw and unexpired: the sweep
// needs each item's keys to say where it stopped.
func (s *Store) ConnectionsInSlot(ctx context.Context, slot string, start map[string]types.AttributeValue, limit int32) ([]map[string]types.AttributeValue, map[string]types.AttributeValue, error) {
	ix, ok := datamap.MustLookup(datamap.ChannelConnection).Index("GSI3")
	if !ok {
		return nil, nil, errors.New("the data map gives connections no GSI3")
	}
	pk, err := datamap.Fill(ix.PK, map[string]string{"slot": slot})
	if err != nil {
		return nil, nil, err
	}
	return s.QueryItems(ctx, QuerySpec{Logical: datamap.PlatformTable, Index: ix.Name, PK: pk, Start: start, Limit: limit})
}

// IndexPosition is the ExclusiveStartKey of a GSI Query that resumes right after item: the
// index's keys and the table's. A sweep that stopped part way through a page resumes after the
// last item it finished, not after the whole page.
func IndexPosition(index string, item map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	pkAttr, skAttr, err := indexAttrs(index)
	if err != nil {
		return nil, err
	}
	out := make(map[string]types.AttributeValue, 4)
	for _, a := range []string{AttrPK, AttrSK, pkAttr, skAttr} {
		v, ok := item[a]
		if !ok {
			return nil, fmt.Errorf("the item has no %s", a)
		}
		out[a] = v
	}
	return out, nil
}

// UpdateDB is the part of the DynamoDB client a conditional update uses; *dynamodb.Client satisfies
// it. The Store has no UpdateItem: only the connection-health sweep changes a stored item in place.
type UpdateDB interface {
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// SetConnectionStatus moves a stored connection from status from to status to with a conditional
// update, never a put: a wipe may already have deleted the item, and a put would bring it back,
// secrets and all. A connection gone, or no longer in from, is left as it is (nil).
func (s *Store) SetConnectionStatus(ctx context.Context, db UpdateDB, conn ChannelConnection, from, to string) error {
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
