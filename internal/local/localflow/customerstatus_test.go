package localflow_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lethe-dev/lethe/internal/request"
)

var statusLink = regexp.MustCompile(`https?://[^\s"<>]+/deletion-status/([a-z0-9]+)`)

// statusCode is the code of the status page the end customer's "received" mail links to.
func statusCode(t *testing.T, w *world) string {
	t.Helper()
	mails := w.mailTo("customer")
	if len(mails) == 0 {
		t.Fatal("no mail to the requester")
	}
	m := statusLink.FindStringSubmatch(mails[0].Text)
	if m == nil || !strings.Contains(mails[0].HTML, "/deletion-status/"+m[1]) {
		t.Fatalf("the received mail does not link to the status page:\n%s", mails[0].Text)
	}
	// 160 random bits in base32: 32 characters.
	if len(m[1]) < 26 {
		t.Fatalf("status code %q is guessable", m[1])
	}
	return m[1]
}

type statusReply struct {
	status  int
	headers map[string]string
	body    string
}

// statusPage asks the public route for the page of code, as API Gateway would without a login.
func statusPage(t *testing.T, w *world, code, accept string) statusReply {
	t.Helper()
	res, err := w.sys.Webhooks.Handle(w.ctx, events.APIGatewayV2HTTPRequest{RouteKey: "GET /deletion-status/{confirmationCode}",
		RawPath: "/deletion-status/" + code, PathParameters: map[string]string{"confirmationCode": code},
		Headers: map[string]string{"accept": accept}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Headers["cache-control"] != "no-store" || res.Headers["referrer-policy"] != "no-referrer" {
		t.Errorf("status page headers %v: want no-store and no-referrer", res.Headers)
	}
	return statusReply{status: res.StatusCode, headers: res.Headers, body: res.Body}
}

// stagesOf reads the stage names of the page's JSON.
func stagesOf(t *testing.T, w *world, code string) []string {
	t.Helper()
	r := statusPage(t, w, code, "application/json")
	var st struct {
		Stages []struct {
			Name   string    `json:"name"`
			At     time.Time `json:"at"`
			Reason string    `json:"reason"`
		} `json:"stages"`
	}
	if r.status != 200 || json.Unmarshal([]byte(r.body), &st) != nil {
		t.Fatalf("status JSON %d %s", r.status, r.body)
	}
	var out []string
	for _, s := range st.Stages {
		if s.At.IsZero() {
			t.Errorf("stage %s has no date", s.Name)
		}
		out = append(out, s.Name)
	}
	return out
}

// noPersonalData fails if the page names the requester, the end user, the bot or who decided.
func noPersonalData(t *testing.T, w *world, r request.Request, body string) {
	t.Helper()
	a := w.manifest.Accounts[0]
	eu := a.EndUsers[0]
	banned := []string{w.env.Address("customer"), w.env.Address("owner"), eu.ID, eu.Name, eu.BotID, r.AccountID, "owner:sub", "privacy_officer:po"}
	for _, b := range a.Bots {
		banned = append(banned, b.Name)
	}
	for _, id := range eu.Identities {
		banned = append(banned, id)
	}
	for _, s := range banned {
		if s != "" && strings.Contains(body, s) {
			t.Errorf("the status page shows %q", s)
		}
	}
}

func TestEndCustomerStatusPageFollowsAnApprovedRequestInRussian(t *testing.T) {
	w := newWorld(t, lastOfApril2026, nil)
	w.seedDemo(smallDemo())
	r, _ := submitEndCustomerIn(t, w, "ru")
	code := statusCode(t, w)

	if got := strings.Join(stagesOf(t, w, code), ","); got != "received,owner_notified" {
		t.Fatalf("stages %s, want received,owner_notified", got)
	}
	p := statusPage(t, w, code, "text/html")
	if p.status != 200 || !strings.Contains(p.body, `lang="ru"`) || !strings.Contains(p.body, "Запрос получен — 30.04.2026") ||
		!strings.Contains(p.body, "Владелец бота уведомлён") || !strings.Contains(p.body, "Ждём решения") ||
		strings.Contains(p.body, "Запрос одобрен") {
		t.Fatalf("page before the decision %d:\n%s", p.status, p.body)
	}
	noPersonalData(t, w, r, p.body)

	w.advance(3 * 24 * time.Hour)
	if _, err := w.sys.Requests.Decide(w.ctx, r.AccountID, r.ID, "owner:sub", true, ""); err != nil {
		t.Fatal(err)
	}
	w.settle()
	if got := w.request(r.ID); got.Status != request.StatusCompleted {
		t.Fatalf("status %s", got.Status)
	}
	if got := strings.Join(stagesOf(t, w, code), ","); got != "received,owner_notified,approved,done" {
		t.Fatalf("stages %s after approval", got)
	}
	p = statusPage(t, w, code, "")
	if p.status != 200 || !strings.Contains(p.body, "Запрос одобрен — 03.05.2026") || !strings.Contains(p.body, "Данные удалены — 03.05.2026") ||
		strings.Contains(p.body, "Ждём решения") || strings.Contains(p.body, "Request") {
		t.Fatalf("page after completion %d:\n%s", p.status, p.body)
	}
	noPersonalData(t, w, r, p.body)
}

func TestEndCustomerStatusPageShowsADeclineWithItsReasonInEnglish(t *testing.T) {
	w := newWorld(t, lastOfApril2026, nil)
	w.seedDemo(smallDemo())
	r, _ := submitEndCustomerIn(t, w, "en")
	code := statusCode(t, w)
	if _, err := w.sys.Requests.Decide(w.ctx, r.AccountID, r.ID, "owner:sub", false, "the account holds a contract with this customer"); err != nil {
		t.Fatal(err)
	}
	w.settle()
	if got := strings.Join(stagesOf(t, w, code), ","); got != "received,owner_notified,declined" {
		t.Fatalf("stages %s after the decline", got)
	}
	p := statusPage(t, w, code, "text/html")
	if p.status != 200 || !strings.Contains(p.body, `lang="en"`) || !strings.Contains(p.body, "Request declined — 30.04.2026") ||
		!strings.Contains(p.body, "Reason: the account holds a contract with this customer") ||
		!strings.Contains(p.body, "The bot&#39;s owner notified") || strings.Contains(p.body, "Data deleted") ||
		strings.Contains(p.body, "Запрос") {
		t.Fatalf("page after the decline %d:\n%s", p.status, p.body)
	}
	noPersonalData(t, w, r, p.body)
}

func TestEndCustomerStatusPageShowsTheEscalation(t *testing.T) {
	w := newWorld(t, lastOfApril2026, nil)
	w.seedDemo(smallDemo())
	r, _ := submitEndCustomerIn(t, w, "en")
	code := statusCode(t, w)
	w.advance(r.Deadlines[request.DeadlineEscalateAt].Sub(lastOfApril2026) + time.Minute)
	if got := strings.Join(stagesOf(t, w, code), ","); got != "received,owner_notified,escalated" {
		t.Fatalf("stages %s after the escalation", got)
	}
	p := statusPage(t, w, code, "text/html")
	if !strings.Contains(p.body, "the platform&#39;s privacy officer will decide") || !strings.Contains(p.body, "awaits a decision") {
		t.Fatalf("page after the escalation:\n%s", p.body)
	}
	if _, err := w.sys.Requests.Decide(w.ctx, r.AccountID, r.ID, "privacy_officer:po", true, ""); err != nil {
		t.Fatal(err)
	}
	w.settle()
	if got := strings.Join(stagesOf(t, w, code), ","); got != "received,owner_notified,escalated,approved,done" {
		t.Fatalf("stages %s after the officer's approval", got)
	}
	noPersonalData(t, w, r, statusPage(t, w, code, "text/html").body)
}

// A wrong or garbled link reveals nothing: the same 404 as any unknown code, and the page of another
// request's code is not opened by a near miss.
func TestEndCustomerStatusPageUnknownCodeIs404(t *testing.T) {
	w := newWorld(t, lastOfApril2026, nil)
	w.seedDemo(smallDemo())
	r, _ := submitEndCustomerIn(t, w, "ru")
	code := statusCode(t, w)
	last := "a"
	if strings.HasSuffix(code, "a") {
		last = "b"
	}
	near := code[:len(code)-1] + last
	for _, c := range []string{near, strings.Repeat("a", 32), r.ID, "%00", strings.Repeat("z", 129)} {
		for _, accept := range []string{"text/html", "application/json"} {
			p := statusPage(t, w, c, accept)
			if p.status != 404 || strings.Contains(p.body, r.ID) {
				t.Errorf("code %q (%s): %d %s", c, accept, p.status, p.body)
			}
		}
	}
}
