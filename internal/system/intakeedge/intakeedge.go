// Package intakeedge builds the inbound-email Lambda (functions/inbound-email), which acts on the
// mail sent to info@, on the shared services of internal/system/wiring. It alone links the intake
// and its mail parsing and phone-number metadata (see internal/system/apiedge).
package intakeedge

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/intake"
	"github.com/lethe-dev/lethe/internal/system/wiring"
)

// InboundEmail acts on the mail sent to info@ (functions/inbound-email).
func InboundEmail(g *wiring.Graph) func(context.Context, events.SimpleEmailEvent) error {
	return Intake(g).Handle
}

// Intake acts on the mail the info@ mailbox receives.
func Intake(g *wiring.Graph) *intake.Service {
	c := g.Need(config.EnvInboundMailBucket, config.EnvInfoAddress, config.EnvForwardAddress)
	return &intake.Service{S3: g.S3(), Bucket: c.InboundMailBucket, Ledger: g.Ledger(), Store: g.Store(),
		Requests: g.Requests(), Mail: g.Mailer(), Info: c.InfoAddress, PrivacyOfficer: g.PrivacyOfficer(),
		Forward: g.Mailer(), ForwardTo: c.ForwardAddress, Now: g.Now()}
}
