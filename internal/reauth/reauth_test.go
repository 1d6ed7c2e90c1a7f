package reauth_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/password"
	"github.com/lethe-dev/lethe/internal/reauth"
	"github.com/lethe-dev/lethe/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func setup(t *testing.T) (*reauth.Guard, *clock, string) {
	t.Helper()
	env := testenv.New(t)
	c := &clock{t: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	hash, err := password.Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	return reauth.New(env.DynamoDB, env.Tables[datamap.LedgerTable], datamap.Policy{}, c.now), c, hash
}

func TestFiveFailuresLockTheActionForFifteenMinutes(t *testing.T) {
	g, c, hash := setup(t)
	ctx := context.Background()
	for i := 1; i < reauth.MaxFailures; i++ {
		if err := g.Check(ctx, "A1", reauth.ActionAccountDeletion, "wrong", hash); !errors.Is(err, reauth.ErrWrongPassword) {
			t.Fatalf("failure %d: %v, want ErrWrongPassword", i, err)
		}
	}
	var locked *reauth.LockedError
	if err := g.Check(ctx, "A1", reauth.ActionAccountDeletion, "wrong", hash); !errors.As(err, &locked) || !locked.Until.Equal(c.now().Add(15*time.Minute)) {
		t.Fatalf("fifth failure: %v, want locked for 15 minutes", err)
	}
	// Locked: even the right password is refused.
	c.add(14 * time.Minute)
	if err := g.Check(ctx, "A1", reauth.ActionAccountDeletion, "correct horse", hash); !errors.As(err, &locked) {
		t.Fatalf("right password while locked: %v", err)
	}
	// Another account is not locked.
	if err := g.Check(ctx, "A2", reauth.ActionAccountDeletion, "correct horse", hash); err != nil {
		t.Fatalf("other account: %v", err)
	}
	c.add(2 * time.Minute)
	if err := g.Check(ctx, "A1", reauth.ActionAccountDeletion, "correct horse", hash); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	// Success cleared the count: four more failures do not lock.
	for i := 1; i < reauth.MaxFailures; i++ {
		if err := g.Check(ctx, "A1", reauth.ActionAccountDeletion, "wrong", hash); !errors.Is(err, reauth.ErrWrongPassword) {
			t.Fatalf("after a success, failure %d: %v", i, err)
		}
	}
}

// Guesses sent in parallel each count: ten at once lock the action.
func TestParallelGuessesAllCount(t *testing.T) {
	g, _, hash := setup(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = g.Check(ctx, "A1", reauth.ActionAccountDeletion, "guess", hash)
		}()
	}
	wg.Wait()
	var locked *reauth.LockedError
	if err := g.Check(ctx, "A1", reauth.ActionAccountDeletion, "correct horse", hash); !errors.As(err, &locked) {
		t.Fatalf("after 10 parallel guesses: %v, want locked", err)
	}
}

func TestBcryptHashesAreAccepted(t *testing.T) {
	g, _, _ := setup(t)
	h, err := bcrypt.GenerateFromPassword([]byte("old but fine"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Check(context.Background(), "A1", reauth.ActionAccountDeletion, "old but fine", string(h)); err != nil {
		t.Fatal(err)
	}
}
