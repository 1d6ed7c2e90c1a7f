package statemachine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// Token states.
const (
	tokenOpen = iota
	tokenClosed
	tokenTimedOut
)

// taskToken is a waitForTaskToken task waiting for SendTaskSuccess or SendTaskFailure.
type taskToken struct {
	x         *execution
	seq       uint64
	status    int
	heartbeat *timer
	hbSeconds int64
}

// attempt runs one attempt of a Task: parameters, the call with its timeouts, and ResultSelector.
func (x *execution) attempt(st *state, input any, ctx map[string]any) (any, *stateError, bool) {
	e := x.e
	eff, err := st.inputPath.apply(input, ctx)
	if err != nil {
		return nil, asStateError(err), true
	}
	seq := x.newSeq()
	var token string
	if st.res.pattern == patternToken {
		token = newToken()
		ctx["Task"] = map[string]any{"Token": token}
		e.mu.Lock()
		e.tokens[token] = &taskToken{x: x, seq: seq}
		if x.openTokens == nil {
			x.openTokens = map[string]bool{}
		}
		x.openTokens[token] = true
		e.mu.Unlock()
	}
	params := eff
	if st.parameters != nil {
		if params, err = st.parameters.eval(eff, ctx, &runCtx{e}); err != nil {
			x.closeToken(token, tokenClosed)
			return nil, asStateError(err), true
		}
	}
	timeout := st.timeoutSeconds
	if st.timeoutPath != nil {
		v, err := st.timeoutPath.get(eff, ctx)
		n, ok := asInt(v)
		if err != nil || !ok || n <= 0 {
			x.closeToken(token, tokenClosed)
			return nil, &stateError{Name: ErrRuntime, Cause: fmt.Sprintf("The TimeoutSecondsPath parameter of state '%s' does not reference a positive integer.", st.name)}, true
		}
		timeout = n
	}
	heartbeat := st.heartbeatSeconds
	if st.heartbeatPath != nil {
		v, err := st.heartbeatPath.get(eff, ctx)
		n, ok := asInt(v)
		if err != nil || !ok || n <= 0 {
			x.closeToken(token, tokenClosed)
			return nil, &stateError{Name: ErrRuntime, Cause: fmt.Sprintf("The HeartbeatSecondsPath parameter of state '%s' does not reference a positive integer.", st.name)}, true
		}
		heartbeat = n
	}
	paramsJSON := encodeJSON(params)
	if len(paramsJSON) > DataLimit {
		x.closeToken(token, tokenClosed)
		return nil, &stateError{Name: ErrDataLimitExceeded, Cause: dataLimitCause("task input")}, true
	}
	r := st.res
	lambdaDirect := r.kind == resLambdaFunction
	resType, resName := r.service, r.action
	if r.kind == resSDK {
		resType = "aws-sdk:" + r.service
	}
	if r.pattern != "" {
		resName += "." + r.pattern
	}
	scheduled := Event{Type: "TaskScheduled", ResourceType: resType, Resource: resName, Parameters: paramsJSON, TimeoutSeconds: timeout, HeartbeatSeconds: heartbeat}
	prefix := "Task"
	if lambdaDirect {
		prefix = "LambdaFunction"
		scheduled = Event{Type: "LambdaFunctionScheduled", Resource: r.arn, Input: paramsJSON, TimeoutSeconds: timeout}
	}
	if !x.addEvent(scheduled) {
		return nil, nil, false
	}
	if !x.addEvent(Event{Type: prefix + "Started", ResourceType: resType, Resource: resName}) {
		return nil, nil, false
	}
	timeoutTimer := x.timerSignal(e.clock.Now().Add(time.Duration(timeout)*time.Second), seq, sigTimeout)
	defer timeoutTimer.stopTimer()

	// Start the call.
	var child *execution
	switch r.kind {
	case resStartExecution:
		var serr *stateError
		var submitted any
		child, submitted, serr = x.startChild(params, seq, r.pattern == patternSync2)
		e.mu.Lock()
		x.send(signal{seq: seq, kind: sigActionDone, out: submitted, err: serr})
		e.mu.Unlock()
	default:
		x.async(seq, func() (any, *stateError) { return x.call(r, params) })
	}

	fail := func(serr *stateError) (any, *stateError, bool) {
		x.closeToken(token, tokenClosed)
		typ := prefix + "Failed"
		if serr.Name == ErrTimeout || serr.Name == ErrHeartbeatTimeout {
			typ = prefix + "TimedOut"
		}
		if !x.addEvent(Event{Type: typ, ResourceType: resType, Resource: resName, Error: serr.Name, Cause: serr.Cause}) {
			return nil, nil, false
		}
		return nil, serr, true
	}
	for {
		s, ok := x.await(seq)
		if !ok {
			x.closeToken(token, tokenClosed)
			return nil, nil, false
		}
		var result any
		switch s.kind {
		case sigTimeout:
			x.closeToken(token, tokenTimedOut)
			return fail(&stateError{Name: ErrTimeout, Cause: fmt.Sprintf("The task did not finish within its %d seconds (TimeoutSeconds).", timeout)})
		case sigHeartbeat:
			x.closeToken(token, tokenTimedOut)
			return fail(&stateError{Name: ErrHeartbeatTimeout, Cause: fmt.Sprintf("The task sent no heartbeat within %d seconds (HeartbeatSeconds).", heartbeat)})
		case sigActionDone:
			if s.err != nil {
				return fail(s.err)
			}
			if r.pattern == patternRequest {
				result = s.out
				break
			}
			if !x.addEvent(Event{Type: "TaskSubmitted", ResourceType: resType, Resource: resName, Output: encodeJSON(s.out)}) {
				return nil, nil, false
			}
			if r.pattern == patternToken && heartbeat > 0 {
				e.mu.Lock()
				if t := e.tokens[token]; t != nil && t.status == tokenOpen {
					t.hbSeconds = heartbeat
					t.heartbeat = x.timerSignal(e.clock.Now().Add(time.Duration(heartbeat)*time.Second), seq, sigHeartbeat)
				}
				e.mu.Unlock()
			}
			continue
		case sigToken:
			if s.err != nil {
				return fail(s.err)
			}
			result = s.out
		case sigChild:
			e.mu.Lock()
			desc := child.describeMap()
			status := child.status
			x.syncChild = nil
			e.mu.Unlock()
			if status != types.ExecutionStatusSucceeded {
				return fail(&stateError{Name: ErrTaskFailed, Cause: encodeJSON(desc)})
			}
			result = desc
		default:
			continue
		}
		x.closeToken(token, tokenClosed)
		js := encodeJSON(result)
		if len(js) > DataLimit {
			return fail(&stateError{Name: ErrDataLimitExceeded, Cause: dataLimitCause("task result")})
		}
		if !x.addEvent(Event{Type: prefix + "Succeeded", ResourceType: resType, Resource: resName, Output: js}) {
			return nil, nil, false
		}
		if st.resultSelector != nil {
			sel, err := st.resultSelector.eval(result, ctx, &runCtx{e})
			if err != nil {
				return nil, asStateError(err), true
			}
			result = sel
		}
		return result, nil, true
	}
}

