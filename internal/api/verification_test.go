package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lethe-dev/lethe/internal/chanapi"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/requests"
	"github.com/lethe-dev/lethe/internal/system"
)

// sentCode is one code a channel was asked to deliver.
type sentCode struct {
	conn             platform.ChannelConnection
	to, code, locale string
}

// codeRecorder is the channels' client as the verification sees it: it records what it is asked
// to send, or answers with fail as a channel would (the real clients are contract-tested against
// each channel's documented answers in internal/chanapi).
type codeRecorder struct {
	mu   sync.Mutex
	sent []sentCode
	fail error
}

func (r *codeRecorder) Check(context.Context, platform.ChannelConnection) (chanapi.Result, error) {
	return chanapi.Result{}, chanapi.ErrUnsupported
}

func (r *codeRecorder) SendCode(_ context.Context, conn platform.ChannelConnection, to, code, locale string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.sent = append(r.sent, sentCode{conn: conn, to: to, code: code, locale: locale})
	return nil
}

func (r *codeRecorder) all() []sentCode {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.sent)
}

func (r *codeRecorder) last(t *testing.T) sentCode {
	t.Helper()
	s := r.all()
	if len(s) == 0 {
		t.Fatal("no code was sent")
	}
	return s[len(s)-1]
}

func (r *codeRecorder) failWith(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = err
}

// verifyWorld is the API world with a recording channel client.
type verifyWorld struct {
	*world
	rec *codeRecorder
}

func newVerifyWorld(t *testing.T) *verifyWorld {
	rec := &codeRecorder{}
	w := newWorld(t, func(s *system.System) { s.Verification.Channels = rec })
	return &verifyWorld{world: w, rec: rec}
}

var statusLink = regexp.MustCompile(`/deletion-status/([a-z0-9]+)`)

// statusCode is the code of the status page the requester's "received" mail for r links to.
func (w *verifyWorld) statusCode(r request.Request) string {
	w.t.Helper()
	for _, m := range w.env.SentMail(w.t) {
		if slices.Contains(m.To, r.Requester) && strings.Contains(m.Text, r.ID) {
			if s := statusLink.FindStringSubmatch(m.Text); s != nil {
				return s[1]
			}
		}
	}
	for _, m := range w.env.SentMail(w.t) {
		if slices.Contains(m.To, r.Requester) {
			if s := statusLink.FindStringSubmatch(m.Text); s != nil {
				return s[1]
			}
		}
	}
	w.t.Fatalf("no mail to the requester of %s links to a status page", r.ID)
	return ""
}

// enter posts a code on the status page as API Gateway hands it to the channel-webhook function,
// from the source address ip, as a form (or JSON), and checks the answer against the document.
func (w *verifyWorld) enter(page, code, ip string, asJSON bool) reply {
	w.t.Helper()
	path := "/deletion-status/" + page + "/verification"
	ev := events.APIGatewayV2HTTPRequest{RouteKey: "POST /deletion-status/{confirmationCode}/verification", RawPath: path,
		PathParameters: map[string]string{"confirmationCode": page},
		Headers:        map[string]string{"content-type": "application/x-www-form-urlencoded"},
		Body:           url.Values{"code": {code}}.Encode()}
	if asJSON {
		b, _ := json.Marshal(map[string]string{"code": code})
		ev.Headers, ev.Body = map[string]string{"content-type": "application/json", "accept": "application/json"}, string(b)
	}
	ev.RequestContext.HTTP.SourceIP = ip
	res, err := w.sys.Webhooks.Handle(w.ctx, ev)
	if err != nil {
		w.t.Fatal(err)
	}
	h := http.Header{}
	for k, v := range res.Headers {
		h.Set(k, v)
	}
	if h.Get("Cache-Control") != "no-store" || h.Get("Referrer-Policy") != "no-referrer" {
		w.t.Errorf("code entry headers %v: want no-store and no-referrer", res.Headers)
	}
	if err := w.spec.ValidateResponse(w.ctx, "POST", path, res.StatusCode, h, []byte(res.Body)); err != nil {
		w.t.Errorf("POST %s → %d does not match api/openapi.yaml: %v\n%s", path, res.StatusCode, err, res.Body)
	}
	return reply{status: res.StatusCode, header: h, body: []byte(res.Body)}
}

