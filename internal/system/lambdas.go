package system

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lethe-dev/lethe/internal/chsweep"
	"github.com/lethe-dev/lethe/internal/retention"
	"github.com/lethe-dev/lethe/internal/slasweep"
	"github.com/lethe-dev/lethe/internal/system/wiring"
)

// The edges' builders (the workflow tasks' are in wiring): each asks the Graph for the services its
// handler uses and nothing else; its functions/<folder>/main.go calls it on
// wiring.FromEnvironment's Graph.

// HTTPHandler is the handler of an HTTP API route.
type HTTPHandler = func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// api is the dashboard API (functions/api).
func API(g *wiring.Graph) HTTPHandler { return apiOf(g).Handle }

// ChannelWebhook serves the channels' public routes (functions/channel-webhook).
func ChannelWebhook(g *wiring.Graph) HTTPHandler { return webhooksOf(g).Handle }

// InboundEmail acts on the mail sent to info@ (functions/inbound-email).
func InboundEmail(g *wiring.Graph) func(context.Context, events.SimpleEmailEvent) error {
	return intakeOf(g).Handle
}

// RetentionStream consumes what DynamoDB's TTL removed (functions/retention-stream).
func RetentionStream(g *wiring.Graph) func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	return retentionSweepOf(g).HandleStream
}

// retentionSweep is the daily retention sweep (functions/retention-sweep).
func RetentionSweep(g *wiring.Graph) func(context.Context, json.RawMessage) (retention.Result, error) {
	return retentionSweepOf(g).Handle
}

// slaSweep is the hourly deadline sweep (functions/sla-sweep).
func SLASweep(g *wiring.Graph) func(context.Context, json.RawMessage) (slasweep.Report, error) {
	return slaSweepOf(g).Handle
}

// ChannelSweep is the hourly connection-health sweep (functions/channel-sweep).
func ChannelSweep(g *wiring.Graph) func(context.Context, json.RawMessage) (chsweep.Report, error) {
	return channelSweepOf(g).Handle
}

// Lambdas lists every Lambda's builder (here or in wiring) by its name, the one functions/*/main.go
// calls, each returning its handler as the runtime takes it. Only tests call it, so no
// Lambda links another's builder.
func Lambdas() map[string]func(*wiring.Graph) any {
	return map[string]func(*wiring.Graph) any{
		"API":              func(g *wiring.Graph) any { return API(g) },
		"ChannelWebhook":   func(g *wiring.Graph) any { return ChannelWebhook(g) },
		"InboundEmail":     func(g *wiring.Graph) any { return InboundEmail(g) },
		"RetentionStream":  func(g *wiring.Graph) any { return RetentionStream(g) },
		"RetentionSweep":   func(g *wiring.Graph) any { return RetentionSweep(g) },
		"SLASweep":         func(g *wiring.Graph) any { return SLASweep(g) },
		"ChannelSweep":     func(g *wiring.Graph) any { return ChannelSweep(g) },
		"OpenRequest":      func(g *wiring.Graph) any { return wiring.OpenRequest(g) },
		"BeginHardDelete":  func(g *wiring.Graph) any { return wiring.BeginHardDelete(g) },
		"EraseSlice":       func(g *wiring.Graph) any { return wiring.EraseSlice(g) },
		"CompleteDeletion": func(g *wiring.Graph) any { return wiring.CompleteDeletion(g) },
		"FinishRequest":    func(g *wiring.Graph) any { return wiring.FinishRequest(g) },
		"AwaitDecision":    func(g *wiring.Graph) any { return wiring.AwaitDecision(g) },
		"NotifyDeclined":   func(g *wiring.Graph) any { return wiring.NotifyDeclined(g) },
	}
}
