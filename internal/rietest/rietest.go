// Package rietest runs Lethe's Lambda binaries as Lambda runs them: each functions/* built the way
// `sam build` builds it (Makefile build-%Function: CGO_ENABLED=0, -tags lambda.norpc, -trimpath,
// -ldflags='-s -w', named bootstrap) and started under AWS's own Runtime Interface Emulator
// (aws-lambda-rie, pinned by the tool directive in go.mod), which drives it through the Runtime API
// with INIT and INVOKE as the service does. The in-process tests call the same handlers, but only a
// binary shows a wrong build tag, an init that exits, or an answer the runtime would serialize
// otherwise. It is test support: no Lambda links it (internal/archtest).
package rietest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// RIEPackage is the emulator's command, pinned by go.mod's tool directive.
const RIEPackage = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"

// invokePath is where the emulator takes an invocation (its README: the Invoke API's path with the
// function name "function").
const invokePath = "/2015-03-31/functions/function/invocations"

// Function is one built Lambda.
type Function struct {
	// Folder is its folder under functions/ ("open-request"), LogicalID its resource in
	// template.yaml ("OpenRequestFunction").
	Folder, LogicalID string
	// Bootstrap is the built binary and Size its size in bytes, as the deployment package holds it.
	Bootstrap string
	Size      int64
}

// Build is every function and the emulator, built into one folder.
type Build struct {
	RIE       string
	Functions []Function
}

// Function returns the built function of a folder.
func (b *Build) Function(folder string) (Function, bool) {
	i := slices.IndexFunc(b.Functions, func(f Function) bool { return f.Folder == folder })
	if i < 0 {
		return Function{}, false
	}
	return b.Functions[i], true
}

