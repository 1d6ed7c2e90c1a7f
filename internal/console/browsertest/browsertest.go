// Package browsertest drives the web console in a real browser: it starts the whole local system
// (internal/local/localrun, on free ports, data in memory) once per test binary, and opens a
// headless Debian chromium through the Chrome DevTools Protocol (chromedp) for each test. A test
// signs in as a demo identity, clicks and types as a person would (by label, by button text, by
// data-testid), waits for text, reads the mail the SES emulator received, moves the virtual clock on,
// and saves a screenshot of each screen under artifacts/screenshots/.
//
// Chromium is $LETHE_CHROMIUM, else /usr/bin/chromium. When it cannot start, a test fails with the
// reason under CI=true and is skipped with the reason elsewhere.
package browsertest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/local/localaws"
	"github.com/lethe-dev/lethe/internal/local/localrun"
	"github.com/lethe-dev/lethe/internal/testenv"
)

// Seed fixes the demo data the browser tests see.
const Seed = 17

var shared struct {
	once  sync.Once
	sys   *localrun.System
	err   error
	stop  func() error
	out   strings.Builder
	inUse bool
}

// Main runs the package's tests and then stops the local system if a test started it. Call it from
// TestMain: func TestMain(m *testing.M) { os.Exit(browsertest.Main(m)) }.
func Main(m *testing.M) int {
	code := m.Run()
	if shared.stop != nil {
		if err := shared.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "browsertest: stop the local system: %v\n", err)
		}
	}
	return code
}

// System is the whole local system, started on first use and shared by the test binary's tests.
// Its console signs in through IdP (an OIDC provider of this package) as well as with the demo
// identities.
func System(t testing.TB) *localrun.System {
	t.Helper()
	shared.once.Do(func() {
		IdP.start()
		for k, v := range map[string]string{config.EnvConsoleOIDCAuthorizeURL: IdP.URL + "/authorize",
			config.EnvConsoleOIDCTokenURL: IdP.URL + "/token", config.EnvConsoleOIDCClientID: IdPClientID,
			config.EnvConsoleOIDCScope: "openid email"} {
			os.Setenv(k, v)
		}
		ctx, cancel := context.WithCancel(context.Background())
		ready := make(chan *localrun.System, 1)
		done := make(chan error, 1)
		go func() {
			done <- localrun.Run(ctx, localrun.Options{APIPort: -1, SESPort: -1, DynamoDBPort: -1, S3Port: -1, SMTPPort: -1,
				Seed: Seed, Out: &shared.out, Ready: func(s *localrun.System) { ready <- s }, SweepTick: -1})
		}()
		select {
		case s := <-ready:
			shared.sys, shared.stop = s, func() error { cancel(); IdP.srv.Close(); return <-done }
		case err := <-done:
			cancel()
			shared.err = fmt.Errorf("the local system did not start: %v\n%s", err, shared.out.String())
		case <-time.After(4 * time.Minute):
			cancel()
			shared.err = fmt.Errorf("the local system was not ready after 4 minutes\n%s", shared.out.String())
		}
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.sys
}

// Chromium is the browser binary the tests run: $LETHE_CHROMIUM, else /usr/bin/chromium.
func Chromium() string {
	if p := os.Getenv("LETHE_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// unavailable ends a test that cannot have a browser: a failure on CI, where the Makefile installs
// chromium and a missing one is a broken build, a skip with the reason elsewhere.
func unavailable(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("browsertest: chromium cannot run under CI=true: %s", reason)
		return
	}
	t.Skipf("browsertest: chromium cannot run (%s); install it (apt-get install chromium) or set LETHE_CHROMIUM", reason)
}

// Browser is one headless chromium with its own profile, on the local system's console.
type Browser struct {
	t    testing.TB
	ctx  context.Context
	Sys  *localrun.System
	Base string // the API's origin: http://127.0.0.1:<port>

	mu      sync.Mutex
	refused []string // the CSP refusals the browser's log reported, of any frame
}

// Timeout bounds every wait of a Browser.
const Timeout = 30 * time.Second

// New starts a chromium for t (closed when t ends), at a desktop window size.
func New(t testing.TB) *Browser {
	t.Helper()
	bin := Chromium()
	if _, err := exec.LookPath(bin); err != nil {
		unavailable(t, fmt.Sprintf("%s: %v", bin, err))
	}
	sys := System(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		unavailable(t, err.Error())
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: watchErrors}); err != nil {
		t.Fatalf("browser: install the error watch: %v", err)
	}
	b := &Browser{t: t, ctx: ctx, Sys: sys, Base: sys.APIURL}
	// A frame whose scripts the sandbox stops (an act shown in the page) runs no watch: the
	// browser's own log still reports what a CSP refused in it.
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*cdplog.EventEntryAdded); ok && e.Entry != nil && strings.Contains(e.Entry.Text, "Content Security Policy") {
			b.mu.Lock()
			b.refused = append(b.refused, e.Entry.Text)
			b.mu.Unlock()
		}
	}); err != nil {
		t.Fatalf("browser: listen to the log: %v", err)
	}
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("browser: enable the log: %v", err)
	}
	t.Cleanup(b.checkErrors) // runs before the browser closes
	return b
}

