// Command retention-sweep is the Lambda EventBridge Scheduler invokes every day: it scans the
// platform and ledger tables in parallel segments, deletes every personal item past its retention
// that DynamoDB's TTL has not removed yet (with its S3 files), sets the TTL of personal items that
// lack one, and expires payments, consents and evidence by their own rules (internal/retention). A
// run its time budget cuts short resumes from its stored checkpoint at the next invocation.
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
	handler := retentionedge.RetentionSweep(g)
	if err := g.Err(); err != nil {
		log.Fatal(err)
	}
	lambda.Start(handler)
}
