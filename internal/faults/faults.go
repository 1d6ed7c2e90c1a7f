// Package faults injects the faults AWS really produces — throttling, server errors, unprocessed
// BatchWriteItem requests, DeleteObjects that leave keys behind, and a process that dies mid-work —
// into real SDK clients, at the HTTP transport, so tests exercise the real client against the real
// emulators (DynamoDB Local, gofakes3) rather than a hand-written double.
//
// A Transport answers some calls itself with the exact wire response AWS would send and rewrites
// others on their way to and from the emulator, on a schedule drawn from a seed:
//
//	tr := faults.NewTransport(nil, faults.Plan{Seed: 1, Throttle: 0.3, Unprocessed: 0.3})
//	db := faults.DynamoDB(env.AWSConfig(), env.DynamoDBEndpoint, tr)
//
// The k-th call the plan targets always meets the same fault, whatever came before it, so a failing
// seed replays; with concurrent callers the order of arrival, and so who meets which fault, varies.
//
// Rewritten requests keep their length and payload checksums right but not their SigV4 signature:
// DynamoDB Local and gofakes3 do not check signatures, so the transport is for the emulators only.
package faults

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// ErrCrashed is what every call returns once the transport has crashed (Plan.CrashAfter, Crash): the
// caller sees its work stop midway, as when a Lambda is killed.
var ErrCrashed = errors.New("faults: process crashed")

// Plan says which faults to inject and how often. The zero Plan injects nothing.
type Plan struct {
	// Seed fixes the schedule: the same seed and the same sequence of calls meet the same faults.
	Seed uint64

	// Probabilities in [0, 1] that a targeted call meets each fault. A call meets at most one, tried
	// in this order.
	//
	// Throttle answers without forwarding: DynamoDB's 400 ProvisionedThroughputExceededException,
	// ThrottlingException or RequestLimitExceeded (picked at random), S3's 503 SlowDown.
	Throttle float64
	// ServerError answers without forwarding: DynamoDB's 500 InternalServerError, S3's 500
	// InternalError.
	ServerError float64
	// Unprocessed (BatchWriteItem of two or more requests) forwards a random non-empty proper subset
	// of the requests and returns the rest in UnprocessedItems.
	Unprocessed float64
	// PartialDelete (DeleteObjects) forwards all but a random non-empty subset of the keys and
	// reports those as InternalError entries; they are not deleted. When the subset is every key,
	// nothing is forwarded.
	PartialDelete float64

	// Operations limits faults and CrashAfter's count to these operations, named as the SDK names
	// them ("BatchWriteItem", "DeleteObjects"); a DynamoDB target ("DynamoDB_20120810.BatchWriteItem")
	// works too. Empty targets every call. Faults go only into DynamoDB and S3 calls; other services'
	// calls only count towards CrashAfter and stop at a crash.
	Operations []string
	// Tables, when set, limits faults and CrashAfter's count further to DynamoDB calls on these
	// tables (the request's TableName, or a table of BatchWriteItem's RequestItems): a test can fail
	// one read among several of the same operation.
	Tables []string
	// After lets the first After targeted calls through untouched: a test can fail the second of
	// two reads it cannot tell apart otherwise.
	After int

	// CrashAfter, when positive, crashes the transport at the CrashAfter-th targeted mutating call
	// that succeeds: that call reaches the emulator and takes effect, but its caller gets ErrCrashed,
	// like every call after it. Calls answered by an injected fault do not count.
	CrashAfter int
}

// Kind names a fault, as Call records it.
type Kind string

// The faults, and the crash.
const (
	Throttling       Kind = "throttling"
	ServerFault      Kind = "server-error"
	UnprocessedItems Kind = "unprocessed-items"
	PartialDelete    Kind = "partial-delete"
	Crashed          Kind = "crashed"
)

// Call is what happened to one call.
type Call struct {
	N         int    // 1-based, in order of arrival
	Operation string // as the SDK names it: "BatchWriteItem", "DeleteObjects", "PutObject"
	Fault     Kind   // "" when the call went through untouched
	Code      string // error code answered, for Throttling and ServerFault
	Withheld  int    // write requests left unprocessed, or keys left undeleted
	Forwarded bool   // reached the emulator and was answered, whole or in part
}

// Counts add up calls.
type Counts struct {
	Calls          int // calls made
	Forwarded      int // calls that reached the emulator and were answered, whole or in part
	Throttled      int
	ServerErrors   int
	Unprocessed    int // BatchWriteItem calls with requests left unprocessed
	PartialDeletes int // DeleteObjects calls with keys left undeleted
	Withheld       int // write requests left unprocessed plus keys left undeleted
	Crashed        int // calls that returned ErrCrashed
}

// Stats describes what the transport did since it was made or last Reset.
type Stats struct {
	Counts
	ByOperation map[string]Counts
	Log         []Call // every call, by N
}