// watchErrors runs in every document the browser opens: it keeps, in the tab's sessionStorage
// (which outlives navigations), every script error, unhandled promise rejection and
// Content-Security-Policy violation, for checkErrors.
const watchErrors = `(() => {
	const keep = (what) => { try {
		const all = JSON.parse(sessionStorage.getItem("lethe.test.errors") || "[]");
		all.push(what); sessionStorage.setItem("lethe.test.errors", JSON.stringify(all)); } catch (e) {} };
	addEventListener("error", (e) => keep("error: " + e.message));
	addEventListener("unhandledrejection", (e) => keep("unhandled rejection: " + (e.reason && e.reason.message || e.reason)));
	document.addEventListener("securitypolicyviolation", (e) => keep("CSP violation: " + e.violatedDirective + " " + e.blockedURI));
})()`

// checkErrors fails the test for every script error, unhandled rejection or CSP violation the
// console's pages had.
func (b *Browser) checkErrors() {
	if b.t.Skipped() {
		return
	}
	b.mu.Lock()
	for _, e := range b.refused {
		b.t.Errorf("the browser refused under a CSP: %s", e)
	}
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { try { return sessionStorage.getItem("lethe.test.errors") || "[]" } catch (e) { return "[]" } })()`))
	if err != nil {
		return // no page of the console's origin is open
	}
	var errs []string
	_ = json.Unmarshal([]byte(raw), &errs)
	for _, e := range errs {
		b.t.Errorf("the console's page had %s", e)
	}
}

func (b *Browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %s: %v\npage text:\n%s", what, err, b.pageText())
	}
}

func (b *Browser) pageText() string {
	ctx, cancel := context.WithTimeout(b.ctx, 3*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	return s
}

// Phone narrows the window to a phone's width (375 px).
func (b *Browser) Phone() {
	b.t.Helper()
	b.run("phone width", chromedp.EmulateViewport(375, 800, chromedp.EmulateScale(2), chromedp.EmulateMobile))
}

// Open loads the console at the screen hash names ("#/privacy"; "" for the start) and waits until
// the shell has rendered it.
func (b *Browser) Open(hash string) {
	b.t.Helper()
	b.run("open "+hash, chromedp.Navigate(b.Base+"/console"+hash), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
}

// Go moves to another screen of the already open console (a hash change, as a nav link does).
func (b *Browser) Go(hash string) {
	b.t.Helper()
	b.Eval(fmt.Sprintf(`location.hash = %q`, hash), nil)
}

// Eval runs a JavaScript expression in the page (a promise is awaited); out (a pointer or nil)
// receives its value.
func (b *Browser) Eval(js string, out any) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("browser: eval %s: %v\npage text:\n%s", js, err, b.pageText())
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			b.t.Fatalf("browser: eval %s: %v in %s", js, err, raw)
		}
	}
}

// SignIn opens the demo sign-in and clicks the identity whose button carries data-testid
// "signin-<sub>", then waits for the console to show the first screen of that person.
func (b *Browser) SignIn(sub string) {
	b.t.Helper()
	b.Open("#/signin")
	b.Eval(`sessionStorage.removeItem("lethe.token")`, nil) // whoever was signed in before
	b.Open("#/signin")
	b.ClickTestID("signin-" + sub)
	b.WaitGone(`[data-testid="signin-` + sub + `"]`)
	b.WaitVisible(`[data-testid="signout"]`)
}

// SetLanguage makes the console speak lang ("en" or "ru") whatever the account's language, as
// the language switch does: the choice is remembered by this browser.
func (b *Browser) SetLanguage(lang string) {
	b.t.Helper()
	b.Open("#/signin")
	b.Eval(fmt.Sprintf(`localStorage.setItem("lethe.lang", %q)`, lang), nil)
}

// Member is the demo identity of a role in the demo's account i (0-based), as /_local/demo lists it.
func (b *Browser) Member(i int, role string) DemoMember {
	b.t.Helper()
	d := b.Demo()
	if i >= len(d.Accounts) {
		b.t.Fatalf("the demo has %d accounts", len(d.Accounts))
	}
	for _, m := range d.Accounts[i].Members {
		if m.Role == role {
			return m
		}
	}
	b.t.Fatalf("account %d has no %s", i, role)
	return DemoMember{}
}

// ClickTestID clicks the element with that data-testid once it is visible.
func (b *Browser) ClickTestID(id string) {
	b.t.Helper()
	sel := `[data-testid="` + id + `"]`
	b.run("click "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
}

// ClickButton clicks the visible button (or link styled as one) whose text contains text.
func (b *Browser) ClickButton(text string) {
	b.t.Helper()
	sel := b.mark(`[...document.querySelectorAll("button, a.button, [role=button]")].find(e => e.offsetParent !== null && !e.disabled && e.textContent.includes(%q))`, text)
	b.run("click button "+text, chromedp.Click(chromedp.CSS(sel)))
}

// Fill sets the form control labelled label (its <label>'s text contains label, or its aria-label
// is label) to value, as typing or picking would, with input and change events.
func (b *Browser) Fill(label, value string) {
	b.t.Helper()
	sel := b.labelled(label)
	b.run("fill "+label, chromedp.Focus(chromedp.CSS(sel)))
	var ok bool
	b.Eval(fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.value = %q;
		e.dispatchEvent(new Event("input", {bubbles: true})); e.dispatchEvent(new Event("change", {bubbles: true})); return e.value === %q })()`,
		sel, value, value), &ok)
	if !ok {
		b.t.Fatalf("browser: %s does not take %q", label, value)
	}
}

