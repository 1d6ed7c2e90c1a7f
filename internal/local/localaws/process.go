package localaws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// child is one emulator process, in a process group of its own.
type child struct {
	name     string
	cmd      *exec.Cmd
	tail     *tail
	done     chan struct{} // closed once the process has been waited for
	waitErr  error
	stopping atomic.Bool
	// removeAfter is a scratch directory deleted once the process has exited.
	removeAfter string
}

// preflight names everything missing to run the emulators at once, so a fresh machine learns all it
// lacks from one error.
func preflight(o Options) (java, node string, err error) {
	var errs []error
	jar := filepath.Join(o.DynamoDBLocalDir, "DynamoDBLocal.jar")
	if _, err := os.Stat(jar); err != nil {
		errs = append(errs, fmt.Errorf("DynamoDB Local is not installed (no %s): run `make deps`", jar))
	}
	cli := filepath.Join(o.NPMDir, "node_modules", "aws-ses-v2-local", "dist", "cli.js")
	if _, err := os.Stat(cli); err != nil {
		errs = append(errs, fmt.Errorf("the SES emulator is not installed (no %s): run `make deps`", cli))
	}
	if java, err = findJava(); err != nil {
		errs = append(errs, err)
	}
	if node, err = exec.LookPath("node"); err != nil {
		errs = append(errs, errors.New("node not found in PATH: the SES emulator needs Node 20"))
	}
	return java, node, errors.Join(errs...)
}

// startDynamoDB runs DynamoDBLocal.jar and waits until it answers ListTables.
func startDynamoDB(ctx context.Context, o Options, java string) (*child, string, error) {
	jar := filepath.Join(o.DynamoDBLocalDir, "DynamoDBLocal.jar")
	storage := []string{"-inMemory"}
	if o.DataDir != "" {
		if err := os.MkdirAll(o.DataDir, 0o755); err != nil {
			return nil, "", fmt.Errorf("dynamodb data dir: %w", err)
		}
		storage = []string{"-dbPath", o.DataDir}
	}
	return startWithRetry(ctx, "dynamodb", o.DynamoDBPort, func(port int) (*child, string, error) {
		args := append([]string{
			"-Djava.library.path=" + filepath.Join(o.DynamoDBLocalDir, "DynamoDBLocal_lib"),
			"-jar", jar,
			"-port", strconv.Itoa(port),
			// One database whatever the credentials and region of the caller.
			"-sharedDb",
			"-disableTelemetry",
		}, storage...)
		// The JVM writes dynamodb-local-metadata.json into its working directory at start-up: give
		// each one its own, so concurrent test processes do not race on a shared file, and remove it
		// once the JVM answers, so that a killed owner leaves nothing behind.
		workDir, err := os.MkdirTemp("", "lethe-dynamodb-")
		if err != nil {
			return nil, "", fmt.Errorf("dynamodb work dir: %w", err)
		}
		c, err := startChild("dynamodb", java, args, workDir, true, o)
		if err != nil {
			return nil, "", err
		}
		url := "http://127.0.0.1:" + strconv.Itoa(port)
		client := dynamodb.New(dynamodb.Options{
			Region:       Region,
			BaseEndpoint: aws.String(url),
			Credentials:  staticCreds,
			HTTPClient:   &http.Client{Timeout: 2 * time.Second},
			// waitHealthy polls on its own schedule; SDK back-off would only delay noticing.
			Retryer: aws.NopRetryer{},
		})
		err = c.waitHealthy(ctx, o.StartTimeout, func(ctx context.Context) error {
			_, err := client.ListTables(ctx, &dynamodb.ListTablesInput{})
			return err
		})
		if err == nil {
			os.RemoveAll(workDir)
		}
		return c, url, err
	})
}

