// Command finish-request is the Lambda behind the deletion workflows' Finish task (workflow.Tasks.Finish).
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lethe-dev/lethe/internal/system"
	"github.com/lethe-dev/lethe/internal/workflow"
)

func main() {
	sys, err := system.FromEnvironment(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(workflow.Lambda(sys.Tasks.Finish))
}