// Transport is an http.RoundTripper, and an aws.HTTPClient, that injects the faults of a Plan. It is
// safe for concurrent use.
type Transport struct {
	base   http.RoundTripper
	client *http.Client

	mu        sync.Mutex
	plan      Plan
	gen       int // bumped by Reset, so calls in flight across it do not record into the new stats
	targeted  uint64
	mutations int
	crashed   bool
	stats     Stats
}

// NewTransport wraps base (nil: the SDK's default transport) with the faults of p.
func NewTransport(base http.RoundTripper, p Plan) *Transport {
	if base == nil {
		base = awshttp.NewBuildableClient().GetTransport()
	}
	t := &Transport{base: base}
	t.client = &http.Client{Transport: t}
	t.Reset(p)
	return t
}

// Do makes the Transport an aws.HTTPClient, for aws.Config.HTTPClient and the clients' options.
func (t *Transport) Do(req *http.Request) (*http.Response, error) { return t.client.Do(req) }

// Reset replaces the plan and starts the schedule, the stats and the crash afresh.
func (t *Transport) Reset(p Plan) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p.Operations = slices.Clone(p.Operations)
	for i, op := range p.Operations {
		p.Operations[i] = op[strings.LastIndex(op, ".")+1:]
	}
	t.plan = p
	t.gen++
	t.targeted, t.mutations, t.crashed = 0, 0, false
	t.stats = Stats{ByOperation: map[string]Counts{}}
}

// Crash makes every later call return ErrCrashed until Reset; calls in flight lose their responses,
// whether or not the emulator acted on them.
func (t *Transport) Crash() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.crashed = true
}

// Stats returns a copy of the counts and the log.
func (t *Transport) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.stats
	st.ByOperation = maps.Clone(st.ByOperation)
	st.Log = slices.Clone(st.Log)
	return st
}

type service int

const (
	svcOther service = iota
	svcDynamoDB
	svcS3
)

// call is one request on its way through the transport.
type call struct {
	req      *http.Request
	svc      service
	op       string
	mutating bool
	n, gen   int
	targeted bool
	tables   []string // the DynamoDB tables the call names, read only when the plan targets tables
	dice     *dice    // nil when the call meets no random fault
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	c := classify(req)
	t.mu.Lock()
	byTable := len(t.plan.Tables) > 0
	t.mu.Unlock()
	if byTable && c.svc == svcDynamoDB {
		var err error
		if c.tables, err = tablesOf(req); err != nil {
			return nil, err
		}
	}
	t.mu.Lock()
	c.gen = t.gen
	c.n = len(t.stats.Log) + 1
	t.stats.Log = append(t.stats.Log, Call{N: c.n, Operation: c.op})
	t.count(c.op, func(k *Counts) { k.Calls++ })
	if t.crashed {
		t.finishLocked(c, Call{Fault: Crashed})
		t.mu.Unlock()
		closeBody(req)
		return nil, ErrCrashed
	}
	plan := t.plan
	c.targeted = len(plan.Operations) == 0 || slices.Contains(plan.Operations, c.op)
	if len(plan.Tables) > 0 {
		c.targeted = c.targeted && slices.ContainsFunc(c.tables, func(name string) bool { return slices.Contains(plan.Tables, name) })
	}
	if c.targeted && c.svc != svcOther {
		if t.targeted >= uint64(max(plan.After, 0)) {
			c.dice = newDice(plan.Seed, t.targeted)
		}
		t.targeted++
	}
	t.mu.Unlock()

	resp, rec, err := t.inject(c, plan)
	if err != nil {
		closeBody(req)
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.crashed && c.gen == t.gen {
			// Whatever cut the call short (a connection the dying process tore down), the caller
			// of a crashed process hears only of the crash.
			t.finishLocked(c, Call{Fault: Crashed})
			return nil, ErrCrashed
		}
		t.finishLocked(c, rec)
		return nil, err
	}
	if !rec.Forwarded {
		t.finish(c, rec)
		return resp, nil
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	crash := t.crashed
	if !crash && c.targeted && c.mutating && plan.CrashAfter > 0 && resp.StatusCode/100 == 2 && c.gen == t.gen {
		t.mutations++
		crash = t.mutations == plan.CrashAfter
		t.crashed = t.crashed || crash
	}
	if crash {
		// The work is done but nobody is left to hear of it.
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		rec.Fault, rec.Code = Crashed, ""
		t.finishLocked(c, rec)
		return nil, ErrCrashed
	}
	t.finishLocked(c, rec)
	resp.Body = &crashableBody{ReadCloser: resp.Body, t: t, gen: c.gen}
	return resp, nil
}

// crashableBody is a response body still on its way to the caller: once the transport has crashed,
// the rest of it is lost like every other response in flight, and reading it says so.
type crashableBody struct {
	io.ReadCloser
	t   *Transport
	gen int
}

func (b *crashableBody) Read(p []byte) (int, error) {
	if b.t.crashedIn(b.gen) {
		return 0, ErrCrashed
	}
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && b.t.crashedIn(b.gen) {
		return n, ErrCrashed
	}
	return n, err
}

// crashedIn reports whether the transport crashed while the plan of generation gen still held.
func (t *Transport) crashedIn(gen int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.crashed && t.gen == gen
}

// inject decides the call's fault and carries it out, returning the response and what happened.
func (t *Transport) inject(c *call, p Plan) (*http.Response, Call, error) {
	d := c.dice
	if d == nil {
		resp, err := t.base.RoundTrip(c.req)
		return resp, Call{Forwarded: err == nil}, err
	}
	// Every call rolls every die, so that a plan's probabilities do not shift the rest of its draws.
	throttle, server, partial := d.Float64() < p.Throttle, d.Float64() < p.ServerError, d.Float64()
	switch {
	case throttle:
		closeBody(c.req)
		resp, code := throttleResponse(c, d)
		return resp, Call{Fault: Throttling, Code: code}, nil
	case server:
		closeBody(c.req)
		resp, code := serverErrorResponse(c, d)
		return resp, Call{Fault: ServerFault, Code: code}, nil
	case c.svc == svcDynamoDB && c.op == "BatchWriteItem" && partial < p.Unprocessed:
		return t.withholdWrites(c)
	case c.svc == svcS3 && c.op == "DeleteObjects" && partial < p.PartialDelete:
		return t.withholdDeletes(c)
	}
	resp, err := t.base.RoundTrip(c.req)
	return resp, Call{Forwarded: err == nil}, err
}

func (t *Transport) finish(c *call, rec Call) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.finishLocked(c, rec)
}

