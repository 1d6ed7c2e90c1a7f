// Package statemachine is a local AWS Step Functions (Standard) engine: it loads the Amazon States
// Language definitions that production deploys and runs executions in process on a virtual clock,
// with Lambda functions registered as Go functions and the DynamoDB and SES v2 integrations sent to
// the local emulators. Its API is the method set of *sfn.Client, so code written against Step
// Functions runs unchanged on it, in `make run` and in tests. What it does not support it refuses
// when a machine is created, rather than behaving differently from AWS at run time.
package statemachine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Error names of the States language and of Step Functions.
const (
	ErrAll               = "States.ALL"
	ErrRuntime           = "States.Runtime"
	ErrTimeout           = "States.Timeout"
	ErrHeartbeatTimeout  = "States.HeartbeatTimeout"
	ErrTaskFailed        = "States.TaskFailed"
	ErrDataLimitExceeded = "States.DataLimitExceeded"
	ErrNoChoiceMatched   = "States.NoChoiceMatched"
	ErrIntrinsicFailure  = "States.IntrinsicFailure"
	ErrPermissions       = "States.Permissions"
	// ErrResultPathMatchFailure: a Task's or Pass's ResultPath cannot be applied to its input.
	ErrResultPathMatchFailure = "States.ResultPathMatchFailure"
)

// HistoryLimit is the most events a Standard execution's history may hold; an execution that
// would exceed it fails with States.Runtime, as in AWS.
const HistoryLimit = 25000

// DataLimit is the largest input, output or state data Step Functions accepts, in bytes.
const DataLimit = 256 * 1024

// LambdaFunc is a Lambda function registered in process: it gets the invocation payload and
// returns the response payload, as a Go Lambda handler does.
type LambdaFunc func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error)

// Options configure an Engine. Zero values take local defaults.
type Options struct {
	// Clock is the virtual time; nil gives a clock that follows the wall.
	Clock *Clock
	// Region and AccountID build execution ARNs and sign requests (default us-east-1, 000000000000).
	Region, AccountID string
	// DynamoDBEndpoint and SESEndpoint are where the dynamodb and sesv2 integrations send requests
	// (e.g. http://127.0.0.1:8000); a task that needs an unset one fails.
	DynamoDBEndpoint, SESEndpoint string
	// AccessKeyID and SecretAccessKey sign those requests (default static test credentials).
	AccessKeyID, SecretAccessKey string
	// HTTPClient sends them (default: a client with a 30 s timeout).
	HTTPClient *http.Client
	// Seed makes retry jitter and States.MathRandom deterministic; 0 picks a random seed.
	Seed uint64
	// Pricing prices the cost estimate; zero fields take DefaultPricing's.
	Pricing Pricing
}

// Engine runs state machines locally. It is safe for concurrent use; Lambda handlers may call
// back into it (StartExecution, SendTaskSuccess, …) while it runs them.
type Engine struct {
	opts     Options
	clock    *Clock
	ownClock bool
	httpc    *http.Client

	mu       sync.Mutex
	cond     *sync.Cond
	busy     int // executions and invocations running (not parked), plus undelivered wake-ups
	machines map[string]*machine
	lambdas  map[string]*lambdaFn
	execs    map[string]*execution
	order    []*execution
	tokens   map[string]*taskToken
	rng      *mrand.Rand
}

type machine struct {
	name, arn string
	doc       []byte
	def       *definition
}

type lambdaFn struct {
	arn      string
	memoryMB int
	fn       LambdaFunc
}

// New returns an engine with no state machines.
func New(opts Options) *Engine {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.AccountID == "" {
		opts.AccountID = "000000000000"
	}
	if opts.AccessKeyID == "" {
		opts.AccessKeyID, opts.SecretAccessKey = "lethelocal", "lethelocal"
	}
	opts.Pricing = opts.Pricing.withDefaults()
	e := &Engine{
		opts:     opts,
		clock:    opts.Clock,
		httpc:    opts.HTTPClient,
		machines: map[string]*machine{},
		lambdas:  map[string]*lambdaFn{},
		execs:    map[string]*execution{},
		tokens:   map[string]*taskToken{},
	}
	if e.clock == nil {
		e.clock, e.ownClock = NewClock(time.Now(), true), true
	}
	if e.httpc == nil {
		e.httpc = &http.Client{Timeout: 30 * time.Second}
	}
	seed := opts.Seed
	if seed == 0 {
		seed = mrand.Uint64()
	}
	e.rng = mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	e.cond = sync.NewCond(&e.mu)
	return e
}

// Close stops the clock if the engine created it. Executions still parked stay as they are.
func (e *Engine) Close() {
	if e.ownClock {
		e.clock.Stop()
	}
}

// Clock is the engine's virtual clock.
func (e *Engine) Clock() *Clock { return e.clock }

