// Package reauth checks the password an owner re-enters before a destructive action (deleting the
// account), and locks the action for 15 minutes after 5 failures in a row, so that a stolen session
// cannot guess its way to deleting an account.
package reauth

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/lerr"
	"github.com/lethe-dev/lethe/internal/password"
)

// The lockout rule of SPEC §4.
const (
	MaxFailures = 5
	LockFor     = 15 * time.Minute
)

// Actions a password guards.
const ActionAccountDeletion = "account_deletion"

// ErrWrongPassword: the password does not match; the failure was counted.
var ErrWrongPassword = lerr.New(lerr.EFORBIDDEN, "wrong password").Tell("the password is not right")

// LockedError: too many failures; the action is refused until Until, whatever the password.
type LockedError struct{ Until time.Time }

// ErrLocked is what every LockedError is (errors.Is), and carries its code.
var ErrLocked = lerr.New(lerr.ELOCKED, "locked after too many failed attempts").Tell("too many wrong passwords: try again later")

// Unwrap makes errors.Is(err, ErrLocked) true and gives the error its code.
func (e *LockedError) Unwrap() error { return ErrLocked }

func (e *LockedError) Error() string {
	return "locked after " + strconv.Itoa(MaxFailures) + " failed attempts until " + e.Until.UTC().Format(time.RFC3339)
}

// DB is the part of the DynamoDB client the guard uses; *dynamodb.Client satisfies it. The
// counter it keeps is stored by the ledger (ledger.Attempts).
type DB = ledger.AttemptsDB

// Guard counts failures per account and action in the ledger table.
type Guard struct {
	attempts *ledger.Attempts
	now      func() time.Time
}

// New builds a guard over the ledger table.
func New(db DB, ledgerTable string, policy datamap.Policy, now func() time.Time) *Guard {
	if now == nil {
		now = time.Now
	}
	return &Guard{attempts: ledger.NewAttempts(db, ledgerTable, policy), now: now}
}

// Check verifies password against hash for the action on the account. A locked action is refused
// (*LockedError) without looking at the password; a wrong one is counted (ErrWrongPassword, or
// *LockedError on the fifth); a right one clears the count.
func (g *Guard) Check(ctx context.Context, accountID, action, pw, hash string) error {
	now := g.now().UTC()
	until, locked, err := g.attempts.LockedUntil(ctx, accountID, action)
	if err != nil {
		return err
	}
	if locked && now.Before(until) {
		return &LockedError{Until: until}
	}
	ok, err := password.Verify(hash, pw)
	if err != nil {
		return fmt.Errorf("verify password: %w", err)
	}
	if ok {
		return g.attempts.Clear(ctx, accountID, action)
	}
	return g.fail(ctx, accountID, action, now)
}

// fail counts one failure atomically (parallel guesses each count) and locks on the fifth.
func (g *Guard) fail(ctx context.Context, accountID, action string, now time.Time) error {
	n, err := g.attempts.Fail(ctx, accountID, action, now)
	if err != nil {
		return err
	}
	if n < MaxFailures {
		return ErrWrongPassword
	}
	until := now.Add(LockFor)
	if err := g.attempts.Lock(ctx, accountID, action, until); err != nil {
		return err
	}
	return &LockedError{Until: until}
}
