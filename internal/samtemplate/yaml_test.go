package samtemplate

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

type obj = map[string]any
type arr = []any

func TestShortFormTags(t *testing.T) {
	tests := []struct {
		name string
		yaml string // the value of key v
		want any
	}{
		{"Ref", `!Ref Bucket`, obj{"Ref": "Bucket"}},
		{"Ref pseudo", `!Ref AWS::Region`, obj{"Ref": "AWS::Region"}},
		{"Sub scalar", `!Sub "${AWS::StackName}-x"`, obj{"Fn::Sub": "${AWS::StackName}-x"}},
		{"Sub sequence", "!Sub\n  - '${A}-${B}'\n  - A: !Ref P\n    B: b", obj{"Fn::Sub": arr{"${A}-${B}", obj{"A": obj{"Ref": "P"}, "B": "b"}}}},
		{"GetAtt scalar", `!GetAtt Table.Arn`, obj{"Fn::GetAtt": arr{"Table", "Arn"}}},
		{"GetAtt scalar dotted attribute", `!GetAtt Db.Endpoint.Address`, obj{"Fn::GetAtt": arr{"Db", "Endpoint.Address"}}},
		{"GetAtt sequence", `!GetAtt [Table, StreamArn]`, obj{"Fn::GetAtt": arr{"Table", "StreamArn"}}},
		{"Join", `!Join [":", [a, !Ref B]]`, obj{"Fn::Join": arr{":", arr{"a", obj{"Ref": "B"}}}}},
		{"Select and Split", `!Select [1, !Split [",", "a,b"]]`, obj{"Fn::Select": arr{1, obj{"Fn::Split": arr{",", "a,b"}}}}},
		{"If", `!If [IsProd, 7, !Ref AWS::NoValue]`, obj{"Fn::If": arr{"IsProd", 7, obj{"Ref": "AWS::NoValue"}}}},
		{"Equals", `!Equals [!Ref Stage, prod]`, obj{"Fn::Equals": arr{obj{"Ref": "Stage"}, "prod"}}},
		{"Not and Condition", `!Not [!Condition IsProd]`, obj{"Fn::Not": arr{obj{"Condition": "IsProd"}}}},
		{"And", `!And [!Condition A, !Condition B]`, obj{"Fn::And": arr{obj{"Condition": "A"}, obj{"Condition": "B"}}}},
		{"Or", `!Or [!Condition A, !Equals [x, y]]`, obj{"Fn::Or": arr{obj{"Condition": "A"}, obj{"Fn::Equals": arr{"x", "y"}}}}},
		{"Condition", `!Condition IsProd`, obj{"Condition": "IsProd"}},
		{"FindInMap", `!FindInMap [Regions, !Ref AWS::Region, Ami]`, obj{"Fn::FindInMap": arr{"Regions", obj{"Ref": "AWS::Region"}, "Ami"}}},
		{"ImportValue", `!ImportValue shared-vpc`, obj{"Fn::ImportValue": "shared-vpc"}},
		{"ImportValue of Sub", `!ImportValue {"Fn::Sub": "${Net}-vpc"}`, obj{"Fn::ImportValue": obj{"Fn::Sub": "${Net}-vpc"}}},
		{"Base64", `!Base64 hello`, obj{"Fn::Base64": "hello"}},
		{"GetAZs empty", `!GetAZs ''`, obj{"Fn::GetAZs": ""}},
		{"GetAZs of Ref", `!GetAZs {Ref: AWS::Region}`, obj{"Fn::GetAZs": obj{"Ref": "AWS::Region"}}},
		{"Cidr", `!Cidr ["10.0.0.0/16", 6, 5]`, obj{"Fn::Cidr": arr{"10.0.0.0/16", 6, 5}}},
		{"tagged scalar stays text", `!Ref 123`, obj{"Ref": "123"}},
		{"long form untouched", `{"Fn::GetAtt": [A, Arn]}`, obj{"Fn::GetAtt": arr{"A", "Arn"}}},
		{"int", `60`, 60},
		{"float", `0.5`, 0.5},
		{"bool", `true`, true},
		{"null", `~`, nil},
		{"quoted version", `'2010-09-09'`, "2010-09-09"},
		{"unquoted date stays text", `2010-09-09`, "2010-09-09"},
		{"quoted number stays text", `"30"`, "30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := parse([]byte("v: " + tt.yaml + "\n"))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			got := tmpl.Raw()["v"]
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v\nwant %#v", got, tt.want)
			}
			// The long form must encode as JSON as is.
			if _, err := json.Marshal(got); err != nil {
				t.Errorf("not JSON-compatible: %v", err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown tag", "v: !Reff X\n", "unknown tag !Reff"},
		{"GetAtt without attribute", "v: !GetAtt Table\n", "not Resource.Attribute"},
		{"duplicate key", "Resources:\n  A: {Type: X}\n  A: {Type: Y}\n", `duplicate key "A"`},
		{"not a mapping", "- a\n- b\n", "not a mapping"},
		{"bad YAML", "v: [a\n", "yaml"},
		{"empty", "", "empty document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestRawIsACopy(t *testing.T) {
	tmpl, err := parse([]byte("Resources:\n  A:\n    Type: X\n"))
	if err != nil {
		t.Fatal(err)
	}
	tmpl.Raw()["Resources"].(map[string]any)["A"].(map[string]any)["Type"] = "changed"
	if got := tmpl.Raw()["Resources"].(map[string]any)["A"].(map[string]any)["Type"]; got != "X" {
		t.Errorf("got Type %v after changing a copy, want X", got)
	}
}
