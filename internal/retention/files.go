package retention

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
)

// The S3 objects of the items a group deletes are deleted after the group's writes and its second
// look at the holds epoch, so that a legal hold placed meanwhile spares them too (fast.go). A
// pending record, written with the group's journal part before its deletions, keeps their keys and
// their items' keys until they are gone: a run that stops in between leaves it, and the next run
// deletes those whose item is gone (deletePendingFiles) — an item whose conditional delete did not
// happen keeps its files.

// pendingFilesPK is the partition of the pending records; they name no category (the sweep passes
// them) and carry no TTL (they go once their files have).
const pendingFilesPK = "RETENTION#FILES"

// pendingFile is one S3 object of a deleted item.
type pendingFile struct {
	Category string `json:"c"`
	Key      string `json:"k"`
	// PK and SK are the key of the item the file is of, in its category's table; records written
	// before the sweep's writes were plain have none (their items went in the same transaction).
	PK string `json:"pk,omitempty"`
	SK string `json:"sk,omitempty"`
}

// pendingFiles is the pending record of the files of a group's removals; nil when they have none.
func (s *Sweep) pendingFiles(runID string, changes []*change) (map[string]types.AttributeValue, error) {
	var files []pendingFile
	for _, c := range changes {
		if c.d.action == remove {
			for _, k := range c.keys {
				files = append(files, pendingFile{Category: c.d.category.Name, Key: k,
					PK: platform.AttrString(c.item[platform.AttrPK]), SK: platform.AttrString(c.item[platform.AttrSK])})
			}
		}
	}
	if len(files) == 0 {
		return nil, nil
	}
	body, err := json.Marshal(files)
	if err != nil {
		return nil, err
	}
	return map[string]types.AttributeValue{
		platform.AttrPK: &types.AttributeValueMemberS{Value: pendingFilesPK},
		platform.AttrSK: &types.AttributeValueMemberS{Value: runID + "#" + platform.NewID(s.now())},
		"files":         &types.AttributeValueMemberS{Value: string(body)},
	}, nil
}

// deleteFiles deletes the files of the removals just made (those not made keep theirs) and then
// their pending record; a failure leaves the record for the next run.
func (s *Sweep) deleteFiles(ctx context.Context, changes []*change, record map[string]types.AttributeValue) {
	if record == nil {
		return
	}
	var failed error
	for _, c := range changes {
		if c.d.action != remove || len(c.keys) == 0 || !c.applied {
			continue
		}
		c.objects, c.filesErr = s.deleteObjects(ctx, c.d.category, c.keys)
		failed = errors.Join(failed, c.filesErr)
	}
	if failed != nil {
		return
	}
	if err := s.dropPending(ctx, record); err != nil {
		s.log().Warn("retention sweep: files deleted, their pending record left for the next run", "err", err)
	}
}

func (s *Sweep) dropPending(ctx context.Context, record map[string]types.AttributeValue) error {
	_, err := s.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.Tables[datamap.LedgerTable]),
		Key: map[string]types.AttributeValue{platform.AttrPK: record[platform.AttrPK], platform.AttrSK: record[platform.AttrSK]}})
	return err
}

// deletePendingFiles deletes the files that earlier runs' deletions left pending, and their records:
// a file whose item is still stored (its conditional delete did not happen, or a hold put it back)
// is its item's again, and stays.
func (s *Sweep) deletePendingFiles(ctx context.Context) error {
	in := &dynamodb.QueryInput{TableName: aws.String(s.Tables[datamap.LedgerTable]), ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": platform.AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pendingFilesPK}}}
	for {
		page, err := s.DB.Query(ctx, in)
		if err != nil {
			return fmt.Errorf("retention sweep: read the pending files: %w", err)
		}
		for _, rec := range page.Items {
			var files []pendingFile
			if err := json.Unmarshal([]byte(platform.AttrString(rec["files"])), &files); err != nil {
				return fmt.Errorf("retention sweep: a pending files record: %w", err)
			}
			byCat := map[string][]string{}
			stored := map[[3]string]bool{} // by category, pk, sk: an item's files are read for once
			for _, f := range files {
				if f.PK != "" {
					k := [3]string{f.Category, f.PK, f.SK}
					there, seen := stored[k]
					if !seen {
						var err error
						if there, err = s.stillStored(ctx, f); err != nil {
							return fmt.Errorf("retention sweep: read the item of a pending file: %w", err)
						}
						stored[k] = there
					}
					if there {
						continue
					}
				}
				byCat[f.Category] = append(byCat[f.Category], f.Key)
			}
			for cat, keys := range byCat {
				c, _ := datamap.Lookup(cat)
				if _, err := s.deleteObjects(ctx, c, keys); err != nil {
					return fmt.Errorf("retention sweep: delete pending files: %w", err)
				}
			}
			if err := s.dropPending(ctx, rec); err != nil {
				return err
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// stillStored reports whether the item a pending file is of is stored (a strongly consistent read).
func (s *Sweep) stillStored(ctx context.Context, f pendingFile) (bool, error) {
	c, ok := datamap.Lookup(f.Category)
	if !ok {
		return false, fmt.Errorf("unknown category %q", f.Category)
	}
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Tables[c.Location.Table]), ConsistentRead: aws.Bool(true),
		Key:                  map[string]types.AttributeValue{platform.AttrPK: &types.AttributeValueMemberS{Value: f.PK}, platform.AttrSK: &types.AttributeValueMemberS{Value: f.SK}},
		ProjectionExpression: aws.String("#pk"), ExpressionAttributeNames: map[string]string{"#pk": platform.AttrPK}})
	if err != nil {
		return false, err
	}
	return len(out.Item) > 0, nil
}
