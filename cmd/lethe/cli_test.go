package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lethe-dev/lethe/internal/local/localaws"
	"github.com/lethe-dev/lethe/internal/local/localrun"
	"github.com/lethe-dev/lethe/internal/samtemplate"
	"github.com/lethe-dev/lethe/internal/testenv"
)

// run is one `lethe` command line as main runs it: the exit status and both streams.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = cli(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func commandNames() []string {
	var names []string
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// TestHelpExitsZero: asking for help is no error. `lethe`, `lethe --help`, `-h` and `help` print
// the usage on stdout — every command with its one-line description — and exit 0 with nothing on
// stderr; so do `lethe <command> --help` (and -h, and `lethe help <command>`) with the command's own
// usage line.
func TestHelpExitsZero(t *testing.T) {
	if len(commands) < 6 {
		t.Fatalf("commands %v, want at least 6", commandNames())
	}
	for _, args := range [][]string{nil, {"--help"}, {"-h"}, {"help"}} {
		code, out, errOut := run(t, args...)
		if code != 0 || errOut != "" || !strings.HasPrefix(out, "usage: lethe <command>") {
			t.Errorf("lethe %v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
		for _, n := range commandNames() {
			s := commands[n].summary
			if s == "" || strings.Contains(s, "\n") {
				t.Errorf("%s: summary %q, want one line", n, s)
			}
			if !regexp.MustCompile(`(?m)^  ` + n + ` +` + regexp.QuoteMeta(s) + `$`).MatchString(out) {
				t.Errorf("lethe %v does not list %s with its description:\n%s", args, n, out)
			}
		}
	}
	for _, n := range commandNames() {
		for _, args := range [][]string{{n, "--help"}, {n, "-h"}, {"help", n}} {
			code, out, errOut := run(t, args...)
			if code != 0 || errOut != "" {
				t.Errorf("lethe %v: exit %d, stderr %q; want 0 and nothing", args, code, errOut)
			}
			if !regexp.MustCompile(`(?m)^usage:\s+lethe ` + n + `\b`).MatchString(out) {
				t.Errorf("lethe %v: no usage line of %s on stdout:\n%s", args, n, out)
			}
		}
	}
	// hold's actions take help too.
	for _, verb := range []string{"place", "release", "list"} {
		if code, out, errOut := run(t, "hold", verb, "--help"); code != 0 || errOut != "" || !strings.Contains(out, "lethe hold "+verb) {
			t.Errorf("lethe hold %s --help: exit %d, stdout %q, stderr %q", verb, code, out, errOut)
		}
	}
}

// TestBadCommandLinesExitTwo: a command line lethe cannot read — an unknown command, flag,
// action or argument — exits 2 with what is wrong and the usage on stderr, and prints nothing on
// stdout (a script reading it gets nothing it could mistake for an answer).
func TestBadCommandLinesExitTwo(t *testing.T) {
	cases := [][]string{{"nope"}, {"--nope"}, {"hold"}, {"hold", "fly"}, {"hold", "list", "extra"},
		{"hold", "release", "--note", "x"}, {"seed", "extra"}, {"seed", "--demo=false"}, {"backfill", "extra"}}
	for _, n := range commandNames() {
		cases = append(cases, []string{n, "--no-such-flag"})
	}
	for _, args := range cases {
		code, out, errOut := run(t, args...)
		if code != 2 || out != "" || !strings.Contains(errOut, "usage:") {
			t.Errorf("lethe %v: exit %d, stdout %q, stderr %q; want 2, nothing, the usage", args, code, out, errOut)
		}
		if first := strings.SplitN(errOut, "\n", 2)[0]; strings.HasPrefix(first, "usage:") {
			t.Errorf("lethe %v: the usage without saying what is wrong", args)
		}
	}
}

// camelCaseKeys reports every object key in a JSON document that is not camelCase, as the HTTP
// API writes them; the values of dataMaps (keyed by data, not by field: channel names, secrets'
// names) are not looked into.
func camelCaseKeys(v any, path string, dataMaps map[string]bool) []string {
	var bad []string
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if !regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`).MatchString(k) {
				bad = append(bad, path+"."+k)
			}
			if !dataMaps[k] {
				bad = append(bad, camelCaseKeys(e, path+"."+k, dataMaps)...)
			}
		}
	case []any:
		for i, e := range x {
			bad = append(bad, camelCaseKeys(e, fmt.Sprintf("%s[%d]", path, i), dataMaps)...)
		}
	}
	return bad
}

// TestHoldFindsTheAPIByItsPortAndPrintsItsJSON: without --api, `lethe hold` calls the API where
// make run serves it (LETHE_API_PORT), prints the API's own listing — {"items": []} when there is
// no hold, never null — and every key of what it prints is camelCase, as api/openapi.yaml's Hold.
func TestHoldFindsTheAPIByItsPortAndPrintsItsJSON(t *testing.T) {
	w, srv, _ := opsServer(t)
	t.Setenv(EnvOpsToken, "")
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(localrun.EnvAPIPort, u.Port())
	acc, bot := w.Manifest.Accounts[0].ID, w.Manifest.Accounts[0].Bots[0].ID

	for _, args := range [][]string{{"hold", "list", "--account", acc}, {"hold", "list"}} {
		code, out, errOut := run(t, args...)
		if code != 0 || errOut != "" {
			t.Fatalf("lethe %v: exit %d, stderr %q", args, code, errOut)
		}
		var empty map[string]any
		if err := json.Unmarshal([]byte(out), &empty); err != nil || len(empty) != 1 {
			t.Fatalf("lethe %v: %q (%v)", args, out, err)
		}
		if items, ok := empty["items"].([]any); !ok || len(items) != 0 {
			t.Errorf("lethe %v with no holds: %s; want {\"items\": []}", args, out)
		}
	}

	code, placed, errOut := run(t, "hold", "place", "--account", acc, "--scope", "bot", "--id", bot, "--reason", "investigation",
		"--authority", "court", "--ref", "1/2026", "--until", "2099-01-01")
	if code != 0 {
		t.Fatalf("place: exit %d, %s", code, errOut)
	}
	code, released, errOut := run(t, "hold", "release", "--hold", holdID(t, placed), "--note", "closed")
	if code != 0 {
		t.Fatalf("release: exit %d, %s", code, errOut)
	}
	code, listed, errOut := run(t, "hold", "list", "--account", acc)
	if code != 0 {
		t.Fatalf("list: exit %d, %s", code, errOut)
	}
	for name, out := range map[string]string{"place": placed, "release": released, "list": listed} {
		var v any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("%s: %v in %s", name, err, out)
		}
		if bad := camelCaseKeys(v, "", nil); len(bad) > 0 {
			t.Errorf("%s prints keys not camelCase: %v", name, bad)
		}
		for _, k := range []string{`"id"`, `"accountId"`, `"placedBy"`, `"at"`} {
			if !strings.Contains(out, k) {
				t.Errorf("%s: no %s in %s", name, k, out)
			}
		}
	}
	if !strings.Contains(listed, `"releasedBy"`) {
		t.Errorf("list after release: %s", listed)
	}

	// Nothing listens on the port: the error names where it looked.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	t.Setenv(localrun.EnvAPIPort, closed)
	if code, _, errOut := run(t, "hold", "list"); code != 1 || !strings.Contains(errOut, "127.0.0.1:"+closed) {
		t.Errorf("list with nothing on port %s: exit %d, %q", closed, code, errOut)
	}
}

func holdID(t *testing.T, out string) string {
	t.Helper()
	var h struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(out), &h); err != nil || h.ID == "" {
		t.Fatalf("no hold id in %q (%v)", out, err)
	}
	return h.ID
}

// TestSeedFindsTheLocalRunByItsPorts: `lethe seed` writes to the DynamoDB and S3 of
// LETHE_DYNAMODB_PORT and LETHE_S3_PORT when no endpoint variable names others, as make run
// serves them (not to port 8000 regardless), and its --json manifest is camelCase.
func TestSeedFindsTheLocalRunByItsPorts(t *testing.T) {
	stack := testenv.Stack(t)
	port := func(endpoint string) string {
		u, err := url.Parse(endpoint)
		if err != nil {
			t.Fatal(err)
		}
		return u.Port()
	}
	for _, v := range []string{localaws.EnvDynamoDBEndpoint, localaws.EnvS3Endpoint, localaws.EnvSESEndpoint} {
		t.Setenv(v, "")
	}
	t.Setenv(localrun.EnvDynamoDBPort, port(stack.DynamoDBEndpoint))
	t.Setenv(localrun.EnvS3Port, port(stack.S3Endpoint))
	name := fmt.Sprintf("cli-ports-%d", time.Now().UnixNano())

	code, out, errOut := run(t, "seed", "--stack", name, "--demo=false", "--messages", "60", "--json", "--now", "2026-03-02T09:00:00Z")
	if code != 0 {
		t.Fatalf("seed: exit %d, %s", code, errOut)
	}
	var manifest any
	if err := json.Unmarshal([]byte(out), &manifest); err != nil {
		t.Fatalf("seed --json: %v in %s", err, out)
	}
	if bad := camelCaseKeys(manifest, "", map[string]bool{"counts": true, "secrets": true, "identities": true, "keys": true}); len(bad) > 0 {
		t.Errorf("seed --json prints keys not camelCase: %v", bad)
	}

	// The tables are where the ports say.
	tmpl, err := samtemplate.Load(mustFind(t))
	if err != nil {
		t.Fatal(err)
	}
	specs, err := tmpl.Tables(samtemplate.Env{StackName: name})
	if err != nil {
		t.Fatal(err)
	}
	db := stack.DynamoDB()
	for _, s := range specs {
		d, err := db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: s.Input.TableName})
		if err != nil || d.Table == nil {
			t.Errorf("table %s at %s: %v", aws.ToString(s.Input.TableName), stack.DynamoDBEndpoint, err)
		}
		t.Cleanup(func() {
			_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: s.Input.TableName})
		})
	}

	// A port nothing listens on is where it looks, and says so.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	t.Setenv(localrun.EnvDynamoDBPort, closed)
	if code, _, errOut := run(t, "seed", "--stack", name+"-x", "--demo=false", "--messages", "60"); code != 1 || !strings.Contains(errOut, "127.0.0.1:"+closed) {
		t.Errorf("seed with nothing on DynamoDB port %s: exit %d, %q", closed, code, errOut)
	}
}

func mustFind(t *testing.T) string {
	t.Helper()
	p, err := samtemplate.Find()
	if err != nil {
		t.Fatal(err)
	}
	return p
}
