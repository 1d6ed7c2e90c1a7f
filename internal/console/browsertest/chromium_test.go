package browsertest

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// recorder is a testing.TB that notes how a test would end instead of ending it.
type recorder struct {
	testing.TB
	fatal, skip string
	errors      []string
}

func (r *recorder) Errorf(f string, a ...any) { r.errors = append(r.errors, fmt.Sprintf(f, a...)) }
func (r *recorder) Skipped() bool             { return false }

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

// The watch every Browser installs reports a script error and a CSP violation of the page (here an
// inline style attribute, which the console's CSP forbids), even across a navigation; the browser's
// log reports the refusals too, also those of a sandboxed frame, where no watch runs (here an
// inline style block in a frame of inline content, which inherits the console's CSP).
func TestTheErrorWatchReportsScriptErrorsAndCSPViolations(t *testing.T) {
	b := New(t)
	b.Open("#/signin")
	b.Eval(`setTimeout(() => { throw new Error("boom") }); document.body.setAttribute("style", "color: red");
		document.body.append(Object.assign(document.createElement("iframe"), { sandbox: "allow-same-origin", srcdoc: "<style>p { color: red }</style><p>x</p>" })); true`, nil)
	time.Sleep(500 * time.Millisecond)
	b.Open("#/signin")
	r := &recorder{TB: t}
	real := b.t
	b.t = r
	b.checkErrors()
	b.t = real
	joined := strings.Join(r.errors, "\n")
	if !strings.Contains(joined, "boom") || strings.Count(joined, "CSP violation: style-src") != 1 ||
		strings.Count(joined, "refused under a CSP: Applying inline style") != 2 || len(r.errors) != 4 {
		t.Errorf("the watch reported %q, want the error, the page's CSP violation, and the page's and the frame's refusals", r.errors)
	}
	b.Eval(`sessionStorage.removeItem("lethe.test.errors")`, nil)
	b.mu.Lock()
	b.refused = nil
	b.mu.Unlock()
}
