package localsmtp

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"golang.org/x/text/encoding/htmlindex"
)

// maxEventHeaderBytes is where SES truncates mail.headers (and sets headersTruncated): "if the
// headers are larger than 10 KB". Measured here as the sum of names and values, an approximation.
const maxEventHeaderBytes = 10 * 1024

type header struct{ name, value string }

// parseHeaders reads the header section of raw (up to the first empty line) in order. Folded lines
// are unfolded the way RFC 5322 says and SES does: the line break goes, the leading white space of
// the continuation stays (so "a;\r\n boundary=x" becomes "a; boundary=x" — SES's sample events show
// exactly these doubled spaces). The body is never looked at.
func parseHeaders(raw []byte) []header {
	var hs []header
	cur := -1
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			break // end of the header section
		}
		if line[0] == ' ' || line[0] == '\t' {
			if cur >= 0 {
				hs[cur].value += string(line)
			}
			continue
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(bytes.TrimSpace(name)) == 0 {
			cur = -1 // not a header field (an mbox "From " line, say): skipped with its continuations
			continue
		}
		hs = append(hs, header{name: string(bytes.TrimSpace(name)), value: string(bytes.TrimLeft(value, " \t"))})
		cur = len(hs) - 1
	}
	for i := range hs {
		hs[i].value = strings.TrimRight(hs[i].value, " \t")
	}
	return hs
}

func first(hs []header, name string) (string, bool) {
	for _, h := range hs {
		if strings.EqualFold(h.name, name) {
			return h.value, true
		}
	}
	return "", false
}

// verdicts are the receipt's check results.
type verdicts struct {
	spam, virus, spf, dkim, dmarc string
	dmarcPolicy                   string
}

// verdictsFrom reads VerdictHeader (the first one) into verdicts; all PASS without it.
func verdictsFrom(hs []header) (verdicts, error) {
	v := verdicts{spam: "PASS", virus: "PASS", spf: "PASS", dkim: "PASS", dmarc: "PASS"}
	raw, ok := first(hs, VerdictHeader)
	if !ok {
		return v, nil
	}
	policySet := false
	for _, part := range strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ';' }) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, val, ok := strings.Cut(part, "=")
		if !ok {
			return v, fmt.Errorf("%s: %q is not key=value", VerdictHeader, part)
		}
		key = strings.ToLower(strings.TrimSpace(key))
		val = strings.TrimSpace(val)
		if key == "dmarcpolicy" || key == "dmarc-policy" || key == "dmarc_policy" {
			switch p := strings.ToLower(val); p {
			case "none", "quarantine", "reject":
				v.dmarcPolicy, policySet = p, true
				continue
			}
			return v, fmt.Errorf("%s: dmarcPolicy %q is not none, quarantine or reject", VerdictHeader, val)
		}
		status := strings.ToUpper(val)
		switch status {
		case "PASS", "FAIL", "GRAY", "PROCESSING_FAILED", "DISABLED":
		default:
			return v, fmt.Errorf("%s: %s=%q is not PASS, FAIL, GRAY, PROCESSING_FAILED or DISABLED", VerdictHeader, key, val)
		}
		switch key {
		case "spam":
			v.spam = status
		case "virus":
			v.virus = status
		case "spf":
			v.spf = status
		case "dkim":
			v.dkim = status
		case "dmarc":
			v.dmarc = status
		default:
			return v, fmt.Errorf("%s: unknown key %q (spf, dkim, dmarc, spam, virus, dmarcPolicy)", VerdictHeader, key)
		}
	}
	// SES sets dmarcPolicy only when DMARC fails; "none" is the weakest policy a failing domain can
	// publish, so it is the default that makes no claim of enforcement.
	if v.dmarc == "FAIL" && !policySet {
		v.dmarcPolicy = "none"
	}
	return v, nil
}

type eventInput struct {
	id          string
	from        string   // envelope MAIL FROM
	rcpts       []string // envelope RCPT TO, all matched by the rule
	headers     []header
	verdicts    verdicts
	received    time.Time
	triggered   time.Time
	functionARN string
}