// RegisterLambda makes fn the handler of the Lambda function with the given ARN (a qualifier, if
// any, is ignored); memoryMB is its configured memory, for the cost estimate.
func (e *Engine) RegisterLambda(functionARN string, memoryMB int, fn LambdaFunc) {
	if memoryMB <= 0 {
		memoryMB = 128
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lambdas[functionName(functionARN)] = &lambdaFn{arn: functionARN, memoryMB: memoryMB, fn: fn}
}

// functionName extracts the function name from a name, a partial ARN or a full ARN, without qualifier.
func functionName(s string) string {
	if i := strings.Index(s, "function:"); i >= 0 {
		s = s[i+len("function:"):]
	}
	name, _, _ := strings.Cut(s, ":")
	return name
}

// CreateStateMachine parses and validates definition and registers it under name and arn. It
// refuses what the engine does not support, naming the state and the field. Creating the same
// machine again with the same definition does nothing.
func (e *Engine) CreateStateMachine(name, arn string, definition []byte) error {
	if !validName(name) {
		return fmt.Errorf("state machine name %q is invalid", name)
	}
	if !strings.HasPrefix(arn, "arn:") || !strings.HasSuffix(arn, ":stateMachine:"+name) {
		return fmt.Errorf("state machine %s: ARN %q does not end in :stateMachine:%s", name, arn, name)
	}
	def, err := parseDefinition(definition, e.checkResource)
	if err != nil {
		return fmt.Errorf("state machine %s: %w", name, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if old, ok := e.machines[arn]; ok {
		if string(old.doc) == string(definition) {
			return nil
		}
		return fmt.Errorf("state machine %s already exists with a different definition", arn)
	}
	e.machines[arn] = &machine{name: name, arn: arn, doc: append([]byte(nil), definition...), def: def}
	return nil
}

// checkResource refuses Lambda functions that are not registered, where the definition names them.
func (e *Engine) checkResource(st *state) error {
	fn := ""
	switch st.res.kind {
	case resLambdaFunction:
		fn = st.res.function
	case resLambdaInvoke:
		if st.parameters == nil {
			return fmt.Errorf("%s needs Parameters with FunctionName", st.res.arn)
		}
		var found bool
		for _, f := range st.parameters.fields {
			switch {
			case f.name == "FunctionName" && f.value != nil:
				s, ok := f.value.literal.(string)
				if !ok {
					return fmt.Errorf("Parameters.FunctionName must be a string")
				}
				fn, found = functionName(s), true
			case f.name == "FunctionName":
				found = true // a path: checked when it runs
			}
		}
		if !found {
			return fmt.Errorf("%s needs Parameters.FunctionName", st.res.arn)
		}
	}
	if fn == "" {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.lambdas[fn]; !ok {
		return fmt.Errorf("Lambda function %q is not registered with the engine (RegisterLambda first)", fn)
	}
	return nil
}

// validName applies Step Functions' rules for state machine and execution names.
func validName(s string) bool {
	if s == "" || len(s) > 80 {
		return false
	}
	for _, r := range s {
		if r <= 0x20 || (r >= 0x7f && r <= 0x9f) || strings.ContainsRune("<>{}[]?*\"#%\\^|~`$&,;:/", r) {
			return false
		}
	}
	return true
}

// stateError is an error as the States language sees it: a name and a cause.
type stateError struct {
	Name, Cause string
}

func (e *stateError) Error() string { return e.Name + ": " + e.Cause }

// Settle waits until every execution is parked (on a timer, a task token or a child) or finished.
// A Lambda handler must not call it: it would wait for itself.
func (e *Engine) Settle(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		e.mu.Lock()
		e.cond.Broadcast()
		e.mu.Unlock()
	})
	defer stop()
	e.mu.Lock()
	defer e.mu.Unlock()
	for e.busy > 0 {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("settle: %w", err)
		}
		e.cond.Wait()
	}
	return nil
}

// Advance moves the virtual clock forward by d: it settles, fires the earliest due timer, settles
// again and so on, so that everything due within d happens in time order, then sets the clock to
// the target. It returns the new time.
func (e *Engine) Advance(ctx context.Context, d time.Duration) (time.Time, error) {
	target := e.clock.Now().Add(d)
	for {
		if err := e.Settle(ctx); err != nil {
			return e.clock.Now(), err
		}
		next, ok := e.clock.nextDue()
		if !ok || next.After(target) {
			break
		}
		e.clock.setAtLeast(next)
		e.clock.fireOne(e.clock.Now())
	}
	e.clock.setAtLeast(target)
	return e.clock.Now(), e.Settle(ctx)
}

// Drain runs everything to completion: it advances to each next timer until none is due within
// max of now.
func (e *Engine) Drain(ctx context.Context, max time.Duration) error {
	for {
		if err := e.Settle(ctx); err != nil {
			return err
		}
		next, ok := e.clock.nextDue()
		now := e.clock.Now()
		if !ok || next.Sub(now) > max {
			return nil
		}
		if _, err := e.Advance(ctx, max0(next.Sub(now))); err != nil {
			return err
		}
	}
}

func max0(d time.Duration) time.Duration {
	if d < 0 {
		return 0
	}
	return d
}

// newToken returns an opaque, unguessable task token.
func newToken() string {
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	return "AQ" + hex.EncodeToString(b)
}

func validTokenFormat(s string) bool {
	if len(s) != 2+96 || !strings.HasPrefix(s, "AQ") {
		return false
	}
	_, err := hex.DecodeString(s[2:])
	return err == nil
}

func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// runCtx supplies the randomness intrinsic functions need.
type runCtx struct {
	e *Engine
}

func (rc *runCtx) uuid() string { return newUUID() }

func (rc *runCtx) randInt(n int64) int64 {
	rc.e.mu.Lock()
	defer rc.e.mu.Unlock()
	return rc.e.rng.Int64N(n)
}

func (e *Engine) randFloat() float64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.rng.Float64()
}
