package retention

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
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
	// Positions holds, per logical table, each segment's position: one per segment, so their number
	// is the table's TotalSegments, fixed when the run begins (a resumed run keeps it whatever
	// Sweep.Segments or the tables' sizes say now).
	Positions map[string][]Position `json:"positions"`
	// Categories is what the run has done so far, per category.
	Categories map[string]*CategoryReport `json:"categories,omitempty"`
	// Invocations counts the invocations the run took so far.
	Invocations int `json:"invocations"`
	// ReleasedHolds are the legal holds whose data, kept until their release, the run destroyed
	// (the act names them).
	ReleasedHolds []string `json:"releasedHolds,omitempty"`

	// owner is the lease of the invocation working on the run (not stored in the state).
	owner string
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

// segmentsOf is the TotalSegments of a table's scan in this run.
func (c *Checkpoint) segmentsOf(logical string) int { return len(c.Positions[logical]) }

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

// checkpointItem is the stored checkpoint (datamap.SweepCheckpoint). It also carries the lease of
// the invocation running the sweep: an item with a lease and no state is a lease on no run yet.
type checkpointItem struct {
	Sweep     string    `dynamodbav:"sweep"`
	State     string    `dynamodbav:"state,omitempty"` // the Checkpoint as JSON
	UpdatedAt time.Time `dynamodbav:"updatedAt"`
	// Owner is the invocation holding the lease until LeaseUntil (Unix seconds, wall clock).
	Owner      string `dynamodbav:"owner,omitempty"`
	LeaseUntil int64  `dynamodbav:"leaseUntil,omitempty"`
}

// leaseFor outlasts the longest Lambda invocation (15 minutes): a lease whose holder died is free
// by the time the next scheduled invocation comes.
const leaseFor = 16 * time.Minute

// errBusy: another invocation holds the lease.
var errBusy = errors.New("retention sweep: another invocation holds the run")

// errLeaseLost: this invocation's lease was taken over (it outlived leaseFor); it stops without
// writing.
var errLeaseLost = errors.New("retention sweep: the lease on the run was lost")

func (checkpointItem) Category() string             { return datamap.SweepCheckpoint }
func (c checkpointItem) KeyVars() map[string]string { return map[string]string{"sweep": c.Sweep} }
func (c checkpointItem) RetentionAnchor() time.Time { return c.UpdatedAt }
func checkpointKey() map[string]types.AttributeValue {
	return mustKey(checkpointItem{Sweep: checkpointName}).Attributes()
}

// mustKey is the key of one of the sweep's own records, whose key values are constants of this
// package: a failure is a programming error.
func mustKey(r platform.Record) platform.Key {
	k, err := platform.RecordKey(r)
	if err != nil {
		panic("retention: " + err.Error())
	}
	return k
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
	if it.State == "" {
		return nil, nil // a lease, no run
	}
	var cp Checkpoint
	if err := json.Unmarshal([]byte(it.State), &cp); err != nil {
		return nil, fmt.Errorf("retention sweep: read the checkpoint: %w", err)
	}
	return &cp, nil
}

