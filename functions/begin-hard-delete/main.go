// Command begin-hard-delete is the Lambda behind the deletion workflows' BeginHardDelete task (workflow.Tasks.BeginHardDelete).
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lethe-dev/lethe/internal/system"
)

func main() {
	handler, err := system.FromEnvironment(context.Background(), system.BeginHardDelete)
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(handler)
}
