// Command channel-webhook is the Lambda behind the public channel routes of the HTTP API: Meta's
// data-deletion and deauthorize callbacks, WhatsApp, Slack, Telegram, VK and Viber webhooks, and the
// deletion status page (internal/webhooks).
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lethe-dev/lethe/internal/system/webhookedge"
	"github.com/lethe-dev/lethe/internal/system/wiring"
)

func main() {
	g := wiring.FromEnvironment(context.Background())
	handler := webhookedge.ChannelWebhook(g)
	if err := g.Err(); err != nil {
		log.Fatal(err)
	}
	lambda.Start(handler)
}
