// Package readmetest runs the README's walkthrough as a newcomer would: every fenced ```sh or ```bash
// block of README.md, in order, in one bash session, against the local system `make run` starts
// (localrun, in memory, on free ports). A block whose fence says `norun` (```sh norun: `make run`
// itself) is not run. A command that fails stops the walk and fails the test with the README line and
// the block's output; a `#=> text` comment after a command is what the block's output must contain,
// in order, so the prose cannot promise what the commands no longer do.
package readmetest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/local/localaws"
	"github.com/lethe-dev/lethe/internal/local/localrun"
)

// tools are the commands the README's blocks use besides the shell's builtins and coreutils.
var tools = []string{"bash", "curl", "jq", "openssl", "base64", "sed"}

// block is one fenced shell block of the README.
type block struct {
	line   int      // the README line of its first command (after the fence)
	lines  []string // its text
	expect []expectation
}

// expectation is one `#=> text` comment: the block's output must contain text after the previous one.
type expectation struct {
	line int
	text string
}

var (
	fenceOpen = regexp.MustCompile("^```(sh|bash)(\\s+.*)?$")
	expectRe  = regexp.MustCompile(`#=> (.+)$`)
)

// parseBlocks finds the README's shell blocks; norun ones are left out.
func parseBlocks(readme string) []block {
	var out []block
	var cur *block
	for i, l := range strings.Split(readme, "\n") {
		n := i + 1
		switch {
		case cur == nil && fenceOpen.MatchString(l):
			m := fenceOpen.FindStringSubmatch(l)
			cur = &block{line: n + 1}
			if strings.Contains(m[2], "norun") {
				cur.line = -1
			}
		case cur != nil && strings.HasPrefix(l, "```"):
			if cur.line > 0 {
				out = append(out, *cur)
			}
			cur = nil
		case cur != nil:
			cur.lines = append(cur.lines, l)
			if m := expectRe.FindStringSubmatch(l); m != nil {
				cur.expect = append(cur.expect, expectation{line: n, text: strings.TrimSpace(m[1])})
			}
		}
	}
	return out
}

