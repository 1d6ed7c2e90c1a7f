// Package localaws starts and stops the local AWS stack — DynamoDB Local (AWS's own jar, run by
// Java), the SES v2 emulator aws-ses-v2-local (run by Node) and S3 (gofakes3, in process) — for
// `lethe local` and the tests, and hands out SDK clients pointed at it.
package localaws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"golang.org/x/sync/errgroup"
)

// Region is the region every local client uses; the emulators ignore it but the SDK needs one.
const Region = "us-east-1"

// The environment variables through which one running stack is shared with child processes
// (`lethe testenv` sets them; ConnectFromEnv reads them).
const (
	EnvDynamoDBEndpoint = "LETHE_DYNAMODB_ENDPOINT"
	EnvSESEndpoint      = "LETHE_SES_ENDPOINT"
	EnvS3Endpoint       = "LETHE_S3_ENDPOINT"
	// EnvDynamoDBLocalDir overrides where DynamoDBLocal.jar is looked for.
	EnvDynamoDBLocalDir = "LETHE_DYNAMODB_LOCAL_DIR"
)

// ErrNotConfigured is returned by ConnectFromEnv when none of the endpoint variables is set.
var ErrNotConfigured = errors.New("no local AWS endpoints in the environment (" +
	EnvDynamoDBEndpoint + ", " + EnvSESEndpoint + ", " + EnvS3Endpoint + ")")

// Options says where the tools are and how to run them. The zero value runs everything in memory on
// free loopback ports, with the tools found under the repository root.
type Options struct {
	// RepoRoot is the folder holding go.mod; default: found by walking up from the working directory.
	RepoRoot string
	// DynamoDBLocalDir holds DynamoDBLocal.jar and DynamoDBLocal_lib; default: $LETHE_DYNAMODB_LOCAL_DIR
	// (relative to RepoRoot), else <RepoRoot>/.tools/dynamodb-local (installed by `make deps`).
	DynamoDBLocalDir string
	// NPMDir is the npm project whose node_modules holds aws-ses-v2-local; default <RepoRoot>/tools/npm.
	NPMDir string

	// Ports on 127.0.0.1; 0 picks a free one.
	DynamoDBPort, SESPort, S3Port int

	// DataDir keeps DynamoDB Local's tables on disk there (created if missing); empty runs it in memory.
	DataDir string
	// S3DataFile keeps S3's buckets and objects in a bolt file there; empty keeps them in memory.
	S3DataFile string

	// Stdout and Stderr receive the emulators' output, each line prefixed with its name; nil discards
	// it (the last lines still appear in start-up errors).
	Stdout, Stderr io.Writer

	// StartTimeout bounds the wait for each emulator to answer; default 60s.
	StartTimeout time.Duration
}

// Stack is a set of local AWS endpoints with clients for them. Start returns one that owns its
// processes; ConnectFromEnv and Connect return one that only points at endpoints run by someone else.
type Stack struct {
	// Base URLs, e.g. "http://127.0.0.1:8000".
	DynamoDBEndpoint string
	SESEndpoint      string
	S3Endpoint       string

	cfg      aws.Config
	dynamoDB *dynamodb.Client
	s3       *s3.Client
	ses      *sesv2.Client

	children []*child
	s3Server *http.Server
	s3Close  func() error
	exited   chan error

	closeOnce sync.Once
	closeErr  error
}

// Start runs DynamoDB Local, the SES emulator and S3, and returns once all three answer. On error
// nothing is left running.
func Start(ctx context.Context, opts Options) (_ *Stack, err error) {
	if err := opts.resolve(); err != nil {
		return nil, err
	}
	java, node, err := preflight(opts)
	if err != nil {
		return nil, err
	}
	st := &Stack{exited: make(chan error, 2)}
	defer func() {
		if err != nil {
			st.Close()
		}
	}()

	s3URL, srv, s3Close, err := serveS3(opts.S3Port, opts.S3DataFile)
	if err != nil {
		return nil, err
	}
	st.s3Server, st.s3Close = srv, s3Close

	var (
		mu       sync.Mutex
		ddbURL   string
		sesURL   string
		children []*child
	)
	keep := func(c *child) {
		mu.Lock()
		defer mu.Unlock()
		children = append(children, c)
	}
	// The JVM takes a second or two to start; Node starts alongside it.
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		c, url, err := startDynamoDB(gctx, opts, java)
		if c != nil {
			keep(c)
		}
		ddbURL = url
		return err
	})
	g.Go(func() error {
		c, url, err := startSES(gctx, opts, node)
		if c != nil {
			keep(c)
		}
		sesURL = url
		return err
	})
	err = g.Wait()
	st.children = children
	if err != nil {
		return nil, err
	}
	st.DynamoDBEndpoint, st.SESEndpoint, st.S3Endpoint = ddbURL, sesURL, s3URL
	st.buildClients()
	for _, c := range children {
		go st.watch(c)
	}
	return st, nil
}

// Connect returns a Stack for endpoints run elsewhere; Close on it does nothing.
func Connect(dynamoDBEndpoint, sesEndpoint, s3Endpoint string) *Stack {
	st := &Stack{DynamoDBEndpoint: dynamoDBEndpoint, SESEndpoint: sesEndpoint, S3Endpoint: s3Endpoint}
	st.buildClients()
	return st
}

