package ledger

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/lerr"
	"github.com/lethe-dev/lethe/internal/platform"
)

// Hold errors.
var (
	ErrHoldNotFound = lerr.Errorf(lerr.ENOTFOUND, "legal hold not found")
	ErrHoldReleased = lerr.Errorf(lerr.ECONFLICT, "legal hold already released")
	ErrInvalidHold  = lerr.Errorf(lerr.EINVALID, "invalid legal hold")
)

// PlaceHold records a legal hold placed by an operator on an account, a bot or an end user, and notes
// it in the history of every open request of that account.
func (l *Ledger) PlaceHold(ctx context.Context, h platform.LegalHold, actor string) (platform.LegalHold, error) {
	var missing []string
	if h.AccountID == "" {
		missing = append(missing, "account")
	}
	switch h.ScopeKind {
	case platform.HoldAccount:
		h.ScopeID = h.AccountID
	case platform.HoldBot, platform.HoldEndUser:
		if h.ScopeID == "" {
			missing = append(missing, "scope id")
		}
	default:
		missing = append(missing, "scope kind (account, bot or end_user)")
	}
	if strings.TrimSpace(h.Reason) == "" {
		missing = append(missing, "reason")
	}
	if strings.TrimSpace(h.AuthorityRef) == "" {
		missing = append(missing, "authority reference")
	}
	if strings.TrimSpace(actor) == "" {
		missing = append(missing, "operator")
	}
	if len(missing) > 0 {
		return platform.LegalHold{}, fmt.Errorf("%w: missing %s", ErrInvalidHold, strings.Join(missing, ", "))
	}
	now := l.now().UTC()
	if h.ID == "" {
		h.ID = platform.NewID(now)
	}
	if h.PlacedAt.IsZero() {
		h.PlacedAt = now
	}
	h.PlacedBy, h.ReleasedAt = actor, nil
	h.Actions = []platform.HoldAction{{At: now, Action: "placed", Actor: actor, Note: h.Reason + " (" + h.AuthorityRef + ")"}}
	item, err := platform.Encode(h, l.policy)
	if err != nil {
		return platform.LegalHold{}, err
	}
	// The hold and the holds epoch move together: a job that judged data by the holds of an older
	// epoch and reads the epoch again after its destructions sees this hold (the retention sweep
	// then puts back what it covers). The same write counts the hold as one that carries the
	// all-holds index (indexHolds).
	_, err = l.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: &l.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{Update: &types.Update{TableName: &l.table, Key: holdsEpochKey(), UpdateExpression: aws.String("ADD #e :one, #i :one"),
			ExpressionAttributeNames:  map[string]string{"#e": holdsEpochAttr, "#i": holdsIndexedAttr},
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}}}},
		{Put: &types.Put{TableName: &l.table, Item: pendingHold(h.ID)}},
	}})
	if err != nil {
		return platform.LegalHold{}, fmt.Errorf("place hold: %w", err)
	}
	return h, l.noteOpenRequests(ctx, h.AccountID, actor, "legal hold "+h.ID+" placed on "+h.ScopeKind+" "+h.ScopeID)
}

// ReleaseHold releases a hold; from then on its data is deleted like any other (the caller re-runs
// the requests it held). The released record is kept 3 years as evidence.
func (l *Ledger) ReleaseHold(ctx context.Context, id, actor, note string) (platform.LegalHold, error) {
	h, err := l.Hold(ctx, id)
	if err != nil {
		return platform.LegalHold{}, err
	}
	if h.ReleasedAt != nil {
		return h, ErrHoldReleased
	}
	now := l.now().UTC()
	h.ReleasedAt = &now
	h.Actions = append(h.Actions, platform.HoldAction{At: now, Action: "released", Actor: actor, Note: note})
	// Its items get their TTL back, from the start of its scope (PendingHolds).
	h.TTLState, h.TTLCursor, h.TTLItems = "", 0, 0
	item, err := platform.Encode(h, l.policy)
	if err != nil {
		return platform.LegalHold{}, err
	}
	_, err = l.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: &l.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(releasedAt)")}},
		{Put: &types.Put{TableName: &l.table, Item: pendingHold(h.ID)}},
	}})
	var tc *types.TransactionCanceledException
	if errors.As(err, &tc) && len(tc.CancellationReasons) > 0 && aws.ToString(tc.CancellationReasons[0].Code) == "ConditionalCheckFailed" {
		return h, ErrHoldReleased
	}
	if err != nil {
		return platform.LegalHold{}, fmt.Errorf("release hold: %w", err)
	}
	return h, l.noteOpenRequests(ctx, h.AccountID, actor, "legal hold "+h.ID+" released")
}

// Hold reads one hold.
func (l *Ledger) Hold(ctx context.Context, id string) (platform.LegalHold, error) {
	k, ok := holdKey(id)
	if !ok {
		return platform.LegalHold{}, ErrHoldNotFound
	}
	out, err := l.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &l.table, ConsistentRead: aws.Bool(true), Key: k})
	if err != nil {
		return platform.LegalHold{}, fmt.Errorf("get hold: %w", err)
	}
	if out.Item == nil {
		return platform.LegalHold{}, ErrHoldNotFound
	}
	return platform.Decode[platform.LegalHold](out.Item)
}