// closeToken retires a task token so that later SendTask* calls are refused.
func (x *execution) closeToken(token string, status int) {
	if token == "" {
		return
	}
	e := x.e
	e.mu.Lock()
	defer e.mu.Unlock()
	if t := e.tokens[token]; t != nil && t.status == tokenOpen {
		t.status = status
		t.heartbeat.stopTimer()
	}
	delete(x.openTokens, token)
}

// call performs a request-response call (or the start of a waitForTaskToken one), off the
// interpreter goroutine.
func (x *execution) call(r *resource, params any) (any, *stateError) {
	switch r.kind {
	case resLambdaFunction:
		payload := []byte(encodeJSON(params))
		out, serr := x.invokeLambda(r.function, payload)
		if serr != nil {
			return nil, serr
		}
		return decodeOrString(out), nil
	case resLambdaInvoke:
		m, _ := params.(map[string]any)
		fn, _ := m["FunctionName"].(string)
		if fn == "" {
			return nil, &stateError{Name: "Lambda.InvalidParameterValueException", Cause: "FunctionName is required"}
		}
		payload := []byte("{}")
		if p, ok := m["Payload"]; ok {
			payload = []byte(encodeJSON(p))
		}
		out, serr := x.invokeLambda(functionName(fn), payload)
		if serr != nil {
			return nil, serr
		}
		reqID := newUUID()
		return map[string]any{
			"ExecutedVersion": "$LATEST",
			"Payload":         decodeOrString(out),
			"SdkHttpMetadata": map[string]any{
				"AllHttpHeaders": map[string]any{"X-Amz-Executed-Version": []any{"$LATEST"}, "x-amzn-RequestId": []any{reqID}},
				"HttpHeaders":    map[string]any{"X-Amz-Executed-Version": "$LATEST", "x-amzn-RequestId": reqID},
				"HttpStatusCode": int64(200),
			},
			"SdkResponseMetadata": map[string]any{"RequestId": reqID},
			"StatusCode":          int64(200),
		}, nil
	case resDynamoDB, resSDK:
		if r.service == "sesv2" {
			return x.e.sesSendEmail(params)
		}
		return x.e.dynamoDB(r, params)
	}
	return nil, &stateError{Name: ErrRuntime, Cause: "unsupported resource " + r.arn}
}

