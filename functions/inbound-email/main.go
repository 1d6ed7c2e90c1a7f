// Command inbound-email is the Lambda the SES receipt rule invokes (Lambda action, invocation type
// Event) after its S3 action stored the raw message: it acts on the mail sent to info@
// (internal/intake).
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lethe-dev/lethe/internal/system"
)

func main() {
	handler, err := system.FromEnvironment(context.Background(), system.InboundEmail)
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(handler)
}
