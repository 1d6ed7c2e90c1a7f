package statemachine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// stepFunctions is the method set production code uses; both the SDK client and the engine have it.
type stepFunctions interface {
	StartExecution(context.Context, *sfn.StartExecutionInput, ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	DescribeExecution(context.Context, *sfn.DescribeExecutionInput, ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
	StopExecution(context.Context, *sfn.StopExecutionInput, ...func(*sfn.Options)) (*sfn.StopExecutionOutput, error)
	SendTaskSuccess(context.Context, *sfn.SendTaskSuccessInput, ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
	SendTaskFailure(context.Context, *sfn.SendTaskFailureInput, ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error)
	SendTaskHeartbeat(context.Context, *sfn.SendTaskHeartbeatInput, ...func(*sfn.Options)) (*sfn.SendTaskHeartbeatOutput, error)
	GetExecutionHistory(context.Context, *sfn.GetExecutionHistoryInput, ...func(*sfn.Options)) (*sfn.GetExecutionHistoryOutput, error)
	ListExecutions(context.Context, *sfn.ListExecutionsInput, ...func(*sfn.Options)) (*sfn.ListExecutionsOutput, error)
}

var (
	_ stepFunctions = (*Engine)(nil)
	_ stepFunctions = (*sfn.Client)(nil)
)

func fnARN(name string) string {
	return "arn:aws:lambda:us-east-1:" + testAccount + ":function:" + name
}

func TestWaitForms(t *testing.T) {
	tests := []struct {
		name, wait, input string
		dur               time.Duration
	}{
		{"Seconds", `"Seconds":10`, `{}`, 10 * time.Second},
		{"SecondsPath", `"SecondsPath":"$.s"`, `{"s":3600}`, time.Hour},
		{"Timestamp", `"Timestamp":"2030-01-03T03:04:05Z"`, `{}`, 24 * time.Hour},
		{"TimestampPath", `"TimestampPath":"$.ts"`, `{"ts":"2030-01-02T03:34:05.5Z"}`, 30*time.Minute + 500*time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t)
			arn := create(t, e, `{"StartAt":"W","States":{"W":{"Type":"Wait",`+tt.wait+`,"Next":"D"},"D":{"Type":"Succeed"}}}`)
			x := start(t, e, arn, tt.input)
			advance(t, e, tt.dur-time.Millisecond)
			if d := describe(t, e, x); d.Status != types.ExecutionStatusRunning {
				t.Fatalf("finished early: %s %s", d.Status, str(d.Cause))
			}
			advance(t, e, time.Millisecond)
			d := describe(t, e, x)
			if d.Status != types.ExecutionStatusSucceeded {
				t.Fatalf("status %s %s", d.Status, str(d.Cause))
			}
			if got := d.StopDate.Sub(t0); got != tt.dur {
				t.Errorf("stopped after %v, want %v", got, tt.dur)
			}
			jsonEq(t, str(d.Output), tt.input)
		})
	}
	t.Run("past timestamp", func(t *testing.T) {
		e := newEngine(t)
		arn := create(t, e, `{"StartAt":"W","States":{"W":{"Type":"Wait","Timestamp":"2000-01-01T00:00:00Z","End":true}}}`)
		x := start(t, e, arn, `{}`)
		settle(t, e)
		if d := describe(t, e, x); d.Status != types.ExecutionStatusSucceeded {
			t.Fatalf("status %s", d.Status)
		}
	})
	t.Run("bad SecondsPath", func(t *testing.T) {
		e := newEngine(t)
		d := runMachine(t, e, `{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}`, `{"s":"x"}`)
		if d.Status != types.ExecutionStatusFailed || str(d.Error) != ErrRuntime {
			t.Fatalf("got %s %s", d.Status, str(d.Error))
		}
	})
}

// Advance fires timers in time order, whichever execution they belong to.
func TestAdvanceOrder(t *testing.T) {
	e := newEngine(t)
	var mu sync.Mutex
	var order []string
	e.RegisterLambda(fnARN("rec"), 128, func(_ context.Context, p json.RawMessage) (json.RawMessage, error) {
		mu.Lock()
		defer mu.Unlock()
		order = append(order, fmt.Sprintf("%s@%s", p, e.Clock().Now().Sub(t0)))
		return p, nil
	})
	arn := create(t, e, `{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","Next":"R"},
		"R":{"Type":"Task","Resource":"`+fnARN("rec")+`","InputPath":"$.s","End":true}}}`)
	for _, s := range []int{30, 10, 20} {
		start(t, e, arn, fmt.Sprintf(`{"s":%d}`, s))
	}
	advance(t, e, time.Minute)
	if got := strings.Join(order, " "); got != "10@10s 20@20s 30@30s" {
		t.Errorf("order %s", got)
	}
	if now := e.Clock().Now(); !now.Equal(t0.Add(time.Minute)) {
		t.Errorf("clock %v", now)
	}
}

func TestRetryBackoffAndCatch(t *testing.T) {
	e := newEngine(t)
	var mu sync.Mutex
	var at []time.Duration
	e.RegisterLambda(fnARN("flaky"), 512, func(_ context.Context, p json.RawMessage) (json.RawMessage, error) {
		mu.Lock()
		at = append(at, e.Clock().Now().Sub(t0))
		mu.Unlock()
		return nil, messages.InvokeResponse_Error{Type: "Flaky.Error", Message: "try again"}
	})
	arn := create(t, e, `{"StartAt":"T","States":{
		"T":{"Type":"Task","Resource":"`+fnARN("flaky")+`","Retry":[
			{"ErrorEquals":["Other"],"MaxAttempts":9},
			{"ErrorEquals":["States.TaskFailed"],"IntervalSeconds":2,"BackoffRate":3,"MaxDelaySeconds":10,"MaxAttempts":4}],
			"Catch":[{"ErrorEquals":["Flaky.Error"],"ResultPath":"$.err","Next":"Handled"}],"End":true},
		"Handled":{"Type":"Pass","End":true}}}`)
	x := start(t, e, arn, `{"keep":1}`)
	drain(t, e)
	want := []time.Duration{0, 2 * time.Second, 8 * time.Second, 18 * time.Second, 28 * time.Second}
	if fmt.Sprint(at) != fmt.Sprint(want) {
		t.Errorf("attempts at %v, want %v", at, want)
	}
	d := describe(t, e, x)
	if d.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("status %s %s", d.Status, str(d.Error))
	}
	jsonEq(t, str(d.Output), `{"keep":1,"err":{"Error":"Flaky.Error","Cause":"{\"errorMessage\":\"try again\",\"errorType\":\"Flaky.Error\"}"}}`)
	ex := e.Executions()[0]
	// 2 states entered + 4 retries.
	if ex.Transitions != 6 || ex.LambdaInvocations != 5 {
		t.Errorf("transitions %d, invocations %d", ex.Transitions, ex.LambdaInvocations)
	}
	if ex.LambdaGBSeconds <= 0 || ex.CostUSD <= 0 {
		t.Errorf("cost not recorded: %+v", ex)
	}
	types := eventTypes(t, e, x)
	if n := strings.Count(strings.Join(types, ","), "LambdaFunctionFailed"); n != 5 {
		t.Errorf("%d LambdaFunctionFailed events: %v", n, types)
	}
}

