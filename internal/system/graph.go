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
// (lambdas.go) asks for its handler's services; New asks for all of them.
type Graph struct {
	cfg     *config.Loader
	clients Clients
	aws     *aws.Config // when set, a missing client is made from it on first use
	now     func() time.Time
	err     error

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

// Calendar is the business calendar with the configured adjustments.
func (g *Graph) Calendar() *calendar.Calendar {
	if g.calendar == nil {
		c := g.need(config.EnvExtraHolidays, config.EnvExtraWorkdays)
		adj, err := calendar.ParseAdjustments(c.ExtraHolidays, c.ExtraWorkdays)
		if err == nil {
			g.calendar, err = calendar.New(adj)
		}
		if err != nil {
			g.err = errors.Join(g.err, err)
			g.calendar = &calendar.Calendar{}
		}
	}
	return g.calendar
}

// Store is the platform's tables.
func (g *Graph) Store() *platform.Store {
	if g.store == nil {
		c := g.need(config.EnvPlatformTable, config.EnvLedgerTable, config.EnvAnalyticsTable)
		tables := platform.Tables{datamap.PlatformTable: c.PlatformTable, datamap.LedgerTable: c.LedgerTable,
			datamap.AnalyticsTable: c.AnalyticsTable}
		g.store = platform.NewStore(g.dynamoDB(), tables, g.policy(), g.now)
	}
	return g.store
}

// Ledger is the request ledger.
func (g *Graph) Ledger() *ledger.Ledger {
	if g.ledger == nil {
		g.ledger = ledger.New(g.dynamoDB(), g.need(config.EnvLedgerTable).LedgerTable, g.policy(), g.now)
	}
	return g.ledger
}

// Engine is the erasure engine.
func (g *Graph) Engine() *erasure.Engine {
	if g.engine == nil {
		g.engine = erasure.New(g.Store(), g.dynamoDB(), g.s3(), g.buckets(), g.Ledger(), erasure.Options{Now: g.now})
	}
	return g.engine
}

// Deletion runs a request's destruction and draws up its act.
func (g *Graph) Deletion() *deletion.Service {
	if g.deletion == nil {
		g.deletion = &deletion.Service{Ledger: g.Ledger(), Engine: g.Engine(), Store: g.Store(), Now: g.now,
			Operator: g.operator()}
	}
	return g.deletion
}

// Mailer sends Lethe's mail.
func (g *Graph) Mailer() *mailer.Mailer {
	if g.mailer == nil {
		c := g.need(config.EnvSenderAddress, config.EnvInfoAddress, config.EnvPublicBaseURL)
		g.mailer = &mailer.Mailer{SES: g.ses(), From: c.SenderAddress, Info: c.InfoAddress, BaseURL: c.PublicBaseURL}
	}
	return g.mailer
}

// Starter starts the deletion workflows.
func (g *Graph) Starter() *workflow.Starter {
	if g.starter == nil {
		c := g.need(config.EnvAccountDeletionMachine, config.EnvEndUserDeletionMachine,
			config.EnvConnectionWipeMachine, config.EnvEndCustomerRequestMachine)
		g.starter = &workflow.Starter{SFN: g.sfn(), Ledger: g.Ledger(), Machines: workflow.Machines{
			AccountDeletion: c.AccountDeletionMachine, EndUserDeletion: c.EndUserDeletionMachine,
			ConnectionWipe: c.ConnectionWipeMachine, EndCustomerRequest: c.EndCustomerRequestMachine}}
	}
	return g.starter
}

// Requests takes deletion requests from every edge.
func (g *Graph) Requests() *requests.Service {
	if g.requests == nil {
		g.requests = &requests.Service{Ledger: g.Ledger(), Store: g.Store(), Starter: g.Starter(), Accounts: g.Engine(),
			Mail: g.Mailer(), Calendar: g.Calendar(), Now: g.now}
	}
	return g.requests
}

// Tasks are the workflows' task handlers.
func (g *Graph) Tasks() *workflow.Tasks {
	if g.tasks == nil {
		g.tasks = &workflow.Tasks{Ledger: g.Ledger(), Store: g.Store(), Deleter: g.Deletion(), Accounts: g.Engine(),
			Mail: g.Mailer(), Calendar: g.Calendar(), SFN: g.sfn(), PrivacyOfficer: g.privacyOfficer(), Now: g.now}
	}
	return g.tasks
}

// Reauth guards account deletion with the owner's password.
func (g *Graph) Reauth() *reauth.Guard {
	if g.reauth == nil {
		g.reauth = reauth.New(g.dynamoDB(), g.need(config.EnvLedgerTable).LedgerTable, g.policy(), g.now)
	}
	return g.reauth
}

// Intake acts on the mail the info@ mailbox receives.
func (g *Graph) Intake() *intake.Service {
	if g.intake == nil {
		c := g.need(config.EnvInboundMailBucket, config.EnvInfoAddress, config.EnvForwardAddress)
		g.intake = &intake.Service{S3: g.s3(), Bucket: c.InboundMailBucket, Ledger: g.Ledger(), Store: g.Store(),
			Requests: g.Requests(), Mail: g.Mailer(), Info: c.InfoAddress, PrivacyOfficer: g.privacyOfficer(),
			Forward: g.Mailer(), ForwardTo: c.ForwardAddress, Now: g.now}
	}
	return g.intake
}

// Webhooks serves the channels' public routes.
func (g *Graph) Webhooks() *webhooks.Service {
	if g.webhooks == nil {
		c := g.need(config.EnvMetaAppSecret, config.EnvSlackSigningSecret, config.EnvWhatsAppVerifyToken,
			config.EnvPublicBaseURL)
		g.webhooks = &webhooks.Service{Ledger: g.Ledger(), Store: g.Store(), Requests: g.Requests(),
			MetaAppSecret: c.MetaAppSecret, SlackSigningSecret: c.SlackSigningSecret,
			WhatsAppVerifyToken: c.WhatsAppVerifyToken, PublicBaseURL: c.PublicBaseURL, Now: g.now}
	}
	return g.webhooks
}

// TelegramSweep wipes the connections whose bot token Telegram refuses.
func (g *Graph) TelegramSweep() *tgsweep.Sweep {
	if g.telegramSweep == nil {
		c := g.need(config.EnvPlatformTable, config.EnvTelegramAPIBaseURL)
		g.telegramSweep = &tgsweep.Sweep{DB: g.dynamoDB(), Table: c.PlatformTable, Store: g.Store(),
			Requests: g.Requests(), Client: &tgsweep.Client{BaseURL: c.TelegramAPIBaseURL}, Now: g.now}
	}
	return g.telegramSweep
}

// SLASweep escalates missed deadlines and re-drives stalled workflows.
func (g *Graph) SLASweep() *slasweep.Sweep {
	if g.slaSweep == nil {
		g.slaSweep = &slasweep.Sweep{Ledger: g.Ledger(), Starter: g.Starter(), SFN: g.sfn(), Mail: g.Mailer(),
			PrivacyOfficer: g.privacyOfficer(), Finisher: g.Tasks(), FinalMail: g.Tasks(), Now: g.now}
	}
	return g.slaSweep
}

// RetentionSweep deletes what is past its retention, repairs missing TTLs and consumes the TTL stream.
func (g *Graph) RetentionSweep() *retention.Sweep {
	if g.retentionSweep == nil {
		c := g.need(config.EnvPlatformTable, config.EnvLedgerTable)
		g.retentionSweep = &retention.Sweep{DB: g.dynamoDB(), S3: g.s3(), Ledger: g.Ledger(), Store: g.Store(),
			Policy: g.policy(), Now: g.now, Operator: g.operator(), Mail: g.Mailer(), PrivacyOfficer: g.privacyOfficer(),
			Tables:  map[string]string{datamap.PlatformTable: c.PlatformTable, datamap.LedgerTable: c.LedgerTable},
			Buckets: g.buckets(), Budget: retention.DefaultBudget}
	}
	return g.retentionSweep
}