// buildEvent makes the record SES's Lambda action delivers.
func buildEvent(in eventInput) events.SimpleEmailEvent {
	received := in.received.UTC().Truncate(time.Millisecond) // SES stamps milliseconds
	triggered := in.triggered.UTC().Truncate(time.Millisecond)
	if triggered.Before(received) {
		triggered = received
	}
	hs := make([]events.SimpleEmailHeader, 0, len(in.headers))
	truncated, size := false, 0
	for _, h := range in.headers {
		size += len(h.name) + len(h.value)
		if size > maxEventHeaderBytes {
			truncated = true
			break
		}
		hs = append(hs, events.SimpleEmailHeader{Name: h.name, Value: h.value})
	}
	common := events.SimpleEmailCommonHeaders{
		// SES's Return-Path header, from which this comes, is the envelope sender it prepends.
		ReturnPath: in.from,
	}
	if v, ok := first(in.headers, "From"); ok {
		common.From = addressList(v)
	}
	if v, ok := first(in.headers, "To"); ok {
		common.To = addressList(v)
	}
	if v, ok := first(in.headers, "Cc"); ok {
		common.Cc = addressList(v)
	}
	common.MessageID, _ = first(in.headers, "Message-ID")
	common.Date, _ = first(in.headers, "Date")
	if v, ok := first(in.headers, "Subject"); ok {
		common.Subject = decodeText(v)
	}
	return events.SimpleEmailEvent{Records: []events.SimpleEmailRecord{{
		EventVersion: "1.0",
		EventSource:  "aws:ses",
		SES: events.SimpleEmailService{
			Mail: events.SimpleEmailMessage{
				Timestamp:        received,
				Source:           in.from,
				MessageID:        in.id,
				Destination:      append([]string(nil), in.rcpts...),
				HeadersTruncated: truncated,
				Headers:          hs,
				CommonHeaders:    common,
			},
			Receipt: events.SimpleEmailReceipt{
				Timestamp:            triggered,
				ProcessingTimeMillis: triggered.Sub(received).Milliseconds(),
				Recipients:           append([]string(nil), in.rcpts...),
				SpamVerdict:          events.SimpleEmailVerdict{Status: in.verdicts.spam},
				VirusVerdict:         events.SimpleEmailVerdict{Status: in.verdicts.virus},
				SPFVerdict:           events.SimpleEmailVerdict{Status: in.verdicts.spf},
				DKIMVerdict:          events.SimpleEmailVerdict{Status: in.verdicts.dkim},
				DMARCVerdict:         events.SimpleEmailVerdict{Status: in.verdicts.dmarc},
				DMARCPolicy:          in.verdicts.dmarcPolicy,
				Action: events.SimpleEmailReceiptAction{
					Type:           "Lambda",
					FunctionARN:    in.functionARN,
					InvocationType: "Event",
				},
			},
		},
	}}}
}

// wordDecoder decodes RFC 2047 encoded words in any charset golang.org/x/text knows.
var wordDecoder = &mime.WordDecoder{CharsetReader: func(charset string, input io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return nil, err
	}
	return enc.NewDecoder().Reader(input), nil
}}

// decodeText decodes encoded words in an unstructured header such as Subject. SES's commonHeaders
// carry headers decoded to Unicode (its address lists are re-serialised with decoded display names
// and "Doe, John" re-quoted, which is the behaviour of a MIME library's decoded getters); the raw
// form stays in mail.headers. A value that does not decode is kept as it is.
func decodeText(v string) string {
	d, err := wordDecoder.DecodeHeader(v)
	if err != nil {
		return v
	}
	return d
}

// addressList renders an address header as SES's commonHeaders do: one string per address,
// `Name <addr>` with the name decoded and quoted when it holds specials, or the bare address. A value
// that does not parse is kept whole.
func addressList(v string) []string {
	p := mail.AddressParser{WordDecoder: wordDecoder}
	as, err := p.ParseList(v)
	if err != nil || len(as) == 0 {
		return []string{v}
	}
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = formatAddress(a)
	}
	return out
}

func formatAddress(a *mail.Address) string {
	if a.Name == "" {
		return a.Address
	}
	name := a.Name
	if strings.ContainsAny(name, `()<>@,;:\".[]`) {
		name = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name) + `"`
	}
	return name + " <" + a.Address + ">"
}
