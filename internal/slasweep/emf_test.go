package slasweep_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/slasweep"
)

// The EMF record is the one CloudWatch documents: one JSON line, the directive under _aws, the
// dimension and the metric as top-level members.
func TestWriteEMF(t *testing.T) {
	var buf bytes.Buffer
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := slasweep.WriteEMF(&buf, at, slasweep.Namespace, map[string]string{"Deadline": "hard_delete_by"},
		slasweep.Metric{Name: "SLABreaches", Unit: "Count", Value: 1}); err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(buf.Bytes(), []byte("\n")); n != 1 || buf.Bytes()[buf.Len()-1] != '\n' {
		t.Fatalf("%d lines: %q", n, buf.String())
	}
	var got, want any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal([]byte(`{"_aws":{"Timestamp":1767225600000,"CloudWatchMetrics":[{"Namespace":"Lethe","Dimensions":[["Deadline"]],
		"Metrics":[{"Name":"SLABreaches","Unit":"Count"}]}]},"Deadline":"hard_delete_by","SLABreaches":1}`), &want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("EMF\n%s\nwant\n%v", buf.String(), want)
	}
}

// The Lambda handler takes the scheduled event of events/sla-sweep (the schedule's Input).
func TestHandleTakesTheScheduledEvent(t *testing.T) {
	w := newWorld(t)
	sample, err := os.ReadFile(filepath.Join("..", "..", "events", "sla-sweep", "scheduled.json"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := w.sweep.Handle(w.ctx, sample)
	if err != nil || rep.Checked != 0 || rep.Errors != 0 {
		t.Fatalf("report %+v, %v", rep, err)
	}
}
