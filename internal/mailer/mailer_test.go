package mailer

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/lethe-dev/lethe/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// fakeSES records what it was asked to send.
type fakeSES struct {
	sent []*sesv2.SendEmailInput
	err  error
}

func (f *fakeSES) SendEmail(_ context.Context, in *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	f.sent = append(f.sent, in)
	return &sesv2.SendEmailOutput{MessageId: aws.String("0100-msg-1")}, nil
}

func header(in *sesv2.SendEmailInput, name string) (string, bool) {
	for _, h := range in.Content.Simple.Headers {
		if strings.EqualFold(aws.ToString(h.Name), name) {
			return aws.ToString(h.Value), true
		}
	}
	return "", false
}

func TestSendBuildsTheSESRequest(t *testing.T) {
	ses := &fakeSES{}
	m := &Mailer{SES: ses, From: "Lethe <noreply@example.com>", Info: "info@example.com",
		BaseURL: "https://lethe.example", ConfigurationSet: "lethe-events"}
	id, err := m.Send(context.Background(), Mail{
		Template: AccountDeletionCompleted, Locale: "en", To: []string{"ivan@example.com"},
		ReplyToken: "tok_123", InReplyTo: "0100-first", Data: fullData(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if id != "0100-msg-1" || len(ses.sent) != 1 {
		t.Fatalf("id %q, %d sent", id, len(ses.sent))
	}
	in := ses.sent[0]
	if got := aws.ToString(in.FromEmailAddress); got != "Lethe <noreply@example.com>" {
		t.Errorf("From = %q", got)
	}
	if got := in.Destination.ToAddresses; len(got) != 1 || got[0] != "ivan@example.com" {
		t.Errorf("To = %v", got)
	}
	if got := in.ReplyToAddresses; len(got) != 1 || got[0] != "info+tok_123@example.com" {
		t.Errorf("Reply-To = %v", got)
	}
	if got := aws.ToString(in.ConfigurationSetName); got != "lethe-events" {
		t.Errorf("configuration set = %q", got)
	}
	s := in.Content.Simple
	want, _ := Render(Mail{Template: AccountDeletionCompleted, Locale: "en", Data: fullData()}, "")
	for name, c := range map[string]*types.Content{"subject": s.Subject, "text": s.Body.Text, "html": s.Body.Html} {
		if aws.ToString(c.Charset) != "UTF-8" {
			t.Errorf("%s charset = %q", name, aws.ToString(c.Charset))
		}
	}
	if aws.ToString(s.Subject.Data) != want.Subject || aws.ToString(s.Body.Text.Data) != want.Text || aws.ToString(s.Body.Html.Data) != want.HTML {
		t.Error("the request does not carry what Render writes")
	}
	for name, value := range map[string]string{
		"In-Reply-To":    "<0100-first@email.amazonses.com>",
		"References":     "<0100-first@email.amazonses.com>",
		"Auto-Submitted": "auto-generated",
	} {
		if got, _ := header(in, name); got != value {
			t.Errorf("%s = %q, want %q", name, got, value)
		}
	}
	if len(s.Attachments) != 1 || aws.ToString(s.Attachments[0].FileName) != "act-req-42.json" ||
		aws.ToString(s.Attachments[0].ContentType) != "application/json" || len(s.Attachments[0].RawContent) == 0 {
		t.Errorf("attachments = %+v", s.Attachments)
	}
}

func TestSendReplyToAndThreading(t *testing.T) {
	for _, tc := range []struct {
		name       string
		info       string
		token      string
		domain     string
		inReplyTo  string
		replyTo    []string
		inReplyHdr string
	}{
		{name: "replies go to info", info: "info@example.com", replyTo: []string{"info@example.com"}},
		{name: "no info, no reply-to", replyTo: nil},
		{name: "token", info: "Support <info@example.com>", token: "abc", replyTo: []string{"info+abc@example.com"}},
		{name: "regional message id", info: "info@example.com", domain: "eu-central-1.amazonses.com", inReplyTo: "0107-x",
			replyTo: []string{"info@example.com"}, inReplyHdr: "<0107-x@eu-central-1.amazonses.com>"},
		{name: "full message id kept", info: "info@example.com", inReplyTo: "<abc@mail.example>",
			replyTo: []string{"info@example.com"}, inReplyHdr: "<abc@mail.example>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ses := &fakeSES{}
			m := &Mailer{SES: ses, From: "noreply@example.com", Info: tc.info, MessageIDDomain: tc.domain}
			_, err := m.Send(context.Background(), Mail{Template: AccountDeletionCancelled, To: []string{"a@example.com"},
				ReplyToken: tc.token, InReplyTo: tc.inReplyTo, Data: fullData()})
			if err != nil {
				t.Fatal(err)
			}
			in := ses.sent[0]
			if strings.Join(in.ReplyToAddresses, ",") != strings.Join(tc.replyTo, ",") {
				t.Errorf("Reply-To = %v, want %v", in.ReplyToAddresses, tc.replyTo)
			}
			got, ok := header(in, "In-Reply-To")
			if got != tc.inReplyHdr || ok != (tc.inReplyHdr != "") {
				t.Errorf("In-Reply-To = %q, want %q", got, tc.inReplyHdr)
			}
			if in.ConfigurationSetName != nil {
				t.Error("a configuration set was named without one configured")
			}
		})
	}
}

func TestSendRefusesBeforeSending(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mailer Mailer
		mail   Mail
		want   error
	}{
		{"no recipients", Mailer{From: "n@example.com"}, Mail{Template: AccountDeletionCancelled, Data: fullData()}, ErrMissingData},
		{"no sender", Mailer{}, Mail{Template: AccountDeletionCancelled, To: []string{"a@example.com"}, Data: fullData()}, ErrMissingData},
		{"missing data", Mailer{From: "n@example.com"},
			Mail{Template: AccountDeletionConfirmation, To: []string{"a@example.com"}, Data: Data{RequestID: "r"}}, ErrMissingData},
		{"too late without the restore window's end", Mailer{From: "n@example.com"},
			Mail{Template: CancelTooLate, To: []string{"a@example.com"}, Data: Data{RequestID: "r",
				Timeline: []Milestone{{MilestoneHardDeleteBy, hardBy}, {MilestoneBackupsRotatedBy, backupsBy}}}}, ErrMissingData},
		{"intake without a request id", Mailer{From: "n@example.com"},
			Mail{Template: IntakeReceived, To: []string{"a@example.com"}, Data: Data{AccountEmail: "ivan@example.com"}}, ErrMissingData},
		{"bad recipient", Mailer{From: "n@example.com"},
			Mail{Template: AccountDeletionCancelled, To: []string{"not an address"}, Data: fullData()}, ErrBadAddress},
		{"bad token", Mailer{From: "n@example.com", Info: "info@example.com"},
			Mail{Template: AccountDeletionCancelled, To: []string{"a@example.com"}, ReplyToken: "a b", Data: fullData()}, ErrBadToken},
		{"token without info", Mailer{From: "n@example.com"},
			Mail{Template: AccountDeletionCancelled, To: []string{"a@example.com"}, ReplyToken: "abc", Data: fullData()}, ErrBadAddress},
		{"header injection", Mailer{From: "n@example.com"},
			Mail{Template: AccountDeletionCancelled, To: []string{"a@example.com"}, InReplyTo: "x\r\nBcc: evil@example.com", Data: fullData()}, ErrBadMessageID},
		{"unknown template", Mailer{From: "n@example.com"}, Mail{Template: "nope", To: []string{"a@example.com"}, Data: fullData()}, ErrUnknownTemplate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ses := &fakeSES{}
			tc.mailer.SES = ses
			id, err := tc.mailer.Send(context.Background(), tc.mail)
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if id != "" || len(ses.sent) != 0 {
				t.Errorf("sent %d mails (id %q)", len(ses.sent), id)
			}
		})
	}
}

