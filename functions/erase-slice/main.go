// Command erase-slice is the Lambda behind the deletion workflows' EraseSlice task (workflow.Tasks.EraseSlice).
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lethe-dev/lethe/internal/system/wiring"
)

func main() {
	g := wiring.FromEnvironment(context.Background())
	handler := wiring.EraseSlice(g)
	if err := g.Err(); err != nil {
		log.Fatal(err)
	}
	lambda.Start(handler)
}
