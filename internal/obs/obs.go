// Package obs is Lethe's observability: CloudWatch metrics written as embedded metric format (EMF)
// log lines, which CloudWatch Logs turns into metrics without an API call from the function.
//
// Metrics go to the writer set with SetOutput: standard output in a Lambda (system.FromEnvironment
// sets it), nothing by default, so tests and `make run` print no metric lines unless they ask for
// them. Dimensions and values never carry personal data: kinds, sources, categories, deadline names.
package obs

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"time"
)

// Namespace is the CloudWatch namespace of every Lethe metric.
const Namespace = "Lethe"

// Units this package uses (CloudWatch's names).
const (
	Count   = "Count"
	Seconds = "Seconds"
)

var (
	mu  sync.Mutex
	out io.Writer = io.Discard
	now           = time.Now
)

// SetOutput sends metric lines to w (os.Stdout in a Lambda); nil discards them.
func SetOutput(w io.Writer) {
	mu.Lock()
	defer mu.Unlock()
	if w == nil {
		w = io.Discard
	}
	out = w
}

// Metric is one value.
type Metric struct {
	Name  string
	Unit  string
	Value float64
}

// Emit writes one EMF line (Write) to the output SetOutput chose, at the current time; it does
// nothing while metrics are discarded (tests, `make run`), so a hot path pays nothing for it.
func Emit(dims map[string]string, metrics ...Metric) {
	mu.Lock()
	defer mu.Unlock()
	if out == io.Discard {
		return
	}
	_ = Write(out, now(), dims, metrics...)
}

// Write writes one EMF record to w as a single line: the metrics under the given dimensions (one
// dimension set made of all of them; none is allowed). See "Specification: Embedded metric format"
// in the CloudWatch user guide:
//
//	{"_aws":{"Timestamp":1700000000000,"CloudWatchMetrics":[{"Namespace":"Lethe",
//	  "Dimensions":[["Kind"]],"Metrics":[{"Name":"RequestsCreated","Unit":"Count"}]}]},
//	 "Kind":"account_deletion","RequestsCreated":1}
//
// A Lambda's stdout goes to CloudWatch Logs, which extracts the metrics: no PutMetricData call and
// no IAM permission. Dimension values become metric dimensions: never personal data.
func Write(w io.Writer, at time.Time, dims map[string]string, metrics ...Metric) error {
	if len(metrics) == 0 {
		return nil
	}
	keys := slices.Sorted(maps.Keys(dims))
	if keys == nil {
		keys = []string{}
	}
	defs := make([]map[string]string, 0, len(metrics))
	line := map[string]any{}
	for k, v := range dims {
		line[k] = v
	}
	for _, m := range metrics {
		unit := m.Unit
		if unit == "" {
			unit = Count
		}
		defs = append(defs, map[string]string{"Name": m.Name, "Unit": unit})
		line[m.Name] = m.Value
	}
	line["_aws"] = map[string]any{
		"Timestamp": at.UnixMilli(),
		"CloudWatchMetrics": []map[string]any{{
			"Namespace":  Namespace,
			"Dimensions": [][]string{keys},
			"Metrics":    defs,
		}},
	}
	b, err := json.Marshal(line)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// Counter is Emit of one count.
func Counter(name string, n int64, dims map[string]string) {
	Emit(dims, Metric{Name: name, Unit: Count, Value: float64(n)})
}

// ErrorType names what failed without what it said: the type of the innermost error of err's
// chain ("*smithy.OperationError", "*types.NoSuchKey"). Error texts can quote an address or a
// payload; logs and alerts carry this instead.
func ErrorType(err error) string {
	if err == nil {
		return ""
	}
	for {
		inner := errors.Unwrap(err)
		if inner == nil {
			return fmt.Sprintf("%T", err)
		}
		err = inner
	}
}
