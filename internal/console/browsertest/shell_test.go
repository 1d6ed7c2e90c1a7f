package browsertest_test

import (
	"fmt"
	"os"
	"path/filepath"
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
	b.CheckLabels()
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
	b.Go("#/privacy")
	b.WaitVisible(`[data-testid="privacy-end-users"], [data-testid="privacy-none"]`)
	b.Eval(`document.documentElement.scrollWidth > window.innerWidth + 1`, &overflow)
	if overflow {
		t.Error("the Privacy screen is wider than a 375 px window")
	}
	b.Shot("phone-privacy")
}

// An officer's token opens the officer side: the header names the officer, and no account screen
// is offered.
func TestAnOfficerSignsInToTheOfficerSide(t *testing.T) {
	b := browsertest.New(t)
	b.SetLanguage("en")
	officer := b.Demo().Officers[0]
	b.SignIn(officer.Sub)
	b.WaitText(officer.Name + " · privacy officer")
	for _, screen := range []string{"Privacy", "Conversations", "Inbox", "Activity logs"} {
		if strings.Contains(b.Text("#nav")+" ", screen) {
			t.Errorf("the officer's navigation offers %s", screen)
		}
	}
	b.Go("#/privacy")
	b.WaitVisible(`[data-testid="not-allowed"]`)
}

// The console works from the keyboard: Tab reaches a sign-in button and Enter signs in; on a
// screen, Enter on a focused delete button opens the confirmation with Cancel focused, and Escape
// closes it without deleting anything.
func TestTheConsoleWorksFromTheKeyboard(t *testing.T) {
	b := browsertest.New(t)
	b.SetLanguage("en")
	owner := b.Member(0, platform.RoleOwner)
	b.Open("#/signin")
	b.WaitVisible(`[data-testid="signin-` + owner.Sub + `"]`)
	// Tab until the owner's button has the focus, then Enter.
	var focused string
	for range 40 {
		b.Keys("\t")
		b.Eval(`document.activeElement ? document.activeElement.dataset.testid || "" : ""`, &focused)
		if focused == "signin-"+owner.Sub {
			break
		}
	}
	if focused != "signin-"+owner.Sub {
		t.Fatalf("Tab never reached the owner's sign-in button (last focus %q)", focused)
	}
	b.Keys("\r")
	b.WaitVisible(`[data-testid="signout"]`)

	msg := b.Demo().Accounts[0].Inbox[0]
	b.Go("#/inbox?bot=" + msg.BotID + "&endUser=" + msg.EndUserID)
	sel := `[data-testid="inbox-delete-` + msg.ID + `"]`
	b.WaitVisible(sel)
	b.Eval(`document.querySelector('`+sel+`').focus()`, nil)
	b.Keys("\r")
	b.WaitVisible(`dialog[open]`)
	b.Eval(`document.activeElement.id`, &focused)
	if focused != "confirm-cancel" {
		t.Errorf("the confirmation opens with %q focused, want Cancel", focused)
	}
	b.Keys("\x1b") // Escape
	b.WaitGone(`dialog[open]`)
	if b.Count(sel) != 1 || b.Count(`[data-testid="inbox-deleted"]`) != 0 {
		t.Error("Escape in the confirmation deleted the message")
	}
}

