package samtemplate

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/lethe-dev/lethe/internal/datamap"
)

// TestRetentionStreamFunction: the platform table's stream (with the old image: the removed item's
// files and subject) feeds the function, filtered to what DynamoDB's TTL removed, in batches whose
// failing records are bisected, reported one by one and, past their retries, kept in a watched
// dead-letter queue; the function may delete the files bucket's objects, put a held item back in the
// platform table (never delete or update there) and write the ledger.
func TestRetentionStreamFunction(t *testing.T) {
	tmpl, root := loadRealRoot(t)
	raw := tmpl.Raw()
	if v := dig(raw, "Resources", "PlatformTable", "Properties", "StreamSpecification", "StreamViewType"); v != "OLD_IMAGE" && v != "NEW_AND_OLD_IMAGES" {
		t.Errorf("PlatformTable stream view %v, want one with the old image", v)
	}
	decl, _ := raw["Resources"].(map[string]any)["RetentionStreamFunction"].(map[string]any)
	if decl == nil || decl["Type"] != "AWS::Serverless::Function" {
		t.Fatalf("template.yaml has no function RetentionStreamFunction: %v", decl)
	}
	props := decl["Properties"].(map[string]any)
	if err := startsHandler(root, "retention-stream", "RetentionStream", "Sweep(g).HandleStream"); err != nil {
		t.Errorf("functions/retention-stream/main.go does not start the RetentionSweep's HandleStream (%v)", err)
	}
	evs, _ := props["Events"].(map[string]any)
	if len(evs) != 1 {
		t.Fatalf("events %v, want the stream alone", evs)
	}
	for _, e := range evs {
		ep, _ := dig(e, "Properties").(map[string]any)
		if dig(e, "Type") != "DynamoDB" || !reflect.DeepEqual(ep["Stream"], map[string]any{"Fn::GetAtt": []any{"PlatformTable", "StreamArn"}}) {
			t.Errorf("event %v, want the platform table's stream", e)
		}
		if ep["BisectBatchOnFunctionError"] != true || !reflect.DeepEqual(ep["FunctionResponseTypes"], []any{"ReportBatchItemFailures"}) {
			t.Errorf("bisect %v, response types %v", ep["BisectBatchOnFunctionError"], ep["FunctionResponseTypes"])
		}
		dlq := dig(ep, "DestinationConfig", "OnFailure", "Destination")
		if dig(ep, "DestinationConfig", "OnFailure", "Type") != "SQS" || !reflect.DeepEqual(dlq, map[string]any{"Fn::GetAtt": []any{"RetentionStreamDeadLetterQueue", "Arn"}}) {
			t.Errorf("on failure %v", dig(ep, "DestinationConfig"))
		}
		filters, _ := dig(ep, "FilterCriteria", "Filters").([]any)
		if len(filters) != 1 {
			t.Fatalf("filters %v, want one", filters)
		}
		var pattern any
		if err := json.Unmarshal([]byte(dig(filters[0], "Pattern").(string)), &pattern); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"eventName": []any{"REMOVE"},
			"userIdentity": map[string]any{"type": []any{"Service"}, "principalId": []any{"dynamodb.amazonaws.com"}}}
		if !reflect.DeepEqual(pattern, want) {
			t.Errorf("filter %v, want %v", pattern, want)
		}
	}

	resolved, err := tmpl.Resolve(props["Policies"], sweepDeployed)
	if err != nil {
		t.Fatal(err)
	}
	statements, templates := splitPolicies(resolved)
	if want := map[string][]string{"DynamoDBCrudPolicy": {"t1-ledger"}}; !reflect.DeepEqual(templates, want) {
		t.Errorf("policy templates %v, want %v", templates, want)
	}
	platformARN := "arn:aws:dynamodb:eu-west-1:111122223333:table/t1-platform"
	files := "arn:aws:s3:::t1-files-111122223333/"
	for _, c := range []struct {
		action, resource string
		want             bool
	}{
		{"dynamodb:PutItem", platformARN, true},
		{"dynamodb:DeleteItem", platformARN, false},
		{"dynamodb:UpdateItem", platformARN, false},
		{"dynamodb:Scan", platformARN, false},
		{"s3:DeleteObject", files + "accounts/a1/bots/b1/users/u1/files/f1", true},
		{"s3:GetObject", files + "accounts/a1/bots/b1/users/u1/files/f1", false},
		{"ses:SendEmail", "arn:aws:ses:eu-west-1:111122223333:identity/example.com", false},
	} {
		if got := grants(statements, c.action, c.resource); got != c.want {
			t.Errorf("%s on %s: granted %v, want %v", c.action, c.resource, got, c.want)
		}
	}
}

// TestEndUserFilesLifecycleSafetyNet: the files bucket expires the objects tagged as an end user's
// 13-month files no earlier than 13 months after they were written (397 days covers any 13
// months), and only those: a held object's tag is another value, so the rule never matches it.
func TestEndUserFilesLifecycleSafetyNet(t *testing.T) {
	raw := loadReal(t).Raw()
	rules, _ := dig(raw, "Resources", "FilesBucket", "Properties", "LifecycleConfiguration", "Rules").([]any)
	var found map[string]any
	for _, r := range rules {
		if m, _ := r.(map[string]any); m["Id"] == "ExpireEndUserFiles" {
			found = m
		}
	}
	if found == nil {
		t.Fatal("FilesBucket has no rule ExpireEndUserFiles")
	}
	want := map[string]any{"Id": "ExpireEndUserFiles", "Status": "Enabled", "Prefix": "accounts/",
		"TagFilters":       []any{map[string]any{"Key": datamap.LifecycleTagKey, "Value": datamap.LifecycleExpires}},
		"ExpirationInDays": 397}
	if !reflect.DeepEqual(found, want) {
		t.Errorf("rule %v, want %v", found, want)
	}
	if datamap.LifecycleHeld == datamap.LifecycleExpires {
		t.Error("a held object's tag matches the rule")
	}
	for _, c := range []string{datamap.EndUserFile, datamap.InboxMessage} {
		if got := datamap.LifecycleTagging(c); got != datamap.LifecycleTagKey+"="+datamap.LifecycleExpires {
			t.Errorf("%s files are uploaded with tags %q", c, got)
		}
	}
	if got := datamap.LifecycleTagging(datamap.AccountFile); got != "" {
		t.Errorf("account files (kept for the account's lifetime) are uploaded with tags %q", got)
	}
}
