// Package inmail parses and classifies the mail people send to the info@ mailbox.
//
// Lethe acts on three kinds of written request (SPEC §3): an account deletion (subject "Data
// deletion" / «Удаление данных», full name and account email in the body), a connection wipe (the
// same subject, naming the channel connection to wipe) and an end-customer request (subject "Data
// deletion — end customer" with bot name, username and date of the last message). Mail written by
// machines — auto-replies, bounces, mailing lists — must never act and never be answered (SPEC §4),
// or info@ and an auto-responder would mail each other forever; it is recognised before anything
// else.
//
// Parse only reads the message; Classify only looks at what Parse produced. Neither decides
// whether the sender is trusted (SES's verdicts and the account email do that) nor whether a reply
// token or a referenced message id belongs to a request: Classify hands both back for the caller
// to match.
package inmail

import (
	"fmt"
	"io"
	"mime"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jhillyerd/enmime/v2"

	"github.com/lethe-dev/lethe/internal/lerr"
)

// MaxSize is the largest message Parse accepts: SES receipt rules refuse anything bigger, so a
// larger input is not real mail to info@ and is not worth the memory.
const MaxSize = 40 << 20

// ErrTooLarge: the input is longer than MaxSize.
var ErrTooLarge = lerr.New(lerr.EINVALID, "inmail: message larger than 40 MB")

// ErrMalformed: the input cannot be read as a mail message at all.
var ErrMalformed = lerr.New(lerr.EINVALID, "inmail: malformed message")

// Address is one mailbox of a header.
type Address struct {
	Name  string // display name, RFC 2047 decoded
	Email string // lower-cased and trimmed (platform.NormalizeEmail), the form accounts are keyed by
}

// Message is what Lethe needs of one received mail.
type Message struct {
	MessageID  string // without <>
	From       Address
	To, Cc     []Address
	Subject    string // RFC 2047 decoded, UTF-8
	Date       time.Time
	InReplyTo  []string // message ids without <>
	References []string // message ids without <>
	// Text is the body as text: the text/plain part, else text extracted from the HTML part, with
	// quoted reply text and signatures stripped, so that what the sender wrote now is not mixed
	// with what Lethe (or anyone) wrote before.
	Text string
	// Signature is the sender's signature, below "-- " (not quoted text): some people give their
	// name and address only there.
	Signature string
	// Header holds every header field as received (unfolded, not RFC 2047 decoded) under its
	// canonical name (textproto.CanonicalMIMEHeaderKey: "Message-Id", "List-Id").
	Header map[string][]string
}

