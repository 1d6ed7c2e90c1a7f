package localflow_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/local/statemachine"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/requests"
	"github.com/lethe-dev/lethe/internal/scopetest"
	"github.com/lethe-dev/lethe/internal/seed"
	"github.com/lethe-dev/lethe/internal/system"
)

// 29 November 2025: the 30-day window ends on 29 December, and the 15 business days of the hard
// delete run over the 2026 New Year holidays (1–11 January) to 29 January.
var lateNovember2025 = time.Date(2025, 11, 29, 7, 0, 0, 0, time.UTC)

func smallDemo() seed.Size {
	return seed.Size{Accounts: 2, BotsPerAccount: 2, EndUsersPerBot: 6, ConversationsPerEndUser: 2,
		MessagesPerConversation: 5, InboxPerEndUser: 1, FilesPerEndUser: 1, ActivityLogsPerAccount: 10, PaymentsPerAccount: 3}
}

var plusToken = regexp.MustCompile(`^info\+([a-z0-9]+)@`)

func TestAccountDeletionCancelledInTheWindowIsFullyRestored(t *testing.T) {
	w := newWorld(t, lateNovember2025, nil)
	a := w.seedDemo(smallDemo())
	tables := []string{w.env.Tables[datamap.PlatformTable]}
	before, err := scopetest.Take(w.ctx, w.env.DynamoDB, tables, w.env.S3, []string{w.env.Buckets[datamap.FilesBucket]})
	if err != nil {
		t.Fatal(err)
	}

	req, created, err := w.sys.Requests.RequestAccountDeletion(w.ctx, requests.AccountDeletion{AccountID: a.ID, Source: "dashboard", Actor: "owner:" + a.Members[0].Sub})
	if err != nil || !created {
		t.Fatalf("request: created=%v %v", created, err)
	}
	// Asked twice (a double click): the same request, one execution, one mail.
	again, created2, err := w.sys.Requests.RequestAccountDeletion(w.ctx, requests.AccountDeletion{AccountID: a.ID, Source: "dashboard"})
	if err != nil || created2 || again.ID != req.ID {
		t.Fatalf("second request: %s created=%v %v", again.ID, created2, err)
	}
	w.settle()
	r := w.request(req.ID)
	if r.Status != request.StatusSoftDeleted {
		t.Fatalf("status %s, want soft_deleted", r.Status)
	}
	wantEnds := lateNovember2025.Add(30 * 24 * time.Hour)
	if !r.Deadlines[request.DeadlineSoftDeleteEnds].Equal(wantEnds) {
		t.Errorf("soft_delete_ends %v, want %v", r.Deadlines[request.DeadlineSoftDeleteEnds], wantEnds)
	}
	// 15 business days after 29 December 2025: 30 December, then 12–29 January 2026 (31 December and
	// 1–11 January are holidays), to the end of the day in Moscow.
	wantHard := time.Date(2026, 1, 29, 23, 59, 59, 999999999, time.FixedZone("MSK", 3*3600))
	if !r.Deadlines[request.DeadlineHardDeleteBy].Equal(wantHard) {
		t.Errorf("hard_delete_by %v, want %v", r.Deadlines[request.DeadlineHardDeleteBy], wantHard)
	}
	acct, err := w.sys.Store.Account(w.ctx, a.ID)
	if err != nil || acct.Status != platform.AccountSoftDeleted {
		t.Fatalf("account status %q (%v), want soft-deleted", acct.Status, err)
	}
	confirm := w.mailTo("owner")
	if len(confirm) != 1 {
		t.Fatalf("%d mails to the owner, want exactly the confirmation", len(confirm))
	}
	c := confirm[0]
	if !strings.Contains(c.Subject, req.ID) || !strings.Contains(c.Text, "/v1/email-actions/") {
		t.Errorf("confirmation subject %q lacks the request id or the cancel link", c.Subject)
	}
	if a.Locale == "ru" && !strings.Contains(c.Text, "29 декабря 2025") || a.Locale == "en" && !strings.Contains(c.Text, "29 December 2025") {
		t.Errorf("confirmation (%s) does not state the end of the window:\n%s", a.Locale, c.Text)
	}
	if len(c.ReplyTo) != 1 || !plusToken.MatchString(strings.SplitN(c.ReplyTo[0], "@", 2)[0]+"@") {
		t.Fatalf("Reply-To %v is not a plus-addressed info@", c.ReplyTo)
	}
	token := plusToken.FindStringSubmatch(c.ReplyTo[0])[1]

	// Ten days later the owner replies to the confirmation: the reply's token cancels.
	w.advance(10 * 24 * time.Hour)
	got, action, err := w.sys.Requests.EmailAction(w.ctx, token, "email")
	if err != nil || action != "cancel" || got.Status != request.StatusCancelled {
		t.Fatalf("cancel by reply: %s %s %v", action, got.Status, err)
	}
	w.settle()
	if e := w.execution(r.ExecutionARN); e.Status != "ABORTED" {
		t.Errorf("execution %s, want ABORTED", e.Status)
	}
	if got := w.request(req.ID); got.Requester != "" {
		t.Errorf("the ledger still keeps the owner's address after the cancel")
	}
	// Past the end of the window nothing happens: the account is exactly as it was.
	w.advance(60 * 24 * time.Hour)
	after, err := scopetest.Take(w.ctx, w.env.DynamoDB, tables, w.env.S3, []string{w.env.Buckets[datamap.FilesBucket]})
	if err != nil {
		t.Fatal(err)
	}
	if diff := scopetest.Diff(before, after, nil, nil, nil); len(diff) > 0 {
		t.Fatalf("the account is not restored exactly: %d differences, first %v", len(diff), diff[:min(5, len(diff))])
	}
	cancelled := w.mailTo("owner")
	if len(cancelled) != 2 || !strings.Contains(cancelled[1].Subject, req.ID) {
		t.Fatalf("mails to the owner after the cancel: %d", len(cancelled))
	}
	// A second cancel (another click) answers the same and sends nothing more.
	if _, err := w.sys.Requests.CancelAccountDeletion(w.ctx, a.ID, "owner:x"); err != nil {
		t.Fatalf("second cancel: %v", err)
	}
	if n := len(w.mailTo("owner")); n != 2 {
		t.Errorf("%d mails after a second cancel, want 2", n)
	}
}