// Type types text into the control labelled label, key by key.
func (b *Browser) Type(label, text string) {
	b.t.Helper()
	sel := b.labelled(label)
	b.run("type into "+label, chromedp.SendKeys(chromedp.CSS(sel), text))
}

// CheckLabels fails the test for every visible form control of the page without a label (a
// <label> for it or around it, aria-label or aria-labelledby): a screen reader could not name it.
func (b *Browser) CheckLabels() {
	b.t.Helper()
	var bare []string
	b.Eval(`[...document.querySelectorAll("input, select, textarea")].filter(e => e.offsetParent !== null && e.type !== "hidden")
		.filter(e => !(e.labels && e.labels.length) && !e.getAttribute("aria-label") && !e.getAttribute("aria-labelledby"))
		.map(e => e.outerHTML.slice(0, 120))`, &bare)
	for _, e := range bare {
		b.t.Errorf("a form control without a label: %s", e)
	}
}

// Keys sends key presses to whatever has the focus ("\t" Tab, "\r" Enter, "\x1b" Escape).
func (b *Browser) Keys(keys string) {
	b.t.Helper()
	b.run("keys", chromedp.KeyEvent(keys))
}

// Check ticks the checkbox labelled label (it stays ticked if it was).
func (b *Browser) Check(label string) {
	b.t.Helper()
	sel := b.labelled(label)
	var checked bool
	b.Eval(fmt.Sprintf(`document.querySelector(%q).checked`, sel), &checked)
	if !checked {
		b.run("check "+label, chromedp.Click(chromedp.CSS(sel)))
	}
}

// labelled marks the control whose label text contains label and returns a selector for it.
func (b *Browser) labelled(label string) string {
	b.t.Helper()
	return b.mark(`(() => { const want = %q;
		for (const l of document.querySelectorAll("label")) {
			if (l.offsetParent !== null && l.textContent.includes(want) && l.control) return l.control; }
		return [...document.querySelectorAll("[aria-label]")].find(e => e.getAttribute("aria-label") === want && e.offsetParent !== null); })()`, label)
}

var marks atomic.Int64

