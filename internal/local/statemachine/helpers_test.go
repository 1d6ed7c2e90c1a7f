package statemachine

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/lethe-dev/lethe/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

const testAccount = "123456789012"

func newEngine(t *testing.T) *Engine {
	t.Helper()
	e := New(Options{Clock: NewClock(t0, false), AccountID: testAccount, Seed: 42})
	t.Cleanup(e.Close)
	return e
}

var machineSeq atomic.Int64

// create registers definition under a fresh name and returns the machine ARN.
func create(t *testing.T, e *Engine, definition string) string {
	t.Helper()
	name := fmt.Sprintf("m%d", machineSeq.Add(1))
	arn := "arn:aws:states:us-east-1:" + testAccount + ":stateMachine:" + name
	if err := e.CreateStateMachine(name, arn, []byte(definition)); err != nil {
		t.Fatalf("create: %v", err)
	}
	return arn
}

func start(t *testing.T, e *Engine, arn, input string) string {
	t.Helper()
	out, err := e.StartExecution(context.Background(), &sfn.StartExecutionInput{StateMachineArn: &arn, Input: &input})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	return *out.ExecutionArn
}

func describe(t *testing.T, e *Engine, execArn string) *sfn.DescribeExecutionOutput {
	t.Helper()
	out, err := e.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: &execArn})
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	return out
}

func settle(t *testing.T, e *Engine) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.Settle(ctx); err != nil {
		t.Fatal(err)
	}
}

func advance(t *testing.T, e *Engine, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := e.Advance(ctx, d); err != nil {
		t.Fatal(err)
	}
}

func drain(t *testing.T, e *Engine) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.Drain(ctx, 400*24*time.Hour); err != nil {
		t.Fatal(err)
	}
}

// runMachine creates definition, runs it on input to completion and describes the execution.
func runMachine(t *testing.T, e *Engine, definition, input string) *sfn.DescribeExecutionOutput {
	t.Helper()
	arn := create(t, e, definition)
	x := start(t, e, arn, input)
	drain(t, e)
	return describe(t, e, x)
}

// jsonEq compares two JSON texts by value.
func jsonEq(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("got is not JSON: %q", got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want is not JSON: %q", want)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func eventTypes(t *testing.T, e *Engine, execArn string) []string {
	t.Helper()
	evs, err := e.History(execArn)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Type)
	}
	return out
}

func str(s *string) string { return aws.ToString(s) }
