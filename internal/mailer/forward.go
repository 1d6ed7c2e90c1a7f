package mailer

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"net/mail"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

// ForwardTemplate is the X-Lethe-Template of a forwarded message.
const ForwardTemplate = "forward"

// Forward is a received message that is not for Lethe, passed on to a mailbox people read.
type Forward struct {
	To string // FORWARD_ADDRESS
	// Original is the message as received, byte for byte; it is attached unchanged.
	Original []byte
	// Subject and ReplyTo are the original's (decoded Subject, From address): the forward reads as
	// the original and a reply goes to its sender. ReplyTo is left out when it is not an address.
	Subject, ReplyTo string
}

// Forward sends f from the sender address: a short note, and the original attached as
// message/rfc822 exactly as it came (a forward from the original's own From would fail SES's
// identity check and the sender's DMARC). Auto-Submitted: auto-forwarded keeps responders quiet.
// It returns SES's message id.
func (m *Mailer) Forward(ctx context.Context, f Forward) (string, error) {
	if m.From == "" {
		return "", &MissingDataError{Template: ForwardTemplate, Field: "Mailer.From"}
	}
	if _, err := mail.ParseAddress(f.To); err != nil {
		return "", fmt.Errorf("%w: forward recipient: %v", ErrBadAddress, err)
	}
	if len(f.Original) == 0 {
		return "", &MissingDataError{Template: ForwardTemplate, Field: "Original"}
	}
	boundary, err := forwardBoundary(f.Original)
	if err != nil {
		return "", err
	}
	subject := strings.Join(strings.Fields(f.Subject), " ")
	var b bytes.Buffer
	header := func(name, value string) { fmt.Fprintf(&b, "%s: %s\r\n", name, value) }
	header("From", m.From)
	header("To", f.To)
	if a, err := mail.ParseAddress(f.ReplyTo); err == nil {
		header("Reply-To", a.String())
	}
	header("Subject", mime.QEncoding.Encode("utf-8", "Fwd: "+subject))
	header("MIME-Version", "1.0")
	header("Auto-Submitted", "auto-forwarded")
	header("X-Lethe-Template", ForwardTemplate)
	header("Content-Type", `multipart/mixed; boundary="`+boundary+`"`)
	b.WriteString("\r\n--" + boundary + "\r\n")
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	info := m.Info
	if info == "" {
		info = "info@"
	}
	fmt.Fprintf(&b, "Это письмо пришло на %s и не является запросом на удаление данных: оно приложено без изменений.\r\n"+
		"This message came to %s and is not a data deletion request: it is attached unchanged.\r\n", info, info)
	b.WriteString("\r\n--" + boundary + "\r\n")
	b.WriteString("Content-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"original.eml\"\r\n\r\n")
	b.Write(f.Original)
	if !bytes.HasSuffix(f.Original, []byte("\n")) {
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n--" + boundary + "--\r\n")

	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(m.From),
		Destination:      &types.Destination{ToAddresses: []string{f.To}},
		Content:          &types.EmailContent{Raw: &types.RawMessage{Data: b.Bytes()}},
	}
	if m.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(m.ConfigurationSet)
	}
	out, err := m.SES.SendEmail(ctx, in)
	if err != nil {
		return "", fmt.Errorf("forward a received message: %w", err)
	}
	return aws.ToString(out.MessageId), nil
}

// forwardBoundary is a MIME boundary that does not occur in the original.
func forwardBoundary(original []byte) (string, error) {
	for {
		var r [12]byte
		if _, err := rand.Read(r[:]); err != nil {
			return "", err
		}
		b := "lethe-fwd-" + hex.EncodeToString(r[:])
		if !bytes.Contains(original, []byte(b)) {
			return b, nil
		}
	}
}
