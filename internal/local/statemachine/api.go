package statemachine

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// The methods below have the signatures of *sfn.Client's, and fail with the SDK's own error types,
// so callers' errors.As works the same locally and in AWS. Option functions are ignored.

// StartExecution starts an execution. Starting one with the name and input of a running execution
// returns that execution, as AWS does; another input, or the name of a closed execution, is
// ExecutionAlreadyExists.
func (e *Engine) StartExecution(ctx context.Context, in *sfn.StartExecutionInput, _ ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error) {
	if in == nil {
		in = &sfn.StartExecutionInput{}
	}
	input := aws.ToString(in.Input)
	if in.Input == nil {
		input = "{}"
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	x, err := e.startLocked(aws.ToString(in.StateMachineArn), aws.ToString(in.Name), input, "")
	if err != nil {
		return nil, err
	}
	start := x.start
	return &sfn.StartExecutionOutput{ExecutionArn: aws.String(x.arn), StartDate: &start}, nil
}

// startLocked validates and starts an execution; the engine's mutex must be held.
func (e *Engine) startLocked(smArn, name, input, parent string) (*execution, error) {
	m, ok := e.machines[smArn]
	if !ok {
		if !strings.HasPrefix(smArn, "arn:") {
			return nil, &types.InvalidArn{Message: aws.String("Invalid Arn: '" + smArn + "'")}
		}
		return nil, &types.StateMachineDoesNotExist{Message: aws.String("State Machine Does Not Exist: '" + smArn + "'")}
	}
	if name == "" {
		name = newUUID()
	}
	if !validName(name) {
		return nil, &types.InvalidName{Message: aws.String("Invalid Name: '" + name + "'")}
	}
	if len(input) > DataLimit {
		return nil, &types.InvalidExecutionInput{Message: aws.String(fmt.Sprintf("%s: the input is larger than %d bytes", ErrDataLimitExceeded, DataLimit))}
	}
	v, err := decodeJSON([]byte(input))
	if err != nil {
		return nil, &types.InvalidExecutionInput{Message: aws.String("Invalid State Machine Execution Input: '" + err.Error() + "'")}
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, &types.InvalidExecutionInput{Message: aws.String("Invalid State Machine Execution Input: the input must be a JSON object")}
	}
	arn := strings.Replace(m.arn, ":stateMachine:", ":execution:", 1) + ":" + name
	if old, ok := e.execs[arn]; ok {
		if old.status == types.ExecutionStatusRunning && old.input == input {
			return old, nil
		}
		return nil, &types.ExecutionAlreadyExists{Message: aws.String("Execution Already Exists: '" + arn + "'")}
	}
	x := &execution{
		e: e, arn: arn, name: name, m: m, input: input, inVal: v, parent: parent,
		status: types.ExecutionStatusRunning, start: e.clock.Now(), notify: make(chan struct{}, 1),
	}
	e.execs[arn] = x
	e.order = append(e.order, x)
	x.appendLocked(Event{Type: "ExecutionStarted", Input: input, Resource: m.arn})
	if t := m.def.timeoutSeconds; t > 0 {
		x.timeoutTimer = e.clock.afterFunc(x.start.Add(time.Duration(t)*time.Second), func() {
			e.mu.Lock()
			defer e.mu.Unlock()
			x.closeLocked(types.ExecutionStatusTimedOut, "", ErrTimeout, fmt.Sprintf("The execution did not finish within its %d seconds (TimeoutSeconds).", t))
		})
	}
	e.busy++ // the interpreter's unit, released when it parks or exits
	go x.run()
	return x, nil
}

func (e *Engine) execLocked(arn *string) (*execution, error) {
	x, ok := e.execs[aws.ToString(arn)]
	if !ok {
		return nil, &types.ExecutionDoesNotExist{Message: aws.String("Execution Does Not Exist: '" + aws.ToString(arn) + "'")}
	}
	return x, nil
}

// DescribeExecution describes an execution.
func (e *Engine) DescribeExecution(ctx context.Context, in *sfn.DescribeExecutionInput, _ ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, err := e.execLocked(in.ExecutionArn)
	if err != nil {
		return nil, err
	}
	start := x.start
	out := &sfn.DescribeExecutionOutput{
		ExecutionArn:    aws.String(x.arn),
		StateMachineArn: aws.String(x.m.arn),
		Name:            aws.String(x.name),
		Status:          x.status,
		StartDate:       &start,
		Input:           aws.String(x.input),
		InputDetails:    &types.CloudWatchEventsExecutionDataDetails{Included: true},
		RedriveCount:    aws.Int32(0),
	}
	if !x.stop.IsZero() {
		stop := x.stop
		out.StopDate = &stop
	}
	if x.hasOutput {
		out.Output = aws.String(x.output)
		out.OutputDetails = &types.CloudWatchEventsExecutionDataDetails{Included: true}
	}
	if x.errName != "" {
		out.Error = aws.String(x.errName)
	}
	if x.cause != "" {
		out.Cause = aws.String(x.cause)
	}
	return out, nil
}

// StopExecution aborts a running execution; its open task tokens become invalid and a child it
// waits for with .sync:2 is aborted too.
func (e *Engine) StopExecution(ctx context.Context, in *sfn.StopExecutionInput, _ ...func(*sfn.Options)) (*sfn.StopExecutionOutput, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, err := e.execLocked(in.ExecutionArn)
	if err != nil {
		return nil, err
	}
	x.closeLocked(types.ExecutionStatusAborted, "", aws.ToString(in.Error), aws.ToString(in.Cause))
	stop := x.stop
	return &sfn.StopExecutionOutput{StopDate: &stop}, nil
}

// tokenLocked finds an open task token; the engine's mutex must be held.
func (e *Engine) tokenLocked(token *string) (*taskToken, error) {
	s := aws.ToString(token)
	if !validTokenFormat(s) {
		return nil, &types.InvalidToken{Message: aws.String("Invalid Token: '" + s + "'")}
	}
	t, ok := e.tokens[s]
	switch {
	case !ok || t.status == tokenClosed:
		return nil, &types.TaskDoesNotExist{Message: aws.String("Task Does Not Exist: '" + s + "'")}
	case t.status == tokenTimedOut:
		return nil, &types.TaskTimedOut{Message: aws.String("Task Timed Out: '" + s + "'")}
	}
	return t, nil
}

// SendTaskSuccess completes a waitForTaskToken task with output.
func (e *Engine) SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, _ ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	out := aws.ToString(in.Output)
	v, err := decodeJSON([]byte(out))
	if err != nil {
		return nil, &types.InvalidOutput{Message: aws.String("Invalid Output: '" + err.Error() + "'")}
	}
	if len(out) > DataLimit {
		return nil, &types.InvalidOutput{Message: aws.String(fmt.Sprintf("%s: the output is larger than %d bytes", ErrDataLimitExceeded, DataLimit))}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t, err := e.tokenLocked(in.TaskToken)
	if err != nil {
		return nil, err
	}
	t.status = tokenClosed
	t.heartbeat.stopTimer()
	t.x.send(signal{seq: t.seq, kind: sigToken, out: v})
	return &sfn.SendTaskSuccessOutput{}, nil
}

// SendTaskFailure fails a waitForTaskToken task with an error and cause.
func (e *Engine) SendTaskFailure(ctx context.Context, in *sfn.SendTaskFailureInput, _ ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, err := e.tokenLocked(in.TaskToken)
	if err != nil {
		return nil, err
	}
	t.status = tokenClosed
	t.heartbeat.stopTimer()
	t.x.send(signal{seq: t.seq, kind: sigToken, err: &stateError{Name: aws.ToString(in.Error), Cause: aws.ToString(in.Cause)}})
	return &sfn.SendTaskFailureOutput{}, nil
}

// SendTaskHeartbeat restarts a waitForTaskToken task's HeartbeatSeconds.
func (e *Engine) SendTaskHeartbeat(ctx context.Context, in *sfn.SendTaskHeartbeatInput, _ ...func(*sfn.Options)) (*sfn.SendTaskHeartbeatOutput, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, err := e.tokenLocked(in.TaskToken)
	if err != nil {
		return nil, err
	}
	if t.heartbeat != nil && t.heartbeat.stopTimer() {
		t.heartbeat = t.x.timerSignal(e.clock.Now().Add(time.Duration(t.hbSeconds)*time.Second), t.seq, sigHeartbeat)
	}
	return &sfn.SendTaskHeartbeatOutput{}, nil
}

// page reads NextToken and MaxResults (default 100, at most 1000) into an offset and a limit.
func page(token *string, max int32) (int, int, error) {
	off := 0
	if token != nil {
		n, err := strconv.Atoi(strings.TrimPrefix(*token, "p"))
		if err != nil || n < 0 || !strings.HasPrefix(*token, "p") {
			return 0, 0, &types.InvalidToken{Message: aws.String("Invalid pagination token")}
		}
		off = n
	}
	limit := int(max)
	if limit <= 0 {
		limit = 100
	}
	return off, min(limit, 1000), nil
}

func nextToken(off, limit, total int) *string {
	if off+limit >= total {
		return nil
	}
	return aws.String("p" + strconv.Itoa(off+limit))
}

// GetExecutionHistory pages through an execution's history.
func (e *Engine) GetExecutionHistory(ctx context.Context, in *sfn.GetExecutionHistoryInput, _ ...func(*sfn.Options)) (*sfn.GetExecutionHistoryOutput, error) {
	off, limit, err := page(in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	x, err := e.execLocked(in.ExecutionArn)
	var events []Event
	if err == nil {
		events = append(events, x.events...)
	}
	e.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if in.ReverseOrder {
		for i, j := 0, len(events)-1; i < j; i, j = i+1, j-1 {
			events[i], events[j] = events[j], events[i]
		}
	}
	include := in.IncludeExecutionData == nil || *in.IncludeExecutionData
	out := &sfn.GetExecutionHistoryOutput{NextToken: nextToken(off, limit, len(events))}
	for i := off; i < len(events) && i < off+limit; i++ {
		out.Events = append(out.Events, events[i].sdk(include))
	}
	return out, nil
}

// ListExecutions lists a state machine's executions, newest first.
func (e *Engine) ListExecutions(ctx context.Context, in *sfn.ListExecutionsInput, _ ...func(*sfn.Options)) (*sfn.ListExecutionsOutput, error) {
	off, limit, err := page(in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	arn := aws.ToString(in.StateMachineArn)
	if _, ok := e.machines[arn]; !ok {
		return nil, &types.StateMachineDoesNotExist{Message: aws.String("State Machine Does Not Exist: '" + arn + "'")}
	}
	var items []types.ExecutionListItem
	for i := len(e.order) - 1; i >= 0; i-- {
		x := e.order[i]
		if x.m.arn != arn || (in.StatusFilter != "" && x.status != in.StatusFilter) {
			continue
		}
		start := x.start
		it := types.ExecutionListItem{
			ExecutionArn: aws.String(x.arn), Name: aws.String(x.name), StateMachineArn: aws.String(arn),
			Status: x.status, StartDate: &start, RedriveCount: aws.Int32(0),
		}
		if !x.stop.IsZero() {
			stop := x.stop
			it.StopDate = &stop
		}
		items = append(items, it)
	}
	out := &sfn.ListExecutionsOutput{NextToken: nextToken(off, limit, len(items))}
	if off < len(items) {
		out.Executions = items[off:min(off+limit, len(items))]
	}
	return out, nil
}

// sdk converts an event to the SDK's type, with the details its type carries.
func (ev Event) sdk(include bool) types.HistoryEvent {
	ts := ev.Timestamp
	h := types.HistoryEvent{Id: ev.ID, PreviousEventId: ev.PreviousEventID, Timestamp: &ts, Type: types.HistoryEventType(ev.Type)}
	data := func(s string) *string {
		if !include {
			return nil
		}
		return aws.String(s)
	}
	details := &types.HistoryEventExecutionDataDetails{Truncated: false}
	str := func(s string) *string {
		if s == "" {
			return nil
		}
		return aws.String(s)
	}
	switch {
	case ev.Type == "ExecutionStarted":
		h.ExecutionStartedEventDetails = &types.ExecutionStartedEventDetails{Input: data(ev.Input), InputDetails: details}
	case ev.Type == "ExecutionSucceeded":
		h.ExecutionSucceededEventDetails = &types.ExecutionSucceededEventDetails{Output: data(ev.Output), OutputDetails: details}
	case ev.Type == "ExecutionFailed":
		h.ExecutionFailedEventDetails = &types.ExecutionFailedEventDetails{Error: str(ev.Error), Cause: str(ev.Cause)}
	case ev.Type == "ExecutionAborted":
		h.ExecutionAbortedEventDetails = &types.ExecutionAbortedEventDetails{Error: str(ev.Error), Cause: str(ev.Cause)}
	case ev.Type == "ExecutionTimedOut":
		h.ExecutionTimedOutEventDetails = &types.ExecutionTimedOutEventDetails{Error: str(ev.Error), Cause: str(ev.Cause)}
	case strings.HasSuffix(ev.Type, "StateEntered"):
		h.StateEnteredEventDetails = &types.StateEnteredEventDetails{Name: aws.String(ev.StateName), Input: data(ev.Input), InputDetails: details}
	case strings.HasSuffix(ev.Type, "StateExited"):
		h.StateExitedEventDetails = &types.StateExitedEventDetails{Name: aws.String(ev.StateName), Output: data(ev.Output), OutputDetails: details}
	case ev.Type == "LambdaFunctionScheduled":
		h.LambdaFunctionScheduledEventDetails = &types.LambdaFunctionScheduledEventDetails{Resource: aws.String(ev.Resource), Input: data(ev.Input), InputDetails: details, TimeoutInSeconds: aws.Int64(ev.TimeoutSeconds)}
	case ev.Type == "LambdaFunctionSucceeded":
		h.LambdaFunctionSucceededEventDetails = &types.LambdaFunctionSucceededEventDetails{Output: data(ev.Output), OutputDetails: details}
	case ev.Type == "LambdaFunctionFailed":
		h.LambdaFunctionFailedEventDetails = &types.LambdaFunctionFailedEventDetails{Error: str(ev.Error), Cause: str(ev.Cause)}
	case ev.Type == "LambdaFunctionTimedOut":
		h.LambdaFunctionTimedOutEventDetails = &types.LambdaFunctionTimedOutEventDetails{Error: str(ev.Error), Cause: str(ev.Cause)}
	case ev.Type == "TaskScheduled":
		d := &types.TaskScheduledEventDetails{ResourceType: aws.String(ev.ResourceType), Resource: aws.String(ev.Resource), Parameters: aws.String(ev.Parameters), TimeoutInSeconds: aws.Int64(ev.TimeoutSeconds)}
		if ev.HeartbeatSeconds > 0 {
			d.HeartbeatInSeconds = aws.Int64(ev.HeartbeatSeconds)
		}
		h.TaskScheduledEventDetails = d
	case ev.Type == "TaskStarted":
		h.TaskStartedEventDetails = &types.TaskStartedEventDetails{ResourceType: aws.String(ev.ResourceType), Resource: aws.String(ev.Resource)}
	case ev.Type == "TaskSubmitted":
		h.TaskSubmittedEventDetails = &types.TaskSubmittedEventDetails{ResourceType: aws.String(ev.ResourceType), Resource: aws.String(ev.Resource), Output: data(ev.Output), OutputDetails: details}
	case ev.Type == "TaskSucceeded":
		h.TaskSucceededEventDetails = &types.TaskSucceededEventDetails{ResourceType: aws.String(ev.ResourceType), Resource: aws.String(ev.Resource), Output: data(ev.Output), OutputDetails: details}
	case ev.Type == "TaskFailed":
		h.TaskFailedEventDetails = &types.TaskFailedEventDetails{ResourceType: aws.String(ev.ResourceType), Resource: aws.String(ev.Resource), Error: str(ev.Error), Cause: str(ev.Cause)}
	case ev.Type == "TaskTimedOut":
		h.TaskTimedOutEventDetails = &types.TaskTimedOutEventDetails{ResourceType: aws.String(ev.ResourceType), Resource: aws.String(ev.Resource), Error: str(ev.Error), Cause: str(ev.Cause)}
	}
	return h
}

// Execution summarises one execution, for tests and the local executions route.
type Execution struct {
	ARN               string     `json:"arn"`
	Name              string     `json:"name"`
	StateMachineARN   string     `json:"stateMachineArn"`
	Status            string     `json:"status"`
	Input             RawJSON    `json:"input"`
	Output            RawJSON    `json:"output,omitempty"`
	Error             string     `json:"error,omitempty"`
	Cause             string     `json:"cause,omitempty"`
	StartDate         time.Time  `json:"startDate"`
	StopDate          *time.Time `json:"stopDate,omitempty"`
	CurrentState      string     `json:"currentState,omitempty"`
	ParentARN         string     `json:"parentArn,omitempty"`
	Transitions       int        `json:"transitions"`
	HistoryEvents     int        `json:"historyEvents"`
	LambdaInvocations int        `json:"lambdaInvocations"`
	LambdaBilledMS    int64      `json:"lambdaBilledMs"`
	LambdaGBSeconds   float64    `json:"lambdaGbSeconds"`
	CostUSD           float64    `json:"costUsd"`
}

// RawJSON is JSON text that marshals as itself (and as null when empty).
type RawJSON string

// MarshalJSON implements json.Marshaler.
func (r RawJSON) MarshalJSON() ([]byte, error) {
	if r == "" {
		return []byte("null"), nil
	}
	return []byte(r), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *RawJSON) UnmarshalJSON(b []byte) error {
	*r = RawJSON(b)
	return nil
}

// Executions returns every execution, oldest first.
func (e *Engine) Executions() []Execution {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Execution, 0, len(e.order))
	for _, x := range e.order {
		s := Execution{
			ARN: x.arn, Name: x.name, StateMachineARN: x.m.arn, Status: string(x.status),
			Input: RawJSON(x.input), Error: x.errName, Cause: x.cause, StartDate: x.start,
			CurrentState: x.current, ParentARN: x.parent, Transitions: x.transitions,
			HistoryEvents: len(x.events), LambdaInvocations: x.lambdaCalls, LambdaBilledMS: x.lambdaMS,
			LambdaGBSeconds: x.lambdaGBs,
		}
		if x.hasOutput {
			s.Output = RawJSON(x.output)
		}
		if !x.stop.IsZero() {
			stop := x.stop
			s.StopDate = &stop
		}
		s.CostUSD = e.opts.Pricing.Cost(s.Transitions, s.LambdaInvocations, s.LambdaGBSeconds)
		out = append(out, s)
	}
	return out
}

// History returns a copy of an execution's history events.
func (e *Engine) History(arn string) ([]Event, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, err := e.execLocked(&arn)
	if err != nil {
		return nil, err
	}
	return append([]Event(nil), x.events...), nil
}

// StateMachines returns the ARNs of the registered state machines, sorted.
func (e *Engine) StateMachines() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]string, 0, len(e.machines))
	for arn := range e.machines {
		out = append(out, arn)
	}
	sort.Strings(out)
	return out
}
