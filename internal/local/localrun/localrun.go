// Package localrun runs the whole of Lethe on a developer's machine (`make run`): it starts the local
// AWS stack, creates the tables and buckets template.yaml defines, configures every component with
// the environment template.yaml gives its functions, seeds the demo data once, and serves the
// local-only control routes under /_local/ until it is stopped.
package localrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/intake"
	"github.com/lethe-dev/lethe/internal/local/chanstand"
	"github.com/lethe-dev/lethe/internal/local/localauth"
	"github.com/lethe-dev/lethe/internal/local/localaws"
	"github.com/lethe-dev/lethe/internal/local/localflow"
	"github.com/lethe-dev/lethe/internal/local/localsmtp"
	"github.com/lethe-dev/lethe/internal/local/statemachine"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/samtemplate"
	"github.com/lethe-dev/lethe/internal/seed"
	"github.com/lethe-dev/lethe/internal/system"
)

// StackName is the stack name template.yaml is evaluated for locally.
const StackName = "lethe-local"

// Environment variables that choose the local ports (SPEC §6 defaults).
const (
	EnvAPIPort      = "LETHE_API_PORT"
	EnvSESPort      = "LETHE_SES_PORT"
	EnvDynamoDBPort = "LETHE_DYNAMODB_PORT"
	EnvS3Port       = "LETHE_S3_PORT"
	EnvSMTPPort     = "LETHE_SMTP_PORT"
	EnvDataDir      = "LETHE_DATA_DIR"
)

// Options configure one local run. Zero ports take the defaults; tests pass -1 for "any free port".
type Options struct {
	APIPort, SESPort, DynamoDBPort, S3Port, SMTPPort int
	// DataDir holds DynamoDB Local's files and the local signing key; "" keeps everything in memory
	// and in a temporary folder (tests).
	DataDir string
	// Seed and Now fix the demo data; Now zero means the time of the first run.
	Seed uint64
	Now  time.Time
	// Out receives the human-readable start-up lines; Log the emulators' output.
	Out, Log io.Writer
	// Ready, if set, is called with the running system once it serves.
	Ready func(*System)
	// SweepTick is how often the scheduled sweeps are checked against the virtual clock (a minute
	// when zero); a negative value runs them only when asked for (POST /_local/sweeps/{name}).
	SweepTick time.Duration
	// LambdaRuntime is how the Lambdas are served: RuntimeInProcess ("" too) or RuntimeRIE (the
	// built binaries under aws-lambda-rie); anything else is refused before anything starts.
	LambdaRuntime string
	// FunctionsDir is where RuntimeRIE builds the functions: DataDir/functions when empty (a
	// temporary folder without a DataDir). A kept folder makes the next build only relink.
	FunctionsDir string
	// LambdaLog receives the emulators' and functions' output under RuntimeRIE, each line prefixed
	// with the function's name (Out when nil).
	LambdaLog io.Writer
}

// OptionsFromEnv reads ports and the data folder from the environment, with SPEC §6's defaults.
func OptionsFromEnv(root string) (Options, error) {
	o := Options{APIPort: 3000, SESPort: 8005, DynamoDBPort: 8000, S3Port: 8006, SMTPPort: 2525, DataDir: filepath.Join(root, ".local")}
	for name, dst := range map[string]*int{EnvAPIPort: &o.APIPort, EnvSESPort: &o.SESPort, EnvDynamoDBPort: &o.DynamoDBPort, EnvS3Port: &o.S3Port, EnvSMTPPort: &o.SMTPPort} {
		if v := os.Getenv(name); v != "" {
			p, err := strconv.Atoi(v)
			if err != nil || p < 1 || p > 65535 {
				return Options{}, fmt.Errorf("%s=%q is not a port", name, v)
			}
			*dst = p
		}
	}
	if v := os.Getenv(EnvDataDir); v != "" {
		o.DataDir = v
	}
	var err error
	if o.LambdaRuntime, err = checkRuntime(os.Getenv(EnvLambdaRuntime)); err != nil {
		return Options{}, err
	}
	return o, nil
}

// Endpoints are where a local run serves: what `make run` listens on, and what every `lethe`
// command that talks to the local run (hold, seed, backfill) dials, so the two never disagree.
type Endpoints struct {
	API, DynamoDB, SES, S3 string // base URLs, http://127.0.0.1:<port>
	SMTP                   string // 127.0.0.1:<port>
}