func (t *Transport) finishLocked(c *call, rec Call) {
	if c.gen != t.gen {
		return
	}
	rec.N, rec.Operation = c.n, c.op
	t.stats.Log[c.n-1] = rec
	t.count(c.op, func(k *Counts) {
		if rec.Forwarded {
			k.Forwarded++
		}
		switch rec.Fault {
		case Throttling:
			k.Throttled++
		case ServerFault:
			k.ServerErrors++
		case UnprocessedItems:
			k.Unprocessed++
		case PartialDelete:
			k.PartialDeletes++
		case Crashed:
			k.Crashed++
		}
		k.Withheld += rec.Withheld
	})
}

func (t *Transport) count(op string, f func(*Counts)) {
	f(&t.stats.Counts)
	k := t.stats.ByOperation[op]
	f(&k)
	t.stats.ByOperation[op] = k
}

// classify names the call's service and operation: from the SDK's context when it made the request,
// else from the wire (X-Amz-Target, S3's ?delete).
func classify(req *http.Request) *call {
	c := &call{req: req}
	ctx := req.Context()
	target := req.Header.Get("X-Amz-Target")
	switch id := awsmiddleware.GetServiceID(ctx); {
	case id == "DynamoDB" || strings.HasPrefix(target, "DynamoDB_"):
		c.svc = svcDynamoDB
	case id == "S3" || id == "" && target == "":
		c.svc = svcS3
	}
	c.op = awsmiddleware.GetOperationName(ctx)
	if c.op == "" {
		switch {
		case target != "":
			c.op = target[strings.LastIndex(target, ".")+1:]
		case req.Method == http.MethodPost && req.URL.Query().Has("delete"):
			c.op = "DeleteObjects"
		default:
			c.op = req.Method
		}
	}
	if c.svc == svcDynamoDB {
		c.mutating = !isDynamoDBRead(c.op)
	} else {
		c.mutating = req.Method != http.MethodGet && req.Method != http.MethodHead
	}
	return c
}

func isDynamoDBRead(op string) bool {
	for _, p := range []string{"Get", "BatchGet", "TransactGet", "Query", "Scan", "Describe", "List"} {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return false
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// forward sends a copy of c's request with body in place of the original, its length and checksum
// headers made to match, and returns the response with its body read (and still readable).
func (t *Transport) forward(c *call, body []byte) (*http.Response, []byte, error) {
	req := c.req.Clone(c.req.Context())
	if err := setBody(req, body); err != nil {
		return nil, nil, err
	}
	// The response is rewritten too: keep it uncompressed (DynamoDB's CRC32 covers the wire bytes).
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	replaceBody(resp, b)
	return resp, b, nil
}

// tablesOf reads the tables a DynamoDB request names and puts its body back as it was.
func tablesOf(req *http.Request) ([]string, error) {
	b, err := readBody(req)
	if err != nil {
		return nil, fmt.Errorf("faults: read the request body: %w", err)
	}
	if err := setBody(req, b); err != nil {
		return nil, err
	}
	var in struct {
		TableName    string
		RequestItems map[string]json.RawMessage
	}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &in); err != nil {
			return nil, fmt.Errorf("faults: read the tables of a DynamoDB request: %w", err)
		}
	}
	names := slices.Sorted(maps.Keys(in.RequestItems))
	if in.TableName != "" {
		names = append(names, in.TableName)
	}
	return names, nil
}

// readBody reads and closes the request body.
func readBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	defer req.Body.Close()
	return io.ReadAll(req.Body)
}

var _ interface {
	http.RoundTripper
	Do(*http.Request) (*http.Response, error)
} = (*Transport)(nil)
