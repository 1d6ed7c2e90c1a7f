package obs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestEmitWritesEmbeddedMetricFormat(t *testing.T) {
	var buf bytes.Buffer
	SetOutput(&buf)
	defer SetOutput(nil)
	now = func() time.Time { return time.UnixMilli(1772442000123) }
	defer func() { now = time.Now }()

	Emit(map[string]string{"Kind": "account_deletion", "Source": "email"}, Metric{Name: "RequestsCreated", Value: 1},
		Metric{Name: "Latency", Unit: Seconds, Value: 2.5})
	Counter("ItemsDeleted", 0, nil) // zero is a value too
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines: %q", len(lines), buf.String())
	}
	var got struct {
		AWS struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
		Kind, Source    string
		RequestsCreated float64
		Latency         float64
	}
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	cw := got.AWS.CloudWatchMetrics
	if got.AWS.Timestamp != 1772442000123 || len(cw) != 1 || cw[0].Namespace != "Lethe" ||
		len(cw[0].Dimensions) != 1 || strings.Join(cw[0].Dimensions[0], ",") != "Kind,Source" ||
		len(cw[0].Metrics) != 2 || cw[0].Metrics[0].Name != "RequestsCreated" || cw[0].Metrics[0].Unit != "Count" || cw[0].Metrics[1].Unit != "Seconds" {
		t.Fatalf("EMF metadata %+v", got.AWS)
	}
	if got.Kind != "account_deletion" || got.Source != "email" || got.RequestsCreated != 1 || got.Latency != 2.5 {
		t.Fatalf("values %+v", got)
	}
	var second map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &second); err != nil {
		t.Fatal(err)
	}
	dims := second["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)["Dimensions"].([]any)
	if len(dims) != 1 || len(dims[0].([]any)) != 0 || second["ItemsDeleted"] != float64(0) {
		t.Fatalf("a metric without dimensions: %v", second)
	}
}

// defaultOut is where metrics go before anything calls SetOutput (package variables are set before
// any test runs).
var defaultOut = out

// Until a Lambda asks for metrics they go nowhere, and SetOutput(nil) stops a writer that was set
// from receiving any more.
func TestDiscardedByDefault(t *testing.T) {
	if defaultOut != io.Discard {
		t.Fatalf("metrics go to %T by default, want them discarded", defaultOut)
	}
	var buf bytes.Buffer
	SetOutput(&buf)
	SetOutput(nil)
	Counter("X", 1, nil)
	if buf.Len() != 0 {
		t.Fatalf("printed %q after SetOutput(nil)", buf.String())
	}
	mu.Lock()
	got := out
	mu.Unlock()
	if got != io.Discard {
		t.Fatalf("SetOutput(nil) left metrics going to %T", got)
	}
}

// The EMF record is the one CloudWatch documents: one JSON line, the directive under _aws, the
// dimension and the metric as top-level members.
func TestWriteIsTheDocumentedRecord(t *testing.T) {
	var buf bytes.Buffer
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := Write(&buf, at, map[string]string{"Deadline": "hard_delete_by"},
		Metric{Name: "SLABreaches", Unit: "Count", Value: 1}); err != nil {
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

func TestErrorTypeNamesTheInnermostCause(t *testing.T) {
	type secret struct{ error }
	inner := &secret{}
	err := fmt.Errorf("mail to ivan@example.com: %w", fmt.Errorf("send: %w", inner))
	if got := ErrorType(err); got != "*obs.secret" || strings.Contains(got, "ivan") {
		t.Fatalf("ErrorType = %q", got)
	}
	if ErrorType(nil) != "" {
		t.Fatal("a nil error has a type")
	}
}
