package main

import (
	"context"
	"flag"
	"os"

	"github.com/lethe-dev/lethe/internal/local/localaws"
	"github.com/lethe-dev/lethe/internal/local/localrun"
)

func init() {
	register(command{name: "local", summary: "run the whole system locally until Ctrl-C (make run)", run: runLocal})
}

func runLocal(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	seedFlag := fs.Uint64("seed", 1, "seed of the demo data (used on the first run over an empty data folder)")
	memory := fs.Bool("in-memory", false, "keep nothing on disk (DynamoDB Local in memory)")
	verbose := fs.Bool("v", false, "show the emulators' output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	root, err := localaws.FindRepoRoot()
	if err != nil {
		return err
	}
	o, err := localrun.OptionsFromEnv(root)
	if err != nil {
		return err
	}
	o.Seed, o.Out = *seedFlag, os.Stdout
	if *memory {
		o.DataDir = ""
	}
	if *verbose {
		o.Log = os.Stderr
	}
	return localrun.Run(ctx, o)
}
