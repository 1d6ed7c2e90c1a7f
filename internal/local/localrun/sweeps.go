package localrun

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/lethe-dev/lethe/internal/retention"
)

// sweep is one scheduled function as EventBridge Scheduler runs it in AWS.
type sweep struct {
	name  string
	every time.Duration // of the virtual clock
	run   func(ctx context.Context) (any, error)
}

// sweepRun is what the last run of a sweep did.
type sweepRun struct {
	At     time.Time `json:"at"` // virtual time
	Report any       `json:"report,omitempty"`
	Error  string    `json:"error,omitempty"`
}

// scheduler runs the sweeps on their schedules of the virtual clock: `make run` checks every tick
// whether a sweep is due, so advancing the clock a day (/_local/clock/advance) runs the daily
// retention sweep at the next tick, as the schedule would have.
type scheduler struct {
	mu     sync.Mutex
	sweeps []sweep
	last   map[string]sweepRun
	run    sync.Mutex // one sweep at a time, scheduled or asked for
}

func (s *System) sweeps() []sweep {
	sys := s.Workflows.System
	if s.lambdas != nil {
		return s.sweepsOverRIE()
	}
	return []sweep{
		{"channels", time.Hour, func(ctx context.Context) (any, error) { return sys.ChannelSweep.Run(ctx) }},
		{"sla", time.Hour, func(ctx context.Context) (any, error) { return sys.SLASweep.Run(ctx) }},
		{"retention", 24 * time.Hour, func(ctx context.Context) (any, error) { return sys.RetentionSweep.Run(ctx, retention.Input{}) }},
		// DynamoDB's TTL (which DynamoDB Local lacks) and the stream event source mappings: the
		// items past expiresAt are removed and their stream records handed to RetentionStreamFunction.
		{"ttl", time.Hour, func(ctx context.Context) (any, error) {
			n, err := s.Workflows.RunStreams(ctx)
			return map[string]int{"removed": n}, err
		}},
		// The hourly continuation of template.yaml's Continue schedule: resumes a run cut short.
		{"retention-continue", time.Hour, func(ctx context.Context) (any, error) {
			return sys.RetentionSweep.Run(ctx, retention.Input{ContinueOnly: true})
		}},
	}
}

// runNow runs one sweep and settles the workflows it started.
func (s *System) runNow(ctx context.Context, sw sweep) sweepRun {
	s.sched.run.Lock()
	defer s.sched.run.Unlock()
	out := sweepRun{At: s.Workflows.Engine.Clock().Now()}
	rep, err := sw.run(ctx)
	if err == nil {
		err = s.Workflows.Engine.Settle(ctx)
	}
	out.Report = rep
	if err != nil {
		out.Error = err.Error()
	}
	s.sched.mu.Lock()
	s.sched.last[sw.name] = out
	s.sched.mu.Unlock()
	return out
}

// schedule runs every sweep that is due, each tick, until ctx ends.
func (s *System) schedule(ctx context.Context, tick time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		for _, sw := range s.sched.sweeps {
			s.sched.mu.Lock()
			last, ran := s.sched.last[sw.name]
			s.sched.mu.Unlock()
			if !ran || s.Workflows.Engine.Clock().Now().Sub(last.At) >= sw.every {
				if ctx.Err() != nil {
					return
				}
				s.runNow(ctx, sw)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// runSweep serves POST /_local/sweeps/{name}: runs a scheduled sweep now, as EventBridge
// Scheduler would invoke its function, and answers its report.
func (s *System) runSweep(w http.ResponseWriter, r *http.Request) {
	for _, sw := range s.sched.sweeps {
		if sw.name != r.PathValue("name") {
			continue
		}
		res := s.runNow(r.Context(), sw)
		if res.Error != "" {
			writeProblem(w, http.StatusInternalServerError, "the sweep failed: "+res.Error)
			return
		}
		writeJSON(w, http.StatusOK, res.Report)
		return
	}
	writeProblem(w, http.StatusNotFound, "sweeps: channels, sla, retention, ttl, retention-continue")
}

// listSweeps serves GET /_local/sweeps: each sweep's schedule and its last run.
func (s *System) listSweeps(w http.ResponseWriter, _ *http.Request) {
	type entry struct {
		Name  string    `json:"name"`
		Every string    `json:"every"`
		Last  *sweepRun `json:"last,omitempty"`
	}
	out := struct {
		Sweeps []entry `json:"sweeps"`
	}{}
	s.sched.mu.Lock()
	defer s.sched.mu.Unlock()
	for _, sw := range s.sched.sweeps {
		e := entry{Name: sw.name, Every: fmt.Sprint(sw.every)}
		if l, ok := s.sched.last[sw.name]; ok {
			e.Last = &l
		}
		out.Sweeps = append(out.Sweeps, e)
	}
	writeJSON(w, http.StatusOK, out)
}

// sweepsOverRIE are the sweeps invoked as EventBridge Scheduler invokes them, with each
// schedule's Input of template.yaml, on the built functions under the emulator.
func (s *System) sweepsOverRIE() []sweep {
	invoke := func(logicalID, input string) func(ctx context.Context) (any, error) {
		return func(ctx context.Context) (any, error) {
			out, err := s.lambdas.Invoke(ctx, logicalID, []byte(input))
			if err != nil {
				return nil, err
			}
			return json.RawMessage(out), nil
		}
	}
	return []sweep{
		{"channels", time.Hour, invoke("ChannelSweepFunction", `{"sweep": "channels"}`)},
		{"sla", time.Hour, invoke("SlaSweepFunction", `{"sweep": "sla"}`)},
		{"retention", 24 * time.Hour, invoke("RetentionSweepFunction", `{"sweep": "retention"}`)},
		// The stream consumer is the engine's: localflow invokes RetentionStreamFunction.
		{"ttl", time.Hour, func(ctx context.Context) (any, error) {
			n, err := s.Workflows.RunStreams(ctx)
			return map[string]int{"removed": n}, err
		}},
		{"retention-continue", time.Hour, invoke("RetentionSweepFunction", `{"sweep": "retention", "continueOnly": true}`)},
	}
}
