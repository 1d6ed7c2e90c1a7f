package intake_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/smtp"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/intake"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/local/localsmtp"
	"github.com/lethe-dev/lethe/internal/local/statemachine"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/seed"
	"github.com/lethe-dev/lethe/internal/system"
	"github.com/lethe-dev/lethe/internal/testenv"
	"github.com/lethe-dev/lethe/internal/testenv/world"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// Monday 2 March 2026, 09:00 UTC: five business days later is Tuesday 10 March (9 March is the
// holiday moved from Sunday 8 March).
var monday = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

var msk = time.FixedZone("MSK", 3*3600)

// rig is a test's own Lethe: its tables, buckets and mail domain, the workflows on the local engine,
// the demo data, and the local SMTP receiver in front of the intake, as `make run` wires them.
type rig struct {
	t    *testing.T
	ctx  context.Context
	env  *testenv.Env
	sys  *system.System
	eng  *statemachine.Engine
	acct seed.ManifestAccount
	man  seed.Manifest
	smtp string

	mu     sync.Mutex
	events []events.SimpleEmailEvent
}

func newRig(t *testing.T) *rig {
	t.Helper()
	wd := world.New(t, world.Options{Start: monday, Seed: 5,
		Size: seed.Size{Accounts: 2, BotsPerAccount: 2, EndUsersPerBot: 6, ConversationsPerEndUser: 2, MessagesPerConversation: 3,
			InboxPerEndUser: 1, FilesPerEndUser: 1, ActivityLogsPerAccount: 4, PaymentsPerAccount: 2}})
	env := wd.Env
	r := &rig{t: t, ctx: wd.Ctx, env: env, sys: wd.Sys, eng: wd.Engine, man: wd.Manifest, acct: wd.Manifest.Accounts[0]}
	wd.OwnerMail(r.acct.ID, "owner")
	var err error
	srv := &localsmtp.Server{Addr: "127.0.0.1:0", S3: env.S3, Bucket: env.Buckets["InboundMailBucket"], Prefix: intake.ObjectPrefix,
		Recipients: []string{r.sys.Config.InfoAddress}, Now: r.eng.Clock().Now,
		Handler: func(ctx context.Context, ev events.SimpleEmailEvent) error {
			r.mu.Lock()
			r.events = append(r.events, ev)
			r.mu.Unlock()
			return r.sys.Intake.Handle(ctx, ev)
		}}
	if r.smtp, err = srv.Start(r.ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return r
}

// mail is one message a test sends.
type mail struct {
	From, To, Subject, Body string
	Headers                 map[string]string
}

var msgSeq int

// send delivers m to the local SMTP port with any SMTP client (net/smtp here) and settles the
// workflows it started.
func (r *rig) send(m mail) error {
	r.t.Helper()
	if m.To == "" {
		m.To = r.sys.Config.InfoAddress
	}
	err := smtp.SendMail(r.smtp, nil, bareAddress(m.From), []string{bareAddress(m.To)}, []byte(r.raw(m)))
	if err == nil {
		if serr := r.eng.Settle(r.ctx); serr != nil {
			r.t.Fatal(serr)
		}
	}
	return err
}

// raw is m as an RFC 5322 message with a Message-ID of its own.
func (r *rig) raw(m mail) string {
	if m.To == "" {
		m.To = r.sys.Config.InfoAddress
	}
	msgSeq++
	var b strings.Builder
	date := r.eng.Clock().Now().Format(time.RFC1123Z)
	if d, ok := m.Headers["Date"]; ok {
		date = d // the sender's own clock and zone
	}
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <t%d.%d@%s>\r\nMIME-Version: 1.0\r\n",
		m.From, m.To, m.Subject, date, msgSeq, time.Now().UnixNano(), r.env.MailDomain)
	for k, v := range m.Headers {
		if k == "Date" {
			continue
		}
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	if _, ok := m.Headers["Content-Type"]; !ok {
		b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n")
	}
	b.WriteString("\r\n" + strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n"))
	return b.String()
}

func (r *rig) mustSend(m mail) {
	r.t.Helper()
	if err := r.send(m); err != nil {
		r.t.Fatalf("send: %v", err)
	}
}

func bareAddress(s string) string {
	if i := strings.LastIndex(s, "<"); i >= 0 {
		return strings.TrimSuffix(s[i+1:], ">")
	}
	return s
}

func (r *rig) lastEvent() events.SimpleEmailEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) == 0 {
		r.t.Fatal("no SES event was delivered")
	}
	return r.events[len(r.events)-1]
}

