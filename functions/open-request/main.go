// Command open-request is the Lambda behind the deletion workflows' Open task (workflow.Tasks.Open).
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
	lambda.Start(workflow.Lambda(sys.Tasks.Open))
}
