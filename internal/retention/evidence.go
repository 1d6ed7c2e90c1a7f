package retention

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/bulkwrite"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/deletion"
	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/platform"
)

// journalPrefix names the evidence parts that record, page by page, whose data a run destroyed
// (the same prefix internal/deletion uses, so its readers skip them as they skip its own).
const journalPrefix = "journal#"

// journalChunk bounds the subjects of one journal part (far under DynamoDB's 400 KB item limit).
const journalChunk = 1000

// subjectOf is whose data an expired item was, by identifier only: the end user it is about, or the
// account it belongs to. ok is false for items that name neither (evidence parts).
func subjectOf(item map[string]types.AttributeValue) (evidence.Subject, bool) {
	str := func(name string) string {
		if v, ok := item[name].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	if id := str("endUserId"); id != "" {
		return evidence.Subject{Kind: evidence.SubjectEndUser, ID: id}, true
	}
	if id := str("accountId"); id != "" && id != "-" {
		return evidence.Subject{Kind: evidence.SubjectAccountOwner, ID: id}, true
	}
	return evidence.Subject{}, false
}

// journal stores the subjects of deletions made one request each under the run's request, before
// the position of their page is stored: a run that fails later still has them. (Deletions made in a
// transaction carry their journal part in it.)
func (s *Sweep) journal(ctx context.Context, runID string, subjects map[evidence.Subject]bool) error {
	parts, err := s.journalParts(runID, subjects)
	if err != nil || len(parts) == 0 {
		return err
	}
	var reqs []bulkwrite.Request
	for _, item := range parts {
		reqs = append(reqs, bulkwrite.Request{Table: s.Tables[datamap.LedgerTable], Write: types.WriteRequest{PutRequest: &types.PutRequest{Item: item}}})
	}
	w := bulkwrite.Writer{DB: s.DB, Workers: 1}
	if _, err := w.WriteAll(ctx, reqs); err != nil {
		return fmt.Errorf("retention sweep: journal the subjects: %w", err)
	}
	return nil
}

// journalParts are the evidence parts that name subjects, journalChunk to a part.
func (s *Sweep) journalParts(runID string, subjects map[evidence.Subject]bool) ([]map[string]types.AttributeValue, error) {
	if len(subjects) == 0 {
		return nil, nil
	}
	list := slices.SortedFunc(maps.Keys(subjects), func(a, b evidence.Subject) int {
		return strings.Compare(a.Kind+"/"+a.ID, b.Kind+"/"+b.ID)
	})
	now := s.now()
	var parts []map[string]types.AttributeValue
	for i := 0; i < len(list); i += journalChunk {
		body, err := json.Marshal(list[i:min(i+journalChunk, len(list))])
		if err != nil {
			return nil, err
		}
		item, err := platform.Encode(evidence.Item{RequestID: runID, Part: journalPrefix + platform.NewID(now),
			Body: string(body), CompletedAt: now}, s.Policy)
		if err != nil {
			return nil, err
		}
		parts = append(parts, item)
	}
	return parts, nil
}

// subjects reads back every subject a run journaled, each once.
func (s *Sweep) subjects(ctx context.Context, runID string) ([]evidence.Subject, error) {
	seen := map[evidence.Subject]bool{}
	var out []evidence.Subject
	ev := datamap.MustLookup(datamap.Evidence)
	pk, err := ev.Partition("", map[string]string{"request": runID})
	if err != nil {
		return nil, fmt.Errorf("retention sweep: read the journal: %w", err)
	}
	in := &dynamodb.QueryInput{TableName: aws.String(s.Tables[datamap.LedgerTable]), ConsistentRead: aws.Bool(true),
		KeyConditionExpression:   aws.String("#pk = :pk AND begins_with(#sk, :p)"),
		ExpressionAttributeNames: map[string]string{"#pk": platform.AttrPK, "#sk": platform.AttrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: pk},
			":p":  &types.AttributeValueMemberS{Value: ev.SKPrefix() + journalPrefix}}}
	for {
		page, err := s.DB.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("retention sweep: read the journal: %w", err)
		}
		for _, it := range page.Items {
			var item evidence.Item
			if err := attributevalue.UnmarshalMap(it, &item); err != nil {
				return nil, err
			}
			var subs []evidence.Subject
			if err := json.Unmarshal([]byte(item.Body), &subs); err != nil {
				return nil, fmt.Errorf("retention sweep: journal part %s: %w", item.Part, err)
			}
			for _, x := range subs {
				if !seen[x] {
					seen[x] = true
					out = append(out, x)
				}
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// writeEvidence draws up the act of destruction and journal extract of a finished run that destroyed
// something: reason retention_expired, the categories and counts, every subject by identifier. It
// returns false when there is nothing to record (nothing destroyed, or no subject named).
// performedBy names who or what destroyed the data ("" for the sweep itself).
func (s *Sweep) writeEvidence(ctx context.Context, cp *Checkpoint, performedBy string) (bool, error) {
	var destroyed []evidence.CategoryCount
	for _, cat := range slices.Sorted(maps.Keys(cp.Categories)) {
		c := cp.Categories[cat]
		n := c.Deleted
		if n == 0 && c.Objects > 0 {
			n = c.Objects // only files went: recorded under the category whose files they are
		}
		if n > 0 {
			destroyed = append(destroyed, evidence.CategoryCount{Category: cat, Count: n})
		}
	}
	if len(destroyed) == 0 {
		return false, nil
	}
	subjects, err := s.subjects(ctx, cp.RunID)
	if err != nil {
		return false, err
	}
	if len(subjects) == 0 {
		s.log().Warn("retention sweep: the run destroyed items that name no subject; no act drawn up", "run", cp.RunID)
		return false, nil
	}
	authorized := fmt.Sprintf("%s (retention rules of the data map; request %s, %s)", Source, cp.RunID, cp.StartedAt.UTC().Format(time.DateOnly))
	if len(cp.ReleasedHolds) > 0 {
		authorized += "; data kept under legal hold " + strings.Join(cp.ReleasedHolds, ", ") + " until its release"
	}
	rec := evidence.Record{
		RequestID: cp.RunID, RequestKind: string(KindRetentionExpiry), Reason: evidence.ReasonRetentionExpired,
		Operator: s.Operator, InformationSystem: deletion.InformationSystem,
		Subjects: subjects[:min(len(subjects), evidence.MaxInlineSubjects)], SubjectCount: int64(len(subjects)),
		Destroyed: destroyed, Method: evidence.MethodLogicalErasure,
		AuthorizedBy: authorized,
		PerformedBy:  cmp.Or(performedBy, "Lethe retention sweep, request "+cp.RunID),
		StartedAt:    cp.StartedAt, CompletedAt: s.now(),
	}
	if err := rec.Validate(); err != nil {
		return false, fmt.Errorf("retention sweep: evidence of %s: %w", cp.RunID, err)
	}
	var reqs []bulkwrite.Request
	for _, it := range evidence.Items(rec, subjects) {
		item, err := platform.Encode(it, s.Policy)
		if err != nil {
			return false, err
		}
		reqs = append(reqs, bulkwrite.Request{Table: s.Tables[datamap.LedgerTable], Write: types.WriteRequest{PutRequest: &types.PutRequest{Item: item}}})
	}
	w := bulkwrite.Writer{DB: s.DB}
	if _, err := w.WriteAll(ctx, reqs); err != nil {
		return false, fmt.Errorf("retention sweep: store the evidence: %w", err)
	}
	return true, nil
}
