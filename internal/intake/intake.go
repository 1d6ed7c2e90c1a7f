// Package intake acts on the mail people send to the info@ mailbox (SPEC §3–§4). An SES receipt
// rule stores each message in the inbound bucket (S3 action) and then invokes the intake Lambda
// with the SES event (Lambda action, invocation type Event); locally, internal/local/localsmtp does the
// same. Handle reads the raw message from S3, parses and classifies it (internal/inmail), decides
// whether its sender can be trusted, and then makes exactly the right request, answer or nothing.
//
// The rules it keeps:
//   - Trust. A request acts at once only when SES's SPF, DKIM and DMARC verdicts are all PASS, the
//     From address is the account's own email and the name in the body is the account owner's.
//     Otherwise the request waits in awaiting_verification and a confirmation link goes to the
//     account's own address: nothing is switched off or deleted until it is opened.
//   - No backscatter, no enumeration. A sender that did not authenticate gets no answer at all. An
//     authenticated sender who is not the account's owner — or who names an account that does not
//     exist — gets the same neutral answer either way.
//   - Machines are never answered: auto-replies, bounces, mailing lists, virus and spam.
//   - Exactly once. A mail is journaled by its SES message id; a request made from it has an id
//     derived from that message id, and every mail Lethe sends about a request is sent once, so the
//     same message delivered twice makes one request and one reply.
//   - Minimal data. The raw message is deleted from S3 once handled; a message that keeps failing is
//     kept until the bucket's expiry, journaled as failed and reported to the privacy officer. Logs
//     carry the hashed message id and outcomes, never an address, a name or the content.
package intake

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/inmail"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/lerr"
	"github.com/lethe-dev/lethe/internal/mailer"
	"github.com/lethe-dev/lethe/internal/notify"
	"github.com/lethe-dev/lethe/internal/obs"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/requests"
	"github.com/lethe-dev/lethe/internal/workflow"
)

// ObjectPrefix is the key prefix of the receipt rule's S3 action in template.yaml: a message is
// stored at ObjectPrefix + its SES message id.
const ObjectPrefix = "inbound/"

// MaxAttempts is how often a message is tried before it is journaled as failed and reported:
// Lambda's asynchronous invocation tries an event once and retries it twice.
const MaxAttempts = 3

// Lease is how long one attempt holds a message: a duplicate delivery of the same message arriving
// meanwhile gets ErrInProgress (and is retried) instead of acting a second time. Handling a message
// takes seconds; an attempt that crashed frees it when the lease runs out, before Lambda's first
// retry (one minute after the failure).
const Lease = 60 * time.Second

// ErrInProgress: another attempt is handling the same message right now; try again later.
var ErrInProgress = lerr.New(lerr.ECONFLICT, "intake: the message is being handled by another attempt")

// ErrBadEvent: the event is not an SES receipt event Lethe can act on (no message id, or one that
// cannot name an S3 object). Nothing is read and nothing changes.
var ErrBadEvent = lerr.New(lerr.EINVALID, "intake: not an SES receipt event")

// S3 is the part of the S3 client the intake uses; *s3.Client satisfies it.
type S3 interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// Forwarder sends a received message on unchanged; *mailer.Mailer satisfies it.
type Forwarder interface {
	Forward(ctx context.Context, f mailer.Forward) (string, error)
}

