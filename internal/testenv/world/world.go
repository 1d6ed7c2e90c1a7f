// Package world is the test world the service tests share (api, webhooks, intake, the sweeps): a
// test's own tables, buckets and mail domain (testenv), every service wired as `make run` wires
// them with the workflows on the local engine (flowtest), the demo data seeded an hour before the
// engine's clock starts, and api/openapi.yaml to check answers against. It is test support: no
// Lambda links it (internal/archtest).
package world

import (
	"context"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/lethe-dev/lethe/internal/apispec"
	"github.com/lethe-dev/lethe/internal/local/localflow"
	"github.com/lethe-dev/lethe/internal/local/localflow/flowtest"
	"github.com/lethe-dev/lethe/internal/local/statemachine"
	"github.com/lethe-dev/lethe/internal/seed"
	"github.com/lethe-dev/lethe/internal/system"
	"github.com/lethe-dev/lethe/internal/testenv"
)

// Options say what world a test starts in.
type Options struct {
	// Start is the engine's clock at the start; the demo data is generated an hour before.
	Start time.Time
	// Seed and Size generate the demo data; a zero Seed seeds nothing.
	Seed uint64
	Size seed.Size
	// Password is every demo owner's password (seed.DefaultPassword when empty).
	Password string
	// Tune adjusts the services before the engine starts (flowtest.Start).
	Tune func(*system.System)
}

// World is one test's Lethe.
type World struct {
	Ctx      context.Context
	Env      *testenv.Env
	Stack    *localflow.Stack
	Sys      *system.System
	Engine   *statemachine.Engine
	Manifest seed.Manifest

	t testing.TB
}

// New starts the test's world.
func New(t testing.TB, o Options) *World {
	t.Helper()
	env, stack := flowtest.Start(t, o.Start, o.Tune)
	w := &World{Ctx: context.Background(), Env: env, Stack: stack, Sys: stack.System, Engine: stack.Engine, t: t}
	if o.Seed != 0 {
		m, _, err := seed.Write(w.Ctx, stack.System.Store, env.S3, env.Buckets, seed.Options{Seed: o.Seed,
			Now: o.Start.Add(-time.Hour), Size: o.Size, Password: o.Password}, nil)
		if err != nil {
			t.Fatal(err)
		}
		w.Manifest = m
	}
	return w
}

// OwnerMail gives the owner of the account with that id the address local@ the test's own mail
// domain, so the mail Lethe sends the owner can be read back (testenv.Env.SentMail).
func (w *World) OwnerMail(accountID, local string) string {
	w.t.Helper()
	a, err := w.Sys.Store.Account(w.Ctx, accountID)
	if err != nil {
		w.t.Fatal(err)
	}
	a.Email = w.Env.Address(local)
	if err := w.Sys.Store.Put(w.Ctx, a); err != nil {
		w.t.Fatal(err)
	}
	return a.Email
}

// Document is api/openapi.yaml.
func Document(t testing.TB) *openapi3.T {
	t.Helper()
	doc, err := apispec.Load("")
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// Spec validates answers against api/openapi.yaml.
func Spec(t testing.TB) *apispec.Validator {
	t.Helper()
	v, err := apispec.NewValidator(Document(t))
	if err != nil {
		t.Fatal(err)
	}
	return v
}
