package workflow_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lethe-dev/lethe/internal/calendar"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/deletion"
	"github.com/lethe-dev/lethe/internal/erasure"
	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/faults"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/mailer"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/testenv"
	"github.com/lethe-dev/lethe/internal/workflow"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

var now = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

// tasks are the workflow's tasks over env; the ledger's and the platform store's calls go through
// the clients given (one of them may inject faults).
func tasks(t *testing.T, env *testenv.Env, ledgerDB ledger.DB, storeDB platform.DB) *workflow.Tasks {
	t.Helper()
	policy := datamap.Policy{SafetyMargin: datamap.DefaultSafetyMargin}
	led := ledger.New(ledgerDB, env.Tables[datamap.LedgerTable], policy, clock)
	real := platform.NewStore(env.DynamoDB, platform.Tables(env.Tables), policy, clock)
	cal, err := calendar.New(calendar.Adjustments{})
	if err != nil {
		t.Fatal(err)
	}
	return &workflow.Tasks{Ledger: led, Store: platform.NewStore(storeDB, platform.Tables(env.Tables), policy, clock),
		Accounts: erasure.New(real, env.DynamoDB, env.S3, env.Buckets, led, erasure.Options{Now: clock}), Calendar: cal, Now: clock,
		Mail: &mailer.Mailer{SES: env.SES, From: "Lethe <" + env.Address("noreply") + ">", Info: env.Address("info"), BaseURL: "https://lethe.example"}}
}

func throttled(env *testenv.Env, op, table string) (*faults.Transport, *dynamodb.Client) {
	tr := faults.NewTransport(nil, faults.Plan{Seed: 1, Throttle: 1, Operations: []string{op}, Tables: []string{env.Tables[table]}})
	return tr, faults.DynamoDB(env.AWSConfig(), env.DynamoDBEndpoint, tr)
}

// A failed read of the legal holds fails the account deletion's opening task, which Step Functions
// retries, instead of mailing a confirmation that leaves the hold out of what is kept; the retry's
// mail states it.
func TestAFailedHoldReadSendsNoConfirmationWithoutTheHold(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	const acct = "acct-held"
	good := tasks(t, env, env.DynamoDB, env.DynamoDB)
	if err := good.Store.Put(ctx, platform.Account{ID: acct, Email: env.Address("owner"), FullName: "Owner", Locale: "en", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := good.Ledger.PlaceHold(ctx, platform.LegalHold{AccountID: acct, ScopeKind: platform.HoldAccount, ScopeID: acct,
		Reason: "court order", AuthorityRef: "A40-1/2026"}, "operator:test"); err != nil {
		t.Fatal(err)
	}
	if _, err := good.Ledger.Create(ctx, request.Request{ID: "req-held", AccountID: acct, Kind: request.KindAccountDeletion, Source: "dashboard",
		Scope: platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: acct}, Status: request.StatusScheduled}); err != nil {
		t.Fatal(err)
	}
	tr, db := throttled(env, "Query", datamap.LedgerTable)
	if _, err := tasks(t, env, db, env.DynamoDB).Open(ctx, workflow.State{RequestID: "req-held"}); err == nil {
		t.Fatal("Open with the holds unreadable succeeded")
	}
	if tr.Stats().Throttled == 0 {
		t.Fatal("no read was throttled: the test proves nothing")
	}
	if sent := env.SentMail(t); len(sent) != 0 {
		t.Fatalf("mailed %q with the holds unread", sent[0].Subject)
	}
	if _, err := good.Open(ctx, workflow.State{RequestID: "req-held"}); err != nil {
		t.Fatalf("retry: %v", err)
	}
	sent := env.SentMail(t)
	if len(sent) != 1 || !strings.Contains(sent[0].Text, "legal hold") {
		t.Fatalf("after the retry: %d mails; want one that names the legal hold: %+v", len(sent), sent)
	}
}

// A failed read of the bot fails the task instead of telling the admin who ran a deletion that it
// is done without naming the bot. The first read of the platform (who asked) goes through; the
// second (the bot) is throttled.
func TestAFailedBotReadSendsNoMailWithoutTheBot(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	const acct = "acct-bot"
	good := tasks(t, env, env.DynamoDB, env.DynamoDB)
	if err := good.Store.Put(ctx, platform.Bot{AccountID: acct, ID: "bot-1", Name: "Pizza Helper", Status: "running", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := good.Store.Put(ctx, platform.TeamMember{AccountID: acct, Sub: "sub-1", Email: env.Address("admin"), FullName: "Admin", Role: "bot_admin", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := good.Ledger.Create(ctx, request.Request{ID: "req-eu", AccountID: acct, Kind: request.KindEndUserDeletion, Source: "dashboard",
		Scope: platform.ScopeRef{Kind: datamap.ScopeEndUser, AccountID: acct, BotID: "bot-1", EndUserID: "eu-1"}, Status: request.StatusHardDeleting,
		Locale: "en", RequestedBy: "sub-1", History: []request.Event{{At: now, Status: request.StatusHardDeleting, Actor: "bot_admin:sub-1"}}}); err != nil {
		t.Fatal(err)
	}
	done := workflow.State{RequestID: "req-eu", Erase: &workflow.Erase{Done: true,
		Checkpoint: &erasure.Checkpoint{Done: true, Deleted: map[string]int64{datamap.EndUserProfile: 1}, StartedAt: now}}}
	tr := faults.NewTransport(nil, faults.Plan{Seed: 1, Throttle: 1, Operations: []string{"GetItem"},
		Tables: []string{env.Tables[datamap.PlatformTable]}, After: 1})
	flaky := tasks(t, env, env.DynamoDB, faults.DynamoDB(env.AWSConfig(), env.DynamoDBEndpoint, tr))
	flaky.Deleter, good.Deleter = deleter(env, good), deleter(env, good)
	if _, err := flaky.Complete(ctx, done); err == nil {
		t.Fatal("Complete with the bot unreadable succeeded")
	}
	if tr.Stats().Throttled == 0 {
		t.Fatal("no read was throttled: the test proves nothing")
	}
	if sent := env.SentMail(t); len(sent) != 0 {
		t.Fatalf("mailed %q with the bot unread", sent[0].Subject)
	}
	if _, err := good.Complete(ctx, done); err != nil {
		t.Fatalf("retry: %v", err)
	}
	sent := env.SentMail(t)
	if len(sent) != 1 || !strings.Contains(sent[0].Text, "Pizza Helper") {
		t.Fatalf("after the retry: %d mails; want one that names the bot: %+v", len(sent), sent)
	}
}

// deleter finishes requests over env with tk's ledger.
func deleter(env *testenv.Env, tk *workflow.Tasks) *deletion.Service {
	policy := datamap.Policy{SafetyMargin: datamap.DefaultSafetyMargin}
	store := platform.NewStore(env.DynamoDB, platform.Tables(env.Tables), policy, clock)
	return &deletion.Service{Ledger: tk.Ledger, Store: store, Now: clock,
		Engine:   erasure.New(store, env.DynamoDB, env.S3, env.Buckets, tk.Ledger, erasure.Options{Now: clock}),
		Operator: evidence.Operator{Name: "ООО «Тест»", Address: "Москва"}}
}
