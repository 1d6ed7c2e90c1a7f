// Command minimal is the smallest Lambda aws-lambda-go makes: lambda.Start of a handler that returns
// its input. The init benchmark (internal/bench/initbench) builds it exactly as the deployment builds
// functions/* and measures every function's cold start against its own; no deployment ships it.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(_ context.Context, in json.RawMessage) (json.RawMessage, error) { return in, nil })
}
