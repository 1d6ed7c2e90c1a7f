package localrun

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/lethe-dev/lethe/internal/local/localaws"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/workflow"
)

// An unknown LETHE_LAMBDA_RUNTIME is refused, naming the values there are, before anything starts.
func TestAnUnknownLambdaRuntimeIsRefused(t *testing.T) {
	t.Setenv(EnvLambdaRuntime, "docker")
	_, err := OptionsFromEnv(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), `"docker"`) || !strings.Contains(err.Error(), `"inprocess"`) || !strings.Contains(err.Error(), `"rie"`) {
		t.Errorf("OptionsFromEnv with %s=docker: %v; want a refusal naming inprocess and rie", EnvLambdaRuntime, err)
	}
	out := &strings.Builder{}
	err = Run(context.Background(), Options{APIPort: -1, SESPort: -1, DynamoDBPort: -1, S3Port: -1, Out: out, LambdaRuntime: "docker"})
	if err == nil || !strings.Contains(err.Error(), EnvLambdaRuntime) {
		t.Errorf("Run with the runtime docker: %v; want the refusal", err)
	}
	if out.Len() != 0 {
		t.Errorf("Run started something before refusing the runtime:\n%s", out)
	}
	for _, v := range []string{"", "inprocess", "rie"} {
		t.Setenv(EnvLambdaRuntime, v)
		if o, err := OptionsFromEnv(t.TempDir()); err != nil || o.LambdaRuntime == "" {
			t.Errorf("%s=%q: %v, runtime %q", EnvLambdaRuntime, v, err, o.LambdaRuntime)
		}
	}
}

// syncBuffer is the functions' output, written by the emulators' goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// functionsDir is where the tests build the functions: kept between runs (per checkout), so that
// a run after the first only relinks what changed.
func functionsDir(t *testing.T) string {
	root, err := localaws.FindRepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(root))
	return filepath.Join(os.TempDir(), "lethe-test-functions-"+hex.EncodeToString(sum[:6]))
}