func (r *rig) mailTo(local string) []testenv.Mail {
	var out []testenv.Mail
	for _, m := range r.env.SentMail(r.t) {
		for _, to := range m.To {
			if strings.EqualFold(bareAddress(to), r.env.Address(local)) {
				out = append(out, m)
			}
		}
	}
	return out
}

func (r *rig) templateCount(local, template string) int {
	n := 0
	for _, m := range r.mailTo(local) {
		for _, h := range m.Headers {
			if h.Name == "X-Lethe-Template" && h.Value == template {
				n++
			}
		}
	}
	return n
}

func (r *rig) requests() []request.Request {
	r.t.Helper()
	var all []request.Request
	for _, a := range r.man.Accounts {
		rs, _, err := r.sys.Ledger.ByAccount(r.ctx, a.ID, 100, "")
		if err != nil {
			r.t.Fatal(err)
		}
		all = append(all, rs...)
	}
	return all
}

func (r *rig) only(kind request.Kind) request.Request {
	r.t.Helper()
	var found []request.Request
	for _, q := range r.requests() {
		if q.Kind == kind {
			found = append(found, q)
		}
	}
	if len(found) != 1 {
		r.t.Fatalf("%d %s requests, want 1", len(found), kind)
	}
	return found[0]
}

func (r *rig) journal(ev events.SimpleEmailEvent) ledger.Inbound {
	r.t.Helper()
	e, err := r.sys.Ledger.Inbound(r.ctx, ev.Records[0].SES.Mail.MessageID)
	if err != nil {
		r.t.Fatal(err)
	}
	return e
}

// stored reports whether the raw message of ev is still in the inbound bucket.
func (r *rig) stored(ev events.SimpleEmailEvent) bool {
	r.t.Helper()
	_, err := r.env.S3.HeadObject(r.ctx, &s3.HeadObjectInput{Bucket: aws.String(r.env.Buckets["InboundMailBucket"]),
		Key: aws.String(intake.ObjectPrefix + ev.Records[0].SES.Mail.MessageID)})
	return err == nil
}

