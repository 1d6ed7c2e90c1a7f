package localflow_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/local/localaws"
	"github.com/lethe-dev/lethe/internal/local/statemachine"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/workflow"
)

// script is what a scripted task function answers: a JSON result, or an error by name.
type script func(payload map[string]any) (any, string)

func answer(v any) script         { return func(map[string]any) (any, string) { return v, "" } }
func failWith(name string) script { return func(map[string]any) (any, string) { return nil, name } }

// eraseOut is an EraseSlice result that carries the rescans it was given (the Rescan state counts them).
func eraseOut(done bool, iterations int) script {
	return func(p map[string]any) (any, string) {
		rescans := 0.0
		if e, ok := p["erase"].(map[string]any); ok {
			rescans, _ = e["rescans"].(float64)
		}
		return map[string]any{"checkpoint": map[string]any{"table": "t", "segment": 1}, "done": done,
			"iterations": iterations, "rescans": rescans}, ""
	}
}

// failPath is one way into a Fail state: the task functions' scripted answers, and the error the
// ledger must name.
type failPath struct {
	machine, fail, name string
	tasks               map[string]script // by state name
	decision            string            // the answer to a waiting task, if any
	wantError           string
	// idSuffix lengthens the request id: past 47 characters, a hand-off's child name passes the 80
	// Step Functions allows, and the parent's own StartExecution is refused.
	idSuffix string
}

// machinesPrelude scripts the states before the erase loop of each machine.
var machinesPrelude = map[string]map[string]script{
	"account-deletion": {
		"Open":            answer(map[string]any{"softDeleteEndsAt": "2025-11-01T00:00:00Z"}),
		"BeginHardDelete": answer(map[string]any{"proceed": true}),
	},
	"end-customer-request": {
		"Open":       answer(map[string]any{"escalateAfterSeconds": 3600, "decideWithinSeconds": 3600}),
		"AwaitOwner": answer(nil),
	},
	"end-user-deletion": {"Open": answer(map[string]any{})},
	"connection-wipe":   {"Open": answer(map[string]any{})},
	"erase-scope":       {},
}

var approved = `{"approved":true}`

func failPaths() []failPath {
	var out []failPath
	for _, m := range []string{"account-deletion", "end-user-deletion", "connection-wipe", "end-customer-request", "erase-scope"} {
		with := func(name string, tasks map[string]script, wantError string, idSuffix ...string) {
			all := map[string]script{}
			for k, v := range machinesPrelude[m] {
				all[k] = v
			}
			for k, v := range tasks {
				all[k] = v
			}
			dec := ""
			if m == "end-customer-request" {
				dec = approved
			}
			out = append(out, failPath{machine: m, fail: "Failed", name: name, tasks: all, decision: dec, wantError: wantError,
				idSuffix: strings.Join(idSuffix, "")})
		}
		with("a task fails", map[string]script{"EraseSlice": failWith(workflow.ErrNameInternal)}, workflow.ErrNameInternal)
		with("a task output lacks the field a Choice reads", map[string]script{"EraseSlice": answer(map[string]any{"iterations": 1})}, workflow.ErrNameBadInput)
		// The child hands off under the name of the running child itself: StartExecution refuses it.
		with("a hand-off cannot start its child", map[string]script{"EraseSlice": eraseOut(false, 500)}, "StepFunctions.ExecutionAlreadyExistsException")
		with("a hand-off's StartExecution is refused", map[string]script{"EraseSlice": eraseOut(false, 500)}, "StepFunctions.InvalidNameException",
			"-with-a-suffix-past-the-name-limit")
		if m != "erase-scope" {
			with("verification keeps finding data", map[string]script{"EraseSlice": eraseOut(true, 1),
				"Complete": failWith(workflow.ErrNameNotVerified)}, workflow.ErrNameNotVerified)
		}
	}
	out = append(out,
		failPath{machine: "account-deletion", fail: "Failed", name: "BeginHardDelete output lacks proceed",
			tasks: map[string]script{"Open": machinesPrelude["account-deletion"]["Open"], "BeginHardDelete": answer(map[string]any{})}, wantError: workflow.ErrNameBadInput},
		failPath{machine: "account-deletion", fail: "Failed", name: "Complete output lacks status",
			tasks: map[string]script{"Open": machinesPrelude["account-deletion"]["Open"], "BeginHardDelete": machinesPrelude["account-deletion"]["BeginHardDelete"],
				"EraseSlice": eraseOut(true, 1), "Complete": answer(map[string]any{})}, wantError: workflow.ErrNameBadInput},
		failPath{machine: "end-customer-request", fail: "Failed", name: "the decision lacks approved",
			tasks: machinesPrelude["end-customer-request"], decision: `{}`, wantError: workflow.ErrNameBadInput},
		failPath{machine: "account-deletion", fail: "Failed", name: "Open output lacks the window's end",
			tasks: map[string]script{"Open": answer(map[string]any{})}, wantError: workflow.ErrNameBadInput},
		failPath{machine: "end-customer-request", fail: "Failed", name: "Open output lacks the decision timeouts",
			tasks: map[string]script{"Open": answer(map[string]any{"escalateAfterSeconds": 3600})}, wantError: workflow.ErrNameBadInput},
	)
	return out
}

// failStates lists every Fail state of every machine, as machine/state.
func failStates(t *testing.T) []string {
	t.Helper()
	root, err := localaws.FindRepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(root, "statemachines", "*.asl.json"))
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var def struct {
			States map[string]struct{ Type string }
		}
		if err := json.Unmarshal(b, &def); err != nil {
			t.Fatal(err)
		}
		for name, st := range def.States {
			if st.Type == "Fail" {
				out = append(out, strings.TrimSuffix(filepath.Base(f), ".asl.json")+"/"+name)
			}
		}
	}
	if len(out) < 5 {
		t.Fatalf("found %d Fail states", len(out))
	}
	return out
}

