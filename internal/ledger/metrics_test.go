package ledger_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lethe-dev/lethe/internal/obs"
	"github.com/lethe-dev/lethe/internal/request"
)

// Every request made is counted in CloudWatch by kind and by the kind of its source — never an
// identifier after it.
func TestNewRequestsAreCounted(t *testing.T) {
	var buf bytes.Buffer
	obs.SetOutput(&buf)
	defer obs.SetOutput(nil)
	l := newLedger(t)
	r := req("M1", "acct-1")
	r.Source = "webhook:telegram:conn-123"
	if _, err := l.Create(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Create(context.Background(), r); err == nil {
		t.Fatal("created twice")
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d metric lines for one request: %q", len(lines), buf.String())
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatal(err)
	}
	if m["RequestsCreated"] != float64(1) || m["Kind"] != string(request.KindAccountDeletion) || m["Source"] != "webhook:telegram" {
		t.Fatalf("metric %v", m)
	}
}