func (r *rig) accountStatus() string {
	r.t.Helper()
	a, err := r.sys.Store.Account(r.ctx, r.acct.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	return a.Status
}

func (r *rig) owner() string { return r.acct.FullName + " <" + r.env.Address("owner") + ">" }

func (r *rig) deletionBody() string {
	return "Hello,\n\nplease delete my account and all its data.\n\nFull name: " + r.acct.FullName +
		"\nAccount email: " + r.env.Address("owner") + "\n\nThanks\n"
}

var failing = map[string]string{localsmtp.VerdictHeader: "spf=FAIL, dkim=FAIL, dmarc=FAIL"}

var actionLink = regexp.MustCompile(`/v1/email-actions/([a-z0-9]+)`)

func TestAuthenticatedOwnerMailStartsTheDeletionOnceAndTheReplyCancelsIt(t *testing.T) {
	r := newRig(t)
	r.mustSend(mail{From: r.owner(), Subject: "Data deletion", Body: r.deletionBody()})
	ev := r.lastEvent()

	req := r.only(request.KindAccountDeletion)
	if req.Status != request.StatusSoftDeleted || req.Source != "email" {
		t.Fatalf("status %s source %s, want soft_deleted by email", req.Status, req.Source)
	}
	if want := time.Date(2026, 3, 10, 23, 59, 59, 999999999, msk); !req.Deadlines[request.DeadlineStartBy].Equal(want) {
		t.Errorf("start_by %v, want %v (5 business days)", req.Deadlines[request.DeadlineStartBy], want)
	}
	if got := r.accountStatus(); got == "active" {
		t.Errorf("account still %s after the soft delete", got)
	}
	if n := r.templateCount("owner", "account_deletion_confirmation"); n != 1 {
		t.Fatalf("%d confirmation mails, want 1", n)
	}
	if j := r.journal(ev); j.State != ledger.InboundDone || j.Outcome != intake.OutcomeRequestCreated || len(j.Requests) != 1 || j.Requests[0] != req.ID {
		t.Fatalf("journal %+v", j)
	}
	if r.stored(ev) {
		t.Error("the raw message is still in the inbound bucket after processing")
	}

	// SES delivers the same event again (a Lambda retry): nothing new.
	if err := r.sys.Intake.Handle(r.ctx, ev); err != nil {
		t.Fatal(err)
	}
	if err := r.eng.Settle(r.ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(r.requests()); n != 1 {
		t.Fatalf("%d requests after a redelivery, want 1", n)
	}
	if n := len(r.mailTo("owner")); n != 1 {
		t.Fatalf("%d mails after a redelivery, want 1", n)
	}
	if n := len(r.eng.Executions()); n != 1 {
		t.Fatalf("%d executions after a redelivery, want 1", n)
	}

	// Ten days later the owner replies to the confirmation: to its info+<token>@ Reply-To.
	confirmation := r.mailTo("owner")[0]
	if len(confirmation.ReplyTo) != 1 || !strings.HasPrefix(confirmation.ReplyTo[0], "info+") {
		t.Fatalf("reply-to %v", confirmation.ReplyTo)
	}
	if _, err := r.eng.Advance(r.ctx, 10*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	// A forged "reply": the confirmation's Message-ID in In-Reply-To (message ids leak), From the
	// owner, but failing authentication. It cancels nothing.
	r.mustSend(mail{From: r.owner(), Subject: "Re: " + confirmation.Subject, Body: "cancel", Headers: map[string]string{
		"In-Reply-To": "<" + confirmation.MessageID + "@email.amazonses.com>", localsmtp.VerdictHeader: "spf=FAIL, dkim=PASS, dmarc=FAIL"}})
	if st := r.only(request.KindAccountDeletion).Status; st != request.StatusSoftDeleted {
		t.Fatalf("an unauthenticated reply changed the request to %s", st)
	}
	if j := r.journal(r.lastEvent()); j.Kind != intake.KindReply || j.Outcome != intake.OutcomeIgnoredUntrusted {
		t.Fatalf("journal of the forged reply %+v", j)
	}
	r.mustSend(mail{From: r.owner(), To: confirmation.ReplyTo[0], Subject: "Re: " + confirmation.Subject,
		Body: "I changed my mind, keep the account.\n\n> " + strings.ReplaceAll(confirmation.Text, "\n", "\n> ")})
	req = r.only(request.KindAccountDeletion)
	if req.Status != request.StatusCancelled {
		t.Fatalf("status %s after the reply, want cancelled", req.Status)
	}
	if got := r.accountStatus(); got != "active" {
		t.Errorf("account %s after the cancel, want active", got)
	}
	if n := r.templateCount("owner", "account_deletion_cancelled"); n != 1 {
		t.Fatalf("%d cancelled mails, want 1", n)
	}
	if j := r.journal(r.lastEvent()); j.Kind != intake.KindReply || j.Outcome != intake.OutcomeCancelled {
		t.Fatalf("journal of the reply %+v", j)
	}
}

func TestReplyAfterTheWindowIsAnsweredTooLateOnce(t *testing.T) {
	r := newRig(t)
	r.mustSend(mail{From: r.owner(), Subject: "Удаление данных", Body: "Прошу удалить мою учётную запись.\nФИО: " + r.acct.FullName +
		"\nEmail: " + r.env.Address("owner") + "\n"})
	req := r.only(request.KindAccountDeletion)
	if req.Status != request.StatusSoftDeleted {
		t.Fatalf("status %s", req.Status)
	}
	confirmation := r.mailTo("owner")[0]
	// Past the window: the hard delete has begun.
	if _, err := r.eng.Advance(r.ctx, 30*24*time.Hour+time.Hour); err != nil {
		t.Fatal(err)
	}
	if st := r.only(request.KindAccountDeletion).Status; st == request.StatusSoftDeleted || st == request.StatusCancelled {
		t.Fatalf("status %s after the window", st)
	}
	before := len(r.mailTo("owner"))
	// Replied by In-Reply-To alone (the client dropped the plus-address), authenticated as the owner.
	reply := mail{From: r.owner(), Subject: "Re: " + confirmation.Subject, Body: "Отмените, пожалуйста!",
		Headers: map[string]string{"In-Reply-To": "<" + confirmation.MessageID + "@email.amazonses.com>"}}
	r.mustSend(reply)
	r.mustSend(reply)
	if st := r.only(request.KindAccountDeletion).Status; st == request.StatusCancelled {
		t.Fatal("a reply after the window cancelled the deletion")
	}
	if n := r.templateCount("owner", "cancel_too_late"); n != 1 {
		t.Fatalf("%d too-late answers, want exactly 1 for two late replies", n)
	}
	if got := len(r.mailTo("owner")) - before; got != 1 {
		t.Fatalf("%d mails to the owner after the late replies, want 1", got)
	}
	if j := r.journal(r.lastEvent()); j.Outcome != intake.OutcomeCancelTooLate {
		t.Fatalf("journal %+v", j)
	}
}

func TestSpoofedMailOnlyAsksTheAccountToConfirm(t *testing.T) {
	r := newRig(t)
	// The owner's address, but SPF, DKIM and DMARC fail: a forgery, as far as anyone can tell.
	r.mustSend(mail{From: r.owner(), Subject: "Data deletion", Body: r.deletionBody(), Headers: failing})
	req := r.only(request.KindAccountDeletion)
	if req.Status != request.StatusAwaitingVerification {
		t.Fatalf("status %s, want awaiting_verification", req.Status)
	}
	if req.ExecutionARN != "" || len(r.eng.Executions()) != 0 {
		t.Fatal("a workflow started for an unverified request")
	}
	if got := r.accountStatus(); got != "active" {
		t.Fatalf("account %s before any confirmation, want active", got)
	}
	if _, ok := req.Deadlines[request.DeadlineStartBy]; !ok {
		t.Error("no start deadline recorded for the unverified request")
	}
	mails := r.mailTo("owner")
	if len(mails) != 1 || r.templateCount("owner", "verification_request") != 1 {
		t.Fatalf("%d mails to the account's address, want the verification", len(mails))
	}
	// The same forged mail again: no second request, no second mail.
	r.mustSend(mail{From: r.owner(), Subject: "Data deletion", Body: r.deletionBody(), Headers: failing})
	if len(r.requests()) != 1 || len(r.mailTo("owner")) != 1 {
		t.Fatalf("%d requests, %d mails after a second forged mail", len(r.requests()), len(r.mailTo("owner")))
	}

	// The owner opens the link: now it starts.
	m := actionLink.FindStringSubmatch(mails[0].Text)
	if m == nil {
		t.Fatal("no link in the verification mail")
	}
	if _, action, err := r.sys.Requests.EmailAction(r.ctx, m[1], "link"); err != nil || action != "confirm" {
		t.Fatalf("confirm: %s %v", action, err)
	}
	if err := r.eng.Settle(r.ctx); err != nil {
		t.Fatal(err)
	}
	if st := r.only(request.KindAccountDeletion).Status; st != request.StatusSoftDeleted {
		t.Fatalf("status %s after the confirmation, want soft_deleted", st)
	}
	if n := r.templateCount("owner", "account_deletion_confirmation"); n != 1 {
		t.Fatalf("%d confirmation mails after the link, want 1", n)
	}
}

func TestAReplyToTheVerificationWithdrawsItNeverConfirms(t *testing.T) {
	r := newRig(t)
	r.mustSend(mail{From: r.owner(), Subject: "Data deletion", Body: r.deletionBody(), Headers: failing})
	verification := r.mailTo("owner")[0]
	// "I did not ask for this": a reply to the verification mail.
	r.mustSend(mail{From: r.owner(), To: verification.ReplyTo[0], Subject: "Re: " + verification.Subject, Body: "This was not me!"})
	req := r.only(request.KindAccountDeletion)
	if req.Status != request.StatusCancelled {
		t.Fatalf("status %s, want cancelled (withdrawn)", req.Status)
	}
	if len(r.eng.Executions()) != 0 || r.accountStatus() != "active" {
		t.Fatal("the reply set the deletion going")
	}
	// The link no longer starts anything.
	m := actionLink.FindStringSubmatch(verification.Text)
	if _, _, err := r.sys.Requests.EmailAction(r.ctx, m[1], "link"); err == nil {
		t.Fatal("the link confirmed a withdrawn request")
	}
}

func TestAThirdPartyLearnsNothingAndTheOwnerDecides(t *testing.T) {
	r := newRig(t)
	stranger := "Someone <stranger@" + r.env.MailDomain + ">"
	// Authenticated, but not from the account's address: the owner is asked, the sender gets the
	// neutral answer.
	r.mustSend(mail{From: stranger, Subject: "Data deletion", Body: r.deletionBody()})
	if st := r.only(request.KindAccountDeletion).Status; st != request.StatusAwaitingVerification {
		t.Fatalf("status %s", st)
	}
	if r.templateCount("owner", "verification_request") != 1 {
		t.Fatal("the account's owner was not asked to confirm")
	}
	known := r.mailTo("stranger")
	if len(known) != 1 || r.templateCount("stranger", "intake_received") != 1 {
		t.Fatalf("%d mails to the sender, want the neutral answer", len(known))
	}
	// Delivered again: no second answer, no second verification.
	if err := r.sys.Intake.Handle(r.ctx, r.lastEvent()); err != nil {
		t.Fatal(err)
	}
	if len(r.mailTo("stranger")) != 1 || len(r.mailTo("owner")) != 1 || len(r.requests()) != 1 {
		t.Fatalf("a redelivery answered again: %d to the sender, %d to the owner", len(r.mailTo("stranger")), len(r.mailTo("owner")))
	}
	// The same sender names an account that does not exist: the same answer, word for word but for
	// the reference.
	r.mustSend(mail{From: stranger, Subject: "Data deletion", Body: "Full name: Nobody Known\nAccount email: nobody@" + r.env.MailDomain + "\n"})
	unknown := r.mailTo("stranger")
	if len(unknown) != 2 {
		t.Fatalf("%d mails to the sender, want two neutral answers", len(unknown))
	}
	ref := regexp.MustCompile(`[0-9A-Z]{26}`)
	if a, b := ref.ReplaceAllString(unknown[0].Text, "REF"), ref.ReplaceAllString(unknown[1].Text, "REF"); a != b {
		t.Fatalf("the answers differ, so they tell whether the account exists:\n%s\n---\n%s", a, b)
	}
	if strings.Contains(unknown[0].Text+unknown[0].HTML, r.env.Address("owner")) {
		t.Fatal("the neutral answer names the account's address")
	}
	// Unauthenticated, about an unknown account: no answer at all (no backscatter).
	r.mustSend(mail{From: stranger, Subject: "Data deletion", Body: "Account email: ghost@" + r.env.MailDomain + "\n", Headers: failing})
	if n := len(r.mailTo("stranger")); n != 2 {
		t.Fatalf("%d mails to the sender after an unauthenticated mail, want no new one", n)
	}
	if j := r.journal(r.lastEvent()); j.Outcome != intake.OutcomeIgnoredUntrusted {
		t.Fatalf("journal %+v", j)
	}
}

func TestAWrongNameNeedsVerification(t *testing.T) {
	r := newRig(t)
	r.mustSend(mail{From: r.owner(), Subject: "Data deletion", Body: "Full name: Somebody Else\nAccount email: " + r.env.Address("owner") + "\n"})
	if st := r.only(request.KindAccountDeletion).Status; st != request.StatusAwaitingVerification {
		t.Fatalf("status %s, want awaiting_verification for a name that is not the owner's", st)
	}
	if r.templateCount("owner", "verification_request") != 1 || r.templateCount("owner", "intake_received") != 0 {
		t.Fatal("want exactly the verification mail")
	}
}

func TestMachinesAreNeverAnswered(t *testing.T) {
	r := newRig(t)
	for name, h := range map[string]map[string]string{
		"auto-submitted": {"Auto-Submitted": "auto-replied"},
		"x-autoreply":    {"X-Autoreply": "yes"},
		"bulk":           {"Precedence": "bulk"},
		"list":           {"List-Id": "<privacy.lists.example>"},
	} {
		r.mustSend(mail{From: r.owner(), Subject: "Re: Data deletion", Body: r.deletionBody(), Headers: h})
		if j := r.journal(r.lastEvent()); j.Outcome != intake.OutcomeIgnoredAutomatic {
			t.Errorf("%s: journal %+v", name, j)
		}
	}
	bounce := "--b1\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; x@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n--b1--\r\n"
	r.mustSend(mail{From: "MAILER-DAEMON@" + r.env.MailDomain, Subject: "Undelivered Mail: Data deletion", Body: bounce,
		Headers: map[string]string{"Content-Type": `multipart/report; report-type=delivery-status; boundary="b1"`}})
	if j := r.journal(r.lastEvent()); j.Outcome != intake.OutcomeIgnoredAutomatic || !strings.Contains(j.Kind, "automatic") {
		t.Errorf("bounce: journal %+v", j)
	}
	if n := len(r.requests()); n != 0 {
		t.Fatalf("%d requests from machine mail", n)
	}
	if mails := r.env.SentMail(t); len(mails) != 0 {
		t.Fatalf("%d mails sent in answer to machines", len(mails))
	}
}

// endUser is the first seeded end user of the account and their bot, as an end customer names them.
func (r *rig) endUser() (seed.ManifestEndUser, platform.EndUser, platform.Bot) {
	r.t.Helper()
	eu := r.acct.EndUsers[0]
	u, err := r.sys.Store.EndUser(r.ctx, eu.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	bot, err := r.sys.Store.Bot(r.ctx, r.acct.ID, eu.BotID)
	if err != nil {
		r.t.Fatal(err)
	}
	return eu, u, bot
}

func TestEndCustomerMailGoesToTheBotOwner(t *testing.T) {
	r := newRig(t)
	eu, u, bot := r.endUser()
	if u.Username == "" {
		t.Fatal("the seeded end user has no username")
	}
	customer := "Клиент <customer@" + r.env.MailDomain + ">"
	body := fmt.Sprintf("Здравствуйте!\nБот: %s\nИмя пользователя: @%s\nДата последнего сообщения: %s\n", bot.Name, u.Username,
		u.LastActiveAt.In(msk).Format("02.01.2006"))
	r.mustSend(mail{From: customer, Subject: "Fwd: Удаление данных — конечный клиент", Body: body})
	req := r.only(request.KindEndCustomerRequest)
	if req.Scope.EndUserID != eu.ID || req.Scope.BotID != eu.BotID || req.Status != request.StatusAwaitingVerification {
		t.Fatalf("request %+v", req.Scope)
	}
	if n := r.templateCount("customer", "end_customer_received"); n != 1 {
		t.Fatalf("%d acknowledgements to the customer, want 1", n)
	}
	// The same person again, same mail: one request.
	ev := r.lastEvent()
	if err := r.sys.Intake.Handle(r.ctx, ev); err != nil {
		t.Fatal(err)
	}
	if n := len(r.requests()); n != 1 {
		t.Fatalf("%d requests", n)
	}
	// Someone nobody can find: the neutral answer, no request.
	r.mustSend(mail{From: customer, Subject: "Data deletion - end customer", Body: fmt.Sprintf("Bot: %s\nUsername: @nobody_at_all\nDate of last message: 2026-02-20\n", bot.Name)})
	if n := len(r.requests()); n != 1 {
		t.Fatalf("%d requests after an unmatched mail", n)
	}
	if n := r.templateCount("customer", "intake_received"); n != 1 {
		t.Fatalf("%d neutral answers, want 1", n)
	}
	// Unauthenticated: ignored.
	r.mustSend(mail{From: customer, Subject: "Data deletion — end customer", Body: body, Headers: failing})
	if j := r.journal(r.lastEvent()); j.Outcome != intake.OutcomeIgnoredUntrusted {
		t.Fatalf("journal %+v", j)
	}
}

func TestConnectionWipeByMail(t *testing.T) {
	r := newRig(t)
	var conn seed.ManifestConnection
	for _, b := range r.acct.Bots {
		for _, c := range b.Connections {
			if conn.ID == "" {
				conn = c
			}
		}
	}
	if conn.ID == "" {
		t.Fatal("no connection seeded")
	}
	want := 0
	conns, err := r.sys.Store.Connections(r.ctx, r.acct.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range conns {
		if c.Channel == conn.Channel {
			want++
		}
	}
	r.mustSend(mail{From: r.owner(), Subject: "Data deletion", Body: fmt.Sprintf("Please wipe the %s connection of my bots.\nFull name: %s\nAccount email: %s\n",
		conn.Channel, r.acct.FullName, r.env.Address("owner"))})
	var wipes []request.Request
	for _, q := range r.requests() {
		if q.Kind == request.KindConnectionWipe {
			wipes = append(wipes, q)
		}
		if q.Kind == request.KindAccountDeletion {
			t.Fatal("a connection wipe became an account deletion")
		}
	}
	if len(wipes) != want {
		t.Fatalf("%d wipes, want one per %s connection (%d)", len(wipes), conn.Channel, want)
	}
	for _, w := range wipes {
		if w.Scope.Kind != datamap.ScopeConnection || w.Status != request.StatusCompleted {
			t.Errorf("wipe %s: scope %s status %s", w.ID, w.Scope.Kind, w.Status)
		}
		left, err := r.sys.Engine.Verify(r.ctx, w.Scope)
		if err != nil {
			t.Fatal(err)
		}
		if len(left) > 0 {
			t.Errorf("left after the wipe: %v", left)
		}
	}
	// The other account is untouched.
	other := r.man.Accounts[1]
	left, err := r.sys.Engine.Verify(r.ctx, platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: other.ID})
	if err != nil {
		t.Fatal(err)
	}
	if left[datamap.ChannelConnection] == 0 || left[datamap.EndUserProfile] == 0 {
		t.Fatalf("the other account lost data: %v", left)
	}
}

func TestAMessageThatKeepsFailingIsKeptAndReported(t *testing.T) {
	r := newRig(t)
	r.mustSend(mail{From: r.owner(), Subject: "Hello", Body: "not a request"})
	ev := r.lastEvent()
	ev.Records[0].SES.Mail.MessageID = "aaaabbbbccccddddeeeeffff0000111122223333"
	// The message is where the S3 action put it, but S3 cannot be read: every attempt fails.
	broken := *r.sys.Intake
	broken.Bucket = "no-such-bucket-" + strings.ToLower(r.env.MailDomain[:8])
	for i := 1; i <= intake.MaxAttempts; i++ {
		err := broken.Handle(r.ctx, ev)
		if err == nil {
			t.Fatalf("attempt %d succeeded", i)
		}
		// What Lambda logs names the failure, not the mail or where it lay.
		if strings.Contains(err.Error(), r.env.MailDomain) || strings.Contains(err.Error(), broken.Bucket) {
			t.Fatalf("the error says too much: %v", err)
		}
	}
	j := r.journal(ev)
	if j.State != ledger.InboundFailed || j.Attempts != intake.MaxAttempts || j.Error == "" {
		t.Fatalf("journal %+v", j)
	}
	if strings.Contains(j.Error, r.env.MailDomain) {
		t.Fatalf("the journal's error quotes the mail: %q", j.Error)
	}

	if n := r.templateCount("privacy", "workflow_failure_alert"); n != 1 {
		t.Fatalf("%d alerts to the privacy officer, want 1", n)
	}
	// Later deliveries do nothing more.
	if err := broken.Handle(r.ctx, ev); err != nil {
		t.Fatalf("a delivery after the final failure: %v", err)
	}
	if n := r.templateCount("privacy", "workflow_failure_alert"); n != 1 {
		t.Fatalf("%d alerts, want still 1", n)
	}
}

func TestBadEventsChangeNothing(t *testing.T) {
	r := newRig(t)
	for _, id := range []string{"", "../etc/passwd", "a/b", strings.Repeat("x", 300)} {
		ev := events.SimpleEmailEvent{Records: []events.SimpleEmailRecord{{SES: events.SimpleEmailService{Mail: events.SimpleEmailMessage{MessageID: id}}}}}
		err := r.sys.Intake.Handle(r.ctx, ev)
		if !errors.Is(err, intake.ErrBadEvent) {
			t.Errorf("id %q: %v, want ErrBadEvent", id, err)
		}
		if _, jerr := r.sys.Ledger.Inbound(r.ctx, id); !errors.Is(jerr, ledger.ErrNotFound) {
			t.Errorf("id %q journaled", id)
		}
	}
	if len(r.requests()) != 0 {
		t.Fatal("a bad event made a request")
	}
}

func TestALargeAttachmentIsParsedAndTheMailActedOn(t *testing.T) {
	r := newRig(t)
	blob := strings.Repeat(strings.Repeat("QUJD", 19)+"\r\n", 110_000) // ≈ 8.5 MB of base64
	body := "--mix\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + strings.ReplaceAll(r.deletionBody(), "\n", "\r\n") +
		"\r\n--mix\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"scan.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		blob + "--mix--\r\n"
	r.mustSend(mail{From: r.owner(), Subject: "Data deletion", Body: body, Headers: map[string]string{"Content-Type": `multipart/mixed; boundary="mix"`}})
	if st := r.only(request.KindAccountDeletion).Status; st != request.StatusSoftDeleted {
		t.Fatalf("status %s", st)
	}
	if r.stored(r.lastEvent()) {
		t.Error("the raw message was kept")
	}
}

// The same message delivered twice at the same moment (Lambda may run a duplicate event alongside
// the first): one attempt acts, the other is told to come back, and there is one answer.
func TestConcurrentDuplicatesAnswerOnce(t *testing.T) {
	r := newRig(t)
	m := mail{From: "Someone <stranger@" + r.env.MailDomain + ">", Subject: "Data deletion", Body: "Account email: nobody@" + r.env.MailDomain + "\n"}
	raw := r.raw(m)
	ev := events.SimpleEmailEvent{Records: []events.SimpleEmailRecord{{EventSource: "aws:ses", SES: events.SimpleEmailService{
		Mail: events.SimpleEmailMessage{MessageID: "dup0dup0dup0dup0dup0dup0dup0dup0dup0dup0", Timestamp: monday},
		Receipt: events.SimpleEmailReceipt{Timestamp: monday, Recipients: []string{r.sys.Config.InfoAddress},
			SPFVerdict: events.SimpleEmailVerdict{Status: "PASS"}, DKIMVerdict: events.SimpleEmailVerdict{Status: "PASS"}, DMARCVerdict: events.SimpleEmailVerdict{Status: "PASS"},
			SpamVerdict: events.SimpleEmailVerdict{Status: "PASS"}, VirusVerdict: events.SimpleEmailVerdict{Status: "PASS"}}}}}}
	if _, err := r.env.S3.PutObject(r.ctx, &s3.PutObjectInput{Bucket: aws.String(r.env.Buckets["InboundMailBucket"]),
		Key: aws.String(intake.ObjectPrefix + ev.Records[0].SES.Mail.MessageID), Body: strings.NewReader(raw)}); err != nil {
		t.Fatal(err)
	}
	const n = 6
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- r.sys.Intake.Handle(r.ctx, ev) }()
	}
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, intake.ErrInProgress):
			t.Fatalf("a duplicate failed otherwise: %v", err)
		}
	}
	if ok == 0 {
		t.Fatal("no attempt succeeded")
	}
	// The retries of the ones told to wait find it done.
	if err := r.sys.Intake.Handle(r.ctx, ev); err != nil {
		t.Fatal(err)
	}
	if got := r.templateCount("stranger", "intake_received"); got != 1 {
		t.Fatalf("%d answers to one message delivered %d times at once, want 1", got, n)
	}
	if j := r.journal(ev); j.State != ledger.InboundDone || !j.LeaseUntil.IsZero() {
		t.Fatalf("journal %+v", j)
	}
}

