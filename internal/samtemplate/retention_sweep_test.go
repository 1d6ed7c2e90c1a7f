package samtemplate

import (
	"reflect"
	"testing"
)

// TestRetentionSweepFunction: the function is built like every other, runs daily from EventBridge
// Scheduler with the sample event's input and the 15-minute limit, plus hourly with continueOnly (a
// run its time budget cut short resumes within the hour; otherwise the invocation returns at once),
// and may scan the platform table, delete and update its items (never put or batch-write them),
// write the ledger, delete the files bucket's objects and send mail (the monthly retention report
// to the privacy officer), nothing else.
func TestRetentionSweepFunction(t *testing.T) {
	tmpl, root := loadRealRoot(t)
	decl, _ := tmpl.Raw()["Resources"].(map[string]any)["RetentionSweepFunction"].(map[string]any)
	if decl == nil || decl["Type"] != "AWS::Serverless::Function" {
		t.Fatalf("template.yaml has no function RetentionSweepFunction: %v", decl)
	}
	props := decl["Properties"].(map[string]any)
	if props["CodeUri"] != "." || dig(decl, "Metadata", "BuildMethod") != "makefile" || props["Timeout"] != 900 {
		t.Errorf("CodeUri %v, BuildMethod %v, Timeout %v", props["CodeUri"], dig(decl, "Metadata", "BuildMethod"), props["Timeout"])
	}
	if err := startsHandler(root, "retention-sweep", "RetentionSweep", "Sweep(g).Handle"); err != nil {
		t.Errorf("functions/retention-sweep/main.go does not start the RetentionSweep's Handle (%v)", err)
	}
	checkSchedules(t, root, props, "retention-sweep", map[string]schedule{
		"Daily":    {Expression: "rate(1 day)", Sample: "scheduled.json"},
		"Continue": {Expression: "rate(1 hour)", Input: `{"sweep": "retention", "continueOnly": true}`},
	})

	resolved, err := tmpl.Resolve(props["Policies"], sweepDeployed)
	if err != nil {
		t.Fatal(err)
	}
	statements, templates := splitPolicies(resolved)
	if want := map[string][]string{"DynamoDBCrudPolicy": {"t1-ledger"}}; !reflect.DeepEqual(templates, want) {
		t.Errorf("policy templates %v, want %v", templates, want)
	}
	platformARN := "arn:aws:dynamodb:eu-west-1:111122223333:table/t1-platform"
	analyticsARN := "arn:aws:dynamodb:eu-west-1:111122223333:table/t1-analytics"
	files := "arn:aws:s3:::t1-files-111122223333/"
	for _, c := range []struct {
		action, resource string
		want             bool
	}{
		{"dynamodb:DescribeTable", platformARN, true}, // the Scan's segments are sized to the table
		{"dynamodb:Scan", platformARN, true},
		{"dynamodb:DeleteItem", platformARN, true},
		{"dynamodb:UpdateItem", platformARN, true},
		{"dynamodb:GetItem", platformARN, true}, // a legal hold's scope is walked
		{"dynamodb:Query", platformARN + "/index/GSI1", true},
		{"dynamodb:PutItem", platformARN, false},
		{"dynamodb:BatchWriteItem", platformARN, false},
		{"dynamodb:Scan", analyticsARN, false},
		{"dynamodb:DescribeTable", analyticsARN, false},
		{"dynamodb:DeleteItem", analyticsARN, false},
		{"s3:DeleteObject", files + "accounts/a1/bots/b1/users/u1/files/f1", true},
		{"s3:GetObject", files + "accounts/a1/bots/b1/users/u1/files/f1", false},
		{"s3:PutObjectTagging", files + "accounts/a1/bots/b1/users/u1/files/f1", true}, // a hold's files
		{"s3:GetObjectTagging", files + "accounts/a1/bots/b1/users/u1/files/f1", true},
		{"s3:ListBucket", "arn:aws:s3:::t1-files-111122223333", true},
		{"s3:PutObject", files + "accounts/a1/bots/b1/users/u1/files/f1", false},
		{"ses:SendEmail", "arn:aws:ses:eu-west-1:111122223333:identity/example.com", true},
		{"ses:SendRawEmail", "arn:aws:ses:eu-west-1:111122223333:identity/example.com", false},
		{"ses:SendEmail", "arn:aws:ses:eu-west-1:444455556666:identity/example.com", false},
		{"states:StartExecution", "arn:aws:states:eu-west-1:111122223333:stateMachine:t1-account-deletion", false},
	} {
		if got := grants(statements, c.action, c.resource); got != c.want {
			t.Errorf("%s on %s: granted %v, want %v", c.action, c.resource, got, c.want)
		}
	}
}