// Every Fail state of every machine is reached only after the failure is recorded in the ledger and
// the privacy officer alerted, once, whichever path led there (a task error, a Choice whose field is
// missing, verification that never passes, a hand-off whose StartExecution is refused); and the SLA
// sweep leaves a failed request to the operator (no re-drive).
func TestEveryFailStateRecordsTheFailureAndAlertsOnce(t *testing.T) {
	paths := failPaths()
	covered := map[string]bool{}
	for _, p := range paths {
		covered[p.machine+"/"+p.fail] = true
	}
	for _, fs := range failStates(t) {
		if !covered[fs] {
			t.Errorf("Fail state %s has no failure path in this test", fs)
		}
	}
	for _, p := range paths {
		t.Run(p.machine+"/"+p.name, func(t *testing.T) {
			t.Parallel()
			runFailPath(t, p)
		})
	}
}

func runFailPath(t *testing.T, p failPath) {
	w := newWorld(t, lateNovember2025, nil)
	kind := map[string]request.Kind{"account-deletion": request.KindAccountDeletion, "end-user-deletion": request.KindEndUserDeletion,
		"connection-wipe": request.KindConnectionWipe, "end-customer-request": request.KindEndCustomerRequest,
		"erase-scope": request.KindEndUserDeletion}[p.machine]
	id := platform.NewID(lateNovember2025) + p.idSuffix
	if _, err := w.sys.Ledger.Create(w.ctx, request.Request{ID: id, AccountID: "acct-1", Kind: kind, Source: "dashboard",
		Status: request.StatusHardDeleting, Scope: platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: "acct-1"}}); err != nil {
		t.Fatal(err)
	}
	var machine statemachine.Machine
	defs := map[string]map[string]any{}
	for _, m := range w.stack.Machines {
		var def struct{ States map[string]map[string]any }
		if err := json.Unmarshal(m.Definition, &def); err != nil {
			t.Fatal(err)
		}
		for name, st := range def.States {
			defs[name] = st // the task functions are the same in every machine
		}
		if strings.HasSuffix(m.Name, p.machine) {
			machine = m
		}
	}
	if machine.ARN == "" {
		t.Fatalf("no machine %s", p.machine)
	}
	var mu sync.Mutex
	var token string
	for state, s := range p.tasks {
		st := defs[state]
		fn, _ := st["Resource"].(string)
		if params, ok := st["Parameters"].(map[string]any); ok && params["FunctionName"] != nil {
			fn = params["FunctionName"].(string)
		}
		if fn == "" {
			t.Fatalf("state %s has no function", state)
		}
		w.eng.RegisterLambda(fn, 128, func(_ context.Context, payload json.RawMessage) (json.RawMessage, error) {
			var in map[string]any
			_ = json.Unmarshal(payload, &in)
			if tok, ok := in["taskToken"].(string); ok {
				mu.Lock()
				token = tok
				mu.Unlock()
			}
			out, errName := s(in)
			if errName != "" {
				return nil, messages.InvokeResponse_Error{Type: errName, Message: "scripted failure"}
			}
			return json.Marshal(out)
		})
	}
	input := `{"requestId":"` + id + `"}`
	if p.machine == "erase-scope" {
		input = `{"requestId":"` + id + `","erase":{"checkpoint":null,"done":false,"iterations":0,"rescans":0}}`
	}
	out, err := w.eng.StartExecution(w.ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(machine.ARN), Name: aws.String(id[:min(len(id), 80)]),
		Input: aws.String(input)})
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	mu.Lock()
	tok := token
	mu.Unlock()
	if tok != "" && p.decision != "" {
		if _, err := w.eng.SendTaskSuccess(w.ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok), Output: aws.String(p.decision)}); err != nil {
			t.Fatal(err)
		}
		w.settle()
	}
	x := w.execution(aws.ToString(out.ExecutionArn))
	if x.Status != "FAILED" || x.Error != "DeletionFailed" {
		t.Fatalf("execution %s %s (%s), want FAILED in %s", x.Status, x.Error, x.Cause, p.fail)
	}
	r := w.request(id)
	if r.Status != request.StatusFailed {
		t.Fatalf("request %s, want failed", r.Status)
	}
	if note := r.History[len(r.History)-1].Note; !strings.Contains(note, "failed: "+p.wantError) {
		t.Errorf("ledger note %q, want the cause %s", note, p.wantError)
	}
	alerts := func() int {
		n := 0
		for _, m := range w.mailTo("privacy") {
			if strings.Contains(m.Subject, id) {
				n++
			}
		}
		return n
	}
	if n := alerts(); n != 1 {
		t.Errorf("%d alerts to the privacy officer, want 1", n)
	}
	// The SLA sweep leaves a failed request to the operator: no re-drive, no second alert.
	before := len(w.eng.Executions())
	w.advance(time.Hour)
	rep, err := w.sys.SLASweep.Run(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Redriven != 0 || rep.Errors != 0 || len(w.eng.Executions()) != before {
		t.Errorf("sweep %+v started %d executions, want a failed request left to the operator", rep, len(w.eng.Executions())-before)
	}
	if got := w.request(id).Status; got != request.StatusFailed {
		t.Errorf("after the sweep the request is %s, want failed", got)
	}
	if n := alerts(); n != 1 {
		t.Errorf("after the sweep %d alerts to the privacy officer, want 1", n)
	}
}
