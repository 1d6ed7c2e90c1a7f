package system

import (
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/lethe-dev/lethe/internal/calendar"
	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/deletion"
	"github.com/lethe-dev/lethe/internal/erasure"
	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/intake"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/mailer"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/reauth"
	"github.com/lethe-dev/lethe/internal/requests"
	"github.com/lethe-dev/lethe/internal/retention"
	"github.com/lethe-dev/lethe/internal/slasweep"
	"github.com/lethe-dev/lethe/internal/tgsweep"
	"github.com/lethe-dev/lethe/internal/webhooks"
	"github.com/lethe-dev/lethe/internal/workflow"
)

// Graph builds the services a handler asks for, each once and on first use, reading only the
// configuration that service needs and making only the AWS clients it calls. A Lambda's builder
// (lambdas.go) asks for its handler's services; New asks for all of them. Its getters are
// unexported on purpose: the linker keeps every exported method of a type when reflection looks
// methods up by name (text/template does), which would link every service into every Lambda.
type Graph struct {
	cfg     *config.Loader
	clients Clients
	aws     *aws.Config // when set, a missing client is made from it on first use
	now     func() time.Time
	err     error

	made struct { // each service once built
		calendar       *calendar.Calendar
		store          *platform.Store
		ledger         *ledger.Ledger
		engine         *erasure.Engine
		deletion       *deletion.Service
		mailer         *mailer.Mailer
		starter        *workflow.Starter
		requests       *requests.Service
		tasks          *workflow.Tasks
		reauth         *reauth.Guard
		intake         *intake.Service
		webhooks       *webhooks.Service
		telegramSweep  *tgsweep.Sweep
		slaSweep       *slasweep.Sweep
		retentionSweep *retention.Sweep
	}
}

// NewGraph is a Graph reading its configuration through l, with the given clients (nil ones stay
// nil), at the clock now (time.Now when nil). Tests run a Lambda's builder on it to see what the
// builder reads.
func NewGraph(l *config.Loader, c Clients, now func() time.Time) *Graph {
	return newGraph(l, c, nil, now)
}

func newGraph(l *config.Loader, c Clients, awsCfg *aws.Config, now func() time.Time) *Graph {
	if now == nil {
		now = time.Now
	}
	return &Graph{cfg: l, clients: c, aws: awsCfg, now: now}
}

// Err is what went wrong building the services asked for so far: missing or malformed
// configuration, each missing variable named.
func (g *Graph) Err() error { return errors.Join(g.cfg.Err(), g.err) }

func (g *Graph) need(names ...string) config.Config { return g.cfg.Need(names...) }

func (g *Graph) dynamoDB() *dynamodb.Client {
	if g.clients.DynamoDB == nil && g.aws != nil {
		g.clients.DynamoDB = dynamodb.NewFromConfig(*g.aws)
	}
	return g.clients.DynamoDB
}

func (g *Graph) s3() *s3.Client {
	if g.clients.S3 == nil && g.aws != nil {
		g.clients.S3 = s3.NewFromConfig(*g.aws)
	}
	return g.clients.S3
}

func (g *Graph) ses() mailer.SESv2 {
	if g.clients.SES == nil && g.aws != nil {
		g.clients.SES = sesv2.NewFromConfig(*g.aws)
	}
	return g.clients.SES
}

func (g *Graph) sfn() workflow.Client {
	if g.clients.SFN == nil && g.aws != nil {
		g.clients.SFN = sfn.NewFromConfig(*g.aws)
	}
	return g.clients.SFN
}

func (g *Graph) policy() datamap.Policy { return g.need(config.EnvTTLSafetyMargin).Policy() }

func (g *Graph) privacyOfficer() string {
	return g.need(config.EnvPrivacyOfficerAddress).PrivacyOfficerAddress
}

func (g *Graph) buckets() map[string]string {
	return map[string]string{datamap.FilesBucket: g.need(config.EnvFilesBucket).FilesBucket}
}

