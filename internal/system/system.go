// Package system assembles Lethe's services from configuration and AWS clients. Every Lambda's
// main.go and the local run build them through the same Graph, so local and deployed cannot differ
// in wiring, only in the clients they are given; a Lambda builds only what its handler uses.
package system

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lethe-dev/lethe/internal/api"
	"github.com/lethe-dev/lethe/internal/calendar"
	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/deletion"
	"github.com/lethe-dev/lethe/internal/erasure"
	"github.com/lethe-dev/lethe/internal/intake"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/mailer"
	"github.com/lethe-dev/lethe/internal/obs"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/reauth"
	"github.com/lethe-dev/lethe/internal/requests"
	"github.com/lethe-dev/lethe/internal/retention"
	"github.com/lethe-dev/lethe/internal/slasweep"
	"github.com/lethe-dev/lethe/internal/tgsweep"
	"github.com/lethe-dev/lethe/internal/webhooks"
	"github.com/lethe-dev/lethe/internal/workflow"
)

// Clients are the AWS clients the services use: the SDK's in production, the same types pointed at
// the emulators locally (and the local Step Functions engine as SFN).
type Clients struct {
	DynamoDB *dynamodb.Client
	S3       *s3.Client
	SES      mailer.SESv2
	SFN      workflow.Client
}

// System is every service, built once per process.
type System struct {
	Config   config.Config
	Store    *platform.Store
	Ledger   *ledger.Ledger
	Engine   *erasure.Engine
	Deletion *deletion.Service
	Mailer   *mailer.Mailer
	Calendar *calendar.Calendar
	Starter  *workflow.Starter
	Tasks    *workflow.Tasks
	Requests *requests.Service
	Reauth   *reauth.Guard
	// intake acts on the mail the info@ mailbox receives (the SES receipt rule's Lambda action).
	Intake *intake.Service
	// telegramSweep wipes the connections whose bot token Telegram refuses (functions/telegram-sweep).
	TelegramSweep *tgsweep.Sweep
	// slaSweep escalates missed deadlines and re-drives stalled workflows (functions/sla-sweep).
	SLASweep *slasweep.Sweep
	// retentionSweep deletes what is past its retention and repairs missing TTLs (functions/retention-sweep).
	RetentionSweep *retention.Sweep
	// webhooks serves the channels' public routes (functions/channel-webhook).
	Webhooks *webhooks.Service
	Now      func() time.Time
}

// New builds every service from a configuration loaded whole (the local run and the tests); now is
// the clock every one of them reads (the virtual clock locally). It wires them exactly as each
// Lambda's own builder does, through the same Graph.
func New(cfg config.Config, c Clients, now func() time.Time) (*System, error) {
	g := newGraph(config.Loaded(cfg), c, nil, now)
	s := &System{Config: cfg, Store: g.store(), Ledger: g.ledger(), Engine: g.engine(), Deletion: g.deletion(),
		Mailer: g.mailer(), Calendar: g.calendar(), Starter: g.starter(), Tasks: g.tasks(), Requests: g.requests(),
		Reauth: g.reauth(), Intake: g.intake(), TelegramSweep: g.telegramSweep(), SLASweep: g.slaSweep(),
		RetentionSweep: g.retentionSweep(), Webhooks: g.webhooks(), Now: g.now}
	if err := g.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

// FromEnvironment is the Graph of a Lambda function: configuration from the environment, read only
// as far as the function's builder asks for it, and AWS clients from the default configuration of
// the function's role and region, made only for the services that use them. After the builder, the
// Graph's Err says whether the function may start.
func FromEnvironment(ctx context.Context) *Graph {
	// Logs as the Lambda runtime wants them (JSON under LoggingConfig, each record with the
	// invocation's request id when logged with its context), and metrics as EMF lines on stdout.
	slog.SetDefault(slog.New(lambdacontext.NewLogHandler()))
	obs.SetOutput(os.Stdout)
	g := newGraph(config.NewLoader(os.Getenv), Clients{}, nil, nil)
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		g.err = fmt.Errorf("aws configuration: %w", err)
	}
	g.aws = &awsCfg
	return g
}

// API is the dashboard API over the services.
func (s *System) API() *api.API {
	return api.New(api.Services{Store: s.Store, Ledger: s.Ledger, Requests: s.Requests, Deletion: s.Deletion,
		Reauth: s.Reauth, Now: s.Now})
}

// api is the dashboard API over the services it uses.
func (g *Graph) api() *api.API {
	return api.New(api.Services{Store: g.store(), Ledger: g.ledger(), Requests: g.requests(), Deletion: g.deletion(),
		Reauth: g.reauth(), Now: g.now})
}

// TaskHandlers are the workflow tasks by the logical id of the function that runs each in
// template.yaml, as raw-JSON handlers: the local engine invokes exactly what functions/*/main.go
// hands the Lambda runtime.
func (s *System) TaskHandlers() map[string]func(context.Context, json.RawMessage) (json.RawMessage, error) {
	t := s.Tasks
	return map[string]func(context.Context, json.RawMessage) (json.RawMessage, error){
		"OpenRequestFunction":      workflow.Raw(t.Open),
		"BeginHardDeleteFunction":  workflow.Raw(t.BeginHardDelete),
		"EraseSliceFunction":       workflow.Raw(t.EraseSlice),
		"CompleteDeletionFunction": workflow.Raw(t.Complete),
		"FinishRequestFunction":    workflow.Raw(t.Finish),
		"AwaitDecisionFunction":    workflow.Raw(t.AwaitDecision),
		"NotifyDeclinedFunction":   workflow.Raw(t.NotifyDeclined),
	}
}

// StreamHandlers are the functions a DynamoDB stream invokes, by logical id in template.yaml: the
// local run hands them DynamoDB Local's stream as the event source mapping would.
func (s *System) StreamHandlers() map[string]func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	return map[string]func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error){
		"RetentionStreamFunction": s.RetentionSweep.HandleStream,
	}
}