// page reads the status page (HTML, or JSON).
func (w *verifyWorld) page(page string, asJSON bool) string {
	w.t.Helper()
	ev := events.APIGatewayV2HTTPRequest{RouteKey: "GET /deletion-status/{confirmationCode}", RawPath: "/deletion-status/" + page,
		PathParameters: map[string]string{"confirmationCode": page}, Headers: map[string]string{}}
	if asJSON {
		ev.Headers["accept"] = "application/json"
	}
	res, err := w.sys.Webhooks.Handle(w.ctx, ev)
	if err != nil || res.StatusCode != 200 {
		w.t.Fatalf("status page: %d %s %v", res.StatusCode, res.Body, err)
	}
	return res.Body
}

type verificationJSON struct {
	Status     string     `json:"status"`
	EndUserID  string     `json:"endUserId"`
	Channel    string     `json:"channel"`
	SentAt     *time.Time `json:"sentAt"`
	ExpiresAt  *time.Time `json:"expiresAt"`
	VerifiedAt *time.Time `json:"verifiedAt"`
}

// queued is the request's verification as the owner's queue shows it.
func (w *verifyWorld) queued(tok, id string) verificationJSON {
	w.t.Helper()
	var q struct {
		Items []struct {
			ID           string
			Verification *verificationJSON
		}
	}
	w.call("GET", "/v1/end-customer-requests", tok, "").json(w.t, &q)
	for _, it := range q.Items {
		if it.ID == id {
			if it.Verification == nil {
				w.t.Fatalf("queue item %s has no verification", id)
			}
			return *it.Verification
		}
	}
	w.t.Fatalf("%s is not in the queue", id)
	return verificationJSON{}
}

// chatOf is the connection an end user talks through and the id its channel knows them by there.
func (w *verifyWorld) chatOf(endUserID string) (platform.ChannelConnection, []string) {
	w.t.Helper()
	u, err := w.sys.Store.EndUser(w.ctx, endUserID)
	if err != nil {
		w.t.Fatalf("end user %s: %v", endUserID, err)
	}
	conn, err := w.sys.Store.Connection(w.ctx, u.ConnectionID)
	if err != nil {
		w.t.Fatalf("connection %q of %s: %v", u.ConnectionID, endUserID, err)
	}
	ids, err := w.sys.Store.Identities(w.ctx, endUserID)
	if err != nil {
		w.t.Fatal(err)
	}
	var on []string
	for _, id := range ids {
		if id.Channel == conn.Channel {
			on = append(on, id.ExternalID)
		}
	}
	return conn, on
}

var sixDigits = regexp.MustCompile(`^[0-9]{6}$`)

