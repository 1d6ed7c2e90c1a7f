// Package mailer writes and sends every email Lethe sends — confirmations, notices to bot owners and
// the privacy officer, final mails with the act of destruction, alerts — in Russian and English, as
// plain text and HTML, through SES v2.
//
// Render is pure (Mail in, subject and bodies out), so every wording is testable without SES; Send
// renders, checks that the template got every fact it must state, and only then calls SendEmail, so
// a mail that would promise a date or a link it does not have is never sent.
package mailer

import (
	"context"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/lerr"
	"github.com/lethe-dev/lethe/internal/request"
)

// SESv2 is the one SES v2 call the mailer makes; *sesv2.Client satisfies it.
type SESv2 interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, optFns ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// Mailer sends rendered mail from one sender address.
type Mailer struct {
	SES  SESv2
	From string // SENDER_ADDRESS, optionally with a display name: "Lethe <noreply@example.com>"
	// Info is INFO_ADDRESS (info@example.com). Replies go there: to info+<token>@example.com when
	// the mail carries a ReplyToken, so the reply can be matched to its request.
	Info             string
	BaseURL          string // PUBLIC_BASE_URL: relative links in Data are resolved against it
	ConfigurationSet string // optional SES configuration set (event publishing)
	// MessageIDDomain is the domain SES puts in the Message-ID header of what it sends:
	// "email.amazonses.com" in us-east-1 (the default), "<region>.amazonses.com" elsewhere. It turns
	// the message id SendEmail returned into the In-Reply-To a mail client threads on.
	MessageIDDomain string
}

// Template names one kind of mail.
type Template string

// Every mail Lethe sends.
const (
	// AccountDeletionConfirmation: the request was received; what will be deleted, what is kept
	// and why, every date of the timeline, and how to cancel (reply, or the cancel link).
	AccountDeletionConfirmation Template = "account_deletion_confirmation"
	// AccountDeletionCancelled: the deletion was cancelled and the account restored.
	AccountDeletionCancelled Template = "account_deletion_cancelled"
	// CancelTooLate: to the account owner who asked to cancel (replied, or opened the cancel link)
	// after the restore window ended: the deletion can no longer be cancelled; when the window
	// ended, by when the data are deleted and gone from backups, and that the act will follow.
	CancelTooLate Template = "cancel_too_late"
	// AccountDeleted: the hard delete is done and verified; backups rotate by a date.
	AccountDeleted Template = "account_deleted"
	// AccountDeletionCompleted: the final mail, with the act of destruction in the body and as a
	// JSON attachment.
	AccountDeletionCompleted Template = "account_deletion_completed"
	// EndUserDeletionDone: to the admin who ran a Privacy-module deletion, with counts.
	EndUserDeletionDone Template = "end_user_deletion_done"
	// ConnectionWiped: to the account owner, a revoked channel connection's data were deleted.
	ConnectionWiped Template = "connection_wiped"
	// EndCustomerOwnerNotice: to a bot owner, an end customer asks for deletion; decide in the
	// dashboard before the escalation date.
	EndCustomerOwnerNotice Template = "end_customer_owner_notice"
	// EndCustomerEscalation: to the privacy officer, the owner did not answer within 10 business days.
	EndCustomerEscalation Template = "end_customer_escalation"
	// EndCustomerReceived: to the end customer, the request was received; what happens and when.
	EndCustomerReceived Template = "end_customer_received"
	// EndCustomerApproved: to the end customer, approved and done.
	EndCustomerApproved Template = "end_customer_approved"
	// EndCustomerDeclined: to the end customer, declined, why, and how to complain.
	EndCustomerDeclined Template = "end_customer_declined"
	// VerificationRequest: a mailed request could not be trusted; nothing happens until confirmed.
	VerificationRequest Template = "verification_request"
	// IntakeReceived: the neutral answer to an authenticated sender who asked info@ for deletion
	// when Lethe must not reveal whether an account exists (none is known, or the sender is not
	// its address): received; if it concerns data on the platform, the registered address was
	// written to. It states the request id and nothing else about the request: no name, no address.
	IntakeReceived Template = "intake_received"
	// WorkflowFailureAlert: to the privacy officer, a request's workflow failed; no personal data.
	WorkflowFailureAlert Template = "workflow_failure_alert"
	// DeadlineMissed: to the privacy officer, an open request passed a deadline of SPEC §3 (found by
	// the hourly SLA sweep): which deadline, when it was due, the request's state; no personal data.
	DeadlineMissed Template = "deadline_missed"
	// RetentionReport: to the privacy officer, monthly: what the retention sweep's runs of a month
	// deleted and repaired per category, and the oldest personal item of each category still
	// stored, against the date its retention ends. Counts and dates only.
	RetentionReport Template = "retention_report"
)