func TestRetryDefaultsAndUncaught(t *testing.T) {
	e := newEngine(t)
	calls := 0
	e.RegisterLambda(fnARN("bad"), 128, func(_ context.Context, p json.RawMessage) (json.RawMessage, error) {
		calls++
		return nil, errors.New("nope")
	})
	d := runMachine(t, e, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"`+fnARN("bad")+`",
		"Retry":[{"ErrorEquals":["States.ALL"]}],"End":true}}}`, `{}`)
	if calls != 4 {
		t.Errorf("calls %d, want 1 + 3 default retries", calls)
	}
	if d.Status != types.ExecutionStatusFailed || str(d.Error) != "errorString" || str(d.Cause) != `{"errorMessage":"nope","errorType":"errorString"}` {
		t.Errorf("got %s %s %s", d.Status, str(d.Error), str(d.Cause))
	}
	// Default interval 1 s, rate 2: 1 + 2 + 4.
	if got := d.StopDate.Sub(t0); got != 7*time.Second {
		t.Errorf("took %v", got)
	}
	e2 := newEngine(t)
	calls = 0
	e2.RegisterLambda(fnARN("bad"), 128, func(_ context.Context, p json.RawMessage) (json.RawMessage, error) {
		calls++
		return nil, errors.New("nope")
	})
	runMachine(t, e2, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"`+fnARN("bad")+`",
		"Retry":[{"ErrorEquals":["States.ALL"],"MaxAttempts":0}],"End":true}}}`, `{}`)
	if calls != 1 {
		t.Errorf("MaxAttempts 0: calls %d", calls)
	}
}

