package samtemplate

import (
	"reflect"
	"testing"

	"github.com/lethe-dev/lethe/internal/config"
)

var sweepDeployed = Env{StackName: "t1", Region: "eu-west-1", AccountID: "111122223333"}

// TestChannelSweepFunction: the function is built like every other, runs hourly from EventBridge
// Scheduler with the sample event's input, is given every channel's API, and may Query the platform
// table's slots (GSI3) and a page's connections (GSI1), read and update (never scan, put or delete)
// its items, write the ledger and start the connection-wipe machine, and nothing else.
func TestChannelSweepFunction(t *testing.T) {
	tmpl, root := loadRealRoot(t)
	resolve := func(v any) any {
		t.Helper()
		out, err := tmpl.Resolve(v, sweepDeployed)
		if err != nil {
			t.Fatalf("resolve %v: %v", v, err)
		}
		return out
	}
	decl, _ := tmpl.Raw()["Resources"].(map[string]any)["ChannelSweepFunction"].(map[string]any)
	if decl == nil || decl["Type"] != "AWS::Serverless::Function" {
		t.Fatalf("template.yaml has no function ChannelSweepFunction: %v", decl)
	}
	props := decl["Properties"].(map[string]any)
	if props["CodeUri"] != "." || dig(decl, "Metadata", "BuildMethod") != "makefile" || props["Timeout"] != 300 {
		t.Errorf("CodeUri %v, BuildMethod %v, Timeout %v", props["CodeUri"], dig(decl, "Metadata", "BuildMethod"), props["Timeout"])
	}
	// make's build-ChannelSweepFunction builds functions/channel-sweep, whose main starts the sweep.
	if err := startsHandler(root, "channel-sweep", "ChannelSweep", "Sweep(g).Handle"); err != nil {
		t.Errorf("functions/channel-sweep/main.go does not start the ChannelSweep's Handle (%v)", err)
	}
	// Every channel's real API, as the configuration's defaults name them.
	for env, want := range map[string]string{
		config.EnvTelegramAPIBaseURL: config.DefaultTelegramAPIBaseURL, config.EnvMetaGraphBaseURL: config.DefaultMetaGraphBaseURL,
		config.EnvSlackAPIBaseURL: config.DefaultSlackAPIBaseURL, config.EnvVKAPIBaseURL: config.DefaultVKAPIBaseURL,
		config.EnvViberAPIBaseURL: config.DefaultViberAPIBaseURL,
	} {
		if got := dig(props, "Environment", "Variables", env); got != want {
			t.Errorf("%s = %v, want %s", env, got, want)
		}
	}

	checkSchedule(t, root, props, "channel-sweep", "Hourly", "rate(1 hour)")

	statements, templates := splitPolicies(resolve(props["Policies"]))
	if want := map[string][]string{"DynamoDBCrudPolicy": {"t1-ledger"}}; !reflect.DeepEqual(templates, want) {
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
		{"dynamodb:GetItem", platformARN, true},
		{"dynamodb:Query", platformARN + "/index/GSI3", true},
		{"dynamodb:Query", platformARN + "/index/GSI1", true},
		{"dynamodb:Query", platformARN + "/index/GSI2", false},
		{"dynamodb:Scan", platformARN, false},
		{"dynamodb:Scan", platformARN + "/index/GSI3", false},
		{"dynamodb:UpdateItem", platformARN + "/index/GSI3", false},
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
