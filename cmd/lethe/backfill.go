package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
)

func init() {
	register(command{name: "backfill", summary: "once after the deploy that added GSI3: put the connections stored before it in their health-sweep slots", run: runBackfill})
}

// runBackfill places the connections stored before GSI3 existed in their hour slots: the
// channel sweep only Queries GSI3, and would never check a connection without its keys.
func runBackfill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backfill", flag.ContinueOnError)
	tf := addTargetFlags(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: lethe backfill [--aws | --stack NAME]\n\n"+
			"Scans the platform table once for channel connections without GSI3 keys and sets them (a\n"+
			"conditional update; a wiped connection is not brought back). Running it again does nothing.\n"+
			localUsage("Without --aws it works on the local stack's tables")+"\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fs, stderr, "unexpected arguments %q", fs.Args())
	}
	t, err := tf.open(ctx)
	if err != nil {
		return err
	}
	n, err := platform.BackfillConnectionSlots(ctx, t.db, t.tables[datamap.PlatformTable])
	fmt.Fprintf(stdout, "%d connections placed in their slots\n", n)
	return err
}
