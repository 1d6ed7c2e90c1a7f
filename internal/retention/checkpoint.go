package retention

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
)

// Checkpoint is where a sweep run stands: the ledger request of the run, the position of every Scan
// segment of every table, and what the run has done so far. It holds opaque keys and counts, never
// personal data.
type Checkpoint struct {
	// RunID is the ledger request that records the run.
	RunID     string    `json:"runId"`
	StartedAt time.Time `json:"startedAt"`
	// Segments is the run's TotalSegments; a resumed run keeps it whatever Sweep.Segments says now.
	Segments int `json:"segments"`
	// Positions holds, per logical table, each segment's position.
	Positions map[string][]Position `json:"positions"`
	// Categories is what the run has done so far, per category.
	Categories map[string]*CategoryReport `json:"categories,omitempty"`
	// Invocations counts the invocations the run took so far.
	Invocations int `json:"invocations"`
}

// Position is one Scan segment's place: after the item with key PK/SK, or at the start when both are
// empty and Done is false.
type Position struct {
	Done bool   `json:"done,omitempty"`
	PK   string `json:"pk,omitempty"`
	SK   string `json:"sk,omitempty"`
}

func (p Position) startKey() map[string]types.AttributeValue {
	if p.PK == "" {
		return nil
	}
	return platform.Key{PK: p.PK, SK: p.SK}.Attributes()
}

func positionAfter(lek map[string]types.AttributeValue) Position {
	if len(lek) == 0 {
		return Position{Done: true}
	}
	pk, _ := lek[platform.AttrPK].(*types.AttributeValueMemberS)
	sk, _ := lek[platform.AttrSK].(*types.AttributeValueMemberS)
	if pk == nil || sk == nil {
		return Position{Done: true}
	}
	return Position{PK: pk.Value, SK: sk.Value}
}

// Done reports whether every segment of every table has been scanned to its end.
func (c *Checkpoint) Done() bool {
	for _, segs := range c.Positions {
		for _, p := range segs {
			if !p.Done {
				return false
			}
		}
	}
	return true
}

func (c *Checkpoint) clone() *Checkpoint {
	b, _ := json.Marshal(c)
	var out Checkpoint
	_ = json.Unmarshal(b, &out)
	return &out
}

// checkpointName is the {sweep} of the one checkpoint item the retention sweep keeps.
const checkpointName = "retention"

// checkpointItem is the stored checkpoint (datamap.SweepCheckpoint).
type checkpointItem struct {
	Sweep     string    `dynamodbav:"sweep"`
	State     string    `dynamodbav:"state"` // the Checkpoint as JSON
	UpdatedAt time.Time `dynamodbav:"updatedAt"`
}

func (checkpointItem) Category() string             { return datamap.SweepCheckpoint }
func (c checkpointItem) KeyVars() map[string]string { return map[string]string{"sweep": c.Sweep} }
func (c checkpointItem) RetentionAnchor() time.Time { return c.UpdatedAt }
func checkpointKey() map[string]types.AttributeValue {
	return platform.Key{PK: "SWEEP#" + checkpointName, SK: "CHECKPOINT"}.Attributes()
}

// loadCheckpoint reads the stored checkpoint; nil when there is none (or it expired).
func (s *Sweep) loadCheckpoint(ctx context.Context) (*Checkpoint, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Tables[datamap.LedgerTable]),
		Key: checkpointKey(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("retention sweep: read the checkpoint: %w", err)
	}
	if out.Item == nil || platform.Expired(out.Item, s.now()) {
		return nil, nil
	}
	it, err := platform.Decode[checkpointItem](out.Item)
	if err != nil {
		return nil, fmt.Errorf("retention sweep: read the checkpoint: %w", err)
	}
	var cp Checkpoint
	if err := json.Unmarshal([]byte(it.State), &cp); err != nil {
		return nil, fmt.Errorf("retention sweep: read the checkpoint: %w", err)
	}
	return &cp, nil
}

// saveCheckpoint stores the checkpoint.
func (s *Sweep) saveCheckpoint(ctx context.Context, cp *Checkpoint) error {
	state, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	item, err := platform.Encode(checkpointItem{Sweep: checkpointName, State: string(state), UpdatedAt: s.now()}, s.Policy)
	if err != nil {
		return err
	}
	if _, err := s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Tables[datamap.LedgerTable]), Item: item}); err != nil {
		return fmt.Errorf("retention sweep: store the checkpoint: %w", err)
	}
	return nil
}

// clearCheckpoint removes the checkpoint of a run that is finished and recorded: the next invocation
// starts a new run.
func (s *Sweep) clearCheckpoint(ctx context.Context) error {
	_, err := s.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.Tables[datamap.LedgerTable]), Key: checkpointKey()})
	if err != nil {
		return fmt.Errorf("retention sweep: clear the checkpoint: %w", err)
	}
	return nil
}
