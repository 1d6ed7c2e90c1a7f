package evidence_test

import (
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/platform"
)

// The items land where the data map puts evidence, expire exactly 3 years after completion (no
// safety margin: the law asks for the proof to be kept, not to be gone early) and decode back.
func TestItemsAreStoredAsEvidence(t *testing.T) {
	completed := time.Date(2026, 11, 22, 14, 5, 9, 0, time.UTC)
	all := make([]evidence.Subject, 2500)
	for i := range all {
		all[i] = evidence.Subject{Kind: evidence.SubjectEndUser, ID: "eu-" + strconv.Itoa(i)}
	}
	r := evidence.Record{RequestID: "req-42", CompletedAt: completed, Subjects: all[:evidence.MaxInlineSubjects], SubjectCount: 2500}
	items := evidence.Items(r, all)
	wantSK := []string{"EVIDENCE#record", "EVIDENCE#subjects#0001", "EVIDENCE#subjects#0002"}
	if len(items) != len(wantSK) {
		t.Fatalf("%d items, want %d", len(items), len(wantSK))
	}
	wantExp := strconv.FormatInt(completed.AddDate(3, 0, 0).Unix(), 10)
	for _, policy := range []datamap.Policy{{}, {SafetyMargin: datamap.DefaultSafetyMargin}} {
		for i, it := range items {
			var rec platform.Record = it
			av, err := platform.Encode(rec, policy)
			if err != nil {
				t.Fatal(err)
			}
			for attr, want := range map[string]string{platform.AttrPK: "R#req-42", platform.AttrSK: wantSK[i],
				platform.AttrCategory: datamap.Evidence, "requestId": "req-42", "part": it.Part} {
				if got := str(av[attr]); got != want {
					t.Errorf("%s: %s = %q, want %q", it.Part, attr, got, want)
				}
			}
			if _, ok := av["body"].(*types.AttributeValueMemberS); !ok {
				t.Errorf("%s: no body", it.Part)
			}
			exp, ok := av[platform.AttrExpiresAt].(*types.AttributeValueMemberN)
			if !ok || exp.Value != wantExp {
				t.Errorf("%s: expiresAt %v, want %s (completedAt + 3 years)", it.Part, av[platform.AttrExpiresAt], wantExp)
			}
			back, err := platform.Decode[evidence.Item](av)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, it) {
				t.Errorf("decoded %+v, want %+v", back, it)
			}
		}
	}
}

func str(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}
