package erasure

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
)

// AttrSuspendedBy marks an item soft delete switched off, with the request that did it: restore
// switches back exactly those, so what was off before stays off.
const AttrSuspendedBy = "suspendedBy"

// switchable says, per category, which attribute soft delete flips and between which values.
var switchable = map[string]struct {
	attr        string
	active, off types.AttributeValue
}{
	datamap.AccountProfile:    {"status", &types.AttributeValueMemberS{Value: platform.AccountActive}, &types.AttributeValueMemberS{Value: platform.AccountSoftDeleted}},
	datamap.TeamMember:        {"disabled", &types.AttributeValueMemberBOOL{Value: false}, &types.AttributeValueMemberBOOL{Value: true}},
	datamap.APIToken:          {"disabled", &types.AttributeValueMemberBOOL{Value: false}, &types.AttributeValueMemberBOOL{Value: true}},
	datamap.Webhook:           {"disabled", &types.AttributeValueMemberBOOL{Value: false}, &types.AttributeValueMemberBOOL{Value: true}},
	datamap.Bot:               {"status", &types.AttributeValueMemberS{Value: platform.BotRunning}, &types.AttributeValueMemberS{Value: platform.BotStopped}},
	datamap.ChannelConnection: {"status", &types.AttributeValueMemberS{Value: platform.ConnectionActive}, &types.AttributeValueMemberS{Value: platform.ConnectionDisabled}},
}

// Suspension counts what a soft delete switched off (or a restore back on), per category.
type Suspension map[string]int

// SoftDelete deactivates an account without destroying anything: the account is marked
// soft-deleted (access blocked), team members, API tokens and webhooks are disabled, bots are
// stopped and their channel connections disabled. Only what was on is switched off, and marked with
// the request, so Restore puts back exactly what was there. Running it twice is harmless.
func (e *Engine) SoftDelete(ctx context.Context, accountID, requestID string) (Suspension, error) {
	return e.flip(ctx, accountID, requestID, true)
}

// Restore switches back on exactly what SoftDelete of this request switched off.
func (e *Engine) Restore(ctx context.Context, accountID, requestID string) (Suspension, error) {
	return e.flip(ctx, accountID, requestID, false)
}

func (e *Engine) flip(ctx context.Context, accountID, requestID string, off bool) (Suspension, error) {
	if accountID == "" || requestID == "" {
		return nil, errors.New("soft delete needs an account and a request")
	}
	table := e.store.Table(datamap.PlatformTable)
	done := Suspension{}
	visit := func(it map[string]types.AttributeValue) error {
		cat := platform.AttrString(it[platform.AttrCategory])
		sw, ok := switchable[cat]
		if !ok {
			return nil
		}
		in := &dynamodb.UpdateItemInput{TableName: &table, Key: platform.Key{PK: platform.AttrString(it[platform.AttrPK]), SK: platform.AttrString(it[platform.AttrSK])}.Attributes(),
			ExpressionAttributeNames: map[string]string{"#a": sw.attr, "#by": AttrSuspendedBy}}
		if off {
			in.UpdateExpression = aws.String("SET #a = :off, #by = :req")
			in.ConditionExpression = aws.String("#a = :on AND attribute_not_exists(#by)")
			in.ExpressionAttributeValues = map[string]types.AttributeValue{":on": sw.active, ":off": sw.off, ":req": &types.AttributeValueMemberS{Value: requestID}}
		} else {
			in.UpdateExpression = aws.String("SET #a = :on REMOVE #by")
			in.ConditionExpression = aws.String("#by = :req")
			in.ExpressionAttributeValues = map[string]types.AttributeValue{":on": sw.active, ":req": &types.AttributeValueMemberS{Value: requestID}}
		}
		_, err := e.db.UpdateItem(ctx, in)
		var cf *types.ConditionalCheckFailedException
		if errors.As(err, &cf) {
			return nil // already off before (or not ours to restore): leave it as it is
		}
		if err != nil {
			return fmt.Errorf("switch %s: %w", cat, err)
		}
		done[cat]++
		return nil
	}
	own, ok := partition(datamap.AccountProfile, "", map[string]string{"account": accountID})
	conns, _ := partition(datamap.ChannelConnection, "GSI2", map[string]string{"account": accountID})
	if !ok {
		return done, nil // no account: reaches nothing
	}
	if err := e.store.EachItem(ctx, platform.QuerySpec{Logical: datamap.PlatformTable, PK: own}, visit); err != nil {
		return nil, fmt.Errorf("switch the items of account %s: %w", accountID, err)
	}
	if err := e.store.EachItem(ctx, platform.QuerySpec{Logical: datamap.PlatformTable, Index: "GSI2", PK: conns}, visit); err != nil {
		return nil, fmt.Errorf("switch the connections of account %s: %w", accountID, err)
	}
	return done, nil
}