func (g *Graph) operator() evidence.Operator {
	c := g.need(config.EnvOperatorName, config.EnvOperatorAddress, config.EnvOperatorINN,
		config.EnvOperatorNameEN, config.EnvOperatorAddressEN)
	return evidence.Operator{Name: c.OperatorName, Address: c.OperatorAddress, INN: c.OperatorINN,
		NameEN: c.OperatorNameEN, AddressEN: c.OperatorAddressEN}
}

// calendar is the business calendar with the configured adjustments.
func (g *Graph) calendar() *calendar.Calendar {
	if g.made.calendar == nil {
		c := g.need(config.EnvExtraHolidays, config.EnvExtraWorkdays)
		adj, err := calendar.ParseAdjustments(c.ExtraHolidays, c.ExtraWorkdays)
		if err == nil {
			g.made.calendar, err = calendar.New(adj)
		}
		if err != nil {
			g.err = errors.Join(g.err, err)
			g.made.calendar = &calendar.Calendar{}
		}
	}
	return g.made.calendar
}

// store is the platform's tables.
func (g *Graph) store() *platform.Store {
	if g.made.store == nil {
		c := g.need(config.EnvPlatformTable, config.EnvLedgerTable, config.EnvAnalyticsTable)
		tables := platform.Tables{datamap.PlatformTable: c.PlatformTable, datamap.LedgerTable: c.LedgerTable,
			datamap.AnalyticsTable: c.AnalyticsTable}
		g.made.store = platform.NewStore(g.dynamoDB(), tables, g.policy(), g.now)
	}
	return g.made.store
}

// ledger is the request ledger.
func (g *Graph) ledger() *ledger.Ledger {
	if g.made.ledger == nil {
		g.made.ledger = ledger.New(g.dynamoDB(), g.need(config.EnvLedgerTable).LedgerTable, g.policy(), g.now)
	}
	return g.made.ledger
}

// engine is the erasure engine.
func (g *Graph) engine() *erasure.Engine {
	if g.made.engine == nil {
		g.made.engine = erasure.New(g.store(), g.dynamoDB(), g.s3(), g.buckets(), g.ledger(), erasure.Options{Now: g.now})
	}
	return g.made.engine
}

// deletion runs a request's destruction and draws up its act.
func (g *Graph) deletion() *deletion.Service {
	if g.made.deletion == nil {
		g.made.deletion = &deletion.Service{Ledger: g.ledger(), Engine: g.engine(), Store: g.store(), Now: g.now,
			Operator: g.operator()}
	}
	return g.made.deletion
}

// mailer sends Lethe's mail.
func (g *Graph) mailer() *mailer.Mailer {
	if g.made.mailer == nil {
		c := g.need(config.EnvSenderAddress, config.EnvInfoAddress, config.EnvPublicBaseURL)
		g.made.mailer = &mailer.Mailer{SES: g.ses(), From: c.SenderAddress, Info: c.InfoAddress, BaseURL: c.PublicBaseURL}
	}
	return g.made.mailer
}

// starter starts the deletion workflows.
func (g *Graph) starter() *workflow.Starter {
	if g.made.starter == nil {
		c := g.need(config.EnvAccountDeletionMachine, config.EnvEndUserDeletionMachine,
			config.EnvConnectionWipeMachine, config.EnvEndCustomerRequestMachine)
		g.made.starter = &workflow.Starter{SFN: g.sfn(), Ledger: g.ledger(), Machines: workflow.Machines{
			AccountDeletion: c.AccountDeletionMachine, EndUserDeletion: c.EndUserDeletionMachine,
			ConnectionWipe: c.ConnectionWipeMachine, EndCustomerRequest: c.EndCustomerRequestMachine}}
	}
	return g.made.starter
}

// requests takes deletion requests from every edge.
func (g *Graph) requests() *requests.Service {
	if g.made.requests == nil {
		g.made.requests = &requests.Service{Ledger: g.ledger(), Store: g.store(), Starter: g.starter(), Accounts: g.engine(),
			Mail: g.mailer(), Calendar: g.calendar(), Now: g.now}
	}
	return g.made.requests
}

