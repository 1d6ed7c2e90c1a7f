package localflow_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/local/localflow"
	"github.com/lethe-dev/lethe/internal/local/localflow/flowtest"
	"github.com/lethe-dev/lethe/internal/local/statemachine"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/seed"
	"github.com/lethe-dev/lethe/internal/system"
	"github.com/lethe-dev/lethe/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// world is a test's own stack: its tables and buckets, the demo data, and the workflows on the local
// engine with a virtual clock that starts at start.
type world struct {
	t        *testing.T
	ctx      context.Context
	env      *testenv.Env
	stack    *localflow.Stack
	sys      *system.System
	eng      *statemachine.Engine
	manifest seed.Manifest
}

func newWorld(t *testing.T, start time.Time, tune func(*system.System)) *world {
	t.Helper()
	env, stack := flowtest.Start(t, start, tune)
	return &world{t: t, ctx: context.Background(), env: env, stack: stack, sys: stack.System, eng: stack.Engine}
}

// seedDemo writes the demo data set, as of the clock's now, and gives the first account's owner and
// admins addresses in the test's own mail domain so the test can read what they were sent.
func (w *world) seedDemo(size seed.Size) seed.ManifestAccount {
	w.t.Helper()
	m, _, err := seed.Write(w.ctx, w.sys.Store, w.env.S3, w.env.Buckets, seed.Options{Seed: 11, Now: w.eng.Clock().Now().Add(-time.Hour), Size: size}, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	w.manifest = m
	a := m.Accounts[0]
	acct, err := w.sys.Store.Account(w.ctx, a.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	acct.Email = w.env.Address("owner")
	if err := w.sys.Store.Put(w.ctx, acct); err != nil {
		w.t.Fatal(err)
	}
	members, err := w.sys.Store.TeamMembers(w.ctx, a.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, m := range members {
		m.Email = w.env.Address("member-" + strings.ToLower(m.Sub))
		if err := w.sys.Store.Put(w.ctx, m); err != nil {
			w.t.Fatal(err)
		}
	}
	return a
}

func (w *world) settle() {
	w.t.Helper()
	if err := w.eng.Settle(w.ctx); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) advance(d time.Duration) {
	w.t.Helper()
	if _, err := w.eng.Advance(w.ctx, d); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) request(id string) request.Request {
	w.t.Helper()
	r, err := w.sys.Ledger.Get(w.ctx, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

func (w *world) execution(arn string) statemachine.Execution {
	w.t.Helper()
	for _, e := range w.eng.Executions() {
		if e.ARN == arn {
			return e
		}
	}
	w.t.Fatalf("no execution %s", arn)
	return statemachine.Execution{}
}

// mailTo is the mail sent to local@ the test domain, oldest first.
func (w *world) mailTo(local string) []testenv.Mail {
	var out []testenv.Mail
	for _, m := range w.env.SentMail(w.t) {
		for _, to := range m.To {
			if strings.EqualFold(to, w.env.Address(local)) || strings.HasSuffix(strings.ToLower(to), "<"+strings.ToLower(w.env.Address(local))+">") {
				out = append(out, m)
			}
		}
	}
	return out
}

// remaining is what the verification pass still finds in a scope.
func (w *world) remaining(ref platform.ScopeRef) map[string]int64 {
	w.t.Helper()
	left, err := w.sys.Engine.Verify(w.ctx, ref)
	if err != nil {
		w.t.Fatal(err)
	}
	return left
}
