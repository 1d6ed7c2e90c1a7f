package workflow_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/lethe-dev/lethe/internal/deletion"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/local/localaws"
	"github.com/lethe-dev/lethe/internal/mailer"
	"github.com/lethe-dev/lethe/internal/workflow"
)

func repo(t *testing.T) string {
	t.Helper()
	root, err := localaws.FindRepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// errorNames collects every ErrorEquals name of a definition.
func errorNames(v any, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if k == "ErrorEquals" {
				for _, n := range c.([]any) {
					out[n.(string)] = true
				}
				continue
			}
			errorNames(c, out)
		}
	case []any:
		for _, c := range x {
			errorNames(c, out)
		}
	}
}

// Step Functions can only react to errors it can name: every name a machine's Retry or Catch uses is
// one the handlers return (OwnErrorNames) or one AWS raises (ServiceErrorNames).
func TestEveryErrorNameInTheMachinesExists(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(repo(t), "statemachines", "*.asl.json"))
	if len(files) < 5 {
		t.Fatalf("found %d state machines", len(files))
	}
	known := map[string]bool{}
	for _, n := range append(slices.Clone(workflow.OwnErrorNames), workflow.ServiceErrorNames...) {
		known[n] = true
	}
	used := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var def any
		if err := json.Unmarshal(b, &def); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		names := map[string]bool{}
		errorNames(def, names)
		for n := range names {
			used[n] = true
			if !known[n] {
				t.Errorf("%s: Retry/Catch names %q, which no handler returns and AWS does not raise", filepath.Base(f), n)
			}
		}
	}
	// The names the machines rely on to retry or branch are really used.
	for _, n := range []string{workflow.ErrNameTransient, workflow.ErrNameNotVerified, workflow.ErrNameWindowOpen, "States.Timeout", "Lambda.ServiceException"} {
		if !used[n] {
			t.Errorf("no machine handles %s", n)
		}
	}
}

// Every own name is what Classify gives some real error.
func TestClassifyNamesTheErrors(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("x: %w", workflow.ErrWindowOpen), workflow.ErrNameWindowOpen},
		{fmt.Errorf("x: %w", deletion.ErrNotVerified), workflow.ErrNameNotVerified},
		{fmt.Errorf("x: %w", deletion.ErrNotDeleting), workflow.ErrNameNotDeleting},
		{fmt.Errorf("x: %w", ledger.ErrConflict), workflow.ErrNameConflict},
		{ledger.ErrNotFound, workflow.ErrNameNotFound},
		{&mailer.MissingDataError{Template: mailer.AccountDeleted, Field: "x"}, workflow.ErrNameBadInput},
		{&smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException"}, workflow.ErrNameTransient},
		{&smithy.GenericAPIError{Code: "ThrottlingException"}, workflow.ErrNameTransient},
		{&smithy.GenericAPIError{Code: "ValidationException"}, workflow.ErrNameInternal},
		{errors.New("boom"), workflow.ErrNameInternal},
		{&workflow.Error{Name: workflow.ErrNameBadInput, Err: errors.New("no id")}, workflow.ErrNameBadInput},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		if got := workflow.Classify(tt.err); got != tt.want {
			t.Errorf("Classify(%v) = %s, want %s", tt.err, got, tt.want)
		}
		seen[tt.want] = true
	}
	for _, n := range workflow.OwnErrorNames {
		if !seen[n] {
			t.Errorf("no error is classified as %s", n)
		}
	}
}

// Every task function of the template has its folder whose main.go starts the task the local engine
// serves for it (internal/system.TaskHandlers), and every sample event decodes into that task's input.
func TestFunctionsFoldersAndEvents(t *testing.T) {
	root := repo(t)
	tasks := map[string]string{ // folder → method of workflow.Tasks
		"open-request": "Open", "begin-hard-delete": "BeginHardDelete", "erase-slice": "EraseSlice",
		"complete-deletion": "Complete", "finish-request": "Finish", "await-decision": "AwaitDecision",
		"notify-declined": "NotifyDeclined",
	}
	tpl, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	kebab := regexp.MustCompile(`([a-z0-9])([A-Z])`)
	lambdas, err := os.ReadFile(filepath.Join(root, "internal", "system", "wiring", "tasks.go"))
	if err != nil {
		t.Fatal(err)
	}
	for folder, method := range tasks {
		main, err := os.ReadFile(filepath.Join(root, "functions", folder, "main.go"))
		if err != nil {
			t.Errorf("%s: %v", folder, err)
			continue
		}
		logical := ""
		for _, p := range strings.Split(folder, "-") {
			logical += strings.ToUpper(p[:1]) + p[1:]
		}
		// main calls its builder (internal/system/wiring/tasks.go), which returns the task's Lambda handler.
		builder := regexp.MustCompile(`func ` + logical + `\(g \*Graph\)[^{]*\{\s*return workflow\.Lambda\(g\.(?:FinalMail)?Tasks\(\)\.` + method + `\)\s*\}`)
		if !strings.Contains(string(main), "handler := wiring."+logical+"(g)") || !builder.Match(lambdas) {
			t.Errorf("functions/%s/main.go does not start Tasks.%s", folder, method)
		}
		logical += "Function"
		if !strings.Contains(string(tpl), "\n  "+logical+":\n") {
			t.Errorf("template.yaml has no %s for functions/%s", logical, folder)
		}
		if got := strings.ToLower(kebab.ReplaceAllString(strings.TrimSuffix(logical, "Function"), "$1-$2")); got != folder {
			t.Errorf("make's build-%s would build functions/%s, not %s", logical, got, folder)
		}
		samples, _ := filepath.Glob(filepath.Join(root, "events", folder, "*.json"))
		if len(samples) == 0 {
			t.Errorf("events/%s has no sample", folder)
		}
		for _, s := range samples {
			b, err := os.ReadFile(s)
			if err != nil {
				t.Fatal(err)
			}
			if err := decodeInput(folder, b); err != nil {
				t.Errorf("%s: %v", s, err)
			}
		}
	}
}

func decodeInput(folder string, b []byte) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if folder == "await-decision" {
		var in workflow.Await
		if err := dec.Decode(&in); err != nil {
			return err
		}
		if in.RequestID == "" || in.TaskToken == "" || in.Stage == "" {
			return errors.New("requestId, taskToken and stage are required")
		}
		return nil
	}
	// The other tasks get the machine's whole state: known fields strictly, the results of earlier
	// states (open, begin, complete …) as they are.
	var in struct {
		workflow.State
		Open     *workflow.Opened         `json:"open"`
		Begin    *workflow.Began          `json:"begin"`
		Complete *workflow.Completed      `json:"complete"`
		Decision *workflow.DecisionOutput `json:"decision"`
	}
	if err := dec.Decode(&in); err != nil {
		return err
	}
	if in.RequestID == "" {
		return errors.New("no requestId")
	}
	if folder == "complete-deletion" && (in.Erase == nil || !in.Erase.Done) {
		return errors.New("complete-deletion needs a finished erase")
	}
	return nil
}
