package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/mail"
	"strings"
	"testing"
	"time"
)

// Mail is one message the SES emulator accepted, as its /store lists it.
type Mail struct {
	MessageID   string // the id SendEmail returned
	From        string // as sent, display name included ("Lethe <noreply@example.com>")
	ReplyTo     []string
	To, Cc, Bcc []string
	Subject     string
	Text, HTML  string // the bodies; "" when absent
	Headers     []Header
	Attachments []Attachment
	At          time.Time // second precision
}

// Header is an extra header the sender set.
type Header struct{ Name, Value string }

// Attachment is one attached file.
type Attachment struct {
	Filename    string
	ContentType string
	Size        int
	Content     []byte
}

// storedMail mirrors the emulator's JSON (aws-ses-v2-local 2.10.2, GET /store).
type storedMail struct {
	MessageID   string   `json:"messageId"`
	From        string   `json:"from"`
	ReplyTo     []string `json:"replyTo"`
	Destination struct {
		To  []string `json:"to"`
		Cc  []string `json:"cc"`
		Bcc []string `json:"bcc"`
	} `json:"destination"`
	Subject string `json:"subject"`
	Body    struct {
		HTML string `json:"html"`
		Text string `json:"text"`
	} `json:"body"`
	Attachments []struct {
		Content     []byte `json:"content"` // base64 in the JSON
		ContentType string `json:"contentType"`
		Filename    string `json:"filename"`
		Size        int    `json:"size"`
	} `json:"attachments"`
	Headers []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"headers"`
	At int64 `json:"at"`
}

// SentMail returns, oldest first, the mail sent so far in which any address (from, reply-to, to, cc,
// bcc) is at e.MailDomain. The emulator is shared by every test of the run, so a test addresses its
// mail with e.Address to see only its own.
func (e *Env) SentMail(t testing.TB) []Mail {
	t.Helper()
	all := e.AllSentMail(t)
	var mine []Mail
	for _, m := range all {
		if m.involves(e.MailDomain) {
			mine = append(mine, m)
		}
	}
	return mine
}

// AllSentMail returns every mail the emulator holds, whichever test sent it, oldest first.
func (e *Env) AllSentMail(t testing.TB) []Mail {
	t.Helper()
	mails, err := fetchStore(context.Background(), e.SESEndpoint)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return mails
}

func fetchStore(ctx context.Context, endpoint string) ([]Mail, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/store", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read the SES emulator's store: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("read the SES emulator's store: %s", resp.Status)
	}
	var store struct {
		Emails []storedMail `json:"emails"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&store); err != nil {
		return nil, fmt.Errorf("decode the SES emulator's store: %w", err)
	}
	mails := make([]Mail, 0, len(store.Emails))
	for _, s := range store.Emails {
		m := Mail{
			MessageID: s.MessageID,
			From:      s.From,
			ReplyTo:   s.ReplyTo,
			To:        s.Destination.To,
			Cc:        s.Destination.Cc,
			Bcc:       s.Destination.Bcc,
			Subject:   s.Subject,
			Text:      s.Body.Text,
			HTML:      s.Body.HTML,
			At:        time.Unix(s.At, 0),
		}
		for _, h := range s.Headers {
			m.Headers = append(m.Headers, Header{Name: h.Name, Value: h.Value})
		}
		for _, a := range s.Attachments {
			m.Attachments = append(m.Attachments, Attachment{
				Filename: a.Filename, ContentType: a.ContentType, Size: a.Size, Content: a.Content,
			})
		}
		mails = append(mails, m)
	}
	return mails, nil
}

func (m Mail) involves(domain string) bool {
	addrs := append([]string{m.From}, m.ReplyTo...)
	addrs = append(addrs, m.To...)
	addrs = append(addrs, m.Cc...)
	addrs = append(addrs, m.Bcc...)
	for _, a := range addrs {
		if p, err := mail.ParseAddress(a); err == nil {
			a = p.Address
		}
		if _, d, ok := strings.Cut(a, "@"); ok && strings.EqualFold(strings.TrimRight(d, ">"), domain) {
			return true
		}
	}
	return false
}

// StoredMail reads every mail the SES emulator at endpoint holds, oldest first: for a harness that
// runs its own emulator (the whole local system) rather than the package's.
func StoredMail(ctx context.Context, endpoint string) ([]Mail, error) {
	return fetchStore(ctx, endpoint)
}
