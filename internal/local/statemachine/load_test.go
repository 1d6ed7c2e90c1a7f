package statemachine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lethe-dev/lethe/internal/samtemplate"
)

func TestCreateRefusals(t *testing.T) {
	pass := `"P":{"Type":"Pass","End":true}`
	tests := []struct{ name, def, want string }{
		{"not JSON", `{`, "not JSON"},
		{"no StartAt", `{"States":{` + pass + `}}`, "StartAt"},
		{"StartAt unknown", `{"StartAt":"X","States":{` + pass + `}}`, `StartAt "X"`},
		{"unknown top field", `{"StartAt":"P","Foo":1,"States":{` + pass + `}}`, `"Foo"`},
		{"JSONata", `{"QueryLanguage":"JSONata","StartAt":"P","States":{` + pass + `}}`, "QueryLanguage"},
		{"JSONata state", `{"StartAt":"P","States":{"P":{"Type":"Pass","QueryLanguage":"JSONata","End":true}}}`, `state "P": field QueryLanguage`},
		{"Assign", `{"StartAt":"P","States":{"P":{"Type":"Pass","Assign":{"x":1},"End":true}}}`, `state "P": field Assign`},
		{"unknown type", `{"StartAt":"P","States":{"P":{"Type":"Sleep","End":true}}}`, `state "P": field Type`},
		{"Map", `{"StartAt":"P","States":{"P":{"Type":"Map","End":true}}}`, `state "P": state type Map`},
		{"Parallel", `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true}}}`, `state "P": state type Parallel`},
		{"unknown field", `{"StartAt":"P","States":{"P":{"Type":"Pass","Seconds":1,"End":true}}}`, `state "P": field Seconds`},
		{"no Next or End", `{"StartAt":"P","States":{"P":{"Type":"Pass"}}}`, `state "P": field Next or End`},
		{"Next and End", `{"StartAt":"P","States":{"P":{"Type":"Pass","Next":"P","End":true}}}`, `state "P": fields Next and End`},
		{"Next unknown", `{"StartAt":"P","States":{"P":{"Type":"Pass","Next":"Q"}}}`, `state "P": transition to unknown state "Q"`},
		{"unreachable", `{"StartAt":"P","States":{` + pass + `,"Q":{"Type":"Succeed"}}}`, `state "Q" is not reachable`},
		{"bad path", `{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":"x","End":true}}}`, `state "P": field InputPath`},
		{"ResultPath not a reference path", `{"StartAt":"P","States":{"P":{"Type":"Pass","ResultPath":"$.a[*]","End":true}}}`, `state "P": field ResultPath`},
		{"unsupported intrinsic", `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"x.$":"States.Evaluate(1)"},"End":true}}}`, `unsupported intrinsic function "States.Evaluate"`},
		{"bad intrinsic arity", `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"x.$":"States.MathAdd(1)"},"End":true}}}`, "States.MathAdd takes 2"},
		{"two Wait forms", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"Timestamp":"2030-01-01T00:00:00Z","End":true}}}`, `state "W": exactly one of`},
		{"bad timestamp", `{"StartAt":"W","States":{"W":{"Type":"Wait","Timestamp":"tomorrow","End":true}}}`, `state "W": field Timestamp`},
		{"Choice without Next", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","IsNull":true}]}}}`, `state "C": Choices[0]: a top-level choice rule needs field Next`},
		{"Choice unknown operator", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","StringContains":"x","Next":"C"}]}}}`, `"StringContains"`},
		{"Choice two operators", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","IsNull":true,"IsString":true,"Next":"C"}]}}}`, "exactly one comparison"},
		{"Choice wrong operand", `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","NumericEquals":"1","Next":"C"}]}}}`, "NumericEquals must be a number"},
		{"unsupported service", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage","End":true}}}`, `state "T": field Resource: unsupported resource`},
		{"unsupported sdk service", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:s3:putObject","End":true}}}`, `state "T": field Resource: unsupported AWS SDK integration`},
		{"unsupported ses action", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:sesv2:createContact","End":true}}}`, "unsupported AWS SDK integration"},
		{"unsupported dynamodb action", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:query","End":true}}}`, "unsupported resource"},
		{"unsupported pattern", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync","End":true}}}`, "pattern .sync"},
		{"unregistered lambda", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:ghost","End":true}}}`, `Lambda function "ghost" is not registered`},
		{"unregistered lambda invoke", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"ghost"},"End":true}}}`, `Lambda function "ghost" is not registered`},
		{"token without token", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"ok"},"End":true}}}`, "$$.Task.Token"},
		{"States.ALL not last", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:ok","Retry":[{"ErrorEquals":["States.ALL"]},{"ErrorEquals":["X"]}],"End":true}}}`, "States.ALL"},
		{"bad retrier field", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:ok","Retry":[{"ErrorEquals":["X"],"Interval":1}],"End":true}}}`, `Retry[0]: unsupported field "Interval"`},
		{"bad jitter", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:ok","Retry":[{"ErrorEquals":["X"],"JitterStrategy":"HALF"}],"End":true}}}`, "JitterStrategy"},
		{"heartbeat >= timeout", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:ok","TimeoutSeconds":5,"HeartbeatSeconds":5,"End":true}}}`, "HeartbeatSeconds"},
		{"Credentials", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:ok","Credentials":{},"End":true}}}`, `state "T": field Credentials`},
		{"catch without Next", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:ok","Catch":[{"ErrorEquals":["X"]}],"End":true}}}`, "Catch[0]: field Next"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t)
			e.RegisterLambda("arn:aws:lambda:us-east-1:1:function:ok", 128, nil)
			err := e.CreateStateMachine("M", "arn:aws:states:us-east-1:1:stateMachine:M", []byte(tt.def))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestCreateAccepts(t *testing.T) {
	e := newEngine(t)
	e.RegisterLambda(fnARN("ok"), 128, nil)
	def := `{"Comment":"all supported","StartAt":"T","TimeoutSeconds":3600,"States":{
		"T":{"Type":"Task","Resource":"` + fnARN("ok") + `","Retry":[{"ErrorEquals":["X"],"MaxDelaySeconds":5,"JitterStrategy":"NONE"},{"ErrorEquals":["States.ALL"]}],
			"Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.e","Next":"D"}],"Next":"D"},
		"D":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:putItem","Parameters":{"TableName":"t","Item":{}},"Next":"Q"},
		"Q":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:dynamodb:query","Parameters":{"TableName":"t"},"Next":"M"},
		"M":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:sesv2:sendEmail","Parameters":{},"Next":"X"},
		"X":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync:2","Parameters":{"StateMachineArn":"arn:aws:states:us-east-1:1:stateMachine:o"},"Next":"K"},
		"K":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"ok","Payload":{"t.$":"$$.Task.Token"}},"HeartbeatSecondsPath":"$.hb","Next":"F"},
		"F":{"Type":"Fail","Error":"E"}}}`
	if err := e.CreateStateMachine("all", "arn:aws:states:us-east-1:1:stateMachine:all", []byte(def)); err != nil {
		t.Fatal(err)
	}
	// The same definition again is a no-op; a different one is refused.
	if err := e.CreateStateMachine("all", "arn:aws:states:us-east-1:1:stateMachine:all", []byte(def)); err != nil {
		t.Errorf("recreate: %v", err)
	}
	if err := e.CreateStateMachine("all", "arn:aws:states:us-east-1:1:stateMachine:all", []byte(`{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`)); err == nil {
		t.Error("changed definition accepted")
	}
}

func TestLoadTemplate(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "statemachines"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "statemachines", "flow.asl.json"), []byte(`{"StartAt":"T","States":{
		"T":{"Type":"Task","Resource":"${WorkerArn}","Next":"C"},
		"C":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync:2","Parameters":{"StateMachineArn":"${ChildArn}","Input":{"table":"${Table}"}},"End":true}}}`), 0o644))
	must(os.WriteFile(filepath.Join(dir, "statemachines", "child.asl.json"), []byte(`{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`), 0o644))
	must(os.WriteFile(filepath.Join(dir, "template.yaml"), []byte(`
Transform: AWS::Serverless-2016-10-31
Resources:
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub "${AWS::StackName}-worker"
  Data:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${AWS::StackName}-data"
  Flow:
    Type: AWS::Serverless::StateMachine
    Properties:
      Type: STANDARD
      Name: !Sub "${AWS::StackName}-flow"
      DefinitionUri: statemachines/flow.asl.json
      DefinitionSubstitutions:
        WorkerArn: !GetAtt Worker.Arn
        ChildArn: !Ref Child
        Table: !Ref Data
  Child:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: statemachines/child.asl.json
`), 0o644))
	tmpl, err := samtemplate.Load(filepath.Join(dir, "template.yaml"))
	must(err)
	env := samtemplate.Env{StackName: "st", AccountID: testAccount}
	ms, err := LoadTemplate(tmpl, env)
	must(err)
	if len(ms) != 2 || ms[0].LogicalID != "Child" || ms[1].LogicalID != "Flow" {
		t.Fatalf("machines %+v", ms)
	}
	flow := ms[1]
	if flow.Name != "st-flow" || flow.ARN != "arn:aws:states:us-east-1:"+testAccount+":stateMachine:st-flow" {
		t.Errorf("flow %s %s", flow.Name, flow.ARN)
	}
	if ms[0].Name != "st-Child" {
		t.Errorf("child name %s", ms[0].Name)
	}
	def := string(flow.Definition)
	for _, want := range []string{`"arn:aws:lambda:us-east-1:` + testAccount + `:function:st-worker"`, `:stateMachine:st-Child"`, `"table":"st-data"`} {
		if !strings.Contains(def, want) {
			t.Errorf("definition lacks %s:\n%s", want, def)
		}
	}
	e := newEngine(t)
	if err := e.LoadMachines(ms); err == nil {
		t.Error("loaded with the worker unregistered")
	}
	e.RegisterLambda("arn:aws:lambda:us-east-1:"+testAccount+":function:st-worker", 128, nil)
	must(e.LoadMachines(ms))

	// A placeholder without a substitution is an error.
	must(os.WriteFile(filepath.Join(dir, "statemachines", "child.asl.json"), []byte(`{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"${Nope}","End":true}}}`), 0o644))
	if _, err := LoadTemplate(tmpl, env); err == nil || !strings.Contains(err.Error(), "Nope") {
		t.Errorf("missing substitution: %v", err)
	}
}

// The repository's own template loads (whatever machines it declares today).
func TestLoadRepositoryTemplate(t *testing.T) {
	path, err := samtemplate.Find()
	if err != nil {
		t.Skip(err)
	}
	tmpl, err := samtemplate.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTemplate(tmpl, samtemplate.Env{}); err != nil {
		t.Fatal(err)
	}
}