func TestParseBlocksSkipsNorunAndReadsExpectations(t *testing.T) {
	bs := parseBlocks("x\n```sh norun\nmake run\n```\n```sh\necho hi   #=> hi\n```\n```go\nnot shell\n```\n```bash\ntrue\n```\n")
	if len(bs) != 2 || bs[0].line != 6 || bs[1].line != 12 {
		t.Fatalf("blocks: %+v", bs)
	}
	if len(bs[0].expect) != 1 || bs[0].expect[0] != (expectation{line: 6, text: "hi"}) {
		t.Fatalf("expectations: %+v", bs[0].expect)
	}
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := localaws.FindRepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestReadmeCommandsRunInOrder runs every shell block of README.md in order against a fresh local run.
func TestReadmeCommandsRunInOrder(t *testing.T) {
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			msg := fmt.Sprintf("%s is not installed: the README's commands need %s (make readme-tools installs them as root)",
				tool, strings.Join(tools, ", "))
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	root := repoRoot(t)
	raw, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := parseBlocks(string(raw))
	if len(blocks) < 5 {
		t.Fatalf("README.md has %d shell blocks to run; the walkthrough is missing", len(blocks))
	}

	// The walk runs in a folder of its own (it writes request.eml, act.html) with bin/lethe built there,
	// as the README runs from the repository root after `make run` built it.
	work := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(work, "bin", "lethe"), "./cmd/lethe")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build bin/lethe: %v\n%s", err, out)
	}

	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan *localrun.System, 1)
	done := make(chan error, 1)
	var startup bytes.Buffer
	go func() {
		done <- localrun.Run(ctx, localrun.Options{APIPort: -1, SESPort: -1, DynamoDBPort: -1, S3Port: -1, SMTPPort: -1,
			Seed: 1, Out: &startup, Ready: func(s *localrun.System) { ready <- s }})
	}()
	var sys *localrun.System
	select {
	case sys = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("the local run did not start: %v\n%s", err, startup.String())
	case <-time.After(4 * time.Minute):
		cancel()
		t.Fatalf("the local run was not ready within 4 minutes\n%s", startup.String())
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && ctx.Err() == nil {
			t.Errorf("local run: %v", err)
		}
	})

	port := func(u string) string {
		if !strings.Contains(u, "://") {
			u = "http://" + u
		}
		p, err := url.Parse(u)
		if err != nil || p.Port() == "" {
			t.Fatalf("no port in %q", u)
		}
		return p.Port()
	}
	apiPort, sesPort, smtpPort := port(sys.APIURL), port(sys.Stack.SESEndpoint), port(sys.SMTPAddr)
	// The README shows make run's default ports; this run's are free ones.
	ports := strings.NewReplacer(
		"localhost:3000", "localhost:"+apiPort, "127.0.0.1:3000", "127.0.0.1:"+apiPort,
		"localhost:8005", "localhost:"+sesPort, "127.0.0.1:8005", "127.0.0.1:"+sesPort,
		"127.0.0.1:2525", "127.0.0.1:"+smtpPort, "localhost:2525", "localhost:"+smtpPort)

	// One script: each block in braces (its variables and functions stay for the next), a marker
	// after each, and an ERR trap that names the script line of the command that failed.
	var script strings.Builder
	script.WriteString("set -eE -o pipefail\ntrap 'printf \"\\n@@FAILED %d\\n\" $LINENO' ERR\n")
	scriptLine := map[int]int{} // script line → README line
	n := 3
	for i, b := range blocks {
		fmt.Fprintf(&script, "printf '\\n@@BLOCK %d\\n'\n{\n", i)
		n += 2
		for j, l := range b.lines {
			script.WriteString(ports.Replace(l) + "\n")
			scriptLine[n] = b.line + j
			n++
		}
		// A command's output may end without a newline: each marker starts a line of its own.
		fmt.Fprintf(&script, "}\nprintf '\\n@@DONE %d\\n'\n", i)
		n += 2
	}

	runCtx, stop := context.WithTimeout(ctx, 3*time.Minute)
	defer stop()
	cmd := exec.CommandContext(runCtx, "bash", "-c", script.String())
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "LETHE_API_PORT="+apiPort, "LETHE_SES_PORT="+sesPort, "LETHE_SMTP_PORT="+smtpPort)
	cmd.WaitDelay = 5 * time.Second
	out, runErr := cmd.CombinedOutput()

	// Split the output by block.
	outputs := make([]string, len(blocks))
	finished := make([]bool, len(blocks))
	failedAt := 0
	cur := -1
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "@@BLOCK "):
			cur, _ = strconv.Atoi(strings.TrimPrefix(l, "@@BLOCK "))
		case strings.HasPrefix(l, "@@DONE "):
			i, _ := strconv.Atoi(strings.TrimPrefix(l, "@@DONE "))
			finished[i] = true
		case strings.HasPrefix(l, "@@FAILED "):
			sl, _ := strconv.Atoi(strings.TrimPrefix(l, "@@FAILED "))
			failedAt = scriptLine[sl]
		case cur >= 0:
			outputs[cur] += l + "\n"
		}
	}
	for i, b := range blocks {
		if !finished[i] {
			where := fmt.Sprintf("README.md:%d (the block from line %d)", failedAt, b.line)
			if failedAt == 0 {
				where = fmt.Sprintf("the block at README.md:%d", b.line)
			}
			t.Fatalf("%s failed (%v); its output:\n%s", where, runErr, outputs[i])
		}
		rest := outputs[i]
		for _, e := range b.expect {
			k := strings.Index(rest, e.text)
			if k < 0 {
				t.Errorf("README.md:%d promises output containing %q (after the previous #=>); the block from line %d printed:\n%s",
					e.line, e.text, b.line, outputs[i])
				break
			}
			rest = rest[k+len(e.text):]
		}
	}
	if runErr != nil {
		t.Fatalf("the walkthrough's bash ended with %v:\n%s", runErr, out)
	}
}
