// Command inbound-email is the Lambda the SES receipt rule invokes (Lambda action, invocation type
// Event) after its S3 action stored the raw message: it acts on the mail sent to info@
// (internal/intake).
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lethe-dev/lethe/internal/system/intakeedge"
	"github.com/lethe-dev/lethe/internal/system/wiring"
)

func main() {
	g := wiring.FromEnvironment(context.Background())
	handler := intakeedge.InboundEmail(g)
	if err := g.Err(); err != nil {
		log.Fatal(err)
	}
	lambda.Start(handler)
}
