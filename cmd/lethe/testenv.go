package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/lethe-dev/lethe/internal/local/localaws"
)

func init() {
	register(command{
		name:    "testenv",
		summary: "run a command against one shared set of local AWS emulators (lethe testenv -- go test ./...)",
		run:     runTestenv,
	})
}

// runTestenv starts one in-memory stack on free ports, hands its endpoints to the command through
// LETHE_*_ENDPOINT, and stops the stack when the command ends. Every Go test package is its own
// process; this is how they all share one JVM and one node instead of starting one each.
func runTestenv(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("testenv", flag.ContinueOnError)
	verbose := fs.Bool("v", false, "show the emulators' output")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: lethe testenv [-v] [-- command args...]\n\n"+
			"Without a command, prints the endpoint variables and waits for Ctrl-C.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	argv := fs.Args()

	opts := localaws.Options{}
	if *verbose {
		opts.Stdout, opts.Stderr = stderr, stderr
	}
	began := time.Now()
	stack, err := localaws.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer stack.Close()
	fmt.Fprintf(stderr, "lethe testenv: emulators up in %v (DynamoDB %s, SES %s, S3 %s)\n",
		time.Since(began).Round(10*time.Millisecond), stack.DynamoDBEndpoint, stack.SESEndpoint, stack.S3Endpoint)

	if len(argv) == 0 {
		for _, kv := range stack.Env() {
			fmt.Fprintln(stdout, "export "+kv)
		}
		select {
		case <-ctx.Done():
		case err := <-stack.Exited():
			return err
		}
		return stack.Close()
	}

	code, err := runChild(ctx, argv, append(os.Environ(), stack.Env()...), stdout, stderr)
	if cerr := stack.Close(); cerr != nil {
		fmt.Fprintf(stderr, "lethe testenv: stop emulators: %v\n", cerr)
	}
	if err != nil {
		return err
	}
	if code != 0 {
		return exitCode(code)
	}
	return nil
}

// runChild runs argv with stdio attached and returns its exit status. The child stays in our process
// group, so a terminal's Ctrl-C reaches it (and its test binaries) directly; a SIGTERM aimed at us
// alone is passed on.
func runChild(ctx context.Context, argv []string, env []string, stdout, stderr io.Writer) (int, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err = <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			err = <-done
		}
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return exit.ExitCode(), nil
	}
	return 0, err
}
