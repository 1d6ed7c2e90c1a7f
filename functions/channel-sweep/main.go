// Command channel-sweep is the Lambda EventBridge Scheduler invokes every hour: it asks each
// channel's API about the credential of the connections whose hour slot it is, and requests a
// connection wipe for each credential its channel refused twice, an hour or more apart
// (internal/chsweep).
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lethe-dev/lethe/internal/system/chsweepedge"
	"github.com/lethe-dev/lethe/internal/system/wiring"
)

func main() {
	g := wiring.FromEnvironment(context.Background())
	handler := chsweepedge.ChannelSweep(g)
	if err := g.Err(); err != nil {
		log.Fatal(err)
	}
	lambda.Start(handler)
}