// tasks are the workflows' task handlers.
func (g *Graph) tasks() *workflow.Tasks {
	if g.made.tasks == nil {
		g.made.tasks = &workflow.Tasks{Ledger: g.ledger(), Store: g.store(), Deleter: g.deletion(), Accounts: g.engine(),
			Mail: g.mailer(), Calendar: g.calendar(), SFN: g.sfn(), PrivacyOfficer: g.privacyOfficer(), Now: g.now}
	}
	return g.made.tasks
}

// reauth guards account deletion with the owner's password.
func (g *Graph) reauth() *reauth.Guard {
	if g.made.reauth == nil {
		g.made.reauth = reauth.New(g.dynamoDB(), g.need(config.EnvLedgerTable).LedgerTable, g.policy(), g.now)
	}
	return g.made.reauth
}

// intake acts on the mail the info@ mailbox receives.
func (g *Graph) intake() *intake.Service {
	if g.made.intake == nil {
		c := g.need(config.EnvInboundMailBucket, config.EnvInfoAddress, config.EnvForwardAddress)
		g.made.intake = &intake.Service{S3: g.s3(), Bucket: c.InboundMailBucket, Ledger: g.ledger(), Store: g.store(),
			Requests: g.requests(), Mail: g.mailer(), Info: c.InfoAddress, PrivacyOfficer: g.privacyOfficer(),
			Forward: g.mailer(), ForwardTo: c.ForwardAddress, Now: g.now}
	}
	return g.made.intake
}

// webhooks serves the channels' public routes.
func (g *Graph) webhooks() *webhooks.Service {
	if g.made.webhooks == nil {
		c := g.need(config.EnvMetaAppSecret, config.EnvSlackSigningSecret, config.EnvWhatsAppVerifyToken,
			config.EnvPublicBaseURL)
		g.made.webhooks = &webhooks.Service{Ledger: g.ledger(), Store: g.store(), Requests: g.requests(),
			MetaAppSecret: c.MetaAppSecret, SlackSigningSecret: c.SlackSigningSecret,
			WhatsAppVerifyToken: c.WhatsAppVerifyToken, PublicBaseURL: c.PublicBaseURL, Now: g.now}
	}
	return g.made.webhooks
}

// telegramSweep wipes the connections whose bot token Telegram refuses.
func (g *Graph) telegramSweep() *tgsweep.Sweep {
	if g.made.telegramSweep == nil {
		c := g.need(config.EnvPlatformTable, config.EnvTelegramAPIBaseURL)
		g.made.telegramSweep = &tgsweep.Sweep{DB: g.dynamoDB(), Table: c.PlatformTable, Store: g.store(),
			Requests: g.requests(), Client: &tgsweep.Client{BaseURL: c.TelegramAPIBaseURL}, Now: g.now}
	}
	return g.made.telegramSweep
}

// slaSweep escalates missed deadlines and re-drives stalled workflows.
func (g *Graph) slaSweep() *slasweep.Sweep {
	if g.made.slaSweep == nil {
		g.made.slaSweep = &slasweep.Sweep{Ledger: g.ledger(), Starter: g.starter(), SFN: g.sfn(), Mail: g.mailer(),
			PrivacyOfficer: g.privacyOfficer(), Finisher: g.tasks(), FinalMail: g.tasks(), Now: g.now}
	}
	return g.made.slaSweep
}

// retentionSweep deletes what is past its retention, repairs missing TTLs and consumes the TTL stream.
func (g *Graph) retentionSweep() *retention.Sweep {
	if g.made.retentionSweep == nil {
		c := g.need(config.EnvPlatformTable, config.EnvLedgerTable)
		g.made.retentionSweep = &retention.Sweep{DB: g.dynamoDB(), S3: g.s3(), Ledger: g.ledger(), Store: g.store(),
			Policy: g.policy(), Now: g.now, Operator: g.operator(), Mail: g.mailer(), PrivacyOfficer: g.privacyOfficer(),
			Tables:  map[string]string{datamap.PlatformTable: c.PlatformTable, datamap.LedgerTable: c.LedgerTable},
			Buckets: g.buckets(), Budget: retention.DefaultBudget}
	}
	return g.made.retentionSweep
}