func TestRetryJitterIsDeterministic(t *testing.T) {
	run := func() []time.Duration {
		e := newEngine(t)
		var at []time.Duration
		e.RegisterLambda(fnARN("bad"), 128, func(_ context.Context, p json.RawMessage) (json.RawMessage, error) {
			at = append(at, e.Clock().Now().Sub(t0))
			return nil, errors.New("nope")
		})
		runMachine(t, e, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"`+fnARN("bad")+`",
			"Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":10,"MaxAttempts":3,"BackoffRate":1,"JitterStrategy":"FULL"}],"End":true}}}`, `{}`)
		return at
	}
	a, b := run(), run()
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("same seed, different jitter: %v vs %v", a, b)
	}
	for i := 1; i < len(a); i++ {
		if d := a[i] - a[i-1]; d < 0 || d > 10*time.Second {
			t.Errorf("jittered delay %v outside [0, 10s]", d)
		}
	}
	if a[3]-a[0] == 30*time.Second {
		t.Errorf("no jitter applied: %v", a)
	}
}

func TestLambdaErrorNames(t *testing.T) {
	tests := []struct {
		name      string
		fn        LambdaFunc
		wantError string
		wantCause string
	}{
		{"InvokeResponse_Error", func(context.Context, json.RawMessage) (json.RawMessage, error) {
			return nil, messages.InvokeResponse_Error{Type: "Lethe.NotFound", Message: "no such user"}
		}, "Lethe.NotFound", `{"errorMessage":"no such user","errorType":"Lethe.NotFound"}`},
		{"wrapped InvokeResponse_Error", func(context.Context, json.RawMessage) (json.RawMessage, error) {
			return nil, fmt.Errorf("outer: %w", &messages.InvokeResponse_Error{Type: "Lethe.Wrapped", Message: "inner"})
		}, "Lethe.Wrapped", `{"errorMessage":"inner","errorType":"Lethe.Wrapped"}`},
		{"custom pointer type", func(context.Context, json.RawMessage) (json.RawMessage, error) {
			return nil, &quotaError{limit: 3}
		}, "quotaError", `{"errorMessage":"quota 3 exceeded","errorType":"quotaError"}`},
		{"custom value type", func(context.Context, json.RawMessage) (json.RawMessage, error) {
			return nil, valueError("v")
		}, "valueError", `{"errorMessage":"value v","errorType":"valueError"}`},
		{"panic string", func(context.Context, json.RawMessage) (json.RawMessage, error) {
			panic("boom")
		}, "string", `{"errorMessage":"boom","errorType":"string"}`},
		{"panic error", func(context.Context, json.RawMessage) (json.RawMessage, error) {
			panic(errors.New("kaput"))
		}, "errorString", `{"errorMessage":"kaput","errorType":"errorString"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, res := range []string{"direct", "invoke"} {
				e := newEngine(t)
				e.RegisterLambda(fnARN("f"), 128, tt.fn)
				task := `"Resource":"` + fnARN("f") + `"`
				if res == "invoke" {
					task = `"Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"` + fnARN("f") + `","Payload.$":"$"}`
				}
				d := runMachine(t, e, `{"StartAt":"T","States":{"T":{"Type":"Task",`+task+`,"End":true}}}`, `{}`)
				if d.Status != types.ExecutionStatusFailed || str(d.Error) != tt.wantError || str(d.Cause) != tt.wantCause {
					t.Errorf("%s: got %s %q %q, want %q %q", res, d.Status, str(d.Error), str(d.Cause), tt.wantError, tt.wantCause)
				}
			}
		})
	}
}

type quotaError struct{ limit int }

func (q *quotaError) Error() string { return fmt.Sprintf("quota %d exceeded", q.limit) }

type valueError string

func (v valueError) Error() string { return "value " + string(v) }

func TestLambdaInvokeOutput(t *testing.T) {
	e := newEngine(t)
	e.RegisterLambda(fnARN("echo"), 256, func(_ context.Context, p json.RawMessage) (json.RawMessage, error) {
		return p, nil
	})
	d := runMachine(t, e, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
		"Parameters":{"FunctionName":"echo:$LATEST","Payload":{"a.$":"$.a"}},
		"ResultSelector":{"p.$":"$.Payload","code.$":"$.StatusCode","v.$":"$.ExecutedVersion"},"End":true}}}`, `{"a":[1]}`)
	jsonEq(t, str(d.Output), `{"p":{"a":[1]},"code":200,"v":"$LATEST"}`)
}

func TestLambdaNotRegisteredAtRunTime(t *testing.T) {
	e := newEngine(t)
	d := runMachine(t, e, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
		"Parameters":{"FunctionName.$":"$.fn"},"End":true}}}`, `{"fn":"ghost"}`)
	if str(d.Error) != "Lambda.ResourceNotFoundException" {
		t.Errorf("got %s %s", str(d.Error), str(d.Cause))
	}
}

