package samtemplate

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// TestSlaSweepFunction: the SLA sweep (internal/slasweep) is built by the Makefile's
// build-%Function rule from functions/sla-sweep, runs hourly from EventBridge Scheduler with the
// sample event's input, and may read and write the ledger, start and describe executions of the
// four deletion machines, and send mail; nothing on the platform table or the files bucket.
func TestSlaSweepFunction(t *testing.T) {
	tmpl, root := loadRealRoot(t)
	const logical = "SlaSweepFunction"
	decl, _ := tmpl.Raw()["Resources"].(map[string]any)[logical].(map[string]any)
	if decl == nil || decl["Type"] != "AWS::Serverless::Function" {
		t.Fatalf("template.yaml has no function %s: %v", logical, decl)
	}
	props := decl["Properties"].(map[string]any)
	if props["CodeUri"] != "." || dig(decl, "Metadata", "BuildMethod") != "makefile" {
		t.Errorf("CodeUri %v, BuildMethod %v", props["CodeUri"], dig(decl, "Metadata", "BuildMethod"))
	}
	// The Makefile's rule: sed -E 's/([a-z0-9])([A-Z])/\1-\2/g' | tr 'A-Z' 'a-z' on the id without "Function".
	folder := strings.ToLower(regexp.MustCompile(`([a-z0-9])([A-Z])`).ReplaceAllString(strings.TrimSuffix(logical, "Function"), "$1-$2"))
	if folder != "sla-sweep" {
		t.Fatalf("make build-%s builds functions/%s, not functions/sla-sweep", logical, folder)
	}
	if err := startsHandler(root, folder, "SLASweep", "Sweep(g).Handle"); err != nil {
		t.Errorf("functions/%s/main.go does not start the SLASweep's Handle (%v)", folder, err)
	}

	checkSchedule(t, root, props, folder, "Hourly", "rate(1 hour)")

	resolved, err := tmpl.Resolve(props["Policies"], sweepDeployed)
	if err != nil {
		t.Fatal(err)
	}
	statements, templates := splitPolicies(resolved)
	if want := map[string][]string{"DynamoDBCrudPolicy": {"t1-ledger"}, "DynamoDBReadPolicy": {"t1-platform"}}; !reflect.DeepEqual(templates, want) {
		t.Errorf("policy templates %v, want %v", templates, want)
	}
	arn := func(kind, name string) string {
		return "arn:aws:states:eu-west-1:111122223333:" + kind + ":t1-" + name
	}
	type check struct {
		action, resource string
		want             bool
	}
	checks := []check{
		{"ses:SendEmail", "arn:aws:ses:eu-west-1:111122223333:identity/example.com", true},
		{"dynamodb:UpdateItem", "arn:aws:dynamodb:eu-west-1:111122223333:table/t1-platform", false},
		{"dynamodb:DeleteItem", "arn:aws:dynamodb:eu-west-1:111122223333:table/t1-platform", false},
		{"s3:DeleteObject", "arn:aws:s3:::t1-files/accounts/a", false},
		{"states:StartExecution", arn("stateMachine", "erase-scope"), false},
	}
	for _, m := range []string{"account-deletion", "end-user-deletion", "connection-wipe", "end-customer-request"} {
		checks = append(checks,
			check{"states:StartExecution", arn("stateMachine", m), true},
			check{"states:DescribeExecution", arn("execution", m) + ":01KJ0000000000000000000000-r1", true},
			check{"states:StopExecution", arn("execution", m) + ":01KJ0000000000000000000000", false},
			check{"states:SendTaskSuccess", arn("stateMachine", m), false})
	}
	for _, c := range checks {
		if got := grants(statements, c.action, c.resource); got != c.want {
			t.Errorf("%s on %s: granted %v, want %v", c.action, c.resource, got, c.want)
		}
	}
}
