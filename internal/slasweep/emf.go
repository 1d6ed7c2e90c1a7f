package slasweep

import (
	"encoding/json"
	"io"
	"slices"
	"time"
)

// Namespace is the CloudWatch namespace of Lethe's metrics.
const Namespace = "Lethe"

// Metric is one metric of an EMF record: its name, unit and value.
type Metric struct {
	Name  string
	Unit  string // a CloudWatch unit: "Count", "Seconds" …
	Value float64
}

// WriteEMF writes one CloudWatch embedded-metric-format record as a single JSON line to w (a
// Lambda's stdout goes to CloudWatch Logs, which extracts the metrics from such lines; no
// PutMetricData call and no IAM permission is needed).
//
// The format (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
// a JSON object whose "_aws" member holds "Timestamp" (milliseconds since the epoch) and
// "CloudWatchMetrics", a list of directives each naming a "Namespace", "Dimensions" (a list of
// dimension sets, each a list of member names) and "Metrics" (name and unit); the dimension values
// and metric values are top-level members of the same object under those names:
//
//	{"_aws":{"Timestamp":1767225600000,"CloudWatchMetrics":[{"Namespace":"Lethe",
//	  "Dimensions":[["Deadline"]],"Metrics":[{"Name":"SLABreaches","Unit":"Count"}]}]},
//	 "Deadline":"hard_delete_by","SLABreaches":1}
//
// Dimension values must never carry personal data: they become CloudWatch metric dimensions.
func WriteEMF(w io.Writer, at time.Time, namespace string, dimensions map[string]string, metrics ...Metric) error {
	type metricDef struct {
		Name string `json:"Name"`
		Unit string `json:"Unit,omitempty"`
	}
	type directive struct {
		Namespace  string      `json:"Namespace"`
		Dimensions [][]string  `json:"Dimensions"`
		Metrics    []metricDef `json:"Metrics"`
	}
	dims := make([]string, 0, len(dimensions))
	rec := map[string]any{}
	for k, v := range dimensions {
		dims = append(dims, k)
		rec[k] = v
	}
	slices.Sort(dims)
	d := directive{Namespace: namespace, Dimensions: [][]string{dims}}
	for _, m := range metrics {
		d.Metrics = append(d.Metrics, metricDef{Name: m.Name, Unit: m.Unit})
		rec[m.Name] = m.Value
	}
	rec["_aws"] = map[string]any{"Timestamp": at.UnixMilli(), "CloudWatchMetrics": []directive{d}}
	line, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = w.Write(append(line, '\n'))
	return err
}