func TestTaskTimeout(t *testing.T) {
	e := newEngine(t)
	var tokens []string
	e.RegisterLambda(fnARN("park"), 128, func(_ context.Context, p json.RawMessage) (json.RawMessage, error) {
		var in struct{ Token string }
		_ = json.Unmarshal(p, &in)
		tokens = append(tokens, in.Token)
		return nil, nil
	})
	arn := create(t, e, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
		"Parameters":{"FunctionName":"park","Payload":{"Token.$":"$$.Task.Token"}},"TimeoutSecondsPath":"$.timeout",
		"Catch":[{"ErrorEquals":["States.Timeout"],"Next":"TimedOut"}],"End":true},
		"TimedOut":{"Type":"Pass","End":true}}}`)
	x := start(t, e, arn, `{"timeout":60}`)
	advance(t, e, 59*time.Second)
	if d := describe(t, e, x); d.Status != types.ExecutionStatusRunning {
		t.Fatalf("status %s", d.Status)
	}
	advance(t, e, time.Second)
	d := describe(t, e, x)
	jsonEq(t, str(d.Output), `{"Error":"States.Timeout","Cause":"The task did not finish within its 60 seconds (TimeoutSeconds)."}`)
	_, err := e.SendTaskSuccess(context.Background(), &sfn.SendTaskSuccessInput{TaskToken: &tokens[0], Output: aws.String(`{}`)})
	var tto *types.TaskTimedOut
	if !errors.As(err, &tto) {
		t.Errorf("late SendTaskSuccess: %v, want TaskTimedOut", err)
	}
	if got := eventTypes(t, e, x); !strings.Contains(strings.Join(got, ","), "TaskSubmitted,TaskTimedOut,TaskStateExited") {
		t.Errorf("events %v", got)
	}
}

func TestHeartbeat(t *testing.T) {
	e := newEngine(t)
	var token string
	e.RegisterLambda(fnARN("park"), 128, func(_ context.Context, p json.RawMessage) (json.RawMessage, error) {
		var in struct{ Token string }
		_ = json.Unmarshal(p, &in)
		token = in.Token
		return nil, nil
	})
	arn := create(t, e, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
		"Parameters":{"FunctionName":"park","Payload":{"Token.$":"$$.Task.Token"}},"HeartbeatSeconds":10,"TimeoutSeconds":100,"End":true}}}`)
	x := start(t, e, arn, `{}`)
	for range 5 {
		advance(t, e, 9*time.Second)
		if _, err := e.SendTaskHeartbeat(context.Background(), &sfn.SendTaskHeartbeatInput{TaskToken: &token}); err != nil {
			t.Fatal(err)
		}
	}
	if d := describe(t, e, x); d.Status != types.ExecutionStatusRunning {
		t.Fatalf("status %s %s", d.Status, str(d.Error))
	}
	advance(t, e, 10*time.Second)
	d := describe(t, e, x)
	if d.Status != types.ExecutionStatusFailed || str(d.Error) != ErrHeartbeatTimeout || str(d.Cause) == "" {
		t.Fatalf("got %s %s %q, want FAILED %s with a cause", d.Status, str(d.Error), str(d.Cause), ErrHeartbeatTimeout)
	}
}