// Service handles inbound mail. Build it once and share it.
type Service struct {
	S3       S3
	Bucket   string // INBOUND_MAIL_BUCKET
	Prefix   string // ObjectPrefix when empty
	Ledger   *ledger.Ledger
	Store    *platform.Store
	Requests *requests.Service
	Mail     notify.Mailer
	// Info is INFO_ADDRESS: replies to Lethe's mails come to its plus-addresses.
	Info string
	// PrivacyOfficer is told about a message that failed every attempt.
	PrivacyOfficer string
	Now            func() time.Time
	Log            *slog.Logger

	// Forward passes mail that is not about deletion on to ForwardTo (FORWARD_ADDRESS), the
	// company's mailbox people read: info@ is its public address, so such mail is never dropped.
	Forward   Forwarder
	ForwardTo string
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

func (s *Service) prefix() string {
	if s.Prefix == "" {
		return ObjectPrefix
	}
	return s.Prefix
}

// Outcomes the journal records (ledger.Inbound.Outcome).
const (
	OutcomeRequestCreated     = "request_created"
	OutcomeRequestExists      = "request_exists"
	OutcomeVerificationSent   = "verification_sent"
	OutcomeNeutralAnswer      = "neutral_answer"
	OutcomeCancelled          = "cancelled"
	OutcomeCancelTooLate      = "cancel_too_late"
	OutcomeWithdrawn          = "withdrawn" // a reply withdrew a request that waited for verification
	OutcomeReplyIgnored       = "reply_ignored"
	OutcomeNoMatch            = "no_match"
	OutcomeIgnoredAutomatic   = "ignored_automatic"
	OutcomeIgnoredUntrusted   = "ignored_unauthenticated"
	OutcomeIgnoredOther       = "ignored_not_a_request"
	OutcomeIgnoredMalformed   = "ignored_malformed"
	OutcomeIgnoredSpamOrVirus = "ignored_spam_or_virus"
	// OutcomeNotUnderstood: about deletion, but not a request the intake can read; an
	// authenticated person was told how to write one (Replied).
	OutcomeNotUnderstood = "not_understood"
	// OutcomeForwarded: not about deletion; forwarded to FORWARD_ADDRESS (Replied is the forward).
	OutcomeForwarded = "forwarded"
)

// Result is what became of one message.
type Result struct {
	Kind     string   // inmail.Kind, or "reply"
	Outcome  string   // one of the Outcome constants
	Requests []string // requests made or acted on
	Replied  string   // SES id of an answer that belongs to no request
}

// Handle processes every record of an SES receipt event. A record that fails is reported in the
// error (so Lambda retries the event); records already handled are not handled again.
func (s *Service) Handle(ctx context.Context, ev events.SimpleEmailEvent) error {
	var errs []error
	for _, rec := range ev.Records {
		if _, err := s.HandleRecord(ctx, rec.SES); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// objectKey is where the S3 action stored the message; SES message ids are letters and digits.
var messageIDPattern = lazyRegexp(`^[A-Za-z0-9][A-Za-z0-9._=-]{0,254}$`)

var errHandled = errors.New("already handled")

// HandleRecord processes one received message, exactly once.
func (s *Service) HandleRecord(ctx context.Context, rec events.SimpleEmailService) (Result, error) {
	msgID := rec.Mail.MessageID
	if !messageIDPattern().MatchString(msgID) || strings.Contains(msgID, "..") {
		return Result{}, fmt.Errorf("%w: the message id is not an SES message id", ErrBadEvent)
	}
	received := rec.Receipt.Timestamp
	if received.IsZero() {
		received = rec.Mail.Timestamp
	}
	if received.IsZero() {
		received = s.now()
	}
	log := s.log().With("mail", ledger.InboundKey(msgID)[:16])

	var seen ledger.Inbound // the entry as found, when the mail was handled already
	entry, err := s.Ledger.UpdateInbound(ctx, msgID, received, func(e *ledger.Inbound) error {
		if e.State == ledger.InboundDone || e.State == ledger.InboundFailed {
			seen = *e
			return errHandled
		}
		if e.LeaseUntil.After(s.now()) {
			return ErrInProgress
		}
		e.State, e.Attempts, e.LeaseUntil = ledger.InboundProcessing, e.Attempts+1, s.now().Add(Lease)
		return nil
	})
	if errors.Is(err, errHandled) {
		cur := seen
		log.InfoContext(ctx, "intake: delivered again; already handled", "state", cur.State, "outcome", cur.Outcome)
		if cur.State == ledger.InboundDone {
			// The first attempt may have stopped between its journal entry and the delete.
			if err := s.deleteObject(ctx, msgID); err != nil {
				return Result{}, err
			}
		}
		return Result{Kind: cur.Kind, Outcome: cur.Outcome, Requests: cur.Requests, Replied: cur.Replied}, nil
	}
	if err != nil {
		return Result{}, err
	}

	res, perr := s.process(ctx, rec, msgID, received, entry)
	if perr != nil {
		name := errorName(perr)
		failed := entry.Attempts >= MaxAttempts
		if _, err := s.Ledger.UpdateInbound(ctx, msgID, received, func(e *ledger.Inbound) error {
			e.Error, e.LeaseUntil = name, time.Time{}
			if failed {
				e.State = ledger.InboundFailed
			}
			return nil
		}); err != nil {
			perr = errors.Join(perr, err)
		}
		log.ErrorContext(ctx, "intake: message not handled", "attempt", entry.Attempts, "final", failed, "error", name)
		if failed {
			if err := s.reportFailure(ctx, msgID, name); err != nil {
				perr = errors.Join(perr, err)
			}
		}
		return Result{}, &failure{mail: ledger.InboundKey(msgID)[:16], name: name, err: perr}
	}
	if _, err := s.Ledger.UpdateInbound(ctx, msgID, received, func(e *ledger.Inbound) error {
		e.State, e.Kind, e.Outcome, e.Requests, e.Error, e.LeaseUntil = ledger.InboundDone, res.Kind, res.Outcome, res.Requests, "", time.Time{}
		if res.Replied != "" {
			e.Replied = res.Replied
		}
		return nil
	}); err != nil {
		return res, err
	}
	log.InfoContext(ctx, "intake: handled", "kind", res.Kind, "outcome", res.Outcome, "requests", res.Requests)
	// Every mail is counted by what became of it: one the intake did not understand is seen.
	obs.Counter("InboundMail", 1, map[string]string{"Kind": kindDimension(res.Kind), "Outcome": res.Outcome})
	// The raw message is personal data: gone once it has been acted on.
	if err := s.deleteObject(ctx, msgID); err != nil {
		return res, err
	}
	return res, nil
}

func (s *Service) deleteObject(ctx context.Context, msgID string) error {
	_, err := s.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(s.prefix() + msgID)})
	if err != nil {
		return fmt.Errorf("delete the raw message: %w", err)
	}
	return nil
}

// reportFailure tells the privacy officer, without personal data, that a message could not be
// handled: its raw copy waits in the bucket until the bucket's expiry.
func (s *Service) reportFailure(ctx context.Context, msgID, errName string) error {
	if s.PrivacyOfficer == "" {
		return nil
	}
	_, err := s.Mail.Send(ctx, mailer.Mail{Template: mailer.WorkflowFailureAlert, Locale: "ru", To: []string{s.PrivacyOfficer},
		Data: mailer.Data{RequestID: "inbound-" + ledger.InboundKey(msgID)[:16], State: "InboundEmail", Error: errName}})
	return err
}

// failure is what a failed message returns to Lambda (which logs it): the hashed message id and
// the failure's name, never its text, which could quote an address from the mail. errors.Is and
// errors.As still see the cause.
type failure struct {
	mail, name string
	err        error
}

func (f *failure) Error() string { return "intake " + f.mail + ": " + f.name }
func (f *failure) Unwrap() error { return f.err }

// failureNames is the one map from an error's code to the name a failed mail is journaled under.
var failureNames = map[lerr.Code]string{lerr.EINVALID: "ErrInvalid", lerr.ECONFLICT: "ErrConflict"}

// errorName is a failure's type, not its text (which could quote the mail).
func errorName(err error) string {
	var we *workflow.Error
	if errors.As(err, &we) {
		return we.Name
	}
	if name, ok := failureNames[lerr.ErrorCode(err)]; ok {
		return name
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "DeadlineExceeded"
	}
	return obs.ErrorType(err)
}

// verdicts are SES's authentication results of one message.
type verdicts struct{ spf, dkim, dmarc, spam, virus string }

func verdictsOf(r events.SimpleEmailReceipt) verdicts {
	up := func(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }
	return verdicts{up(r.SPFVerdict.Status), up(r.DKIMVerdict.Status), up(r.DMARCVerdict.Status), up(r.SpamVerdict.Status), up(r.VirusVerdict.Status)}
}

// authenticated: SPF, DKIM and DMARC all passed, so the From domain really sent it.
func (v verdicts) authenticated() bool {
	return v.spf == "PASS" && v.dkim == "PASS" && v.dmarc == "PASS"
}

func (s *Service) process(ctx context.Context, rec events.SimpleEmailService, msgID string, received time.Time, entry ledger.Inbound) (Result, error) {
	v := verdictsOf(rec.Receipt)
	if v.virus == "FAIL" || v.spam == "FAIL" {
		return Result{Outcome: OutcomeIgnoredSpamOrVirus}, nil
	}
	msg, err := s.read(ctx, msgID)
	if lerr.ErrorCode(err) == lerr.EINVALID { // not a mail it can read (inmail.ErrMalformed, ErrTooLarge)
		return Result{Outcome: OutcomeIgnoredMalformed}, nil
	}
	if err != nil {
		return Result{}, err
	}
	c := inmail.Classify(msg, s.Info)
	// A reply Bcc'd to a plus-address carries its token only in the envelope.
	c.Tokens = inmail.AddReplyTokens(c.Tokens, s.Info, rec.Receipt.Recipients...)
	if c.Kind == inmail.KindAutomatic {
		return Result{Kind: string(c.Kind), Outcome: OutcomeIgnoredAutomatic}, nil
	}
	in := &mailIn{msgID: msgID, received: received, msg: msg, class: c, auth: v.authenticated(), entry: entry,
		locale: localeOf(msg)}
	if res, ok, err := s.reply(ctx, in); ok || err != nil {
		return res, err
	}
	switch c.Kind {
	case inmail.KindAccountDeletion, inmail.KindConnectionWipe:
		return s.accountRequest(ctx, in)
	case inmail.KindEndCustomer:
		return s.endCustomer(ctx, in)
	}
	if inmail.MentionsDeletion(msg) {
		// About deletion, but not in a form the intake reads: never dropped in silence.
		res, err := s.neutral(ctx, in, Result{Kind: string(c.Kind)})
		res.Outcome = OutcomeNotUnderstood
		return res, err
	}
	return s.forward(ctx, in)
}

// forward passes a mail that is not about deletion on to the company's mailbox, once: the
// forward's id is journaled at once, so a redelivery finds it and sends nothing more. Lethe keeps
// only the journal entry (the data map's inbound-mail journal); the raw message goes as any other.
func (s *Service) forward(ctx context.Context, in *mailIn) (Result, error) {
	res := Result{Kind: string(in.class.Kind), Outcome: OutcomeForwarded}
	if in.entry.Replied != "" {
		res.Replied = in.entry.Replied
		return res, nil
	}
	if s.Forward == nil || s.ForwardTo == "" {
		return res, errors.New("intake: no FORWARD_ADDRESS to forward a mail that is not a request to")
	}
	out, err := s.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(s.prefix() + in.msgID)})
	if err != nil {
		return res, fmt.Errorf("read the raw message to forward: %w", err)
	}
	defer out.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(out.Body, inmail.MaxSize+1))
	if err != nil {
		return res, fmt.Errorf("read the raw message to forward: %w", err)
	}
	id, err := s.Forward.Forward(ctx, mailer.Forward{To: s.ForwardTo, Original: raw, Subject: in.msg.Subject, ReplyTo: in.msg.From.Email})
	if err != nil {
		return res, err
	}
	res.Replied = id
	return res, s.journalAnswer(ctx, in, id)
}

