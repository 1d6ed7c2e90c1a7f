package chsweep_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lethe-dev/lethe/internal/chanapi"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// answer is one scripted answer of a channel about a connection's credential.
type answer struct {
	res chanapi.Result
	err error
	// hook runs before the answer is given (a token changed, the window closed).
	hook func()
}

var (
	valid = answer{res: chanapi.Result{Verdict: chanapi.Valid, StatusCode: 200}}
	// What each channel documents as its refusal of a revoked credential (chanapi's package comment).
	refusals = map[string]chanapi.Result{
		platform.ChannelTelegram:  {Verdict: chanapi.Revoked, StatusCode: 401, Code: "401", Description: "Unauthorized"},
		platform.ChannelMessenger: {Verdict: chanapi.Revoked, StatusCode: 400, Code: "190/460", Description: "Error validating access token"},
		platform.ChannelInstagram: {Verdict: chanapi.Revoked, StatusCode: 400, Code: "190", Description: "Invalid OAuth access token"},
		platform.ChannelWhatsApp:  {Verdict: chanapi.Revoked, StatusCode: 401, Code: "190", Description: "Error validating access token"},
		platform.ChannelSlack:     {Verdict: chanapi.Revoked, StatusCode: 200, Code: "token_revoked"},
		platform.ChannelVK:        {Verdict: chanapi.Revoked, StatusCode: 200, Code: "5", Description: "User authorization failed"},
		platform.ChannelViber:     {Verdict: chanapi.Revoked, StatusCode: 200, Code: "2", Description: "invalid auth token"},
	}
	// Answers that say nothing about a credential.
	limited   = answer{err: &chanapi.APIError{Channel: "telegram", Op: "check", StatusCode: 429, Code: "429", RetryAfter: 7 * time.Second}}
	down      = answer{err: &chanapi.APIError{Channel: "telegram", Op: "check", StatusCode: 502, Description: "Bad Gateway"}}
	timedOut  = answer{err: fmt.Errorf("chanapi: telegram check: %w", os.ErrDeadlineExceeded)}
	noSecret  = answer{err: chanapi.ErrNoCredential}
	transient = map[string]answer{"429": limited, "5xx": down, "timeout": timedOut, "no credential": noSecret}
)

func refused(channel string) answer { return answer{res: refusals[channel]} }

// script is a chanapi.Client whose answers a test writes per connection id: each check takes the
// next answer, the last one repeats, and a connection with no script is valid. It records the
// (virtual) time of every check. The real clients are contract-tested against the channels'
// documented answers in internal/chanapi; this stands in for them at the sweep's boundary.
type script struct {
	now func() time.Time

	mu    sync.Mutex
	plan  map[string][]answer
	calls map[string][]time.Time
}

func newScript(now func() time.Time) *script {
	return &script{now: now, plan: map[string][]answer{}, calls: map[string][]time.Time{}}
}

func (s *script) set(id string, answers ...answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.plan[id] = answers
}

func (s *script) Check(ctx context.Context, conn platform.ChannelConnection) (chanapi.Result, error) {
	s.mu.Lock()
	s.calls[conn.ID] = append(s.calls[conn.ID], s.now())
	a := valid
	if p := s.plan[conn.ID]; len(p) > 0 {
		a = p[0]
		if len(p) > 1 {
			s.plan[conn.ID] = p[1:]
		}
	}
	s.mu.Unlock()
	if a.hook != nil {
		a.hook()
	}
	if a.err != nil {
		return chanapi.Result{}, a.err
	}
	return a.res, nil
}

func (s *script) SendCode(context.Context, platform.ChannelConnection, string, string, string) error {
	return errors.New("the sweep sends no codes")
}

// checks is how many times a connection was checked.
func (s *script) checks(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls[id])
}

func (s *script) times(id string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.calls[id]...)
}

// countingDB is the DynamoDB client, counting the Scans (there must be none) and the Queries of
// the platform table's GSI3.
type countingDB struct {
	*dynamodb.Client
	scans, slotQueries atomic.Int64
}

func (c *countingDB) Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	c.scans.Add(1)
	return c.Client.Scan(ctx, in, optFns...)
}

func (c *countingDB) Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	if aws.ToString(in.IndexName) == "GSI3" {
		c.slotQueries.Add(1)
	}
	return c.Client.Query(ctx, in, optFns...)
}

// logBuf collects slog output from concurrent goroutines.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// noSecret fails the test when s holds one of the secrets.
func noSecrets(t *testing.T, what, s string, secrets []string) {
	t.Helper()
	for _, sec := range secrets {
		if len(sec) >= 8 && strings.Contains(s, sec) {
			t.Errorf("%s holds a connection's secret:\n%s", what, s)
			return
		}
	}
}