func TestWaitForTaskToken(t *testing.T) {
	setup := func(t *testing.T) (*Engine, string, *string) {
		e := newEngine(t)
		token := new(string)
		e.RegisterLambda(fnARN("park"), 128, func(_ context.Context, p json.RawMessage) (json.RawMessage, error) {
			var in struct{ Token string }
			_ = json.Unmarshal(p, &in)
			*token = in.Token
			return json.RawMessage(`{"ignored":true}`), nil
		})
		arn := create(t, e, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
			"Parameters":{"FunctionName":"`+fnARN("park")+`","Payload":{"Token.$":"$$.Task.Token"}},"ResultPath":"$.cb","End":true}}}`)
		x := start(t, e, arn, `{"a":1}`)
		settle(t, e)
		if *token == "" || !validTokenFormat(*token) {
			t.Fatalf("token %q", *token)
		}
		return e, x, token
	}
	t.Run("success", func(t *testing.T) {
		e, x, token := setup(t)
		advance(t, e, 48*time.Hour)
		if d := describe(t, e, x); d.Status != types.ExecutionStatusRunning {
			t.Fatalf("status %s", d.Status)
		}
		if _, err := e.SendTaskSuccess(context.Background(), &sfn.SendTaskSuccessInput{TaskToken: token, Output: aws.String(`{"ok":true}`)}); err != nil {
			t.Fatal(err)
		}
		settle(t, e)
		jsonEq(t, str(describe(t, e, x).Output), `{"a":1,"cb":{"ok":true}}`)
		_, err := e.SendTaskSuccess(context.Background(), &sfn.SendTaskSuccessInput{TaskToken: token, Output: aws.String(`{}`)})
		var tdne *types.TaskDoesNotExist
		if !errors.As(err, &tdne) {
			t.Errorf("second SendTaskSuccess: %v", err)
		}
	})
	t.Run("failure", func(t *testing.T) {
		e, x, token := setup(t)
		if _, err := e.SendTaskFailure(context.Background(), &sfn.SendTaskFailureInput{TaskToken: token, Error: aws.String("Review.Rejected"), Cause: aws.String("no")}); err != nil {
			t.Fatal(err)
		}
		settle(t, e)
		d := describe(t, e, x)
		if d.Status != types.ExecutionStatusFailed || str(d.Error) != "Review.Rejected" || str(d.Cause) != "no" {
			t.Errorf("got %s %s %s", d.Status, str(d.Error), str(d.Cause))
		}
	})
	t.Run("bad tokens", func(t *testing.T) {
		e, _, _ := setup(t)
		_, err := e.SendTaskSuccess(context.Background(), &sfn.SendTaskSuccessInput{TaskToken: aws.String("guess"), Output: aws.String(`{}`)})
		var it *types.InvalidToken
		if !errors.As(err, &it) {
			t.Errorf("malformed token: %v", err)
		}
		other := newToken()
		_, err = e.SendTaskFailure(context.Background(), &sfn.SendTaskFailureInput{TaskToken: &other})
		var tdne *types.TaskDoesNotExist
		if !errors.As(err, &tdne) {
			t.Errorf("unknown token: %v", err)
		}
	})
	t.Run("stop invalidates the token", func(t *testing.T) {
		e, x, token := setup(t)
		if _, err := e.StopExecution(context.Background(), &sfn.StopExecutionInput{ExecutionArn: &x, Error: aws.String("Stopped"), Cause: aws.String("by test")}); err != nil {
			t.Fatal(err)
		}
		settle(t, e)
		d := describe(t, e, x)
		if d.Status != types.ExecutionStatusAborted || str(d.Error) != "Stopped" {
			t.Errorf("got %s %s", d.Status, str(d.Error))
		}
		_, err := e.SendTaskSuccess(context.Background(), &sfn.SendTaskSuccessInput{TaskToken: token, Output: aws.String(`{}`)})
		var tdne *types.TaskDoesNotExist
		if !errors.As(err, &tdne) {
			t.Errorf("token after stop: %v", err)
		}
		got := eventTypes(t, e, x)
		if got[len(got)-1] != "ExecutionAborted" {
			t.Errorf("events %v", got)
		}
	})
}

// A handler may call back into the engine while it runs: complete its own token, start another
// execution.
func TestReentrantHandler(t *testing.T) {
	e := newEngine(t)
	childArn := create(t, e, `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":5,"End":true}}}`)
	e.RegisterLambda(fnARN("self"), 128, func(ctx context.Context, p json.RawMessage) (json.RawMessage, error) {
		var in struct{ Token string }
		_ = json.Unmarshal(p, &in)
		if _, err := e.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: &childArn, Name: aws.String("kid")}); err != nil {
			return nil, err
		}
		_, err := e.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: &in.Token, Output: aws.String(`"done"`)})
		return nil, err
	})
	d := runMachine(t, e, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
		"Parameters":{"FunctionName":"self","Payload":{"Token.$":"$$.Task.Token"}},"End":true}}}`, `{}`)
	jsonEq(t, str(d.Output), `"done"`)
	kid := describe(t, e, strings.Replace(childArn, ":stateMachine:", ":execution:", 1)+":kid")
	if kid.Status != types.ExecutionStatusSucceeded {
		t.Errorf("child %s", kid.Status)
	}
}

func TestStopWaitingExecution(t *testing.T) {
	e := newEngine(t)
	arn := create(t, e, `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"Next":"D"},"D":{"Type":"Succeed"}}}`)
	x := start(t, e, arn, `{}`)
	advance(t, e, time.Minute)
	if _, err := e.StopExecution(context.Background(), &sfn.StopExecutionInput{ExecutionArn: &x}); err != nil {
		t.Fatal(err)
	}
	drain(t, e)
	d := describe(t, e, x)
	if d.Status != types.ExecutionStatusAborted || !d.StopDate.Equal(t0.Add(time.Minute)) {
		t.Errorf("got %s at %v", d.Status, d.StopDate)
	}
	if got := strings.Join(eventTypes(t, e, x), ","); got != "ExecutionStarted,WaitStateEntered,ExecutionAborted" {
		t.Errorf("events %s", got)
	}
}

func TestStartExecutionIdempotency(t *testing.T) {
	e := newEngine(t)
	arn := create(t, e, `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":60,"End":true}}}`)
	ctx := context.Background()
	in := func(name, input string) *sfn.StartExecutionInput {
		return &sfn.StartExecutionInput{StateMachineArn: &arn, Name: &name, Input: &input}
	}
	first, err := e.StartExecution(ctx, in("same", `{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.StartExecution(ctx, in("same", `{"a":1}`))
	if err != nil || *again.ExecutionArn != *first.ExecutionArn {
		t.Fatalf("identical start: %v %v", again, err)
	}
	var exists *types.ExecutionAlreadyExists
	if _, err := e.StartExecution(ctx, in("same", `{"a":2}`)); !errors.As(err, &exists) {
		t.Errorf("different input: %v", err)
	}
	drain(t, e)
	if _, err := e.StartExecution(ctx, in("same", `{"a":1}`)); !errors.As(err, &exists) {
		t.Errorf("closed execution: %v", err)
	}
	var invName *types.InvalidName
	if _, err := e.StartExecution(ctx, in("bad name", `{}`)); !errors.As(err, &invName) {
		t.Errorf("invalid name: %v", err)
	}
	var invInput *types.InvalidExecutionInput
	for _, bad := range []string{`{`, `[1]`, `{"x":"` + strings.Repeat("a", DataLimit) + `"}`} {
		if _, err := e.StartExecution(ctx, in("n"+fmt.Sprint(len(bad)), bad)); !errors.As(err, &invInput) {
			t.Errorf("input %.20s: %v", bad, err)
		}
	}
	var noSM *types.StateMachineDoesNotExist
	if _, err := e.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(arn + "x")}); !errors.As(err, &noSM) {
		t.Errorf("unknown machine: %v", err)
	}
	var noEx *types.ExecutionDoesNotExist
	if _, err := e.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn + ":nope")}); !errors.As(err, &noEx) {
		t.Errorf("unknown execution: %v", err)
	}
}

func TestChildExecutionSync2(t *testing.T) {
	e := newEngine(t)
	childArn := create(t, e, `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.fail","BooleanEquals":true,"Next":"Bad"}],"Default":"W"},
		"W":{"Type":"Wait","Seconds":30,"Next":"Good"},
		"Good":{"Type":"Pass","Parameters":{"doubled.$":"States.MathAdd($.n, $.n)","by.$":"$.AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"},"End":true},
		"Bad":{"Type":"Fail","Error":"Child.Broken","Cause":"it broke"}}}`)
	parent := `{"StartAt":"Run","States":{"Run":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync:2",
		"Parameters":{"StateMachineArn":"` + childArn + `","Input":{"n.$":"$.n","fail.$":"$.fail"}},
		"ResultSelector":{"out.$":"$.Output","status.$":"$.Status"},"End":true}}}`
	t.Run("success", func(t *testing.T) {
		arn := create(t, e, parent)
		x := start(t, e, arn, `{"n":21,"fail":false}`)
		advance(t, e, 29*time.Second)
		if d := describe(t, e, x); d.Status != types.ExecutionStatusRunning {
			t.Fatalf("parent %s before the child finished", d.Status)
		}
		advance(t, e, time.Second)
		d := describe(t, e, x)
		jsonEq(t, str(d.Output), `{"out":{"doubled":42,"by":"`+x+`"},"status":"SUCCEEDED"}`)
		var child *Execution
		for _, ex := range e.Executions() {
			if ex.ParentARN == x {
				child = &ex
			}
		}
		if child == nil || child.StateMachineARN != childArn {
			t.Fatalf("no child linked to the parent")
		}
		if got := strings.Join(eventTypes(t, e, x), ","); got != "ExecutionStarted,TaskStateEntered,TaskScheduled,TaskStarted,TaskSubmitted,TaskSucceeded,TaskStateExited,ExecutionSucceeded" {
			t.Errorf("events %s", got)
		}
	})
	t.Run("failure", func(t *testing.T) {
		arn := create(t, e, parent)
		x := start(t, e, arn, `{"n":1,"fail":true}`)
		drain(t, e)
		d := describe(t, e, x)
		if d.Status != types.ExecutionStatusFailed || str(d.Error) != ErrTaskFailed {
			t.Fatalf("got %s %s", d.Status, str(d.Error))
		}
		var cause map[string]any
		if err := json.Unmarshal([]byte(str(d.Cause)), &cause); err != nil {
			t.Fatalf("cause is not JSON: %q", str(d.Cause))
		}
		if cause["Error"] != "Child.Broken" || cause["Cause"] != "it broke" || cause["Status"] != "FAILED" {
			t.Errorf("cause %v", cause)
		}
	})
	t.Run("stopping the parent stops the child", func(t *testing.T) {
		arn := create(t, e, parent)
		x := start(t, e, arn, `{"n":1,"fail":false}`)
		settle(t, e)
		if _, err := e.StopExecution(context.Background(), &sfn.StopExecutionInput{ExecutionArn: &x}); err != nil {
			t.Fatal(err)
		}
		settle(t, e)
		for _, ex := range e.Executions() {
			if ex.ParentARN == x && ex.Status != "ABORTED" {
				t.Errorf("child %s", ex.Status)
			}
		}
	})
}

func TestChildExecutionRequestResponseAndToken(t *testing.T) {
	e := newEngine(t)
	childArn := create(t, e, `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":5,"End":true}}}`)
	d := runMachine(t, e, `{"StartAt":"Run","States":{"Run":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution",
		"Parameters":{"StateMachineArn":"`+childArn+`","Name":"fixed"},"End":true}}}`, `{}`)
	var out struct {
		ExecutionArn string
		StartDate    int64
	}
	if err := json.Unmarshal([]byte(str(d.Output)), &out); err != nil || !strings.HasSuffix(out.ExecutionArn, ":fixed") || out.StartDate != t0.UnixMilli() {
		t.Errorf("output %s", str(d.Output))
	}
	// waitForTaskToken: the child completes the parent's task.
	e.RegisterLambda(fnARN("finish"), 128, func(ctx context.Context, p json.RawMessage) (json.RawMessage, error) {
		var in struct{ Token string }
		_ = json.Unmarshal(p, &in)
		_, err := e.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: &in.Token, Output: aws.String(`{"from":"child"}`)})
		return nil, err
	})
	child2 := create(t, e, `{"StartAt":"F","States":{"F":{"Type":"Task","Resource":"`+fnARN("finish")+`","End":true}}}`)
	d = runMachine(t, e, `{"StartAt":"Run","States":{"Run":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.waitForTaskToken",
		"Parameters":{"StateMachineArn":"`+child2+`","Input":{"Token.$":"$$.Task.Token"}},"End":true}}}`, `{}`)
	jsonEq(t, str(d.Output), `{"from":"child"}`)
}

