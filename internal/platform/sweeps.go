package platform

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
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

// SlotEntry is one connection of a slot, in the slot's order.
type SlotEntry struct {
	Conn ChannelConnection
	// Err is set when the item could not be read as a connection (Conn.ID may still be known).
	Err error
	// After is the position right after this entry: a sweep that stopped part way through a page
	// resumes after the last entry it finished, not after the whole page.
	After string
}

// ConnectionsInSlot reads one page of the unexpired connections the health sweep checks in an hour
// slot (GSI3), after the position after ("" from the slot's start; an entry's After or a page's
// next). next is "" on the slot's last page.
func (s *Store) ConnectionsInSlot(ctx context.Context, slot, after string, limit int32) (entries []SlotEntry, next string, err error) {
	ix, ok := datamap.MustLookup(datamap.ChannelConnection).Index("GSI3")
	if !ok {
		return nil, "", errors.New("the data map gives connections no GSI3")
	}
	pk, err := datamap.Fill(ix.PK, map[string]string{"slot": slot})
	if err != nil {
		return nil, "", err
	}
	start, err := decodePosition(after)
	if err != nil {
		return nil, "", err
	}
	items, last, err := s.QueryItems(ctx, QuerySpec{Logical: datamap.PlatformTable, Index: ix.Name, PK: pk, Start: start, Limit: limit})
	if err != nil {
		return nil, "", err
	}
	pkAttr, skAttr, _ := indexAttrs(ix.Name)
	for _, it := range items {
		e := SlotEntry{}
		e.Conn, e.Err = Decode[ChannelConnection](it)
		if e.Err == nil && e.Conn.ID == "" {
			e.Err = errors.New("a connection item without an id")
		}
		key := make(map[string]types.AttributeValue, 4)
		for _, a := range []string{AttrPK, AttrSK, pkAttr, skAttr} {
			key[a] = it[a]
		}
		if e.After, err = encodePosition(key); err != nil {
			return nil, "", err
		}
		entries = append(entries, e)
	}
	if next, err = encodePosition(last); err != nil {
		return nil, "", err
	}
	return entries, next, nil
}

// encodePosition is a Query's ExclusiveStartKey as text ("" for none), through the listing
// position every checkpoint stores (PositionStrings).
func encodePosition(key map[string]types.AttributeValue) (string, error) {
	if len(key) == 0 {
		return "", nil
	}
	b, err := json.Marshal(PositionStrings(key))
	return string(b), err
}

func decodePosition(s string) (map[string]types.AttributeValue, error) {
	if s == "" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("not a position: %w", err)
	}
	return PositionFrom(m), nil
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

// BackfillDB is the part of the DynamoDB client the one-time GSI3 backfill uses; *dynamodb.Client
// satisfies it.
type BackfillDB interface {
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// BackfillConnectionSlots gives every connection stored before GSI3 existed its slot keys, so that
// the health sweep, which only Queries GSI3, finds it (`lethe backfill`, once after the
// deploy that added the index; a connection written since carries them from Encode). It is the one
// Scan of the platform table outside the retention sweep, run by an operator, never by a Lambda: a
// paginated Scan for connection items without gsi3pk that reads only their keys and id, and a
// conditional update of each that never recreates an item a wipe deleted meanwhile. It returns how
// many items it updated; running it again updates none.
func BackfillConnectionSlots(ctx context.Context, db BackfillDB, platformTable string) (int, error) {
	ix, ok := datamap.MustLookup(datamap.ChannelConnection).Index("GSI3")
	if !ok {
		return 0, errors.New("the data map gives connections no GSI3")
	}
	pkAttr, skAttr, _ := indexAttrs(ix.Name)
	in := &dynamodb.ScanInput{
		TableName:            aws.String(platformTable),
		FilterExpression:     aws.String("#cat = :cat AND attribute_not_exists(#gpk)"),
		ProjectionExpression: aws.String("#pk, #sk, #id"),
		ExpressionAttributeNames: map[string]string{"#cat": AttrCategory, "#gpk": pkAttr, "#pk": AttrPK, "#sk": AttrSK,
			"#id": "connectionId"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":cat": &types.AttributeValueMemberS{Value: datamap.ChannelConnection}},
	}
	n := 0
	for {
		page, err := db.Scan(ctx, in)
		if err != nil {
			return n, fmt.Errorf("scan the platform table: %w", err)
		}
		for _, it := range page.Items {
			id, _ := it["connectionId"].(*types.AttributeValueMemberS)
			if id == nil || id.Value == "" {
				continue // not a readable connection: nothing to place
			}
			vars := map[string]string{"slot": ConnectionSlot(id.Value), "connection": id.Value}
			gpk, err := datamap.Fill(ix.PK, vars)
			if err != nil {
				return n, err
			}
			gsk, err := datamap.Fill(ix.SK, vars)
			if err != nil {
				return n, err
			}
			_, err = db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName:                aws.String(platformTable),
				Key:                      map[string]types.AttributeValue{AttrPK: it[AttrPK], AttrSK: it[AttrSK]},
				UpdateExpression:         aws.String("SET #gpk = :gpk, #gsk = :gsk"),
				ConditionExpression:      aws.String("attribute_exists(#pk)"),
				ExpressionAttributeNames: map[string]string{"#gpk": pkAttr, "#gsk": skAttr, "#pk": AttrPK},
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":gpk": &types.AttributeValueMemberS{Value: gpk}, ":gsk": &types.AttributeValueMemberS{Value: gsk}},
			})
			var gone *types.ConditionalCheckFailedException
			switch {
			case errors.As(err, &gone):
				continue // wiped since the page was read
			case err != nil:
				return n, fmt.Errorf("place connection %s in its slot: %w", id.Value, err)
			}
			n++
		}
		if len(page.LastEvaluatedKey) == 0 {
			return n, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}
