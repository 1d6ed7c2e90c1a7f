package rietest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/intake"
	"github.com/lethe-dev/lethe/internal/local/localaws"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/rietest"
	"github.com/lethe-dev/lethe/internal/samtemplate"
	"github.com/lethe-dev/lethe/internal/system"
	"github.com/lethe-dev/lethe/internal/system/wiring"
	"github.com/lethe-dev/lethe/internal/testenv"
)

var shared struct {
	once  sync.Once
	root  string
	dir   string
	build *rietest.Build
	err   error
	tpl   *samtemplate.Template
}

func TestMain(m *testing.M) {
	code := testenv.Main(m)
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// built builds every function and the emulator once per test binary, two at a time (the machine
// the tests run on has two CPUs).
func built(t *testing.T) *rietest.Build {
	t.Helper()
	shared.once.Do(func() {
		if shared.root, shared.err = localaws.FindRepoRoot(); shared.err != nil {
			return
		}
		if shared.dir, shared.err = os.MkdirTemp("", "lethe-rie-"); shared.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		start := time.Now()
		if shared.build, shared.err = rietest.BuildAll(ctx, shared.root, shared.dir, 2); shared.err != nil {
			return
		}
		fmt.Fprintf(os.Stderr, "rietest: built %d functions and the emulator in %s\n", len(shared.build.Functions), time.Since(start).Round(time.Millisecond))
		shared.tpl, shared.err = samtemplate.Load(filepath.Join(shared.root, samtemplate.FileName))
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.build
}

// builderCall is how a functions/*/main.go builds its handler: apiedge.API(g), wiring.EraseSlice(g).
var builderCall = regexp.MustCompile(`\b(?:wiring|[a-z]+edge)\.([A-Za-z]+)\(g\)`)

// builderOf is the builder of system.Lambdas the function's main.go calls.
func builderOf(t *testing.T, folder string) func(*wiring.Graph) any {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(shared.root, "functions", folder, "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range builderCall.FindAllStringSubmatch(string(src), -1) {
		if b := system.Lambdas()[m[1]]; b != nil {
			return b
		}
	}
	t.Fatalf("functions/%s/main.go calls no builder of system.Lambdas", folder)
	return nil
}

// stack is one fresh test stack, its own Step Functions, and a function's environment on it.
type stack struct {
	env  *testenv.Env
	sfn  *stepFunctions
	vars map[string]string // the template's environment of the function
}

func newStack(t *testing.T, logicalID string) stack {
	t.Helper()
	e := testenv.New(t)
	vars, err := rietest.TemplateEnv(shared.tpl, e.TemplateEnv, logicalID, 3000)
	if err != nil {
		t.Fatal(err)
	}
	return stack{env: e, sfn: newStepFunctions(t), vars: vars}
}

// graph is the services of the function's environment on the stack's clients, as in process.
func (s stack) graph() *wiring.Graph {
	l := config.NewLoader(func(k string) string { return s.vars[k] })
	return wiring.NewGraph(l, wiring.Clients{DynamoDB: s.env.DynamoDB, S3: s.env.S3, SES: s.env.SES,
		SFN: sfn.NewFromConfig(s.env.AWSConfig(), func(o *sfn.Options) { o.BaseEndpoint = aws.String(s.sfn.URL) })}, nil)
}

// sampleRequest is the request every workflow task's sample names (events/open-request/start.json …).
const sampleRequest = "01KB76JMC0Z0NKTAX3X6FMPSM2"

// seedSampleRequest records the samples' request as an owner's end-user deletion just received,
// so that a task's sample reads a request and moves it (or is refused the move its stage does not
// allow) instead of stopping at "request not found".
func (s stack) seedSampleRequest(t *testing.T) {
	t.Helper()
	g := s.graph()
	ledger := g.Ledger()
	if err := g.Err(); err != nil {
		t.Fatal(err)
	}
	const account, bot, endUser = "01KB76HX0000000000000000AC", "01KB76HY0000000000000000B0", "01KB76HZ0000000000000000EU"
	r := request.Request{ID: sampleRequest, AccountID: account, Kind: request.KindEndUserDeletion, Source: "dashboard",
		Status: request.StatusReceived, Locale: "en", CreatedAt: time.Now().Add(-time.Hour),
		Scope: platform.ScopeRef{Kind: datamap.ScopeEndUser, AccountID: account, BotID: bot, EndUserID: endUser}}
	if _, err := ledger.Create(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

// start runs fn under the emulator on s, with the environment changed by edit.
func (s stack) start(t *testing.T, b *rietest.Build, fn rietest.Function, edit func(map[string]string)) *rietest.Instance {
	t.Helper()
	vars := maps.Clone(s.vars)
	if edit != nil {
		edit(vars)
	}
	env := rietest.RuntimeEnv(shared.tpl, s.env.TemplateEnv, fn.LogicalID, vars,
		rietest.Endpoints{DynamoDB: s.env.DynamoDBEndpoint, S3: s.env.S3Endpoint, SES: s.env.SESEndpoint, SFN: s.sfn.URL}, t.TempDir())
	in, err := rietest.Start(context.Background(), b.RIE, fn, env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.Close)
	return in
}

// inProcess is the function's handler as internal/system builds it, on s's clients, wrapped by
// aws-lambda-go as lambda.Start wraps it; invoke answers as the runtime would report it.
func (s stack) inProcess(t *testing.T, folder string) func([]byte) (answer []byte, failed bool) {
	t.Helper()
	g := s.graph()
	h := lambda.NewHandler(builderOf(t, folder)(g))
	if err := g.Err(); err != nil {
		t.Fatalf("%s in process: %v", folder, err)
	}
	return func(payload []byte) ([]byte, bool) {
		out, err := h.Invoke(context.Background(), payload)
		if err == nil {
			return out, false
		}
		// The runtime's error document (aws-lambda-go's lambdaErrorResponse).
		var ire messages.InvokeResponse_Error
		if !errors.As(err, &ire) {
			ire = messages.InvokeResponse_Error{Message: err.Error(), Type: errorType(err)}
		}
		doc, _ := json.Marshal(ire)
		return doc, true
	}
}

// TestEveryFunctionAnswersUnderTheEmulatorAsInProcess: every functions/* binary, built as the
// deployment builds it and run by AWS's Runtime Interface Emulator with the environment
// template.yaml gives it, answers every sample of its events/ folder as its in-process handler
// answers the same sample, each on a fresh stack of its own. Their init time and size are logged.
func TestEveryFunctionAnswersUnderTheEmulatorAsInProcess(t *testing.T) {
	b := built(t)
	if len(b.Functions) != len(system.Lambdas()) {
		t.Errorf("%d functions built, %d builders in system.Lambdas", len(b.Functions), len(system.Lambdas()))
	}
	for _, fn := range b.Functions {
		t.Run(fn.Folder, func(t *testing.T) {
			t.Parallel()
			samples, err := filepath.Glob(filepath.Join(shared.root, "events", fn.Folder, "*.json"))
			if err != nil || len(samples) == 0 {
				t.Fatalf("events/%s has no sample (%v)", fn.Folder, err)
			}
			local, deployed := newStack(t, fn.LogicalID), newStack(t, fn.LogicalID)
			if _, task := taskFunctions[fn.Folder]; task {
				local.seedSampleRequest(t)
				deployed.seedSampleRequest(t)
			}
			if fn.Folder == "inbound-email" {
				local.storeSampleMail(t, samples)
				deployed.storeSampleMail(t, samples)
			}
			invoke := local.inProcess(t, fn.Folder)
			in := deployed.start(t, b, fn, nil)
			for _, path := range samples {
				payload, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				name := filepath.Base(path)
				want, wantFailed := invoke(payload)
				got, gotFailed, err := in.Invoke(context.Background(), payload)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				w, g := normalize(want, local.env.StackName), normalize(got, deployed.env.StackName)
				if wantFailed != gotFailed || !equalJSON(w, g) {
					t.Errorf("%s %s:\nunder the emulator (failed %v): %s\nin process (failed %v):         %s\nfunction log: %q",
						fn.LogicalID, name, gotFailed, got, wantFailed, want, in.FunctionLog())
				}
				t.Logf("%s %s: failed=%v %s", fn.LogicalID, name, gotFailed, clip(got))
				if fn.Folder == "inbound-email" {
					// The intake answers nothing: what it did is in its journal of the mail.
					w, g := local.inboundOutcome(t, payload), deployed.inboundOutcome(t, payload)
					if w != g {
						t.Errorf("%s %s: the mail's journal under the emulator %s, in process %s", fn.LogicalID, name, g, w)
					}
					t.Logf("%s %s: journal %s", fn.LogicalID, name, g)
				}
			}
			// The workflows each started (or were refused), by the same calls.
			w, g := local.sfn.Calls(), deployed.sfn.Calls()
			for i := range w {
				w[i] = string(normalize([]byte(w[i]), local.env.StackName))
			}
			for i := range g {
				g[i] = string(normalize([]byte(g[i]), deployed.env.StackName))
			}
			if !slices.Equal(w, g) {
				t.Errorf("%s: Step Functions calls under the emulator %q, in process %q", fn.LogicalID, g, w)
			}
			for _, c := range g {
				t.Logf("%s: Step Functions %s", fn.LogicalID, clip([]byte(c)))
			}
			checkJSONLog(t, in)
			d, ok := in.WaitInitDuration(context.Background())
			if !ok {
				t.Errorf("%s: no INIT REPORT in the emulator's log:\n%s", fn.LogicalID, in.Log())
			}
			t.Logf("%s: init %s, binary %.1f MB", fn.LogicalID, d.Round(10*time.Microsecond), float64(fn.Size)/(1<<20))
		})
	}
}

// storeSampleMail stores, where the receipt rule's S3 action puts it, the message each
// events/inbound-email sample names: Jane Doe asking info@ to delete her data, so that the
// intake reads it from the bucket and answers her by mail (SES) as it would in AWS.
func (s stack) storeSampleMail(t *testing.T, samples []string) {
	t.Helper()
	for _, path := range samples {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var ev events.SimpleEmailEvent
		if err := json.Unmarshal(data, &ev); err != nil || len(ev.Records) != 1 {
			t.Fatalf("%s: %v", path, err)
		}
		m := ev.Records[0].SES.Mail
		raw := "From: " + m.CommonHeaders.From[0] + "\r\nTo: " + m.CommonHeaders.To[0] + "\r\nSubject: " + m.CommonHeaders.Subject +
			"\r\nDate: " + m.CommonHeaders.Date + "\r\nMessage-ID: " + m.CommonHeaders.MessageID +
			"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease delete all my personal data.\r\n"
		if _, err := s.env.S3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(s.env.Buckets["InboundMailBucket"]),
			Key: aws.String(intake.ObjectPrefix + m.MessageID), Body: strings.NewReader(raw)}); err != nil {
			t.Fatal(err)
		}
	}
}

// inboundOutcome is what the intake recorded of the mail a sample names: its state, kind, outcome,
// how many requests it made and whether it answered by mail (the SES message id itself differs).
func (s stack) inboundOutcome(t *testing.T, sample []byte) string {
	t.Helper()
	var ev events.SimpleEmailEvent
	if err := json.Unmarshal(sample, &ev); err != nil || len(ev.Records) != 1 {
		t.Fatalf("sample: %v", err)
	}
	g := s.graph()
	j, err := g.Ledger().Inbound(context.Background(), ev.Records[0].SES.Mail.MessageID)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("state=%s kind=%s outcome=%s requests=%d replied=%v error=%s", j.State, j.Kind, j.Outcome, len(j.Requests), j.Replied != "", j.Error)
}

// taskFunctions are the workflows' tasks, whose samples name the sample request.
var taskFunctions = map[string]struct{}{"open-request": {}, "begin-hard-delete": {}, "erase-slice": {},
	"complete-deletion": {}, "finish-request": {}, "await-decision": {}, "notify-declined": {}}

// A function that cannot start fails its first invocation with an *rietest.InitError naming the
// function and the first line the binary logged: a required variable removed is named in that
// line.
func TestAnInitFailureNamesTheFunctionAndItsFirstLogLine(t *testing.T) {
	b := built(t)
	fn, _ := b.Function("erase-slice")
	s := newStack(t, fn.LogicalID)
	in := s.start(t, b, fn, func(env map[string]string) { delete(env, config.EnvLedgerTable) })
	payload, err := os.ReadFile(filepath.Join(shared.root, "events", fn.Folder, "first-slice.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = in.Invoke(context.Background(), payload)
	var ie *rietest.InitError
	if !errors.As(err, &ie) || !errors.Is(err, rietest.ErrInit) {
		t.Fatalf("invoke without %s: %v, want an init failure", config.EnvLedgerTable, err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "EraseSliceFunction") || !strings.Contains(msg, "missing configuration") || !strings.Contains(msg, config.EnvLedgerTable) {
		t.Errorf("the harness says %q; want the function's name and its first log line naming %s", msg, config.EnvLedgerTable)
	}
	if ie.FirstLine != in.FunctionLog()[0] {
		t.Errorf("first line %q, the function logged %q first", ie.FirstLine, in.FunctionLog()[0])
	}
}

// A wrong table name does not stop a function's init (it reads no table then), so it shows at the
// first invocation that reads the table: the answer is the error DynamoDB gave, and it differs from
// what the function answers with its template's table.
func TestAWrongTableNameFailsTheFirstInvocationThatReadsIt(t *testing.T) {
	b := built(t)
	fn, _ := b.Function("open-request")
	s := newStack(t, fn.LogicalID)
	in := s.start(t, b, fn, func(env map[string]string) { env[config.EnvLedgerTable] = s.env.StackName + "-NoSuchTable" })
	payload, err := os.ReadFile(filepath.Join(shared.root, "events", fn.Folder, "start.json"))
	if err != nil {
		t.Fatal(err)
	}
	got, failed, err := in.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("invoke with a wrong table: %v", err)
	}
	if !failed || !strings.Contains(string(got), "ResourceNotFoundException") {
		t.Errorf("with a wrong table name the function answered (failed %v) %s; want DynamoDB's ResourceNotFoundException", failed, got)
	}
	// The failure is logged, as a JSON record.
	if len(in.FunctionLog()) == 0 {
		t.Errorf("%s logged nothing of its failure", fn.LogicalID)
	}
	checkJSONLog(t, in)
	want, wantFailed := s.inProcess(t, fn.Folder)(payload)
	if wantFailed == failed && equalJSON(normalize(want, s.env.StackName), normalize(got, s.env.StackName)) {
		t.Errorf("the wrong table answered as the right one: %s", got)
	}
}

// checkJSONLog: Globals' LoggingConfig (LogFormat: JSON) reaches the binary, so every line it
// wrote is one JSON object (slog's records with the request id, EMF metrics, the runtime's error
// records), none the plain text lambdacontext's handler writes without AWS_LAMBDA_LOG_FORMAT.
// The AWS SDK's own logger is apart: it writes "SDK <date> WARN …" text whatever the format (seen
// when DynamoDB Local's error answers fail the SDK's CRC32 check).
func checkJSONLog(t *testing.T, in *rietest.Instance) {
	t.Helper()
	for _, l := range in.FunctionLog() {
		if strings.HasPrefix(l, "SDK ") {
			continue
		}
		if !strings.HasPrefix(l, "{") || !json.Valid([]byte(l)) {
			t.Errorf("%s logged a line that is not a JSON object: %q", in.Function.LogicalID, clip([]byte(l)))
		}
	}
}

// What legitimately differs between two fresh stacks answering one sample: the stack's own name
// (in table names of errors) and the ULIDs and times each run mints.
var (
	ulid      = regexp.MustCompile(`\b[0-9A-HJKMNP-TV-Z]{26}\b`)
	timestamp = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})`)
)

func normalize(doc []byte, stackName string) []byte {
	s := strings.ReplaceAll(string(doc), stackName, "<stack>")
	s = ulid.ReplaceAllString(s, "<ulid>")
	s = timestamp.ReplaceAllString(s, "<time>")
	return []byte(s)
}

func equalJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return string(a) == string(b)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

func errorType(err error) string {
	t := fmt.Sprintf("%T", err)
	t = strings.TrimPrefix(t, "*")
	return t[strings.LastIndex(t, ".")+1:]
}

func clip(b []byte) string {
	s := string(b)
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// MeasureInit, the benchmarks' helper, reports a function's cold start from the emulator's INIT
// REPORT and the size of the binary the deployment ships.
func TestMeasureInitReportsTheColdStartAndSize(t *testing.T) {
	b := built(t)
	fn, _ := b.Function("notify-declined")
	s := newStack(t, fn.LogicalID)
	env := rietest.RuntimeEnv(shared.tpl, s.env.TemplateEnv, fn.LogicalID, s.vars,
		rietest.Endpoints{DynamoDB: s.env.DynamoDBEndpoint, S3: s.env.S3Endpoint, SES: s.env.SESEndpoint, SFN: s.sfn.URL}, t.TempDir())
	payload, err := os.ReadFile(filepath.Join(shared.root, "events", fn.Folder, "declined.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := rietest.MeasureInit(context.Background(), b.RIE, fn, env, payload)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(fn.Bootstrap)
	if err != nil {
		t.Fatal(err)
	}
	if m.LogicalID != "NotifyDeclinedFunction" || m.Size != st.Size() || m.Init <= 0 || m.Init > time.Minute {
		t.Errorf("measure %+v; want NotifyDeclinedFunction, %d bytes, an init between 0 and the timeout", m, st.Size())
	}
	// Without a variable it needs, the measure is the init failure, not a number.
	delete(env, config.EnvLedgerTable)
	if _, err := rietest.MeasureInit(context.Background(), b.RIE, fn, env, payload); !errors.Is(err, rietest.ErrInit) {
		t.Errorf("measure without %s: %v, want the init failure", config.EnvLedgerTable, err)
	}
}

func TestLogicalIDAndErrorDocument(t *testing.T) {
	for folder, want := range map[string]string{"api": "ApiFunction", "sla-sweep": "SlaSweepFunction",
		"open-request": "OpenRequestFunction", "retention-stream": "RetentionStreamFunction"} {
		if got := rietest.LogicalID(folder); got != want {
			t.Errorf("LogicalID(%q) = %q, want %q", folder, got, want)
		}
	}
	for doc, want := range map[string]bool{
		`{"errorMessage":"request not found","errorType":"RequestNotFound"}`:            true,
		`{"errorMessage":"x","errorType":"Internal","stackTrace":[]}`:                   true,
		`{"statusCode":500,"body":"{\"errorMessage\":\"x\",\"errorType\":\"y\"}"}`:      false,
		`{"errorMessage":"x","errorType":"y","requestId":"01KB76JMC0Z0NKTAX3X6FMPSM2"}`: false,
		`{"errorMessage":"x"}`: false,
		`null`:                 false,
		`{}`:                   false,
	} {
		if got := rietest.IsErrorDocument([]byte(doc)); got != want {
			t.Errorf("IsErrorDocument(%s) = %v, want %v", doc, got, want)
		}
	}
}
