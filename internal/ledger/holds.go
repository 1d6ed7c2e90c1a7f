package ledger

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/platform"
)

// Hold errors.
var (
	ErrHoldNotFound = errors.New("legal hold not found")
	ErrHoldReleased = errors.New("legal hold already released")
	ErrInvalidHold  = errors.New("invalid legal hold")
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
	_, err = l.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &l.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")})
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
	item, err := platform.Encode(h, l.policy)
	if err != nil {
		return platform.LegalHold{}, err
	}
	_, err = l.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &l.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(releasedAt)")})
	var cf *types.ConditionalCheckFailedException
	if errors.As(err, &cf) {
		return h, ErrHoldReleased
	}
	if err != nil {
		return platform.LegalHold{}, fmt.Errorf("release hold: %w", err)
	}
	return h, l.noteOpenRequests(ctx, h.AccountID, actor, "legal hold "+h.ID+" released")
}

// Hold reads one hold.
func (l *Ledger) Hold(ctx context.Context, id string) (platform.LegalHold, error) {
	out, err := l.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &l.table, ConsistentRead: aws.Bool(true), Key: map[string]types.AttributeValue{
		platform.AttrPK: &types.AttributeValueMemberS{Value: "H#" + id},
		platform.AttrSK: &types.AttributeValueMemberS{Value: "HOLD"},
	}})
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
	in := &dynamodb.QueryInput{TableName: &l.table, IndexName: aws.String("GSI1"),
		KeyConditionExpression:    aws.String("gsi1pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "HOLDS#" + accountID}}}
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
	var start map[string]types.AttributeValue
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
		if next == nil {
			return nil
		}
		start = next
	}
}
