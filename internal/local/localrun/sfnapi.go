package localrun

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go"

	"github.com/lethe-dev/lethe/internal/workflow"
)

// sfnAPI serves the Step Functions API (JSON 1.0: POST /, X-Amz-Target: AWSStepFunctions.<Op>)
// over the local engine, for the functions that run as binaries under the emulator: they start
// workflows and answer task tokens with the AWS SDK, as in AWS, through AWS_ENDPOINT_URL_SFN.
// It serves the operations the services call (workflow.Client).
type sfnAPI struct{ engine workflow.Client }

func (a sfnAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, _ := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AWSStepFunctions.")
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil || r.Method != http.MethodPost {
		sfnError(w, "SerializationException", "a POST of a JSON document")
		return
	}
	ctx := r.Context()
	var out any
	switch op {
	case "StartExecution":
		var in sfn.StartExecutionInput
		if err = json.Unmarshal(body, &in); err == nil {
			var o *sfn.StartExecutionOutput
			if o, err = a.engine.StartExecution(ctx, &in); err == nil {
				out = map[string]any{"executionArn": o.ExecutionArn, "startDate": epoch(o.StartDate)}
			}
		}
	case "StopExecution":
		var in sfn.StopExecutionInput
		if err = json.Unmarshal(body, &in); err == nil {
			var o *sfn.StopExecutionOutput
			if o, err = a.engine.StopExecution(ctx, &in); err == nil {
				out = map[string]any{"stopDate": epoch(o.StopDate)}
			}
		}
	case "DescribeExecution":
		var in sfn.DescribeExecutionInput
		if err = json.Unmarshal(body, &in); err == nil {
			var o *sfn.DescribeExecutionOutput
			if o, err = a.engine.DescribeExecution(ctx, &in); err == nil {
				d := map[string]any{"executionArn": o.ExecutionArn, "stateMachineArn": o.StateMachineArn, "name": o.Name,
					"status": o.Status, "startDate": epoch(o.StartDate), "input": o.Input}
				if o.StopDate != nil {
					d["stopDate"] = epoch(o.StopDate)
				}
				for k, v := range map[string]*string{"output": o.Output, "error": o.Error, "cause": o.Cause} {
					if v != nil {
						d[k] = v
					}
				}
				out = d
			}
		}
	case "SendTaskSuccess":
		var in sfn.SendTaskSuccessInput
		if err = json.Unmarshal(body, &in); err == nil {
			_, err = a.engine.SendTaskSuccess(ctx, &in)
			out = struct{}{}
		}
	case "SendTaskFailure":
		var in sfn.SendTaskFailureInput
		if err = json.Unmarshal(body, &in); err == nil {
			_, err = a.engine.SendTaskFailure(ctx, &in)
			out = struct{}{}
		}
	default:
		sfnError(w, "UnknownOperationException", "the local Step Functions serves StartExecution, StopExecution, DescribeExecution, SendTaskSuccess and SendTaskFailure, not "+op)
		return
	}
	var apiErr smithy.APIError
	switch {
	case errors.As(err, &apiErr):
		sfnError(w, apiErr.ErrorCode(), apiErr.ErrorMessage())
		return
	case errors.Is(err, context.Canceled):
		return
	case err != nil:
		sfnError(w, "SerializationException", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	json.NewEncoder(w).Encode(out)
}

// sfnError answers as the service does: 400 and {"__type", "message"}, which the SDK turns into
// its own error type of that name.
func sfnError(w http.ResponseWriter, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}

// epoch is a timestamp as the JSON protocol writes it: seconds since the epoch.
func epoch(t *time.Time) any {
	if t == nil {
		return nil
	}
	return float64(t.UnixMilli()) / 1000
}
