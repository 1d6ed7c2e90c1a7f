package samtemplate

import (
	"reflect"
	"strings"
	"testing"
)

// FunctionVariables is one environment for the local run: Globals' variables and every function's
// own; two functions that set a name differently are an error, not a silent pick.
func TestFunctionVariables(t *testing.T) {
	tmpl, err := parse([]byte(`
Globals:
  Function:
    Environment:
      Variables:
        A: a
Resources:
  OneFunction:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          B: !Ref P
  TwoFunction:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          B: !Ref P
          C: c
`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := tmpl.FunctionVariables()
	want := map[string]any{"A": "a", "B": map[string]any{"Ref": "P"}, "C": "c"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, %v; want %v", got, err, want)
	}
	tmpl.doc["Resources"].(map[string]any)["TwoFunction"].(map[string]any)["Properties"].(map[string]any)["Environment"].(map[string]any)["Variables"].(map[string]any)["A"] = "other"
	if _, err := tmpl.FunctionVariables(); err == nil || !strings.Contains(err.Error(), "A") {
		t.Errorf("got %v, want an error naming A", err)
	}
}