func TestSendWrapsSESErrors(t *testing.T) {
	boom := errors.New("throttled")
	m := &Mailer{SES: &fakeSES{err: boom}, From: "n@example.com"}
	_, err := m.Send(context.Background(), Mail{Template: AccountDeletionCancelled, To: []string{"a@example.com"}, Data: fullData()})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "req-42") {
		t.Errorf("err = %v", err)
	}
}

func TestReplyAddressRoundTrip(t *testing.T) {
	for _, tc := range []struct{ info, token, want string }{
		{"info@example.com", "abc123", "info+abc123@example.com"},
		{"Support <info@example.com>", "A_b-C", "info+A_b-C@example.com"},
		{"privacy.team@mail.example.ru", "t", "privacy.team+t@mail.example.ru"},
	} {
		got, err := ReplyAddress(tc.info, tc.token)
		if err != nil || got != tc.want {
			t.Errorf("ReplyAddress(%q, %q) = %q, %v; want %q", tc.info, tc.token, got, err, tc.want)
			continue
		}
		if tok, ok := TokenFromAddress(tc.info, got); !ok || tok != tc.token {
			t.Errorf("TokenFromAddress(%q, %q) = %q, %v", tc.info, got, tok, ok)
		}
	}
}

func TestReplyAddressRefuses(t *testing.T) {
	for _, tc := range []struct {
		info, token string
		want        error
	}{
		{"info@example.com", "", ErrBadToken},
		{"info@example.com", "a+b", ErrBadToken},
		{"info@example.com", "a@b", ErrBadToken},
		{"info@example.com", "a b", ErrBadToken},
		{"info@example.com", "a\r\nBcc: x", ErrBadToken},
		{"info@example.com", strings.Repeat("x", 60), ErrBadToken}, // local part over 64
		{"", "abc", ErrBadAddress},
		{"info", "abc", ErrBadAddress},
	} {
		if _, err := ReplyAddress(tc.info, tc.token); !errors.Is(err, tc.want) {
			t.Errorf("ReplyAddress(%q, %q) err = %v, want %v", tc.info, tc.token, err, tc.want)
		}
	}
}

func TestTokenFromAddress(t *testing.T) {
	const info = "info@example.com"
	for _, tc := range []struct {
		addr  string
		token string
		ok    bool
	}{
		{"info+abc@example.com", "abc", true},
		{"INFO+abc@EXAMPLE.COM", "abc", true}, // local part and domain in any case
		{"Info+AbC@example.com", "AbC", true}, // the token as it came
		{"Ivan <info+abc@example.com>", "abc", true},
		{"<info+abc@example.com>", "abc", true},
		{"info@example.com", "", false},         // no token
		{"info+@example.com", "", false},        // empty token
		{"info+abc@example.org", "", false},     // another domain
		{"infox+abc@example.com", "", false},    // another mailbox
		{"sales+abc@example.com", "", false},    // another mailbox
		{"info+abc+def@example.com", "", false}, // not a token we make
		{"x.info+abc@example.com", "", false},   // prefix elsewhere
		{"not an address", "", false},
		{"", "", false},
	} {
		tok, ok := TokenFromAddress(info, tc.addr)
		if tok != tc.token || ok != tc.ok {
			t.Errorf("TokenFromAddress(%q) = %q, %v; want %q, %v", tc.addr, tok, ok, tc.token, tc.ok)
		}
	}
	if _, ok := TokenFromAddress("bad", "info+abc@example.com"); ok {
		t.Error("a bad info address matched")
	}
}
