package samtemplate

import (
	"slices"
	"strings"
	"testing"
)

// noResourceLevelActions are the only actions a statement may grant on every resource ("*"): the
// ones Step Functions needs to set up CloudWatch Logs delivery of a machine's execution log, which
// take no resource ARN (IAM cannot scope them), granted on "*" as the Step Functions Developer
// Guide's "IAM policies for logging to CloudWatch Logs" does. A statement on "*" with any other
// action fails the test.
var noResourceLevelActions = []string{
	"logs:CreateLogDelivery",
	"logs:GetLogDelivery",
	"logs:UpdateLogDelivery",
	"logs:DeleteLogDelivery",
	"logs:ListLogDeliveries",
	"logs:PutResourcePolicy",
	"logs:DescribeResourcePolicies",
	"logs:DescribeLogGroups",
}

// Least privilege: no inline IAM statement of a function or a state machine allows every action
// ("*"), or every action of a service ("dynamodb:*"), or a pattern of actions ("s3:Get*"); every
// statement names its resources, and names every resource ("*") only for noResourceLevelActions.
// SAM's policy templates (DynamoDBCrudPolicy …) are scoped by their parameters and are not
// statements here.
func TestNoStatementAllowsEveryAction(t *testing.T) {
	path, err := Find()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	checked := map[string]int{}
	for id, r := range tmpl.Raw()["Resources"].(map[string]any) {
		res, _ := r.(map[string]any)
		typ, _ := res["Type"].(string)
		if typ != "AWS::Serverless::Function" && typ != "AWS::Serverless::StateMachine" {
			continue
		}
		props, _ := res["Properties"].(map[string]any)
		policies, _ := props["Policies"].([]any)
		for _, p := range policies {
			pm, _ := p.(map[string]any)
			stmts, _ := pm["Statement"].([]any)
			for _, s := range stmts {
				st, _ := s.(map[string]any)
				checked[typ]++
				if st["Effect"] != "Allow" {
					continue
				}
				actions := strList(st["Action"])
				for _, a := range actions {
					if strings.ContainsAny(a, "*?") {
						t.Errorf("%s allows %q", id, a)
					}
				}
				if !hasResource(st["Resource"]) {
					t.Errorf("%s has a statement without resources", id)
				}
				if slices.Contains(strList(st["Resource"]), "*") {
					for _, a := range actions {
						if !slices.Contains(noResourceLevelActions, a) {
							t.Errorf("%s allows %s on every resource", id, a)
						}
					}
				}
				if st["NotAction"] != nil || st["NotResource"] != nil {
					t.Errorf("%s uses NotAction/NotResource", id)
				}
			}
		}
	}
	if checked["AWS::Serverless::Function"] < 10 || checked["AWS::Serverless::StateMachine"] < 5 {
		t.Fatalf("only %v statements found: the test is not reading the template's policies", checked)
	}
}

// hasResource: a resource is given, as a string, an intrinsic (!Sub, !GetAtt …) or a list of them.
func hasResource(v any) bool {
	switch v := v.(type) {
	case string:
		return v != ""
	case map[string]any:
		return len(v) > 0
	case []any:
		return len(v) > 0
	}
	return false
}