// Endpoints answers where a run with these ports serves (a port of -1, any free one, is only
// known once the run listens: its System says).
func (o Options) Endpoints() Endpoints {
	url := func(p int) string { return fmt.Sprintf("http://127.0.0.1:%d", p) }
	return Endpoints{API: url(o.APIPort), DynamoDB: url(o.DynamoDBPort), SES: url(o.SESPort), S3: url(o.S3Port),
		SMTP: fmt.Sprintf("127.0.0.1:%d", o.SMTPPort)}
}

// EndpointsFromEnv answers where `make run` serves in this environment: OptionsFromEnv's ports
// (LETHE_API_PORT … with SPEC §6's defaults). An emulator named by its endpoint variable
// (LETHE_DYNAMODB_ENDPOINT, LETHE_SES_ENDPOINT, LETHE_S3_ENDPOINT: what `lethe testenv` hands its
// command) is that emulator instead, since a command run under testenv means those.
func EndpointsFromEnv() (Endpoints, error) {
	o, err := OptionsFromEnv("")
	if err != nil {
		return Endpoints{}, err
	}
	e := o.Endpoints()
	for name, dst := range map[string]*string{localaws.EnvDynamoDBEndpoint: &e.DynamoDB, localaws.EnvSESEndpoint: &e.SES,
		localaws.EnvS3Endpoint: &e.S3} {
		if v := os.Getenv(name); v != "" {
			*dst = v
		}
	}
	return e, nil
}

// System is a running local Lethe.
type System struct {
	APIURL string
	// SMTPAddr is where the local SMTP receiver listens: mail sent there goes through the intake as
	// SES receipt would deliver it.
	SMTPAddr string
	Stack    *localaws.Stack
	Config   config.Config
	Store    *platform.Store
	Tables   map[string]string // logical → physical
	Buckets  map[string]string
	Env      map[string]string // what template.yaml sets for every function, evaluated locally
	Manifest seed.Manifest
	Issuer   *localauth.Issuer
	// Workflows are the deletion state machines on the local engine, and the services they call.
	Workflows *localflow.Stack
	// LambdaRuntime is how the Lambdas are served (RuntimeInProcess or RuntimeRIE).
	LambdaRuntime string

	lambdas  *lambdas // under RuntimeRIE: the functions' emulators
	channels *chanstand.StandIn
	sched    scheduler
}

func port(p int) int {
	if p < 0 {
		return 0
	}
	return p
}