// kindDimension keeps the metric's Kind dimension to the known kinds.
func kindDimension(k string) string {
	if k == "" {
		return "none"
	}
	return k
}

// read parses the stored message as it streams from S3.
func (s *Service) read(ctx context.Context, msgID string) (*inmail.Message, error) {
	out, err := s.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(s.prefix() + msgID)})
	if err != nil {
		return nil, fmt.Errorf("read the raw message: %w", err)
	}
	defer out.Body.Close()
	return inmail.Parse(out.Body)
}

// mailIn is one message on its way through the intake.
type mailIn struct {
	msgID    string
	received time.Time
	msg      *inmail.Message
	class    inmail.Classified
	auth     bool
	entry    ledger.Inbound
	locale   string
}

// requestID derives the id of the request a message makes about a subject: the same message
// delivered again derives the same id, so it cannot make a second request. The message is named by
// its own Message-ID, which a client keeps when it sends again after a failure (SES then assigns a
// new id), and by the SES id when it has none. The time in the id, which orders the ledger, is
// when SES received the mail: the Date header is the sender's to write.
func (in *mailIn) requestID(subject string) string {
	name, at := "ses:"+in.msgID, in.received
	if in.msg.MessageID != "" {
		name = "mid:" + in.msg.MessageID
	}
	sum := sha256.Sum256([]byte("lethe-intake\x00" + name + "\x00" + subject))
	return platform.NewIDFrom(at, strings.NewReader(string(sum[:])))
}

