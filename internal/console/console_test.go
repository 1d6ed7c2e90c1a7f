package console

import (
	"encoding/json"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lethe-dev/lethe/internal/evidence"
)

// Every embedded file is served with its type, a same-origin CSP that allows no inline script or
// style, and caching that revalidates.
func TestServesTheEmbeddedFilesWithTheirTypes(t *testing.T) {
	c := Config{}
	for rel, ct := range map[string]string{"index.html": "text/html; charset=utf-8", "console.js": "text/javascript; charset=utf-8",
		"style.css": "text/css; charset=utf-8", "pages/signin.js": "text/javascript; charset=utf-8"} {
		f := c.Serve(rel, "")
		if f.Status != 200 || len(f.Body) == 0 || f.Headers["content-type"] != ct {
			t.Errorf("%s: %d, %d bytes, %q; want 200 %s", rel, f.Status, len(f.Body), f.Headers["content-type"], ct)
		}
		csp := f.Headers["content-security-policy"]
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self';") ||
			strings.Contains(csp, "unsafe") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", rel, csp)
		}
		if f.Headers["x-content-type-options"] != "nosniff" || !strings.Contains(f.Headers["cache-control"], "max-age=60") {
			t.Errorf("%s: headers %v", rel, f.Headers)
		}
	}
}

// Only embedded files of a known type answer; a path that climbs out, a hidden file, a folder or
// the Go source is a 404.
func TestUnknownAndOddPathsAreNotFound(t *testing.T) {
	c := Config{}
	for _, rel := range []string{"nope.js", "../console.go", "pages/../../console.go", "pages/../index.html", "/index.html",
		".hidden.js", "pages", "pages/", "console.go", "", "index.html/", "assets/index.html"} {
		if f := c.Serve(rel, ""); f.Status != 404 || f.Body != nil {
			t.Errorf("%q: %d, want 404", rel, f.Status)
		}
	}
}

// A browser that has the file (same ETag) gets 304 and no body; another ETag gets the file.
func TestAMatchingETagIsNotModified(t *testing.T) {
	c := Config{}
	f := c.Serve("console.js", "")
	etag := f.Headers["etag"]
	if etag == "" {
		t.Fatal("no ETag")
	}
	if g := c.Serve("console.js", etag); g.Status != 304 || g.Body != nil {
		t.Errorf("same ETag: %d with %d bytes, want 304 and none", g.Status, len(g.Body))
	}
	if g := c.Serve("console.js", `"other"`); g.Status != 200 {
		t.Errorf("other ETag: %d, want 200", g.Status)
	}
}

// config.json offers the demo sign-in only when the local run set it, and OIDC only when an
// authorize URL is configured; the CSP then lets the console reach the token endpoint's origin.
func TestConfigSaysHowToSignIn(t *testing.T) {
	var got struct {
		OIDC *struct{ AuthorizeURL, TokenURL, ClientID, Scope string }
		Demo *string
	}
	f := Config{}.Serve("config.json", "")
	if err := json.Unmarshal(f.Body, &got); err != nil || got.OIDC != nil || got.Demo != nil {
		t.Errorf("unconfigured: %s (%v), want oidc null and no demo", f.Body, err)
	}
	if f.Headers["cache-control"] != "no-store" {
		t.Errorf("config.json cache-control %q, want no-store", f.Headers["cache-control"])
	}
	c := Config{AuthorizeURL: "https://auth.example.com/oauth2/authorize", TokenURL: "https://auth.example.com/oauth2/token",
		ClientID: "console", Scope: "openid email", Demo: "/_local/demo"}
	f = c.Serve("config.json", "")
	if err := json.Unmarshal(f.Body, &got); err != nil || got.OIDC == nil || got.OIDC.TokenURL != c.TokenURL ||
		got.OIDC.ClientID != "console" || got.Demo == nil || *got.Demo != "/_local/demo" {
		t.Errorf("configured: %s (%v)", f.Body, err)
	}
	if csp := f.Headers["content-security-policy"]; !strings.Contains(csp, "connect-src 'self' https://auth.example.com;") {
		t.Errorf("CSP %q does not let the console reach the token endpoint", csp)
	}
}

// The shell's one list of pages (PAGES in console.js) names every module under pages/ and nothing
// that is not there: a page added without its line, or a line without its file, fails here.
func TestEveryPageModuleIsListedOnce(t *testing.T) {
	js, err := fs.ReadFile(assets, "assets/console.js")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile(`(?s)const PAGES = \[(.*?)\];`).FindSubmatch(js)
	if block == nil {
		t.Fatal("no PAGES array in console.js")
	}
	var listed []string
	for _, m := range regexp.MustCompile(`"\./(pages/[a-z0-9-]+\.js)"`).FindAllSubmatch(block[1], -1) {
		listed = append(listed, string(m[1]))
	}
	files, err := fs.Glob(assets, "assets/pages/*.js")
	if err != nil {
		t.Fatal(err)
	}
	for i := range files {
		files[i] = strings.TrimPrefix(files[i], "assets/")
	}
	slices.Sort(files)
	sorted := slices.Sorted(slices.Values(listed))
	if !slices.Equal(sorted, files) || len(slices.Compact(slices.Clone(sorted))) != len(listed) {
		t.Errorf("PAGES lists %v; pages/ holds %v", listed, files)
	}
	for _, f := range files {
		src, _ := fs.ReadFile(assets, "assets/"+f)
		for _, field := range []string{"route:", "side:", "roles:", "title:", "strings:", "render("} {
			if !strings.Contains(string(src), field) {
				t.Errorf("%s has no %s", f, field)
			}
		}
	}
}

// The console serves the act's stylesheet, the very text the act carries inline, under its own
// CSP: the frame that shows an act links it instead of the inline copy the CSP refuses.
func TestServesTheActsStylesheet(t *testing.T) {
	f := Config{}.Serve(ActStylesheet, "")
	if f.Status != 200 || string(f.Body) != evidence.Stylesheet || f.Headers["content-type"] != "text/css; charset=utf-8" {
		t.Fatalf("%s: %d %q %q", ActStylesheet, f.Status, f.Headers["content-type"], f.Body)
	}
	if csp := f.Headers["content-security-policy"]; csp != (Config{}).CSP() {
		t.Errorf("%s: CSP %q", ActStylesheet, csp)
	}
	if strings.Contains(Config{}.CSP(), "unsafe") || !strings.Contains(Config{}.CSP(), "style-src 'self';") {
		t.Errorf("the console's CSP admits more styles than its own files: %q", Config{}.CSP())
	}
}
