// Command retention-stream is the Lambda the platform table's stream invokes with the items DynamoDB's
// TTL removed (template.yaml filters the stream to them): it deletes each item's S3 files and
// journals the destruction into the day's retention act, or puts back an item under a legal hold
// (internal/retention).
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lethe-dev/lethe/internal/system/retentionedge"
	"github.com/lethe-dev/lethe/internal/system/wiring"
)

func main() {
	g := wiring.FromEnvironment(context.Background())
	handler := retentionedge.RetentionStream(g)
	if err := g.Err(); err != nil {
		log.Fatal(err)
	}
	lambda.Start(handler)
}
