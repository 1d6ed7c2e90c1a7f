package statemachine

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// The examples of the States language specification's "Input and Output Processing" section.
func TestPathProcessing(t *testing.T) {
	tests := []struct {
		name, state, input, want string
	}{
		{
			name:  "InputPath and ResultPath (spec example)",
			state: `{"Type":"Pass","InputPath":"$.title","Result":"Jim","ResultPath":"$.title2","End":true}`,
			input: `{"title":"Numbers to add","numbers":{"val1":3,"val2":4}}`,
			// Pass with Result ignores the selected input; ResultPath writes into the raw input.
			want: `{"title":"Numbers to add","numbers":{"val1":3,"val2":4},"title2":"Jim"}`,
		},
		{
			name:  "ResultPath $.sum on raw input, OutputPath",
			state: `{"Type":"Pass","InputPath":"$.numbers","Result":7,"ResultPath":"$.sum","OutputPath":"$.sum","End":true}`,
			input: `{"title":"Numbers to add","numbers":{"val1":3,"val2":4}}`,
			want:  `7`,
		},
		{
			name:  "ResultPath $ replaces",
			state: `{"Type":"Pass","Result":{"x":1},"ResultPath":"$","End":true}`,
			input: `{"a":1}`,
			want:  `{"x":1}`,
		},
		{
			name:  "ResultPath null keeps the input",
			state: `{"Type":"Pass","Result":{"x":1},"ResultPath":null,"End":true}`,
			input: `{"a":1}`,
			want:  `{"a":1}`,
		},
		{
			name:  "ResultPath creates nested objects",
			state: `{"Type":"Pass","Result":"v","ResultPath":"$.a.b.c","End":true}`,
			input: `{"a":{"z":0}}`,
			want:  `{"a":{"z":0,"b":{"c":"v"}}}`,
		},
		{
			name:  "InputPath null gives {}",
			state: `{"Type":"Pass","InputPath":null,"End":true}`,
			input: `{"a":1}`,
			want:  `{}`,
		},
		{
			name:  "OutputPath null gives {}",
			state: `{"Type":"Pass","OutputPath":null,"End":true}`,
			input: `{"a":1}`,
			want:  `{}`,
		},
		{
			name: "Parameters (spec example)",
			state: `{"Type":"Pass","Parameters":{"flagged":true,"parts":{"first.$":"$.vals[0]","last3.$":"$.vals[-3:]"},
				"weekday.$":"$$.Execution.Input.weekday","formattedOutput.$":"States.Format('Today is {}', $$.Execution.Input.weekday)"},"End":true}`,
			input: `{"flagged":7,"vals":[0,10,20,30,40,50],"weekday":"Tuesday"}`,
			want:  `{"flagged":true,"parts":{"first":0,"last3":[30,40,50]},"weekday":"Tuesday","formattedOutput":"Today is Tuesday"}`,
		},
		{
			name:  "Parameters in arrays and wildcards",
			state: `{"Type":"Pass","Parameters":{"list":[{"n.$":"$.a"},"lit"],"all.$":"$.items[*].id"},"End":true}`,
			input: `{"a":1,"items":[{"id":"x"},{"id":"y"}]}`,
			want:  `{"list":[{"n":1},"lit"],"all":["x","y"]}`,
		},
		{
			name:  "context object",
			state: `{"Type":"Pass","Parameters":{"state.$":"$$.State.Name","entered.$":"$$.State.EnteredTime","retry.$":"$$.State.RetryCount","sm.$":"$$.StateMachine.Name"},"End":true}`,
			input: `{}`,
			want:  `{"state":"S","entered":"2030-01-02T03:04:05.000Z","retry":0,"sm":"SM"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t)
			arn := "arn:aws:states:us-east-1:" + testAccount + ":stateMachine:SM"
			if err := e.CreateStateMachine("SM", arn, []byte(`{"StartAt":"S","States":{"S":`+tt.state+`}}`)); err != nil {
				t.Fatal(err)
			}
			x := start(t, e, arn, tt.input)
			drain(t, e)
			d := describe(t, e, x)
			if d.Status != types.ExecutionStatusSucceeded {
				t.Fatalf("status %s: %s %s", d.Status, str(d.Error), str(d.Cause))
			}
			jsonEq(t, str(d.Output), tt.want)
		})
	}
}

// The spec's Task example: ResultSelector picks from the result, ResultPath places it, OutputPath
// selects, in that order.
func TestTaskResultSelector(t *testing.T) {
	e := newEngine(t)
	fn := "arn:aws:lambda:us-east-1:" + testAccount + ":function:emr"
	e.RegisterLambda(fn, 128, func(_ context.Context, p json.RawMessage) (json.RawMessage, error) {
		return json.RawMessage(`{"resourceType":"elasticmapreduce","resource":"createCluster.sync","output":{"SdkHttpMetadata":{"HttpStatusCode":200},"ClusterId":"AKIAIOSFODNN7EXAMPLE","StatusCode":200}}`), nil
	})
	d := runMachine(t, e, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"`+fn+`",
		"InputPath":"$.in","Parameters":{"p.$":"$"},
		"ResultSelector":{"ClusterId.$":"$.output.ClusterId","ResourceType.$":"$.resourceType"},
		"ResultPath":"$.EMROutput","OutputPath":"$.EMROutput","End":true}}}`, `{"in":{"a":1}}`)
	if d.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("status %s: %s %s", d.Status, str(d.Error), str(d.Cause))
	}
	jsonEq(t, str(d.Output), `{"ClusterId":"AKIAIOSFODNN7EXAMPLE","ResourceType":"elasticmapreduce"}`)
}

func TestPathErrors(t *testing.T) {
	tests := []struct{ name, state, input, want string }{
		{"missing InputPath", `{"Type":"Pass","InputPath":"$.nope","End":true}`, `{}`, ErrRuntime},
		{"missing Parameters path", `{"Type":"Pass","Parameters":{"x.$":"$.nope"},"End":true}`, `{}`, ErrRuntime},
		{"missing OutputPath", `{"Type":"Pass","OutputPath":"$.nope","End":true}`, `{}`, ErrRuntime},
		{"ResultPath into a string", `{"Type":"Pass","Result":1,"ResultPath":"$.a.b","End":true}`, `{"a":"s"}`, ErrResultPathMatchFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t)
			d := runMachine(t, e, `{"StartAt":"S","States":{"S":`+tt.state+`}}`, tt.input)
			if d.Status != types.ExecutionStatusFailed || str(d.Error) != tt.want {
				t.Fatalf("got %s %s %s, want FAILED %s", d.Status, str(d.Error), str(d.Cause), tt.want)
			}
		})
	}
}
