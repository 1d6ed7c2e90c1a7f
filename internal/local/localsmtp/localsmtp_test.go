package localsmtp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lethe-dev/lethe/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

var fixedNow = time.Date(2026, 3, 2, 10, 4, 5, 678_000_000, time.UTC)

const testARN = "arn:aws:lambda:us-east-1:123456789012:function:lethe-inbound-mail"

// rig is one server on a free port, against this test's own inbound bucket.
type rig struct {
	env   *testenv.Env
	srv   *Server
	addr  string
	info  string // the accepted recipient
	evs   chan events.SimpleEmailEvent
	logMu sync.Mutex
	log   bytes.Buffer
}

func (r *rig) Write(p []byte) (int, error) {
	r.logMu.Lock()
	defer r.logMu.Unlock()
	return r.log.Write(p)
}

func (r *rig) logged() string {
	r.logMu.Lock()
	defer r.logMu.Unlock()
	return r.log.String()
}

// newRig starts a server; handler, when not nil, runs after the event is recorded.
func newRig(t *testing.T, configure func(*Server), handler Handler) *rig {
	t.Helper()
	env := testenv.New(t)
	r := &rig{env: env, info: env.Address("info"), evs: make(chan events.SimpleEmailEvent, 16)}
	r.srv = &Server{
		Addr:        "127.0.0.1:0",
		S3:          env.S3,
		Bucket:      env.Buckets["InboundMailBucket"],
		Prefix:      DefaultPrefix,
		Recipients:  []string{r.info},
		FunctionARN: testARN,
		Now:         func() time.Time { return fixedNow },
		Handler: func(ctx context.Context, ev events.SimpleEmailEvent) error {
			r.evs <- ev
			if handler != nil {
				return handler(ctx, ev)
			}
			return nil
		},
	}
	r.srv.Log = slog.New(slog.NewTextHandler(r, nil))
	if r.srv.Bucket == "" {
		t.Fatalf("no InboundMailBucket in %v", env.Buckets)
	}
	if configure != nil {
		configure(r.srv)
	}
	addr, err := r.srv.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	r.addr = addr
	t.Cleanup(func() {
		if err := closeWithin(t, r.srv); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return r
}

func (r *rig) event(t *testing.T) events.SimpleEmailEvent {
	t.Helper()
	select {
	case ev := <-r.evs:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("handler not called")
		return events.SimpleEmailEvent{}
	}
}

func (r *rig) noEvent(t *testing.T) {
	t.Helper()
	select {
	case ev := <-r.evs:
		t.Fatalf("handler called unexpectedly with %s", ev.Records[0].SES.Mail.MessageID)
	default:
	}
}

func (r *rig) object(t *testing.T, key string) []byte {
	t.Helper()
	out, err := r.env.S3.GetObject(context.Background(), &s3.GetObjectInput{
		Bucket: aws.String(r.srv.Bucket), Key: aws.String(key),
	})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (r *rig) keys(t *testing.T) []string {
	t.Helper()
	out, err := r.env.S3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(r.srv.Bucket)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

// smtpCode is the reply code in a net/smtp error, 0 when err is not a server reply.
func smtpCode(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

var sesID = regexp.MustCompile(`^[0-9a-v]{40}$`)

func TestStoresRawMailAndDeliversTheSESEvent(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil, nil)
	sender := r.env.Address("john")
	cc := r.env.Address("jane")
	subject := "Удалите мои данные, please"
	raw := crlf("From: \"Doe, John\" <" + sender + ">\n" +
		"To: Lethe Info <" + r.info + ">\n" +
		"Cc: =?UTF-8?B?0JDQvdGP?= <" + cc + ">\n" +
		"Subject: " + mime.BEncoding.Encode("UTF-8", subject) + "\n" +
		"Message-ID: <abc.123@example.org>\n" +
		"Date: Mon, 2 Mar 2026 13:04:01 +0300\n" +
		"MIME-Version: 1.0\n" +
		"Content-Type: text/plain;\n" +
		"\tcharset=utf-8\n" +
		"\n" +
		"Please delete my data.\n" +
		".A line that starts with a dot survives dot-stuffing.\n" +
		"From: not a header, this is the body\n")
	envelopeFrom := "bounce+x@" + r.env.MailDomain
	if err := smtp.SendMail(r.addr, nil, envelopeFrom, []string{r.info}, []byte(raw)); err != nil {
		t.Fatalf("send: %v", err)
	}
	ev := r.event(t)
	if len(ev.Records) != 1 {
		t.Fatalf("%d records", len(ev.Records))
	}
	rec := ev.Records[0]
	if rec.EventSource != "aws:ses" || rec.EventVersion != "1.0" {
		t.Errorf("source/version %q %q", rec.EventSource, rec.EventVersion)
	}
	m, rc := rec.SES.Mail, rec.SES.Receipt
	if !sesID.MatchString(m.MessageID) {
		t.Errorf("messageId %q is not SES-like", m.MessageID)
	}
	if got := r.object(t, DefaultPrefix+m.MessageID); string(got) != raw {
		t.Errorf("stored object differs from what was sent:\n got %q\nwant %q", got, raw)
	}
	if m.Source != envelopeFrom {
		t.Errorf("source %q, want the envelope sender %q", m.Source, envelopeFrom)
	}
	if !slices.Equal(m.Destination, []string{r.info}) || !slices.Equal(rc.Recipients, []string{r.info}) {
		t.Errorf("destination %v recipients %v, want [%s]", m.Destination, rc.Recipients, r.info)
	}
	if !m.Timestamp.Equal(fixedNow) || !rc.Timestamp.Equal(fixedNow) || rc.ProcessingTimeMillis != 0 {
		t.Errorf("timestamps %v %v %d, want %v", m.Timestamp, rc.Timestamp, rc.ProcessingTimeMillis, fixedNow)
	}
	var names []string
	for _, h := range m.Headers {
		names = append(names, h.Name)
	}
	wantNames := []string{"From", "To", "Cc", "Subject", "Message-ID", "Date", "MIME-Version", "Content-Type"}
	if !slices.Equal(names, wantNames) || m.HeadersTruncated {
		t.Errorf("headers %v (truncated %v), want %v", names, m.HeadersTruncated, wantNames)
	}
	if len(m.Headers) == len(wantNames) {
		if got := m.Headers[7].Value; got != "text/plain;\tcharset=utf-8" {
			t.Errorf("folded Content-Type unfolded to %q", got)
		}
		if got := m.Headers[3].Value; got != mime.BEncoding.Encode("UTF-8", subject) {
			t.Errorf("headers keep the raw Subject; got %q", got)
		}
	}
	ch := m.CommonHeaders
	if want := []string{`"Doe, John" <` + sender + `>`}; !slices.Equal(ch.From, want) {
		t.Errorf("commonHeaders.from %q, want %q", ch.From, want)
	}
	if want := []string{"Lethe Info <" + r.info + ">"}; !slices.Equal(ch.To, want) {
		t.Errorf("commonHeaders.to %q, want %q", ch.To, want)
	}
	if want := []string{"Аня <" + cc + ">"}; !slices.Equal(ch.Cc, want) {
		t.Errorf("commonHeaders.cc %q, want %q", ch.Cc, want)
	}
	if ch.Subject != subject {
		t.Errorf("commonHeaders.subject %q, want decoded %q", ch.Subject, subject)
	}
	if ch.MessageID != "<abc.123@example.org>" || ch.Date != "Mon, 2 Mar 2026 13:04:01 +0300" || ch.ReturnPath != envelopeFrom {
		t.Errorf("commonHeaders messageId %q date %q returnPath %q", ch.MessageID, ch.Date, ch.ReturnPath)
	}
	for name, v := range map[string]events.SimpleEmailVerdict{
		"spam": rc.SpamVerdict, "virus": rc.VirusVerdict, "spf": rc.SPFVerdict, "dkim": rc.DKIMVerdict, "dmarc": rc.DMARCVerdict,
	} {
		if v.Status != "PASS" {
			t.Errorf("%s verdict %q, want PASS by default", name, v.Status)
		}
	}
	if rc.DMARCPolicy != "" {
		t.Errorf("dmarcPolicy %q without a DMARC failure", rc.DMARCPolicy)
	}
	if want := (events.SimpleEmailReceiptAction{Type: "Lambda", FunctionARN: testARN, InvocationType: "Event"}); rc.Action != want {
		t.Errorf("action %+v, want %+v", rc.Action, want)
	}

	// The JSON a Lambda would receive, against the field names of SES's documented sample.
	js, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"Records":[`, `"eventSource":"aws:ses"`, `"commonHeaders":{`, `"returnPath":`,
		`"headersTruncated":false`, `"processingTimeMillis":0`, `"spfVerdict":{"status":"PASS"}`,
		`"invocationType":"Event"`, `"functionArn":"` + testARN + `"`, `"timestamp":"2026-03-02T10:04:05.678Z"`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("event JSON lacks %s:\n%s", want, js)
		}
	}
}

func TestVerdictHeaderSimulatesFailures(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil, nil)
	send := func(verdicts string) error {
		msg := crlf("From: " + r.env.Address("a") + "\nTo: " + r.info + "\n" +
			VerdictHeader + ": " + verdicts + "\nSubject: x\n\nbody\n")
		return smtp.SendMail(r.addr, nil, r.env.Address("a"), []string{r.info}, []byte(msg))
	}

	if err := send("spf=FAIL, dkim=pass; dmarc=FAIL"); err != nil {
		t.Fatal(err)
	}
	rc := r.event(t).Records[0].SES.Receipt
	got := []string{rc.SPFVerdict.Status, rc.DKIMVerdict.Status, rc.DMARCVerdict.Status, rc.SpamVerdict.Status, rc.VirusVerdict.Status, rc.DMARCPolicy}
	if want := []string{"FAIL", "PASS", "FAIL", "PASS", "PASS", "none"}; !slices.Equal(got, want) {
		t.Errorf("spf, dkim, dmarc, spam, virus, dmarcPolicy = %v, want %v", got, want)
	}

	if err := send("dmarc=FAIL, dmarcPolicy=reject, spam=GRAY, virus=FAIL, dkim=PROCESSING_FAILED"); err != nil {
		t.Fatal(err)
	}
	rc = r.event(t).Records[0].SES.Receipt
	got = []string{rc.SPFVerdict.Status, rc.DKIMVerdict.Status, rc.DMARCVerdict.Status, rc.SpamVerdict.Status, rc.VirusVerdict.Status, rc.DMARCPolicy}
	if want := []string{"PASS", "PROCESSING_FAILED", "FAIL", "GRAY", "FAIL", "reject"}; !slices.Equal(got, want) {
		t.Errorf("spf, dkim, dmarc, spam, virus, dmarcPolicy = %v, want %v", got, want)
	}

	before := len(r.keys(t))
	for _, bad := range []string{"spf=FIAL", "sfp=FAIL", "dmarc", "dmarcPolicy=strict"} {
		if err := send(bad); smtpCode(err) != 554 {
			t.Errorf("%s: %v, want 554", bad, err)
		}
	}
	r.noEvent(t)
	if n := len(r.keys(t)); n != before {
		t.Errorf("a refused message was stored: %d objects, had %d", n, before)
	}
}

func TestRefusesRecipientsOutsideTheRule(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil, nil)
	c, err := smtp.Dial(r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail(r.env.Address("a")); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{r.env.Address("someone"), "info@elsewhere.test", "info@sub." + r.env.MailDomain} {
		if err := c.Rcpt(to); smtpCode(err) != 550 {
			t.Errorf("RCPT %s: %v, want 550", to, err)
		}
	}
	// Matching ignores case, as SES's does.
	if err := c.Rcpt(strings.ToUpper(r.info)); err != nil {
		t.Errorf("RCPT %s: %v", strings.ToUpper(r.info), err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "Subject: hi\r\n\r\nbody\r\n")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if d := r.event(t).Records[0].SES.Mail.Destination; !slices.Equal(d, []string{strings.ToUpper(r.info)}) {
		t.Errorf("destination %v holds a refused recipient", d)
	}
	c.Quit()
}

func TestRecipientDomainEntryMatchesTheDomain(t *testing.T) {
	s := &Server{Recipients: []string{"info@a.test", "b.test"}}
	for addr, want := range map[string]bool{
		"info@a.test": true, "INFO@A.TEST": true, "other@a.test": false,
		"x@b.test": true, "x@sub.b.test": false, "b.test": false, "": false,
	} {
		if got := s.accepts(addr); got != want {
			t.Errorf("accepts(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestRefusesOversizeMailWith552(t *testing.T) {
	t.Parallel()
	r := newRig(t, func(s *Server) { s.MaxSize = 2048 }, nil)
	big := crlf("Subject: big\n\n" + strings.Repeat(strings.Repeat("x", 70)+"\n", 60))
	if err := smtp.SendMail(r.addr, nil, r.env.Address("a"), []string{r.info}, []byte(big)); smtpCode(err) != 552 {
		t.Errorf("oversize DATA: %v, want 552", err)
	}
	// A client that declares the size is refused at MAIL already.
	tc, err := textproto.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	for _, step := range []struct {
		cmd  string
		code int
	}{{"", 220}, {"EHLO client.test", 250}, {"MAIL FROM:<a@example.org> SIZE=4096", 552}} {
		if step.cmd != "" {
			if err := tc.PrintfLine("%s", step.cmd); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := tc.ReadResponse(step.code); err != nil {
			t.Errorf("%q: %v, want %d", step.cmd, err, step.code)
		}
	}
	// Just under the limit passes.
	small := crlf("Subject: small\n\n" + strings.Repeat("x", 1500) + "\n")
	if err := smtp.SendMail(r.addr, nil, r.env.Address("a"), []string{r.info}, []byte(small)); err != nil {
		t.Fatalf("small message: %v", err)
	}
	id := r.event(t).Records[0].SES.Mail.MessageID
	r.noEvent(t)
	if keys := r.keys(t); !slices.Equal(keys, []string{DefaultPrefix + id}) {
		t.Errorf("objects %v, want only the accepted message", keys)
	}
	var ds int64 = DefaultMaxSize
	if ds != 40*1024*1024 {
		t.Errorf("DefaultMaxSize %d", ds)
	}
}

func TestHandlerErrorAnswers451AndLogsNoPersonalData(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil, func(context.Context, events.SimpleEmailEvent) error {
		return errors.New("intake unavailable")
	})
	sender := r.env.Address("private.person")
	msg := crlf("From: Private Person <" + sender + ">\nTo: " + r.info + "\nSubject: secret subject\n\nbody\n")
	err := smtp.SendMail(r.addr, nil, sender, []string{r.info}, []byte(msg))
	if smtpCode(err) != 451 {
		t.Fatalf("send: %v, want 451", err)
	}
	id := r.event(t).Records[0].SES.Mail.MessageID
	logs := r.logged()
	if !strings.Contains(logs, id) || !strings.Contains(logs, "intake unavailable") {
		t.Errorf("log does not name the message id and cause:\n%s", logs)
	}
	for _, private := range []string{sender, "private.person", "Private Person", "secret subject", r.info} {
		if strings.Contains(logs, private) {
			t.Errorf("log holds personal data %q:\n%s", private, logs)
		}
	}
	if keys := r.keys(t); len(keys) != 0 {
		t.Errorf("unprocessed mail left in the bucket: %v", keys)
	}
}

func TestEveryMessageGetsItsOwnID(t *testing.T) {
	t.Parallel()
	r := newRig(t, func(s *Server) { s.Prefix = "" }, nil)
	c, err := smtp.Dial(r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var ids []string
	for i, body := range []string{"first\r\n", "second\r\n"} {
		if err := c.Mail(r.env.Address("a")); err != nil {
			t.Fatal(err)
		}
		if err := c.Rcpt(r.info); err != nil {
			t.Fatal(err)
		}
		w, err := c.Data()
		if err != nil {
			t.Fatal(err)
		}
		raw := "Subject: n\r\n\r\n" + body
		io.WriteString(w, raw)
		if err := w.Close(); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		id := r.event(t).Records[0].SES.Mail.MessageID
		if got := r.object(t, id); string(got) != raw {
			t.Errorf("object %s = %q, want %q", id, got, raw)
		}
		ids = append(ids, id)
	}
	if ids[0] == ids[1] {
		t.Errorf("both messages got id %s", ids[0])
	}
	c.Quit()
}

// ours finds goroutines of this package's server or of go-smtp.
func ours() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var found []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "github.com/emersion/go-smtp.") ||
			regexp.MustCompile(`internal/local/localsmtp\.\(\*|internal/local/localsmtp\.session|internal/local/localsmtp\.backend`).MatchString(g) {
			found = append(found, g)
		}
	}
	return found
}

func waitNoneOfOurs(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := ours()
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines left after stop:\n%s", strings.Join(left, "\n\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// closeWithin fails the test, rather than hanging it, when Close does not return.
func closeWithin(t *testing.T, srv *Server) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- srv.Close() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("Close did not return; goroutines:\n%s", strings.Join(ours(), "\n\n"))
		return nil
	}
}

// Not parallel: it counts every goroutine of the package, so no other server may be running.
func TestStopsWithItsContextLeavingNoGoroutines(t *testing.T) {
	if left := ours(); len(left) != 0 {
		t.Fatalf("goroutines before the test:\n%s", strings.Join(left, "\n\n"))
	}
	env := testenv.New(t)
	entered := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := &Server{
		Addr:       "127.0.0.1:0",
		S3:         env.S3,
		Bucket:     env.Buckets["InboundMailBucket"],
		Recipients: []string{env.Address("info")},
		Handler: func(ctx context.Context, _ events.SimpleEmailEvent) error {
			close(entered)
			<-ctx.Done() // a slow intake: only shutdown ends it
			return ctx.Err()
		},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	addr, err := srv.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Start(ctx); err == nil {
		t.Error("second Start succeeded")
	}
	// One idle client, and one in the middle of delivering.
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	if line, err := textproto.NewReader(bufio.NewReader(idle)).ReadLine(); err != nil || !strings.HasPrefix(line, "220") {
		t.Fatalf("greeting %q %v", line, err)
	}
	sent := make(chan error, 1)
	go func() {
		sent <- smtp.SendMail(addr, nil, env.Address("a"), []string{env.Address("info")}, []byte("Subject: x\r\n\r\nbody\r\n"))
	}()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("handler not reached")
	}

	cancel()
	select {
	case err := <-sent:
		if err == nil {
			t.Error("a message cut off by shutdown was accepted")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("client still waiting after shutdown")
	}
	idle.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(idle); err != nil {
		t.Errorf("idle connection not closed by the server: %v", err)
	}
	if err := closeWithin(t, srv); err != nil {
		t.Errorf("Close after the context ended: %v", err)
	}
	if err := closeWithin(t, srv); err != nil {
		t.Errorf("second Close: %v", err)
	}
	waitNoneOfOurs(t)
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("still listening after shutdown")
	}
}

func TestCloseStopsAServerWhoseContextLives(t *testing.T) {
	if left := ours(); len(left) != 0 {
		t.Fatalf("goroutines before the test:\n%s", strings.Join(left, "\n\n"))
	}
	env := testenv.New(t)
	srv := &Server{
		Addr: "127.0.0.1:0", S3: env.S3, Bucket: env.Buckets["InboundMailBucket"],
		Recipients: []string{env.Address("info")},
		Handler:    func(context.Context, events.SimpleEmailEvent) error { return nil },
	}
	if err := (&Server{}).Close(); err != nil {
		t.Errorf("Close of a server never started: %v", err)
	}
	addr, err := srv.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := smtp.SendMail(addr, nil, env.Address("a"), []string{env.Address("info")}, []byte("Subject: x\r\n\r\nbody\r\n")); err != nil {
		t.Fatal(err)
	}
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	if err := closeWithin(t, srv); err != nil {
		t.Fatal(err)
	}
	waitNoneOfOurs(t)
}

func TestStartNeedsItsDependencies(t *testing.T) {
	h := func(context.Context, events.SimpleEmailEvent) error { return nil }
	for name, s := range map[string]*Server{
		"no S3":         {Bucket: "b", Recipients: []string{"a@b"}, Handler: h},
		"no bucket":     {S3: &s3.Client{}, Recipients: []string{"a@b"}, Handler: h},
		"no handler":    {S3: &s3.Client{}, Bucket: "b", Recipients: []string{"a@b"}},
		"no recipients": {S3: &s3.Client{}, Bucket: "b", Handler: h},
	} {
		if _, err := s.Start(context.Background()); err == nil {
			s.Close()
			t.Errorf("%s: Start succeeded", name)
		}
	}
}
