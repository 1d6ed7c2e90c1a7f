package system

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lethe-dev/lethe/internal/capmeter"
	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/system/retentionedge"
	"github.com/lethe-dev/lethe/internal/system/wiring"
	"github.com/lethe-dev/lethe/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// The retention sweep, built as its Lambda builds it (the Graph makes the DynamoDB client from the
// AWS configuration), asks for ReturnConsumedCapacity on every DynamoDB call it makes against
// DynamoDB Local, and its per-run log line carries what DynamoDB reported.
func TestTheRetentionSweepAsksForCapacityOnEveryCall(t *testing.T) {
	env := testenv.New(t)
	vars := config.LocalDefaults(3000)
	vars[config.EnvPlatformTable] = env.Tables["PlatformTable"]
	vars[config.EnvLedgerTable] = env.Tables["LedgerTable"]
	vars[config.EnvAnalyticsTable] = env.Tables["AnalyticsTable"]
	vars[config.EnvFilesBucket] = env.Buckets["FilesBucket"]

	var mu sync.Mutex
	calls := map[string]int{}
	var missing []string
	cfg := env.AWSConfig()
	cfg.BaseEndpoint = aws.String(env.DynamoDBEndpoint)
	cfg.APIOptions = append(cfg.APIOptions, capmeter.CheckAsk(func(op string, asks bool) {
		mu.Lock()
		defer mu.Unlock()
		calls[op]++
		if !asks {
			missing = append(missing, op)
		}
	}))
	g := wiring.ForAWS(config.NewLoader(func(k string) string { return vars[k] }), cfg,
		wiring.Clients{S3: env.S3, SES: env.SES}, nil)
	sweep := retentionedge.RetentionSweep(g)
	if err := g.Err(); err != nil {
		t.Fatal(err)
	}

	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, nil)))
	defer slog.SetDefault(prev)
	if _, err := sweep(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Fatalf("DynamoDB calls without ReturnConsumedCapacity=TOTAL: %v", missing)
	}
	if calls["Scan"] == 0 || calls["PutItem"]+calls["UpdateItem"] == 0 {
		t.Fatalf("the sweep made no Scan or no write through the Graph's client: %v", calls)
	}
	var line struct {
		Msg         string
		ConsumedRCU float64 `json:"consumedRCU"`
		ConsumedWCU float64 `json:"consumedWCU"`
	}
	found := false
	for _, l := range strings.Split(logs.String(), "\n") {
		if json.Unmarshal([]byte(l), &line) == nil && line.Msg == "retention sweep" {
			found = true
			break
		}
	}
	if !found || line.ConsumedRCU <= 0 || line.ConsumedWCU <= 0 {
		t.Fatalf("the run's log line lacks the capacity DynamoDB reported (found %v: %+v)\n%s", found, line, logs.String())
	}
	t.Logf("calls %v; run line: %v RCU, %v WCU", calls, line.ConsumedRCU, line.ConsumedWCU)
}
