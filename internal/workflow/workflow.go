// Package workflow is what the deletion state machines run: one handler per Task, each translating
// its state input into a call on the ledger, the erasure engine or the mailer and naming its errors
// for the machine's Retry and Catch; and the one interface production (the sfn client) and the local
// engine share for starting executions and answering the tasks they wait on.
package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/request"
)

// Client is the part of the Step Functions API Lethe uses; *sfn.Client and the local engine both
// satisfy it.
type Client interface {
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, optFns ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	StopExecution(ctx context.Context, in *sfn.StopExecutionInput, optFns ...func(*sfn.Options)) (*sfn.StopExecutionOutput, error)
	DescribeExecution(ctx context.Context, in *sfn.DescribeExecutionInput, optFns ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
	SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, optFns ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
	SendTaskFailure(ctx context.Context, in *sfn.SendTaskFailureInput, optFns ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error)
}

// Machines are the ARNs of the deletion state machines.
type Machines struct {
	AccountDeletion, EndUserDeletion, ConnectionWipe, EndCustomerRequest string
}

// For names the machine that runs a request of kind k.
func (m Machines) For(k request.Kind) (string, error) {
	var arn string
	switch k {
	case request.KindAccountDeletion:
		arn = m.AccountDeletion
	case request.KindEndUserFilter, request.KindEndUserDeletion, request.KindChannelIdentity, request.KindBotDeletion,
		request.KindActivityLogs, request.KindInboxMessage:
		// The end-user machine is the plain erase: open, erase in slices, verify, act, tell who asked.
		arn = m.EndUserDeletion
	case request.KindConnectionWipe:
		arn = m.ConnectionWipe
	case request.KindEndCustomerRequest:
		arn = m.EndCustomerRequest
	default:
		return "", fmt.Errorf("no workflow runs %s requests", k)
	}
	if arn == "" {
		return "", fmt.Errorf("the state machine for %s requests is not configured", k)
	}
	return arn, nil
}

// Starter starts the workflow of a recorded request.
type Starter struct {
	SFN      Client
	Ledger   *ledger.Ledger
	Machines Machines
}

// Input is what every execution starts with.
type Input struct {
	RequestID string `json:"requestId"`
}

// Start starts req's execution, named after the request so that a second start of the same request
// (an intake delivered twice, a retried call) is recognised: ExecutionAlreadyExists means "already
// started", and the same execution ARN is returned.
func (s *Starter) Start(ctx context.Context, req request.Request) (string, error) {
	machine, err := s.Machines.For(req.Kind)
	if err != nil {
		return "", err
	}
	out, err := s.SFN.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(machine), Name: aws.String(ExecutionName(req.ID)),
		Input: aws.String(`{"requestId":"` + req.ID + `"}`)})
	var exists *types.ExecutionAlreadyExists
	var arn string
	switch {
	case errors.As(err, &exists):
		arn = ExecutionARN(machine, ExecutionName(req.ID))
	case err != nil:
		return "", fmt.Errorf("start the workflow of %s: %w", req.ID, err)
	default:
		arn = aws.ToString(out.ExecutionArn)
	}
	if req.ExecutionARN == arn {
		return arn, nil
	}
	_, err = s.Ledger.Update(ctx, req.ID, func(r *request.Request) error {
		r.ExecutionARN = arn
		return nil
	})
	return arn, err
}

// Restart starts req's machine again under the execution name "<id>-<suffix>" (the id cut so the
// whole stays within the 80 characters Step Functions allows): Step Functions refuses the name of an
// execution that ended. Callers choose the suffix, so a second start for the same cause finds the
// first (ExecutionAlreadyExists) and returns it: a request a legal hold stopped and its release
// resumed ("h<holdId>"), a failed request an operator retries ("o<n>"). The machine's Open accepts
// the status the request is resumed in, and its erase loop resumes from the stored checkpoint. The
// execution is recorded on the request.
func (s *Starter) Restart(ctx context.Context, req request.Request, suffix string) (string, error) {
	machine, err := s.Machines.For(req.Kind)
	if err != nil {
		return "", err
	}
	name := RestartName(req.ID, suffix)
	in, err := json.Marshal(Input{RequestID: req.ID})
	if err != nil {
		return "", err
	}
	out, err := s.SFN.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(machine),
		Name: aws.String(name), Input: aws.String(string(in))})
	var exists *types.ExecutionAlreadyExists
	var arn string
	switch {
	case errors.As(err, &exists):
		arn = ExecutionARN(machine, name)
	case err != nil:
		return "", fmt.Errorf("restart the workflow of %s: %w", req.ID, err)
	default:
		arn = aws.ToString(out.ExecutionArn)
	}
	_, err = s.Ledger.Update(ctx, req.ID, func(r *request.Request) error {
		r.ExecutionARN = arn
		return nil
	})
	return arn, err
}

// Runs reports whether a workflow runs requests of kind k; the error says why not.
func (s *Starter) Runs(k request.Kind) error {
	_, err := s.Machines.For(k)
	return err
}

// Stop ends a request's execution (a cancelled account deletion); see Stop.
func (s *Starter) Stop(ctx context.Context, executionARN, cause string) error {
	return Stop(ctx, s.SFN, executionARN, cause)
}

// Decide hands a decision to the task that waits for it. A token that just timed out (the
// escalation is starting) is not an error: the next wait finds the decision on the request and
// hands it over itself.
func (s *Starter) Decide(ctx context.Context, taskToken string, approved bool) error {
	err := HandOver(ctx, s.SFN, taskToken, approved)
	var stale1 *types.InvalidToken
	var stale2 *types.TaskTimedOut
	var stale3 *types.TaskDoesNotExist
	if errors.As(err, &stale1) || errors.As(err, &stale2) || errors.As(err, &stale3) {
		return nil
	}
	return err
}

// ExecutionName is the execution of a request: its id (a ULID, within the 80 characters and the
// alphabet Step Functions allows).
func ExecutionName(requestID string) string { return requestID }

// ExecutionARN is the ARN of execution name of a state machine.
func ExecutionARN(machineARN, name string) string {
	return strings.Replace(machineARN, ":stateMachine:", ":execution:", 1) + ":" + name
}

// Stop ends a request's execution (a cancelled account deletion): an execution that already ended
// is not an error.
func Stop(ctx context.Context, c Client, executionARN, cause string) error {
	if executionARN == "" {
		return nil
	}
	_, err := c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(executionARN),
		Error: aws.String("Cancelled"), Cause: aws.String(cause)})
	var missing *types.ExecutionDoesNotExist
	if errors.As(err, &missing) {
		return nil
	}
	return err
}

// now is a clock that may be replaced in tests and by the local engine's virtual clock.
type now func() time.Time

func (n now) get() time.Time {
	if n == nil {
		return time.Now().UTC()
	}
	return n().UTC()
}

// RestartName is the execution name Restart uses: the request id and "-<suffix>", the id cut so the
// name stays within the 80 characters Step Functions allows.
func RestartName(id, suffix string) string {
	suffix = "-" + suffix
	if len(id)+len(suffix) > 80 {
		id = id[:80-len(suffix)]
	}
	return id + suffix
}
