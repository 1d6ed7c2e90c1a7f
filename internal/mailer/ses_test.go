package mailer

import (
	"context"
	"strings"
	"testing"

	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/testenv"
)

// TestSendThroughTheSESEmulator sends real SES v2 requests to aws-ses-v2-local and reads back what
// it stored: what the SDK serializes (UTF-8 bodies, Reply-To, headers, attachments) is what arrives.
func TestSendThroughTheSESEmulator(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	m := &Mailer{SES: env.SES, From: "Lethe <" + env.Address("noreply") + ">", Info: env.Address("info"),
		BaseURL: "https://lethe.example"}

	owner, requester := env.Address("owner"), env.Address("requester")
	d := fullData()
	d.CancelURL = "/v1/email-actions/cancel-tok" // resolved against BaseURL

	confirmation := Mail{Template: AccountDeletionConfirmation, Locale: "ru", To: []string{owner}, ReplyToken: "cx7k2", Data: d}
	confirmationID, err := m.Send(ctx, confirmation)
	if err != nil {
		t.Fatal(err)
	}
	completed := Mail{Template: AccountDeletionCompleted, Locale: "en", To: []string{owner}, InReplyTo: confirmationID, Data: d}
	completedID, err := m.Send(ctx, completed)
	if err != nil {
		t.Fatal(err)
	}
	declined := Mail{Template: EndCustomerDeclined, Locale: "ru", To: []string{requester}, Data: d}
	declinedID, err := m.Send(ctx, declined)
	if err != nil {
		t.Fatal(err)
	}
	// Refused before sending: the emulator must not see it.
	if _, err := m.Send(ctx, Mail{Template: VerificationRequest, To: []string{owner}, Data: Data{RequestID: "req-42"}}); err == nil {
		t.Fatal("a verification request without a link was sent")
	}

	mails := env.SentMail(t)
	if len(mails) != 3 {
		t.Fatalf("the emulator holds %d mails of this test, want 3: %+v", len(mails), mails)
	}
	for i, tc := range []struct {
		id      string
		mail    Mail
		to      string
		replyTo string
		lang    string
		facts   []string
	}{
		{confirmationID, confirmation, owner, env.Address("info+cx7k2"), LocaleRU,
			[]string{"https://lethe.example/v1/email-actions/cancel-tok", "2 января 2027 г.", "ответьте на это письмо", "Диалоги"}},
		{completedID, completed, owner, env.Address("info"), LocaleEN,
			[]string{"Act of Destruction of Personal Data", "12,345", "act-req-42.json"}},
		{declinedID, declined, requester, env.Address("info"), LocaleRU,
			[]string{"переписка нужна для разбора претензии", "Роскомнадзор"}},
	} {
		got := mails[i]
		want, err := Render(tc.mail, m.BaseURL)
		if err != nil {
			t.Fatal(err)
		}
		if tc.id == "" || got.MessageID != tc.id {
			t.Errorf("%s: stored message id %q, Send returned %q", tc.mail.Template, got.MessageID, tc.id)
		}
		if got.From != m.From {
			t.Errorf("%s: From = %q", tc.mail.Template, got.From)
		}
		if len(got.To) != 1 || got.To[0] != tc.to || len(got.Cc)+len(got.Bcc) != 0 {
			t.Errorf("%s: To %v Cc %v Bcc %v, want %s", tc.mail.Template, got.To, got.Cc, got.Bcc, tc.to)
		}
		if len(got.ReplyTo) != 1 || got.ReplyTo[0] != tc.replyTo {
			t.Errorf("%s: Reply-To = %v, want %s", tc.mail.Template, got.ReplyTo, tc.replyTo)
		}
		if got.Subject != want.Subject || !strings.Contains(got.Subject, "req-42") || hasCyrillic(got.Subject) != (tc.lang == LocaleRU) {
			t.Errorf("%s: subject %q, want %q in %s", tc.mail.Template, got.Subject, want.Subject, tc.lang)
		}
		if got.Text != want.Text || got.HTML != want.HTML {
			t.Errorf("%s: the stored bodies differ from what Render writes", tc.mail.Template)
		}
		for _, f := range tc.facts {
			if !strings.Contains(got.Text, f) || !strings.Contains(got.HTML, htmlEscape(f)) {
				t.Errorf("%s: stored bodies lack %q", tc.mail.Template, f)
			}
		}
	}

	// The reply to the confirmation leads back to its token.
	if tok, ok := TokenFromAddress(m.Info, mails[0].ReplyTo[0]); !ok || tok != "cx7k2" {
		t.Errorf("token from the stored Reply-To = %q, %v", tok, ok)
	}
	// The final mail threads under the confirmation and carries the act as JSON.
	threaded := map[string]string{}
	for _, h := range mails[1].Headers {
		threaded[h.Name] = h.Value
	}
	wantRef := "<" + confirmationID + "@email.amazonses.com>"
	if threaded["In-Reply-To"] != wantRef || threaded["References"] != wantRef || threaded["Auto-Submitted"] != "auto-generated" {
		t.Errorf("headers = %v, want In-Reply-To and References %s", mails[1].Headers, wantRef)
	}
	if len(mails[1].Attachments) != 1 {
		t.Fatalf("the final mail has %d attachments", len(mails[1].Attachments))
	}
	a := mails[1].Attachments[0]
	act, err := evidence.ParseJSON(a.Content)
	if err != nil || a.Filename != "act-req-42.json" || a.ContentType != "application/json" || act.RequestID != "req-42" ||
		len(act.Destroyed) != len(d.Act.Destroyed) {
		t.Errorf("attachment %s (%s): %v, %+v", a.Filename, a.ContentType, err, act)
	}
	if len(mails[0].Attachments)+len(mails[2].Attachments) != 0 {
		t.Error("a mail other than the final one has an attachment")
	}
}