// acquire takes the lease on the sweep for this invocation, or fails with errBusy while another
// invocation holds it. It keeps the stored checkpoint as it is.
func (s *Sweep) acquire(ctx context.Context) (string, error) {
	owner := platform.NewID(time.Now())
	now := s.now()
	expires, _ := s.Policy.ExpiresAt(datamap.MustLookup(datamap.SweepCheckpoint), now)
	_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.Tables[datamap.LedgerTable]),
		Key:       checkpointKey(),
		UpdateExpression: aws.String("SET #owner = :owner, #lease = :lease, #sweep = if_not_exists(#sweep, :sweep), " +
			"#cat = if_not_exists(#cat, :cat), #upd = if_not_exists(#upd, :upd), #exp = if_not_exists(#exp, :exp)"),
		ConditionExpression: aws.String("attribute_not_exists(#owner) OR #lease < :wall"),
		ExpressionAttributeNames: map[string]string{"#owner": "owner", "#lease": "leaseUntil", "#sweep": "sweep",
			"#cat": platform.AttrCategory, "#upd": "updatedAt", "#exp": platform.AttrExpiresAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":owner": &types.AttributeValueMemberS{Value: owner},
			":lease": &types.AttributeValueMemberN{Value: strconv.FormatInt(time.Now().Add(leaseFor).Unix(), 10)},
			":wall":  &types.AttributeValueMemberN{Value: strconv.FormatInt(time.Now().Unix(), 10)},
			":sweep": &types.AttributeValueMemberS{Value: checkpointName},
			":cat":   &types.AttributeValueMemberS{Value: datamap.SweepCheckpoint},
			":upd":   &types.AttributeValueMemberS{Value: now.Format(time.RFC3339Nano)},
			":exp":   &types.AttributeValueMemberN{Value: strconv.FormatInt(expires.Unix(), 10)},
		},
	})
	var cf *types.ConditionalCheckFailedException
	if errors.As(err, &cf) {
		return "", errBusy
	}
	if err != nil {
		return "", fmt.Errorf("retention sweep: take the lease: %w", err)
	}
	return owner, nil
}

// saveCheckpoint stores the checkpoint, keeping its invocation's lease.
func (s *Sweep) saveCheckpoint(ctx context.Context, cp *Checkpoint) error {
	return s.put(ctx, cp.owner, cp, true)
}

// release ends owner's lease, storing cp (nil: no run; the lease item goes).
func (s *Sweep) release(ctx context.Context, owner string, cp *Checkpoint) error {
	if cp == nil {
		return s.clearCheckpoint(ctx, owner)
	}
	return s.put(ctx, owner, cp, false)
}

// put writes the checkpoint if owner holds the lease; hold keeps the lease, else it ends.
func (s *Sweep) put(ctx context.Context, owner string, cp *Checkpoint, hold bool) error {
	state, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	return s.putState(ctx, owner, state, hold)
}

// putState writes a marshalled checkpoint as put does.
func (s *Sweep) putState(ctx context.Context, owner string, state []byte, hold bool) error {
	it := checkpointItem{Sweep: checkpointName, State: string(state), UpdatedAt: s.now()}
	if hold {
		it.Owner, it.LeaseUntil = owner, time.Now().Add(leaseFor).Unix()
	}
	item, err := platform.Encode(it, s.Policy)
	if err != nil {
		return err
	}
	cond, names, vals := held(owner)
	_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Tables[datamap.LedgerTable]), Item: item,
		ConditionExpression: cond, ExpressionAttributeNames: names, ExpressionAttributeValues: vals})
	return leaseError("store the checkpoint", err)
}

// held is the condition that owner still holds the lease.
func held(owner string) (*string, map[string]string, map[string]types.AttributeValue) {
	return aws.String("#owner = :owner"), map[string]string{"#owner": "owner"},
		map[string]types.AttributeValue{":owner": &types.AttributeValueMemberS{Value: owner}}
}

// leaseError names a write's failure; a failed held condition is errLeaseLost.
func leaseError(what string, err error) error {
	var cf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &cf):
		return errLeaseLost
	case err != nil:
		return fmt.Errorf("retention sweep: %s: %w", what, err)
	}
	return nil
}

// clearCheckpoint removes the checkpoint (and owner's lease) of a run that is finished and
// recorded: the next invocation starts a new run.
func (s *Sweep) clearCheckpoint(ctx context.Context, owner string) error {
	cond, names, vals := held(owner)
	_, err := s.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.Tables[datamap.LedgerTable]), Key: checkpointKey(),
		ConditionExpression: cond, ExpressionAttributeNames: names, ExpressionAttributeValues: vals})
	return leaseError("clear the checkpoint", err)
}
