// Package localsmtp is the local stand-in for SES email receiving: an SMTP listener (port 2525 by
// default) that takes inbound mail the way an SES receipt rule with an S3 action followed by a Lambda
// action (invocation type Event) does. For each message it stores the raw MIME at Prefix+messageId in
// the inbound mail bucket, builds the events.SimpleEmailEvent SES would deliver to the Lambda, and
// calls the handler with it, so the intake code runs locally on exactly the path it runs in AWS:
// event in, raw message read from S3.
//
// What differs from SES, and why:
//   - SES prepends its own trace headers (Return-Path, Received, X-SES-Spam-Verdict, Received-SPF,
//     Authentication-Results, X-SES-RECEIPT, ...) to the stored message and lists them first in
//     mail.headers. Here the stored object is byte for byte what the client sent, and mail.headers
//     are that message's own headers, because tests compare the two; code must therefore never rely
//     on those SES headers and should use the receipt verdicts instead (it should anyway).
//   - The handler is called synchronously and its error answers 451, so a local client retries; in
//     AWS the Event invocation is asynchronous and Lambda retries it. Either way a failed message is
//     tried again.
//   - No SPF/DKIM/DMARC/spam/virus checks are made. Every verdict is PASS unless the message carries
//     VerdictHeader, which lets a test or a developer simulate failures. That header is honoured by
//     this local server only: SES knows nothing of it, so in production it is inert text that any
//     sender could write and that code must never read.
package localsmtp

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	smtp "github.com/emersion/go-smtp"
)

const (
	// DefaultAddr is where `make run` listens (SPEC §6: SMTP 2525 on 127.0.0.1).
	DefaultAddr = "127.0.0.1:2525"
	// DefaultPrefix is the object key prefix of the receipt rule's S3 action in template.yaml; a local
	// runner passes it as Server.Prefix so keys look the same locally and in AWS.
	DefaultPrefix = "inbound/"
	// DefaultMaxSize is SES's limit on a received message (40 MB, headers included).
	DefaultMaxSize int64 = 40 << 20
	// VerdictHeader, only on this local server, sets the receipt verdicts of the message that carries
	// it: comma- or semicolon-separated key=value pairs with keys spf, dkim, dmarc, spam, virus
	// (values PASS, FAIL, GRAY, PROCESSING_FAILED, DISABLED) and dmarcPolicy (none, quarantine,
	// reject), e.g. "spf=FAIL, dkim=PASS, dmarc=FAIL". Absent keys are PASS. A malformed value is
	// refused with 554 so that a typo in a test cannot silently mean PASS. SES never interprets this
	// header; in production it does not exist as far as verdicts are concerned.
	VerdictHeader = "X-Lethe-Local-Verdicts"

	// maxRecipients is SES's limit of recipients per message.
	maxRecipients = 50
)

// Handler receives the event SES would deliver to the intake Lambda. Its error means "not taken":
// the SMTP client is answered 451 and may retry.
type Handler func(ctx context.Context, ev events.SimpleEmailEvent) error

// Server is the local SMTP receiver. Fill the fields, then Start it; fields must not change after.
type Server struct {
	Addr   string     // listen address; DefaultAddr when empty; port 0 picks a free port
	S3     *s3.Client // where raw messages are stored
	Bucket string     // the inbound mail bucket
	// Prefix is put before the messageId to make the object key. "" means no prefix; pass
	// DefaultPrefix to match template.yaml's receipt rule.
	Prefix string
	// Recipients are the addresses the receipt rule matches (info@…), compared case-insensitively; an
	// entry without "@" matches a whole domain, as in SES. Other recipients are refused with 550 at
	// RCPT, as SES does for addresses no active rule covers.
	Recipients  []string
	FunctionARN string // receipt.action.functionArn
	Handler     Handler
	Now         func() time.Time // time.Now when nil; the mail and receipt timestamps
	MaxSize     int64            // DefaultMaxSize when 0; larger messages are refused with 552
	Log         *slog.Logger     // slog.Default when nil; never given personal data

	mu       sync.Mutex
	started  bool
	closing  bool
	srv      *smtp.Server
	ctx      context.Context // cancelled on stop: aborts in-flight S3 writes and handler calls
	cancel   context.CancelFunc
	conns    map[net.Conn]struct{}
	work     sync.WaitGroup // in-flight Data calls
	served   chan struct{}  // closed when Serve has returned
	stopOnce sync.Once
	stopErr  error
}