// localeOf: a mail is answered in the language of its subject ("Удаление данных" in Russian, "Data
// deletion" in English); a subject with no letters defers to the body. Names quoted in the body do
// not count: an English mail about a Russian name is still English.
func localeOf(m *inmail.Message) string {
	for _, text := range []string{m.Subject, m.Text} {
		cyr, lat := 0, 0
		for _, r := range text {
			switch {
			case unicode.Is(unicode.Cyrillic, r):
				cyr++
			case unicode.IsLetter(r):
				lat++
			}
		}
		if cyr > lat {
			return "ru"
		}
		if lat > 0 {
			return "en"
		}
	}
	return "ru"
}

// sameName reports whether the name written in a mail is the account owner's: the words of the
// normalized names (any order, ё as е, case and punctuation ignored), one set containing the other
// and at least two words in common (one when the shorter name has only one).
func sameName(written, owner string) bool {
	w, o := platform.NameTokens(written), platform.NameTokens(owner)
	if len(w) == 0 || len(o) == 0 {
		return false
	}
	small, big := w, o
	if len(small) > len(big) {
		small, big = big, small
	}
	for _, t := range small {
		if !slices.Contains(big, t) {
			return false
		}
	}
	return len(small) >= min(2, len(big))
}

// neutral sends the answer that says nothing about whether an account or an end user exists, to an
// authenticated sender, once per message.
func (s *Service) neutral(ctx context.Context, in *mailIn, res Result) (Result, error) {
	res.Outcome = OutcomeNeutralAnswer
	if !in.auth || in.msg.From.Email == "" {
		res.Outcome = OutcomeIgnoredUntrusted
		return res, nil
	}
	if in.entry.Replied != "" {
		res.Replied = in.entry.Replied
		return res, nil
	}
	id, err := s.Mail.Send(ctx, mailer.Mail{Template: mailer.IntakeReceived, Locale: in.locale, To: []string{in.msg.From.Email},
		Data: mailer.Data{RequestID: in.requestID("reference")}})
	if err != nil {
		return res, err
	}
	res.Replied = id
	return res, s.journalAnswer(ctx, in, id)
}