func decodeOrString(b []byte) any {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	v, err := decodeJSON(b)
	if err != nil {
		return string(b)
	}
	return v
}

// invokeLambda calls a registered function, recording the invocation for the cost estimate. A
// failure is named as AWS names a Go function's error.
func (x *execution) invokeLambda(name string, payload []byte) (json.RawMessage, *stateError) {
	e := x.e
	e.mu.Lock()
	fn := e.lambdas[name]
	e.mu.Unlock()
	if fn == nil {
		return nil, &stateError{Name: "Lambda.ResourceNotFoundException", Cause: fmt.Sprintf("Function not found: arn:aws:lambda:%s:%s:function:%s (Service: Lambda, Status Code: 404, Request ID: %s)", e.opts.Region, e.opts.AccountID, name, newUUID())}
	}
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{
		AwsRequestID:       newUUID(),
		InvokedFunctionArn: fn.arn,
	})
	begin := time.Now()
	out, err := callHandler(ctx, fn.fn, payload)
	elapsed := time.Since(begin)
	billed := int64(math.Ceil(float64(elapsed) / float64(time.Millisecond)))
	if billed < 1 {
		billed = 1
	}
	e.mu.Lock()
	x.lambdaCalls++
	x.lambdaMS += billed
	x.lambdaGBs += float64(billed) / 1000 * float64(fn.memoryMB) / 1024
	e.mu.Unlock()
	return out, err
}

// callHandler runs fn, turning an error or a panic into the error name and cause AWS reports.
func callHandler(ctx context.Context, fn LambdaFunc, payload []byte) (out json.RawMessage, serr *stateError) {
	defer func() {
		if v := recover(); v != nil {
			serr = panicError(v)
		}
	}()
	out, err := fn(ctx, payload)
	if err != nil {
		return nil, lambdaError(err)
	}
	if out == nil {
		out = json.RawMessage("null")
	}
	return out, nil
}

// lambdaError names err as aws-lambda-go does: the Type of a messages.InvokeResponse_Error, else
// the error's type name (a pointer's element type).
func lambdaError(err error) *stateError {
	var ive messages.InvokeResponse_Error
	if errors.As(err, &ive) {
		return invokeError(ive)
	}
	var ivp *messages.InvokeResponse_Error
	if errors.As(err, &ivp) && ivp != nil {
		return invokeError(*ivp)
	}
	return invokeError(messages.InvokeResponse_Error{Type: errorTypeName(err), Message: err.Error()})
}

// panicError names a panic value as aws-lambda-go's lambdaPanicResponse does.
func panicError(v any) *stateError {
	if ive, ok := v.(messages.InvokeResponse_Error); ok {
		return invokeError(ive)
	}
	return invokeError(messages.InvokeResponse_Error{Type: errorTypeName(v), Message: fmt.Sprintf("%v", v)})
}

// invokeError is a function error as Step Functions reports it: the errorType names it, and the
// Cause is the error payload the Lambda runtime sent ({"errorMessage":…,"errorType":…}).
func invokeError(ive messages.InvokeResponse_Error) *stateError {
	cause, err := json.Marshal(ive)
	if err != nil {
		cause = []byte(ive.Message)
	}
	return &stateError{Name: ive.Type, Cause: string(cause)}
}

