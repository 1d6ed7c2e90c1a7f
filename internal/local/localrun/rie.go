package localrun

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/lethe-dev/lethe/internal/httpapi"
	"github.com/lethe-dev/lethe/internal/local/localaws"
	"github.com/lethe-dev/lethe/internal/local/localflow"
	"github.com/lethe-dev/lethe/internal/rietest"
	"github.com/lethe-dev/lethe/internal/samtemplate"
	"github.com/lethe-dev/lethe/internal/system/wiring"
)

// EnvLambdaRuntime chooses how the local run serves the Lambdas: in this process (the default) or
// as the built bootstrap binaries under AWS's Runtime Interface Emulator.
const EnvLambdaRuntime = "LETHE_LAMBDA_RUNTIME"

// The values of LETHE_LAMBDA_RUNTIME.
const (
	// RuntimeInProcess calls each function's handler in this process.
	RuntimeInProcess = "inprocess"
	// RuntimeRIE builds every functions/* binary as the deployment does and invokes each, over the
	// Runtime Invoke API, under its own aws-lambda-rie processes.
	RuntimeRIE = "rie"
)

// checkRuntime refuses a runtime the run does not know ("" is the default, in process).
func checkRuntime(v string) (string, error) {
	switch v {
	case "", RuntimeInProcess:
		return RuntimeInProcess, nil
	case RuntimeRIE:
		return RuntimeRIE, nil
	}
	return "", fmt.Errorf("%s=%q: want %q (the default: every Lambda's handler in this process) or %q (the built bootstrap binaries under aws-lambda-rie)",
		EnvLambdaRuntime, v, RuntimeInProcess, RuntimeRIE)
}

// rieInstances is how many emulators one function may run at once: each serves one invocation at
// a time, as a Lambda execution environment does, so concurrent invocations of a function start
// more (up to this many) and then queue.
const rieInstances = 4

// lambdas serves every function of the run as its built binary under the Runtime Interface
// Emulator: one emulator per function started up front, more on demand.
type lambdas struct {
	// offset is the virtual clock's lead on the wall: each function runs with it in
	// LETHE_LOCAL_CLOCK_OFFSET, and is restarted when the clock is advanced.
	offset func() time.Duration
	build  *rietest.Build
	log    io.Writer
	pools  map[string]*riePool // by logical id
}

// riePool is one function's emulators.
type riePool struct {
	fn          rietest.Function
	env         map[string]string
	rie         string
	log         io.Writer
	slots       chan struct{}  // one per invocation in flight
	idle        chan *instance // started and not invoking
	mu          sync.Mutex
	all         []*instance
	clock       time.Duration // the clock offset new instances start with
	dropped     []string      // the logs of the instances stopped
	invocations atomic.Int64
}

// startLambdas builds every function into dir (the Go build cache makes a rebuild of unchanged
// code quick), then starts one emulator per function with the environment template.yaml gives it,
// its AWS clients pointed at the local emulators and Step Functions at sfnURL.
func startLambdas(ctx context.Context, offset func() time.Duration, tpl *samtemplate.Template, tenv samtemplate.Env, env map[string]string, stack *localaws.Stack,
	sfnURL, dir, scratch string, out, log io.Writer) (*lambdas, error) {
	root, err := localaws.FindRepoRoot()
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "lethe: building the functions as the deployment does (%s/%s, -tags lambda.norpc) into %s …\n", runtime.GOOS, runtime.GOARCH, dir)
	begin := time.Now()
	b, err := rietest.BuildAllReporting(ctx, root, dir, 2, func(done, total int) {
		fmt.Fprintf(out, "lethe:   built %d of %d binaries (%s)\n", done, total, time.Since(begin).Round(100*time.Millisecond))
	})
	if err != nil {
		return nil, err
	}
	l := &lambdas{offset: offset, build: b, log: log, pools: map[string]*riePool{}}
	ep := rietest.Endpoints{DynamoDB: stack.DynamoDBEndpoint, S3: stack.S3Endpoint, SES: stack.SESEndpoint, SFN: sfnURL}
	for _, fn := range b.Functions {
		names, err := rietest.VariableNames(tpl, fn.LogicalID)
		if err != nil {
			l.Close()
			return nil, err
		}
		vars := map[string]string{}
		for _, n := range names {
			vars[n] = env[n]
		}
		p := &riePool{fn: fn, rie: b.RIE, log: log, env: rietest.RuntimeEnv(tpl, tenv, fn.LogicalID, vars, ep, scratch),
			slots: make(chan struct{}, rieInstances), idle: make(chan *instance, rieInstances), clock: clockOffset(offset())}
		l.pools[fn.LogicalID] = p
		in, err := p.start(ctx)
		if err != nil {
			l.Close()
			return nil, err
		}
		p.idle <- in
	}
	fmt.Fprintf(out, "lethe: %d functions running under aws-lambda-rie (their logs: each line prefixed with the function's name%s)\n",
		len(b.Functions), logWhere(log))
	return l, nil
}

func logWhere(log io.Writer) string {
	if f, ok := log.(*os.File); ok {
		return ", on " + f.Name()
	}
	return ""
}

// instance is one emulator of a function and the clock offset it runs with.
type instance struct {
	*rietest.Instance
	clock time.Duration
}

