package ledger_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/testenv"
)

// A channel's delivery id is claimed by one caller however many arrive at once; a released claim is
// taken again (with the first arrival's time), a done one never, and a claim whose lease ran out
// (its attempt crashed) is taken again.
func TestClaimDelivery(t *testing.T) {
	env := testenv.New(t)
	var now atomic.Int64
	now.Store(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).Unix())
	clock := func() time.Time { return time.Unix(now.Load(), 0).UTC() }
	l := ledger.New(env.DynamoDB, env.Tables[datamap.LedgerTable], datamap.Policy{}, clock)
	ctx := context.Background()
	first := clock()

	const n = 8
	var wg sync.WaitGroup
	var won atomic.Int32
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, fresh, err := l.ClaimDelivery(ctx, "slack", "Ev1", time.Minute)
			if err != nil {
				t.Error(err)
			}
			if fresh {
				won.Add(1)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d callers claimed one delivery", won.Load())
	}
	// Another channel's delivery with the same id is another delivery.
	if _, fresh, _ := l.ClaimDelivery(ctx, "telegram", "Ev1", time.Minute); !fresh {
		t.Fatal("the same id on another channel was taken as a redelivery")
	}
	// Within the lease, a redelivery is told it is being handled.
	d, fresh, err := l.ClaimDelivery(ctx, "slack", "Ev1", time.Minute)
	if err != nil || fresh || d.State != ledger.DeliveryProcessing {
		t.Fatalf("during the lease: fresh %v, %+v, %v", fresh, d, err)
	}
	// The attempt fails and gives it up: the next one acts, with the first arrival's time.
	now.Add(10)
	if err := l.FinishDelivery(ctx, d, false); err != nil {
		t.Fatal(err)
	}
	d, fresh, err = l.ClaimDelivery(ctx, "slack", "Ev1", time.Minute)
	if err != nil || !fresh || !d.CreatedAt.Equal(first) {
		t.Fatalf("after a release: fresh %v, %+v, %v", fresh, d, err)
	}
	if err := l.FinishDelivery(ctx, d, true); err != nil {
		t.Fatal(err)
	}
	now.Add(3600)
	d, fresh, err = l.ClaimDelivery(ctx, "slack", "Ev1", time.Minute)
	if err != nil || fresh || d.State != ledger.DeliveryDone {
		t.Fatalf("after done: fresh %v, %+v, %v", fresh, d, err)
	}
	// A claim whose attempt died: after its lease, the delivery is taken again.
	if _, fresh, _ := l.ClaimDelivery(ctx, "vk", "e9", time.Minute); !fresh {
		t.Fatal("first claim")
	}
	now.Add(30)
	if _, fresh, _ := l.ClaimDelivery(ctx, "vk", "e9", time.Minute); fresh {
		t.Fatal("taken during the lease")
	}
	now.Add(61)
	if _, fresh, _ := l.ClaimDelivery(ctx, "vk", "e9", time.Minute); !fresh {
		t.Fatal("not taken after the lease ran out")
	}
}