// Start listens on s.Addr and serves in the background until ctx ends or Close is called. It
// returns the address actually listened on (useful with port 0).
func (s *Server) Start(ctx context.Context) (addr string, err error) {
	switch {
	case s.S3 == nil:
		return "", errors.New("localsmtp: S3 client is required")
	case s.Bucket == "":
		return "", errors.New("localsmtp: Bucket is required")
	case s.Handler == nil:
		return "", errors.New("localsmtp: Handler is required")
	case len(s.Recipients) == 0:
		return "", errors.New("localsmtp: Recipients is empty: every message would be refused")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return "", errors.New("localsmtp: server already started")
	}
	listen := s.Addr
	if listen == "" {
		listen = DefaultAddr
	}
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return "", fmt.Errorf("localsmtp: listen on %s: %w", listen, err)
	}
	s.started = true
	s.ctx, s.cancel = context.WithCancel(ctx)
	s.conns = map[net.Conn]struct{}{}
	s.served = make(chan struct{})

	srv := smtp.NewServer(backend{s})
	srv.Domain = "lethe-local-smtp"
	srv.MaxMessageBytes = s.maxSize()
	srv.MaxRecipients = maxRecipients
	// Bounds a silent client so that a stuck connection cannot hold a goroutine for ever.
	srv.ReadTimeout = 5 * time.Minute
	srv.WriteTimeout = time.Minute
	srv.ErrorLog = errorLog{s.logger()}
	s.srv = srv

	go func() {
		defer close(s.served)
		srv.Serve(&trackingListener{Listener: l, s: s})
	}()
	// Ends with ctx, or as soon as the server stops for another reason, so it never outlives it.
	go func() {
		select {
		case <-s.ctx.Done():
			s.stop()
		case <-s.served:
		}
	}()
	return l.Addr().String(), nil
}

// Close stops the server: it closes the listener and every connection, cancels in-flight work, and
// returns once the serving goroutines and any handler call have finished. A message cut off this
// way was never answered 250, so its client will retry. Close may be called more than once and
// after ctx has ended.
func (s *Server) Close() error {
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	if !started {
		return nil
	}
	return s.stop()
}

func (s *Server) stop() error {
	s.stopOnce.Do(func() {
		s.mu.Lock()
		s.closing = true
		conns := make([]net.Conn, 0, len(s.conns))
		for c := range s.conns {
			conns = append(conns, c)
		}
		s.mu.Unlock()

		s.cancel()
		if err := s.srv.Close(); err != nil && !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			s.stopErr = err
		}
		// go-smtp closes the connections it has registered; one accepted but not yet registered
		// would be missed, so every accepted connection is closed here too.
		for _, c := range conns {
			c.Close()
		}
		<-s.served
		s.work.Wait()
	})
	return s.stopErr
}

func (s *Server) maxSize() int64 {
	if s.MaxSize > 0 {
		return s.MaxSize
	}
	return DefaultMaxSize
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) logger() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// accepts reports whether the receipt rule covers addr. An address entry also covers its
// plus-addresses (info@ covers info+label@), as SES's recipient matching does: Lethe's reply
// tokens travel in such labels.
func (s *Server) accepts(addr string) bool {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok {
		return false
	}
	if base, _, labelled := strings.Cut(local, "+"); labelled {
		local = base
	}
	for _, r := range s.Recipients {
		if strings.Contains(r, "@") {
			if strings.EqualFold(r, addr) || strings.EqualFold(r, local+"@"+domain) {
				return true
			}
		} else if strings.EqualFold(r, domain) {
			return true
		}
	}
	return false
}

// begin registers an in-flight message unless the server is stopping; the mutex makes the
// registration and stop's Wait mutually ordered.
func (s *Server) begin() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.work.Add(1)
	return true
}

