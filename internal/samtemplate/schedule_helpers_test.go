package samtemplate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"testing"
)

// schedule is one ScheduleV2 event a scheduled function must have: its expression and its Input,
// either the committed sample event events/<folder>/<Sample> or, when Sample is "", Input itself.
type schedule struct {
	Expression string
	Sample     string
	Input      string
}

// checkSchedule: a scheduled function has exactly one ScheduleV2 event, named name, with that
// expression, and its Input is the committed sample event events/<folder>/scheduled.json.
func checkSchedule(t *testing.T, root string, props map[string]any, folder, name, expression string) {
	t.Helper()
	checkSchedules(t, root, props, folder, map[string]schedule{name: {Expression: expression, Sample: "scheduled.json"}})
}

// checkSchedules: the function's events are exactly want, by event name, each a ScheduleV2 with
// its expression and Input, and each failure-proof the same way (checkScheduleFailures).
func checkSchedules(t *testing.T, root string, props map[string]any, folder string, want map[string]schedule) {
	t.Helper()
	events, _ := props["Events"].(map[string]any)
	if len(events) != len(want) {
		t.Errorf("events %v, want %d schedules %v", events, len(want), want)
	}
	for name, w := range want {
		ev, ok := events[name].(map[string]any)
		if !ok {
			t.Errorf("no event %s", name)
			continue
		}
		if ev["Type"] != "ScheduleV2" || dig(ev, "Properties", "ScheduleExpression") != w.Expression {
			t.Errorf("event %s %v, want a ScheduleV2 %s", name, ev, w.Expression)
		}
		input := w.Input
		if w.Sample != "" {
			b, err := os.ReadFile(filepath.Join(root, "events", folder, w.Sample))
			if err != nil {
				t.Fatal(err)
			}
			input = string(b)
		}
		var in, wantIn any
		if s, _ := dig(ev, "Properties", "Input").(string); json.Unmarshal([]byte(s), &in) != nil {
			t.Errorf("event %s: Input %q is not JSON", name, s)
		}
		if err := json.Unmarshal([]byte(input), &wantIn); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(in, wantIn) {
			t.Errorf("event %s: the schedule's Input %v is not %v", name, in, wantIn)
		}
		checkScheduleFailures(t, name, ev, w.Expression)
	}
	checkInvokeFailures(t, props)
}

// ratePeriod is the period of a rate(…) expression in seconds.
func ratePeriod(t *testing.T, expression string) int {
	t.Helper()
	m := regexp.MustCompile(`^rate\((\d+) (minute|hour|day)s?\)$`).FindStringSubmatch(expression)
	if m == nil {
		t.Fatalf("%q is not a rate expression", expression)
	}
	n, _ := strconv.Atoi(m[1])
	return n * map[string]int{"minute": 60, "hour": 3600, "day": 86400}[m[2]]
}

// sweepDLQ is the queue every failure of a scheduled sweep lands in.
var sweepDLQ = map[string]any{"Fn::GetAtt": []any{"ScheduledSweepDeadLetterQueue", "Arn"}}

// checkScheduleFailures: an invocation EventBridge Scheduler cannot deliver is retried at most
// until the next run (which supersedes it) and then kept in the sweeps' dead-letter queue; the
// schedule's name is left to CloudFormation, so two stacks in one account do not collide.
func checkScheduleFailures(t *testing.T, name string, ev map[string]any, expression string) {
	t.Helper()
	p, _ := ev["Properties"].(map[string]any)
	if got := dig(p, "DeadLetterConfig"); !reflect.DeepEqual(got, map[string]any{"Arn": sweepDLQ}) {
		t.Errorf("event %s: DeadLetterConfig %v, want the Arn of ScheduledSweepDeadLetterQueue", name, got)
	}
	age, _ := dig(p, "RetryPolicy", "MaximumEventAgeInSeconds").(int)
	if age < 60 || age > ratePeriod(t, expression) {
		t.Errorf("event %s: RetryPolicy.MaximumEventAgeInSeconds %v, want 60 s up to the schedule's period", name, age)
	}
	if n, ok := dig(p, "RetryPolicy", "MaximumRetryAttempts").(int); !ok || n < 0 || n > 185 {
		t.Errorf("event %s: RetryPolicy.MaximumRetryAttempts %v", name, dig(p, "RetryPolicy", "MaximumRetryAttempts"))
	}
	if p["OmitName"] != true || p["Name"] != nil {
		t.Errorf("event %s: OmitName %v, Name %v; want the name left to CloudFormation", name, p["OmitName"], p["Name"])
	}
}

// checkInvokeFailures: a sweep run that fails is not retried at once (the next run is the retry),
// and its event is kept in the sweeps' dead-letter queue.
func checkInvokeFailures(t *testing.T, props map[string]any) {
	t.Helper()
	want := map[string]any{
		"MaximumRetryAttempts": 0,
		"DestinationConfig":    map[string]any{"OnFailure": map[string]any{"Type": "SQS", "Destination": sweepDLQ}},
	}
	if got := props["EventInvokeConfig"]; !reflect.DeepEqual(got, want) {
		t.Errorf("EventInvokeConfig %v, want %v", got, want)
	}
}

// splitPolicies separates resolved Policies into inline statements and SAM policy templates (by
// template name, the tables they name).
func splitPolicies(resolved any) (statements []any, templates map[string][]string) {
	templates = map[string][]string{}
	for _, p := range resolved.([]any) {
		p := p.(map[string]any)
		if st, ok := p["Statement"].([]any); ok {
			statements = append(statements, st...)
			continue
		}
		for name, arg := range p {
			templates[name] = append(templates[name], arg.(map[string]any)["TableName"].(string))
		}
	}
	return statements, templates
}
