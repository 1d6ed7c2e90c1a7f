package samtemplate

import (
	"reflect"
	"testing"

	"github.com/lethe-dev/lethe/internal/config"
)

var sweepDeployed = Env{StackName: "t1", Region: "eu-west-1", AccountID: "111122223333"}

// TestTemplateFunction: the function is built like every other, runs hourly from EventBridge
// Scheduler with the sample event's input, and may read the platform table, update (never put or
// delete) its items, write the ledger and start the connection-wipe machine, and nothing else.
func TestTelegramSweepFunction(t *testing.T) {
	tmpl, root := loadRealRoot(t)
	resolve := func(v any) any {
		t.Helper()
		out, err := tmpl.Resolve(v, sweepDeployed)
		if err != nil {
			t.Fatalf("resolve %v: %v", v, err)
		}
		return out
	}
	decl, _ := tmpl.Raw()["Resources"].(map[string]any)["TelegramSweepFunction"].(map[string]any)
	if decl == nil || decl["Type"] != "AWS::Serverless::Function" {
		t.Fatalf("template.yaml has no function TelegramSweepFunction: %v", decl)
	}
	props := decl["Properties"].(map[string]any)
	if props["CodeUri"] != "." || dig(decl, "Metadata", "BuildMethod") != "makefile" || props["Timeout"] != 300 {
		t.Errorf("CodeUri %v, BuildMethod %v, Timeout %v", props["CodeUri"], dig(decl, "Metadata", "BuildMethod"), props["Timeout"])
	}
	// make's build-TelegramSweepFunction builds functions/telegram-sweep, whose main starts the sweep.
	if err := startsHandler(root, "telegram-sweep", "TelegramSweep", "telegramSweepOf(g).Handle"); err != nil {
		t.Errorf("functions/telegram-sweep/main.go does not start the TelegramSweep's Handle (%v)", err)
	}
	if got := dig(props, "Environment", "Variables", config.EnvTelegramAPIBaseURL); got != config.DefaultTelegramAPIBaseURL {
		t.Errorf("%s = %v, want %s", config.EnvTelegramAPIBaseURL, got, config.DefaultTelegramAPIBaseURL)
	}

	checkSchedule(t, root, props, "telegram-sweep", "Hourly", "rate(1 hour)")

	statements, templates := splitPolicies(resolve(props["Policies"]))
	if want := map[string][]string{"DynamoDBReadPolicy": {"t1-platform"}, "DynamoDBCrudPolicy": {"t1-ledger"}}; !reflect.DeepEqual(templates, want) {
		t.Errorf("policy templates %v, want %v", templates, want)
	}
	platformARN := "arn:aws:dynamodb:eu-west-1:111122223333:table/t1-platform"
	machine := func(name string) string {
		return "arn:aws:states:eu-west-1:111122223333:stateMachine:t1-" + name
	}
	for _, c := range []struct {
		action, resource string
		want             bool
	}{
		{"dynamodb:UpdateItem", platformARN, true},
		{"dynamodb:PutItem", platformARN, false},
		{"dynamodb:DeleteItem", platformARN, false},
		{"dynamodb:BatchWriteItem", platformARN, false},
		{"states:StartExecution", machine("connection-wipe"), true},
		{"states:StartExecution", machine("account-deletion"), false},
		{"states:StartExecution", machine("end-user-deletion"), false},
		{"states:StopExecution", machine("connection-wipe"), false},
		{"ses:SendEmail", "arn:aws:ses:eu-west-1:111122223333:identity/example.com", false},
	} {
		if got := grants(statements, c.action, c.resource); got != c.want {
			t.Errorf("%s on %s: granted %v, want %v", c.action, c.resource, got, c.want)
		}
	}
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}