// The sample events of events/inbound-email, exactly as a receipt rule delivers them, drive the
// handler: the message they name (stored where the S3 action puts it) is acted on by their verdicts.
func TestTheSampleEventsDriveTheHandler(t *testing.T) {
	for file, want := range map[string]string{
		"ses-receipt.json":         intake.OutcomeRequestCreated,
		"ses-receipt-spoofed.json": intake.OutcomeVerificationSent,
	} {
		t.Run(file, func(t *testing.T) {
			r := newRig(t)
			data, err := os.ReadFile(filepath.Join("..", "..", "events", "inbound-email", file))
			if err != nil {
				t.Fatal(err)
			}
			var ev events.SimpleEmailEvent
			if err := json.Unmarshal(data, &ev); err != nil {
				t.Fatal(err)
			}
			if len(ev.Records) != 1 || ev.Records[0].EventSource != "aws:ses" {
				t.Fatalf("sample: %+v", ev)
			}
			raw := r.raw(mail{From: r.owner(), Subject: "Data deletion", Body: r.deletionBody()})
			if _, err := r.env.S3.PutObject(r.ctx, &s3.PutObjectInput{Bucket: aws.String(r.env.Buckets["InboundMailBucket"]),
				Key: aws.String(intake.ObjectPrefix + ev.Records[0].SES.Mail.MessageID), Body: strings.NewReader(raw)}); err != nil {
				t.Fatal(err)
			}
			if err := r.sys.Intake.Handle(r.ctx, ev); err != nil {
				t.Fatal(err)
			}
			if err := r.eng.Settle(r.ctx); err != nil {
				t.Fatal(err)
			}
			if j := r.journal(ev); j.Outcome != want {
				t.Fatalf("journal %+v, want %s", j, want)
			}
			if r.stored(ev) {
				t.Error("the raw message is still stored")
			}
		})
	}
}
