package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/deletion"
	"github.com/lethe-dev/lethe/internal/erasure"
	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/retention"
)

func init() {
	register(command{name: "hold", summary: "place, release and list legal holds (platform operators)", run: runHold})
}

const holdUsage = `usage:
  lethe hold place   --account ID --scope account|bot|end_user [--id BOT_OR_END_USER] --reason TEXT --authority REF [--until YYYY-MM-DD] --operator NAME
  lethe hold release --hold ID --operator NAME [--note TEXT]
  lethe hold list    --account ID

A hold keeps what it covers from every deletion until it is released; releasing it finishes the
requests it held. Every action is recorded on the hold and in the history of the account's open
requests. Add --aws to act on the deployed tables, --stack NAME for another local stack.
`

func runHold(ctx context.Context, args []string) error {
	return holdCommand(ctx, args, os.Stdout, os.Stderr)
}

func holdCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, holdUsage)
		return flag.ErrHelp
	}
	verb, args := args[0], args[1:]
	fs := flag.NewFlagSet("hold "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, holdUsage) }
	tf := addTargetFlags(fs)
	account := fs.String("account", "", "account id")
	scope := fs.String("scope", "", "account, bot or end_user")
	id := fs.String("id", "", "the bot or end user id (scope bot or end_user)")
	reason := fs.String("reason", "", "why the data must be kept")
	authority := fs.String("authority", "", "the authority's request reference")
	until := fs.String("until", "", "the end date the authority stated, if any (informational: a hold lasts until released)")
	operator := fs.String("operator", "", "who acts (recorded)")
	holdID := fs.String("hold", "", "hold id")
	note := fs.String("note", "", "why the hold is released")
	if err := fs.Parse(args); err != nil {
		return err
	}
	t, err := tf.open(ctx)
	if err != nil {
		return err
	}
	led := ledger.New(t.db, t.tables[datamap.LedgerTable], t.policy, time.Now)
	out := json.NewEncoder(stdout)
	out.SetIndent("", "  ")
	actor := "operator:" + strings.TrimSpace(*operator)
	switch verb {
	case "place":
		h := platform.LegalHold{AccountID: *account, ScopeKind: *scope, ScopeID: *id, Reason: *reason, AuthorityRef: *authority}
		if *until != "" {
			u, err := time.Parse("2006-01-02", *until)
			if err != nil {
				return fmt.Errorf("--until: %w", err)
			}
			h.Until = &u
		}
		if strings.TrimSpace(*operator) == "" {
			actor = ""
		}
		placed, err := led.PlaceHold(ctx, h, actor)
		if err != nil {
			return err
		}
		// The TTL comes off everything the hold covers now rather than at the next sweep.
		if placed, err = settleHold(ctx, t, led, placed.ID); err != nil {
			return err
		}
		return out.Encode(placed)
	case "release":
		if *holdID == "" || strings.TrimSpace(*operator) == "" {
			return errors.New("release needs --hold and --operator")
		}
		svc, err := deletionService(t, led)
		if err != nil {
			return err
		}
		done, err := svc.ReleaseHold(ctx, *holdID, actor, *note, erasure.Budget{})
		if err != nil {
			return err
		}
		for _, r := range done {
			fmt.Fprintf(stderr, "request %s finished: %s\n", r.ID, r.Status)
		}
		// What the hold kept gets its TTL back; the next sweep expires what is past it.
		h, err := settleHold(ctx, t, led, *holdID)
		if err != nil {
			return err
		}
		return out.Encode(h)
	case "list":
		if *account == "" {
			return errors.New("list needs --account")
		}
		hs, err := led.Holds(ctx, *account)
		if err != nil {
			return err
		}
		return out.Encode(hs)
	}
	fmt.Fprint(stderr, holdUsage)
	return fmt.Errorf("unknown hold action %q", verb)
}

// deletionService builds the service that finishes requests, with the operator named in the acts
// from OPERATOR_NAME / OPERATOR_ADDRESS / OPERATOR_INN and their English forms OPERATOR_NAME_EN /
// OPERATOR_ADDRESS_EN (local defaults when unset and not --aws).
func deletionService(t *target, led *ledger.Ledger) (*deletion.Service, error) {
	operator := func(get func(string) string) evidence.Operator {
		return evidence.Operator{Name: get(config.EnvOperatorName), Address: get(config.EnvOperatorAddress), INN: get(config.EnvOperatorINN),
			NameEN: get(config.EnvOperatorNameEN), AddressEN: get(config.EnvOperatorAddressEN)}
	}
	op := operator(os.Getenv)
	if t.tableSpecs != nil && op.Name == "" {
		d := config.LocalDefaults(3000)
		op = operator(func(k string) string { return d[k] })
	}
	if op.Name == "" || op.Address == "" {
		return nil, fmt.Errorf("set %s and %s: acts of destruction name the operator", config.EnvOperatorName, config.EnvOperatorAddress)
	}
	store := platform.NewStore(t.db, t.tables, t.policy, time.Now)
	eng := erasure.New(store, t.db, t.s3, t.buckets, led, erasure.Options{})
	return &deletion.Service{Ledger: led, Engine: eng, Store: store, Operator: op}, nil
}

// settleHold runs a hold's TTL batches to the end (internal/retention): taken off what it covers
// while it stands, given back once it is released. It returns the hold with its progress.
func settleHold(ctx context.Context, t *target, led *ledger.Ledger, id string) (platform.LegalHold, error) {
	sw := &retention.Sweep{DB: t.db, Tables: map[string]string{datamap.PlatformTable: t.tables[datamap.PlatformTable],
		datamap.LedgerTable: t.tables[datamap.LedgerTable]}, S3: t.s3, Buckets: t.buckets, Ledger: led,
		Store: platform.NewStore(t.db, t.tables, t.policy, time.Now), Policy: t.policy}
	for {
		done, err := sw.SettleHold(ctx, id, retention.DefaultHoldBatch)
		if err != nil {
			return platform.LegalHold{}, err
		}
		if done {
			return led.Hold(ctx, id)
		}
	}
}