func errorTypeName(v any) string {
	t := reflect.TypeOf(v)
	if t.Kind() == reflect.Pointer {
		return t.Elem().Name()
	}
	return t.Name()
}

// signedPost sends body to endpoint+path as a SigV4-signed POST for service.
func (e *Engine) signedPost(endpoint, path, service string, header map[string]string, body []byte) (int, http.Header, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, strings.TrimSuffix(endpoint, "/")+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: e.opts.AccessKeyID, SecretAccessKey: e.opts.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, e.opts.Region, time.Now()); err != nil {
		return 0, nil, nil, fmt.Errorf("sign request: %w", err)
	}
	resp, err := e.httpc.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

// dynamoDB forwards the parameters, which already are DynamoDB's wire JSON, to DynamoDB.
func (e *Engine) dynamoDB(r *resource, params any) (any, *stateError) {
	optimized := r.kind == resDynamoDB
	prefix := "DynamoDb."
	if optimized {
		prefix = "DynamoDB."
	}
	if e.opts.DynamoDBEndpoint == "" {
		return nil, &stateError{Name: prefix + "SdkClientException", Cause: "no DynamoDB endpoint is configured for the local engine"}
	}
	action := pascal(r.action)
	status, hdr, body, err := e.signedPost(e.opts.DynamoDBEndpoint, "/", "dynamodb", map[string]string{
		"X-Amz-Target": "DynamoDB_20120810." + action,
		"Content-Type": "application/x-amz-json-1.0",
	}, []byte(encodeJSON(params)))
	if err != nil {
		return nil, &stateError{Name: prefix + "SdkClientException", Cause: "Unable to execute HTTP request: " + err.Error()}
	}
	if status/100 == 2 {
		v, err := decodeJSON(body)
		if err != nil {
			return nil, &stateError{Name: prefix + "SdkClientException", Cause: "invalid response JSON: " + err.Error()}
		}
		return v, nil
	}
	code, msg := awsErrorCode(hdr, body)
	reqID := hdr.Get("X-Amzn-Requestid")
	if optimized {
		if code == "" {
			code = "AmazonDynamoDBException"
		}
		return nil, &stateError{Name: prefix + code, Cause: fmt.Sprintf("%s (Service: AmazonDynamoDBv2; Status Code: %d; Error Code: %s; Request ID: %s; Proxy: null)", msg, status, code, reqID)}
	}
	return nil, &stateError{Name: prefix + sdkErrorName(code, "DynamoDbException"), Cause: fmt.Sprintf("%s (Service: DynamoDb, Status Code: %d, Request ID: %s)", msg, status, reqID)}
}

// sesSendEmail posts the parameters to SES v2's SendEmail (REST-JSON, same field names).
func (e *Engine) sesSendEmail(params any) (any, *stateError) {
	const prefix = "SesV2."
	if e.opts.SESEndpoint == "" {
		return nil, &stateError{Name: prefix + "SdkClientException", Cause: "no SES endpoint is configured for the local engine"}
	}
	status, hdr, body, err := e.signedPost(e.opts.SESEndpoint, "/v2/email/outbound-emails", "ses", map[string]string{
		"Content-Type": "application/json",
	}, []byte(encodeJSON(params)))
	if err != nil {
		return nil, &stateError{Name: prefix + "SdkClientException", Cause: "Unable to execute HTTP request: " + err.Error()}
	}
	if status/100 == 2 {
		v, err := decodeJSON(body)
		if err != nil {
			return nil, &stateError{Name: prefix + "SdkClientException", Cause: "invalid response JSON: " + err.Error()}
		}
		return v, nil
	}
	code, msg := awsErrorCode(hdr, body)
	if code == "" {
		code = restErrorCode(status, msg)
	}
	var detail struct{ Detail string }
	if json.Unmarshal(body, &detail) == nil && detail.Detail != "" {
		msg += ": " + detail.Detail
	}
	return nil, &stateError{Name: prefix + sdkErrorName(code, "SesV2Exception"), Cause: fmt.Sprintf("%s (Service: SesV2, Status Code: %d, Request ID: %s)", msg, status, hdr.Get("X-Amzn-Requestid"))}
}