func TestAccountDeletionRunsToCompletion(t *testing.T) {
	w := newWorld(t, lateNovember2025, func(s *system.System) { s.Tasks.SliceItems = 150 })
	a := w.seedDemo(smallDemo())
	other := w.manifest.Accounts[1]
	scope := platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: a.ID}
	otherBefore := w.remaining(platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: other.ID})

	req, _, err := w.sys.Requests.RequestAccountDeletion(w.ctx, requests.AccountDeletion{AccountID: a.ID, Source: "dashboard"})
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	// One second before the window ends, nothing has been deleted.
	w.advance(30*24*time.Hour - time.Second)
	if r := w.request(req.ID); r.Status != request.StatusSoftDeleted {
		t.Fatalf("status %s before the window ended", r.Status)
	}
	if left := w.remaining(scope); len(left) == 0 {
		t.Fatal("data deleted inside the window")
	}
	w.advance(2 * time.Second)
	r := w.request(req.ID)
	if r.Status != request.StatusAwaitingBackupRotation {
		t.Fatalf("status %s after the window, want awaiting_backup_rotation; history %+v", r.Status, r.History)
	}
	if left := w.remaining(scope); len(left) > 0 {
		t.Fatalf("left after the hard delete: %v", left)
	}
	if got := w.remaining(platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: other.ID}); len(got) != len(otherBefore) {
		t.Fatalf("the other account changed: %v, was %v", got, otherBefore)
	}
	if len(r.Evidence) != 1 || r.Progress[datamap.Message] == 0 {
		t.Fatalf("evidence %v, progress %v", r.Evidence, r.Progress)
	}
	mails := w.mailTo("owner")
	if len(mails) != 2 {
		t.Fatalf("%d mails to the owner after the hard delete, want confirmation and deleted", len(mails))
	}
	// 30 days for backups to rotate, then the final mail with the act.
	w.advance(30 * 24 * time.Hour)
	r = w.request(req.ID)
	if r.Status != request.StatusCompleted || r.Requester != "" {
		t.Fatalf("status %s requester %q, want completed and the address forgotten", r.Status, r.Requester)
	}
	mails = w.mailTo("owner")
	if len(mails) != 3 {
		t.Fatalf("%d mails to the owner, want 3", len(mails))
	}
	final := mails[2]
	if len(final.Attachments) != 1 || !strings.Contains(final.Text, r.ID) {
		t.Errorf("final mail: %d attachments, text has the request id: %v", len(final.Attachments), strings.Contains(final.Text, r.ID))
	}
	e := w.execution(r.ExecutionARN)
	if e.Status != "SUCCEEDED" {
		t.Fatalf("execution %s: %s %s", e.Status, e.Error, e.Cause)
	}
	slices := 0
	for _, h := range mustHistory(t, w, e.ARN) {
		if h.Type == "TaskStateEntered" && h.StateName == "EraseSlice" {
			slices++
		}
	}
	if slices < 2 {
		t.Errorf("%d erase slices, want several (150 items each)", slices)
	}
	t.Logf("account lifecycle: %d transitions, %d history events, $%.6f", e.Transitions, e.HistoryEvents, e.CostUSD)
}

func mustHistory(t *testing.T, w *world, arn string) []statemachine.Event {
	t.Helper()
	h, err := w.eng.History(arn)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// An emailed request must start within 5 business days: received on 29 December 2025, that is
// 30 December and 12–15 January 2026 (31 December and 1–11 January are holidays).
func TestEmailedAccountDeletionHasItsStartDeadline(t *testing.T) {
	received := time.Date(2025, 12, 29, 8, 0, 0, 0, time.UTC)
	w := newWorld(t, received, nil)
	a := w.seedDemo(smallDemo())
	req, _, err := w.sys.Requests.RequestAccountDeletion(w.ctx, requests.AccountDeletion{AccountID: a.ID, Source: "email", Actor: "email"})
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	r := w.request(req.ID)
	want := time.Date(2026, 1, 15, 23, 59, 59, 999999999, time.FixedZone("MSK", 3*3600))
	if !r.Deadlines[request.DeadlineStartBy].Equal(want) {
		t.Errorf("start_by %v, want %v", r.Deadlines[request.DeadlineStartBy], want)
	}
	if r.Status != request.StatusSoftDeleted {
		t.Errorf("status %s: a verified emailed request starts at once", r.Status)
	}
}
