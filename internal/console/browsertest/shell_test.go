package browsertest_test

import (
	"os"
	"strings"
	"testing"

	"github.com/lethe-dev/lethe/internal/console/browsertest"
	"github.com/lethe-dev/lethe/internal/platform"
)

func TestMain(m *testing.M) { os.Exit(browsertest.Main(m)) }

// The demo sign-in lists every demo identity (each account's owner, account admin, bot admin and
// member, and the privacy officers); one click signs in, the navigation shows only the screens
// that role may use, the language follows the account and the switch is remembered, and signing
// out returns to the sign-in.
func TestSignInShowsEachRoleItsScreens(t *testing.T) {
	b := browsertest.New(t)
	b.Open("")
	b.WaitVisible(`[data-testid^="signin-"]`)
	demo := b.Demo()
	for _, a := range demo.Accounts {
		for _, m := range a.Members {
			if b.Count(`[data-testid="signin-`+m.Sub+`"]`) != 1 {
				t.Errorf("no sign-in button for %s (%s of %s)", m.Sub, m.Role, a.ID)
			}
		}
	}
	for _, o := range demo.Officers {
		if b.Count(`[data-testid="signin-`+o.Sub+`"]`) != 1 {
			t.Errorf("no sign-in button for officer %s", o.Sub)
		}
	}
	b.Shot("signin")

	nav := func() string { return b.Text("#nav") }
	owner := b.Member(0, platform.RoleOwner)
	b.SignIn(owner.Sub)
	// The account's language is the console's until the person switches.
	lang := demo.Accounts[0].Locale
	var htmlLang string
	b.Eval(`document.documentElement.lang`, &htmlLang)
	if htmlLang != lang {
		t.Errorf("console language %q, want the account's %q", htmlLang, lang)
	}
	if lang != "ru" {
		t.Fatalf("the demo's first account speaks %q; this walk switches from Russian", lang)
	}
	b.WaitText("Журнал действий")
	b.Fill("Язык", "en")
	b.WaitText("Activity logs")
	for _, screen := range []string{"Privacy", "Conversations", "Inbox", "Activity logs"} {
		if !strings.Contains(nav(), screen) {
			t.Errorf("owner's navigation %q lacks %s", nav(), screen)
		}
	}
	b.Shot("home-owner")

	member := b.Member(0, platform.RoleMember)
	b.SignIn(member.Sub)
	b.WaitVisible("#nav a")
	if n := nav(); !strings.Contains(n, "Conversations") || strings.Contains(n, "Privacy") || strings.Contains(n, "Activity logs") || strings.Contains(n, "Inbox") {
		t.Errorf("member's navigation %q, want Conversations only of these screens", n)
	}
	// Typed into the address bar, a screen the role may not use says so and shows nothing else.
	b.Go("#/activity")
	b.WaitVisible(`[data-testid="not-allowed"]`)
	// The language switch outlives the session.
	var stored string
	b.Eval(`localStorage.getItem("lethe.lang")`, &stored)
	if stored != "en" {
		t.Errorf("remembered language %q, want en", stored)
	}
	b.ClickTestID("signout")
	b.WaitVisible(`[data-testid^="signin-"]`)
}

// At a phone's width the sign-in and a screen stay usable: nothing is wider than the window.
func TestTheConsoleFitsAPhone(t *testing.T) {
	b := browsertest.New(t)
	b.Phone()
	b.SignIn(b.Member(0, platform.RoleOwner).Sub)
	var overflow bool
	b.Eval(`document.documentElement.scrollWidth > window.innerWidth + 1`, &overflow)
	if overflow {
		t.Error("the console is wider than a 375 px window")
	}
	b.Shot("phone-owner")
}