// startSES runs the aws-ses-v2-local CLI with node (not npx, so there is one process to stop) and
// waits until /health-check answers.
func startSES(ctx context.Context, o Options, node string) (*child, string, error) {
	cli := filepath.Join(o.NPMDir, "node_modules", "aws-ses-v2-local", "dist", "cli.js")
	return startWithRetry(ctx, "ses", o.SESPort, func(port int) (*child, string, error) {
		c, err := startChild("ses", node,
			[]string{cli, "--host", "127.0.0.1", "--port", strconv.Itoa(port)}, o.NPMDir, false, o)
		if err != nil {
			return nil, "", err
		}
		url := "http://127.0.0.1:" + strconv.Itoa(port)
		hc := &http.Client{Timeout: 2 * time.Second}
		err = c.waitHealthy(ctx, o.StartTimeout, func(ctx context.Context) error {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/health-check", nil)
			resp, err := hc.Do(req)
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("health check: %s", resp.Status)
			}
			return nil
		})
		return c, url, err
	})
}

// errExitedEarly marks a child that died before answering.
var errExitedEarly = errors.New("exited before answering")

// startWithRetry starts a child on the given port, or on a free one when port is 0; a picked port
// taken by someone else between picking and binding earns up to two more tries.
func startWithRetry(ctx context.Context, name string, port int, start func(port int) (*child, string, error)) (*child, string, error) {
	tries := 1
	if port == 0 {
		tries = 3
	} else if l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port)); err != nil {
		// Otherwise whatever holds the port would answer the health check in our child's place.
		return nil, "", fmt.Errorf("%s: port %d is already in use (another `lethe local`?): %w", name, port, err)
	} else {
		l.Close()
	}
	var err error
	for i := 0; i < tries; i++ {
		p := port
		if p == 0 {
			if p, err = freePort(); err != nil {
				return nil, "", err
			}
		}
		var c *child
		var url string
		c, url, err = start(p)
		if err == nil {
			return c, url, nil
		}
		portTaken := false
		if c != nil {
			c.stop(time.Second)
			portTaken = c.tail.contains("Address already in use", "BindException", "EADDRINUSE")
		}
		if !errors.Is(err, errExitedEarly) || !portTaken {
			break
		}
	}
	return nil, "", err
}

// startChild starts path in dir; with removeDir, dir is deleted once the process has exited.
func startChild(name, path string, args []string, dir string, removeDir bool, o Options) (*child, error) {
	c := &child{name: name, tail: newTail(20), done: make(chan struct{})}
	if removeDir {
		c.removeAfter = dir
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	cmd.Stdout = io.MultiWriter(c.tail, NewPrefixWriter(o.Stdout, name+": "))
	cmd.Stderr = io.MultiWriter(c.tail, NewPrefixWriter(o.Stderr, name+": "))
	cmd.SysProcAttr = sysProcAttr()
	if err := spawn(cmd); err != nil {
		if removeDir {
			os.RemoveAll(dir)
		}
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c.cmd = cmd
	go func() {
		c.waitErr = cmd.Wait()
		if c.removeAfter != "" {
			os.RemoveAll(c.removeAfter)
		}
		close(c.done)
	}()
	return c, nil
}

// waitHealthy polls check until it succeeds, the child exits, or the deadline passes.
func (c *child) waitHealthy(ctx context.Context, timeout time.Duration, check func(context.Context) error) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		last = check(cctx)
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-c.done:
			return fmt.Errorf("%s %w (%v)%s", c.name, errExitedEarly, c.waitErr, c.tail.report())
		case <-ctx.Done():
			return fmt.Errorf("start %s: %w", c.name, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer within %v (last error: %v)%s", c.name, timeout, last, c.tail.report())
		}
	}
}

// stop sends SIGTERM to the child's process group, SIGKILL after grace, and waits for it.
func (c *child) stop(grace time.Duration) error {
	select {
	case <-c.done:
		if c.stopping.Swap(true) {
			return nil
		}
		return fmt.Errorf("%s had already exited (%v)%s", c.name, c.waitErr, c.tail.report())
	default:
	}
	c.stopping.Store(true)
	pid := c.cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-c.done:
		return nil
	case <-time.After(grace):
	}
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill %s: %w", c.name, err)
	}
	<-c.done
	return nil
}