// Templates lists every template, in the order above.
var Templates = []Template{AccountDeletionConfirmation, AccountDeletionCancelled, CancelTooLate,
	AccountDeleted, AccountDeletionCompleted, EndUserDeletionDone, ConnectionWiped,
	EndCustomerOwnerNotice, EndCustomerEscalation, EndCustomerReceived, EndCustomerApproved,
	EndCustomerDeclined, VerificationRequest, IntakeReceived, WorkflowFailureAlert, DeadlineMissed, RetentionReport}

// Milestone names: the request's deadlines (declared with the request's timeline), and when it was
// received; each has a wording in both languages.
const (
	MilestoneReceived         = "received"
	MilestoneSoftDeleteEnds   = request.DeadlineSoftDeleteEnds
	MilestoneHardDeleteBy     = request.DeadlineHardDeleteBy
	MilestoneBackupsRotatedBy = request.DeadlineBackupsRotatedBy
	MilestoneStartBy          = request.DeadlineStartBy
	MilestoneCompleteBy       = request.DeadlineCompleteBy
	MilestoneEscalateAt       = request.DeadlineEscalateAt
	MilestoneDecideBy         = request.DeadlineDecideBy
	MilestoneFinalMailBy      = request.DeadlineFinalMailBy
)

// Milestone is one date of a request's timeline. A name without a wording is shown as it is.
type Milestone struct {
	Name string
	At   time.Time
}

// Kept is data in scope that is kept, and why.
type Kept struct {
	Category string // data-map category
	Reason   string // evidence.Kept* constant
}

// Data is every fact a mail may state; each template says which it requires.
type Data struct {
	RequestID     string
	RequestKind   string // ledger kind ("account_deletion" …), optional; named via evidence.RequestKindTitle
	RecipientName string // greeting, optional
	AccountEmail  string
	Timeline      []Milestone
	Deleted       []string // data-map categories that will be / were destroyed
	Kept          []Kept
	// Counts are destroyed items per data-map category, plus "s3_objects". A nil map is missing
	// data; an empty one means nothing matched.
	Counts                                        map[string]int64
	CancelURL, ConfirmURL, DecisionURL, StatusURL string
	Act                                           *evidence.Record
	// ActURL is a signed link to Act that opens without a login (evidence.ActLinks), valid until
	// ActURLExpires; the final mail gives it when set.
	ActURL                       string
	ActURLExpires                time.Time
	BotName, Channel, EndUserRef string
	Reason                       string // decline reason
	State, Error                 string // failure alert; State also in DeadlineMissed
	// Deadline names the milestone of Timeline a DeadlineMissed alert is about.
	Deadline string
	// Retention is the month a RetentionReport covers.
	Retention *RetentionSummary
}

// RetentionSummary is what the retention sweep did in one calendar month (Moscow time).
type RetentionSummary struct {
	// Month is any instant of the month reported.
	Month time.Time
	// Runs is the number of sweep runs that finished in the month.
	Runs int
	// AsOf is when the month's last run finished: the oldest dates are what it saw.
	AsOf time.Time
	// Categories are the counts per data-map category.
	Categories map[string]RetentionCounts
}

// RetentionCounts is one category's line of a RetentionReport.
type RetentionCounts struct {
	Deleted, Objects, Repaired, Unrepairable int64
	// Oldest is the retention anchor of the oldest personal item of the category left stored.
	Oldest *time.Time
}

