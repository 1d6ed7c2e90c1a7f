package ledger

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
)

// The all-holds index (GSI2 of the legal hold category) is written with every hold PlaceHold
// records. Holds recorded before it existed lack it; indexHolds finds and indexes them before a
// listing reads the index. Two counters on the holds epoch item tell whether any such hold can
// exist: the epoch counts every hold ever placed, holdsIndexedAttr the holds placed with their
// index, and holdsBackfilledAttr how many holds placed without it a backfill has covered.
const (
	holdsIndexedAttr    = "indexed"
	holdsBackfilledAttr = "backfilled"
)

// MaxHoldsPage bounds one page of AllHolds.
const MaxHoldsPage = 200

// AllHolds lists the holds of every account, newest first, one page of at most limit at a time;
// only the active ones (not released) if activeOnly. cursor is "" for the first page or a cursor
// AllHolds gave out for the same activeOnly; next is "" after the last page. Any other cursor is
// platform.ErrBadCursor. Holds recorded before the index existed are indexed first.
func (l *Ledger) AllHolds(ctx context.Context, activeOnly bool, limit int, cursor string) ([]platform.LegalHold, string, error) {
	if limit <= 0 || limit > MaxHoldsPage {
		limit = MaxHoldsPage
	}
	part, ok := indexPartition(datamap.LegalHold, "GSI2", nil)
	if !ok {
		return nil, "", errors.New("the legal holds' GSI2 partition needs no value")
	}
	state := "all"
	if activeOnly {
		state = "active"
	}
	cur, err := platform.DecodeCursor(cursor, part)
	if err != nil {
		return nil, "", err
	}
	if cursor != "" && cur.State["holds"] != state {
		return nil, "", platform.ErrBadCursor
	}
	if err := l.indexHolds(ctx); err != nil {
		return nil, "", err
	}
	in := &dynamodb.QueryInput{TableName: &l.table, IndexName: aws.String("GSI2"),
		KeyConditionExpression:    aws.String("gsi2pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: part}},
		ScanIndexForward:          aws.Bool(false), Limit: aws.Int32(int32(limit + 1))}
	if activeOnly {
		in.FilterExpression = aws.String("attribute_not_exists(releasedAt)")
	}
	if cur.After != "" {
		if in.ExclusiveStartKey, err = platform.StartAfter(datamap.LegalHold, "GSI2", map[string]string{"hold": cur.After}); err != nil {
			return nil, "", platform.ErrBadCursor
		}
	}
	var hs []platform.LegalHold
	for len(hs) <= limit {
		out, err := l.db.Query(ctx, in)
		if err != nil {
			return nil, "", fmt.Errorf("list every hold: %w", err)
		}
		var page []platform.LegalHold
		if err := attributevalue.UnmarshalListOfMaps(out.Items, &page); err != nil {
			return nil, "", err
		}
		hs = append(hs, page...)
		if out.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	if len(hs) <= limit {
		return hs, "", nil
	}
	hs = hs[:limit]
	next := platform.Cursor{Partition: part, After: hs[limit-1].ID, State: map[string]string{"holds": state}}.Encode()
	return hs, next, nil
}

// indexHolds gives the all-holds index to every hold recorded without it, if the holds epoch item
// says there may be one: more holds were placed without the index than a backfill has covered.
// It scans the ledger table for legal holds lacking the index, then records how many such holds
// it covered, as counted before the scan began (a hold placed without the index during the scan
// is looked for again by the next call).
func (l *Ledger) indexHolds(ctx context.Context) error {
	out, err := l.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &l.table, Key: holdsEpochKey(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return fmt.Errorf("read the holds epoch: %w", err)
	}
	owed := numberAttr(out.Item, holdsEpochAttr) - numberAttr(out.Item, holdsIndexedAttr)
	if owed <= numberAttr(out.Item, holdsBackfilledAttr) {
		return nil
	}
	ix, _ := datamap.MustLookup(datamap.LegalHold).Index("GSI2")
	scan := &dynamodb.ScanInput{TableName: &l.table, ConsistentRead: aws.Bool(true),
		FilterExpression:          aws.String("#c = :c AND attribute_not_exists(gsi2pk)"),
		ProjectionExpression:      aws.String("pk, sk, holdId"),
		ExpressionAttributeNames:  map[string]string{"#c": platform.AttrCategory},
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": &types.AttributeValueMemberS{Value: datamap.LegalHold}}}
	for {
		page, err := l.db.Scan(ctx, scan)
		if err != nil {
			return fmt.Errorf("find the holds recorded without the all-holds index: %w", err)
		}
		for _, it := range page.Items {
			vars := map[string]string{"hold": platform.AttrString(it["holdId"])}
			pk, err := datamap.Fill(ix.PK, vars)
			if err != nil {
				return err
			}
			sk, err := datamap.Fill(ix.SK, vars)
			if err != nil {
				return err
			}
			_, err = l.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{Update: &types.Update{
				TableName: &l.table, Key: map[string]types.AttributeValue{platform.AttrPK: it[platform.AttrPK], platform.AttrSK: it[platform.AttrSK]},
				UpdateExpression:    aws.String("SET gsi2pk = :p, gsi2sk = :s"),
				ConditionExpression: aws.String("attribute_exists(pk)"),
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":p": &types.AttributeValueMemberS{Value: pk}, ":s": &types.AttributeValueMemberS{Value: sk}}}}}})
			var tc *types.TransactionCanceledException
			if err != nil && !errors.As(err, &tc) { // a hold gone since the scan needs no index
				return fmt.Errorf("index hold %s: %w", vars["hold"], err)
			}
		}
		if page.LastEvaluatedKey == nil {
			break
		}
		scan.ExclusiveStartKey = page.LastEvaluatedKey
	}
	n := &types.AttributeValueMemberN{Value: strconv.FormatInt(owed, 10)}
	_, err = l.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{Update: &types.Update{
		TableName: &l.table, Key: holdsEpochKey(),
		UpdateExpression:          aws.String("SET #b = :n"),
		ConditionExpression:       aws.String("attribute_not_exists(#b) OR #b < :n"),
		ExpressionAttributeNames:  map[string]string{"#b": holdsBackfilledAttr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": n}}}}})
	var tc *types.TransactionCanceledException
	if err != nil && !errors.As(err, &tc) { // a concurrent backfill covered as many or more
		return fmt.Errorf("record the holds backfill: %w", err)
	}
	return nil
}

func numberAttr(item map[string]types.AttributeValue, attr string) int64 {
	n, ok := item[attr].(*types.AttributeValueMemberN)
	if !ok {
		return 0
	}
	v, _ := strconv.ParseInt(n.Value, 10, 64)
	return v
}