// Run starts everything, serves until ctx ends, then stops everything it started.
func Run(ctx context.Context, o Options) (err error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.LambdaRuntime, err = checkRuntime(o.LambdaRuntime); err != nil {
		return err
	}
	tplPath, err := samtemplate.Find()
	if err != nil {
		return err
	}
	tpl, err := samtemplate.Load(tplPath)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port(o.APIPort)))
	if err != nil {
		return fmt.Errorf("API port: %w (set %s to use another)", err, EnvAPIPort)
	}
	defer ln.Close()
	apiURL := "http://" + ln.Addr().String()

	tenv, env, cfg, err := configure(tpl, apiURL)
	if err != nil {
		return err
	}
	dataDir, ddbDir, s3File, dropData, err := dataFolders(o.DataDir)
	if err != nil {
		return err
	}
	defer dropData()
	fmt.Fprintln(o.Out, "lethe: starting DynamoDB Local, the SES emulator and S3 …")
	stack, err := localaws.Start(ctx, localaws.Options{
		DynamoDBPort: port(o.DynamoDBPort), SESPort: port(o.SESPort), S3Port: port(o.S3Port),
		DataDir: ddbDir, S3DataFile: s3File, Stdout: o.Log, Stderr: o.Log,
	})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(o.Out, "lethe: stopping …")
		if cerr := stack.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()

	sys := &System{APIURL: apiURL, Stack: stack, Config: cfg, Env: env, Tables: map[string]string{}, Buckets: map[string]string{},
		channels: chanstand.New(nil), LambdaRuntime: o.LambdaRuntime}
	if err := sys.createResources(ctx, tpl, tenv); err != nil {
		return err
	}
	// The workflows' clock follows the wall, and /_local/clock/advance moves it on: every service
	// reads it, so a 30-day Wait and the deadlines it checks move together (the functions under the
	// emulator too: each runs with its lead on the wall, and is restarted when it changes).
	clock := statemachine.NewClock(time.Now(), true)
	var invoke localflow.Invoker
	var sfnLn net.Listener
	if o.LambdaRuntime == RuntimeRIE {
		// The functions' Step Functions client reaches the local engine through its API.
		if sfnLn, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return err
		}
		defer sfnLn.Close()
		fnDir, scratch := o.FunctionsDir, filepath.Join(dataDir, "lambda-scratch")
		if fnDir == "" {
			fnDir = filepath.Join(dataDir, "functions")
		}
		logTo := o.LambdaLog
		if logTo == nil {
			logTo = o.Out
		}
		if sys.lambdas, err = startLambdas(ctx, clock.Offset, tpl, tenv, env, stack, "http://"+sfnLn.Addr().String(), fnDir, scratch, o.Out, logTo); err != nil {
			return err
		}
		defer sys.lambdas.Close()
		invoke = sys.lambdas.invoker()
	}
	flow, err := localflow.Start(localflow.Options{Template: tpl, Env: tenv, Config: cfg,
		Clients:          system.Clients{DynamoDB: stack.DynamoDB(), S3: stack.S3(), SES: stack.SES()},
		DynamoDBEndpoint: stack.DynamoDBEndpoint, SESEndpoint: stack.SESEndpoint,
		Clock: clock, Invoke: invoke})
	if err != nil {
		return err
	}
	defer flow.Engine.Close()
	sys.Workflows, sys.Store = flow, flow.System.Store
	if sfnLn != nil {
		sfnSrv := &http.Server{Handler: sfnAPI{engine: flow.Engine}, ReadHeaderTimeout: 10 * time.Second}
		go sfnSrv.Serve(sfnLn)
		defer sfnSrv.Close()
	}

	if sys.Manifest, err = seedOnce(ctx, sys, o); err != nil {
		return err
	}
	if sys.Issuer, err = localauth.LoadOrCreate(filepath.Join(dataDir, "jwt-signing-key.pem"), cfg.JWTIssuer, cfg.JWTAudience, time.Now); err != nil {
		return err
	}
	stopSMTP, err := sys.receiveMail(ctx, o)
	if err != nil {
		return err
	}
	defer stopSMTP()
	defer sys.scheduleSweeps(ctx, o.SweepTick)()

	srv := &http.Server{Handler: sys.Handler(), ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()

	sys.printReady(o.Out)
	if o.Ready != nil {
		o.Ready(sys)
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-stack.Exited():
		return err
	case err := <-serveErr:
		return err
	}
}

// configure evaluates the functions' environment for the local stack and sets it in the process
// environment, from which the components read their configuration exactly as a Lambda does.
func configure(tpl *samtemplate.Template, apiURL string) (samtemplate.Env, map[string]string, config.Config, error) {
	tenv, env, err := functionEnv(tpl, apiURL)
	if err != nil {
		return tenv, nil, config.Config{}, err
	}
	// The sweeps and the one-time codes talk to the local stand-ins for the channels' APIs unless
	// told otherwise (a value this function set on an earlier run in the process is not "told
	// otherwise").
	for name, path := range channelBaseURLs {
		if v := os.Getenv(name); v == "" || strings.HasSuffix(v, localChannelsPath+path) {
			env[name] = apiURL + localChannelsPath + path
		}
	}
	// The console offers the demo identities' one-click sign-in: only here, never in AWS.
	env[config.EnvConsoleDemoSignIn] = "/_local/demo"
	for k, v := range env {
		if err := os.Setenv(k, v); err != nil {
			return tenv, nil, config.Config{}, err
		}
	}
	cfg, err := config.Load(os.Getenv)
	return tenv, env, cfg, err
}

