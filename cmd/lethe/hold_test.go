package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/local/localaws"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/seed"
	"github.com/lethe-dev/lethe/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

func hold(t *testing.T, env *testenv.Env, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := holdCommand(context.Background(), append(args, "--stack", env.StackName), &out, &errOut)
	return out.String() + errOut.String(), err
}

func TestHoldCommand(t *testing.T) {
	env := testenv.New(t)
	t.Setenv(localaws.EnvDynamoDBEndpoint, env.DynamoDBEndpoint)
	t.Setenv(localaws.EnvS3Endpoint, env.S3Endpoint)
	ctx := context.Background()
	policy := datamap.Policy{SafetyMargin: datamap.DefaultSafetyMargin}
	store := platform.NewStore(env.DynamoDB, platform.Tables(env.Tables), policy, time.Now)
	m, _, err := seed.Write(ctx, store, env.S3, env.Buckets, seed.Options{Seed: 4, Now: time.Now().UTC().Truncate(time.Second), Size: seed.DemoSize()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	acc, bot := m.Accounts[0].ID, m.Accounts[0].Bots[0].ID

	if _, err := hold(t, env, "place", "--account", acc, "--scope", "bot", "--id", bot); err == nil ||
		!strings.Contains(err.Error(), "reason") || !strings.Contains(err.Error(), "authority") || !strings.Contains(err.Error(), "operator") {
		t.Fatalf("incomplete hold: %v", err)
	}
	out, err := hold(t, env, "place", "--account", acc, "--scope", "bot", "--id", bot, "--reason", "investigation",
		"--authority", "СК 9/2026", "--until", "2027-06-01", "--operator", "Петрова")
	if err != nil {
		t.Fatalf("place: %v\n%s", err, out)
	}
	var h platform.LegalHold
	if err := json.Unmarshal([]byte(out), &h); err != nil || h.ID == "" || h.PlacedBy != "operator:Петрова" || h.Until == nil {
		t.Fatalf("placed hold %+v (%v) from %s", h, err, out)
	}
	// Placing it took the TTL off everything it covers.
	if h.TTLState != platform.HoldTTLRemoved || h.TTLItems == 0 {
		t.Errorf("placed hold: TTL %q on %d items", h.TTLState, h.TTLItems)
	}
	if out, err := hold(t, env, "list", "--account", acc); err != nil || !strings.Contains(out, h.ID) {
		t.Fatalf("list: %v %s", err, out)
	}

	// A bot deletion request the hold paused finishes when the hold is released.
	led := ledger.New(env.DynamoDB, env.Tables[datamap.LedgerTable], policy, time.Now)
	if _, err := led.Create(ctx, request.Request{ID: "req-bot", AccountID: acc, Kind: request.KindBotDeletion, Source: "dashboard",
		Scope: platform.ScopeRef{Kind: datamap.ScopeBot, AccountID: acc, BotID: bot}, Status: request.StatusHeld, HeldBy: []string{h.ID}}); err != nil {
		t.Fatal(err)
	}
	if _, err := hold(t, env, "release", "--hold", h.ID); err == nil {
		t.Fatal("release without --operator accepted")
	}
	out, err = hold(t, env, "release", "--hold", h.ID, "--operator", "Петрова", "--note", "case closed")
	if err != nil {
		t.Fatalf("release: %v\n%s", err, out)
	}
	r, err := led.Get(ctx, "req-bot")
	if err != nil || r.Status != request.StatusCompleted || len(r.Evidence) != 1 {
		t.Fatalf("held request after release: %s, evidence %v (%v)", r.Status, r.Evidence, err)
	}
	if _, err := store.Bot(ctx, acc, bot); err != platform.ErrNotFound {
		t.Errorf("bot still there after the release: %v", err)
	}
	if _, err := hold(t, env, "fly"); err == nil {
		t.Error("unknown action accepted")
	}
}