// The production sign-in: Authorization Code with PKCE against the OIDC provider config.json
// names (here the harness's IdP, which checks the verifier against the challenge): the button
// leads there and back, the code is exchanged once, and the person is signed in with the code gone
// from the address bar. An answer whose state is not this browser's signs nobody in.
func TestSignInThroughTheOIDCProvider(t *testing.T) {
	b := browsertest.New(t)
	b.SetLanguage("en")
	demo := b.Demo()
	owner := b.Member(1, platform.RoleOwner)
	browsertest.IdP.Login(owner.Sub, demo.Accounts[1].ID)
	before := browsertest.IdP.Exchanges()

	b.Open("#/signin")
	b.ClickTestID("oidc-signin")
	b.WaitVisible(`[data-testid="signout"]`)
	b.WaitText(owner.FullName + " · owner")
	if n := browsertest.IdP.Exchanges() - before; n != 1 {
		t.Errorf("%d codes exchanged, want 1", n)
	}
	var search string
	b.Eval(`location.search`, &search)
	if search != "" {
		t.Errorf("the address keeps %q after the sign-in", search)
	}
	b.Shot("signin-oidc")

	b.ClickTestID("signout")
	b.WaitVisible(`[data-testid="oidc-signin"]`)
	b.Eval(`sessionStorage.setItem("lethe.oidc.state", "mine"); sessionStorage.setItem("lethe.oidc.verifier", "v"); true`, nil)
	b.Open("/index.html?code=code-forged&state=theirs")
	b.WaitText("does not match")
	var token string
	b.Eval(`sessionStorage.getItem("lethe.token") || ""`, &token)
	if token != "" || b.Count(`[data-testid="signout"]:not([hidden])`) != 0 {
		t.Error("an answer with another state signed someone in")
	}
}

// Every screen module, whoever adds it, speaks both languages: a title in each, and the same
// string keys in its Russian table as in its English one.
func TestEveryScreenSpeaksRussianAndEnglish(t *testing.T) {
	b := browsertest.New(t)
	b.Open("#/signin")
	files, err := filepath.Glob(filepath.Join(browsertest.RepoRoot(t), "internal", "console", "assets", "pages", "*.js"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no page modules: %v", err)
	}
	for _, f := range files {
		var missing []string
		b.Eval(fmt.Sprintf(`import("/console/pages/%s").then(({default: p}) => {
			const out = [];
			for (const l of ["en", "ru"]) if (!p.title || !p.title[l]) out.push("title." + l);
			const en = Object.keys((p.strings || {}).en || {}), ru = Object.keys((p.strings || {}).ru || {});
			for (const k of en) if (!ru.includes(k)) out.push("ru." + k);
			for (const k of ru) if (!en.includes(k)) out.push("en." + k);
			return out; })`, filepath.Base(f)), &missing)
		if len(missing) > 0 {
			t.Errorf("pages/%s lacks %v", filepath.Base(f), missing)
		}
	}
}

// A screen left before its answers came (a slow Privacy screen, then Conversations at once) does not
// take the focus when they come: what the person types on the screen they moved to stays there. The
// Privacy screen's calls are held in the page until the person has typed.
func TestALeftScreenAnsweringLateLeavesTheFocusAlone(t *testing.T) {
	b := browsertest.New(t)
	b.SetLanguage("en")
	admin := b.Member(0, platform.RoleAccountAdmin)
	b.SignIn(admin.Sub)
	b.Eval(`(() => { window.heldCalls = []; const real = window.fetch;
		window.fetch = (url, opts) => String(url).includes("/v1/privacy/")
			? new Promise((ok, fail) => window.heldCalls.push(() => real(url, opts).then(ok, fail)))
			: real(url, opts); })()`, nil)
	var before int
	b.Eval(`Number(document.body.dataset.routed || 0)`, &before)
	b.Go("#/privacy?bot=") // the first screen after the sign-in is #/privacy: another hash renders it again
	b.WaitTrue(`window.heldCalls.length > 0`)
	b.Go("#/conversations")
	b.WaitVisible("#conv-name")
	b.Type("Name", "Ivan")
	// Both renders finish: Conversations at once, Privacy once its calls are let through.
	b.Eval(`window.heldCalls.splice(0).forEach((go) => go())`, nil)
	b.WaitTrue(fmt.Sprintf(`Number(document.body.dataset.routed || 0) >= %d && window.heldCalls.length === 0`, before+2))
	var focus struct{ ID, Value string }
	b.Eval(`({ID: document.activeElement.id, Value: document.querySelector("#conv-name").value})`, &focus)
	if focus.ID != "conv-name" || focus.Value != "Ivan" {
		t.Errorf("after the left screen answered, the focus is on %q and the name field holds %q; want conv-name holding %q", focus.ID, focus.Value, "Ivan")
	}
}
