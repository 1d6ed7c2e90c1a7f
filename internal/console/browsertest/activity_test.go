package browsertest_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/console/browsertest"
	"github.com/lethe-dev/lethe/internal/platform"
)

type logEntry struct {
	ID string
	At time.Time
}

// The Activity logs screen, as the account's owner: select two entries and delete them (only
// they go), then delete a whole day's entries; a bot admin has no such screen and their forged
// call is refused.
func TestActivityLogsDeletesSelectedEntriesAndARange(t *testing.T) {
	b := browsertest.New(t)
	b.SetLanguage("en")
	owner := b.Member(1, platform.RoleOwner)
	start := time.Now().AddDate(-2, 0, 0)
	list := func(from, to time.Time) []logEntry {
		q := url.Values{"from": {from.UTC().Format(time.RFC3339)}, "to": {to.UTC().Format(time.RFC3339)}, "limit": {"100"}}
		status, body := b.API("GET", "/v1/activity-logs?"+q.Encode(), owner.Token, "")
		var page struct{ Items []logEntry }
		if status != 200 || json.Unmarshal(body, &page) != nil {
			t.Fatalf("activity logs: %d %s", status, body)
		}
		return page.Items
	}
	all := list(start, time.Now().Add(time.Hour))
	if len(all) < 4 {
		t.Fatalf("the demo account has %d activity-log entries; the walk needs 4", len(all))
	}

	b.SignIn(owner.Sub)
	b.Go("#/activity")
	b.WaitVisible("#logs-from")
	b.Fill("Start date", start.Format("2006-01-02"))
	b.Fill("End date", time.Now().Format("2006-01-02"))
	b.ClickButton("Show entries")
	b.WaitVisible(`[data-testid="logs-row-` + all[0].ID + `"]`)
	if rows := b.Count(`[data-testid="logs-table"] tbody tr`); rows != len(all) {
		t.Errorf("the screen lists %d entries, the API %d", rows, len(all))
	}
	picked := []string{all[0].ID, all[1].ID}
	for _, id := range picked {
		b.ClickTestID("logs-select-" + id)
	}
	if got := b.Text(`[data-testid="logs-delete-selected"]`); got != "Delete 2 selected entries" {
		t.Errorf("the selection's button says %q", got)
	}
	b.CheckLabels()
	b.Shot("activity-selected")
	b.ClickTestID("logs-delete-selected")
	b.WaitVisible(`[data-testid="confirm-dialog"]`)
	if text := b.Text("#confirm-text"); !strings.Contains(text, "2 activity-log entries") {
		t.Errorf("the confirmation says %q", text)
	}
	b.ClickTestID("confirm-ok")
	b.WaitTextFor("Deleted 2 entries.", time.Minute)
	b.WaitGone(`[data-testid="logs-row-` + picked[0] + `"]`)
	left := list(start, time.Now().Add(time.Hour))
	var ids []string
	for _, e := range left {
		ids = append(ids, e.ID)
	}
	if len(left) != len(all)-2 || slices.Contains(ids, picked[0]) || slices.Contains(ids, picked[1]) {
		t.Errorf("after deleting %v: %d entries left of %d, %v", picked, len(left), len(all), ids)
	}

	// A whole day: the day of the newest entry left.
	day := left[0].At.In(time.Local).Format("2006-01-02")
	dayStart, _ := time.ParseInLocation("2006-01-02", day, time.Local)
	inDay := list(dayStart, dayStart.Add(24*time.Hour-time.Millisecond))
	b.Fill("Start date", day)
	b.Fill("End date", day)
	b.ClickButton("Show entries")
	label := fmt.Sprintf("Delete all %s from", count(len(inDay), "entry", "entries"))
	if len(inDay) == 1 {
		label = "Delete the 1 entry from" // not "all 1 entries"
	}
	b.WaitText(label)
	b.Shot("activity-range")
	b.ClickTestID("logs-delete-range")
	b.WaitVisible(`[data-testid="confirm-dialog"]`)
	b.ClickTestID("confirm-ok")
	b.WaitVisible(`[data-testid="logs-none"]`)
	if got := list(dayStart, dayStart.Add(24*time.Hour-time.Millisecond)); len(got) != 0 {
		t.Errorf("after deleting the day %s, %d entries are left in it", day, len(got))
	}
	if got := list(start, time.Now().Add(time.Hour)); len(got) != len(left)-len(inDay) {
		t.Errorf("deleting the day took %d entries, want %d", len(left)-len(got), len(inDay))
	}

	botAdmin := b.Member(1, platform.RoleBotAdmin)
	if status, _ := b.API("POST", "/v1/activity-logs/deletions", botAdmin.Token, fmt.Sprintf(`{"ids":[%q]}`, ids[len(ids)-1])); status != 403 {
		t.Errorf("a bot admin's forged deletion: %d, want 403", status)
	}
	b.SignIn(botAdmin.Sub)
	if strings.Contains(b.Text("#nav"), "Activity logs") {
		t.Error("a bot admin's navigation offers Activity logs")
	}
}
