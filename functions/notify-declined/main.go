// Command notify-declined is the Lambda behind the deletion workflows' NotifyDeclined task (workflow.Tasks.NotifyDeclined).
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lethe-dev/lethe/internal/system"
)

func main() {
	handler, err := system.FromEnvironment(context.Background(), system.NotifyDeclined)
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(handler)
}
