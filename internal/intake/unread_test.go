package intake_test

import (
	"bytes"
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/lethe-dev/lethe/internal/intake"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/obs"
	"github.com/lethe-dev/lethe/internal/request"
)

// A mail about deletion that the intake cannot read as a request is not dropped: its
// authenticated sender is told how to write one, once however often it is delivered, and it is
// counted.
func TestAMailNotUnderstoodIsAnsweredWithHowToWriteARequest(t *testing.T) {
	r := newRig(t)
	var metrics bytes.Buffer
	obs.SetOutput(&metrics)
	t.Cleanup(func() { obs.SetOutput(nil) })
	r.mustSend(mail{From: "Someone <stranger@" + r.env.MailDomain + ">", Subject: "A question",
		Body: "Hello, how can I get my data removed from your service?\n"})
	ev := r.lastEvent()
	if j := r.journal(ev); j.State != ledger.InboundDone || j.Outcome != intake.OutcomeNotUnderstood || j.Replied == "" {
		t.Fatalf("journal %+v", j)
	}
	if err := r.sys.Intake.Handle(r.ctx, ev); err != nil {
		t.Fatal(err)
	}
	got := r.mailTo("stranger")
	if len(got) != 1 {
		t.Fatalf("%d answers, want 1", len(got))
	}
	for _, want := range []string{`"Data deletion"`, `"Data deletion — end customer"`, "full name", "username"} {
		if !strings.Contains(got[0].Text, want) {
			t.Errorf("the answer does not say how to write a request (%q):\n%s", want, got[0].Text)
		}
	}
	if !strings.Contains(metrics.String(), `"InboundMail"`) || !strings.Contains(metrics.String(), `"Outcome":"not_understood"`) {
		t.Errorf("not counted: %s", metrics.String())
	}
	if n := len(r.requests()); n != 0 {
		t.Errorf("%d requests made", n)
	}
}

// Mail to info@ that is not about deletion is the company's: it is forwarded to FORWARD_ADDRESS
// with the original attached unchanged, once however often it is delivered, and Lethe keeps only
// its journal entry.
func TestMailThatIsNotAboutDeletionIsForwardedOnce(t *testing.T) {
	r := newRig(t)
	m := mail{From: "Bob Buyer <stranger@" + r.env.MailDomain + ">", Subject: "Счёт за ноябрь / invoice",
		Body: "Hello, please send the invoice for November again.\nСпасибо!\n"}
	r.mustSend(m)
	ev := r.lastEvent()
	if j := r.journal(ev); j.State != ledger.InboundDone || j.Outcome != intake.OutcomeForwarded || j.Replied == "" {
		t.Fatalf("journal %+v", j)
	}
	if err := r.sys.Intake.Handle(r.ctx, ev); err != nil {
		t.Fatal(err)
	}
	got := r.mailTo("office")
	if len(got) != 1 {
		t.Fatalf("%d forwards, want 1", len(got))
	}
	f := got[0]
	if f.Subject != "Fwd: "+m.Subject || len(f.ReplyTo) != 1 || !strings.Contains(f.ReplyTo[0], "stranger@"+r.env.MailDomain) {
		t.Errorf("forward: subject %q reply-to %v", f.Subject, f.ReplyTo)
	}
	var original []byte
	for _, a := range f.Attachments {
		if a.ContentType == "message/rfc822" {
			original = a.Content
		}
	}
	for _, want := range []string{"Subject: " + m.Subject, "Hello, please send the invoice for November again.\r\nСпасибо!\r\n"} {
		if !bytes.Contains(original, []byte(want)) {
			t.Errorf("the attached original lacks %q:\n%s", want, original)
		}
	}
	if len(r.mailTo("stranger")) != 0 {
		t.Error("the sender was answered")
	}
	if r.stored(ev) {
		t.Error("the raw message is still stored")
	}
}

// A request made from a mail is ordered in the ledger by when SES received the mail, not by the
// Date header its sender wrote.
func TestARequestTakesItsTimeFromReceiptNotFromTheDateHeader(t *testing.T) {
	r := newRig(t)
	raw := r.raw(mail{From: r.owner(), Subject: "Data deletion", Body: r.deletionBody()})
	now := r.eng.Clock().Now()
	raw = strings.Replace(raw, "Date: "+now.Format(time.RFC1123Z), "Date: "+now.Add(-6*24*time.Hour).Format(time.RFC1123Z), 1)
	if err := smtp.SendMail(r.smtp, nil, r.env.Address("owner"), []string{r.sys.Config.InfoAddress}, []byte(raw)); err != nil {
		t.Fatal(err)
	}
	if err := r.eng.Settle(r.ctx); err != nil {
		t.Fatal(err)
	}
	received := r.lastEvent().Records[0].SES.Mail.Timestamp
	req := r.only(request.KindAccountDeletion)
	id, err := ulid.ParseStrict(req.ID)
	if err != nil {
		t.Fatal(err)
	}
	if at := ulid.Time(id.Time()); !at.Equal(received.Truncate(time.Millisecond)) {
		t.Errorf("the request's id is of %v, the mail was received at %v", at.UTC(), received)
	}
}
