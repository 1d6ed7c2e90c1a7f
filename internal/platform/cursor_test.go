package platform_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
)

// A cursor comes back only for the partition it was given out for; anything else is ErrBadCursor.
func TestCursorIsBoundToItsPartition(t *testing.T) {
	c := platform.Cursor{Partition: "L#acc1", After: "01K4E2X1EMPR14G00X92E6NW8Z", State: map[string]string{"f": "x"}}
	got, err := platform.DecodeCursor(c.Encode(), "L#acc1")
	if err != nil || got.After != c.After || got.State["f"] != "x" {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if got, err := platform.DecodeCursor("", "L#acc1"); err != nil || got.After != "" {
		t.Fatalf("first page: %+v %v", got, err)
	}
	for name, s := range map[string]string{
		"another partition": c.Encode(),
		"garbled":           "garbage!",
		"not JSON":          "bm9wZQ",
		"no position":       platform.Cursor{Partition: "L#acc2"}.Encode(),
		"too long":          strings.Repeat("A", 4096),
	} {
		if _, err := platform.DecodeCursor(s, "L#acc2"); !errors.Is(err, platform.ErrBadCursor) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// StartAfter fills every key of the position from the data map's patterns, and refuses a hole.
func TestStartAfterFromTheDataMap(t *testing.T) {
	start, err := platform.StartAfter(datamap.EndUserProfile, "GSI1", map[string]string{"endUser": "u1", "bot": "b1", "firstConversationAt": "t"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"pk": "U#u1", "sk": "PROFILE", "gsi1pk": "BOTU#b1", "gsi1sk": "t#u1"}
	got := platform.PositionStrings(start)
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if _, err := platform.StartAfter(datamap.EndUserProfile, "GSI1", map[string]string{"endUser": "u1"}); err == nil {
		t.Error("a position with a hole")
	}
}