// With LETHE_LAMBDA_RUNTIME=rie the local run serves every Lambda as its built binary under
// aws-lambda-rie: an account deletion asked through the API (ApiFunction), opened and soft-deleted
// by the workflow's task (OpenRequestFunction), and, once the virtual clock has passed the 30-day
// window, hard-deleted (BeginHardDeleteFunction, EraseSliceFunction, CompleteDeletionFunction), each
// invocation answered by a bootstrap process whose INIT and REPORT lines are in the run's output;
// a function's error reaches the engine under the errorType the in-process handler gives.
func TestLocalRunServesTheLambdasUnderTheEmulator(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan *System, 1)
	done := make(chan error, 1)
	out, logs := &strings.Builder{}, &syncBuffer{}
	go func() {
		done <- Run(ctx, Options{APIPort: -1, SESPort: -1, DynamoDBPort: -1, S3Port: -1, SMTPPort: -1, DataDir: t.TempDir(),
			Seed: 5, Now: time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC), Out: out, SweepTick: -1,
			LambdaRuntime: RuntimeRIE, FunctionsDir: functionsDir(t), LambdaLog: logs, Ready: func(s *System) { ready <- s }})
	}()
	var sys *System
	select {
	case sys = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("local run failed to start: %v\n%s", err, out)
	case <-time.After(5 * time.Minute):
		cancel()
		t.Fatalf("local run not ready after 5 minutes\n%s", out)
	}
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	if !strings.Contains(out.String(), "bootstrap binaries under aws-lambda-rie") {
		t.Errorf("the ready lines do not say the Lambdas run under the emulator:\n%s", out)
	}
	a := sys.Manifest.Accounts[0]
	var owner string
	for _, m := range a.Members {
		if m.Role == platform.RoleOwner {
			owner = m.Sub
		}
	}
	tok, err := sys.Issuer.Mint(owner, a.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	before := sys.lambdas.Invocations()

	// The owner asks for the account's deletion through the API.
	body, _ := json.Marshal(map[string]string{"password": a.Password})
	req, _ := http.NewRequest(http.MethodPost, sys.APIURL+"/v1/account/deletion", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "rie-test-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var asked struct{ ID, Status string }
	json.NewDecoder(resp.Body).Decode(&asked)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 || asked.ID == "" {
		t.Fatalf("POST /v1/account/deletion: %d %+v\n%s", resp.StatusCode, asked, tail(logs.String()))
	}
	if err := sys.Workflows.Engine.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := sys.Workflows.System.Ledger.Get(ctx, asked.ID)
	if err != nil || r.Status != request.StatusSoftDeleted {
		t.Fatalf("after the request: %s %v\n%s", r.Status, err, tail(logs.String()))
	}
	// Past the 30-day window the workflow's tasks hard-delete the account: BeginHardDeleteFunction
	// reads the virtual clock (on the wall's it would refuse with WindowStillOpen, and the request
	// would fail instead).
	var adv struct{ Now time.Time }
	if code := postJSON(t, sys.APIURL+"/_local/clock/advance", `{"duration":"721h"}`, &adv); code != 200 {
		t.Fatalf("advance: %d", code)
	}
	if r, err = sys.Workflows.System.Ledger.Get(ctx, asked.ID); err != nil || r.Status != request.StatusAwaitingBackupRotation {
		t.Fatalf("after 30 days: %s %v\n%s", r.Status, err, tail(logs.String()))
	}
	after := sys.lambdas.Invocations()
	all := sys.lambdas.Logs()
	for _, id := range []string{"ApiFunction", "OpenRequestFunction", "BeginHardDeleteFunction", "EraseSliceFunction", "CompleteDeletionFunction"} {
		if after[id] <= before[id] {
			t.Errorf("%s: %d invocations before the deletion, %d after; want its emulator to have served it", id, before[id], after[id])
		}
		if !strings.Contains(all[id], "INIT REPORT(durationMs: ") || !regexp.MustCompile(`REPORT RequestId: \S+\t.*Billed Duration: `).MatchString(all[id]) {
			t.Errorf("%s: no INIT and invocation REPORT lines from its emulator:\n%s", id, all[id])
		}
		if !strings.Contains(logs.String(), id+" | ") {
			t.Errorf("the run's output has no line prefixed %q", id+" | ")
		}
	}
	// A function's error reaches the engine under the name the in-process handler gives it.
	sample, err := os.ReadFile(filepath.Join(mustRoot(t), "events", "begin-hard-delete", "window-ended.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = sys.lambdas.Invoke(ctx, "BeginHardDeleteFunction", sample)
	var doc messages.InvokeResponse_Error
	if !errors.As(err, &doc) || doc.Type != workflow.ErrNameNotFound {
		t.Errorf("BeginHardDelete of an unknown request under the emulator: %v; want the error %s", err, workflow.ErrNameNotFound)
	}
	_, inErr := sys.Workflows.System.TaskHandlers()["BeginHardDeleteFunction"](ctx, sample)
	var inDoc messages.InvokeResponse_Error
	if !errors.As(inErr, &inDoc) || inDoc.Type != doc.Type {
		t.Errorf("in process the same sample gave %v, under the emulator %v", inErr, err)
	}

	// The scheduled sweeps are invoked on their functions too.
	var rep map[string]any
	if code := postJSON(t, sys.APIURL+"/_local/sweeps/sla", ``, &rep); code != 200 || rep == nil {
		t.Errorf("SLA sweep: %d %v", code, rep)
	}
	if n := sys.lambdas.Invocations()["SlaSweepFunction"]; n != after["SlaSweepFunction"]+1 {
		t.Errorf("SlaSweepFunction invocations %d, want %d", n, after["SlaSweepFunction"]+1)
	}
}

func mustRoot(t *testing.T) string {
	root, err := localaws.FindRepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// tail is the end of the functions' output, for a failure's message.
func tail(s string) string {
	if len(s) > 6000 {
		return "…" + s[len(s)-6000:]
	}
	return s
}