func TestHistoryLimit(t *testing.T) {
	e := newEngine(t)
	d := runMachine(t, e, `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"A"}}}`, `{}`)
	if d.Status != types.ExecutionStatusFailed || str(d.Error) != ErrRuntime || !strings.Contains(str(d.Cause), "25000") {
		t.Fatalf("got %s %s %s", d.Status, str(d.Error), str(d.Cause))
	}
	ex := e.Executions()[0]
	if ex.HistoryEvents != HistoryLimit {
		t.Errorf("%d events, want %d", ex.HistoryEvents, HistoryLimit)
	}
	// Pagination walks the whole history.
	n, pages := 0, 0
	var token *string
	for {
		out, err := e.GetExecutionHistory(context.Background(), &sfn.GetExecutionHistoryInput{ExecutionArn: d.ExecutionArn, NextToken: token, MaxResults: 1000})
		if err != nil {
			t.Fatal(err)
		}
		n += len(out.Events)
		pages++
		if out.NextToken == nil {
			break
		}
		token = out.NextToken
	}
	if n != HistoryLimit || pages != 25 {
		t.Errorf("%d events in %d pages", n, pages)
	}
}

func TestExecutionTimeout(t *testing.T) {
	e := newEngine(t)
	arn := create(t, e, `{"TimeoutSeconds":100,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1000,"End":true}}}`)
	x := start(t, e, arn, `{}`)
	drain(t, e)
	d := describe(t, e, x)
	if d.Status != types.ExecutionStatusTimedOut || d.StopDate.Sub(t0) != 100*time.Second || str(d.Cause) == "" {
		t.Errorf("got %s at %v (cause %q), want TIMED_OUT at 100 s with a cause", d.Status, d.StopDate, str(d.Cause))
	}
}

