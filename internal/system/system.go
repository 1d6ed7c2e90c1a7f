// Package system assembles every service for the local run and the tests (New) through the same
// Graph (internal/system/wiring) and the same edge constructors (internal/system/*edge) the Lambdas
// build from, so local and deployed cannot differ in wiring, only in the clients they are given; a
// Lambda builds only what its handler uses, and links only its own edge. No Lambda links this
// package.
package system

import (
	"context"
	"encoding/json"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lethe-dev/lethe/internal/api"
	"github.com/lethe-dev/lethe/internal/calendar"
	"github.com/lethe-dev/lethe/internal/chsweep"
	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/deletion"
	"github.com/lethe-dev/lethe/internal/erasure"
	"github.com/lethe-dev/lethe/internal/holds"
	"github.com/lethe-dev/lethe/internal/intake"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/mailer"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/reauth"
	"github.com/lethe-dev/lethe/internal/requests"
	"github.com/lethe-dev/lethe/internal/retention"
	"github.com/lethe-dev/lethe/internal/slasweep"
	"github.com/lethe-dev/lethe/internal/system/apiedge"
	"github.com/lethe-dev/lethe/internal/system/chsweepedge"
	"github.com/lethe-dev/lethe/internal/system/intakeedge"
	"github.com/lethe-dev/lethe/internal/system/retentionedge"
	"github.com/lethe-dev/lethe/internal/system/slaedge"
	"github.com/lethe-dev/lethe/internal/system/webhookedge"
	"github.com/lethe-dev/lethe/internal/system/wiring"
	"github.com/lethe-dev/lethe/internal/verification"
	"github.com/lethe-dev/lethe/internal/webhooks"
	"github.com/lethe-dev/lethe/internal/workflow"
)

// Clients are the AWS clients the services use (wiring.Clients).
type Clients = wiring.Clients

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
	// Holds places, releases and lists legal holds (the ops API and `lethe hold`).
	Holds *holds.Service
	// intake acts on the mail the info@ mailbox receives (the SES receipt rule's Lambda action).
	Intake *intake.Service
	// ChannelSweep wipes the connections whose credential their channel refused twice
	// (functions/channel-sweep).
	ChannelSweep *chsweep.Sweep
	// slaSweep escalates missed deadlines and re-drives stalled workflows (functions/sla-sweep).
	SLASweep *slasweep.Sweep
	// retentionSweep deletes what is past its retention and repairs missing TTLs (functions/retention-sweep).
	RetentionSweep *retention.Sweep
	// webhooks serves the channels' public routes (functions/channel-webhook).
	Webhooks *webhooks.Service
	// Verification sends and checks the one-time codes of end customers' requests; the API and
	// the status page share it here (a test may give it a recording channel client).
	Verification *verification.Service
	Now          func() time.Time
}

// New builds every service from a configuration loaded whole (the local run and the tests); now is
// the clock every one of them reads (the virtual clock locally). It wires them exactly as each
// Lambda's own builder does, through the same Graph.
func New(cfg config.Config, c Clients, now func() time.Time) (*System, error) {
	g := wiring.NewGraph(config.Loaded(cfg), c, now)
	s := &System{Config: cfg, Store: g.Store(), Ledger: g.Ledger(), Engine: g.Engine(), Deletion: g.Deletion(),
		Mailer: g.Mailer(), Calendar: g.Calendar(), Starter: g.Starter(), Tasks: g.FinalMailTasks(), Requests: g.Requests(),
		Reauth: g.Reauth(), Holds: apiedge.Holds(g), Intake: intakeedge.Intake(g), ChannelSweep: chsweepedge.Sweep(g),
		SLASweep: slaedge.Sweep(g), RetentionSweep: retentionedge.Sweep(g), Webhooks: webhookedge.Webhooks(g),
		Verification: g.Verification(true), Now: g.Now()}
	s.Webhooks.Verification = s.Verification
	if err := g.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

// API is the dashboard API over the services.
func (s *System) API() *api.API {
	return api.New(api.Services{Store: s.Store, Ledger: s.Ledger, Requests: s.Requests, Deletion: s.Deletion,
		Holds: s.Holds, ActLinks: s.Tasks.ActLinks, Reauth: s.Reauth, Now: s.Now, Ops: api.OpsAccess{Claim: s.Config.OpsGroupClaim, Group: s.Config.OpsGroup},
		Calendar: s.Calendar, Console: apiedge.Console(s.Config), Verification: s.Verification})
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
