// Package slaedge builds the deadline sweep's Lambda (functions/sla-sweep) on the shared services
// of internal/system/wiring, linking no other edge (see internal/system/apiedge).
package slaedge

import (
	"context"
	"encoding/json"

	"github.com/lethe-dev/lethe/internal/slasweep"
	"github.com/lethe-dev/lethe/internal/system/wiring"
)

// SLASweep is the hourly deadline sweep (functions/sla-sweep).
func SLASweep(g *wiring.Graph) func(context.Context, json.RawMessage) (slasweep.Report, error) {
	return Sweep(g).Handle
}

// Sweep escalates missed deadlines and re-drives stalled workflows.
func Sweep(g *wiring.Graph) *slasweep.Sweep {
	return &slasweep.Sweep{Ledger: g.Ledger(), Starter: g.Starter(), SFN: g.SFN(), Mail: g.Mailer(),
		PrivacyOfficer: g.PrivacyOfficer(), Finisher: g.FinalMailTasks(), FinalMail: g.FinalMailTasks(), Now: g.Now()}
}
