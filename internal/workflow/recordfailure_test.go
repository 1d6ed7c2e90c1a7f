package workflow_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/lethe-dev/lethe/internal/request"
)

// The failure path writes failed straight to the ledger, without a Lambda, so that it works when the
// functions do not: every machine's RecordFailure step is the request's Fail transition in ASL. Its
// condition must refuse exactly the statuses Fail refuses, and write the status and event Fail does.
func TestRecordFailureIsTheRequestsFailTransition(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(repo(t), "statemachines", "*.asl.json"))
	var refused []request.Status
	for _, s := range []request.Status{request.StatusReceived, request.StatusAwaitingVerification, request.StatusScheduled,
		request.StatusSoftDeleted, request.StatusCancelled, request.StatusHardDeleting, request.StatusAwaitingBackupRotation,
		request.StatusCompleted, request.StatusHeld, request.StatusDeclined, request.StatusFailed} {
		if !s.Failable() {
			refused = append(refused, s)
		}
	}
	slices.Sort(refused)
	in := regexp.MustCompile(`NOT \(#status IN \(([^)]*)\)\)`)
	placeholder := regexp.MustCompile(`:\w+`)
	found := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var def struct {
			States map[string]struct {
				Resource   string
				Parameters struct {
					UpdateExpression, ConditionExpression string
					ExpressionAttributeValues             map[string]map[string]any
				}
			}
		}
		if err := json.Unmarshal(b, &def); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		st, ok := def.States["RecordFailure"]
		if !ok {
			continue
		}
		found++
		p := st.Parameters
		m := in.FindStringSubmatch(p.ConditionExpression)
		if m == nil {
			t.Errorf("%s: RecordFailure's condition %q names no statuses it leaves alone", filepath.Base(f), p.ConditionExpression)
			continue
		}
		var got []request.Status
		for _, ph := range placeholder.FindAllString(m[1], -1) {
			got = append(got, request.Status(p.ExpressionAttributeValues[ph]["S"].(string)))
		}
		slices.Sort(got)
		if !slices.Equal(got, refused) {
			t.Errorf("%s: RecordFailure leaves %v alone, the request's Fail refuses %v", filepath.Base(f), got, refused)
		}
		if v := p.ExpressionAttributeValues[":failed"]["S"]; v != string(request.StatusFailed) {
			t.Errorf("%s: RecordFailure writes status %v, want %s", filepath.Base(f), v, request.StatusFailed)
		}
	}
	if found < 4 {
		t.Errorf("found RecordFailure in %d machines", found)
	}
}
