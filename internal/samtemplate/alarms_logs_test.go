package samtemplate

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// maxLogRetentionDays bounds how long any log group keeps its logs. Logs carry no personal data,
// and still none is kept longer than a year (SPEC: personal data never lives longer than 13 months).
const maxLogRetentionDays = 365

// retentionDays is the RetentionInDays of a declared log group as deployed with the defaults.
func retentionDays(t *testing.T, tmpl *Template, group string) int {
	t.Helper()
	decl := resourceDecl(t, tmpl.Raw(), group, "AWS::Logs::LogGroup")
	v, err := tmpl.Resolve(dig(decl, "Properties", "RetentionInDays"), sweepDeployed)
	if err != nil {
		t.Fatalf("%s: RetentionInDays: %v", group, err)
	}
	switch d := v.(type) {
	case int:
		return d
	case string:
		n, err := strconv.Atoi(d)
		if err != nil {
			t.Fatalf("%s: RetentionInDays %q", group, d)
		}
		return n
	}
	t.Fatalf("%s: RetentionInDays %v (%T)", group, v, v)
	return 0
}

// TestEveryAlarmNotifiesTheOperator: an alarm nobody hears is no alarm. Every alarm of the template
// — a new one too — mails the operator's address (AlarmEmail, which a deploy must give) through one
// encrypted topic when it fires and when it clears, and that topic's key lets CloudWatch publish.
func TestEveryAlarmNotifiesTheOperator(t *testing.T) {
	tmpl := loadReal(t)
	raw := tmpl.Raw()
	alarms := resourcesOfType(raw, "AWS::CloudWatch::Alarm")
	if len(alarms) < 10 {
		t.Fatalf("alarms %v, want at least 10", alarms)
	}
	topic := []any{map[string]any{"Ref": "AlarmTopic"}}
	for _, id := range alarms {
		props, _ := dig(raw, "Resources", id, "Properties").(map[string]any)
		for _, k := range []string{"AlarmActions", "OKActions"} {
			if !reflect.DeepEqual(props[k], topic) {
				t.Errorf("%s: %s = %v, want [!Ref AlarmTopic]", id, k, props[k])
			}
		}
		if _, ok := props["InsufficientDataActions"]; ok {
			t.Errorf("%s: InsufficientDataActions: missing data is no traffic, not news", id)
		}
	}

	topicDecl := resourceDecl(t, raw, "AlarmTopic", "AWS::SNS::Topic")
	keyID, _ := dig(topicDecl, "Properties", "KmsMasterKeyId", "Ref").(string)
	if keyID == "" {
		t.Fatalf("AlarmTopic: KmsMasterKeyId %v, want !Ref of the stack's key (CloudWatch cannot use alias/aws/sns)",
			dig(topicDecl, "Properties", "KmsMasterKeyId"))
	}
	key := resourceDecl(t, raw, keyID, "AWS::KMS::Key")
	if dig(key, "Properties", "EnableKeyRotation") != true {
		t.Errorf("%s: EnableKeyRotation not true", keyID)
	}
	statements, _ := dig(key, "Properties", "KeyPolicy", "Statement").([]any)
	var cloudWatch bool
	for _, st := range statements {
		if dig(st, "Effect") != "Allow" || dig(st, "Principal", "Service") != "cloudwatch.amazonaws.com" {
			continue
		}
		actions, _ := dig(st, "Action").([]any)
		cloudWatch = slices.Contains(actions, any("kms:Decrypt")) && slices.Contains(actions, any("kms:GenerateDataKey*")) &&
			reflect.DeepEqual(dig(st, "Condition", "StringEquals", "aws:SourceAccount"), map[string]any{"Ref": "AWS::AccountId"})
	}
	if !cloudWatch {
		t.Errorf("%s: its policy does not let this account's CloudWatch alarms Decrypt and GenerateDataKey*: %v", keyID, statements)
	}

	var subscribed bool
	for _, id := range resourcesOfType(raw, "AWS::SNS::Subscription") {
		p, _ := dig(raw, "Resources", id, "Properties").(map[string]any)
		if reflect.DeepEqual(p["TopicArn"], map[string]any{"Ref": "AlarmTopic"}) && p["Protocol"] == "email" &&
			reflect.DeepEqual(p["Endpoint"], map[string]any{"Ref": "AlarmEmail"}) {
			subscribed = true
		}
		if _, ok := dig(raw, "Resources", id, "Condition").(string); ok {
			t.Errorf("%s is conditional; AlarmEmail is required, so the subscription always exists", id)
		}
	}
	if !subscribed {
		t.Error("no email subscription of AlarmEmail to AlarmTopic")
	}
	p, _ := dig(raw, "Parameters", "AlarmEmail").(map[string]any)
	if _, has := p["Default"]; p == nil || has {
		t.Errorf("parameter AlarmEmail %v: want one without a default (a deploy names whom alarms reach)", p)
	}
	if !outputOf(raw, map[string]any{"Ref": "AlarmTopic"}) {
		t.Error("no output gives the alarm topic (to subscribe more people)")
	}
}

