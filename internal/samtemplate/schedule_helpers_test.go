package samtemplate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// checkSchedule: a scheduled function has exactly one ScheduleV2 event with that expression, and
// its Input is the committed sample event events/<folder>/scheduled.json.
func checkSchedule(t *testing.T, root string, props map[string]any, folder, expression string) {
	t.Helper()
	events, _ := props["Events"].(map[string]any)
	if len(events) != 1 {
		t.Fatalf("events %v, want one schedule", events)
	}
	for _, ev := range events {
		ev := ev.(map[string]any)
		if ev["Type"] != "ScheduleV2" || dig(ev, "Properties", "ScheduleExpression") != expression {
			t.Errorf("event %v, want a ScheduleV2 %s", ev, expression)
		}
		sample, err := os.ReadFile(filepath.Join(root, "events", folder, "scheduled.json"))
		if err != nil {
			t.Fatal(err)
		}
		var in, want any
		if err := json.Unmarshal([]byte(dig(ev, "Properties", "Input").(string)), &in); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(sample, &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(in, want) {
			t.Errorf("the schedule's Input %v is not the sample event %v", in, want)
		}
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
