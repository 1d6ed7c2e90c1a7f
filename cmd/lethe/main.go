// Command lethe is the operator and developer CLI of Lethe: it runs the whole system locally
// (`lethe local`), seeds demo data (`lethe seed`), and runs a command against a shared set of
// local AWS emulators (`lethe testenv -- go test ./...`).
//
// Every command behaves the same way: -h or --help prints its usage on stdout and exits 0; a
// command line it cannot read prints what is wrong and the usage on stderr and exits 2; a failure
// exits 1 with one line on stderr. What a command prints as JSON uses the HTTP API's key style
// (camelCase), and the commands that reach the local run find it where `make run` serves
// (localrun.EndpointsFromEnv).
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one `lethe` subcommand. Each lives in its own file and registers itself in init.
type command struct {
	name    string
	summary string // one line in `lethe --help`
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

func register(c command) { commands[c.name] = c }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// isHelp reports whether an argument asks for help.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}

// cli runs one command line and answers the process's exit status.
func cli(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || isHelp(args[0]) {
		if len(args) > 1 {
			if _, ok := commands[args[1]]; ok { // lethe help <command>
				return cli(ctx, []string{args[1], "--help"}, stdout, stderr)
			}
		}
		usage(stdout)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "lethe: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	err := c.run(ctx, args[1:], stdout, stderr)
	var exit exitCode
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return int(exit)
	}
	fmt.Fprintf(stderr, "lethe %s: %v\n", c.name, err)
	return 1
}

// exitCode lets a command end the process with a given status (a wrapped child's, say, or 2 for a
// command line it could not read) without printing an error of its own.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: lethe <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\n`lethe <command> --help` (or `lethe help <command>`) shows a command's usage and flags.")
}

// parseFlags parses a command's flags the way every command does: -h or --help prints the usage
// on stdout and ends the process with status 0 (help asked for is no error); a flag the command
// does not know prints the error and the usage on stderr and ends it with status 2.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	err := fs.Parse(args)
	fs.SetOutput(stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		_, _ = stdout.Write(buf.Bytes())
		return exitCode(0)
	case err != nil:
		_, _ = stderr.Write(buf.Bytes())
		return exitCode(2)
	}
	return nil
}

// usageError says what is wrong with a command line, prints the command's usage on stderr, and
// ends the process with status 2, as a flag it does not know would.
func usageError(fs *flag.FlagSet, stderr io.Writer, format string, a ...any) error {
	fmt.Fprintf(stderr, "lethe %s: %s\n\n", fs.Name(), fmt.Sprintf(format, a...))
	fs.SetOutput(stderr)
	fs.Usage()
	return exitCode(2)
}
