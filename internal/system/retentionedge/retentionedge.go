// Package retentionedge builds the retention Lambdas (functions/retention-sweep and
// functions/retention-stream) on the shared services of internal/system/wiring, linking no other
// edge (see internal/system/apiedge).
package retentionedge

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/retention"
	"github.com/lethe-dev/lethe/internal/system/wiring"
)

// RetentionStream consumes what DynamoDB's TTL removed (functions/retention-stream).
func RetentionStream(g *wiring.Graph) func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	return Sweep(g).HandleStream
}

// RetentionSweep is the daily retention sweep (functions/retention-sweep).
func RetentionSweep(g *wiring.Graph) func(context.Context, json.RawMessage) (retention.Result, error) {
	return Sweep(g).Handle
}

// Sweep deletes what is past its retention, repairs missing TTLs and consumes the TTL stream.
func Sweep(g *wiring.Graph) *retention.Sweep {
	c := g.Need(config.EnvPlatformTable, config.EnvLedgerTable)
	return &retention.Sweep{DB: g.DynamoDB(), S3: g.S3(), Ledger: g.Ledger(), Store: g.Store(),
		Policy: g.Policy(), Now: g.Now(), Operator: g.Operator(), Mail: g.Mailer(), PrivacyOfficer: g.PrivacyOfficer(),
		Tables:  map[string]string{datamap.PlatformTable: c.PlatformTable, datamap.LedgerTable: c.LedgerTable},
		Buckets: g.Buckets(), Budget: retention.DefaultBudget}
}
