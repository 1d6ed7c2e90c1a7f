package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/lethe-dev/lethe/internal/local/localaws"
	"github.com/lethe-dev/lethe/internal/local/localrun"
)

func init() {
	register(command{name: "local", summary: "run the whole system locally until Ctrl-C (make run)", run: runLocal})
}

func runLocal(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	seedFlag := fs.Uint64("seed", 1, "seed of the demo data (used on the first run over an empty data folder)")
	memory := fs.Bool("in-memory", false, "keep nothing on disk (DynamoDB Local in memory)")
	verbose := fs.Bool("v", false, "show the emulators' output")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: lethe local [--seed N] [--in-memory] [-v]\n\n"+
			"Runs the API, the workflows, the sweeps and the emulators on 127.0.0.1 until Ctrl-C, seeding\n"+
			"the demo data on the first run; the ports are $LETHE_API_PORT (3000), $LETHE_DYNAMODB_PORT\n"+
			"(8000), $LETHE_SES_PORT (8005), $LETHE_S3_PORT (8006) and $LETHE_SMTP_PORT (2525), and the data\n"+
			"folder $LETHE_DATA_DIR (.local). The other commands find the run on the same ports.\n\n"+
			"$LETHE_LAMBDA_RUNTIME chooses how the Lambdas run: inprocess (the default: their handlers in\n"+
			"this process) or rie (every functions/* built as the deployment builds it, into\n"+
			"$LETHE_DATA_DIR/functions, and run under AWS's aws-lambda-rie; the API, the workflows, the\n"+
			"sweeps, the stream consumer and the mail intake invoke them over the Runtime Invoke API, and\n"+
			"their output is printed, each line prefixed with the function's name).\n\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fs, stderr, "unexpected arguments %q", fs.Args())
	}
	root, err := localaws.FindRepoRoot()
	if err != nil {
		return err
	}
	o, err := localrun.OptionsFromEnv(root)
	if err != nil {
		return err
	}
	o.Seed, o.Out = *seedFlag, stdout
	if *memory {
		o.DataDir = ""
	}
	if *verbose {
		o.Log = stderr
	}
	return localrun.Run(ctx, o)
}