// LogicalID is the template's resource of a functions/ folder, as the Makefile's build-%Function
// target maps it back ("sla-sweep" → "SlaSweepFunction").
func LogicalID(folder string) string {
	var b strings.Builder
	for _, part := range strings.Split(folder, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String() + "Function"
}

// BuildAll builds every functions/* under root into dir/<folder>/bootstrap with the production
// flags, and the emulator into dir/aws-lambda-rie, at most parallel builds at a time (the linker is
// the slow part; the packages come from the Go build cache after the first run). The binaries are
// for this machine's architecture, which the emulator runs natively; the deployment builds arm64
// with otherwise the same command.
func BuildAll(ctx context.Context, root, dir string, parallel int) (*Build, error) {
	return BuildAllReporting(ctx, root, dir, parallel, nil)
}

// BuildAllReporting is BuildAll telling report (when not nil) of each binary built: how many are
// built and of how many. Calls come from the build goroutines, one at a time.
func BuildAllReporting(ctx context.Context, root, dir string, parallel int, report func(done, total int)) (*Build, error) {
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		return nil, fmt.Errorf("rietest: %w", err)
	}
	b := &Build{RIE: filepath.Join(dir, "aws-lambda-rie")}
	for _, e := range entries {
		if e.IsDir() {
			b.Functions = append(b.Functions, Function{Folder: e.Name(), LogicalID: LogicalID(e.Name()),
				Bootstrap: filepath.Join(dir, e.Name(), "bootstrap")})
		}
	}
	eg, gctx := errgroup.WithContext(ctx)
	eg.SetLimit(max(parallel, 1))
	g := &reportingGroup{g: eg, report: report, total: len(b.Functions) + 1}
	g.Go(func() error { return goBuild(gctx, root, nil, b.RIE, RIEPackage) })
	for i := range b.Functions {
		f := &b.Functions[i]
		g.Go(func() error {
			size, err := BuildBootstrap(gctx, root, "./functions/"+f.Folder, f.Bootstrap)
			f.Size = size
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return b, nil
}

// BuildBootstrap builds the main package pkg (relative to root: "./functions/api") into out as the
// Makefile's build-%Function builds a function, but for this machine's architecture: GOOS=linux,
// CGO_ENABLED=0, -tags lambda.norpc, -trimpath -ldflags='-s -w'. It returns the binary's size.
func BuildBootstrap(ctx context.Context, root, pkg, out string) (int64, error) {
	env := []string{"GOOS=linux", "GOARCH=" + runtime.GOARCH, "CGO_ENABLED=0"}
	if err := goBuild(ctx, root, env, out, "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", pkg); err != nil {
		return 0, err
	}
	st, err := os.Stat(out)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// goBuild runs `go build -o out args...` in root with env added to the process's.
func goBuild(ctx context.Context, root string, env []string, out string, args ...string) error {
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		gobin = "go"
	}
	cmd := exec.CommandContext(ctx, gobin, append([]string{"build", "-o", out}, args...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	if o, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("rietest: go build %s: %v\n%s", args[len(args)-1], err, o)
	}
	return nil
}

// ErrInit is what Invoke returns (wrapped in an *InitError) when the function's init failed: the
// binary exited or its init timed out before it asked the Runtime API for an event.
var ErrInit = errors.New("init failed")

// InitError says which function failed to start and the first line it logged, which is where a
// Lambda's own init failure (a missing variable, a malformed value) is written.
type InitError struct {
	Function  string
	FirstLine string
	Status    int
}

func (e *InitError) Error() string {
	return fmt.Sprintf("%s: %v under the Runtime Interface Emulator (HTTP %d); its first log line: %s", e.Function, ErrInit, e.Status, e.FirstLine)
}

func (e *InitError) Unwrap() error { return ErrInit }

// Instance is one function running under the emulator.
type Instance struct {
	Function Function
	url      string
	cmd      *exec.Cmd
	log      *logBuffer
	done     chan struct{}
}

// Start runs fn's bootstrap under the emulator with exactly env as the function's environment
// (the emulator hands its own environment on to the function, so nothing of this process's leaks
// in), the emulator's invoke endpoint and its Runtime API on free ports of 127.0.0.1, and waits
// until the emulator accepts connections. The function's init runs on the first Invoke, as on a
// cold start.
func Start(ctx context.Context, rie string, fn Function, env map[string]string) (*Instance, error) {
	return StartLogged(ctx, rie, fn, env, nil)
}

// StartLogged is Start with everything the emulator and the function write copied to out as well
// (when not nil): the local run shows it, each line prefixed with the function's name.
func StartLogged(ctx context.Context, rie string, fn Function, env map[string]string, out io.Writer) (*Instance, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", addr,
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(ports[1]), "--log-level", "info", "./bootstrap")
	cmd.Dir = filepath.Dir(fn.Bootstrap)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	slices.Sort(cmd.Env)
	in := &Instance{Function: fn, url: "http://" + addr + invokePath, cmd: cmd, log: &logBuffer{}, done: make(chan struct{})}
	var w io.Writer = in.log
	if out != nil {
		w = io.MultiWriter(in.log, out)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("rietest: start %s: %w", fn.LogicalID, err)
	}
	go func() { cmd.Wait(); close(in.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return in, nil
		}
		select {
		case <-in.done:
			return nil, fmt.Errorf("rietest: the emulator of %s exited before listening:\n%s", fn.LogicalID, in.log.String())
		case <-ctx.Done():
			in.Close()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond): // polling for the listener, not timing the test
		}
		if time.Now().After(deadline) {
			in.Close()
			return nil, fmt.Errorf("rietest: the emulator of %s did not listen on %s:\n%s", fn.LogicalID, addr, in.log.String())
		}
	}
}

// Invoke sends one event and returns the function's answer: its response payload, or, when its
// handler returned an error, the error document the runtime posted ({"errorMessage", "errorType"}),
// with failed true. The standalone emulator answers both with 200 and no X-Amz-Function-Error
// header (the service sets it), so an error is told by the document's shape. An init failure is an
// *InitError.
func (in *Instance) Invoke(ctx context.Context, payload []byte) (answer []byte, failed bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.url, bytes.NewReader(payload))
	if err != nil {
		return nil, false, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, false, fmt.Errorf("rietest: invoke %s: %w", in.Function.LogicalID, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, false, err
	}
	if resp.StatusCode != http.StatusOK {
		// The emulator may answer before its own report of the init, and the function's last words,
		// have come through their pipes: wait (boundedly) for the INIT REPORT it always prints and,
		// when the init failed, for the function's first line.
		initFailed := func(log string) bool {
			return strings.Contains(log, "INIT RTDONE(status: error)") || strings.Contains(log, "Init failed")
		}
		in.log.waitFor(10*time.Second, func(log string) bool {
			return initReport.MatchString(log) && (!initFailed(log) || in.FirstLogLine() != "")
		})
		if initFailed(in.log.String()) {
			return nil, false, &InitError{Function: in.Function.LogicalID, FirstLine: in.FirstLogLine(), Status: resp.StatusCode}
		}
		return nil, false, fmt.Errorf("rietest: invoke %s: HTTP %d %s; log:\n%s", in.Function.LogicalID, resp.StatusCode, body, in.log.String())
	}
	return body, resp.Header.Get("X-Amz-Function-Error") != "" || IsErrorDocument(body), nil
}

// IsErrorDocument says whether an answer is the runtime's error document: a JSON object of
// errorMessage and errorType (and the optional stackTrace) alone.
func IsErrorDocument(answer []byte) bool {
	var doc map[string]json.RawMessage
	if json.Unmarshal(answer, &doc) != nil {
		return false
	}
	_, msg := doc["errorMessage"]
	_, typ := doc["errorType"]
	delete(doc, "stackTrace")
	return msg && typ && len(doc) == 2
}

// FirstLogLine is the first line the function itself wrote (not the emulator's own "(rapid)"
// lines, nor the START/END/REPORT lines it prints for the platform).
func (in *Instance) FirstLogLine() string {
	for _, l := range in.log.lines() {
		if !emulatorLine(l) {
			return l
		}
	}
	return ""
}

// FunctionLog is every line the function wrote.
func (in *Instance) FunctionLog() []string {
	var out []string
	for _, l := range in.log.lines() {
		if !emulatorLine(l) {
			out = append(out, l)
		}
	}
	return out
}

func emulatorLine(l string) bool {
	return strings.Contains(l, "] (rapid) ") || strings.HasPrefix(l, "START RequestId:") ||
		strings.HasPrefix(l, "END RequestId:") || strings.HasPrefix(l, "REPORT RequestId:")
}

// initReport is the emulator's report of the init phase: "INIT REPORT(durationMs: 52.384000)",
// printed once per phase (the phase "init" of a cold start comes first).
var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// reportInit is the platform REPORT line's "Init Duration: 55.12 ms" of the first invocation.
var reportInit = regexp.MustCompile(`Init Duration: ([0-9.]+) ms`)

// InitDuration is how long the function's init took, from the emulator's INIT REPORT of the cold
// start (the REPORT line's Init Duration when that is missing); ok is false before the first invoke.
func (in *Instance) InitDuration() (d time.Duration, ok bool) {
	s := in.log.String()
	m := initReport.FindStringSubmatch(s)
	if m == nil {
		if m = reportInit.FindStringSubmatch(s); m == nil {
			return 0, false
		}
	}
	ms, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, false
	}
	return time.Duration(ms * float64(time.Millisecond)), true
}

// WaitInitDuration is InitDuration once the INIT REPORT has reached the log: the emulator writes
// its report lines through a pipe the harness copies, so on a busy machine an answer can come back
// before them. It waits at most 10 seconds.
func (in *Instance) WaitInitDuration(ctx context.Context) (time.Duration, bool) {
	d, ok := in.InitDuration()
	for wait := time.Now().Add(10 * time.Second); !ok && time.Now().Before(wait) && ctx.Err() == nil; d, ok = in.InitDuration() {
		time.Sleep(20 * time.Millisecond)
	}
	return d, ok
}

// Log is everything the emulator and the function wrote.
func (in *Instance) Log() string { return in.log.String() }

// Close stops the emulator and the function it runs.
func (in *Instance) Close() {
	if in.cmd.Process != nil {
		in.cmd.Process.Kill()
	}
	<-in.done
}

// Measure is one function's cold start under the emulator and its deployment size, for the
// benchmarks.
type Measure struct {
	LogicalID string
	Size      int64
	Init      time.Duration
}

// MeasureInit starts fn under the emulator with env, invokes it once with payload (its init runs
// then) and returns its init duration and binary size. The invocation's answer is not judged.
func MeasureInit(ctx context.Context, rie string, fn Function, env map[string]string, payload []byte) (Measure, error) {
	in, err := Start(ctx, rie, fn, env)
	if err != nil {
		return Measure{}, err
	}
	defer in.Close()
	if _, _, err := in.Invoke(ctx, payload); err != nil {
		return Measure{}, err
	}
	d, ok := in.WaitInitDuration(ctx)
	if !ok {
		return Measure{}, fmt.Errorf("rietest: %s: no INIT REPORT in the emulator's log", fn.LogicalID)
	}
	return Measure{LogicalID: fn.LogicalID, Size: fn.Size, Init: d}, nil
}

// freePorts reserves n distinct free ports and releases them for the caller to bind.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("rietest: free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// logBuffer collects the emulator's output from both of its streams.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	written chan struct{} // closed and replaced on every write
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.written != nil {
		close(b.written)
		b.written = nil
	}
	return b.buf.Write(p)
}

// waitFor waits until done holds of the output, or for at most timeout; it wakes on every write.
func (b *logBuffer) waitFor(timeout time.Duration, done func(string) bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		b.mu.Lock()
		s := b.buf.String()
		if b.written == nil {
			b.written = make(chan struct{})
		}
		written := b.written
		b.mu.Unlock()
		if done(s) {
			return true
		}
		select {
		case <-written:
		case <-deadline.C:
			return false
		}
	}
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) lines() []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// reportingGroup is an errgroup that reports each function that returned without an error.
type reportingGroup struct {
	g      *errgroup.Group
	report func(done, total int)
	mu     sync.Mutex
	done   int
	total  int
}

func (r *reportingGroup) Go(f func() error) {
	r.g.Go(func() error {
		if err := f(); err != nil {
			return err
		}
		if r.report != nil {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.done++
			r.report(r.done, r.total)
		}
		return nil
	})
}

func (r *reportingGroup) Wait() error { return r.g.Wait() }
