package intake

import (
	"regexp"
	"sync"
)

// lazyRegexp is expr compiled on first use rather than at package init: Go runs every linked
// package's initialisation at each cold start of the Lambda that links it (inbound-email), and the
// patterns here cost ~3 ms of it when compiled up front (issue 19 §2). Each pattern is still
// compiled once, and a malformed one still panics, at its first use (every test that reads a mail
// uses them).
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