// CountS3Objects is the Counts key of objects deleted from S3.
const CountS3Objects = "s3_objects"

// Mail is one mail to send.
type Mail struct {
	Template Template
	Locale   string // "ru" (default) or "en"; anything else is Russian
	To       []string
	// ReplyToken, if set, makes Reply-To the Info address plus-addressed with it, so that a reply
	// (cancelling a deletion, say) leads back to its request.
	ReplyToken string
	// InReplyTo is the SES message id of an earlier mail of the same request: sets In-Reply-To and
	// References so the mails of one request form one thread.
	InReplyTo string
	Data      Data
}

// ErrMissingData matches every MissingDataError.
var ErrMissingData = lerr.New(lerr.EINCOMPLETE, "mailer: missing data")

// MissingDataError says which fact a template needs was not given; nothing is sent.
type MissingDataError struct {
	Template Template
	Field    string
}

func (e *MissingDataError) Error() string {
	return fmt.Sprintf("mailer: %s: missing data: %s", e.Template, e.Field)
}

// Unwrap gives the error ErrMissingData's code.
func (e *MissingDataError) Unwrap() error { return ErrMissingData }

// Is makes errors.Is(err, ErrMissingData) true.
func (e *MissingDataError) Is(target error) bool { return target == ErrMissingData }

// Other errors a mail can be refused with before anything is sent.
var (
	ErrUnknownTemplate = lerr.New(lerr.EINTERNAL, "mailer: unknown template")
	ErrBadAddress      = lerr.New(lerr.EINTERNAL, "mailer: bad address")
	ErrBadToken        = lerr.New(lerr.EINTERNAL, "mailer: bad reply token")
	ErrBadURL          = lerr.New(lerr.EINTERNAL, "mailer: bad link")
	ErrBadMessageID    = lerr.New(lerr.EINTERNAL, "mailer: bad message id")
)

// Send renders the mail and sends it through SES v2 as Simple content; it returns SES's message id.
// Nothing is sent when data are missing or an address is bad.
func (m *Mailer) Send(ctx context.Context, ml Mail) (string, error) {
	if m.From == "" {
		return "", &MissingDataError{Template: ml.Template, Field: "Mailer.From"}
	}
	if len(ml.To) == 0 {
		return "", &MissingDataError{Template: ml.Template, Field: "To"}
	}
	for _, a := range ml.To {
		if _, err := mail.ParseAddress(a); err != nil {
			return "", fmt.Errorf("%w: recipient %q: %v", ErrBadAddress, a, err)
		}
	}
	r, err := Render(ml, m.BaseURL)
	if err != nil {
		return "", err
	}

	var replyTo []string
	switch {
	case ml.ReplyToken != "":
		a, err := ReplyAddress(m.Info, ml.ReplyToken)
		if err != nil {
			return "", err
		}
		replyTo = []string{a}
	case m.Info != "":
		// Replies go to a mailbox people read, never to the no-reply sender.
		replyTo = []string{m.Info}
	}

	utf8 := func(s string) *types.Content {
		return &types.Content{Data: aws.String(s), Charset: aws.String("UTF-8")}
	}
	msg := &types.Message{
		Subject: utf8(r.Subject),
		Body:    &types.Body{Text: utf8(r.Text), Html: utf8(r.HTML)},
		Headers: []types.MessageHeader{
			// RFC 3834: auto-responders must not answer, so no mail loop with info@ can start.
			{Name: aws.String("Auto-Submitted"), Value: aws.String("auto-generated")},
			{Name: aws.String("X-Lethe-Template"), Value: aws.String(string(ml.Template))},
		},
	}
	if ml.InReplyTo != "" {
		id, err := m.messageID(ml.InReplyTo)
		if err != nil {
			return "", err
		}
		msg.Headers = append(msg.Headers,
			types.MessageHeader{Name: aws.String("In-Reply-To"), Value: aws.String(id)},
			types.MessageHeader{Name: aws.String("References"), Value: aws.String(id)})
	}
	for _, a := range r.Attachments {
		msg.Attachments = append(msg.Attachments, types.Attachment{
			FileName:                aws.String(a.Name),
			ContentType:             aws.String(a.ContentType),
			RawContent:              a.Content,
			ContentDisposition:      types.AttachmentContentDispositionAttachment,
			ContentTransferEncoding: types.AttachmentContentTransferEncodingBase64,
		})
	}
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(m.From),
		Destination:      &types.Destination{ToAddresses: ml.To},
		ReplyToAddresses: replyTo,
		Content:          &types.EmailContent{Simple: msg},
	}
	if m.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(m.ConfigurationSet)
	}
	out, err := m.SES.SendEmail(ctx, in)
	if err != nil {
		return "", fmt.Errorf("send %s of request %s: %w", ml.Template, r.RequestID, err)
	}
	return aws.ToString(out.MessageId), nil
}

