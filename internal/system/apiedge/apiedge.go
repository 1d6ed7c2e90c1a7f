// Package apiedge builds the dashboard API's Lambda (functions/api) on the shared services of
// internal/system/wiring. Each edge's builder lives in a package of its own so that a Lambda links
// only its own edge: Go runs the package initialisation of everything a binary links at every cold
// start, whether the handler uses it or not (the intake's phone-number metadata alone took 11 ms).
package apiedge

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lethe-dev/lethe/internal/api"
	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/console"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/holds"
	"github.com/lethe-dev/lethe/internal/retention"
	"github.com/lethe-dev/lethe/internal/system/wiring"
)

// API is the dashboard API (functions/api).
func API(g *wiring.Graph) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return apiOf(g).Handle
}

// apiOf is the dashboard API over the services it uses.
func apiOf(g *wiring.Graph) *api.API {
	c := g.Need(config.EnvOpsGroupClaim, config.EnvOpsGroup, config.EnvConsoleOIDCAuthorizeURL, config.EnvConsoleOIDCTokenURL,
		config.EnvConsoleOIDCClientID, config.EnvConsoleOIDCScope, config.EnvConsoleDemoSignIn)
	return api.New(api.Services{Store: g.Store(), Ledger: g.Ledger(), Requests: g.Requests(), Deletion: g.Deletion(),
		Holds: Holds(g), ActLinks: g.ActLinks(), Reauth: g.Reauth(), Now: g.Now(), Ops: api.OpsAccess{Claim: c.OpsGroupClaim, Group: c.OpsGroup},
		Console: Console(c), Calendar: g.Calendar(), Verification: g.Verification(true)})
}

// Holds places and releases legal holds: the TTL of what a hold covers is settled by the
// retention sweep's batches (within the call's time; the sweep continues the rest), and the
// requests a release resumes are handed to their workflows.
func Holds(g *wiring.Graph) *holds.Service {
	c := g.Need(config.EnvPlatformTable, config.EnvLedgerTable)
	ttl := &retention.Sweep{DB: g.DynamoDB(), S3: g.S3(), Ledger: g.Ledger(), Store: g.Store(), Policy: g.Policy(), Now: g.Now(),
		Tables:  map[string]string{datamap.PlatformTable: c.PlatformTable, datamap.LedgerTable: c.LedgerTable},
		Buckets: g.Buckets()}
	return &holds.Service{Ledger: g.Ledger(), Store: g.Store(), TTL: ttl, Workflows: g.Starter(), Now: g.Now()}
}

// Console is how the web console signs people in, from the configuration.
func Console(c config.Config) console.Config {
	return console.Config{AuthorizeURL: c.ConsoleOIDCAuthorizeURL, TokenURL: c.ConsoleOIDCTokenURL,
		ClientID: c.ConsoleOIDCClientID, Scope: c.ConsoleOIDCScope, Demo: c.ConsoleDemoSignIn}
}