// The whole walk: the owner asks, the code reaches the end user's chat on their connection, the
// requester enters it on the status page (a wrong try first), and the owner's queue and request,
// and the officer's request page, say verified. Neither the code nor its hash is in any answer,
// the history or a log line, and the page names nothing of the end user.
func TestVerificationFromAskToVerified(t *testing.T) {
	w := newVerifyWorld(t)
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })

	r := w.submitEndCustomerFor(w.chattable())
	page := w.statusCode(r)
	tok := w.token(0, platform.RoleOwner)
	if v := w.queued(tok, r.ID); v.Status != "none" {
		t.Fatalf("before any ask: %+v", v)
	}
	var answers []string
	ask := w.call("POST", "/v1/end-customer-requests/"+r.ID+"/verification", tok, "")
	answers = append(answers, string(ask.body))
	var sent struct {
		EndUserID, Channel string
		SentAt, ExpiresAt  time.Time
	}
	ask.json(t, &sent)
	if ask.status != 202 {
		t.Fatalf("ask: %d %s", ask.status, ask.body)
	}
	conn, ids := w.chatOf(r.Scope.EndUserID)
	if ask.status != 202 || sent.EndUserID != r.Scope.EndUserID || sent.Channel != conn.Channel || !sent.ExpiresAt.Equal(sent.SentAt.Add(15*time.Minute)) {
		t.Fatalf("ask: %d %s", ask.status, ask.body)
	}
	got := w.rec.all()
	if len(got) != 1 || got[0].conn.ID != conn.ID || !slices.Contains(ids, got[0].to) || got[0].locale != "en" || !sixDigits.MatchString(got[0].code) {
		t.Fatalf("sent %+v; want one six-digit code to one of %v on %s in en", got, ids, conn.ID)
	}
	code := got[0].code
	stored := w.request(r.ID).Verification
	if stored == nil || stored.CodeHash == "" || stored.CodeHash == code || stored.EndUserID != r.Scope.EndUserID || stored.ConnectionID != conn.ID {
		t.Fatalf("stored verification %+v", stored)
	}
	hash := stored.CodeHash

	v := w.queued(tok, r.ID)
	if v.Status != "pending" || v.Channel != conn.Channel || v.SentAt == nil || v.VerifiedAt != nil {
		t.Fatalf("queue while pending: %+v", v)
	}
	html := w.page(page, false)
	name := map[string]string{"telegram": "Telegram", "whatsapp": "WhatsApp", "messenger": "Messenger", "instagram": "Instagram",
		"slack": "Slack", "vk": "VK", "viber": "Viber"}[conn.Channel]
	if !strings.Contains(html, "We sent a confirmation code to your "+name+" chat") || !strings.Contains(html, `<form method="post" action="`+page+`/verification"`) {
		t.Fatalf("the page does not offer the code's form:\n%s", html)
	}

	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	bad := w.enter(page, wrong, "198.51.100.4", false)
	if bad.status != 422 || !strings.Contains(string(bad.body), "Wrong code. Tries left: 4.") || !strings.Contains(string(bad.body), "<form") {
		t.Fatalf("a wrong code: %d\n%s", bad.status, bad.body)
	}
	ok := w.enter(page, code, "198.51.100.4", false)
	if ok.status != 303 || ok.header.Get("Location") != "/deletion-status/"+page {
		t.Fatalf("the right code: %d %v %s", ok.status, ok.header, ok.body)
	}
	html = w.page(page, false)
	if !strings.Contains(html, `data-verification="verified"`) || !strings.Contains(html, "You confirmed the chat is yours.") || strings.Contains(html, "<form") {
		t.Fatalf("the page after the right code:\n%s", html)
	}
	var st struct{ Verification verificationJSON }
	js := w.page(page, true)
	if err := json.Unmarshal([]byte(js), &st); err != nil || st.Verification.Status != "verified" || st.Verification.VerifiedAt == nil ||
		st.Verification.EndUserID != "" {
		t.Fatalf("status JSON: %s", js)
	}
	// The page shows nothing of the end user: not their id, name, nor any of their chat ids.
	eu, err := w.sys.Store.EndUser(w.ctx, r.Scope.EndUserID)
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{html, js, string(bad.body)} {
		for _, s := range append([]string{eu.ID, eu.DisplayName, r.Requester, conn.ID}, ids...) {
			if s != "" && strings.Contains(body, s) {
				t.Errorf("the status page shows %q", s)
			}
		}
	}

	v = w.queued(tok, r.ID)
	if v.Status != "verified" || v.VerifiedAt == nil || v.Channel != conn.Channel {
		t.Fatalf("queue after: %+v", v)
	}
	detail := w.call("GET", "/v1/deletion-requests/"+r.ID, tok, "")
	officer := w.call("GET", "/v1/ops/requests/"+r.ID, w.operatorToken("officer-7", "Ирина Смирнова"), "")
	for who, res := range map[string]reply{"owner": detail, "officer": officer} {
		var d struct{ Verification verificationJSON }
		res.json(t, &d)
		if res.status != 200 || d.Verification.Status != "verified" || d.Verification.VerifiedAt == nil {
			t.Errorf("%s's request detail: %d %s", who, res.status, res.body)
		}
		answers = append(answers, string(res.body))
	}
	answers = append(answers, string(w.call("GET", "/v1/end-customer-requests", tok, "").body))
	again := w.call("POST", "/v1/end-customer-requests/"+r.ID+"/verification", tok, "")
	if again.status != 409 {
		t.Errorf("asking again once verified: %d %s, want 409", again.status, again.body)
	}

	final := w.request(r.ID)
	var notes []string
	for _, e := range final.History {
		notes = append(notes, e.Note)
	}
	if !slices.ContainsFunc(notes, func(n string) bool { return strings.HasPrefix(n, request.NoteVerificationSent) }) ||
		!slices.ContainsFunc(notes, func(n string) bool { return strings.HasPrefix(n, request.NoteVerified) }) {
		t.Errorf("history %v: want verification_sent and verified", notes)
	}
	hist, _ := json.Marshal(final.History)
	for what, text := range map[string]string{"history": string(hist), "logs": logs.String(), "answers": strings.Join(answers, "\n"),
		"page": html + js + string(bad.body) + string(ok.body)} {
		if strings.Contains(text, code) || strings.Contains(text, hash) {
			t.Errorf("the %s hold the code or its hash", what)
		}
	}
	if final.Verification.CodeHash != "" {
		t.Errorf("a used code's hash is kept")
	}
}

