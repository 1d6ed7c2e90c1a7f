// Command sla-sweep is the Lambda EventBridge Scheduler invokes every hour: it escalates open
// deletion requests past a deadline to the privacy officer (mail and an EMF metric) and re-drives
// the ones whose workflow is missing or ended (internal/slasweep).
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lethe-dev/lethe/internal/system/slaedge"
	"github.com/lethe-dev/lethe/internal/system/wiring"
)

func main() {
	g := wiring.FromEnvironment(context.Background())
	handler := slaedge.SLASweep(g)
	if err := g.Err(); err != nil {
		log.Fatal(err)
	}
	lambda.Start(handler)
}
