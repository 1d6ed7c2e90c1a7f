package system

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lethe-dev/lethe/internal/retention"
	"github.com/lethe-dev/lethe/internal/slasweep"
	"github.com/lethe-dev/lethe/internal/tgsweep"
	"github.com/lethe-dev/lethe/internal/workflow"
)

// Each Lambda's builder asks the Graph for the services its handler uses and nothing else; its
// functions/<folder>/main.go calls it on FromEnvironment's Graph. main calls the builder itself
// rather than passing it to a generic helper: a generic instantiation over func(*Graph) H marks the
// Graph's type as reachable through interfaces, and the linker would then keep every service.

// HTTPHandler is the handler of an HTTP API route.
type HTTPHandler = func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// api is the dashboard API (functions/api).
func API(g *Graph) HTTPHandler { return g.api().Handle }

// ChannelWebhook serves the channels' public routes (functions/channel-webhook).
func ChannelWebhook(g *Graph) HTTPHandler { return g.webhooks().Handle }

// InboundEmail acts on the mail sent to info@ (functions/inbound-email).
func InboundEmail(g *Graph) func(context.Context, events.SimpleEmailEvent) error {
	return g.intake().Handle
}

// RetentionStream consumes what DynamoDB's TTL removed (functions/retention-stream).
func RetentionStream(g *Graph) func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	return g.retentionSweep().HandleStream
}

// retentionSweep is the daily retention sweep (functions/retention-sweep).
func RetentionSweep(g *Graph) func(context.Context, json.RawMessage) (retention.Result, error) {
	return g.retentionSweep().Handle
}

// slaSweep is the hourly deadline sweep (functions/sla-sweep).
func SLASweep(g *Graph) func(context.Context, json.RawMessage) (slasweep.Report, error) {
	return g.slaSweep().Handle
}

// telegramSweep is the hourly bot-token sweep (functions/telegram-sweep).
func TelegramSweep(g *Graph) func(context.Context, json.RawMessage) (tgsweep.Report, error) {
	return g.telegramSweep().Handle
}

// OpenRequest is the workflows' Open task (functions/open-request).
func OpenRequest(g *Graph) func(context.Context, workflow.State) (workflow.Opened, error) {
	return workflow.Lambda(g.tasks().Open)
}

// BeginHardDelete is the workflows' BeginHardDelete task (functions/begin-hard-delete).
func BeginHardDelete(g *Graph) func(context.Context, workflow.State) (workflow.Began, error) {
	return workflow.Lambda(g.tasks().BeginHardDelete)
}

// EraseSlice is the workflows' EraseSlice task (functions/erase-slice).
func EraseSlice(g *Graph) func(context.Context, workflow.State) (workflow.Erase, error) {
	return workflow.Lambda(g.tasks().EraseSlice)
}

// CompleteDeletion is the workflows' Complete task (functions/complete-deletion).
func CompleteDeletion(g *Graph) func(context.Context, workflow.State) (workflow.Completed, error) {
	return workflow.Lambda(g.tasks().Complete)
}

// FinishRequest is the workflows' Finish task (functions/finish-request).
func FinishRequest(g *Graph) func(context.Context, workflow.State) (workflow.Done, error) {
	return workflow.Lambda(g.tasks().Finish)
}

// AwaitDecision is the workflows' AwaitDecision task (functions/await-decision).
func AwaitDecision(g *Graph) func(context.Context, workflow.Await) (workflow.Done, error) {
	return workflow.Lambda(g.tasks().AwaitDecision)
}

// NotifyDeclined is the workflows' NotifyDeclined task (functions/notify-declined).
func NotifyDeclined(g *Graph) func(context.Context, workflow.State) (workflow.Done, error) {
	return workflow.Lambda(g.tasks().NotifyDeclined)
}

// Lambdas lists every Lambda's builder by its name here, the one functions/*/main.go calls, each returning its handler as the runtime takes it. Only tests call it, so no
// Lambda links another's builder.
func Lambdas() map[string]func(*Graph) any {
	return map[string]func(*Graph) any{
		"API":              func(g *Graph) any { return API(g) },
		"ChannelWebhook":   func(g *Graph) any { return ChannelWebhook(g) },
		"InboundEmail":     func(g *Graph) any { return InboundEmail(g) },
		"RetentionStream":  func(g *Graph) any { return RetentionStream(g) },
		"RetentionSweep":   func(g *Graph) any { return RetentionSweep(g) },
		"SLASweep":         func(g *Graph) any { return SLASweep(g) },
		"TelegramSweep":    func(g *Graph) any { return TelegramSweep(g) },
		"OpenRequest":      func(g *Graph) any { return OpenRequest(g) },
		"BeginHardDelete":  func(g *Graph) any { return BeginHardDelete(g) },
		"EraseSlice":       func(g *Graph) any { return EraseSlice(g) },
		"CompleteDeletion": func(g *Graph) any { return CompleteDeletion(g) },
		"FinishRequest":    func(g *Graph) any { return FinishRequest(g) },
		"AwaitDecision":    func(g *Graph) any { return AwaitDecision(g) },
		"NotifyDeclined":   func(g *Graph) any { return NotifyDeclined(g) },
	}
}
