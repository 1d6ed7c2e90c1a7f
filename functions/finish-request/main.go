// Command finish-request is the Lambda behind the deletion workflows' Finish task (workflow.Tasks.Finish).
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lethe-dev/lethe/internal/system/wiring"
)

func main() {
	g := wiring.FromEnvironment(context.Background())
	handler := wiring.FinishRequest(g)
	if err := g.Err(); err != nil {
		log.Fatal(err)
	}
	lambda.Start(handler)
}
