// Package system assembles Lethe's services from configuration and AWS clients. Every Lambda's
// main.go and the local run build the same graph through it, so local and deployed cannot differ in
// wiring, only in the clients they are given.
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
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/lethe-dev/lethe/internal/api"
	"github.com/lethe-dev/lethe/internal/calendar"
	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/deletion"
	"github.com/lethe-dev/lethe/internal/erasure"
	"github.com/lethe-dev/lethe/internal/evidence"
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
	// Intake acts on the mail the info@ mailbox receives (the SES receipt rule's Lambda action).
	Intake *intake.Service
	// TelegramSweep wipes the connections whose bot token Telegram refuses (functions/telegram-sweep).
	TelegramSweep *tgsweep.Sweep
	// SLASweep escalates missed deadlines and re-drives stalled workflows (functions/sla-sweep).
	SLASweep *slasweep.Sweep
	// RetentionSweep deletes what is past its retention and repairs missing TTLs (functions/retention-sweep).
	RetentionSweep *retention.Sweep
	// Webhooks serves the channels' public routes (functions/channel-webhook).
	Webhooks *webhooks.Service
	Now      func() time.Time
}

// New builds the services; now is the clock every one of them reads (the virtual clock locally).
func New(cfg config.Config, c Clients, now func() time.Time) (*System, error) {
	if now == nil {
		now = time.Now
	}
	adj, err := calendar.ParseAdjustments(cfg.ExtraHolidays, cfg.ExtraWorkdays)
	if err != nil {
		return nil, err
	}
	cal, err := calendar.New(adj)
	if err != nil {
		return nil, err
	}
	tables := platform.Tables{datamap.PlatformTable: cfg.PlatformTable, datamap.LedgerTable: cfg.LedgerTable, datamap.AnalyticsTable: cfg.AnalyticsTable}
	buckets := map[string]string{datamap.FilesBucket: cfg.FilesBucket}
	store := platform.NewStore(c.DynamoDB, tables, cfg.Policy(), now)
	led := ledger.New(c.DynamoDB, cfg.LedgerTable, cfg.Policy(), now)
	eng := erasure.New(store, c.DynamoDB, c.S3, buckets, led, erasure.Options{Now: now})
	del := &deletion.Service{Ledger: led, Engine: eng, Store: store, Now: now,
		Operator: evidence.Operator{Name: cfg.OperatorName, Address: cfg.OperatorAddress, INN: cfg.OperatorINN,
			NameEN: cfg.OperatorNameEN, AddressEN: cfg.OperatorAddressEN}}
	mail := &mailer.Mailer{SES: c.SES, From: cfg.SenderAddress, Info: cfg.InfoAddress, BaseURL: cfg.PublicBaseURL}
	starter := &workflow.Starter{SFN: c.SFN, Ledger: led, Machines: workflow.Machines{
		AccountDeletion: cfg.AccountDeletionMachine, EndUserDeletion: cfg.EndUserDeletionMachine,
		ConnectionWipe: cfg.ConnectionWipeMachine, EndCustomerRequest: cfg.EndCustomerRequestMachine}}
	reqs := &requests.Service{Ledger: led, Store: store, Starter: starter, Accounts: eng, Mail: mail, Calendar: cal, Now: now}
	tasks := &workflow.Tasks{Ledger: led, Store: store, Deleter: del, Accounts: eng, Mail: mail, Calendar: cal,
		SFN: c.SFN, PrivacyOfficer: cfg.PrivacyOfficerAddress, Now: now}
	return &System{
		Config: cfg, Store: store, Ledger: led, Engine: eng, Deletion: del, Mailer: mail, Calendar: cal, Starter: starter,
		Tasks:    tasks,
		Requests: reqs,
		Intake: &intake.Service{S3: c.S3, Bucket: cfg.InboundMailBucket, Ledger: led, Store: store, Requests: reqs, Mail: mail,
			Info: cfg.InfoAddress, PrivacyOfficer: cfg.PrivacyOfficerAddress, Forward: mail, ForwardTo: cfg.ForwardAddress, Now: now},
		Webhooks: &webhooks.Service{Ledger: led, Store: store, Requests: reqs, MetaAppSecret: cfg.MetaAppSecret,
			SlackSigningSecret: cfg.SlackSigningSecret, WhatsAppVerifyToken: cfg.WhatsAppVerifyToken, PublicBaseURL: cfg.PublicBaseURL, Now: now},
		TelegramSweep: &tgsweep.Sweep{DB: c.DynamoDB, Table: cfg.PlatformTable, Store: store, Requests: reqs,
			Client: &tgsweep.Client{BaseURL: cfg.TelegramAPIBaseURL}, Now: now},
		SLASweep: &slasweep.Sweep{Ledger: led, Starter: starter, SFN: c.SFN, Mail: mail,
			PrivacyOfficer: cfg.PrivacyOfficerAddress, Finisher: tasks, FinalMail: tasks, Now: now},
		Reauth: reauth.New(c.DynamoDB, cfg.LedgerTable, cfg.Policy(), now),
		RetentionSweep: &retention.Sweep{DB: c.DynamoDB, S3: c.S3, Ledger: led, Store: store, Policy: cfg.Policy(), Now: now, Operator: del.Operator,
			Mail: mail, PrivacyOfficer: cfg.PrivacyOfficerAddress,
			Tables:  map[string]string{datamap.PlatformTable: cfg.PlatformTable, datamap.LedgerTable: cfg.LedgerTable},
			Buckets: buckets, Budget: retention.DefaultBudget},
		Now: now,
	}, nil
}

// FromEnvironment is New for a Lambda function: configuration from the environment, clients from the
// default AWS configuration of the function's role and region.
func FromEnvironment(ctx context.Context) (*System, error) {
	// Logs as the Lambda runtime wants them (JSON under LoggingConfig, each record with the
	// invocation's request id when logged with its context), and metrics as EMF lines on stdout.
	slog.SetDefault(slog.New(lambdacontext.NewLogHandler()))
	obs.SetOutput(os.Stdout)
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return nil, err
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws configuration: %w", err)
	}
	return New(cfg, Clients{DynamoDB: dynamodb.NewFromConfig(awsCfg), S3: s3.NewFromConfig(awsCfg),
		SES: sesv2.NewFromConfig(awsCfg), SFN: sfn.NewFromConfig(awsCfg)}, nil)
}

// API is the dashboard API over the services.
func (s *System) API() *api.API {
	return api.New(api.Services{Store: s.Store, Ledger: s.Ledger, Requests: s.Requests, Deletion: s.Deletion,
		Reauth: s.Reauth, Now: s.Now})
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
