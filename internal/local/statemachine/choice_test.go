package statemachine

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

func TestChoiceOperators(t *testing.T) {
	input := `{"s":"beta","n":5,"f":2.5,"b":true,"t":"2030-01-02T03:04:05Z","null":null,"other":{"s":"beta","n":5,"b":true,"t":"2030-01-02T03:04:05Z"},
		"file":"log-2030.txt","star":"a*b"}`
	tests := []struct {
		rule string
		want bool
	}{
		{`"Variable":"$.s","StringEquals":"beta"`, true},
		{`"Variable":"$.s","StringEquals":"alpha"`, false},
		{`"Variable":"$.n","StringEquals":"5"`, false}, // type mismatch is no match
		{`"Variable":"$.s","StringLessThan":"gamma"`, true},
		{`"Variable":"$.s","StringLessThan":"beta"`, false},
		{`"Variable":"$.s","StringGreaterThan":"alpha"`, true},
		{`"Variable":"$.s","StringLessThanEquals":"beta"`, true},
		{`"Variable":"$.s","StringGreaterThanEquals":"gamma"`, false},
		{`"Variable":"$.s","StringEqualsPath":"$.other.s"`, true},
		{`"Variable":"$.s","StringLessThanPath":"$.other.s"`, false},
		{`"Variable":"$.s","StringGreaterThanPath":"$.other.s"`, false},
		{`"Variable":"$.s","StringLessThanEqualsPath":"$.other.s"`, true},
		{`"Variable":"$.s","StringGreaterThanEqualsPath":"$.other.s"`, true},
		{`"Variable":"$.file","StringMatches":"log-*.txt"`, true},
		{`"Variable":"$.file","StringMatches":"log-*.csv"`, false},
		{`"Variable":"$.star","StringMatches":"a\\*b"`, true},
		{`"Variable":"$.file","StringMatches":"a\\*b"`, false},
		{`"Variable":"$.n","NumericEquals":5`, true},
		{`"Variable":"$.f","NumericEquals":2.5`, true},
		{`"Variable":"$.s","NumericEquals":5`, false},
		{`"Variable":"$.n","NumericLessThan":6`, true},
		{`"Variable":"$.n","NumericGreaterThan":5`, false},
		{`"Variable":"$.n","NumericLessThanEquals":5`, true},
		{`"Variable":"$.n","NumericGreaterThanEquals":5.5`, false},
		{`"Variable":"$.n","NumericEqualsPath":"$.other.n"`, true},
		{`"Variable":"$.f","NumericLessThanPath":"$.other.n"`, true},
		{`"Variable":"$.f","NumericGreaterThanPath":"$.other.n"`, false},
		{`"Variable":"$.n","NumericLessThanEqualsPath":"$.other.n"`, true},
		{`"Variable":"$.n","NumericGreaterThanEqualsPath":"$.other.n"`, true},
		{`"Variable":"$.b","BooleanEquals":true`, true},
		{`"Variable":"$.b","BooleanEquals":false`, false},
		{`"Variable":"$.b","BooleanEqualsPath":"$.other.b"`, true},
		{`"Variable":"$.t","TimestampEquals":"2030-01-02T03:04:05.000Z"`, true},
		{`"Variable":"$.t","TimestampEquals":"2030-01-02T04:04:05+01:00"`, true},
		{`"Variable":"$.t","TimestampLessThan":"2030-01-02T03:04:06Z"`, true},
		{`"Variable":"$.t","TimestampGreaterThan":"2030-01-02T03:04:06Z"`, false},
		{`"Variable":"$.t","TimestampLessThanEquals":"2030-01-02T03:04:05Z"`, true},
		{`"Variable":"$.t","TimestampGreaterThanEquals":"2031-01-01T00:00:00Z"`, false},
		{`"Variable":"$.t","TimestampEqualsPath":"$.other.t"`, true},
		{`"Variable":"$.t","TimestampLessThanPath":"$.other.t"`, false},
		{`"Variable":"$.t","TimestampGreaterThanPath":"$.other.t"`, false},
		{`"Variable":"$.t","TimestampLessThanEqualsPath":"$.other.t"`, true},
		{`"Variable":"$.t","TimestampGreaterThanEqualsPath":"$.other.t"`, true},
		{`"Variable":"$.s","TimestampEquals":"2030-01-02T03:04:05Z"`, false},
		{`"Variable":"$.null","IsNull":true`, true},
		{`"Variable":"$.s","IsNull":true`, false},
		{`"Variable":"$.s","IsNull":false`, true},
		{`"Variable":"$.missing","IsPresent":false`, true},
		{`"Variable":"$.s","IsPresent":true`, true},
		{`"Variable":"$.null","IsPresent":true`, true},
		{`"Variable":"$.n","IsNumeric":true`, true},
		{`"Variable":"$.s","IsNumeric":true`, false},
		{`"Variable":"$.s","IsString":true`, true},
		{`"Variable":"$.n","IsString":false`, true},
		{`"Variable":"$.b","IsBoolean":true`, true},
		{`"Variable":"$.s","IsBoolean":true`, false},
		{`"Variable":"$.t","IsTimestamp":true`, true},
		{`"Variable":"$.s","IsTimestamp":true`, false},
		{`"And":[{"Variable":"$.n","NumericGreaterThan":1},{"Variable":"$.s","StringEquals":"beta"}]`, true},
		{`"And":[{"Variable":"$.n","NumericGreaterThan":1},{"Variable":"$.s","StringEquals":"x"}]`, false},
		{`"Or":[{"Variable":"$.n","NumericGreaterThan":10},{"Variable":"$.s","StringEquals":"beta"}]`, true},
		{`"Or":[{"Variable":"$.n","NumericGreaterThan":10},{"Variable":"$.s","StringEquals":"x"}]`, false},
		{`"Not":{"Variable":"$.s","StringEquals":"beta"}`, false},
		{`"Not":{"Variable":"$.missing","IsPresent":true}`, true},
		{`"Variable":"$$.Execution.Name","StringEquals":"ex"`, true},
	}
	data, err := decodeJSON([]byte(input))
	if err != nil {
		t.Fatal(err)
	}
	ctx := map[string]any{"Execution": map[string]any{"Name": "ex"}}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			raw, err := decodeJSON([]byte(`{` + tt.rule + `,"Next":"X"}`))
			if err != nil {
				t.Fatal(err)
			}
			r, err := parseChoiceRule(raw, true)
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.eval(data, ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestChoiceMissingVariableIsRuntimeError(t *testing.T) {
	raw, _ := decodeJSON([]byte(`{"Variable":"$.missing","StringEquals":"x","Next":"X"}`))
	r, err := parseChoiceRule(raw, true)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.eval(map[string]any{}, nil)
	if se, ok := err.(*stateError); !ok || se.Name != ErrRuntime {
		t.Fatalf("got %v, want States.Runtime", err)
	}
}

func TestChoiceState(t *testing.T) {
	def := `{"StartAt":"C","States":{
		"C":{"Type":"Choice","Choices":[
			{"Variable":"$.n","NumericLessThan":0,"Next":"Neg"},
			{"And":[{"Variable":"$.n","NumericGreaterThanEquals":0},{"Variable":"$.n","NumericLessThan":10}],"Next":"Small"}
		],"Default":"Big"},
		"Neg":{"Type":"Pass","Result":"neg","End":true},
		"Small":{"Type":"Pass","Result":"small","End":true},
		"Big":{"Type":"Pass","Result":"big","End":true}}}`
	for in, want := range map[string]string{`{"n":-1}`: `"neg"`, `{"n":3}`: `"small"`, `{"n":30}`: `"big"`} {
		e := newEngine(t)
		d := runMachine(t, e, def, in)
		jsonEq(t, str(d.Output), want)
	}
	e := newEngine(t)
	d := runMachine(t, e, `{"StartAt":"C","States":{
		"C":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericLessThan":0,"Next":"Neg"}]},
		"Neg":{"Type":"Succeed"}}}`, `{"n":1}`)
	if d.Status != types.ExecutionStatusFailed || str(d.Error) != ErrNoChoiceMatched {
		t.Fatalf("got %s %s, want FAILED States.NoChoiceMatched", d.Status, str(d.Error))
	}
}

func TestWildcardMatch(t *testing.T) {
	for _, tt := range []struct {
		pat, s string
		want   bool
	}{
		{"*", "", true}, {"*", "abc", true}, {"a*c", "abbbc", true}, {"a*c", "abbb", false},
		{"*.log", "x.log", true}, {"*.log", "x.log.gz", false}, {`a\*`, "a*", true}, {`a\*`, "ab", false},
		{`a\\b`, `a\b`, true}, {"a**b", "ab", true}, {"*a*b*", "xxaxxbxx", true},
	} {
		if got := wildcardMatch(tt.pat, tt.s); got != tt.want {
			t.Errorf("wildcardMatch(%q, %q) = %v, want %v", tt.pat, tt.s, got, tt.want)
		}
	}
}
