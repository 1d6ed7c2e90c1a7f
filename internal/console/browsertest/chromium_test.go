package browsertest

import (
	"fmt"
	"strings"
	"testing"
)

// recorder is a testing.TB that notes how a test would end instead of ending it.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Fatalf(f string, a ...any) { r.fatal = fmt.Sprintf(f, a...) }
func (r *recorder) Skipf(f string, a ...any)  { r.skip = fmt.Sprintf(f, a...) }

// Without a browser a test fails under CI=true, naming the reason, and is skipped with the reason
// elsewhere: never a silent skip on CI.
func TestNoBrowserFailsOnCIAndSkipsElsewhere(t *testing.T) {
	t.Setenv("CI", "true")
	r := &recorder{TB: t}
	unavailable(r, "no such file")
	if r.fatal == "" || r.skip != "" || !strings.Contains(r.fatal, "no such file") {
		t.Errorf("under CI=true: fatal %q, skip %q; want a failure naming the reason", r.fatal, r.skip)
	}
	t.Setenv("CI", "")
	r = &recorder{TB: t}
	unavailable(r, "no such file")
	if r.skip == "" || r.fatal != "" || !strings.Contains(r.skip, "no such file") {
		t.Errorf("outside CI: fatal %q, skip %q; want a skip naming the reason", r.fatal, r.skip)
	}
	t.Setenv("LETHE_CHROMIUM", "/opt/other/chromium")
	if Chromium() != "/opt/other/chromium" {
		t.Errorf("Chromium() = %q, want $LETHE_CHROMIUM", Chromium())
	}
}
