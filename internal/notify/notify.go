// Package notify sends the mails of a deletion request, each once: whichever of the workflow, the
// dashboard's cancel or the mail intake sends a mail of a request, a second delivery sends nothing,
// the mails of one request form one thread, and action links carry fresh tokens. It also forgets the
// one contact address a request keeps once its last mail is sent.
package notify

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/mailer"
	"github.com/lethe-dev/lethe/internal/request"
)

// Mailer sends mail (internal/mailer).
type Mailer interface {
	Send(ctx context.Context, m mailer.Mail) (string, error)
}

// ErrMailNotSent marks a mail SES did not take: of a done request, the mail is sent again later
// rather than failing the task (a failed read, by contrast, fails it).
var ErrMailNotSent = errors.New("mail not sent")

// SendOnce sends a mail of a request unless the ledger says it was sent: a retried task or a
// redelivered mail sends it once. The SES message id is kept so that replies can be matched
// (In-Reply-To). With action set, the mail carries a fresh action token in its Reply-To and links
// (cancel, confirm).
func SendOnce(ctx context.Context, l *ledger.Ledger, mail Mailer, req request.Request, m mailer.Mail, action string) error {
	key := string(m.Template)
	if req.Mail[key] != "" {
		return nil
	}
	if m.Locale == "" {
		m.Locale = req.Locale
	}
	m.Data.RequestID, m.Data.RequestKind = req.ID, string(req.Kind)
	if m.Data.StatusURL == "" {
		m.Data.StatusURL = "/v1/deletion-requests/" + req.ID
	}
	m.Data.Timeline = timeline(req)
	m.InReplyTo = threadRoot(req) // the mails of one request form one thread
	if action != "" {
		tok, err := NewToken()
		if err != nil {
			return err
		}
		if err := l.PutReference(ctx, ledger.RefToken, tok, req.ID, action); err != nil {
			return err
		}
		m.ReplyToken = tok
		link := "/v1/email-actions/" + tok
		switch action {
		case "cancel":
			m.Data.CancelURL = link
		case "confirm":
			m.Data.ConfirmURL = link
		}
	}
	id, err := mail.Send(ctx, m)
	if err != nil {
		return fmt.Errorf("mail %s of %s: %w: %w", m.Template, req.ID, ErrMailNotSent, err)
	}
	if err := l.PutReference(ctx, ledger.RefMessage, id, req.ID, "reply"); err != nil {
		return err
	}
	_, err = l.Update(ctx, req.ID, func(r *request.Request) error {
		if r.Mail == nil {
			r.Mail = map[string]string{}
		}
		r.Mail[key] = id
		return nil
	})
	return err
}

// threadRoot is the SES message id of a request's first mail: the acknowledgement, or else the
// earliest other mail by template name, so the choice is stable.
func threadRoot(r request.Request) string {
	for _, t := range []mailer.Template{mailer.AccountDeletionConfirmation, mailer.EndCustomerReceived, mailer.VerificationRequest} {
		if id := r.Mail[string(t)]; id != "" {
			return id
		}
	}
	keys := make([]string, 0, len(r.Mail))
	for k := range r.Mail {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(keys) == 0 {
		return ""
	}
	return r.Mail[keys[0]]
}

// ForgetRequester drops the one contact address the ledger kept once its last mail is sent.
func ForgetRequester(ctx context.Context, l *ledger.Ledger, id string) error {
	_, err := l.Update(ctx, id, func(r *request.Request) error {
		r.Requester = ""
		return nil
	})
	return err
}

// timeline is the request's dates in the order a reader follows them.
func timeline(r request.Request) []mailer.Milestone {
	out := []mailer.Milestone{{Name: mailer.MilestoneReceived, At: r.CreatedAt}}
	for _, name := range []string{request.DeadlineStartBy, request.DeadlineSoftDeleteEnds, request.DeadlineHardDeleteBy, request.DeadlineEscalateAt, request.DeadlineCompleteBy, request.DeadlineBackupsRotatedBy} {
		if at, ok := r.Deadlines[name]; ok {
			out = append(out, mailer.Milestone{Name: name, At: at})
		}
	}
	return out
}

// NewToken is an unguessable action token: lower-case base32, so that mail systems that change the
// case of an address cannot break it.
func NewToken() (string, error) {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)), nil
}