// findJava prefers java on PATH, then $JAVA_HOME/bin/java.
func findJava() (string, error) {
	if p, err := exec.LookPath("java"); err == nil {
		return p, nil
	}
	if home := os.Getenv("JAVA_HOME"); home != "" {
		p := filepath.Join(home, "bin", "java")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("java not found in PATH or JAVA_HOME: DynamoDB Local needs Java 17 or later")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Children are started from one goroutine locked to its OS thread for the life of the process:
// Linux's parent-death signal fires when the *thread* that forked exits, and the Go runtime may end
// a thread that some other goroutine locked and never unlocked. This thread never ends.
var (
	spawnOnce sync.Once
	spawnReqs chan spawnReq
)

type spawnReq struct {
	cmd  *exec.Cmd
	done chan error
}

func spawn(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawnReqs = make(chan spawnReq)
		go func() {
			runtime.LockOSThread()
			for r := range spawnReqs {
				r.done <- r.cmd.Start()
			}
		}()
	})
	r := spawnReq{cmd: cmd, done: make(chan error, 1)}
	spawnReqs <- r
	return <-r.done
}

// tail keeps the last lines a child wrote, for error messages.
type tail struct {
	mu    sync.Mutex
	max   int
	lines []string
	part  []byte
}

func newTail(max int) *tail { return &tail{max: max} }

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.part = append(t.part, p...)
	for {
		i := bytes.IndexByte(t.part, '\n')
		if i < 0 {
			break
		}
		t.add(string(t.part[:i]))
		t.part = t.part[i+1:]
	}
	return len(p), nil
}

func (t *tail) add(line string) {
	line = strings.TrimRight(line, "\r")
	if strings.TrimSpace(line) == "" {
		return
	}
	t.lines = append(t.lines, line)
	if len(t.lines) > t.max {
		t.lines = t.lines[len(t.lines)-t.max:]
	}
}

// contains reports whether any kept line holds one of the substrings.
func (t *tail) contains(subs ...string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, l := range append(t.lines, string(t.part)) {
		for _, s := range subs {
			if strings.Contains(l, s) {
				return true
			}
		}
	}
	return false
}

// report returns the last lines as an indented block to append to an error, or "".
func (t *tail) report() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := t.lines
	if len(t.part) > 0 {
		lines = append(lines[:len(lines):len(lines)], string(t.part))
	}
	if len(lines) == 0 {
		return "; it wrote nothing"
	}
	return "; its last output:\n\t" + strings.Join(lines, "\n\t")
}

// NewPrefixWriter writes each complete line it is given to w after prefix, one whole line at a time
// across every such writer, so the lines of several processes sharing w never interleave within a
// line. A nil w or io.Discard drops everything; a failing w never stops the writer's source.
func NewPrefixWriter(w io.Writer, prefix string) io.Writer {
	return &prefixWriter{w: w, prefix: prefix}
}

type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	part   []byte
}

// lineMu makes each line one write on the shared output.
var lineMu sync.Mutex

func (p *prefixWriter) Write(b []byte) (int, error) {
	if p.w == nil || p.w == io.Discard {
		return len(b), nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.part = append(p.part, b...)
	for {
		i := bytes.IndexByte(p.part, '\n')
		if i < 0 {
			break
		}
		line := make([]byte, 0, len(p.prefix)+i+1)
		line = append(append(line, p.prefix...), p.part[:i+1]...)
		p.part = p.part[i+1:]
		lineMu.Lock()
		_, err := p.w.Write(line)
		lineMu.Unlock()
		if err != nil {
			return len(b), nil // a broken log sink must not stall the child
		}
	}
	return len(b), nil
}