// Holds lists an account's holds, active and released.
func (l *Ledger) Holds(ctx context.Context, accountID string) ([]platform.LegalHold, error) {
	var all []platform.LegalHold
	part, ok := indexPartition(datamap.LegalHold, "GSI1", map[string]string{"account": accountID})
	if !ok {
		return nil, nil // no hold is on an empty account id
	}
	in := &dynamodb.QueryInput{TableName: &l.table, IndexName: aws.String("GSI1"),
		KeyConditionExpression:    aws.String("gsi1pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: part}}}
	for {
		out, err := l.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list holds: %w", err)
		}
		var hs []platform.LegalHold
		if err := attributevalue.UnmarshalListOfMaps(out.Items, &hs); err != nil {
			return nil, err
		}
		all = append(all, hs...)
		if out.LastEvaluatedKey == nil {
			return all, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// ActiveHolds lists the holds of an account that are not released. A hold stays active until an
// operator releases it, whatever end date the authority stated: data is never destroyed early.
func (l *Ledger) ActiveHolds(ctx context.Context, accountID string) ([]platform.LegalHold, error) {
	all, err := l.Holds(ctx, accountID)
	if err != nil {
		return nil, err
	}
	active := all[:0]
	for _, h := range all {
		if h.ReleasedAt == nil {
			active = append(active, h)
		}
	}
	return active, nil
}

func (l *Ledger) noteOpenRequests(ctx context.Context, accountID, actor, note string) error {
	start := ""
	for {
		rs, next, err := l.ByAccount(ctx, accountID, 100, start)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if r.Status.Closed() {
				continue
			}
			if _, err := l.Note(ctx, r.ID, actor, note); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		start = next
	}
}

// The holds epoch is one ledger item whose number every hold placed increments (in the same
// transaction): a job that judged data by the holds it read at one epoch reads it again,
// strongly consistent, after its destructions; an unchanged epoch means they were all made before
// any new hold.
const holdsEpochAttr = "epoch"

func holdsEpochKey() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		platform.AttrPK: &types.AttributeValueMemberS{Value: "HOLDS"},
		platform.AttrSK: &types.AttributeValueMemberS{Value: "EPOCH"},
	}
}

// HoldsEpoch reads the holds epoch (0 before the first hold).
func (l *Ledger) HoldsEpoch(ctx context.Context) (int64, error) {
	out, err := l.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &l.table, Key: holdsEpochKey(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return 0, fmt.Errorf("read the holds epoch: %w", err)
	}
	n, ok := out.Item[holdsEpochAttr].(*types.AttributeValueMemberN)
	if !ok {
		return 0, nil
	}
	return strconv.ParseInt(n.Value, 10, 64)
}

func holdKey(id string) (map[string]types.AttributeValue, bool) {
	return recordKey(datamap.LegalHold, map[string]string{"hold": id})
}

// pendingHold marks a hold whose items' TTL is still to be taken off (placed) or given back
// (released); HoldTTLProgress removes the mark when that is done.
func pendingHold(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		platform.AttrPK: &types.AttributeValueMemberS{Value: "HOLDS"},
		platform.AttrSK: &types.AttributeValueMemberS{Value: "PENDING#" + id},
	}
}

// PendingHolds lists the holds whose items' TTL is still to be taken off or given back.
func (l *Ledger) PendingHolds(ctx context.Context) ([]string, error) {
	var ids []string
	in := &dynamodb.QueryInput{TableName: &l.table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "HOLDS"},
			":p": &types.AttributeValueMemberS{Value: "PENDING#"}}}
	for {
		out, err := l.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list pending holds: %w", err)
		}
		for _, it := range out.Items {
			ids = append(ids, strings.TrimPrefix(platform.AttrString(it[platform.AttrSK]), "PENDING#"))
		}
		if out.LastEvaluatedKey == nil {
			return ids, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// HoldTTLProgress records how far the TTL of a hold's items has been taken off (released false)
// or given back (released true): the scope's targets passed and the items changed. done marks the
// hold's state and ends its pending mark. Nothing is written if the hold was released, or not,
// contrary to released: its new state's batches start over (ErrConflict).
func (l *Ledger) HoldTTLProgress(ctx context.Context, id string, released bool, cursor, items int64, done bool) error {
	cond := "attribute_exists(pk) AND attribute_not_exists(releasedAt)"
	state := platform.HoldTTLRemoved
	if released {
		cond, state = "attribute_exists(releasedAt)", platform.HoldTTLRestored
	}
	k, ok := holdKey(id)
	if !ok {
		return ErrHoldNotFound
	}
	upd := &types.Update{TableName: &l.table, Key: k,
		UpdateExpression:    aws.String("SET ttlCursor = :c, ttlItems = :n"),
		ConditionExpression: aws.String(cond),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":c": &types.AttributeValueMemberN{Value: strconv.FormatInt(cursor, 10)},
			":n": &types.AttributeValueMemberN{Value: strconv.FormatInt(items, 10)}}}
	txn := []types.TransactWriteItem{{Update: upd}}
	if done {
		upd.UpdateExpression = aws.String("SET ttlCursor = :c, ttlItems = :n, ttlState = :s")
		upd.ExpressionAttributeValues[":s"] = &types.AttributeValueMemberS{Value: state}
		txn = append(txn, types.TransactWriteItem{Delete: &types.Delete{TableName: &l.table, Key: pendingHold(id)}})
	}
	_, err := l.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: txn})
	var tc *types.TransactionCanceledException
	if errors.As(err, &tc) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("hold %s: record its TTL progress: %w", id, err)
	}
	return nil
}