// Five wrong tries spend a code (the fifth is 410, as is the right code after it); a code is
// good for 15 minutes of the (virtual) clock; a request gets one code a minute and three in 24
// hours (429 with Retry-After), and a refused or failed ask does not count.
func TestVerificationTriesExpiryAndSendLimits(t *testing.T) {
	w := newVerifyWorld(t)
	r := w.submitEndCustomerFor(w.chattable())
	page := w.statusCode(r)
	tok := w.token(0, platform.RoleOwner)
	path := "/v1/end-customer-requests/" + r.ID + "/verification"

	if got := w.call("POST", path, tok, ""); got.status != 202 {
		t.Fatalf("ask: %d %s", got.status, got.body)
	}
	code := w.rec.last(t).code
	wrong := fmt.Sprintf("%06d", (atoi(code)+1)%1_000_000)
	for left := 4; left >= 1; left-- {
		res := w.enter(page, wrong, "198.51.100.5", true)
		if res.status != 422 || problemType(t, res) != "https://lethe.dev/problems/unprocessable" ||
			!strings.Contains(string(res.body), fmt.Sprintf("Tries left: %d.", left)) {
			t.Fatalf("wrong try with %d left: %d %s", left, res.status, res.body)
		}
	}
	if res := w.enter(page, wrong, "198.51.100.5", true); res.status != 410 {
		t.Fatalf("the fifth wrong try: %d %s, want 410", res.status, res.body)
	}
	if res := w.enter(page, code, "198.51.100.5", false); res.status != 410 || !strings.Contains(string(res.body), "no longer valid") {
		t.Fatalf("the right code once spent: %d %s, want 410", res.status, res.body)
	}
	if v := w.queued(tok, r.ID); v.Status != "expired" {
		t.Fatalf("a spent code: %+v, want expired", v)
	}

	// One a minute.
	soon := w.call("POST", path, tok, "")
	if soon.status != 429 || soon.header.Get("Retry-After") == "" {
		t.Fatalf("a second code within the minute: %d %v %s", soon.status, soon.header, soon.body)
	}
	// A refused chat and a channel that does not answer send nothing and do not count.
	w.advance(61 * time.Second)
	w.rec.failWith(fmt.Errorf("telegram: 403 Forbidden: bot was blocked by the user: %w", chanapi.ErrRecipientRefused))
	refused := w.call("POST", path, tok, "")
	if refused.status != 422 || problemType(t, refused) != "https://lethe.dev/problems/unprocessable" {
		t.Fatalf("a refused chat: %d %s, want 422", refused.status, refused.body)
	}
	w.rec.failWith(&chanapi.APIError{Channel: "telegram", Op: "send", StatusCode: 502})
	down := w.call("POST", path, tok, "")
	if down.status != 503 || problemType(t, down) != "https://lethe.dev/problems/unavailable" {
		t.Fatalf("a channel down: %d %s, want 503", down.status, down.body)
	}
	if v := w.queued(tok, r.ID); v.Status != "expired" {
		t.Fatalf("after failed sends: %+v, want the spent code's expired", v)
	}
	w.rec.failWith(nil)

	// The second code of the day (the failed ones did not count); it expires after 15 minutes.
	if got := w.call("POST", path, tok, ""); got.status != 202 {
		t.Fatalf("second code: %d %s", got.status, got.body)
	}
	second := w.rec.last(t).code
	w.advance(15*time.Minute + time.Second)
	if v := w.queued(tok, r.ID); v.Status != "expired" {
		t.Fatalf("after 15 minutes: %+v, want expired", v)
	}
	if res := w.enter(page, second, "198.51.100.5", true); res.status != 410 {
		t.Fatalf("an expired code: %d %s, want 410", res.status, res.body)
	}
	// The third of the day, then no fourth until the first is 24 hours old.
	if got := w.call("POST", path, tok, "", "Idempotency-Key", "third-code"); got.status != 202 {
		t.Fatalf("third code: %d %s", got.status, got.body)
	}
	if replay := w.call("POST", path, tok, "", "Idempotency-Key", "third-code"); replay.status != 202 || replay.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("the same Idempotency-Key again: %d %v", replay.status, replay.header)
	}
	if n := len(w.rec.all()); n != 3 {
		t.Fatalf("%d codes sent, want 3 (a replay sends none)", n)
	}
	w.advance(2 * time.Minute)
	fourth := w.call("POST", path, tok, "")
	if fourth.status != 429 || problemType(t, fourth) != "https://lethe.dev/problems/too-many-requests" {
		t.Fatalf("a fourth code in 24 hours: %d %s", fourth.status, fourth.body)
	}
	var secs int
	fmt.Sscan(fourth.header.Get("Retry-After"), &secs)
	if secs < 23*3600 || secs > 24*3600 {
		t.Errorf("Retry-After %q, want about a day after the first code", fourth.header.Get("Retry-After"))
	}
	third := w.rec.last(t).code
	if res := w.enter(page, third, "198.51.100.5", true); res.status != 200 {
		t.Fatalf("the third code: %d %s", res.status, res.body)
	}
	if v := w.queued(tok, r.ID); v.Status != "verified" {
		t.Fatalf("after the third code: %+v", v)
	}
}

