package ledger_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/testenv"
)

// Two deliveries of one mail racing each other: every attempt is counted, none is lost, and once one
// marks the mail done the other sees it.
func TestInboundJournalCountsRacingAttempts(t *testing.T) {
	l := newLedger(t)
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := l.UpdateInbound(ctx, "0100abc", at, func(e *ledger.Inbound) error { e.Attempts++; return nil })
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	e, err := l.Inbound(ctx, "0100abc")
	if err != nil {
		t.Fatal(err)
	}
	if e.Attempts != n || e.Version != n || e.State != ledger.InboundProcessing || !e.ReceivedAt.Equal(at) {
		t.Fatalf("journal %+v, want %d attempts", e, n)
	}
	// A refusal writes nothing.
	stop := errors.New("no")
	if _, err := l.UpdateInbound(ctx, "0100abc", at, func(e *ledger.Inbound) error { e.State = ledger.InboundDone; return stop }); !errors.Is(err, stop) {
		t.Fatalf("refused change: %v", err)
	}
	if e2, _ := l.Inbound(ctx, "0100abc"); e2.State != ledger.InboundProcessing || e2.Version != e.Version {
		t.Fatalf("a refused change was written: %+v", e2)
	}
	if _, err := l.Inbound(ctx, "0100abd"); !errors.Is(err, ledger.ErrNotFound) {
		t.Fatalf("unknown mail: %v", err)
	}
}

// The journal names a mail only by the hash of its SES id, and its item expires with the ledger's
// 3-year retention.
func TestInboundJournalStoresOnlyTheHash(t *testing.T) {
	env := testenv.New(t)
	table := env.Tables[datamap.LedgerTable]
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	l := ledger.New(env.DynamoDB, table, datamap.Policy{SafetyMargin: datamap.DefaultSafetyMargin}, func() time.Time { return at })
	ctx := context.Background()
	if _, err := l.UpdateInbound(ctx, "secret-ses-id", at, func(e *ledger.Inbound) error { e.Outcome = "x"; return nil }); err != nil {
		t.Fatal(err)
	}
	out, err := env.DynamoDB.Scan(ctx, &dynamodb.ScanInput{TableName: &table})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 1 {
		t.Fatalf("%d items", len(out.Items))
	}
	item := out.Items[0]
	for k, v := range item {
		if s, ok := v.(*types.AttributeValueMemberS); ok && strings.Contains(s.Value, "secret-ses-id") {
			t.Errorf("attribute %s holds the message id itself", k)
		}
	}
	if pk := item["pk"].(*types.AttributeValueMemberS).Value; pk != "INMAIL#"+ledger.InboundKey("secret-ses-id") {
		t.Errorf("pk %s", pk)
	}
	exp, ok := item["expiresAt"].(*types.AttributeValueMemberN)
	if !ok {
		t.Fatal("no expiresAt")
	}
	if want := strconv.FormatInt(at.AddDate(3, 0, 0).Unix(), 10); exp.Value != want {
		t.Errorf("expiresAt %s, want %s (3 years)", exp.Value, want)
	}
}
