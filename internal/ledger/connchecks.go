package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
)

// ConnChecksDB is the part of the DynamoDB client the connection-health sweep's bookkeeping uses;
// *dynamodb.Client satisfies it.
type ConnChecksDB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// ConnChecks is the connection-health sweep's bookkeeping in the ledger (internal/chsweep): where
// the sweep stands in its day of hour slots (datamap.SweepCheckpoint) and the connections whose
// credential was refused once (datamap.ConnectionSuspicion). Ids, times and hashes only.
type ConnChecks struct {
	db     ConnChecksDB
	table  string
	policy datamap.Policy
	now    func() time.Time
}

// NewConnChecks builds the bookkeeping over the ledger table; now decides expiry.
func NewConnChecks(db ConnChecksDB, ledgerTable string, policy datamap.Policy, now func() time.Time) *ConnChecks {
	if now == nil {
		now = time.Now
	}
	return &ConnChecks{db: db, table: ledgerTable, policy: policy, now: now}
}

// Suspicion is a connection whose credential its channel refused once: no credential, no
// personal data.
type Suspicion struct {
	ConnectionID string    `dynamodbav:"connectionId"`
	Channel      string    `dynamodbav:"channel"`
	FirstSeenAt  time.Time `dynamodbav:"firstSeenAt"`
	// CredentialSHA256 is the hex SHA-256 of the credential refused: a connection holding another
	// since is not the one refused.
	CredentialSHA256 string `dynamodbav:"credentialSha256"`
	// Code is the channel's own code for the refusal ("401", "190/460", "token_revoked" …).
	Code string `dynamodbav:"code,omitempty"`
}

func (Suspicion) Category() string { return datamap.ConnectionSuspicion }
func (s Suspicion) KeyVars() map[string]string {
	return map[string]string{"connection": s.ConnectionID}
}
func (s Suspicion) RetentionAnchor() time.Time { return s.FirstSeenAt }

// Suspicions reads every standing suspicion: one small partition, read whole.
func (c *ConnChecks) Suspicions(ctx context.Context) ([]Suspicion, error) {
	pk, err := datamap.MustLookup(datamap.ConnectionSuspicion).Partition("", nil)
	if err != nil {
		return nil, err
	}
	in := &dynamodb.QueryInput{TableName: &c.table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}}}
	var out []Suspicion
	now := c.now()
	for {
		page, err := c.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("read the suspicions: %w", err)
		}
		for _, it := range page.Items {
			if platform.Expired(it, now) {
				continue
			}
			s, err := platform.Decode[Suspicion](it)
			if err != nil || s.ConnectionID == "" {
				continue // unreadable: it expires on its own
			}
			out = append(out, s)
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// Suspect records a first refusal, unless one is recorded already: a suspicion's first sighting is
// never moved later.
func (c *ConnChecks) Suspect(ctx context.Context, s Suspicion) error {
	item, err := platform.Encode(s, c.policy)
	if err != nil {
		return err
	}
	_, err = c.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &c.table, Item: item,
		ConditionExpression: aws.String("attribute_not_exists(pk)")})
	var held *types.ConditionalCheckFailedException
	if errors.As(err, &held) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("record the suspicion: %w", err)
	}
	return nil
}

// DropSuspicion removes a connection's suspicion, if there is one.
func (c *ConnChecks) DropSuspicion(ctx context.Context, connectionID string) error {
	k, ok := recordKey(datamap.ConnectionSuspicion, map[string]string{"connection": connectionID})
	if !ok {
		return errors.New("a suspicion needs a connection id")
	}
	if _, err := c.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &c.table, Key: k}); err != nil {
		return fmt.Errorf("remove the suspicion: %w", err)
	}
	return nil
}

// SweepPosition is where the connection-health sweep stands: the last hour whose slot it went
// through to the end, and where to resume within the next hour's slot (platform.SlotEntry.After;
// "" from its start).
type SweepPosition struct {
	Through time.Time `json:"through"`
	After   string    `json:"after,omitempty"`
}

// channelSweep is the {sweep} of the connection-health sweep's checkpoint (the retention sweep's is
// "retention").
const channelSweep = "channels"

// positionItem is the stored position (datamap.SweepCheckpoint).
type positionItem struct {
	Sweep     string    `dynamodbav:"sweep"`
	State     string    `dynamodbav:"state"` // the SweepPosition as JSON
	UpdatedAt time.Time `dynamodbav:"updatedAt"`
}

func (positionItem) Category() string             { return datamap.SweepCheckpoint }
func (p positionItem) KeyVars() map[string]string { return map[string]string{"sweep": p.Sweep} }
func (p positionItem) RetentionAnchor() time.Time { return p.UpdatedAt }

// Position reads the saved position; nil when there is none (the first run, or none for the
// checkpoint's two days).
func (c *ConnChecks) Position(ctx context.Context) (*SweepPosition, error) {
	k, _ := recordKey(datamap.SweepCheckpoint, map[string]string{"sweep": channelSweep})
	out, err := c.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &c.table, Key: k, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("read the sweep position: %w", err)
	}
	if out.Item == nil || platform.Expired(out.Item, c.now()) {
		return nil, nil
	}
	it, err := platform.Decode[positionItem](out.Item)
	if err != nil {
		return nil, fmt.Errorf("read the sweep position: %w", err)
	}
	var p SweepPosition
	if err := json.Unmarshal([]byte(it.State), &p); err != nil {
		return nil, fmt.Errorf("read the sweep position: %w", err)
	}
	return &p, nil
}

// SavePosition stores the position.
func (c *ConnChecks) SavePosition(ctx context.Context, p SweepPosition) error {
	state, err := json.Marshal(p)
	if err != nil {
		return err
	}
	item, err := platform.Encode(positionItem{Sweep: channelSweep, State: string(state), UpdatedAt: c.now()}, c.policy)
	if err != nil {
		return err
	}
	if _, err := c.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &c.table, Item: item}); err != nil {
		return fmt.Errorf("store the sweep position: %w", err)
	}
	return nil
}
