// Package chsweepedge builds the connection-health sweep's Lambda (functions/channel-sweep) on the
// shared services of internal/system/wiring, linking no other edge (see internal/system/apiedge).
package chsweepedge

import (
	"context"
	"encoding/json"

	"github.com/lethe-dev/lethe/internal/chsweep"
	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/system/wiring"
)

// ChannelSweep is the hourly connection-health sweep (functions/channel-sweep).
func ChannelSweep(g *wiring.Graph) func(context.Context, json.RawMessage) (chsweep.Report, error) {
	return Sweep(g).Handle
}

// Sweep wipes the connections whose credential their channel refused twice.
func Sweep(g *wiring.Graph) *chsweep.Sweep {
	c := g.Need(config.EnvPlatformTable, config.EnvLedgerTable)
	return &chsweep.Sweep{DB: g.DynamoDB(), Checks: ledger.NewConnChecks(g.DynamoDB(), c.LedgerTable, g.Policy(), g.Now()), Store: g.Store(),
		Requests: g.Requests(), Client: g.ChannelAPI(), Now: g.Now()}
}
