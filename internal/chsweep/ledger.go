package chsweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
)

// suspicion is a connection whose credential its channel refused once (datamap.ConnectionSuspicion):
// ids, a time, a hash and the channel's refusal code; no credential, no personal data.
type suspicion struct {
	ConnectionID string    `dynamodbav:"connectionId"`
	Channel      string    `dynamodbav:"channel"`
	FirstSeenAt  time.Time `dynamodbav:"firstSeenAt"`
	// CredentialSHA256 is the hex SHA-256 of the connection's secrets when they were refused
	// (credentialSum).
	CredentialSHA256 string `dynamodbav:"credentialSha256"`
	// Code is the channel's own code for the refusal ("401", "190/460", "token_revoked" …).
	Code string `dynamodbav:"code,omitempty"`
}

func (suspicion) Category() string { return datamap.ConnectionSuspicion }
func (s suspicion) KeyVars() map[string]string {
	return map[string]string{"connection": s.ConnectionID}
}
func (s suspicion) RetentionAnchor() time.Time { return s.FirstSeenAt }

// suspicionKey is where the suspicion of a connection is stored.
func suspicionKey(connectionID string) (platform.Key, error) {
	return platform.RecordKey(suspicion{ConnectionID: connectionID})
}

// suspicions reads every standing suspicion: one small partition, read whole each run.
func (s *Sweep) suspicions(ctx context.Context) (map[string]suspicion, error) {
	c := datamap.MustLookup(datamap.ConnectionSuspicion)
	in := &dynamodb.QueryInput{TableName: aws.String(s.Ledger), ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": platform.AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: c.Location.PK}}}
	out := map[string]suspicion{}
	now := s.now()
	for {
		page, err := s.DB.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("channel sweep: read the suspicions: %w", err)
		}
		for _, it := range page.Items {
			if platform.Expired(it, now) {
				continue
			}
			sp, err := platform.Decode[suspicion](it)
			if err != nil || sp.ConnectionID == "" {
				s.log().Warn("channel sweep: a suspicion item could not be read; it expires on its own")
				continue
			}
			out[sp.ConnectionID] = sp
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// sortedSuspicions is the suspicions oldest first (then by id): the longest-standing are rechecked
// first when time is short.
func sortedSuspicions(m map[string]suspicion) []suspicion {
	out := make([]suspicion, 0, len(m))
	for _, sp := range m {
		out = append(out, sp)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].FirstSeenAt.Equal(out[j].FirstSeenAt) {
			return out[i].FirstSeenAt.Before(out[j].FirstSeenAt)
		}
		return out[i].ConnectionID < out[j].ConnectionID
	})
	return out
}

// suspect records a first refusal, unless one is already recorded: a suspicion's first sighting is
// never moved later.
func (s *Sweep) suspect(ctx context.Context, sp suspicion) error {
	item, err := platform.Encode(sp, s.Store.Policy())
	if err != nil {
		return err
	}
	_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Ledger), Item: item,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": platform.AttrPK}})
	var held *types.ConditionalCheckFailedException
	if errors.As(err, &held) {
		return nil
	}
	return err
}

// dropSuspicion removes a connection's suspicion, if any.
func (s *Sweep) dropSuspicion(ctx context.Context, connectionID string) error {
	k, err := suspicionKey(connectionID)
	if err != nil {
		return err
	}
	_, err = s.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.Ledger), Key: k.Attributes()})
	return err
}

// checkpointName is the {sweep} of the sweep's checkpoint item (datamap.SweepCheckpoint).
const checkpointName = "channels"

// position is where the sweep stands: the last hour whose slot was gone through to the end, and
// the key to resume after within the next hour's slot when a run stopped part way through it.
type position struct {
	Through time.Time `json:"through"`
	// After is the ExclusiveStartKey of the next slot's Query (string attributes only: the table's
	// and GSI3's keys).
	After map[string]string `json:"after,omitempty"`
}

func (p position) start() map[string]types.AttributeValue {
	if len(p.After) == 0 {
		return nil
	}
	out := make(map[string]types.AttributeValue, len(p.After))
	for k, v := range p.After {
		out[k] = &types.AttributeValueMemberS{Value: v}
	}
	return out
}

func positionAfter(through time.Time, key map[string]types.AttributeValue) (position, error) {
	p := position{Through: through}
	if len(key) == 0 {
		return p, nil
	}
	p.After = make(map[string]string, len(key))
	for k, v := range key {
		sv, ok := v.(*types.AttributeValueMemberS)
		if !ok {
			return position{}, fmt.Errorf("channel sweep: the position's %s is not a string", k)
		}
		p.After[k] = sv.Value
	}
	return p, nil
}

// checkpointItem is the stored position (datamap.SweepCheckpoint, the key the retention sweep's
// shares with another {sweep}).
type checkpointItem struct {
	Sweep     string    `dynamodbav:"sweep"`
	State     string    `dynamodbav:"state"` // the position as JSON
	UpdatedAt time.Time `dynamodbav:"updatedAt"`
}

func (checkpointItem) Category() string             { return datamap.SweepCheckpoint }
func (c checkpointItem) KeyVars() map[string]string { return map[string]string{"sweep": c.Sweep} }
func (c checkpointItem) RetentionAnchor() time.Time { return c.UpdatedAt }

// loadPosition reads the saved position; nil when there is none (the first run, or no run for the
// checkpoint's two days: the sweep then starts at the current hour).
func (s *Sweep) loadPosition(ctx context.Context) (*position, error) {
	k, err := platform.RecordKey(checkpointItem{Sweep: checkpointName})
	if err != nil {
		return nil, err
	}
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Ledger), Key: k.Attributes(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("channel sweep: read the checkpoint: %w", err)
	}
	if out.Item == nil || platform.Expired(out.Item, s.now()) {
		return nil, nil
	}
	it, err := platform.Decode[checkpointItem](out.Item)
	if err != nil {
		return nil, fmt.Errorf("channel sweep: read the checkpoint: %w", err)
	}
	var p position
	if err := json.Unmarshal([]byte(it.State), &p); err != nil {
		return nil, fmt.Errorf("channel sweep: read the checkpoint: %w", err)
	}
	return &p, nil
}

// savePosition stores the position.
func (s *Sweep) savePosition(ctx context.Context, p position) error {
	state, err := json.Marshal(p)
	if err != nil {
		return err
	}
	item, err := platform.Encode(checkpointItem{Sweep: checkpointName, State: string(state), UpdatedAt: s.now()}, s.Store.Policy())
	if err != nil {
		return err
	}
	if _, err := s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Ledger), Item: item}); err != nil {
		return fmt.Errorf("channel sweep: store the checkpoint: %w", err)
	}
	return nil
}
