package statemachine

import (
	"fmt"
	"math"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// execution is one run of a state machine. Its fields are guarded by the engine's mutex; the
// interpreter goroutine owns the data flowing between states.
type execution struct {
	e      *Engine
	arn    string
	name   string
	m      *machine
	input  string
	inVal  any
	parent string

	status       types.ExecutionStatus
	output       string
	hasOutput    bool
	errName      string
	cause        string
	start, stop  time.Time
	current      string
	events       []Event
	transitions  int
	lambdaCalls  int
	lambdaMS     int64
	lambdaGBs    float64
	timeoutTimer *timer
	syncChild    *execution      // the child a .sync:2 task waits for, stopped with its parent
	watchers     []watcher       // parents waiting for this execution to close
	openTokens   map[string]bool // task tokens issued by this execution and not yet closed
	queue        []signal        // wake-ups not yet taken by the interpreter
	notify       chan struct{}
	finished     bool // the interpreter goroutine has exited
	seq          uint64
}

type watcher struct {
	x   *execution
	seq uint64
}

// Kinds of wake-up signal.
const (
	sigWake       = iota // abort, execution timeout: look at the status
	sigTimer             // a Wait or retry interval elapsed
	sigActionDone        // the task's call returned
	sigToken             // SendTaskSuccess / SendTaskFailure
	sigChild             // the child of a .sync:2 task closed
	sigTimeout           // TimeoutSeconds elapsed
	sigHeartbeat         // HeartbeatSeconds elapsed without a heartbeat
)

// signal wakes the interpreter; seq tells which wait it answers, so late ones are ignored.
type signal struct {
	seq  uint64
	kind int
	out  any
	err  *stateError
}

// send queues s for the interpreter, with one busy unit that the interpreter takes over. The
// engine's mutex must be held.
func (x *execution) send(s signal) {
	if x.finished {
		return
	}
	x.queue = append(x.queue, s)
	x.e.busy++
	select {
	case x.notify <- struct{}{}:
	default:
	}
}

// release gives up one busy unit. The engine's mutex must be held.
func (e *Engine) release() {
	e.busy--
	if e.busy <= 0 {
		e.cond.Broadcast()
	}
}

// await parks the interpreter until a signal for seq arrives; ok is false when the execution
// closed meanwhile (aborted, timed out) and the interpreter must stop.
func (x *execution) await(seq uint64) (s signal, ok bool) {
	e := x.e
	e.mu.Lock()
	defer e.mu.Unlock()
	e.release()
	for {
		for len(x.queue) > 0 {
			s = x.queue[0]
			x.queue = x.queue[1:]
			if x.status != types.ExecutionStatusRunning {
				return s, false
			}
			if s.seq == seq && s.kind != sigWake {
				return s, true
			}
			e.release() // a late signal: drop it and its unit
		}
		if x.status != types.ExecutionStatusRunning {
			e.busy++
			return signal{}, false
		}
		e.mu.Unlock()
		<-x.notify
		e.mu.Lock()
	}
}

func (x *execution) newSeq() uint64 {
	x.seq++
	return x.seq
}

// timerSignal arms a timer that sends kind for seq at t.
func (x *execution) timerSignal(t time.Time, seq uint64, kind int) *timer {
	return x.e.clock.afterFunc(t, func() {
		x.e.mu.Lock()
		defer x.e.mu.Unlock()
		x.send(signal{seq: seq, kind: kind})
	})
}

// async runs fn on its own goroutine, counted busy, and sends its result for seq.
func (x *execution) async(seq uint64, fn func() (any, *stateError)) {
	e := x.e
	e.mu.Lock()
	e.busy++
	e.mu.Unlock()
	go func() {
		out, serr := fn()
		e.mu.Lock()
		defer e.mu.Unlock()
		x.send(signal{seq: seq, kind: sigActionDone, out: out, err: serr})
		e.release()
	}()
}

// addEvent appends an event to the history. It reports false when the execution is closed or has
// just failed on the history limit, and the interpreter must stop.
func (x *execution) addEvent(ev Event) bool {
	x.e.mu.Lock()
	defer x.e.mu.Unlock()
	return x.addEventLocked(ev)
}

func (x *execution) addEventLocked(ev Event) bool {
	if x.status != types.ExecutionStatusRunning {
		return false
	}
	if len(x.events) >= HistoryLimit-1 {
		x.closeLocked(types.ExecutionStatusFailed, "", ErrRuntime,
			fmt.Sprintf("The execution reached the maximum number of history events (%d).", HistoryLimit))
		return false
	}
	x.appendLocked(ev)
	return true
}

func (x *execution) appendLocked(ev Event) {
	ev.ID = int64(len(x.events) + 1)
	ev.PreviousEventID = ev.ID - 1
	ev.Timestamp = x.e.clock.Now()
	x.events = append(x.events, ev)
}

// closeLocked ends the execution with status, records the closing event, closes its task tokens
// and tells waiting parents. The engine's mutex must be held.
func (x *execution) closeLocked(status types.ExecutionStatus, output, errName, cause string) {
	if x.status != types.ExecutionStatusRunning {
		return
	}
	x.status = status
	x.stop = x.e.clock.Now()
	x.current = ""
	ev := Event{Error: errName, Cause: cause}
	switch status {
	case types.ExecutionStatusSucceeded:
		x.output, x.hasOutput = output, true
		ev.Type, ev.Output = "ExecutionSucceeded", output
	case types.ExecutionStatusFailed:
		ev.Type = "ExecutionFailed"
	case types.ExecutionStatusAborted:
		ev.Type = "ExecutionAborted"
	case types.ExecutionStatusTimedOut:
		ev.Type = "ExecutionTimedOut"
	}
	x.errName, x.cause = errName, cause
	x.appendLocked(ev)
	x.timeoutTimer.stopTimer()
	for tok := range x.openTokens {
		if t := x.e.tokens[tok]; t != nil && t.status == tokenOpen {
			t.status = tokenClosed
			t.heartbeat.stopTimer()
		}
	}
	x.openTokens = nil
	for _, w := range x.watchers {
		w.x.send(signal{seq: w.seq, kind: sigChild})
	}
	x.watchers = nil
	if status == types.ExecutionStatusAborted && x.syncChild != nil {
		x.syncChild.closeLocked(types.ExecutionStatusAborted, "", "", "")
	}
	// Wake the interpreter if it is parked, so it sees the status and exits.
	x.send(signal{kind: sigWake})
}

// run is the interpreter goroutine.
func (x *execution) run() {
	defer x.exit()
	def := x.m.def
	name, data := def.startAt, deepCopy(x.inVal)
	for {
		st := def.states[name]
		next, out, serr, ok := x.runState(st, data)
		if !ok {
			return
		}
		if serr != nil {
			x.e.mu.Lock()
			x.closeLocked(types.ExecutionStatusFailed, "", serr.Name, serr.Cause)
			x.e.mu.Unlock()
			return
		}
		if next == "" {
			outJSON := encodeJSON(out)
			x.e.mu.Lock()
			if st.typ == "Fail" {
				x.closeLocked(types.ExecutionStatusFailed, "", x.errName, x.cause)
			} else if len(outJSON) > DataLimit {
				x.closeLocked(types.ExecutionStatusFailed, "", ErrDataLimitExceeded, dataLimitCause("execution output"))
			} else {
				x.closeLocked(types.ExecutionStatusSucceeded, outJSON, "", "")
			}
			x.e.mu.Unlock()
			return
		}
		name, data = next, out
	}
}

func dataLimitCause(what string) string {
	return fmt.Sprintf("The state/task returned a result with a size exceeding the maximum number of bytes service limit (%d bytes) for the %s.", DataLimit, what)
}

// exit hands back the goroutine's busy unit and any undelivered wake-ups.
func (x *execution) exit() {
	e := x.e
	e.mu.Lock()
	defer e.mu.Unlock()
	x.finished = true
	e.busy -= len(x.queue)
	x.queue = nil
	e.release()
}

const isoMillis = "2006-01-02T15:04:05.000Z"

// contextObject builds $$ for a state.
func (x *execution) contextObject(st string, entered time.Time, retry int, token string) map[string]any {
	ctx := map[string]any{
		"Execution": map[string]any{
			"Id":           x.arn,
			"Input":        deepCopy(x.inVal),
			"Name":         x.name,
			"RoleArn":      "arn:aws:iam::" + x.e.opts.AccountID + ":role/" + x.m.name + "-role",
			"StartTime":    x.start.UTC().Format(isoMillis),
			"RedriveCount": int64(0),
		},
		"State": map[string]any{
			"EnteredTime": entered.UTC().Format(isoMillis),
			"Name":        st,
			"RetryCount":  int64(retry),
		},
		"StateMachine": map[string]any{"Id": x.m.arn, "Name": x.m.name},
	}
	if token != "" {
		ctx["Task"] = map[string]any{"Token": token}
	}
	return ctx
}

// runState runs one state. next is "" when the execution ends here; ok is false when the
// interpreter must stop (the execution closed underneath it).
func (x *execution) runState(st *state, input any) (next string, out any, serr *stateError, ok bool) {
	x.e.mu.Lock()
	x.transitions++
	x.current = st.name
	x.e.mu.Unlock()
	entered := x.e.clock.Now()
	if !x.addEvent(Event{Type: st.typ + "StateEntered", StateName: st.name, Input: encodeJSON(input)}) {
		return "", nil, nil, false
	}
	ctx := x.contextObject(st.name, entered, 0, "")
	exit := func(out any) (any, *stateError, bool) {
		js := encodeJSON(out)
		if len(js) > DataLimit {
			return nil, &stateError{Name: ErrDataLimitExceeded, Cause: dataLimitCause("state output")}, true
		}
		if st.typ == "Fail" {
			return out, nil, true
		}
		return out, nil, x.addEvent(Event{Type: st.typ + "StateExited", StateName: st.name, Output: js})
	}
	switch st.typ {
	case "Pass":
		eff, err := st.inputPath.apply(input, ctx)
		if err != nil {
			return "", nil, asStateError(err), true
		}
		var result any
		switch {
		case st.hasResult:
			result = deepCopy(st.result)
		case st.parameters != nil:
			if result, err = st.parameters.eval(eff, ctx, &runCtx{x.e}); err != nil {
				return "", nil, asStateError(err), true
			}
		default:
			result = eff
		}
		out, err := x.applyResult(st, input, result, ctx)
		if err != nil {
			return "", nil, asStateError(err), true
		}
		out, serr, ok = exit(out)
		return st.next, out, serr, ok
	case "Choice":
		eff, err := st.inputPath.apply(input, ctx)
		if err != nil {
			return "", nil, asStateError(err), true
		}
		next = st.defaultNext
		for _, r := range st.choices {
			m, err := r.eval(eff, ctx)
			if err != nil {
				return "", nil, asStateError(err), true
			}
			if m {
				next = r.next
				break
			}
		}
		if next == "" {
			return "", nil, &stateError{Name: ErrNoChoiceMatched, Cause: "No Matches!"}, true
		}
		o, err := st.outputPath.apply(eff, ctx)
		if err != nil {
			return "", nil, asStateError(err), true
		}
		out, serr, ok = exit(o)
		return next, out, serr, ok
	case "Wait":
		eff, err := st.inputPath.apply(input, ctx)
		if err != nil {
			return "", nil, asStateError(err), true
		}
		due, serr := st.waitUntil(eff, ctx, entered)
		if serr != nil {
			return "", nil, serr, true
		}
		if due.After(x.e.clock.Now()) {
			seq := x.newSeq()
			t := x.timerSignal(due, seq, sigTimer)
			if _, ok := x.await(seq); !ok {
				t.stopTimer()
				return "", nil, nil, false
			}
		}
		o, err := st.outputPath.apply(eff, ctx)
		if err != nil {
			return "", nil, asStateError(err), true
		}
		out, serr, ok = exit(o)
		return st.next, out, serr, ok
	case "Succeed":
		eff, err := st.inputPath.apply(input, ctx)
		if err != nil {
			return "", nil, asStateError(err), true
		}
		o, err := st.outputPath.apply(eff, ctx)
		if err != nil {
			return "", nil, asStateError(err), true
		}
		out, serr, ok = exit(o)
		return "", out, serr, ok
	case "Fail":
		name, cause := st.errorName, st.cause
		for _, f := range []struct {
			v   *failValue
			dst *string
		}{{st.errorPath, &name}, {st.causePath, &cause}} {
			if f.v == nil {
				continue
			}
			var v any
			var err error
			if f.v.p != nil {
				v, err = f.v.p.get(input, ctx)
			} else {
				v, err = f.v.fn.eval(input, ctx, &runCtx{x.e})
			}
			if err != nil {
				return "", nil, asStateError(err), true
			}
			s, isStr := v.(string)
			if !isStr {
				return "", nil, &stateError{Name: ErrRuntime, Cause: "The ErrorPath or CausePath of state '" + st.name + "' does not resolve to a string."}, true
			}
			*f.dst = s
		}
		x.e.mu.Lock()
		x.errName, x.cause = name, cause
		x.e.mu.Unlock()
		return "", nil, nil, true
	case "Task":
		return x.runTask(st, input, entered)
	}
	return "", nil, &stateError{Name: ErrRuntime, Cause: "unsupported state type " + st.typ}, true
}

func asStateError(err error) *stateError {
	if se, ok := err.(*stateError); ok {
		return se
	}
	return &stateError{Name: ErrRuntime, Cause: err.Error()}
}

// output applies ResultPath (onto the raw state input) and then OutputPath.
func (x *execution) applyResult(st *state, rawInput, result, ctx any) (any, error) {
	var merged any
	switch {
	case st.resultPathNull:
		merged = rawInput
	case st.resultPath == nil:
		merged = result
	default:
		var err error
		if merged, err = st.resultPath.set(rawInput, result); err != nil {
			return nil, err
		}
	}
	return st.outputPath.apply(merged, ctx)
}

// waitUntil computes when a Wait state ends.
func (st *state) waitUntil(eff, ctx any, entered time.Time) (time.Time, *stateError) {
	switch {
	case st.seconds != nil:
		return entered.Add(time.Duration(*st.seconds) * time.Second), nil
	case st.timestamp != nil:
		return *st.timestamp, nil
	case st.secondsPath != nil:
		v, err := st.secondsPath.get(eff, ctx)
		if err != nil {
			return time.Time{}, asStateError(err)
		}
		n, ok := asInt(v)
		if !ok || n < 0 || n > defaultTaskTimeout {
			return time.Time{}, &stateError{Name: ErrRuntime, Cause: fmt.Sprintf("The SecondsPath parameter of state '%s' does not reference a non-negative integer: %s", st.name, encodeJSON(v))}
		}
		return entered.Add(time.Duration(n) * time.Second), nil
	default:
		v, err := st.timestampPath.get(eff, ctx)
		if err != nil {
			return time.Time{}, asStateError(err)
		}
		s, _ := v.(string)
		t, ok := parseTimestamp(s)
		if !ok {
			return time.Time{}, &stateError{Name: ErrRuntime, Cause: fmt.Sprintf("The TimestampPath parameter of state '%s' does not reference a valid ISO-8601 timestamp: %s", st.name, encodeJSON(v))}
		}
		return t, nil
	}
}

// errorMatches applies the States language's matching rules to one ErrorEquals entry.
func errorMatches(pattern, name string) bool {
	switch {
	case name == ErrRuntime:
		return false // never retried nor caught
	case pattern == name:
		return true
	case pattern == ErrAll:
		return name != ErrDataLimitExceeded
	case pattern == ErrTaskFailed:
		// "matches any known error name except for States.Timeout" (Step Functions error handling).
		return name != ErrTimeout
	case pattern == ErrTimeout:
		return name == ErrHeartbeatTimeout
	}
	return false
}

func matchesAny(list []string, name string) bool {
	for _, p := range list {
		if errorMatches(p, name) {
			return true
		}
	}
	return false
}

// retryDelay is the wait before retry number n (0-based) of r.
func (x *execution) retryDelay(r *retrier, n int) time.Duration {
	d := r.interval * math.Pow(r.backoffRate, float64(n))
	if r.maxDelay > 0 && d > r.maxDelay {
		d = r.maxDelay
	}
	if r.jitterFull {
		d *= x.e.randFloat()
	}
	return time.Duration(d * float64(time.Second))
}

// runTask runs a Task state with its retriers and catchers.
func (x *execution) runTask(st *state, input any, entered time.Time) (string, any, *stateError, bool) {
	counts := make([]int, len(st.retry))
	retries := 0
	for {
		ctx := x.contextObject(st.name, entered, retries, "")
		result, serr, ok := x.attempt(st, input, ctx)
		if !ok {
			return "", nil, nil, false
		}
		if serr == nil {
			out, err := x.applyResult(st, input, result, ctx)
			if err != nil {
				// A ResultPath that cannot be applied is retried and caught like any task error.
				if serr = asStateError(err); serr.Name != ErrResultPathMatchFailure {
					return "", nil, serr, true
				}
			} else if js := encodeJSON(out); len(js) > DataLimit {
				serr = &stateError{Name: ErrDataLimitExceeded, Cause: dataLimitCause("state output")}
			} else {
				return st.next, out, nil, x.addEvent(Event{Type: "TaskStateExited", StateName: st.name, Output: js})
			}
		}
		if serr.Name == ErrRuntime {
			return "", nil, serr, true
		}
		retried := false
		for i, r := range st.retry {
			if !matchesAny(r.errorEquals, serr.Name) {
				continue
			}
			if counts[i] < r.maxAttempts {
				delay := x.retryDelay(r, counts[i])
				counts[i]++
				retries++
				x.e.mu.Lock()
				x.transitions++ // every retry attempt is a billed transition
				x.e.mu.Unlock()
				if delay > 0 {
					seq := x.newSeq()
					t := x.timerSignal(x.e.clock.Now().Add(delay), seq, sigTimer)
					if _, ok := x.await(seq); !ok {
						t.stopTimer()
						return "", nil, nil, false
					}
				}
				retried = true
			}
			break // only the first matching retrier counts
		}
		if retried {
			continue
		}
		for _, c := range st.catch {
			if !matchesAny(c.errorEquals, serr.Name) {
				continue
			}
			errOut := newObject([]string{"Error", "Cause"})
			errOut["Error"], errOut["Cause"] = serr.Name, serr.Cause
			var out any = errOut
			switch {
			case c.resultPathNull:
				out = input
			case c.resultPath != nil:
				var err error
				if out, err = c.resultPath.set(input, errOut); err != nil {
					return "", nil, asStateError(err), true
				}
			}
			return c.next, out, nil, x.addEvent(Event{Type: "TaskStateExited", StateName: st.name, Output: encodeJSON(out)})
		}
		return "", nil, serr, true
	}
}

// Event is one history event, in AWS's event types; fields that do not apply are empty.
type Event struct {
	ID               int64     `json:"id"`
	PreviousEventID  int64     `json:"previousEventId"`
	Timestamp        time.Time `json:"timestamp"`
	Type             string    `json:"type"`
	StateName        string    `json:"stateName,omitempty"`
	Input            string    `json:"input,omitempty"`
	Output           string    `json:"output,omitempty"`
	Error            string    `json:"error,omitempty"`
	Cause            string    `json:"cause,omitempty"`
	Resource         string    `json:"resource,omitempty"`
	ResourceType     string    `json:"resourceType,omitempty"`
	Parameters       string    `json:"parameters,omitempty"`
	TimeoutSeconds   int64     `json:"timeoutInSeconds,omitempty"`
	HeartbeatSeconds int64     `json:"heartbeatInSeconds,omitempty"`
}