func TestFailState(t *testing.T) {
	e := newEngine(t)
	d := runMachine(t, e, `{"StartAt":"F","States":{"F":{"Type":"Fail","ErrorPath":"$.e","CausePath":"States.Format('because {}', $.c)"}}}`, `{"e":"My.Error","c":"reasons"}`)
	if d.Status != types.ExecutionStatusFailed || str(d.Error) != "My.Error" || str(d.Cause) != "because reasons" {
		t.Errorf("got %s %s %s", d.Status, str(d.Error), str(d.Cause))
	}
}

func TestHistoryAndListing(t *testing.T) {
	e := newEngine(t)
	e.RegisterLambda(fnARN("ok"), 1024, func(_ context.Context, p json.RawMessage) (json.RawMessage, error) {
		return json.RawMessage(`{"r":1}`), nil
	})
	arn := create(t, e, `{"StartAt":"P","States":{"P":{"Type":"Pass","Next":"T"},"T":{"Type":"Task","Resource":"`+fnARN("ok")+`","Next":"C"},
		"C":{"Type":"Choice","Choices":[{"Variable":"$.r","NumericEquals":1,"Next":"W"}]},"W":{"Type":"Wait","Seconds":1,"Next":"S"},"S":{"Type":"Succeed"}}}`)
	x := start(t, e, arn, `{}`)
	start(t, e, arn, `{}`)
	drain(t, e)
	want := "ExecutionStarted,PassStateEntered,PassStateExited,TaskStateEntered,LambdaFunctionScheduled,LambdaFunctionStarted,LambdaFunctionSucceeded,TaskStateExited," +
		"ChoiceStateEntered,ChoiceStateExited,WaitStateEntered,WaitStateExited,SucceedStateEntered,SucceedStateExited,ExecutionSucceeded"
	if got := strings.Join(eventTypes(t, e, x), ","); got != want {
		t.Errorf("events\n got %s\nwant %s", got, want)
	}
	h, err := e.GetExecutionHistory(context.Background(), &sfn.GetExecutionHistoryInput{ExecutionArn: &x, ReverseOrder: true, MaxResults: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Events) != 2 || h.Events[0].Type != types.HistoryEventTypeExecutionSucceeded || h.NextToken == nil ||
		h.Events[0].ExecutionSucceededEventDetails == nil || str(h.Events[0].ExecutionSucceededEventDetails.Output) != `{"r":1}` {
		t.Errorf("reverse page %+v", h)
	}
	l, err := e.ListExecutions(context.Background(), &sfn.ListExecutionsInput{StateMachineArn: &arn, StatusFilter: types.ExecutionStatusSucceeded})
	if err != nil || len(l.Executions) != 2 || str(l.Executions[1].ExecutionArn) != x {
		t.Errorf("list %+v %v", l, err)
	}
	ex := e.Executions()[0]
	if ex.Transitions != 5 || ex.LambdaInvocations != 1 || ex.HistoryEvents != 15 {
		t.Errorf("summary %+v", ex)
	}
	wantCost := DefaultPricing.Cost(5, 1, ex.LambdaGBSeconds)
	if ex.CostUSD != wantCost || ex.LambdaGBSeconds < 0.001 {
		t.Errorf("cost %v (GB-s %v), want %v", ex.CostUSD, ex.LambdaGBSeconds, wantCost)
	}
	if b, err := json.Marshal(e.Executions()); err != nil || !strings.Contains(string(b), `"output":{"r":1}`) {
		t.Errorf("summary JSON %s %v", b, err)
	}
}

func TestDataLimit(t *testing.T) {
	e := newEngine(t)
	d := runMachine(t, e, `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"big.$":"States.ArrayRange(1, 1000, 1)","s.$":"$.s"},"Next":"Q"},
		"Q":{"Type":"Pass","Parameters":{"a.$":"$","b.$":"$","c.$":"$","d.$":"$"},"End":true}}}`, `{"s":"`+strings.Repeat("x", 70000)+`"}`)
	if str(d.Error) != ErrDataLimitExceeded {
		t.Errorf("got %s %s", d.Status, str(d.Error))
	}
}

func TestFollowWallClock(t *testing.T) {
	c := NewClock(t0, true)
	defer c.Stop()
	if d := c.Now().Sub(t0); d < 0 || d > time.Second {
		t.Fatalf("clock starts at %v", c.Now())
	}
	e := New(Options{Clock: c})
	arn := create(t, e, `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"End":true}}}`)
	x := start(t, e, arn, `{}`)
	deadline := time.Now().Add(5 * time.Second)
	for describe(t, e, x).Status == types.ExecutionStatusRunning {
		if time.Now().After(deadline) {
			t.Fatal("the wait did not end as wall time passed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Advance jumps ahead of the wall.
	x2 := start(t, e, create(t, e, `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":86400,"End":true}}}`), `{}`)
	advance(t, e, 25*time.Hour)
	if s := describe(t, e, x2).Status; s != types.ExecutionStatusSucceeded {
		t.Errorf("after Advance: %s", s)
	}
}

// States.TaskFailed "matches any known error name except for States.Timeout" (Step Functions error
// handling): a heartbeat timeout and an oversized result included.
func TestTaskFailedMatchesEveryErrorButTimeout(t *testing.T) {
	for _, name := range []string{"Lethe.Custom", ErrHeartbeatTimeout, ErrDataLimitExceeded, ErrResultPathMatchFailure, ErrPermissions} {
		if !errorMatches(ErrTaskFailed, name) {
			t.Errorf("States.TaskFailed does not match %s", name)
		}
	}
	for _, name := range []string{ErrTimeout, ErrRuntime} {
		if errorMatches(ErrTaskFailed, name) {
			t.Errorf("States.TaskFailed matches %s", name)
		}
	}
	e := newEngine(t)
	e.RegisterLambda(fnARN("park"), 128, func(context.Context, json.RawMessage) (json.RawMessage, error) { return nil, nil })
	e.RegisterLambda(fnARN("big"), 128, func(context.Context, json.RawMessage) (json.RawMessage, error) {
		return json.Marshal(strings.Repeat("x", DataLimit))
	})
	arn := create(t, e, `{"StartAt":"H","States":{
		"H":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
			"Parameters":{"FunctionName":"park","Payload":{"Token.$":"$$.Task.Token"}},"HeartbeatSeconds":10,
			"Catch":[{"ErrorEquals":["States.TaskFailed"],"ResultPath":"$.heartbeat","Next":"B"}],"End":true},
		"B":{"Type":"Task","Resource":"`+fnARN("big")+`","ResultPath":"$.big",
			"Catch":[{"ErrorEquals":["States.TaskFailed"],"ResultPath":"$.big","Next":"Caught"}],"End":true},
		"Caught":{"Type":"Pass","Parameters":{"heartbeat.$":"$.heartbeat.Error","big.$":"$.big.Error"},"End":true}}}`)
	x := start(t, e, arn, `{}`)
	advance(t, e, 11*time.Second)
	d := describe(t, e, x)
	if d.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("got %s %s %s", d.Status, str(d.Error), str(d.Cause))
	}
	jsonEq(t, str(d.Output), `{"heartbeat":"States.HeartbeatTimeout","big":"States.DataLimitExceeded"}`)
}

// A Task's ResultPath that cannot be applied raises States.ResultPathMatchFailure, which a catcher
// can catch (it failed the execution with an uncatchable States.Runtime).
func TestResultPathMatchFailureIsCatchable(t *testing.T) {
	e := newEngine(t)
	e.RegisterLambda(fnARN("one"), 128, func(context.Context, json.RawMessage) (json.RawMessage, error) {
		return json.RawMessage(`1`), nil
	})
	d := runMachine(t, e, `{"StartAt":"T","States":{
		"T":{"Type":"Task","Resource":"`+fnARN("one")+`","ResultPath":"$.a.b",
			"Catch":[{"ErrorEquals":["States.ResultPathMatchFailure"],"ResultPath":"$.failure","Next":"Caught"}],"End":true},
		"Caught":{"Type":"Pass","OutputPath":"$.failure.Error","End":true}}}`, `{"a":"s"}`)
	if d.Status != types.ExecutionStatusSucceeded || str(d.Output) != `"States.ResultPathMatchFailure"` {
		t.Fatalf("got %s %s %s %s", d.Status, str(d.Output), str(d.Error), str(d.Cause))
	}
}