// clockOffset is the offset a function is given: whole milliseconds (zero below one).
func clockOffset(d time.Duration) time.Duration { return d.Round(time.Millisecond) }

func (p *riePool) start(ctx context.Context) (*instance, error) {
	p.mu.Lock()
	env, clock := maps.Clone(p.env), p.clock
	p.mu.Unlock()
	if clock != 0 {
		env[wiring.EnvLocalClockOffset] = clock.String()
	}
	ri, err := rietest.StartLogged(ctx, p.rie, p.fn, env, localaws.NewPrefixWriter(p.log, p.fn.LogicalID+" | "))
	if err != nil {
		return nil, err
	}
	in := &instance{Instance: ri, clock: clock}
	p.mu.Lock()
	p.all = append(p.all, in)
	p.mu.Unlock()
	return in, nil
}

// setClock makes the instances started from now on run with the clock offset d, and stops the
// idle ones that run with another (a busy one is stopped when it finishes).
func (p *riePool) setClock(d time.Duration) {
	p.mu.Lock()
	changed := p.clock != d
	p.clock = d
	p.mu.Unlock()
	if !changed {
		return
	}
	for {
		select {
		case in := <-p.idle:
			p.drop(in)
		default:
			return
		}
	}
}

// Invoke sends payload to the function over the Runtime Invoke API: an idle emulator of it, a new
// one while fewer than rieInstances run, or the next to finish. A function error comes back as the
// messages.InvokeResponse_Error the runtime posted, with its errorType.
func (l *lambdas) Invoke(ctx context.Context, logicalID string, payload []byte) (json.RawMessage, error) {
	p := l.pools[logicalID]
	if p == nil {
		return nil, fmt.Errorf("no function %s among the built ones", logicalID)
	}
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-p.slots }()
	p.setClock(clockOffset(l.offset()))
	var in *instance
	select {
	case in = <-p.idle:
	default:
		var err error
		if in, err = p.start(ctx); err != nil {
			return nil, err
		}
	}
	p.invocations.Add(1)
	answer, failed, err := in.Invoke(ctx, payload)
	if err != nil {
		// The environment is gone (its init failed, or it died): the next invocation starts a
		// fresh one, as Lambda would.
		p.drop(in)
		return nil, err
	}
	if in.clock != clockOffset(l.offset()) {
		p.drop(in) // the clock moved on meanwhile
	} else {
		p.idle <- in
	}
	if failed {
		var doc messages.InvokeResponse_Error
		if err := json.Unmarshal(answer, &doc); err != nil {
			return nil, fmt.Errorf("%s: unreadable error document %q: %w", logicalID, answer, err)
		}
		return nil, doc
	}
	return answer, nil
}

func (p *riePool) drop(in *instance) {
	in.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.all = slices.DeleteFunc(p.all, func(x *instance) bool { return x == in })
	p.dropped = append(p.dropped, in.Log())
}

// Invocations counts the invocations each function's emulators were sent, by logical id.
func (l *lambdas) Invocations() map[string]int64 {
	out := map[string]int64{}
	for id, p := range l.pools {
		out[id] = p.invocations.Load()
	}
	return out
}

// Logs are what each function's emulators and binaries wrote, by logical id.
func (l *lambdas) Logs() map[string]string {
	out := map[string]string{}
	for id, p := range l.pools {
		p.mu.Lock()
		var b bytes.Buffer
		for _, l := range p.dropped {
			b.WriteString(l)
		}
		for _, in := range p.all {
			b.WriteString(in.Log())
		}
		p.mu.Unlock()
		out[id] = b.String()
	}
	return out
}

// Close stops every emulator.
func (l *lambdas) Close() {
	for _, id := range slices.Sorted(maps.Keys(l.pools)) {
		p := l.pools[id]
		p.mu.Lock()
		all := p.all
		p.all = nil
		p.mu.Unlock()
		for _, in := range all {
			in.Close()
		}
	}
}

// http is an HTTP API route's handler served by the function: the proxy event (payload 2.0) as
// API Gateway sends it, the response as the function answers it.
func (l *lambdas) http(logicalID string) httpapi.Handler {
	return func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		var resp events.APIGatewayV2HTTPResponse
		err := l.call(ctx, logicalID, req, &resp)
		return resp, err
	}
}

// mail is the intake served by InboundEmailFunction: the SES receipt event, no answer.
func (l *lambdas) mail(ctx context.Context, ev events.SimpleEmailEvent) error {
	return l.call(ctx, "InboundEmailFunction", ev, nil)
}

// call invokes the function with in as its event and decodes its answer into out (when not nil).
func (l *lambdas) call(ctx context.Context, logicalID string, in, out any) error {
	payload, err := json.Marshal(in)
	if err != nil {
		return err
	}
	answer, err := l.Invoke(ctx, logicalID, payload)
	if err != nil || out == nil {
		return err
	}
	if err := json.Unmarshal(answer, out); err != nil {
		return fmt.Errorf("%s answered %q: %w", logicalID, answer, err)
	}
	return nil
}

// invoker is Invoke as the workflows' engine takes it.
func (l *lambdas) invoker() localflow.Invoker { return l.Invoke }

// routesOver serves each route by the function that serves it in AWS.
func routesOver(routes []httpapi.Route, h httpapi.Handler) []httpapi.Route {
	out := slices.Clone(routes)
	for i := range out {
		out[i].Handler = h
	}
	return out
}
