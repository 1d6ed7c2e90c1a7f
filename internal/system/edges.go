package system

import (
	"github.com/lethe-dev/lethe/internal/api"
	"github.com/lethe-dev/lethe/internal/chsweep"
	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/console"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/holds"
	"github.com/lethe-dev/lethe/internal/intake"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/retention"
	"github.com/lethe-dev/lethe/internal/slasweep"
	"github.com/lethe-dev/lethe/internal/system/wiring"
	"github.com/lethe-dev/lethe/internal/verification"
	"github.com/lethe-dev/lethe/internal/webhooks"
)

// The edge services, each built over the Graph's shared services and the configuration it reads
// itself. A Lambda serves one edge, so each is built once without memoizing (New builds the
// retention sweep once for both of its handlers).

// apiOf is the dashboard API over the services it uses.
func apiOf(g *wiring.Graph) *api.API {
	c := g.Need(config.EnvOpsGroupClaim, config.EnvOpsGroup, config.EnvConsoleOIDCAuthorizeURL, config.EnvConsoleOIDCTokenURL,
		config.EnvConsoleOIDCClientID, config.EnvConsoleOIDCScope, config.EnvConsoleDemoSignIn)
	return api.New(api.Services{Store: g.Store(), Ledger: g.Ledger(), Requests: g.Requests(), Deletion: g.Deletion(),
		Holds: holdsOf(g), ActLinks: g.ActLinks(), Reauth: g.Reauth(), Now: g.Now(), Ops: api.OpsAccess{Claim: c.OpsGroupClaim, Group: c.OpsGroup},
		Console: consoleOf(c), Calendar: g.Calendar(), Verification: verificationOf(g, true)})
}

// verificationOf sends (send) and checks the one-time codes that prove an end customer controls a
// chat, keyed by VERIFICATION_SECRET: the API sends them through the channels' APIs; the
// channel-webhook function, where the status page takes them, only checks them and speaks to no
// channel.
func verificationOf(g *wiring.Graph, send bool) *verification.Service {
	c := g.Need(config.EnvVerificationSecret, config.EnvLedgerTable)
	v := &verification.Service{Ledger: g.Ledger(), Store: g.Store(), Secret: []byte(c.VerificationSecret), Now: g.Now(),
		Tries: ledger.NewCodeTries(g.DynamoDB(), c.LedgerTable, g.Policy())}
	if send {
		v.Channels = g.ChannelAPI()
	}
	return v
}

// holdsOf places and releases legal holds: the TTL of what a hold covers is settled by the
// retention sweep's batches (within the call's time; the sweep continues the rest), and the
// requests a release resumes are handed to their workflows.
func holdsOf(g *wiring.Graph) *holds.Service {
	c := g.Need(config.EnvPlatformTable, config.EnvLedgerTable)
	ttl := &retention.Sweep{DB: g.DynamoDB(), S3: g.S3(), Ledger: g.Ledger(), Store: g.Store(), Policy: g.Policy(), Now: g.Now(),
		Tables:  map[string]string{datamap.PlatformTable: c.PlatformTable, datamap.LedgerTable: c.LedgerTable},
		Buckets: g.Buckets()}
	return &holds.Service{Ledger: g.Ledger(), Store: g.Store(), TTL: ttl, Workflows: g.Starter(), Now: g.Now()}
}

// consoleOf is how the web console signs people in, from the configuration.
func consoleOf(c config.Config) console.Config {
	return console.Config{AuthorizeURL: c.ConsoleOIDCAuthorizeURL, TokenURL: c.ConsoleOIDCTokenURL,
		ClientID: c.ConsoleOIDCClientID, Scope: c.ConsoleOIDCScope, Demo: c.ConsoleDemoSignIn}
}

// intakeOf acts on the mail the info@ mailbox receives.
func intakeOf(g *wiring.Graph) *intake.Service {
	c := g.Need(config.EnvInboundMailBucket, config.EnvInfoAddress, config.EnvForwardAddress)
	return &intake.Service{S3: g.S3(), Bucket: c.InboundMailBucket, Ledger: g.Ledger(), Store: g.Store(),
		Requests: g.Requests(), Mail: g.Mailer(), Info: c.InfoAddress, PrivacyOfficer: g.PrivacyOfficer(),
		Forward: g.Mailer(), ForwardTo: c.ForwardAddress, Now: g.Now()}
}

// webhooksOf serves the channels' public routes.
func webhooksOf(g *wiring.Graph) *webhooks.Service {
	c := g.Need(config.EnvMetaAppSecret, config.EnvSlackSigningSecret, config.EnvWhatsAppVerifyToken,
		config.EnvPublicBaseURL)
	return &webhooks.Service{Ledger: g.Ledger(), Store: g.Store(), Requests: g.Requests(),
		MetaAppSecret: c.MetaAppSecret, SlackSigningSecret: c.SlackSigningSecret,
		WhatsAppVerifyToken: c.WhatsAppVerifyToken, PublicBaseURL: c.PublicBaseURL, Now: g.Now(),
		Verification: verificationOf(g, false)}
}

// channelSweepOf wipes the connections whose credential their channel refused twice.
func channelSweepOf(g *wiring.Graph) *chsweep.Sweep {
	c := g.Need(config.EnvPlatformTable, config.EnvLedgerTable)
	return &chsweep.Sweep{DB: g.DynamoDB(), Checks: ledger.NewConnChecks(g.DynamoDB(), c.LedgerTable, g.Policy(), g.Now()), Store: g.Store(),
		Requests: g.Requests(), Client: g.ChannelAPI(), Now: g.Now()}
}

// slaSweepOf escalates missed deadlines and re-drives stalled workflows.
func slaSweepOf(g *wiring.Graph) *slasweep.Sweep {
	return &slasweep.Sweep{Ledger: g.Ledger(), Starter: g.Starter(), SFN: g.SFN(), Mail: g.Mailer(),
		PrivacyOfficer: g.PrivacyOfficer(), Finisher: g.FinalMailTasks(), FinalMail: g.FinalMailTasks(), Now: g.Now()}
}

// retentionSweepOf deletes what is past its retention, repairs missing TTLs and consumes the TTL
// stream.
func retentionSweepOf(g *wiring.Graph) *retention.Sweep {
	c := g.Need(config.EnvPlatformTable, config.EnvLedgerTable)
	return &retention.Sweep{DB: g.DynamoDB(), S3: g.S3(), Ledger: g.Ledger(), Store: g.Store(),
		Policy: g.Policy(), Now: g.Now(), Operator: g.Operator(), Mail: g.Mailer(), PrivacyOfficer: g.PrivacyOfficer(),
		Tables:  map[string]string{datamap.PlatformTable: c.PlatformTable, datamap.LedgerTable: c.LedgerTable},
		Buckets: g.Buckets(), Budget: retention.DefaultBudget}
}
