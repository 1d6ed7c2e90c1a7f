package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/smithy-go"

	"github.com/lethe-dev/lethe/internal/lerr"
	"github.com/lethe-dev/lethe/internal/request"
)

// Error names the state machines' Retry and Catch match. A handler's error reaches Step Functions
// as its name (the Lambda errorType), so these are the only words the ASL and the code share.
const (
	// ErrNameTransient: throttling, a 5xx or a dropped connection; retried with backoff.
	ErrNameTransient = "Transient"
	// ErrNameWindowOpen: a hard delete was asked to start before the soft-delete window ended.
	ErrNameWindowOpen = "WindowStillOpen"
	// ErrNameNotVerified: the verification pass still found data in scope; the scope is erased again.
	ErrNameNotVerified = "NotVerified"
	// ErrNameNotDeleting: the request left hard_deleting under the task (an operator intervened).
	ErrNameNotDeleting = "NotDeleting"
	// ErrNameConflict: the request is in a status the task cannot start from.
	ErrNameConflict = "StatusConflict"
	// ErrNameNotFound: the request does not exist.
	ErrNameNotFound = "RequestNotFound"
	// ErrNameBadInput: the task's input or the data a mail needs is missing or malformed.
	ErrNameBadInput = "BadInput"
	// ErrNameInternal: anything else; not retried, caught as a failure.
	ErrNameInternal = "Internal"
)

// OwnErrorNames are the names Classify can give.
var OwnErrorNames = []string{ErrNameTransient, ErrNameWindowOpen, ErrNameNotVerified, ErrNameNotDeleting,
	ErrNameConflict, ErrNameNotFound, ErrNameBadInput, ErrNameInternal}

// ServiceErrorNames are the errors AWS itself raises around a task, as the Step Functions and
// Lambda documentation name them: the Lambda service's own failures (retry them), a function that
// ran out of time, and the States.* errors of the runtime.
var ServiceErrorNames = []string{
	"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
	"Lambda.TooManyRequestsException", "Lambda.ClientExecutionTimeoutException", "Sandbox.Timedout",
	"States.ALL", "States.TaskFailed", "States.Timeout", "States.HeartbeatTimeout", "States.Runtime",
	"States.DataLimitExceeded",
	// The failure path writes the ledger and mails the privacy officer straight from the machine.
	"DynamoDB.ConditionalCheckFailedException", "DynamoDB.ProvisionedThroughputExceededException",
	"DynamoDB.ThrottlingException", "DynamoDB.InternalServerErrorException", "DynamoDB.AmazonDynamoDBException",
	"SesV2.TooManyRequestsException", "SesV2.SesV2Exception",
	// Hand-off to a child execution.
	"StepFunctions.ExecutionLimitExceededException", "StepFunctions.SfnException",
}

// Error is a task failure with the name Step Functions will see.
type Error struct {
	Name string
	Err  error
}

func (e *Error) Error() string { return e.Name + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// ErrWindowOpen is returned when a hard delete would start inside the soft-delete window (the
// request refuses that transition with it).
var ErrWindowOpen = request.ErrWindowOpen

// nameOf is the one map from an error's code to the name Step Functions sees; a code not here is
// Internal, unless the error is a transient AWS or network failure.
var nameOf = map[lerr.Code]string{
	lerr.EWINDOWOPEN:  ErrNameWindowOpen,
	lerr.ENOTVERIFIED: ErrNameNotVerified,
	lerr.ENOTDELETING: ErrNameNotDeleting,
	lerr.ENOTFOUND:    ErrNameNotFound,
	lerr.ECONFLICT:    ErrNameConflict,
	lerr.EINCOMPLETE:  ErrNameBadInput,
}

// Classify names an error for the state machine: a task's own named error, else by the error's code.
func Classify(err error) string {
	var named *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &named):
		return named.Name
	}
	if name, ok := nameOf[lerr.ErrorCode(err)]; ok {
		return name
	}
	if transient(err) {
		return ErrNameTransient
	}
	return ErrNameInternal
}

// transientCodes are AWS error codes that mean "try again later".
var transientCodes = map[string]bool{
	"ThrottlingException": true, "ProvisionedThroughputExceededException": true, "RequestLimitExceeded": true,
	"InternalServerError": true, "InternalFailure": true, "ServiceUnavailable": true, "TooManyRequestsException": true,
	"TransactionConflictException": true, "SlowDown": true, "RequestTimeout": true, "LimitExceededException": true,
}

func transient(err error) bool {
	var api smithy.APIError
	if errors.As(err, &api) && transientCodes[api.ErrorCode()] {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded)
}

// Lambda wraps a task for the Lambda runtime: its errors reach Step Functions under their names.
func Lambda[In, Out any](fn func(context.Context, In) (Out, error)) func(context.Context, In) (Out, error) {
	return func(ctx context.Context, in In) (Out, error) {
		out, err := fn(ctx, in)
		if err != nil {
			return out, messages.InvokeResponse_Error{Type: Classify(err), Message: err.Error()}
		}
		return out, nil
	}
}

// Raw is Lambda over raw JSON, the shape the local engine invokes functions in, so the local run
// calls exactly the handler the Lambda runtime would.
func Raw[In, Out any](fn func(context.Context, In) (Out, error)) func(context.Context, json.RawMessage) (json.RawMessage, error) {
	h := Lambda(fn)
	return func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error) {
		var in In
		if len(payload) > 0 {
			if err := json.Unmarshal(payload, &in); err != nil {
				return nil, messages.InvokeResponse_Error{Type: ErrNameBadInput, Message: fmt.Sprintf("decode input: %v", err)}
			}
		}
		out, err := h(ctx, in)
		if err != nil {
			return nil, err
		}
		return json.Marshal(out)
	}
}