func atoi(s string) int {
	n := 0
	fmt.Sscan(s, &n)
	return n
}

// One source address enters at most 20 codes an hour, whatever the request and whether they are
// right: the 21st is 429 even with the right code, while another address verifies; the ledger
// keeps only the address's HMAC.
func TestVerificationLimitsTriesPerAddress(t *testing.T) {
	w := newVerifyWorld(t)
	r := w.submitEndCustomerFor(w.chattable())
	page := w.statusCode(r)
	tok := w.token(0, platform.RoleOwner)
	path := "/v1/end-customer-requests/" + r.ID + "/verification"
	if got := w.call("POST", path, tok, ""); got.status != 202 {
		t.Fatalf("ask: %d %s", got.status, got.body)
	}
	const guesser, requester = "192.0.2.77", "198.51.100.6"
	for i := 0; i < 20; i++ {
		if res := w.enter(page, "nope", guesser, true); res.status != 422 && res.status != 410 {
			t.Fatalf("try %d: %d %s", i+1, res.status, res.body)
		}
	}
	w.advance(61 * time.Second)
	if got := w.call("POST", path, tok, ""); got.status != 202 {
		t.Fatalf("a new code: %d %s", got.status, got.body)
	}
	code := w.rec.last(t).code
	limited := w.enter(page, code, guesser, false)
	if limited.status != 429 || limited.header.Get("Retry-After") == "" || !strings.Contains(string(limited.body), "Too many tries") {
		t.Fatalf("the 21st try from one address: %d %v\n%s", limited.status, limited.header, limited.body)
	}
	if v := w.queued(tok, r.ID); v.Status != "pending" {
		t.Fatalf("a limited try touched the code: %+v", v)
	}
	if res := w.enter(page, code, requester, true); res.status != 200 {
		t.Fatalf("another address: %d %s", res.status, res.body)
	}
	out, err := w.env.DynamoDB.Scan(w.ctx, &dynamodb.ScanInput{TableName: strPtr(w.env.Tables[datamap.LedgerTable])})
	if err != nil {
		t.Fatal(err)
	}
	var items []map[string]any
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
		t.Fatal(err)
	}
	dump := fmt.Sprint(items)
	if strings.Contains(dump, guesser) || strings.Contains(dump, requester) {
		t.Errorf("the ledger holds a source address in the clear")
	}
	if !strings.Contains(dump, datamap.VerificationTries) {
		t.Errorf("the ledger holds no %s record", datamap.VerificationTries)
	}
}

