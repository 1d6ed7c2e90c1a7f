// Command telegram-sweep is the Lambda EventBridge Scheduler invokes every hour: it asks Telegram's
// getMe about the bot token of every active Telegram connection and requests a connection wipe for
// each token Telegram refuses (internal/tgsweep).
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lethe-dev/lethe/internal/system"
	"github.com/lethe-dev/lethe/internal/system/wiring"
)

func main() {
	g := wiring.FromEnvironment(context.Background())
	handler := system.TelegramSweep(g)
	if err := g.Err(); err != nil {
		log.Fatal(err)
	}
	lambda.Start(handler)
}
