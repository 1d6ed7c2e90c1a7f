package samtemplate

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// resourcesOfType lists the logical ids of the real template's resources of typ, sorted.
func resourcesOfType(raw map[string]any, typ string) []string {
	var ids []string
	for id, v := range raw["Resources"].(map[string]any) {
		if decl, _ := v.(map[string]any); decl["Type"] == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// alarmsOn lists the alarms on namespace/metric whose dimension name has exactly value (unresolved).
func alarmsOn(raw map[string]any, namespace, metric, dimension string, value any) []string {
	var out []string
	for _, id := range resourcesOfType(raw, "AWS::CloudWatch::Alarm") {
		p, _ := dig(raw, "Resources", id, "Properties").(map[string]any)
		if p["Namespace"] != namespace || p["MetricName"] != metric {
			continue
		}
		dims, _ := p["Dimensions"].([]any)
		if len(dims) != 1 || dig(dims[0], "Name") != dimension || !reflect.DeepEqual(dig(dims[0], "Value"), value) {
			continue
		}
		// Any occurrence is an alarm: above zero, missing data (no traffic) is fine.
		if p["Threshold"] == 0 && p["ComparisonOperator"] == "GreaterThanThreshold" && p["TreatMissingData"] == "notBreaching" {
			out = append(out, id)
		}
	}
	return out
}

// outputOf reports whether an output's Value is exactly v (unresolved).
func outputOf(raw map[string]any, v any) bool {
	for _, o := range raw["Outputs"].(map[string]any) {
		if reflect.DeepEqual(dig(o, "Value"), v) {
			return true
		}
	}
	return false
}

// TestScheduledSweepsFailVisibly: every scheduled function (whatever it sweeps) sends the
// invocations Scheduler could not deliver, and the runs that failed, to one encrypted queue kept 14
// days, and a message there raises an alarm.
func TestScheduledSweepsFailVisibly(t *testing.T) {
	raw := loadReal(t).Raw()
	scheduled := 0
	for _, id := range resourcesOfType(raw, "AWS::Serverless::Function") {
		props, _ := dig(raw, "Resources", id, "Properties").(map[string]any)
		events, _ := props["Events"].(map[string]any)
		has := false
		for name, ev := range events {
			ev := ev.(map[string]any)
			if ev["Type"] != "ScheduleV2" && ev["Type"] != "Schedule" {
				continue
			}
			if ev["Type"] == "Schedule" {
				t.Errorf("%s.%s: an EventBridge rule schedule; use ScheduleV2 (Scheduler: retries and a dead-letter queue)", id, name)
				continue
			}
			has = true
			t.Run(id+"/"+name, func(t *testing.T) {
				checkScheduleFailures(t, name, ev, dig(ev, "Properties", "ScheduleExpression").(string))
			})
		}
		if has {
			scheduled++
			t.Run(id, func(t *testing.T) { checkInvokeFailures(t, props) })
		}
	}
	if scheduled < 3 {
		t.Errorf("%d scheduled functions, want the three sweeps at least", scheduled)
	}
	q := resourceDecl(t, raw, "ScheduledSweepDeadLetterQueue", "AWS::SQS::Queue")
	if got := dig(q, "Properties", "SqsManagedSseEnabled"); got != true {
		t.Errorf("ScheduledSweepDeadLetterQueue.SqsManagedSseEnabled = %v, want true", got)
	}
	if got := dig(q, "Properties", "MessageRetentionPeriod"); got != 14*86400 {
		t.Errorf("ScheduledSweepDeadLetterQueue.MessageRetentionPeriod = %v, want 14 days", got)
	}
}

// TestEveryQueueIsWatched: a message in any queue of the template is a failure someone must see,
// so every queue has a depth alarm and its URL is an output.
func TestEveryQueueIsWatched(t *testing.T) {
	raw := loadReal(t).Raw()
	queues := resourcesOfType(raw, "AWS::SQS::Queue")
	if len(queues) < 2 {
		t.Fatalf("queues %v, want the inbound-mail and the sweeps' dead-letter queues", queues)
	}
	for _, id := range queues {
		name := map[string]any{"Fn::GetAtt": []any{id, "QueueName"}}
		if len(alarmsOn(raw, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", name)) == 0 {
			t.Errorf("%s has no alarm on ApproximateNumberOfMessagesVisible > 0", id)
		}
		if !outputOf(raw, map[string]any{"Ref": id}) {
			t.Errorf("%s: no output gives its URL", id)
		}
	}
}

// TestStateMachinesAreObservable: every state machine is traced, logs its errors (never its
// execution data, which may be personal) to a log group of the template that expires them within
// the 30-day rotation, may deliver those logs, raises an alarm when an execution fails, and its ARN
// is an output.
func TestStateMachinesAreObservable(t *testing.T) {
	tmpl := loadReal(t)
	raw := tmpl.Raw()
	machines := resourcesOfType(raw, "AWS::Serverless::StateMachine")
	if len(machines) < 5 {
		t.Fatalf("state machines %v, want at least 5", machines)
	}
	for _, id := range machines {
		props, _ := dig(raw, "Resources", id, "Properties").(map[string]any)
		if got := dig(props, "Tracing", "Enabled"); got != true {
			t.Errorf("%s: Tracing.Enabled = %v", id, got)
		}
		lg, _ := props["Logging"].(map[string]any)
		if lv := lg["Level"]; lv != "ERROR" && lv != "ALL" {
			t.Errorf("%s: Logging.Level = %v, want ERROR or ALL", id, lv)
		}
		if got, ok := lg["IncludeExecutionData"]; got != false || !ok {
			t.Errorf("%s: Logging.IncludeExecutionData = %v, want false (inputs may hold personal data)", id, got)
		}
		dests, _ := lg["Destinations"].([]any)
		if len(dests) != 1 {
			t.Errorf("%s: Logging.Destinations %v, want one log group", id, dests)
			continue
		}
		arn, _ := dig(dests[0], "CloudWatchLogsLogGroup", "LogGroupArn").(map[string]any)
		ga, _ := arn["Fn::GetAtt"].([]any)
		if len(ga) != 2 || ga[1] != "Arn" {
			t.Errorf("%s: LogGroupArn %v, want !GetAtt <LogGroup>.Arn", id, arn)
			continue
		}
		group := resourceDecl(t, raw, ga[0].(string), "AWS::Logs::LogGroup")
		if days := retentionDays(t, tmpl, ga[0].(string)); days < 1 || days > maxLogRetentionDays {
			t.Errorf("%s: RetentionInDays = %d, want 1 to %d", ga[0], days, maxLogRetentionDays)
		}
		name, err := tmpl.Resolve(dig(group, "Properties", "LogGroupName"), sweepDeployed)
		if s, _ := name.(string); err != nil || !strings.HasPrefix(s, "/aws/vendedlogs/states/t1-") {
			t.Errorf("%s: LogGroupName %v (%v), want /aws/vendedlogs/states/<stack>-…", ga[0], name, err)
		}
		resolved, err := tmpl.Resolve(props["Policies"], sweepDeployed)
		if err != nil {
			t.Fatal(err)
		}
		statements, _ := splitMachinePolicies(resolved)
		for _, a := range noResourceLevelActions {
			if !grants(statements, a, "*") {
				t.Errorf("%s: the role may not %s, which Step Functions needs to deliver its logs", id, a)
			}
		}
		if len(alarmsOn(raw, "AWS/States", "ExecutionsFailed", "StateMachineArn", map[string]any{"Ref": id})) == 0 {
			t.Errorf("%s has no alarm on ExecutionsFailed", id)
		}
		if !outputOf(raw, map[string]any{"Ref": id}) {
			t.Errorf("%s: no output gives its ARN", id)
		}
	}
	// The dashboard's base URL.
	if got := dig(raw, "Outputs", "HttpApiUrl", "Value", "Fn::Sub"); got == nil || !strings.Contains(got.(string), "${HttpApi}") {
		t.Errorf("output HttpApiUrl = %v, want the HttpApi's URL", got)
	}
}

// splitMachinePolicies is splitPolicies for policies whose templates name functions, not tables.
func splitMachinePolicies(resolved any) (statements []any, templates []string) {
	for _, p := range resolved.([]any) {
		p := p.(map[string]any)
		if st, ok := p["Statement"].([]any); ok {
			statements = append(statements, st...)
			continue
		}
		for name := range p {
			templates = append(templates, name)
		}
	}
	return statements, templates
}

// placeholderRE is how SAM finds DefinitionSubstitutions keys in a definition.
var placeholderRE = regexp.MustCompile(`\$\{([^}]*)\}`)

// TestDefinitionSubstitutionsMatchTheDefinitions: every ${…} of every machine's ASL file has a
// substitution and every substitution is used, and every ASL file of statemachines/ is one
// machine's definition.
func TestDefinitionSubstitutionsMatchTheDefinitions(t *testing.T) {
	tmpl := loadReal(t)
	raw := tmpl.Raw()
	root := filepath.Dir(tmpl.Path())
	files, _ := filepath.Glob(filepath.Join(root, "statemachines", "*.asl.json"))
	unused := map[string]bool{}
	for _, f := range files {
		unused[filepath.ToSlash(strings.TrimPrefix(f, root+string(filepath.Separator)))] = true
	}
	if len(unused) == 0 {
		t.Fatal("no statemachines/*.asl.json")
	}
	for _, id := range resourcesOfType(raw, "AWS::Serverless::StateMachine") {
		props, _ := dig(raw, "Resources", id, "Properties").(map[string]any)
		uri, _ := props["DefinitionUri"].(string)
		if !unused[uri] {
			t.Errorf("%s: DefinitionUri %q is not an unshared statemachines/*.asl.json", id, uri)
			continue
		}
		delete(unused, uri)
		def, err := os.ReadFile(filepath.Join(root, uri))
		if err != nil {
			t.Fatal(err)
		}
		var used []string
		for _, m := range placeholderRE.FindAllStringSubmatch(string(def), -1) {
			if !slices.Contains(used, m[1]) {
				used = append(used, m[1])
			}
		}
		subs, _ := props["DefinitionSubstitutions"].(map[string]any)
		var given []string
		for k := range subs {
			given = append(given, k)
		}
		sort.Strings(used)
		sort.Strings(given)
		if !slices.Equal(used, given) {
			t.Errorf("%s: %s uses ${…} %v; DefinitionSubstitutions gives %v", id, uri, used, given)
		}
	}
	for f := range unused {
		t.Errorf("%s is no state machine's definition", f)
	}
}

// TestFunctionFoldersMatchResources: every folder of functions/ is built into exactly one function
// of the template and every function is built from its folder, by `sam build` running the
// Makefile's build-<LogicalId> rule; all of them run the one runtime of Globals: the arm64
// `bootstrap` binary on provided.al2023, traced, logging JSON.
func TestFunctionFoldersMatchResources(t *testing.T) {
	tmpl := loadReal(t)
	raw := tmpl.Raw()
	root := filepath.Dir(tmpl.Path())
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		t.Fatal(err)
	}
	var folders []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		main, err := os.ReadFile(filepath.Join(root, "functions", e.Name(), "main.go"))
		if err != nil || !regexp.MustCompile(`(?m)^package main$`).Match(main) {
			t.Errorf("functions/%s has no main.go of package main (%v)", e.Name(), err)
		}
		folders = append(folders, e.Name())
	}
	// The Makefile's rule: sed -E 's/([a-z0-9])([A-Z])/\1-\2/g' | tr 'A-Z' 'a-z' on the id without "Function".
	kebab := regexp.MustCompile(`([a-z0-9])([A-Z])`)
	var built []string
	for _, id := range resourcesOfType(raw, "AWS::Serverless::Function") {
		decl, _ := dig(raw, "Resources", id).(map[string]any)
		props, _ := decl["Properties"].(map[string]any)
		if !strings.HasSuffix(id, "Function") {
			t.Errorf("%s: make's build-%%Function rule builds only ids ending in Function", id)
		}
		built = append(built, strings.ToLower(kebab.ReplaceAllString(strings.TrimSuffix(id, "Function"), "$1-$2")))
		if props["CodeUri"] != "." || dig(decl, "Metadata", "BuildMethod") != "makefile" {
			t.Errorf("%s: CodeUri %v, BuildMethod %v; want . and makefile (one module, built by make)", id, props["CodeUri"], dig(decl, "Metadata", "BuildMethod"))
		}
		for _, k := range []string{"Runtime", "Architectures", "Handler", "Tracing", "PackageType", "ImageUri", "InlineCode"} {
			if _, ok := props[k]; ok {
				t.Errorf("%s sets %s; every function takes it from Globals", id, k)
			}
		}
	}
	sort.Strings(folders)
	sort.Strings(built)
	if !slices.Equal(folders, built) {
		t.Errorf("functions/ holds %v; the template builds %v", folders, built)
	}
	g, _ := dig(raw, "Globals", "Function").(map[string]any)
	want := map[string]any{
		"Runtime":       "provided.al2023",
		"Architectures": []any{"arm64"},
		"Handler":       "bootstrap",
		"Tracing":       "Active",
	}
	for k, v := range want {
		if !reflect.DeepEqual(g[k], v) {
			t.Errorf("Globals.Function.%s = %v, want %v", k, g[k], v)
		}
	}
	if got := dig(g, "LoggingConfig", "LogFormat"); got != "JSON" {
		t.Errorf("Globals.Function.LoggingConfig.LogFormat = %v, want JSON (structured logs)", got)
	}
}
