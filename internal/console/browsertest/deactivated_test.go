package browsertest_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/console/browsertest"
	"github.com/lethe-dev/lethe/internal/platform"
)

// navRoutes are the screens the navigation lists.
func navRoutes(b *browsertest.Browser) []string {
	var routes []string
	b.Eval(`[...document.querySelectorAll("#nav a")].map(a => a.getAttribute("href"))`, &routes)
	return routes
}

// While the account's deletion is pending (soft-deleted, the API answering only the deletion's own
// routes) its owner sees only the deletion's screen, under a banner that gives the end of the
// window and says how to cancel; another screen opened by its address says it is closed, without
// asking the API. Cancelling brings the screens back and the banner goes.
func TestADeactivatedAccountsOwnerSeesOnlyTheDeletion(t *testing.T) {
	b := browsertest.New(t)
	owner := b.Member(acct, platform.RoleOwner)
	t.Cleanup(func() { b.API("POST", "/v1/account/deletion/cancel", owner.Token, "") }) // never leave the account deactivated
	if status, body := b.API("POST", "/v1/account/deletion", owner.Token, fmt.Sprintf(`{"password":%q}`, demoPassword(t, b))); status != 202 {
		t.Fatalf("request the account's deletion: %d %s", status, body)
	}
	var del struct {
		Status string
		Clocks []struct {
			Name string
			At   string
		}
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(250 * time.Millisecond) {
		var me struct{ Account struct{ Status string } }
		apiJSON(t, b, "GET", "/v1/me", owner.Token, "", &me)
		apiJSON(t, b, "GET", "/v1/account/deletion", owner.Token, "", &del)
		if me.Account.Status == platform.AccountSoftDeleted && len(del.Clocks) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the account is not deactivated with its clocks after a minute: %q, %+v", me.Account.Status, del)
		}
	}
	if status, _ := b.API("GET", "/v1/deletion-requests", owner.Token, ""); status != 403 {
		t.Fatalf("the requests of a deactivated account: %d, want 403 (else the screen should stay)", status)
	}
	windowEnd := ""
	for _, c := range del.Clocks {
		if c.Name == "soft_delete_ends" {
			windowEnd = c.At
		}
	}

	b.SignIn(owner.Sub)
	english(b)
	b.WaitVisible(`[data-testid="deactivated"]`)
	if got := navRoutes(b); strings.Join(got, " ") != "#/profile/delete-account" {
		t.Errorf("the navigation lists %v, want only the account deletion", got)
	}
	var date string
	b.Eval(fmt.Sprintf(`new Date(%q).toLocaleDateString("en-GB")`, windowEnd), &date)
	banner := b.Text(`[data-testid="deactivated"]`)
	if !strings.Contains(banner, "deactivated until "+date) || !strings.Contains(banner, "cancels the deletion") {
		t.Errorf("the banner says %q; want the window's end %s and how to cancel", banner, date)
	}
	b.Go("#/profile/delete-account")
	b.WaitVisible(`[data-testid="cancel-deletion"]`)
	b.Shot("account-deactivated")

	b.Go("#/privacy")
	b.WaitVisible(`[data-testid="not-allowed"]`)
	if text := b.Text(`[data-testid="not-allowed"]`); !strings.Contains(text, "closed while the account's deletion is pending") {
		t.Errorf("the Privacy screen of a deactivated account says %q", text)
	}
	if n := b.Count(`[data-testid="error"]`); n != 0 {
		t.Errorf("%d refused calls shown", n)
	}

	b.Go("#/profile/delete-account")
	b.ClickTestID("cancel-deletion")
	b.WaitText("The deletion was cancelled: the account is restored")
	b.WaitGone(`[data-testid="deactivated"]:not([hidden])`)
	if got := navRoutes(b); !strings.Contains(strings.Join(got, " "), "#/privacy") || !strings.Contains(strings.Join(got, " "), "#/requests") {
		t.Errorf("after the cancel the navigation lists %v, want the account's screens back", got)
	}
}
