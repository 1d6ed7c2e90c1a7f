// Command erase-slice is the Lambda behind the deletion workflows' EraseSlice task (workflow.Tasks.EraseSlice).
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lethe-dev/lethe/internal/system"
)

func main() {
	handler, err := system.FromEnvironment(context.Background(), system.EraseSlice)
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(handler)
}