var (
	errRecipient = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
		Message: "Requested action not taken: mailbox unavailable"}
	errTemporary = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
		Message: "Temporary service failure, please retry"}
	errStopping = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2},
		Message: "Service shutting down, please retry"}
)

// deliver does, for one received message, what the receipt rule's S3 and Lambda actions do.
func (s *Server) deliver(from string, rcpts []string, raw []byte) error {
	received := s.now().UTC()
	hdrs := parseHeaders(raw)
	v, err := verdictsFrom(hdrs)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: err.Error()}
	}
	id, err := newMessageID()
	if err != nil {
		s.logger().Error("localsmtp: generate message id", "error", err)
		return errTemporary
	}
	key := s.Prefix + id
	ctx := s.ctx
	if _, err := s.S3.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(s.Bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(raw),
		ContentLength: aws.Int64(int64(len(raw))),
	}); err != nil {
		s.logger().Error("localsmtp: store inbound mail", "messageId", id, "bucket", s.Bucket, "error", err)
		return errTemporary
	}
	ev := buildEvent(eventInput{
		id: id, from: from, rcpts: rcpts, headers: hdrs, verdicts: v,
		received: received, triggered: s.now().UTC(), functionARN: s.FunctionARN,
	})
	if err := s.Handler(ctx, ev); err != nil {
		// Only the SES id and the error: addresses and subjects are personal data. The error text is
		// the intake's own, which follows the same rule.
		s.logger().Error("localsmtp: inbound mail handler failed; answered 451", "messageId", id, "error", err)
		// The client will resend under a new id, so this copy would never be processed; it is
		// personal data and is removed now rather than left for the bucket's expiry (which the
		// local S3 does not run). Detached from ctx so that it happens even during shutdown.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, derr := s.S3.DeleteObject(dctx, &s3.DeleteObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)}); derr != nil {
			s.logger().Warn("localsmtp: remove unprocessed inbound mail", "messageId", id, "error", derr)
		}
		return errTemporary
	}
	return nil
}

// messageIDEncoding spells ids like SES's ("6n4thuhcbhpfiuf25gshf70rss364fuejrvmqko1"): lower case
// 0-9a-v, 40 characters.
var messageIDEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

func newMessageID() (string, error) {
	b := make([]byte, 25) // 200 random bits → 40 characters
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return messageIDEncoding.EncodeToString(b), nil
}

// backend and session adapt the Server to go-smtp.
type backend struct{ s *Server }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s     *Server
	from  string
	rcpts []string
}

func (se *session) Reset()        { se.from, se.rcpts = "", nil }
func (se *session) Logout() error { return nil }

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	se.from, se.rcpts = from, nil
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if !se.s.accepts(to) {
		return errRecipient
	}
	se.rcpts = append(se.rcpts, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	if !se.s.begin() {
		return errStopping
	}
	defer se.s.work.Done()
	// go-smtp's reader undoes dot-stuffing, keeps CRLF, and fails with ErrDataTooLarge (552) past
	// MaxMessageBytes, which is returned as is.
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	return se.s.deliver(se.from, append([]string(nil), se.rcpts...), raw)
}

// trackingListener records every accepted connection so that stop can close it, including one that
// go-smtp has not registered yet.
type trackingListener struct {
	net.Listener
	s *Server
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	s := l.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		c.Close()
		return nil, net.ErrClosed
	}
	tc := &trackedConn{Conn: c, s: s}
	s.conns[tc] = struct{}{}
	return tc, nil
}

type trackedConn struct {
	net.Conn
	s    *Server
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.s.mu.Lock()
		delete(c.s.conns, c)
		c.s.mu.Unlock()
	})
	return c.Conn.Close()
}

// errorLog routes go-smtp's internal errors (which name only remote IPs and causes) to slog.
type errorLog struct{ l *slog.Logger }

func (e errorLog) Printf(format string, v ...any) {
	e.l.Warn("localsmtp: " + strings.TrimSpace(fmt.Sprintf(format, v...)))
}
func (e errorLog) Println(v ...any) { e.l.Warn("localsmtp: " + strings.TrimSpace(fmt.Sprintln(v...))) }