// messageID turns an SES message id into the Message-ID SES gave the mail; a value that is
// already a full Message-ID ("<…@…>" or "…@…") is kept.
func (m *Mailer) messageID(id string) (string, error) {
	id = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(id), "<"), ">")
	if !messageIDPattern.MatchString(id) {
		return "", fmt.Errorf("%w: In-Reply-To %q", ErrBadMessageID, id)
	}
	if !strings.Contains(id, "@") {
		domain := m.MessageIDDomain
		if domain == "" {
			domain = "email.amazonses.com"
		}
		id += "@" + domain
	}
	return "<" + id + ">", nil
}

// messageIDPattern keeps header values to printable ASCII without angle brackets or spaces, as
// SES requires of custom headers.
var messageIDPattern = regexp.MustCompile(`^[A-Za-z0-9._\-+=$!#%&'*/?^{|}~]+(@[A-Za-z0-9.\-]+)?$`)

// tokenPattern: a token must survive every mail system's handling of local parts, so only
// letters, digits, '-' and '_'.
var tokenPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// ReplyAddress plus-addresses info with token: ("info@example.com", "t0k") → "info+t0k@example.com".
// info may carry a display name, which is dropped.
func ReplyAddress(info, token string) (string, error) {
	local, domain, err := splitAddress(info)
	if err != nil {
		return "", err
	}
	if !tokenPattern.MatchString(token) {
		return "", fmt.Errorf("%w: %q", ErrBadToken, token)
	}
	if len(local)+1+len(token) > 64 { // RFC 5321 local-part limit
		return "", fmt.Errorf("%w: %q makes the local part longer than 64 characters", ErrBadToken, token)
	}
	return local + "+" + token + "@" + domain, nil
}

// TokenFromAddress is ReplyAddress's inverse: the token of a plus-address of info. The local part
// and the domain compare case-insensitively (mail systems change case); the token is returned as
// it appears, so tokens should be matched case-insensitively too.
func TokenFromAddress(info, addr string) (string, bool) {
	local, domain, err := splitAddress(info)
	if err != nil {
		return "", false
	}
	aLocal, aDomain, err := splitAddress(addr)
	if err != nil || !strings.EqualFold(aDomain, domain) {
		return "", false
	}
	prefix := local + "+"
	if len(aLocal) <= len(prefix) || !strings.EqualFold(aLocal[:len(prefix)], prefix) {
		return "", false
	}
	token := aLocal[len(prefix):]
	if !tokenPattern.MatchString(token) {
		return "", false
	}
	return token, true
}

// splitAddress accepts "a@b" or "Name <a@b>" and returns the local part and the domain.
func splitAddress(s string) (local, domain string, err error) {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return "", "", fmt.Errorf("%w: %q: %v", ErrBadAddress, s, err)
	}
	i := strings.LastIndexByte(a.Address, '@')
	if i <= 0 || i == len(a.Address)-1 {
		return "", "", fmt.Errorf("%w: %q", ErrBadAddress, s)
	}
	return a.Address[:i], a.Address[i+1:], nil
}

// OfficerRequestPath is the console screen where the privacy officer sees and decides request id,
// relative to PUBLIC_BASE_URL: the link of the escalation mail.
func OfficerRequestPath(id string) string { return "/console/#/ops/requests/" + url.PathEscape(id) }
