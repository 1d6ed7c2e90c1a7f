// Package wiring builds the services every Lethe Lambda shares — the stores, the erasure engine,
// mail, the workflow starter and tasks — lazily, each once, reading only the configuration each
// needs. The workflow task functions build through it alone, so they link none of the edge
// packages (api, webhooks, intake, the sweeps); internal/system builds the edges on top of it.
package wiring

import (
	"context"
	"errors"
	"fmt"
	"github.com/lethe-dev/lethe/internal/chanapi"
	"log/slog"
	"net"
	"net/url"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/lethe-dev/lethe/internal/calendar"
	"github.com/lethe-dev/lethe/internal/capmeter"
	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/deletion"
	"github.com/lethe-dev/lethe/internal/erasure"
	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/mailer"
	"github.com/lethe-dev/lethe/internal/obs"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/reauth"
	"github.com/lethe-dev/lethe/internal/requests"
	"github.com/lethe-dev/lethe/internal/system/awsenv"
	"github.com/lethe-dev/lethe/internal/verification"
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

// FromEnvironment is the Graph of a Lambda function: configuration from the environment, read only
// as far as the function's builder asks for it, and AWS clients from the region, role credentials
// and endpoints the Lambda runtime puts in the environment (internal/system/awsenv, built by hand:
// config.LoadDefaultConfig would link and initialise STS, SSO and the shared-config machinery in
// every function), made only for the services that use them. After the builder, the Graph's Err
// says whether the function may start.
func FromEnvironment(_ context.Context) *Graph {
	// Logs as the Lambda runtime wants them (JSON under LoggingConfig, each record with the
	// invocation's request id when logged with its context), and metrics as EMF lines on stdout.
	slog.SetDefault(slog.New(lambdacontext.NewLogHandler()))
	obs.SetOutput(os.Stdout)
	now, clockErr := localClock(os.Getenv)
	awsCfg, err := awsenv.Config(os.Getenv)
	g := ForAWS(config.NewLoader(os.Getenv), awsCfg, Clients{}, now)
	g.err = errors.Join(clockErr, err)
	return g
}

// ForAWS is a Graph whose missing clients (nil in c) are made from cfg on first use, as a Lambda's
// are; tests point cfg at the local emulators to exercise the clients a function really makes.
func ForAWS(l *config.Loader, cfg aws.Config, c Clients, now func() time.Time) *Graph {
	return newGraph(l, c, &cfg, now)
}

// EnvLocalClockOffset shifts a function's clock by a Go duration ("720h0m0.5s"). Only the local run
// sets it (LETHE_LAMBDA_RUNTIME=rie), so that a binary under the emulator reads the virtual clock
// of the local workflows (POST /_local/clock/advance) as the in-process handlers do. It is refused
// unless the function's DynamoDB client is pointed at a loopback address (AWS_ENDPOINT_URL_DYNAMODB,
// which a deployed function never has), so no deployed function can run on a shifted clock.
const EnvLocalClockOffset = "LETHE_LOCAL_CLOCK_OFFSET"

// localClock is the clock EnvLocalClockOffset asks for: nil (time.Now) when it is unset.
func localClock(getenv func(string) string) (func() time.Time, error) {
	v := getenv(EnvLocalClockOffset)
	if v == "" {
		return nil, nil
	}
	off, err := time.ParseDuration(v)
	if err != nil {
		return nil, fmt.Errorf("%s=%q: %w", EnvLocalClockOffset, v, err)
	}
	u, err := url.Parse(getenv("AWS_ENDPOINT_URL_DYNAMODB"))
	if ip := net.ParseIP(u.Hostname()); err != nil || (u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback())) {
		return nil, fmt.Errorf("%s is set, but DynamoDB is not a local emulator (AWS_ENDPOINT_URL_DYNAMODB is not a loopback address): a deployed function never runs on a shifted clock", EnvLocalClockOffset)
	}
	return func() time.Time { return time.Now().Add(off) }, nil
}

