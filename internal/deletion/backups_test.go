package deletion_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/samtemplate"
)

// The final mail says destroyed data are gone from backups once BackupRotation has passed. That is
// true only if every backup template.yaml keeps expires within it: each table's point-in-time
// recovery window (AWS keeps 35 days when RecoveryPeriodInDays is absent) and each versioned
// bucket's noncurrent versions. The workflow's deadline counts the same days.
func TestBackupsRotateWithinTheWorkflowsWait(t *testing.T) {
	days := int(request.BackupRotation / (24 * time.Hour))
	if request.BackupRotationDays != days {
		t.Fatalf("the workflow counts %d days of backup rotation, the deletion %d", request.BackupRotationDays, days)
	}
	path, err := samtemplate.Find()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := samtemplate.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	tables, buckets := 0, 0
	for id, r := range tpl.Raw()["Resources"].(map[string]any) {
		res, _ := r.(map[string]any)
		props, _ := res["Properties"].(map[string]any)
		switch res["Type"] {
		case "AWS::DynamoDB::Table":
			tables++
			pitr, _ := props["PointInTimeRecoverySpecification"].(map[string]any)
			if pitr["PointInTimeRecoveryEnabled"] != true {
				t.Errorf("%s: no point-in-time recovery", id)
				continue
			}
			if got := fmt.Sprint(pitr["RecoveryPeriodInDays"]); got != fmt.Sprint(days) {
				t.Errorf("%s keeps point-in-time backups %s days, the workflow waits %d", id, got, days)
			}
		case "AWS::S3::Bucket":
			v, _ := props["VersioningConfiguration"].(map[string]any)
			if v["Status"] != "Enabled" {
				continue
			}
			buckets++
			ok := false
			lc, _ := props["LifecycleConfiguration"].(map[string]any)
			rules, _ := lc["Rules"].([]any)
			for _, rr := range rules {
				rule, _ := rr.(map[string]any)
				exp, _ := rule["NoncurrentVersionExpiration"].(map[string]any)
				n, isInt := exp["NoncurrentDays"].(int)
				if rule["Status"] == "Enabled" && rule["Prefix"] == nil && rule["Filter"] == nil && isInt && n <= days {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%s is versioned without a bucket-wide rule expiring noncurrent versions within %d days", id, days)
			}
		}
	}
	if tables == 0 || buckets == 0 {
		t.Fatalf("found %d tables and %d versioned buckets in the template", tables, buckets)
	}
}