// mark waits until the expression (a format with one %q for arg) finds an element, tags it with a
// fresh data-bt attribute and returns a selector for it.
func (b *Browser) mark(expr, arg string) string {
	b.t.Helper()
	id := fmt.Sprint(marks.Add(1))
	js := fmt.Sprintf(`(() => { const e = %s; if (!e) return false; e.setAttribute("data-bt", %q); return true })()`, fmt.Sprintf(expr, arg), id)
	deadline := time.Now().Add(Timeout)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		found, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		cancel()
		if err == nil && found {
			return `[data-bt="` + id + `"]`
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("browser: nothing matches %q (%v)\npage text:\n%s", arg, err, b.pageText())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// WaitText waits until the page's visible text contains text.
func (b *Browser) WaitText(text string) {
	b.t.Helper()
	b.WaitTextFor(text, Timeout)
}

// WaitTextFor is WaitText with its own bound (live progress may take longer than a click).
func (b *Browser) WaitTextFor(text string, d time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(d)
	for !strings.Contains(b.pageText(), text) {
		if time.Now().After(deadline) {
			b.t.Fatalf("browser: %q did not appear in %s\npage text:\n%s", text, d, b.pageText())
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// WaitTrue waits until the JavaScript expression js is true in the page.
func (b *Browser) WaitTrue(js string) {
	b.t.Helper()
	deadline := time.Now().Add(Timeout)
	for {
		var ok bool
		b.Eval(js, &ok)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("browser: %s was not true in %s\npage text:\n%s", js, Timeout, b.pageText())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// HasText reports whether the page's visible text contains text now.
func (b *Browser) HasText(text string) bool { return strings.Contains(b.pageText(), text) }

// Text is the visible text of the first element sel (a CSS selector) matches.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	b.run("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("browser: text of %s: %v", sel, err)
	}
	return s
}

// Count is how many elements sel matches.
func (b *Browser) Count(sel string) int {
	b.t.Helper()
	var n int
	b.Eval(fmt.Sprintf(`document.querySelectorAll(%q).length`, sel), &n)
	return n
}

// WaitVisible waits until an element sel matches is visible.
func (b *Browser) WaitVisible(sel string) {
	b.t.Helper()
	b.run("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
}

// WaitGone waits until no element matches sel.
func (b *Browser) WaitGone(sel string) {
	b.t.Helper()
	b.run("wait until gone "+sel, chromedp.WaitNotPresent(chromedp.CSS(sel)))
}

// Shot saves a screenshot of the whole page as artifacts/screenshots/<name>.png in the repository.
func (b *Browser) Shot(name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("browser: screenshot %s: %v", name, err)
	}
	dir := filepath.Join(RepoRoot(b.t), "artifacts", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s", p)
	return p
}

// RepoRoot is the folder of go.mod above the working directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	root, err := localaws.FindRepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// DemoMember is a team member /_local/demo lists, with their token.
type DemoMember struct {
	Sub      string   `json:"sub"`
	Email    string   `json:"email"`
	FullName string   `json:"fullName"`
	Role     string   `json:"role"`
	BotIDs   []string `json:"botIds"`
	Token    string   `json:"token"`
}

// Demo is what /_local/demo lists.
type Demo struct {
	Accounts []struct {
		ID       string       `json:"id"`
		Email    string       `json:"email"`
		FullName string       `json:"fullName"`
		Locale   string       `json:"locale"`
		Members  []DemoMember `json:"members"`
		Bots     []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"bots"`
		EndUsers []struct {
			ID           string `json:"id"`
			BotID        string `json:"botId"`
			ConnectionID string `json:"connectionId"`
			Name         string `json:"name"`
			Channel      string `json:"channel"`
			// Identities are the ids channels know the end user by, by channel.
			Identities          map[string]string `json:"identities"`
			FirstConversationAt time.Time         `json:"firstConversationAt"`
		} `json:"endUsers"`
		Inbox []struct {
			ID        string `json:"id"`
			BotID     string `json:"botId"`
			EndUserID string `json:"endUserId"`
		} `json:"inbox"`
	} `json:"accounts"`
	Officers []struct {
		Sub   string `json:"sub"`
		Name  string `json:"name"`
		Token string `json:"token"`
	} `json:"officers"`
	Now time.Time `json:"now"`
}

// Demo reads /_local/demo.
func (b *Browser) Demo() Demo {
	b.t.Helper()
	var d Demo
	status, body := b.API("GET", "/_local/demo", "", "")
	if status != 200 || json.Unmarshal(body, &d) != nil {
		b.t.Fatalf("/_local/demo: %d %s", status, body)
	}
	return d
}

// API calls the local system directly, outside the browser (a forged call, a check of what the
// screen did): it returns the status and the body.
func (b *Browser) API(method, path, token, body string) (int, []byte) {
	b.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, b.Base+path, rd)
	if err != nil {
		b.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// AdvanceClock moves the local system's virtual clock on by d; everything due meanwhile happens.
func (b *Browser) AdvanceClock(d time.Duration) {
	b.t.Helper()
	status, body := b.API("POST", "/_local/clock/advance", "", fmt.Sprintf(`{"duration":%q}`, d.String()))
	if status != 200 {
		b.t.Fatalf("advance the clock by %s: %d %s", d, status, body)
	}
}

// Mails are the mails the local SES emulator has received, oldest first.
func (b *Browser) Mails() []testenv.Mail {
	b.t.Helper()
	m, err := testenv.StoredMail(b.ctx, b.Sys.Stack.SESEndpoint)
	if err != nil {
		b.t.Fatal(err)
	}
	return m
}

// WaitMail waits until the SES emulator holds a mail to address whose subject or text contains
// text, and returns it.
func (b *Browser) WaitMail(to, text string, d time.Duration) testenv.Mail {
	b.t.Helper()
	deadline := time.Now().Add(d)
	for {
		for _, m := range b.Mails() {
			if !strings.Contains(m.Subject+"\n"+m.Text, text) {
				continue
			}
			for _, a := range m.To {
				if strings.Contains(strings.ToLower(a), strings.ToLower(to)) {
					return m
				}
			}
		}
		if time.Now().After(deadline) {
			var subjects bytes.Buffer
			for _, m := range b.Mails() {
				fmt.Fprintf(&subjects, "  %v: %s\n", m.To, m.Subject)
			}
			b.t.Fatalf("no mail to %s with %q after %s; the emulator holds:\n%s", to, text, d, subjects.String())
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// IdPClientID is the client id the console is configured with for IdP.
const IdPClientID = "lethe-console"

// IdP is a minimal OIDC provider for the console's Authorization Code + PKCE sign-in: /authorize
// sends the browser straight back with a code (as if the person had logged in as SignInAs), and
// /token gives an ID token minted by the local issuer only for that code, the redirect URI and
// client it was issued for, and a verifier whose S256 is the challenge.
var IdP = &idp{codes: map[string]idpCode{}}

type idp struct {
	URL string
	srv *httptest.Server
	mu  sync.Mutex
	// SignInAs is the team member (sub and account) the next login is; Exchanged counts the codes
	// exchanged for a token.
	SignInAs  struct{ Sub, AccountID string }
	Exchanged int
	codes     map[string]idpCode
}

type idpCode struct {
	challenge, redirect, client, sub, account string
}

// Login sets who the next login through IdP is.
func (p *idp) Login(sub, accountID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.SignInAs.Sub, p.SignInAs.AccountID = sub, accountID
}

func (p *idp) start() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" ||
			q.Get("client_id") != IdPClientID || q.Get("state") == "" || q.Get("redirect_uri") == "" {
			http.Error(w, "not an authorization code request with PKCE", http.StatusBadRequest)
			return
		}
		p.mu.Lock()
		code := fmt.Sprintf("code-%d", len(p.codes)+1)
		p.codes[code] = idpCode{challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri"), client: q.Get("client_id"),
			sub: p.SignInAs.Sub, account: p.SignInAs.AccountID}
		p.mu.Unlock()
		back, _ := url.Parse(q.Get("redirect_uri"))
		back.RawQuery = url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		_ = r.ParseForm()
		p.mu.Lock()
		c, ok := p.codes[r.PostForm.Get("code")]
		delete(p.codes, r.PostForm.Get("code")) // a code is good once
		p.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if !ok || r.PostForm.Get("grant_type") != "authorization_code" || r.PostForm.Get("client_id") != c.client ||
			r.PostForm.Get("redirect_uri") != c.redirect || base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		tok, err := shared.sys.Issuer.Mint(c.sub, c.account, time.Hour)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		p.mu.Lock()
		p.Exchanged++
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"id_token": tok, "token_type": "Bearer"})
	})
	p.srv = httptest.NewServer(mux)
	p.URL = p.srv.URL
}

// Exchanges is how many codes IdP has exchanged for a token.
func (p *idp) Exchanges() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.Exchanged
}
