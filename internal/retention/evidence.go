package retention

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/deletion"
	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/platform"
)

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

// journal keeps the evidence of the sweep's runs, through the sweep's own client.
func (s *Sweep) journal() evidence.Journal {
	return evidence.Journal{Store: platform.NewStore(s.DB, platform.Tables(s.Tables), s.Policy, s.now)}
}

// drawUpAct draws up the act of destruction and journal extract of a finished run that destroyed
// something: reason retention_expired, the categories and counts, every subject by identifier. It
// returns false when there is nothing to record (nothing destroyed, or no subject named).
// performedBy names who or what destroyed the data ("" for the sweep itself).
func (s *Sweep) drawUpAct(ctx context.Context, cp *Checkpoint, performedBy string) (bool, error) {
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
	subjects, err := s.journal().Subjects(ctx, cp.RunID)
	if err != nil {
		return false, fmt.Errorf("retention sweep: read the journal: %w", err)
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
		Destroyed: destroyed, Method: evidence.MethodLogicalErasure,
		AuthorizedBy: authorized,
		PerformedBy:  cmp.Or(performedBy, "Lethe retention sweep, request "+cp.RunID),
		StartedAt:    cp.StartedAt, CompletedAt: s.now(),
	}
	if err := s.journal().DrawUpFromJournal(ctx, rec, subjects); err != nil {
		return false, fmt.Errorf("retention sweep: evidence of %s: %w", cp.RunID, err)
	}
	return true, nil
}