func strPtr(s string) *string { return &s }

// A request that matched several end users sends the code to the candidate the owner names (and
// only a candidate); a decided request takes no ask (409); the officer asks only once the request
// is escalated to them; an end user without a chat on an active connection is 422.
func TestVerificationCandidatesDecisionsAndTheOfficer(t *testing.T) {
	w := newVerifyWorld(t)
	a := w.manifest.Accounts[0]
	sub, theirs, _ := w.botAdmin(0)
	var both []string
	for _, eu := range a.EndUsers {
		if eu.BotID == theirs && len(both) < 2 {
			both = append(both, eu.ID)
		}
	}
	req, _, err := w.sys.Requests.SubmitEndCustomer(w.ctx, requests.EndCustomer{AccountID: a.ID, BotID: theirs, EndUserID: both[0],
		Candidates: both, Requester: w.env.Address("customer"), Locale: "ru"})
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	tok := w.tokenFor(0, sub)
	path := "/v1/end-customer-requests/" + req.ID + "/verification"
	if got := w.call("POST", path, tok, `{"endUserId":"01KNOTACANDIDATE000000000"}`); got.status != 400 {
		t.Fatalf("a code to a non-candidate: %d %s, want 400", got.status, got.body)
	}
	got := w.call("POST", path, tok, `{"endUserId":"`+both[1]+`"}`)
	if got.status != 202 {
		t.Fatalf("a code to the second candidate: %d %s", got.status, got.body)
	}
	conn, ids := w.chatOf(both[1])
	if s := w.rec.last(t); s.conn.ID != conn.ID || !slices.Contains(ids, s.to) || s.locale != "ru" {
		t.Fatalf("sent %+v, want the second candidate's chat on %s in ru", s, conn.ID)
	}
	if v := w.queued(tok, req.ID); v.EndUserID != both[1] || v.Status != "pending" {
		t.Fatalf("queue: %+v", v)
	}
	// The page is in the mail's language.
	page := w.statusCode(req)
	if html := w.page(page, false); !strings.Contains(html, "Мы отправили код подтверждения в ваш чат") {
		t.Fatalf("the Russian page:\n%s", html)
	}

	// A decided request takes no ask, nor any code.
	if d := w.call("POST", "/v1/end-customer-requests/"+req.ID+"/decline", tok, `{"reason":"no such customer"}`); d.status != 200 {
		t.Fatalf("decline: %d %s", d.status, d.body)
	}
	w.advance(2 * time.Minute)
	if got := w.call("POST", path, tok, ""); got.status != 409 {
		t.Fatalf("an ask after the decision: %d %s, want 409", got.status, got.body)
	}
	if res := w.enter(page, w.rec.last(t).code, "198.51.100.8", true); res.status != 409 {
		t.Fatalf("a code after the decision: %d %s, want 409", res.status, res.body)
	}

	// The officer: not before the escalation, then yes, recorded as the operator.
	r := w.submitEndCustomerFor(w.chattable())
	officer := w.operatorToken("officer-7", "Ирина Смирнова")
	opsPath := "/v1/ops/requests/" + r.ID + "/verification"
	if got := w.call("POST", opsPath, officer, ""); got.status != 409 {
		t.Fatalf("the officer before the escalation: %d %s, want 409", got.status, got.body)
	}
	w.advance(r.Deadlines[request.DeadlineEscalateAt].Sub(w.sys.Now()) + time.Minute)
	if got := w.call("POST", opsPath, officer, ""); got.status != 202 {
		t.Fatalf("the officer after the escalation: %d %s", got.status, got.body)
	}
	hist := w.request(r.ID).History
	if last := hist[len(hist)-1]; last.Actor != "operator:officer-7 (Ирина Смирнова)" || !strings.HasPrefix(last.Note, request.NoteVerificationSent) {
		t.Errorf("the officer's ask is recorded as %+v", last)
	}

	// No chat: the end user's connection is no longer active.
	r2 := w.submitEndCustomerFor(w.chattable(r.Scope.EndUserID))
	c2, _ := w.chatOf(r2.Scope.EndUserID)
	c2.Status = platform.ConnectionRevoked
	if err := w.sys.Store.Put(w.ctx, c2); err != nil {
		t.Fatal(err)
	}
	before := len(w.rec.all())
	nochat := w.call("POST", "/v1/end-customer-requests/"+r2.ID+"/verification", w.token(0, platform.RoleOwner), "")
	if nochat.status != 422 || len(w.rec.all()) != before {
		t.Fatalf("no active connection: %d %s, want 422 and nothing sent", nochat.status, nochat.body)
	}
}