// Graph builds the services a handler asks for, each once and on first use, reading only the
// configuration that service needs and making only the AWS clients it calls. A Lambda's builder
// (tasks.go here, internal/system for the edges) asks for its handler's services; system.New asks
// for all of them. No generic function is instantiated over *Graph: that would make its type
// reachable through interfaces, and with text/template's MethodByName in every binary the linker
// would then keep every exported method of every service it holds.
type Graph struct {
	cfg     *config.Loader
	clients Clients
	aws     *aws.Config // when set, a missing client is made from it on first use
	now     func() time.Time
	err     error

	made struct { // each service once built
		calendar *calendar.Calendar
		store    *platform.Store
		ledger   *ledger.Ledger
		engine   *erasure.Engine
		deletion *deletion.Service
		mailer   *mailer.Mailer
		starter  *workflow.Starter
		requests *requests.Service
		tasks    *workflow.Tasks
		reauth   *reauth.Guard
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

// Need reads the named variables (those not read yet) and returns the configuration read so far.
func (g *Graph) Need(names ...string) config.Config { return g.cfg.Need(names...) }

// Now is the clock every service reads.
func (g *Graph) Now() func() time.Time { return g.now }

// DynamoDB is the DynamoDB client, made on first use.
func (g *Graph) DynamoDB() *dynamodb.Client {
	if g.clients.DynamoDB == nil && g.aws != nil {
		// capmeter.Ask: every call asks DynamoDB for the capacity it consumed, so each run's log line
		// and metrics can say what AWS charged (issue 19 §3).
		g.clients.DynamoDB = dynamodb.NewFromConfig(*g.aws, capmeter.Ask)
	}
	return g.clients.DynamoDB
}

// S3 is the S3 client, made on first use.
func (g *Graph) S3() *s3.Client {
	if g.clients.S3 == nil && g.aws != nil {
		g.clients.S3 = s3.NewFromConfig(*g.aws)
	}
	return g.clients.S3
}

// SES is the SES v2 client, made on first use.
func (g *Graph) SES() mailer.SESv2 {
	if g.clients.SES == nil && g.aws != nil {
		g.clients.SES = sesv2.NewFromConfig(*g.aws)
	}
	return g.clients.SES
}

// SFN is the Step Functions client, made on first use.
func (g *Graph) SFN() workflow.Client {
	if g.clients.SFN == nil && g.aws != nil {
		g.clients.SFN = sfn.NewFromConfig(*g.aws)
	}
	return g.clients.SFN
}

// Policy is the retention policy.
func (g *Graph) Policy() datamap.Policy { return g.Need(config.EnvTTLSafetyMargin).Policy() }

// PrivacyOfficer is the privacy officer's address.
func (g *Graph) PrivacyOfficer() string {
	return g.Need(config.EnvPrivacyOfficerAddress).PrivacyOfficerAddress
}

// Buckets are the S3 buckets by logical id.
func (g *Graph) Buckets() map[string]string {
	return map[string]string{datamap.FilesBucket: g.Need(config.EnvFilesBucket).FilesBucket}
}

// Operator is the personal-data operator named in acts.
func (g *Graph) Operator() evidence.Operator {
	c := g.Need(config.EnvOperatorName, config.EnvOperatorAddress, config.EnvOperatorINN,
		config.EnvOperatorNameEN, config.EnvOperatorAddressEN)
	return evidence.Operator{Name: c.OperatorName, Address: c.OperatorAddress, INN: c.OperatorINN,
		NameEN: c.OperatorNameEN, AddressEN: c.OperatorAddressEN}
}

// Calendar is the business calendar with the configured adjustments.
func (g *Graph) Calendar() *calendar.Calendar {
	if g.made.calendar == nil {
		c := g.Need(config.EnvExtraHolidays, config.EnvExtraWorkdays)
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

// Store is the platform's tables.
func (g *Graph) Store() *platform.Store {
	if g.made.store == nil {
		c := g.Need(config.EnvPlatformTable, config.EnvLedgerTable, config.EnvAnalyticsTable)
		tables := platform.Tables{datamap.PlatformTable: c.PlatformTable, datamap.LedgerTable: c.LedgerTable,
			datamap.AnalyticsTable: c.AnalyticsTable}
		g.made.store = platform.NewStore(g.DynamoDB(), tables, g.Policy(), g.now)
	}
	return g.made.store
}

// Ledger is the request ledger.
func (g *Graph) Ledger() *ledger.Ledger {
	if g.made.ledger == nil {
		g.made.ledger = ledger.New(g.DynamoDB(), g.Need(config.EnvLedgerTable).LedgerTable, g.Policy(), g.now)
	}
	return g.made.ledger
}

// Engine is the erasure engine.
func (g *Graph) Engine() *erasure.Engine {
	if g.made.engine == nil {
		g.made.engine = erasure.New(g.Store(), g.DynamoDB(), g.S3(), g.Buckets(), g.Ledger(), erasure.Options{Now: g.now})
	}
	return g.made.engine
}

// Deletion runs a request's destruction and draws up its act.
func (g *Graph) Deletion() *deletion.Service {
	if g.made.deletion == nil {
		g.made.deletion = &deletion.Service{Ledger: g.Ledger(), Engine: g.Engine(), Store: g.Store(), Now: g.now,
			Operator: g.Operator()}
	}
	return g.made.deletion
}

// Mailer sends Lethe's mail.
func (g *Graph) Mailer() *mailer.Mailer {
	if g.made.mailer == nil {
		c := g.Need(config.EnvSenderAddress, config.EnvInfoAddress, config.EnvPublicBaseURL)
		g.made.mailer = &mailer.Mailer{SES: g.SES(), From: c.SenderAddress, Info: c.InfoAddress, BaseURL: c.PublicBaseURL}
	}
	return g.made.mailer
}

// Starter starts the deletion workflows.
func (g *Graph) Starter() *workflow.Starter {
	if g.made.starter == nil {
		c := g.Need(config.EnvAccountDeletionMachine, config.EnvEndUserDeletionMachine,
			config.EnvConnectionWipeMachine, config.EnvEndCustomerRequestMachine)
		g.made.starter = &workflow.Starter{SFN: g.SFN(), Ledger: g.Ledger(), Machines: workflow.Machines{
			AccountDeletion: c.AccountDeletionMachine, EndUserDeletion: c.EndUserDeletionMachine,
			ConnectionWipe: c.ConnectionWipeMachine, EndCustomerRequest: c.EndCustomerRequestMachine}}
	}
	return g.made.starter
}

// Requests takes deletion requests from every edge.
func (g *Graph) Requests() *requests.Service {
	if g.made.requests == nil {
		g.made.requests = &requests.Service{Ledger: g.Ledger(), Store: g.Store(), Starter: g.Starter(), Accounts: g.Engine(),
			Mail: g.Mailer(), Calendar: g.Calendar(), Now: g.now}
	}
	return g.made.requests
}

// Tasks are the workflows' task handlers.
func (g *Graph) Tasks() *workflow.Tasks {
	if g.made.tasks == nil {
		g.made.tasks = &workflow.Tasks{Ledger: g.Ledger(), Store: g.Store(), Deleter: g.Deletion(), Accounts: g.Engine(),
			Mail: g.Mailer(), Calendar: g.Calendar(), SFN: g.SFN(), PrivacyOfficer: g.PrivacyOfficer(), Now: g.now}
	}
	return g.made.tasks
}

// ActLinks signs and checks the public links to an act of destruction (ACT_LINK_SECRET): asked
// for only by the functions that sign them (the final mail) and the API that checks them.
func (g *Graph) ActLinks() evidence.ActLinks {
	return evidence.ActLinks{Secret: []byte(g.Need(config.EnvActLinkSecret).ActLinkSecret)}
}

// ChannelAPI speaks to the messaging channels' own APIs (internal/chanapi) at the configured base
// URLs: asked for only by the functions that check connections or send one-time codes.
func (g *Graph) ChannelAPI() chanapi.Client {
	c := g.Need(config.EnvTelegramAPIBaseURL, config.EnvMetaGraphBaseURL, config.EnvSlackAPIBaseURL,
		config.EnvVKAPIBaseURL, config.EnvViberAPIBaseURL)
	return chanapi.New(chanapi.Endpoints{Telegram: c.TelegramAPIBaseURL, MetaGraph: c.MetaGraphBaseURL,
		Slack: c.SlackAPIBaseURL, VK: c.VKAPIBaseURL, Viber: c.ViberAPIBaseURL}, nil)
}

// FinalMailTasks are the workflow tasks of a function that sends the final mail with the act
// (finish-request, the SLA sweep): the shared Tasks, signing the act's public link.
func (g *Graph) FinalMailTasks() *workflow.Tasks {
	t := g.Tasks()
	t.ActLinks = g.ActLinks()
	return t
}

// Reauth guards account deletion with the owner's password.
func (g *Graph) Reauth() *reauth.Guard {
	if g.made.reauth == nil {
		g.made.reauth = reauth.New(g.DynamoDB(), g.Need(config.EnvLedgerTable).LedgerTable, g.Policy(), g.now)
	}
	return g.made.reauth
}

// Verification sends (sendCodes) and checks the one-time codes that prove an end customer controls
// a chat, keyed by VERIFICATION_SECRET: the API sends them through the channels' APIs; the
// channel-webhook function, where the status page takes them, only checks them and speaks to no
// channel. Not memoized: the two differ, and a Lambda asks once.
func (g *Graph) Verification(sendCodes bool) *verification.Service {
	c := g.Need(config.EnvVerificationSecret, config.EnvLedgerTable)
	v := &verification.Service{Ledger: g.Ledger(), Store: g.Store(), Secret: []byte(c.VerificationSecret), Now: g.now,
		Tries: ledger.NewCodeTries(g.DynamoDB(), c.LedgerTable, g.Policy())}
	if sendCodes {
		v.Channels = g.ChannelAPI()
	}
	return v
}
