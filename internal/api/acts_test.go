package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
)

// deleteEndUser deletes one end user of account 0 through the dashboard and waits for it: one act.
func (w *world) deleteEndUser(i int) request.Request {
	w.t.Helper()
	eu := w.manifest.Accounts[0].EndUsers[i]
	r := w.call("DELETE", "/v1/bots/"+eu.BotID+"/end-users/"+eu.ID, w.token(0, platform.RoleOwner), "")
	if r.status != 202 {
		w.t.Fatalf("delete end user: %d %s", r.status, r.body)
	}
	var v struct{ ID string }
	r.json(w.t, &v)
	w.settle()
	done, err := w.sys.Ledger.Get(w.ctx, v.ID)
	if err != nil || done.Status != request.StatusCompleted || len(done.Evidence) != 1 {
		w.t.Fatalf("end user deletion: %s %v (%v)", done.Status, done.Evidence, err)
	}
	return done
}

type actList struct {
	Items []struct {
		ID, RequestID, AccountID, Kind string
		Round                          int
		DrawnUpAt                      time.Time
	}
}

// An operator finds acts by request, by account and by date, and reads each as JSON, HTML or PDF.
func TestOperatorsListAndReadActs(t *testing.T) {
	w := newWorld(t)
	done := w.deleteEndUser(0)
	act := done.Evidence[0]
	officer := w.operatorToken("officer-1", "Ирина Смирнова")
	day := w.sys.Now().UTC().Format(time.DateOnly)
	next := w.sys.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)

	for query, want := range map[string]int{
		"request=" + done.ID:                   1,
		"account=" + done.AccountID:            1,
		"account=" + w.manifest.Accounts[1].ID: 0,
		"from=" + day + "&to=" + day:           1,
		"from=" + next:                         0,
		"":                                     1,
		"request=" + done.ID + "&account=" + w.manifest.Accounts[1].ID: 0,
		"request=01JNOSUCHREQUEST0000000000":                           0,
	} {
		var l actList
		r := w.call("GET", "/v1/ops/acts?"+query, officer, "")
		if r.status != 200 {
			t.Fatalf("%q: %d %s", query, r.status, r.body)
		}
		r.json(t, &l)
		if len(l.Items) != want {
			t.Errorf("%q: %d acts, want %d", query, len(l.Items), want)
			continue
		}
		if want == 1 {
			it := l.Items[0]
			if it.ID != act || it.RequestID != done.ID || it.AccountID != done.AccountID || it.Round != 1 ||
				it.Kind != string(request.KindEndUserDeletion) || it.DrawnUpAt.IsZero() {
				t.Errorf("%q: %+v", query, it)
			}
		}
	}
	for _, bad := range []string{"from=yesterday", "to=2026-13-01", "from=2026-03-05&to=2026-03-01", "account=a%23b"} {
		if r := w.call("GET", "/v1/ops/acts?"+bad, officer, ""); r.status != 400 {
			t.Errorf("%q: %d, want 400", bad, r.status)
		}
	}

	r := w.call("GET", "/v1/ops/acts/"+act, officer, "")
	var rec evidence.Record
	if r.status != 200 || json.Unmarshal(r.body, &rec) != nil || rec.RequestID != act || rec.SubjectCount < 1 {
		t.Fatalf("json: %d %s", r.status, r.body)
	}
	r = w.call("GET", "/v1/ops/acts/"+act+"?format=html&locale=ru", officer, "")
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.body), "Акт об уничтожении") {
		t.Fatalf("html: %d %s %.200s", r.status, r.header.Get("Content-Type"), r.body)
	}
	actCSPAdmitsItsStyleOnly(t, r.header.Get("Content-Security-Policy"), string(r.body))
	r = w.call("GET", "/v1/ops/acts/"+act+"?format=pdf", officer, "")
	if r.status != 200 || r.header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(r.body, []byte("%PDF-")) ||
		!strings.Contains(r.header.Get("Content-Disposition"), "act-"+act+".pdf") {
		t.Fatalf("pdf: %d %s %q", r.status, r.header.Get("Content-Type"), r.body[:min(20, len(r.body))])
	}
	if r := w.call("GET", "/v1/ops/acts/"+act+"?format=xml", officer, ""); r.status != 400 {
		t.Errorf("format xml: %d", r.status)
	}
	if r := w.call("GET", "/v1/ops/acts/01JNOSUCHACT00000000000000", officer, ""); r.status != 404 {
		t.Errorf("unknown act: %d %s", r.status, r.body)
	}
	if r := w.call("GET", "/v1/ops/acts/"+act, w.token(0, platform.RoleOwner), ""); r.status != 403 {
		t.Errorf("an account's owner on the ops route: %d", r.status)
	}
}

