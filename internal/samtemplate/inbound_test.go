package samtemplate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// The deployment the inbound-mail checks evaluate the template for.
var inboundEnv = Env{StackName: "t1", Region: "eu-west-1", AccountID: "111122223333"}

// resourceDecl returns a resource of the real template, failing the test when it is missing or of
// another type.
func resourceDecl(t *testing.T, raw map[string]any, id, typ string) map[string]any {
	t.Helper()
	decl, ok := raw["Resources"].(map[string]any)[id].(map[string]any)
	if !ok {
		t.Fatalf("template.yaml has no resource %s", id)
	}
	if decl["Type"] != typ {
		t.Fatalf("%s is a %v, want %s", id, decl["Type"], typ)
	}
	return decl
}

func mustResolve(t *testing.T, tmpl *Template, v any) any {
	t.Helper()
	out, err := tmpl.Resolve(v, inboundEnv)
	if err != nil {
		t.Fatalf("resolve %v: %v", v, err)
	}
	return out
}

// TestInboundReceiptRule: SES stores the raw mail at inbound/<messageId> first and only then invokes
// the function asynchronously, for InfoAddress, with spam and virus scanning; the permission and the
// bucket policy name exactly this rule.
func TestInboundReceiptRule(t *testing.T) {
	tmpl := loadReal(t)
	raw := tmpl.Raw()
	decl := resourceDecl(t, raw, "InboundReceiptRule", "AWS::SES::ReceiptRule")
	rule, _ := path(decl, "Properties", "Rule").(map[string]any)

	if got := rule["Enabled"]; got != true {
		t.Errorf("Rule.Enabled = %v, want true", got)
	}
	if got := rule["ScanEnabled"]; got != true {
		t.Errorf("Rule.ScanEnabled = %v, want true (spam and virus verdicts)", got)
	}
	if got := rule["TlsPolicy"]; got != "Require" {
		t.Errorf("Rule.TlsPolicy = %v, want Require", got)
	}
	// SES matches a rule for an address against its labelled forms too (info+<token>@…), so
	// InfoAddress alone reaches the reply tokens without taking in the rest of the domain.
	if got, want := rule["Recipients"], []any{map[string]any{"Ref": "InfoAddress"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Rule.Recipients = %v, want %v", got, want)
	}

	actions, _ := rule["Actions"].([]any)
	if len(actions) != 2 {
		t.Fatalf("Rule.Actions = %v, want exactly an S3 action then a Lambda action", actions)
	}
	s3Action, _ := actions[0].(map[string]any)
	lambdaAction, _ := actions[1].(map[string]any)
	if len(s3Action) != 1 || s3Action["S3Action"] == nil {
		t.Fatalf("first action = %v, want only S3Action (the mail must be stored before the function runs)", actions[0])
	}
	if len(lambdaAction) != 1 || lambdaAction["LambdaAction"] == nil {
		t.Fatalf("second action = %v, want only LambdaAction", actions[1])
	}
	s3 := s3Action["S3Action"].(map[string]any)
	if got := s3["ObjectKeyPrefix"]; got != "inbound/" {
		t.Errorf("S3Action.ObjectKeyPrefix = %q, want exactly \"inbound/\"", got)
	}
	// (inbound_prefix_test.go checks that the function and the local receiver use the same prefix.)
	if got, want := s3["BucketName"], map[string]any{"Ref": "InboundMailBucket"}; !reflect.DeepEqual(got, want) {
		t.Errorf("S3Action.BucketName = %v, want %v", got, want)
	}
	if _, ok := s3["KmsKeyArn"]; ok {
		t.Errorf("S3Action.KmsKeyArn is set: the function would need kms:Decrypt and SES client-side decryption")
	}
	lambda := lambdaAction["LambdaAction"].(map[string]any)
	if got, want := lambda["FunctionArn"], map[string]any{"Fn::GetAtt": []any{"InboundEmailFunction", "Arn"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("LambdaAction.FunctionArn = %v, want %v", got, want)
	}
	if got := lambda["InvocationType"]; got != "Event" {
		t.Errorf("LambdaAction.InvocationType = %v, want Event (asynchronous, retried, dead-lettered)", got)
	}

	// SES tests its access to the bucket and the function when it creates the rule.
	deps, _ := decl["DependsOn"].([]any)
	for _, want := range []string{"InboundMailBucketPolicy", "InboundEmailPermission"} {
		if !slices.Contains(deps, any(want)) {
			t.Errorf("InboundReceiptRule.DependsOn = %v, lacks %s", decl["DependsOn"], want)
		}
	}
	if got, want := path(decl, "Properties", "RuleSetName"), map[string]any{"Ref": "InboundReceiptRuleSet"}; !reflect.DeepEqual(got, want) {
		t.Errorf("InboundReceiptRule.RuleSetName = %v, want %v", got, want)
	}

	// The rule's ARN, from the names the rule set and the rule really get.
	set := resourceDecl(t, raw, "InboundReceiptRuleSet", "AWS::SES::ReceiptRuleSet")
	setName := mustResolve(t, tmpl, path(set, "Properties", "RuleSetName"))
	ruleName := mustResolve(t, tmpl, rule["Name"])
	if setName != "t1-inbound" {
		t.Errorf("rule set name = %v, want t1-inbound (the name the activation step uses)", setName)
	}
	ruleArn := fmt.Sprintf("arn:aws:ses:eu-west-1:111122223333:receipt-rule-set/%s:receipt-rule/%s", setName, ruleName)

	perm := resourceDecl(t, raw, "InboundEmailPermission", "AWS::Lambda::Permission")
	props := mustResolve(t, tmpl, perm["Properties"]).(map[string]any)
	want := map[string]any{
		"FunctionName":  "arn:aws:lambda:eu-west-1:111122223333:function:t1-InboundEmailFunction",
		"Action":        "lambda:InvokeFunction",
		"Principal":     "ses.amazonaws.com",
		"SourceAccount": "111122223333",
		"SourceArn":     ruleArn,
	}
	if !reflect.DeepEqual(props, want) {
		t.Errorf("InboundEmailPermission properties:\n%s\nwant\n%s", dump(props), dump(want))
	}

	// The bucket policy lets that rule, and no other, put the raw mail.
	pol := resourceDecl(t, raw, "InboundMailBucketPolicy", "AWS::S3::BucketPolicy")
	doc := mustResolve(t, tmpl, path(pol, "Properties", "PolicyDocument")).(map[string]any)
	found := false
	for _, st := range doc["Statement"].([]any) {
		st := st.(map[string]any)
		if path(st, "Principal", "Service") != "ses.amazonaws.com" {
			continue
		}
		found = true
		if got := path(st, "Condition", "StringEquals", "aws:SourceArn"); got != ruleArn {
			t.Errorf("bucket policy aws:SourceArn = %v, want %s", got, ruleArn)
		}
		if !grants([]any{st}, "s3:PutObject", "arn:aws:s3:::t1-inbound-mail-111122223333/inbound/"+"m1") {
			t.Errorf("bucket policy statement %v does not let SES put inbound/<messageId>", st)
		}
	}
	if !found {
		t.Error("the inbound mail bucket policy has no statement for ses.amazonaws.com")
	}
}

// TestInboundEmailFunction: the function reads and deletes the stored mail, reads the platform (and
// restores a soft-deleted account when a reply cancels its deletion), writes the ledger, mails,
// starts the four deletion machines and stops account deletions, with nothing wider; its failed
// invocations are kept as long as the raw mail.
func TestInboundEmailFunction(t *testing.T) {
	tmpl := loadReal(t)
	raw := tmpl.Raw()
	decl := resourceDecl(t, raw, "InboundEmailFunction", "AWS::Serverless::Function")
	props := decl["Properties"].(map[string]any)
	if props["CodeUri"] != "." || path(decl, "Metadata", "BuildMethod") != "makefile" {
		t.Errorf("CodeUri %v, BuildMethod %v; want . and makefile like every function", props["CodeUri"], path(decl, "Metadata", "BuildMethod"))
	}
	if d, _ := props["Description"].(string); d == "" {
		t.Error("no Description")
	}
	if props["Timeout"] != 300 || props["MemorySize"] != 1024 {
		t.Errorf("Timeout %v, MemorySize %v; want 300 and 1024 (mail up to 40 MB is parsed)", props["Timeout"], props["MemorySize"])
	}
	wantInvoke := map[string]any{
		"MaximumRetryAttempts": 2,
		"DestinationConfig": map[string]any{"OnFailure": map[string]any{
			"Type":        "SQS",
			"Destination": map[string]any{"Fn::GetAtt": []any{"InboundEmailDeadLetterQueue", "Arn"}},
		}},
	}
	if got := props["EventInvokeConfig"]; !reflect.DeepEqual(got, wantInvoke) {
		t.Errorf("EventInvokeConfig:\n%s\nwant\n%s", dump(got), dump(wantInvoke))
	}

	policies := mustResolve(t, tmpl, props["Policies"]).([]any)
	var statements []any
	templates := map[string][]string{} // SAM policy template → table names
	for _, p := range policies {
		p := p.(map[string]any)
		if st, ok := p["Statement"].([]any); ok {
			statements = append(statements, st...)
			continue
		}
		for name, arg := range p {
			tbl, _ := arg.(map[string]any)["TableName"].(string)
			templates[name] = append(templates[name], tbl)
		}
	}
	wantTemplates := map[string][]string{"DynamoDBReadPolicy": {"t1-platform"}, "DynamoDBCrudPolicy": {"t1-ledger"}}
	if !reflect.DeepEqual(templates, wantTemplates) {
		t.Errorf("policy templates = %v, want %v (the platform table is read, not CRUD)", templates, wantTemplates)
	}
	for _, st := range statements {
		st := st.(map[string]any)
		if st["Effect"] != "Allow" {
			t.Errorf("statement %v: want only Allow statements", st)
		}
		for _, a := range strList(st["Action"]) {
			if strings.Contains(a, "*") {
				t.Errorf("statement %v grants the wildcard action %s", st, a)
			}
		}
		for _, r := range strList(st["Resource"]) {
			if r == "*" {
				t.Errorf("statement %v grants on every resource", st)
			}
		}
	}

	object := "arn:aws:s3:::t1-inbound-mail-111122223333/inbound/0vhg3mqj1ue2t5d8n7oc6b4s9lr2k5fa1example"
	machine := func(id string) string { return fmt.Sprint(mustResolve(t, tmpl, map[string]any{"Ref": id})) }
	execution := func(id string) string {
		return strings.Replace(machine(id), ":stateMachine:", ":execution:", 1) + ":0b6e1f9a-req"
	}
	checks := []struct {
		action, resource string
		want             bool
	}{
		// A reply that cancels an account deletion restores the soft-deleted items; nothing else
		// of the platform is written.
		{"dynamodb:UpdateItem", "arn:aws:dynamodb:eu-west-1:111122223333:table/t1-platform", true},
		{"dynamodb:PutItem", "arn:aws:dynamodb:eu-west-1:111122223333:table/t1-platform", false},
		{"dynamodb:DeleteItem", "arn:aws:dynamodb:eu-west-1:111122223333:table/t1-platform", false},
		{"dynamodb:BatchWriteItem", "arn:aws:dynamodb:eu-west-1:111122223333:table/t1-platform", false},
		{"s3:GetObject", object, true},
		{"s3:DeleteObject", object, true},
		{"s3:GetObject", "arn:aws:s3:::t1-files-111122223333/accounts/a1/file", false},
		{"s3:PutObject", object, false},
		{"ses:SendEmail", "arn:aws:ses:eu-west-1:111122223333:identity/example.com", true},
		{"states:StartExecution", machine("AccountDeletionStateMachine"), true},
		{"states:StartExecution", machine("EndUserDeletionStateMachine"), true},
		{"states:StartExecution", machine("ConnectionWipeStateMachine"), true},
		{"states:StartExecution", machine("EndCustomerRequestStateMachine"), true},
		{"states:StartExecution", machine("EraseScopeStateMachine"), false},
		{"states:StopExecution", execution("AccountDeletionStateMachine"), true},
		{"states:StopExecution", execution("EndUserDeletionStateMachine"), false},
		{"states:StopExecution", execution("EndCustomerRequestStateMachine"), false},
		{"states:SendTaskSuccess", machine("EndCustomerRequestStateMachine"), false},
	}
	for _, c := range checks {
		if got := grants(statements, c.action, c.resource); got != c.want {
			t.Errorf("%s on %s: granted %v, want %v", c.action, c.resource, got, c.want)
		}
	}

	// Dead letters are encrypted and live exactly as long as the raw mail they point at.
	q := resourceDecl(t, raw, "InboundEmailDeadLetterQueue", "AWS::SQS::Queue")
	if got := path(q, "Properties", "SqsManagedSseEnabled"); got != true {
		t.Errorf("InboundEmailDeadLetterQueue.SqsManagedSseEnabled = %v, want true", got)
	}
	buckets, err := tmpl.Buckets(inboundEnv)
	if err != nil {
		t.Fatal(err)
	}
	expiry := 0
	for _, b := range buckets {
		if b.LogicalID == "InboundMailBucket" {
			for _, r := range b.Lifecycle {
				expiry = max(expiry, r.ExpirationDays)
			}
		}
	}
	if got := path(q, "Properties", "MessageRetentionPeriod"); got != 1209600 || got != expiry*86400 {
		t.Errorf("InboundEmailDeadLetterQueue.MessageRetentionPeriod = %v, want 1209600 s = the raw mail's %d-day expiry", got, expiry)
	}

	outputs, _ := raw["Outputs"].(map[string]any)
	for _, o := range []string{"InboundEmailFunctionArn", "InboundReceiptRuleSetName", "InboundEmailDeadLetterQueueUrl"} {
		if _, ok := outputs[o]; !ok {
			t.Errorf("output %s is missing", o)
		}
	}
}

// TestInboundEmailSamples: the sample events are what the receipt rule delivers (an SES Lambda
// action, invocation type Event, for a recipient the rule covers), decode into the type the function
// takes without a stray field, and include one authenticated mail and one spoofed.
func TestInboundEmailSamples(t *testing.T) {
	tmpl := loadReal(t)
	info := fmt.Sprint(mustResolve(t, tmpl, map[string]any{"Ref": "InfoAddress"}))
	root := filepath.Dir(tmpl.Path())
	files, _ := filepath.Glob(filepath.Join(root, "events", "inbound-email", "*.json"))
	if len(files) == 0 {
		t.Fatal("events/inbound-email has no sample")
	}
	var authenticated, spoofed bool
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var ev events.SimpleEmailEvent
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ev); err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if len(ev.Records) != 1 {
			t.Errorf("%s: %d records, SES delivers one per invocation", f, len(ev.Records))
			continue
		}
		rec := ev.Records[0]
		m, r := rec.SES.Mail, rec.SES.Receipt
		if rec.EventSource != "aws:ses" || rec.EventVersion != "1.0" {
			t.Errorf("%s: eventSource %q, eventVersion %q", f, rec.EventSource, rec.EventVersion)
		}
		if r.Action.Type != "Lambda" || r.Action.InvocationType != "Event" || r.Action.FunctionARN == "" {
			t.Errorf("%s: action %+v, want the receipt rule's Lambda action with invocation type Event", f, r.Action)
		}
		if !regexp.MustCompile(`^[a-z0-9]{20,64}$`).MatchString(m.MessageID) {
			t.Errorf("%s: messageId %q is not an SES message id (it names the object inbound/<messageId>)", f, m.MessageID)
		}
		if m.Timestamp.IsZero() || r.Timestamp.IsZero() || len(m.Headers) == 0 || m.CommonHeaders.Subject == "" {
			t.Errorf("%s: timestamps, headers and subject must be filled as SES fills them", f)
		}
		if len(r.Recipients) == 0 {
			t.Errorf("%s: no receipt recipients", f)
		}
		for _, rcpt := range r.Recipients {
			if !sesRecipientMatches(info, rcpt) {
				t.Errorf("%s: recipient %s is not covered by the rule's recipient %s", f, rcpt, info)
			}
		}
		verdicts := []string{r.SPFVerdict.Status, r.DKIMVerdict.Status, r.DMARCVerdict.Status}
		switch {
		case !slices.ContainsFunc(verdicts, func(s string) bool { return s != "PASS" }):
			authenticated = true
			if r.DMARCPolicy != "" {
				t.Errorf("%s: dmarcPolicy %q on a mail that passed DMARC; SES sets it only on a failure", f, r.DMARCPolicy)
			}
		case !slices.ContainsFunc(verdicts, func(s string) bool { return s != "FAIL" }):
			spoofed = true
		}
	}
	if !authenticated || !spoofed {
		t.Errorf("samples: authenticated %v, spoofed %v; want one of each", authenticated, spoofed)
	}
}