// dataFolders are where DynamoDB Local and S3 keep their data under dir, or nowhere (in memory, a
// temporary folder for the rest, removed by drop) when dir is "".
func dataFolders(dir string) (dataDir, ddbDir, s3File string, drop func(), err error) {
	if dir == "" {
		if dataDir, err = os.MkdirTemp("", "lethe-local-"); err != nil {
			return "", "", "", nil, err
		}
		return dataDir, "", "", func() { os.RemoveAll(dataDir) }, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", "", nil, err
	}
	return dir, filepath.Join(dir, "dynamodb"), filepath.Join(dir, "s3.bolt"), func() {}, nil
}

// createResources creates the template's tables and buckets on the local stack.
func (sys *System) createResources(ctx context.Context, tpl *samtemplate.Template, tenv samtemplate.Env) error {
	tables, err := tpl.Tables(tenv)
	if err != nil {
		return err
	}
	buckets, err := tpl.Buckets(tenv)
	if err != nil {
		return err
	}
	if err := localaws.CreateTables(ctx, sys.Stack.DynamoDB(), tables); err != nil {
		return err
	}
	if err := localaws.CreateBuckets(ctx, sys.Stack.S3(), buckets); err != nil {
		return err
	}
	for _, t := range tables {
		sys.Tables[t.LogicalID] = *t.Input.TableName
	}
	for _, b := range buckets {
		sys.Buckets[b.LogicalID] = b.Name
	}
	return nil
}

// receiveMail takes mail to info@ (and its plus-addresses) as the SES receipt rule does: the raw
// message into the inbound bucket under the rule's prefix, then the intake with the SES event.
func (sys *System) receiveMail(ctx context.Context, o Options) (stop func(), err error) {
	flow := sys.Workflows
	smtpSrv := &localsmtp.Server{Addr: fmt.Sprintf("127.0.0.1:%d", port(o.SMTPPort)), S3: sys.Stack.S3(),
		Bucket: sys.Buckets["InboundMailBucket"], Prefix: intake.ObjectPrefix, Recipients: []string{sys.Config.InfoAddress},
		FunctionARN: "arn:aws:lambda:local:000000000000:function:" + StackName + "-InboundEmailFunction",
		Handler:     flow.System.Intake.Handle, Now: flow.Engine.Clock().Now}
	if sys.lambdas != nil {
		smtpSrv.Handler = sys.lambdas.mail
	}
	if sys.SMTPAddr, err = smtpSrv.Start(ctx); err != nil {
		return nil, fmt.Errorf("SMTP port: %w (set %s to use another)", err, EnvSMTPPort)
	}
	return func() { smtpSrv.Close() }, nil
}

// scheduleSweeps runs the scheduled sweeps on their schedules of the virtual clock, checked every
// tick (a minute when zero; never when negative: then only on request). stop ends them.
func (sys *System) scheduleSweeps(ctx context.Context, tick time.Duration) (stop func()) {
	sys.sched.sweeps, sys.sched.last = sys.sweeps(), map[string]sweepRun{}
	if tick < 0 {
		return func() {}
	}
	if tick == 0 {
		tick = time.Minute
	}
	sctx, stopSweeps := context.WithCancel(ctx)
	swept := make(chan struct{})
	go func() { defer close(swept); sys.schedule(sctx, tick) }()
	return func() { stopSweeps(); <-swept }
}

// printReady prints where everything is.
func (sys *System) printReady(out io.Writer) {
	apiURL, stack := sys.APIURL, sys.Stack
	fmt.Fprintf(out, "\n  web console        %s/console  (sign in with one click as any demo identity)\n", apiURL)
	fmt.Fprintf(out, "  mail to %s  smtp://%s\n", sys.Config.InfoAddress, sys.SMTPAddr)
	fmt.Fprintf(out, "  API and webhooks   %s\n  demo data, tokens  %s/_local/demo\n  health             %s/_local/health\n  executions         %s/_local/executions\n  advance the clock  POST %s/_local/clock/advance {\"duration\":\"720h\"}\n  run a sweep        POST %s/_local/sweeps/{channels,sla,retention,retention-continue,ttl}\n  chats (codes sent) GET %s/_local/channels/{connectionId}/messages\n  revoke a channel   POST %s/_local/channels/{connectionId}/revoke\n  mail sent (SES UI) %s\n  DynamoDB Local     %s\n  S3                 %s\n\n",
		apiURL, apiURL, apiURL, apiURL, apiURL, apiURL, apiURL, apiURL, stack.SESEndpoint, stack.DynamoDBEndpoint, stack.S3Endpoint)
	if sys.lambdas != nil {
		fmt.Fprintf(out, "  Lambdas            %d bootstrap binaries under aws-lambda-rie (%s=%s), built in %s\n\n",
			len(sys.lambdas.build.Functions), EnvLambdaRuntime, RuntimeRIE, filepath.Dir(sys.lambdas.build.RIE))
	}
	fmt.Fprintf(out, "lethe: ready at %s — Ctrl-C to stop\n", apiURL)
}