// The public link to an act opens it without a login while its signature holds and until it
// expires; a tampered or expired link says so and shows nothing.
func TestTheSignedLinkToAnAct(t *testing.T) {
	w := newWorld(t)
	act := w.deleteEndUser(1).Evidence[0]
	links := w.sys.Tasks.ActLinks
	if len(links.Secret) == 0 {
		t.Fatal("the local system signs no links")
	}
	link := links.Path(act, w.sys.Now().Add(time.Hour))
	r := w.call("GET", link, "", "")
	if r.status != 200 || !strings.Contains(string(r.body), "Акт об уничтожении") {
		t.Fatalf("the link: %d %.300s", r.status, r.body)
	}
	if r := w.call("GET", link+"&format=pdf", "", ""); r.status != 200 || !bytes.HasPrefix(r.body, []byte("%PDF-")) {
		t.Fatalf("the link as PDF: %d", r.status)
	}
	u, _ := url.Parse(link)
	q := u.Query()
	q.Set("sig", strings.Repeat("0", 64))
	if r := w.call("GET", u.Path+"?"+q.Encode(), "", ""); r.status != 403 || !strings.Contains(r.header.Get("Content-Type"), "problem+json") {
		t.Errorf("a forged signature: %d %s", r.status, r.body)
	}
	other := links.Path(w.manifest.Accounts[0].ID, w.sys.Now().Add(time.Hour))
	ou, _ := url.Parse(other)
	if r := w.call("GET", "/v1/acts/"+act+"?"+ou.RawQuery, "", ""); r.status != 403 {
		t.Errorf("another act's signature: %d", r.status)
	}
	if r := w.call("GET", links.Path(act, w.sys.Now().Add(-time.Second)), "", ""); r.status != 410 {
		t.Errorf("an expired link: %d %s", r.status, r.body)
	}
	if r := w.call("GET", "/v1/acts/"+act, "", ""); r.status != 403 {
		t.Errorf("no signature: %d", r.status)
	}
}

// The acts list pages newest first with an opaque cursor bound to its filters: each act shows up
// once across the pages, and a cursor given out under other filters is refused.
func TestOperatorsPageThroughActs(t *testing.T) {
	w := newWorld(t)
	first, second := w.deleteEndUser(0), w.deleteEndUser(1)
	officer := w.operatorToken("officer-1", "Ирина Смирнова")
	type row struct{ ID string }
	var p1 struct {
		Items      []row
		NextCursor string
	}
	r := w.call("GET", "/v1/ops/acts?limit=1", officer, "")
	r.json(t, &p1)
	if r.status != 200 || len(p1.Items) != 1 || p1.NextCursor == "" {
		t.Fatalf("first page: %d %s", r.status, r.body)
	}
	var p2 struct {
		Items      []row
		NextCursor string
	}
	r = w.call("GET", "/v1/ops/acts?limit=1&cursor="+p1.NextCursor, officer, "")
	r.json(t, &p2)
	if r.status != 200 || len(p2.Items) != 1 || p2.NextCursor != "" {
		t.Fatalf("second page: %d %s", r.status, r.body)
	}
	got := map[string]bool{p1.Items[0].ID: true, p2.Items[0].ID: true}
	if !got[first.Evidence[0]] || !got[second.Evidence[0]] {
		t.Errorf("pages %v, want the acts %s and %s once each", got, first.Evidence[0], second.Evidence[0])
	}
	if r := w.call("GET", "/v1/ops/acts?limit=1&account="+first.AccountID+"&cursor="+p1.NextCursor, officer, ""); r.status != 400 {
		t.Errorf("a cursor under other filters: %d, want 400", r.status)
	}
	if r := w.call("GET", "/v1/ops/acts?limit=0", officer, ""); r.status != 400 {
		t.Errorf("limit 0: %d, want 400", r.status)
	}
}

// actCSPAdmitsItsStyleOnly checks that an act's HTML is answered with a policy that admits its one
// inline style block by that block's hash, and no other inline style.
func actCSPAdmitsItsStyleOnly(t *testing.T, csp, doc string) {
	t.Helper()
	m := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(doc)
	if m == nil {
		t.Fatalf("the act has no style block: %.300s", doc)
	}
	sum := sha256.Sum256([]byte(m[1]))
	hash := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	if !strings.Contains(csp, "style-src "+hash) || strings.Contains(csp, "unsafe") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("the act's CSP %q does not admit exactly its style block (%s)", csp, hash)
	}
}