// ConnectFromEnv returns a Stack for the endpoints named by LETHE_DYNAMODB_ENDPOINT,
// LETHE_SES_ENDPOINT and LETHE_S3_ENDPOINT. It returns ErrNotConfigured when none is set and an error
// when only some are.
func ConnectFromEnv() (*Stack, error) {
	names := []string{EnvDynamoDBEndpoint, EnvSESEndpoint, EnvS3Endpoint}
	var vals, missing []string
	for _, n := range names {
		v := os.Getenv(n)
		if v == "" {
			missing = append(missing, n)
		}
		vals = append(vals, v)
	}
	switch len(missing) {
	case 0:
		return Connect(vals[0], vals[1], vals[2]), nil
	case len(names):
		return nil, ErrNotConfigured
	default:
		return nil, fmt.Errorf("local AWS endpoints only partly configured: %v not set", missing)
	}
}

// Env returns the variables that let a child process connect to this stack with ConnectFromEnv.
func (s *Stack) Env() []string {
	return []string{
		EnvDynamoDBEndpoint + "=" + s.DynamoDBEndpoint,
		EnvSESEndpoint + "=" + s.SESEndpoint,
		EnvS3Endpoint + "=" + s.S3Endpoint,
	}
}

// AWSConfig is the shared client configuration: region us-east-1 and static dummy credentials. It
// names no endpoint; set BaseEndpoint per service (the client constructors here do).
func (s *Stack) AWSConfig() aws.Config { return s.cfg.Copy() }

// DynamoDB returns the client for DynamoDB Local.
func (s *Stack) DynamoDB() *dynamodb.Client { return s.dynamoDB }

// S3 returns the path-style client for the in-process S3.
func (s *Stack) S3() *s3.Client { return s.s3 }

// SES returns the SES v2 client for the emulator.
func (s *Stack) SES() *sesv2.Client { return s.ses }

// PIDs returns the process ids of the emulators this stack runs, by name ("dynamodb", "ses").
func (s *Stack) PIDs() map[string]int {
	pids := make(map[string]int, len(s.children))
	for _, c := range s.children {
		pids[c.name] = c.cmd.Process.Pid
	}
	return pids
}

// Exited delivers an error when an emulator stops on its own before Close (so `lethe local` can stop
// too). It never fires for a Stack that owns no processes.
func (s *Stack) Exited() <-chan error { return s.exited }

// Close stops the emulators — SIGTERM to each process group, SIGKILL after a grace period — and waits
// for them. It is safe to call more than once.
func (s *Stack) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, c := range s.children {
			wg.Go(func() {
				if err := c.stop(5 * time.Second); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			})
		}
		if s.s3Server != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			if err := s.s3Server.Shutdown(ctx); err != nil {
				s.s3Server.Close()
			}
			cancel()
		}
		wg.Wait()
		if s.s3Close != nil {
			if err := s.s3Close(); err != nil {
				errs = append(errs, err)
			}
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

func (s *Stack) watch(c *child) {
	<-c.done
	if c.stopping.Load() {
		return
	}
	select {
	case s.exited <- fmt.Errorf("%s exited on its own (%v)%s", c.name, c.waitErr, c.tail.report()):
	default:
	}
}

func (s *Stack) buildClients() {
	s.cfg = aws.Config{
		Region:      Region,
		Credentials: staticCreds,
		// Local endpoints have no account-scoped host names.
		AccountIDEndpointMode: aws.AccountIDEndpointModeDisabled,
		RetryMaxAttempts:      5,
	}
	s.dynamoDB = dynamodb.NewFromConfig(s.cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(s.DynamoDBEndpoint)
	})
	s.s3 = s3.NewFromConfig(s.cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(s.S3Endpoint)
		o.UsePathStyle = true
	})
	s.ses = sesv2.NewFromConfig(s.cfg, func(o *sesv2.Options) {
		o.BaseEndpoint = aws.String(s.SESEndpoint)
	})
}

func (o *Options) resolve() error {
	if o.RepoRoot == "" {
		root, err := FindRepoRoot()
		if err != nil {
			return err
		}
		o.RepoRoot = root
	}
	if o.DynamoDBLocalDir == "" {
		o.DynamoDBLocalDir = os.Getenv(EnvDynamoDBLocalDir)
		if o.DynamoDBLocalDir != "" && !filepath.IsAbs(o.DynamoDBLocalDir) {
			o.DynamoDBLocalDir = filepath.Join(o.RepoRoot, o.DynamoDBLocalDir)
		}
	}
	if o.DynamoDBLocalDir == "" {
		o.DynamoDBLocalDir = filepath.Join(o.RepoRoot, ".tools", "dynamodb-local")
	}
	if o.NPMDir == "" {
		o.NPMDir = filepath.Join(o.RepoRoot, "tools", "npm")
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 60 * time.Second
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	return nil
}

// FindRepoRoot returns the nearest folder at or above the working directory that holds go.mod.
func FindRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("find repository root: no go.mod at or above %s", dir)
		}
		d = parent
	}
}
