package inmail

import (
	"fmt"
	"io"
	"strings"

	"github.com/inbucket/html2text"
	"github.com/jhillyerd/enmime/v2"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/transform"
)

// maxText bounds the text kept of a body: a request is a few lines, and the extraction regexps
// should not run over megabytes a sender padded the message with.
const maxText = 256 << 10

func charsetReader(charset string, r io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(strings.TrimSpace(charset))
	if err != nil {
		return nil, fmt.Errorf("inmail: unknown charset %q", charset)
	}
	return transform.NewReader(r, enc.NewDecoder()), nil
}

// bodyText picks the body's text: every inline text/plain part (a multipart/mixed message may
// split the text around an attachment), else the first HTML part converted to text. Parts that
// are attachments — a disposition of attachment, or a file name — are never read as the body.
func bodyText(root *enmime.Part) string {
	isBody := func(ct string) func(*enmime.Part) bool {
		return func(p *enmime.Part) bool {
			return p.ContentType == ct && p.Disposition != "attachment" && p.FileName == "" && !insideAttachedMessage(p)
		}
	}
	var plain []string
	if root.FirstChild == nil && root.ContentType == "" {
		// No Content-Type at all is text/plain (RFC 2045 §5.2).
		plain = append(plain, string(root.Content))
	}
	for _, p := range root.DepthMatchAll(isBody("text/plain")) {
		plain = append(plain, string(p.Content))
	}
	var text string
	if len(plain) > 0 {
		text = strings.Join(plain, "\n\n")
	} else if h := root.DepthMatchFirst(isBody("text/html")); h != nil {
		html := string(h.Content)
		if len(html) > 4*maxText {
			html = html[:4*maxText]
		}
		t, err := html2text.FromString(html, html2text.Options{OmitLinks: true})
		if err == nil {
			text = t
		}
	}
	if len(text) > maxText {
		text = text[:maxText]
	}
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	text = strings.ReplaceAll(text, "\u00a0", " ")
	return cleanText(text)
}

// insideAttachedMessage: enmime does not descend into message/rfc822, but a multipart/digest or
// a parent marked as attachment holds someone else's text, not the sender's.
func insideAttachedMessage(p *enmime.Part) bool {
	for q := p.Parent; q != nil; q = q.Parent {
		if q.Disposition == "attachment" || q.ContentType == "message/rfc822" {
			return true
		}
	}
	return false
}

var (
	// forwardSubject: a forwarded message's content is the request itself (someone forwarding
	// their earlier mail), so it is kept, not stripped like quoted reply text.
	forwardSubject = lazyRegexp(`(?i)^\s*(?:(?:re|aw|отв|ответ)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*|\[[^\]]*\]\s*)*(?:fwd?|fw|пересл|wg|tr)\s*(?:\[\d+\]|\(\d+\))?\s*:`)
	// forwardMarker: the line mail clients put above a forwarded message.
	forwardMarker = lazyRegexp(`(?i)^\s*(?:-{2,}\s*(?:forwarded message|original message|пересылаемое сообщение|пересланное сообщение|исходное сообщение|forwarded message from .*)\s*-{2,}|begin forwarded message:|начало переадресованного сообщения:|-{3,}\s*forwarded by .*)\s*$`)
	// replyHeader: the line a client puts above quoted text, "On … wrote:", «… написал(а):»,
	// and the Yandex / Mail.ru form "20.11.2026, 10:00, "Lethe" <info@…>:".
	replyHeader = lazyRegexp(`(?i)(?:\bwrote|написал\s*\(а\)|написала|написал|пишет|schrieb|a écrit)\s*:\s*$|<[^<>\s]+@[^<>\s]+>\s*:\s*$`)
	// originalMessage: Outlook's separators above the message it replies to.
	originalMessage = lazyRegexp(`(?i)^\s*-{2,}\s*(?:original message|исходное сообщение)\s*-{2,}\s*$`)
	underscores     = lazyRegexp(`^\s*_{10,}\s*$`)
	outlookFrom     = lazyRegexp(`(?i)^\s*\*?(?:from|от|отправитель)\s*:\*?\s*\S`)
	outlookSent     = lazyRegexp(`(?i)^\s*\*?(?:sent|date|отправлено|дата)\s*:\*?\s*\S`)
	mobileFooter    = lazyRegexp(`(?i)^\s*(?:sent from my \S+.*|отправлено (?:с|из) .{1,40}|get outlook for \S+.*)\s*$`)
)