// accountRequest handles "Data deletion" mail: the whole account, or one channel's connections.
func (s *Service) accountRequest(ctx context.Context, in *mailIn) (Result, error) {
	c := in.class
	res := Result{Kind: string(c.Kind)}
	email := c.AccountEmail
	if email == "" {
		email = in.msg.From.Email
	}
	accts, err := s.Store.AccountsByEmail(ctx, email)
	if err != nil {
		return res, err
	}
	if len(accts) != 1 {
		// Unknown (or, against every rule, ambiguous): the same neutral answer as for an account
		// that exists but is not the sender's.
		return s.neutral(ctx, in, res)
	}
	acct := accts[0]
	fromOwner := platform.NormalizeEmail(acct.Email) == in.msg.From.Email
	trusted := in.auth && fromOwner && sameName(c.FullName, acct.FullName)

	var made []request.Request
	var created []bool
	if c.Kind == inmail.KindAccountDeletion {
		req, isNew, err := s.Requests.RequestAccountDeletion(ctx, requests.AccountDeletion{ID: in.requestID("account#" + acct.ID),
			AccountID: acct.ID, Source: "email", Actor: "email", Verify: !trusted})
		if err != nil {
			return res, err
		}
		made, created = append(made, req), append(created, isNew)
	} else {
		conns, err := s.Store.Connections(ctx, acct.ID, "")
		if err != nil {
			return res, err
		}
		for _, conn := range conns {
			if conn.Channel != c.Channel {
				continue
			}
			req, isNew, err := s.Requests.RequestDeletion(ctx, requests.Deletion{ID: in.requestID("connection#" + conn.ID),
				Kind: request.KindConnectionWipe, Source: "email", Actor: "email", Locale: acct.Locale, Verify: !trusted,
				Scope: platform.ScopeRef{Kind: datamap.ScopeConnection, AccountID: acct.ID, BotID: conn.BotID, ConnectionID: conn.ID, Channel: conn.Channel}})
			if err != nil {
				return res, err
			}
			made, created = append(made, req), append(created, isNew)
		}
	}
	for _, r := range made {
		res.Requests = append(res.Requests, r.ID)
	}
	if len(made) == 0 {
		res.Outcome = OutcomeNoMatch
		if !fromOwner {
			return s.neutral(ctx, in, res)
		}
		return res, nil
	}
	res.Outcome = OutcomeRequestExists
	for i, r := range made {
		if r.Status != request.StatusAwaitingVerification {
			if created[i] {
				res.Outcome = OutcomeRequestCreated
			}
			continue
		}
		// Waits for the owner: the link goes to the account's own address, never to the sender's.
		if err := notify.SendOnce(ctx, s.Ledger, s.Mail, r, mailer.Mail{Template: mailer.VerificationRequest,
			To: []string{acct.Email}, Locale: acct.Locale, Data: mailer.Data{AccountEmail: acct.Email}}, "confirm"); err != nil {
			return res, err
		}
		res.Outcome = OutcomeVerificationSent
	}
	if !fromOwner {
		// A third party (or a forger) wrote about this account: its owner was asked above, and an
		// authenticated sender gets the answer an unknown account gets, learning nothing.
		out := res.Outcome
		res, err := s.neutral(ctx, in, res)
		if res.Outcome == OutcomeNeutralAnswer || res.Outcome == OutcomeIgnoredUntrusted {
			res.Outcome = out
		}
		return res, err
	}
	return res, nil
}

// journalAnswer records the SES id of the mail that answered (or forwarded) a message at once: a
// failure after this point must not answer again on the retry.
func (s *Service) journalAnswer(ctx context.Context, in *mailIn, id string) error {
	_, err := s.Ledger.UpdateInbound(ctx, in.msgID, in.received, func(e *ledger.Inbound) error {
		e.Replied = id
		return nil
	})
	return err
}