// sesRecipientMatches applies SES's recipient condition for an address: the address itself and its
// labelled forms (user+label@domain), case-insensitively.
func sesRecipientMatches(condition, rcpt string) bool {
	local, domain, ok := strings.Cut(rcpt, "@")
	if !ok {
		return false
	}
	base, _, _ := strings.Cut(local, "+")
	return strings.EqualFold(condition, rcpt) || strings.EqualFold(condition, base+"@"+domain)
}

func TestSESRecipientMatches(t *testing.T) {
	tests := []struct {
		rcpt string
		want bool
	}{
		{"info@example.com", true},
		{"INFO@Example.com", true},
		{"info+k3j9x@example.com", true},
		{"infox@example.com", false},
		{"privacy@example.com", false},
		{"info@example.org", false},
		{"info", false},
	}
	for _, tt := range tests {
		if got := sesRecipientMatches("info@example.com", tt.rcpt); got != tt.want {
			t.Errorf("sesRecipientMatches(info@example.com, %q) = %v, want %v", tt.rcpt, got, tt.want)
		}
	}
}

// grants reports whether an Allow statement among statements grants action on resource, matching
// IAM's wildcards (* any run of characters, ? one character) in actions and resources.
func grants(statements []any, action, resource string) bool {
	for _, s := range statements {
		st, _ := s.(map[string]any)
		if st["Effect"] != "Allow" {
			continue
		}
		if slices.ContainsFunc(strList(st["Action"]), func(a string) bool { return iamMatch(a, action) }) &&
			slices.ContainsFunc(strList(st["Resource"]), func(r string) bool { return iamMatch(r, resource) }) {
			return true
		}
	}
	return false
}

func iamMatch(pattern, s string) bool {
	re := regexp.QuoteMeta(pattern)
	re = strings.ReplaceAll(re, `\*`, `.*`)
	re = strings.ReplaceAll(re, `\?`, `.`)
	return regexp.MustCompile(`(?i)^` + re + `$`).MatchString(s)
}

func TestIAMMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"arn:aws:s3:::b/inbound/*", "arn:aws:s3:::b/inbound/a/b", true},
		{"arn:aws:s3:::b/inbound/*", "arn:aws:s3:::b/other", false},
		{"arn:aws:s3:::b/inbound/*", "arn:aws:s3:::bb/inbound/x", false},
		{"s3:GetObject", "s3:getobject", true},
		{"s3:Get*", "s3:GetObject", true},
		{"states:StopExecution", "states:StopExecutionX", false},
		{"a.b?", "a.bc", true},
		{"a.b?", "axbc", false},
	}
	for _, tt := range tests {
		if got := iamMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("iamMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func strList(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