// TestEveryLogGroupIsDeclaredWithRetention: Lambda creates /aws/lambda/<function> itself when a
// function first logs and keeps it forever. Every function instead logs to a group of the stack's
// own, one per function, and every state machine to its own; each keeps LogRetentionDays (at most
// a year), and no function or machine logs to a group the template does not declare.
func TestEveryLogGroupIsDeclaredWithRetention(t *testing.T) {
	tmpl := loadReal(t)
	raw := tmpl.Raw()
	if lg := dig(raw, "Globals", "Function", "LoggingConfig", "LogGroup"); lg != nil {
		t.Errorf("Globals.Function.LoggingConfig.LogGroup = %v: one group for every function", lg)
	}
	param, _ := dig(raw, "Parameters", "LogRetentionDays").(map[string]any)
	if param == nil {
		t.Fatal("no parameter LogRetentionDays")
	}
	allowed, _ := param["AllowedValues"].([]any)
	if len(allowed) == 0 || !slices.Contains(allowed, param["Default"]) {
		t.Errorf("LogRetentionDays: AllowedValues %v, Default %v; want CloudWatch's values with the default among them", allowed, param["Default"])
	}
	for _, v := range allowed {
		if d, _ := v.(int); d < 1 || d > maxLogRetentionDays {
			t.Errorf("LogRetentionDays allows %v; want 1 to %d", v, maxLogRetentionDays)
		}
	}

	used := map[string]string{} // log group → who logs to it
	use := func(who, group string) {
		if prev, ok := used[group]; ok {
			t.Errorf("%s and %s log to the same group %s", prev, who, group)
		}
		used[group] = who
		if days := retentionDays(t, tmpl, group); days < 1 || days > maxLogRetentionDays {
			t.Errorf("%s (of %s): RetentionInDays = %d, want 1 to %d", group, who, days, maxLogRetentionDays)
		}
		if !reflect.DeepEqual(dig(raw, "Resources", group, "Properties", "RetentionInDays"), map[string]any{"Ref": "LogRetentionDays"}) {
			t.Errorf("%s (of %s): RetentionInDays %v, want !Ref LogRetentionDays", group, who, dig(raw, "Resources", group, "Properties", "RetentionInDays"))
		}
	}
	functions := resourcesOfType(raw, "AWS::Serverless::Function")
	if len(functions) < 13 {
		t.Fatalf("functions %v, want at least 13", functions)
	}
	for _, id := range functions {
		group, _ := dig(raw, "Resources", id, "Properties", "LoggingConfig", "LogGroup", "Ref").(string)
		if group == "" {
			t.Errorf("%s: LoggingConfig.LogGroup %v, want !Ref of a declared AWS::Logs::LogGroup", id,
				dig(raw, "Resources", id, "Properties", "LoggingConfig", "LogGroup"))
			continue
		}
		use(id, group)
		name, err := tmpl.Resolve(dig(raw, "Resources", group, "Properties", "LogGroupName"), sweepDeployed)
		if s, _ := name.(string); err != nil || !strings.HasPrefix(s, "/aws/lambda/t1-") {
			t.Errorf("%s: LogGroupName %v (%v), want /aws/lambda/<stack>-…", group, name, err)
		}
	}
	for _, id := range resourcesOfType(raw, "AWS::Lambda::Function") {
		t.Errorf("%s: a plain Lambda function; declare it as AWS::Serverless::Function with its log group", id)
	}
	for _, id := range resourcesOfType(raw, "AWS::Serverless::StateMachine") {
		dests, _ := dig(raw, "Resources", id, "Properties", "Logging", "Destinations").([]any)
		for _, d := range dests {
			ga, _ := dig(d, "CloudWatchLogsLogGroup", "LogGroupArn", "Fn::GetAtt").([]any)
			if len(ga) != 2 {
				t.Errorf("%s: destination %v, want !GetAtt <declared LogGroup>.Arn", id, d)
				continue
			}
			use(id, ga[0].(string))
		}
		if len(dests) == 0 {
			t.Errorf("%s logs nowhere", id)
		}
	}
	// What else could log: the HTTP API's access log (none, it would record callers' addresses).
	for _, id := range resourcesOfType(raw, "AWS::Serverless::HttpApi") {
		if als := dig(raw, "Resources", id, "Properties", "AccessLogSettings"); als != nil {
			t.Errorf("%s: AccessLogSettings %v; declare its group here first", id, als)
		}
	}
	for _, id := range resourcesOfType(raw, "AWS::Logs::LogGroup") {
		if _, ok := used[id]; !ok {
			t.Errorf("log group %s: nothing logs to it", id)
		}
	}
}
