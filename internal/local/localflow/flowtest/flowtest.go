// Package flowtest starts, for a test, the deletion workflows and every service on the test's own
// tables, buckets and mail domain (internal/testenv), with a virtual clock: the setup the workflow
// and API tests share.
package flowtest

import (
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/local/localflow"
	"github.com/lethe-dev/lethe/internal/local/statemachine"
	"github.com/lethe-dev/lethe/internal/samtemplate"
	"github.com/lethe-dev/lethe/internal/system"
	"github.com/lethe-dev/lethe/internal/testenv"
)

// Start gives the test its own stack and the workflows over it; the clock stands at start until the
// test advances it. The info, sender and privacy-officer addresses are in the test's mail domain
// (info@, no-reply@, privacy@), so SentMail sees what they receive. tune, if set, adjusts the
// services before anything runs.
func Start(t testing.TB, start time.Time, tune func(*system.System)) (*testenv.Env, *localflow.Stack) {
	t.Helper()
	env := testenv.New(t)
	path, err := samtemplate.Find()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := samtemplate.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	values := config.LocalDefaults(3000)
	values[config.EnvInfoAddress] = env.Address("info")
	values[config.EnvSenderAddress] = env.Address("no-reply")
	values[config.EnvPrivacyOfficerAddress] = env.Address("privacy")
	values[config.EnvForwardAddress] = env.Address("office")
	tenv := env.TemplateEnv
	tenv.Parameters = localflow.Parameters(tpl, values)
	fenv, err := localflow.FunctionEnv(tpl, tenv)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(func(k string) string { return fenv[k] })
	if err != nil {
		t.Fatal(err)
	}
	stack, err := localflow.Start(localflow.Options{Template: tpl, Env: tenv, Config: cfg,
		Clients:          system.Clients{DynamoDB: env.DynamoDB, S3: env.S3, SES: env.SES},
		DynamoDBEndpoint: env.DynamoDBEndpoint, SESEndpoint: env.SESEndpoint,
		Clock: statemachine.NewClock(start, false), Seed: 7, Tune: tune})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stack.Engine.Close)
	return env, stack
}
