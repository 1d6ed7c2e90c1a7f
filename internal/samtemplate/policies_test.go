package samtemplate

import (
	"strings"
	"testing"
)

// Least privilege: no function's inline IAM statement allows every action ("*"), or every action of
// a service ("dynamodb:*"), and every statement names its resources. SAM's policy templates
// (DynamoDBCrudPolicy …) are scoped by their parameters and are not statements here.
func TestNoStatementAllowsEveryAction(t *testing.T) {
	path, err := Find()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for id, r := range tmpl.Raw()["Resources"].(map[string]any) {
		res, _ := r.(map[string]any)
		if res["Type"] != "AWS::Serverless::Function" {
			continue
		}
		props, _ := res["Properties"].(map[string]any)
		policies, _ := props["Policies"].([]any)
		for _, p := range policies {
			pm, _ := p.(map[string]any)
			stmts, _ := pm["Statement"].([]any)
			for _, s := range stmts {
				st, _ := s.(map[string]any)
				checked++
				if st["Effect"] != "Allow" {
					continue
				}
				for _, a := range strList(st["Action"]) {
					if a == "*" || strings.HasSuffix(a, ":*") {
						t.Errorf("%s allows %q", id, a)
					}
				}
				if !hasResource(st["Resource"]) {
					t.Errorf("%s has a statement without resources", id)
				}
				if st["NotAction"] != nil || st["NotResource"] != nil {
					t.Errorf("%s uses NotAction/NotResource", id)
				}
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d statements found: the test is not reading the template's policies", checked)
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