// chattable is an end user of account 0 a code can reach: still there (the demo data is random
// in its dates and order), on an active connection where they have an identity; skip is left out.
func (w *verifyWorld) chattable(skip ...string) string {
	w.t.Helper()
	for _, eu := range w.manifest.Accounts[0].EndUsers {
		if slices.Contains(skip, eu.ID) {
			continue
		}
		u, err := w.sys.Store.EndUser(w.ctx, eu.ID)
		if err != nil {
			continue
		}
		conn, err := w.sys.Store.Connection(w.ctx, u.ConnectionID)
		if err != nil || conn.Status != platform.ConnectionActive {
			continue
		}
		if _, ids := w.chatOf(eu.ID); len(ids) > 0 {
			return eu.ID
		}
	}
	w.t.Fatal("account 0 has no end user a code can reach")
	return ""
}

// submitEndCustomerFor is an end-customer request of account 0 naming endUserID, opened.
func (w *verifyWorld) submitEndCustomerFor(endUserID string) request.Request {
	w.t.Helper()
	a := w.manifest.Accounts[0]
	var bot string
	for _, eu := range a.EndUsers {
		if eu.ID == endUserID {
			bot = eu.BotID
		}
	}
	req, _, err := w.sys.Requests.SubmitEndCustomer(w.ctx, requests.EndCustomer{AccountID: a.ID, BotID: bot, EndUserID: endUserID,
		Requester: w.env.Address("customer2"), Locale: "en"})
	if err != nil {
		w.t.Fatal(err)
	}
	w.settle()
	return w.request(req.ID)
}

// Two asks at once send one code: the conditional write on the request's version lets one
// through, and the other finds its code within the minute (429).
func TestTwoConcurrentAsksSendOneCode(t *testing.T) {
	w := newVerifyWorld(t)
	r := w.submitEndCustomerFor(w.chattable())
	tok := w.token(0, platform.RoleOwner)
	path := "/v1/end-customer-requests/" + r.ID + "/verification"
	const n = 4
	var wg sync.WaitGroup
	statuses := make([]int, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			req, _ := http.NewRequest("POST", w.srv.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			statuses[i] = res.StatusCode
		}()
	}
	close(start)
	wg.Wait()
	slices.Sort(statuses)
	if statuses[0] != 202 || statuses[1] != 429 || statuses[n-1] != 429 {
		t.Fatalf("statuses %v, want one 202 and the rest 429", statuses)
	}
	if sent := w.rec.all(); len(sent) != 1 {
		t.Fatalf("%d codes sent, want 1", len(sent))
	}
	if v := w.request(r.ID).Verification; v == nil || len(v.Sends) != 1 {
		t.Fatalf("recorded %+v, want one send", v)
	}
}