// Parse reads one RFC 5322 message. It reads at most MaxSize bytes: a longer input is refused
// with ErrTooLarge. Only the text of the message is kept: attachments are decoded by enmime (it
// has no option to skip a part's content) and dropped when Parse returns.
func Parse(r io.Reader) (msg *Message, err error) {
	lr := &limitReader{r: r, n: MaxSize}
	defer func() {
		// enmime is third-party code fed with attacker-controlled input; a panic there must not
		// take the mail handler down.
		if p := recover(); p != nil {
			msg, err = nil, fmt.Errorf("%w: parser panic: %v", ErrMalformed, p)
		}
		if lr.over {
			msg, err = nil, ErrTooLarge
		}
	}()
	parser := enmime.NewParser(
		// A declared charset is what the sender's client used; detection confuses the 8-bit
		// Cyrillic charsets (KOI8-R, windows-1251) with each other. It still runs when nothing is
		// declared.
		enmime.DisableCharacterDetection(true),
		// One broken attachment must not lose the request written next to it.
		enmime.SkipMalformedParts(true),
		enmime.MultipartWOBoundaryAsSinglePart(true),
		enmime.SetReadPartErrorPolicy(enmime.AllowCorruptTextPartErrorPolicy),
		enmime.MaxStoredPartErrors(10),
	)
	root, err := parser.ReadParts(lr)
	if lr.over {
		return nil, ErrTooLarge
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	// Drain what enmime left unread (an epilogue, garbage after the last boundary) so that the
	// size limit covers the whole input.
	if _, err := io.Copy(io.Discard, lr); err != nil && !lr.over {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if lr.over {
		return nil, ErrTooLarge
	}

	m := &Message{Header: map[string][]string{}}
	for k, vs := range root.Header {
		ck := textproto.CanonicalMIMEHeaderKey(k)
		m.Header[ck] = append(m.Header[ck], vs...)
	}
	get := func(name string) string { return firstHeader(m.Header, name) }

	m.Subject = cleanText(decodeHeader(get("Subject")))
	m.MessageID = firstOf(messageIDs(get("Message-Id")))
	m.InReplyTo = messageIDs(strings.Join(m.Header["In-Reply-To"], " "))
	m.References = messageIDs(strings.Join(m.Header["References"], " "))
	if d := strings.TrimSpace(get("Date")); d != "" {
		if t, err := mail.ParseDate(d); err == nil {
			m.Date = t
		}
	}
	if from := addresses(get("From")); len(from) > 0 {
		m.From = from[0]
	}
	m.To = addresses(strings.Join(m.Header["To"], ", "))
	m.Cc = addresses(strings.Join(m.Header["Cc"], ", "))

	m.Text, m.Signature = stripQuoted(bodyText(root), isForward(m.Subject))
	return m, nil
}

// limitReader fails once more than n bytes have been read, and remembers it: enmime may wrap or
// swallow a read error, the flag may not be.
type limitReader struct {
	r    io.Reader
	n    int64
	over bool
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.over {
		return 0, ErrTooLarge
	}
	// Ask for one byte more than allowed, so exactly MaxSize bytes is accepted and MaxSize+1 is not.
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1]
	}
	n, err := l.r.Read(p)
	if int64(n) > l.n {
		l.over = true
		return int(l.n), ErrTooLarge
	}
	l.n -= int64(n)
	return n, err
}

func firstHeader(h map[string][]string, name string) string {
	if vs := h[textproto.CanonicalMIMEHeaderKey(name)]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

func firstOf(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// wordDecoder decodes RFC 2047 encoded words in any charset golang.org/x/text knows (KOI8-R and
// windows-1251 included), not only UTF-8 and ISO-8859-1 as mime.WordDecoder does alone.
var wordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

func decodeHeader(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	if d, err := wordDecoder.DecodeHeader(s); err == nil {
		return d
	}
	// A malformed encoded word: enmime's lenient decoder recovers what it can.
	return enmime.DecodeRFC2047(s)
}

// addresses parses an address list leniently: net/mail first, enmime's repairs of common
// breakage second, and last any bare addresses found in the text, so a malformed header still
// yields the mailbox.
func addresses(s string) []Address {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	p := mail.AddressParser{WordDecoder: wordDecoder}
	list, err := p.ParseList(s)
	if err != nil {
		list, err = enmime.ParseAddressList(s)
	}
	var out []Address
	if err == nil {
		for _, a := range list {
			if a == nil {
				continue
			}
			out = append(out, Address{Name: cleanText(strings.TrimSpace(decodeHeader(a.Name))), Email: normalizeEmail(a.Address)})
		}
		return out
	}
	for _, e := range emailPattern().FindAllString(s, -1) {
		out = append(out, Address{Email: normalizeEmail(e)})
	}
	return out
}

// msgIDPattern finds <id> tokens; ids outside angle brackets are taken word by word.
var msgIDPattern = lazyRegexp(`<([^<>\s]+)>`)

func messageIDs(s string) []string {
	var out []string
	if ms := msgIDPattern().FindAllStringSubmatch(s, -1); len(ms) > 0 {
		for _, m := range ms {
			out = append(out, m[1])
		}
		return out
	}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' || r == '\r' || r == '\n' }) {
		f = strings.Trim(f, "<>")
		if f != "" && strings.Contains(f, "@") {
			out = append(out, f)
		}
	}
	return out
}

// cleanText makes s valid UTF-8 without NULs, so nothing downstream (JSON, DynamoDB, templates)
// chokes on what a sender put in.
func cleanText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return s
}