// restErrorCode infers the code of a REST-JSON error response that carries none (as the SES
// emulator's "Bad Request Exception" replies): from the message when it names one, else from the
// HTTP status, as the SES v2 API maps them.
func restErrorCode(status int, msg string) string {
	if m := strings.ReplaceAll(msg, " ", ""); strings.HasSuffix(m, "Exception") && !strings.ContainsAny(m, ".:,;") {
		return m
	}
	switch status {
	case http.StatusBadRequest:
		return "BadRequestException"
	case http.StatusNotFound:
		return "NotFoundException"
	case http.StatusTooManyRequests:
		return "TooManyRequestsException"
	}
	return ""
}

// sdkErrorName gives an AWS SDK integration's error name, which always ends in Exception.
func sdkErrorName(code, fallback string) string {
	if code == "" {
		return fallback
	}
	if !strings.HasSuffix(code, "Exception") {
		code += "Exception"
	}
	return code
}

// awsErrorCode reads the error code and message of a JSON protocol error response.
func awsErrorCode(hdr http.Header, body []byte) (code, msg string) {
	code = hdr.Get("X-Amzn-Errortype")
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	for _, k := range []string{"__type", "code", "Code"} {
		if s, ok := m[k].(string); ok && code == "" {
			code = s
		}
	}
	for _, k := range []string{"message", "Message", "errorMessage"} {
		if s, ok := m[k].(string); ok && msg == "" {
			msg = s
		}
	}
	if i := strings.LastIndex(code, "#"); i >= 0 {
		code = code[i+1:]
	}
	code, _, _ = strings.Cut(code, ":")
	if msg == "" {
		msg = strings.TrimSpace(string(body))
	}
	return code, msg
}

// startChild starts the child execution of a states:startExecution task. For .sync:2 the parent
// is registered to be told when the child closes, atomically with the start.
func (x *execution) startChild(params any, seq uint64, sync bool) (*execution, any, *stateError) {
	e := x.e
	m, _ := params.(map[string]any)
	smArn, _ := m["StateMachineArn"].(string)
	var input string
	switch in := m["Input"].(type) {
	case nil:
		input = encodeJSON(map[string]any{"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": x.arn})
	case string:
		input = in
	case map[string]any:
		in = deepCopy(in).(map[string]any)
		if _, ok := in["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"]; !ok {
			in["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"] = x.arn
		}
		input = encodeJSON(in)
	default:
		input = encodeJSON(in)
	}
	name, _ := m["Name"].(string)
	e.mu.Lock()
	defer e.mu.Unlock()
	child, err := e.startLocked(smArn, name, input, x.arn)
	if err != nil {
		var ae smithyCoder
		code := "StepFunctionsException"
		if errors.As(err, &ae) {
			code = ae.ErrorCode()
		}
		return nil, nil, &stateError{Name: "StepFunctions." + sdkErrorName(code, "StepFunctionsException"), Cause: err.Error()}
	}
	if sync {
		if child.status == types.ExecutionStatusRunning {
			child.watchers = append(child.watchers, watcher{x: x, seq: seq})
			x.syncChild = child
		} else {
			x.send(signal{seq: seq, kind: sigChild})
		}
	}
	return child, map[string]any{"ExecutionArn": child.arn, "StartDate": child.start.UnixMilli()}, nil
}

type smithyCoder interface{ ErrorCode() string }

// describeMap is the DescribeExecution output as a .sync:2 task returns it (Input and Output
// parsed as JSON). The engine's mutex must be held.
func (x *execution) describeMap() map[string]any {
	d := map[string]any{
		"ExecutionArn":    x.arn,
		"Input":           decodeOrString([]byte(x.input)),
		"InputDetails":    map[string]any{"Included": true},
		"Name":            x.name,
		"StartDate":       x.start.UnixMilli(),
		"StateMachineArn": x.m.arn,
		"Status":          string(x.status),
	}
	if !x.stop.IsZero() {
		d["StopDate"] = x.stop.UnixMilli()
	}
	if x.hasOutput {
		d["Output"] = decodeOrString([]byte(x.output))
		d["OutputDetails"] = map[string]any{"Included": true}
	}
	if x.errName != "" {
		d["Error"] = x.errName
	}
	if x.cause != "" {
		d["Cause"] = x.cause
	}
	return d
}
