package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/seed"
)

func init() {
	register(command{name: "seed", summary: "write deterministic demo or benchmark data into local DynamoDB and S3", run: runSeed})
}

func runSeed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	seedN := fs.Uint64("seed", 1, "random seed: the same seed and --now give the same ids, secrets and data")
	nowFlag := fs.String("now", "", "the time the data is generated at, RFC 3339 (default: now)")
	demo := fs.Bool("demo", true, "the demo set of make run: a Russian-speaking and an English-speaking account")
	messages := fs.Int64("messages", 0, "instead of the demo set, one account with about `N` conversation messages")
	accounts := fs.Int("accounts", 0, "number of accounts (default: 2 for --demo, 1 for --messages)")
	asJSON := fs.Bool("json", false, "print the manifest as JSON on stdout")
	tf := addTargetFlags(fs)
	pw := fs.String("password", seed.DefaultPassword, "the demo owners' password")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: lethe seed [flags]\n\n"+localUsage("Writes into the stack's tables and buckets (created if missing)")+"\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fs, stderr, "unexpected arguments %q", fs.Args())
	}

	opts := seed.Options{Seed: *seedN, Password: *pw}
	switch {
	case *messages > 0:
		opts.Size = seed.SizeForMessages(*messages)
	case *demo:
		opts.Size = seed.DemoSize()
	default:
		return usageError(fs, stderr, "nothing to seed: pass --demo or --messages N")
	}
	if *accounts > 0 {
		opts.Size.Accounts = *accounts
	}
	opts.Now = time.Now().UTC().Truncate(time.Second)
	if *nowFlag != "" {
		t, err := time.Parse(time.RFC3339, *nowFlag)
		if err != nil {
			return fmt.Errorf("--now: %w", err)
		}
		opts.Now = t
	}
	t, err := tf.open(ctx)
	if err != nil {
		return err
	}
	if err := t.ensureLocal(ctx); err != nil {
		return err
	}
	store := platform.NewStore(t.db, t.tables, t.policy, func() time.Time { return opts.Now })
	m, st, err := seed.Write(ctx, store, t.s3, t.buckets, opts, stderr)
	if err != nil {
		return err
	}

	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(m); err != nil {
			return err
		}
	} else {
		for _, a := range m.Accounts {
			fmt.Fprintf(stdout, "account %s (%s)  %s  password %q  %d bots\n", a.ID, a.Locale, a.Email, a.Password, len(a.Bots))
		}
		fmt.Fprintf(stdout, "shared Meta ASID %s; seed %d, now %s\n", m.MetaASIDShared, m.Seed, m.Now.Format(time.RFC3339))
	}
	fmt.Fprintf(stderr, "lethe seed: %d records and %d objects in %v: %.0f records/s\n",
		st.Records, st.Objects, st.Elapsed.Round(time.Millisecond), float64(st.Records)/st.Elapsed.Seconds())
	return nil
}
