// Package console is the web console of issue 17: plain HTML, CSS and ES modules embedded in the
// binary and served by the dashboard API's Lambda under /console/, same origin as the API, so no
// CORS and no second deployment. It knows nothing of the API's routes; internal/api calls Serve
// and writes its answer.
//
// The assets have no build step and no framework. assets/console.js is the shell: the sign-in
// state (the bearer token in sessionStorage), Lethe.api(path, {method, body, headers}) (parsed JSON
// back, or an ApiError carrying the problem's title, detail and field errors), the strings in
// Russian and English (the account's language until the person switches), the hash router, the
// navigation, and Lethe.confirm, the one in-page confirmation of destructive actions. Each screen
// is one module under assets/pages/, listed on one line of PAGES in console.js, exporting
//
//	export default { route: "#/…", side: "account"|"ops"|"public", roles: [...],
//	  title: {en, ru}, strings: {en: {…}, ru: {…}}, async render(root, ctx) }
//
// where ctx carries t(key) (the page's strings, then the shell's), el(tag, attrs, ...children),
// api, confirm, me (GET /v1/me) or operator (GET /v1/ops/me), params (the hash's query) and lang.
// The navigation lists a page to a signed-in person whose token kind is its side and whose role
// ("operator" for an officer) is in roles. While the person's account is deactivated (soft-deleted,
// its deletion pending) the API answers only the deletion's own routes: the shell then lists only
// the account pages marked whileDeactivated: true and shows a banner with the end of the window.
package console

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/url"
	"path"
	"strings"

	"github.com/lethe-dev/lethe/internal/evidence"
)

//go:embed assets
var assets embed.FS

// Config says how the console signs people in.
type Config struct {
	// OIDC Authorization Code with PKCE against the provider that issues the API's JWTs
	// (CONSOLE_OIDC_*): the console sends the browser to AuthorizeURL and exchanges the code at
	// TokenURL. Empty AuthorizeURL: no OIDC sign-in is offered.
	AuthorizeURL, TokenURL, ClientID, Scope string
	// Demo is where the local run lists its demo identities (/_local/demo); only `make run` sets
	// it (CONSOLE_DEMO_SIGN_IN), and then the console offers a one-click sign-in as each of them.
	Demo string
}

// File is one answer of the console: a file's bytes with the headers to send them with.
type File struct {
	Status  int
	Body    []byte
	Headers map[string]string
}

// Found reports whether the file exists (Status 200 or 304).
func (f File) Found() bool { return f.Status == 200 || f.Status == 304 }

var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".json": "application/json",
	".svg":  "image/svg+xml",
}

// CSP allows only the console's own origin, plus the identity provider's token endpoint for the
// code exchange: no inline script or style, no framing, no foreign form targets.
func (c Config) CSP() string {
	connect := "'self'"
	if o := origin(c.TokenURL); o != "" {
		connect += " " + o
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src " + connect +
		"; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
}

func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// headers every console answer carries.
func (c Config) headers(contentType, etag string) map[string]string {
	h := map[string]string{
		"content-type":            contentType,
		"content-security-policy": c.CSP(),
		"x-content-type-options":  "nosniff",
		"referrer-policy":         "no-referrer",
		// The names are not hashed, so a browser keeps a file a minute and then asks again; the
		// ETag makes asking again cheap (304).
		"cache-control": "public, max-age=60, must-revalidate",
	}
	if etag != "" {
		h["etag"] = etag
	}
	return h
}

// Serve answers the console file at rel (the path below /console/, as the {proxy+} variable
// carries it). config.json is made from c; anything that is not an embedded file is a 404.
// ifNoneMatch is the request's If-None-Match header: a match answers 304 without the body.
func (c Config) Serve(rel, ifNoneMatch string) File {
	var body []byte
	ct := contentTypes[path.Ext(rel)]
	switch {
	case rel == "config.json":
		body = c.configJSON()
	case rel == ActStylesheet:
		// The act's own stylesheet, for the frame that shows an act: the frame inherits this CSP,
		// which refuses the act's inline copy of it.
		body = []byte(evidence.Stylesheet)
	case ct == "" || !fs.ValidPath(rel) || strings.HasPrefix(path.Base(rel), "."):
		return File{Status: 404}
	default:
		b, err := fs.ReadFile(assets, "assets/"+rel)
		if err != nil {
			return File{Status: 404}
		}
		body = b
	}
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	h := c.headers(ct, etag)
	if rel == "config.json" {
		h["cache-control"] = "no-store"
	}
	if ifNoneMatch == etag {
		return File{Status: 304, Headers: h}
	}
	return File{Status: 200, Body: body, Headers: h}
}

// ActStylesheet is where the console serves the stylesheet of an act of destruction
// (evidence.Stylesheet), relative to its entry.
const ActStylesheet = "act.css"

// Entry is the console's first page, where GET /console sends the browser. It is a file, not
// "/console/": API Gateway's greedy {proxy+} never matches an empty rest.
const Entry = "/console/index.html"

func (c Config) configJSON() []byte {
	type oidc struct {
		AuthorizeURL string `json:"authorizeUrl"`
		TokenURL     string `json:"tokenUrl"`
		ClientID     string `json:"clientId"`
		Scope        string `json:"scope"`
	}
	out := struct {
		OIDC *oidc  `json:"oidc"`
		Demo string `json:"demo,omitempty"`
	}{Demo: c.Demo}
	if c.AuthorizeURL != "" {
		out.OIDC = &oidc{AuthorizeURL: c.AuthorizeURL, TokenURL: c.TokenURL, ClientID: c.ClientID, Scope: c.Scope}
	}
	b, _ := json.Marshal(out)
	return b
}
