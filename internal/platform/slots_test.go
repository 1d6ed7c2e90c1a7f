package platform

import (
	"strconv"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/datamap"
)

// Only connections carry the health sweep's GSI3 keys (the index stays sparse: a Query of a slot
// reads connections and nothing else), and a connection's slot is the one ConnectionSlot gives.
func TestOnlyConnectionsCarryGSI3(t *testing.T) {
	for _, r := range sampleRecords() {
		item, err := Encode(r, datamap.Policy{})
		if err != nil {
			t.Fatalf("%s: %v", r.Category(), err)
		}
		pk, sk := s(item, "gsi3pk"), s(item, "gsi3sk")
		if r.Category() != datamap.ChannelConnection {
			if pk != "" || sk != "" {
				t.Errorf("%s carries GSI3 keys %q %q", r.Category(), pk, sk)
			}
			continue
		}
		c := r.(ChannelConnection)
		if pk != "CONNCHECK#"+ConnectionSlot(c.ID) || sk != c.ID {
			t.Errorf("connection GSI3 keys %q %q, want CONNCHECK#%s %s", pk, sk, ConnectionSlot(c.ID), c.ID)
		}
	}
}

// Slots are "00".."23", fixed per connection, and spread connections evenly even when their ids
// (ULIDs made in the same millisecond range) share a long prefix.
func TestConnectionSlotsSpreadEvenly(t *testing.T) {
	const n = 24 * 400
	counts := map[string]int{}
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i := range n {
		id := NewID(at.Add(time.Duration(i) * time.Millisecond))
		slot := ConnectionSlot(id)
		if slot != ConnectionSlot(id) {
			t.Fatalf("slot of %s changes", id)
		}
		h, err := strconv.Atoi(slot)
		if err != nil || h < 0 || h >= ConnectionSlots || len(slot) != 2 || SlotName(h) != slot {
			t.Fatalf("slot %q of %s", slot, id)
		}
		counts[slot]++
	}
	if len(counts) != ConnectionSlots {
		t.Fatalf("%d slots used, want %d: %v", len(counts), ConnectionSlots, counts)
	}
	for slot, c := range counts {
		// 400 expected per slot; a fair hash stays well within ±30%.
		if c < 280 || c > 520 {
			t.Errorf("slot %s holds %d of %d connections", slot, c, n)
		}
	}
}