func isForward(subject string) bool { return forwardSubject().MatchString(subject) }

// stripQuoted removes what the sender did not write now: quoted lines ("> …"), a reply header and
// the original message under it, Outlook's "Original Message" block, the signature after "-- "
// (returned apart: a name or address may be written only there) and mobile footers. In a forward (forward true, or below a forward marker) the forwarded
// message is kept: it is the content.
func stripQuoted(text string, forward bool) (string, string) {
	lines := strings.Split(text, "\n")
	var out, sig []string
	inSignature := false
	nextNonEmpty := func(i int) string {
		for j := i + 1; j < len(lines) && j < i+6; j++ {
			if t := strings.TrimSpace(lines[j]); t != "" {
				return t
			}
		}
		return ""
	}
	for i := 0; i < len(lines); i++ {
		line := strings.TrimRight(lines[i], " \t")
		trim := strings.TrimSpace(line)
		if forwardMarker().MatchString(trim) && (forward || !originalMessage().MatchString(trim)) {
			// Everything below is the forwarded message: keep it, signature state ends.
			forward = true
			inSignature = false
			out = append(out, line)
			continue
		}
		if inSignature {
			if len(sig) < maxSignatureLines && !strings.HasPrefix(trim, ">") {
				sig = append(sig, line)
			}
			continue
		}
		if strings.HasPrefix(trim, ">") {
			continue
		}
		if lines[i] == "-- " || trim == "--" {
			inSignature = true
			continue
		}
		if mobileFooter().MatchString(trim) {
			continue
		}
		if forward {
			out = append(out, line)
			continue
		}
		// A reply header, possibly wrapped over two lines ("On Mon, 20 Nov 2026 at 10:00, Lethe
		// <info@…>\nwrote:").
		header, span := replyHeader().MatchString(trim) && replyHeaderStart(trim), 1
		if !header && i+1 < len(lines) {
			joined := trim + " " + strings.TrimSpace(lines[i+1])
			if replyHeader().MatchString(joined) && replyHeaderStart(joined) && !strings.HasSuffix(trim, ":") {
				header, span = true, 2
			}
		}
		if header {
			// Bottom-posting: the quoted text is "> "-prefixed and the sender writes below it,
			// so only the header goes. Otherwise the original follows unmarked: cut it.
			if strings.HasPrefix(nextNonEmpty(i+span-1), ">") {
				i += span - 1
				continue
			}
			break
		}
		if originalMessage().MatchString(trim) {
			break
		}
		if (underscores().MatchString(trim) || outlookFrom().MatchString(trim)) && outlookBlock(lines, i) {
			break
		}
		out = append(out, line)
	}
	return strings.TrimSpace(strings.Join(out, "\n")), strings.TrimSpace(strings.Join(sig, "\n"))
}

// maxSignatureLines: a signature is a few lines; more is not looked at.
const maxSignatureLines = 12

// replyHeaderStart keeps a sentence of the sender's that merely ends in "wrote:" from cutting the
// body: a reply header starts with "On", a date, a weekday or «В …», or names an address.
var replyHeaderStartPattern = lazyRegexp(`(?i)^(?:on\s|в\s|\d|am\s|le\s|mon|tue|wed|thu|fri|sat|sun|пн|вт|ср|чт|пт|сб|вс|понедельник|вторник|среда|среду|четверг|пятниц|суббот|воскресенье)|@`)

func replyHeaderStart(s string) bool { return replyHeaderStartPattern().MatchString(s) }

// outlookBlock: Outlook quotes nothing; it puts "From: …" and "Sent: …" (optionally under a line
// of underscores) above the original. Both must be there, so a "From:" line the sender typed
// does not cut the body.
func outlookBlock(lines []string, i int) bool {
	from := false
	for j := i; j < len(lines) && j < i+6; j++ {
		t := strings.TrimSpace(lines[j])
		switch {
		case outlookFrom().MatchString(t):
			from = true
		case from && outlookSent().MatchString(t):
			return true
		}
	}
	return false
}