// functionEnv evaluates the environment template.yaml gives every function (Globals) for the local
// stack, and the template evaluation it comes from. A variable set in the process environment
// overrides the parameter it comes from; the others take the local defaults.
func functionEnv(tpl *samtemplate.Template, apiURL string) (samtemplate.Env, map[string]string, error) {
	_, apiPort, _ := net.SplitHostPort(apiURL[len("http://"):])
	p, _ := strconv.Atoi(apiPort)
	values := config.LocalDefaults(p)
	for _, name := range config.Names() {
		if v := os.Getenv(name); v != "" {
			values[name] = v
		}
	}
	tenv := samtemplate.Env{StackName: StackName, Parameters: localflow.Parameters(tpl, values)}
	env, err := localflow.FunctionEnv(tpl, tenv)
	if err != nil {
		return tenv, nil, err
	}
	// No function reads the issuer and audience the authorizer accepts; the local gateway, which
	// stands in for the authorizer, does.
	for _, name := range []string{config.EnvJWTIssuer, config.EnvJWTAudience} {
		env[name] = values[name]
	}
	return tenv, env, nil
}

// The marker that says the demo set is in the tables, with what it was generated from, so a restart
// over on-disk data regenerates the same manifest instead of seeding again.
var markerKey = map[string]types.AttributeValue{
	platform.AttrPK: &types.AttributeValueMemberS{Value: "LOCAL#DEMO"},
	platform.AttrSK: &types.AttributeValueMemberS{Value: "SEED"},
}

func seedOnce(ctx context.Context, sys *System, o Options) (seed.Manifest, error) {
	ledger := sys.Tables[datamap.LedgerTable]
	db := sys.Stack.DynamoDB()
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &ledger, Key: markerKey, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return seed.Manifest{}, fmt.Errorf("read demo marker: %w", err)
	}
	opts := seed.Options{Seed: o.Seed, Now: o.Now, Size: seed.DemoSize()}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if out.Item != nil {
		n, _ := out.Item["seed"].(*types.AttributeValueMemberN)
		at, _ := out.Item["now"].(*types.AttributeValueMemberS)
		if n == nil || at == nil {
			return seed.Manifest{}, errors.New("demo marker is malformed; delete the data folder to reseed")
		}
		opts.Seed, _ = strconv.ParseUint(n.Value, 10, 64)
		if opts.Now, err = time.Parse(time.RFC3339Nano, at.Value); err != nil {
			return seed.Manifest{}, fmt.Errorf("demo marker: %w", err)
		}
		fmt.Fprintln(o.Out, "lethe: demo data already seeded")
		return seed.Generate(opts, func(platform.Record) error { return nil }, func(seed.Object) error { return nil })
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now().UTC().Truncate(time.Second)
	}
	fmt.Fprintln(o.Out, "lethe: seeding the demo data …")
	m, st, err := seed.Write(ctx, sys.Store, sys.Stack.S3(), sys.Buckets, opts, nil)
	if err != nil {
		return seed.Manifest{}, fmt.Errorf("seed demo data: %w", err)
	}
	fmt.Fprintf(o.Out, "lethe: seeded %d items and %d files\n", st.Records, st.Objects)
	_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &ledger, Item: map[string]types.AttributeValue{
		platform.AttrPK: markerKey[platform.AttrPK], platform.AttrSK: markerKey[platform.AttrSK],
		"seed": &types.AttributeValueMemberN{Value: strconv.FormatUint(opts.Seed, 10)},
		"now":  &types.AttributeValueMemberS{Value: opts.Now.Format(time.RFC3339Nano)},
	}})
	if err != nil {
		return seed.Manifest{}, fmt.Errorf("write demo marker: %w", err)
	}
	return m, nil
}
