package inmail

import (
	"mime"
	"net/textproto"
	"slices"
	"strings"
	"time"

	"github.com/lethe-dev/lethe/internal/mailer"
	"github.com/lethe-dev/lethe/internal/platform"
)

// Kind is what a received mail asks for.
type Kind string

// Every kind Classify tells apart.
const (
	KindAccountDeletion Kind = "account_deletion" // "Data deletion": delete the whole account
	KindEndCustomer     Kind = "end_customer"     // "Data deletion — end customer": one end user of a bot
	KindConnectionWipe  Kind = "connection_wipe"  // "Data deletion" naming one channel connection to wipe
	KindAutomatic       Kind = "automatic"        // written by a machine: never acted on, never answered
	KindOther           Kind = "other"            // anything else: a person reads it
)

// Reasons Classify gives for KindAutomatic.
const (
	ReasonAutoReply   = "auto-reply"
	ReasonBounce      = "bounce"
	ReasonMailingList = "mailing-list"
)

// Classified is what Classify found in a message. Fields that do not apply to the Kind are empty.
type Classified struct {
	Kind Kind
	// Reason: for KindAutomatic one of ReasonAutoReply, ReasonBounce, ReasonMailingList; for
	// KindOther why the mail is not a request.
	Reason string
	// FullName and AccountEmail (account deletion and connection wipe), as the sender wrote them.
	// AccountEmail is normalized (platform.NormalizeEmail).
	FullName, AccountEmail string
	// Channel (connection wipe): one of platform.Channels.
	Channel string
	// BotName and Username (end customer); Username without a leading @.
	BotName, Username string
	// LastMessage (end customer): the date of the end customer's last message, UTC midnight;
	// zero if none was found.
	LastMessage time.Time
	// Tokens: the reply tokens of the To/Cc addresses that plus-address the info address,
	// lower-cased. Filled for every Kind: the caller matches them against its requests.
	Tokens []string
	// Referenced: the message ids of In-Reply-To and References, without <>; for an id SES gave
	// (…@email.amazonses.com, …@<region>.amazonses.com) also the bare local part, which is what
	// SendEmail returned and what Lethe stored. Filled for every Kind.
	Referenced []string
}

// Classify tells what m asks for. infoAddress is INFO_ADDRESS ("info@example.com", a display
// name allowed). Classify is total: any Message, even a zero one, gives an answer.
func Classify(m *Message, infoAddress string) Classified {
	var c Classified
	if m == nil {
		c.Kind, c.Reason = KindOther, "no message"
		return c
	}
	c.Tokens = replyTokens(m, infoAddress)
	c.Referenced = referenced(m)

	if reason := automatic(m); reason != "" {
		c.Kind, c.Reason = KindAutomatic, reason
		return c
	}

	subject := normalizeSubject(m.Subject)
	fields := labelledFields(m.Text)
	// What is signed under the mail counts when the body itself does not say it.
	signed := labelledFields(m.Signature)
	if fields.name == "" {
		fields.name = signed.name
	}
	if fields.email == "" {
		fields.email = signed.email
	}
	bodyAndSignature := strings.TrimSpace(m.Text + "\n\n" + m.Signature)
	switch {
	case endCustomerSubject().MatchString(subject):
		c.Kind = KindEndCustomer
		c.BotName = cleanValue(fields.bot)
		c.Username = strings.TrimLeft(cleanValue(fields.username), "@")
		if d, ok := parseDate(fields.date); ok {
			c.LastMessage = d
		} else if d, ok := firstDate(m.Text); ok {
			// No labelled date: the first date written anywhere ("my last message was on
			// 20 November 2026").
			c.LastMessage = d
		}
	case accountSubject().MatchString(subject):
		c.Kind = KindAccountDeletion
		c.FullName = fullName(fields, m.Text, m.Signature)
		c.AccountEmail = accountEmail(fields, bodyAndSignature, infoAddress)
		// "Data deletion: Telegram connection" names the channel in the subject itself; any other
		// text after "Data deletion" makes it a different subject (a person reads it).
		rest := accountSubject().FindStringSubmatch(subject)[1]
		restChannel, _ := channelIn(rest)
		if rest != "" && restChannel == "" {
			c = Classified{Kind: KindOther, Reason: "subject is not a data deletion request", Tokens: c.Tokens, Referenced: c.Referenced}
			break
		}
		if ch := wipeRequest(m.Text, fields, rest); ch != "" {
			c.Kind, c.Channel = KindConnectionWipe, ch
		}
	default:
		c.Kind = KindOther
		if subject == "" {
			c.Reason = "no subject"
		} else {
			c.Reason = "subject is not a data deletion request"
		}
	}
	return c
}

// automatic names why m was written by a machine, or returns "". Bounces are checked first: a
// DSN often carries auto-reply headers too, and "bounce" is the more useful answer.
func automatic(m *Message) string {
	h := func(name string) string { return strings.TrimSpace(firstHeader(m.Header, name)) }
	has := func(name string) bool { _, ok := m.Header[canonical(name)]; return ok }

	ct, params, _ := mime.ParseMediaType(h("Content-Type"))
	if ct == "" {
		// An unparsable Content-Type still says what it is in its first word.
		ct = strings.ToLower(strings.TrimSpace(strings.SplitN(h("Content-Type"), ";", 2)[0]))
	}
	switch {
	case ct == "multipart/report" && strings.EqualFold(params["report-type"], "disposition-notification"):
		// A read receipt (RFC 8098): written by a client on its own.
		return ReasonAutoReply
	case ct == "multipart/report", ct == "message/delivery-status", ct == "message/global-delivery-status":
		return ReasonBounce
	}
	local, _, _ := strings.Cut(m.From.Email, "@")
	if local == "mailer-daemon" || local == "postmaster" {
		return ReasonBounce
	}
	// The null reverse-path is reserved for DSNs and other automatic mail (RFC 5321 §4.5.5);
	// Exim marks its bounces with X-Failed-Recipients.
	if h("Return-Path") == "<>" || has("X-Failed-Recipients") {
		return ReasonBounce
	}
	if as := strings.ToLower(h("Auto-Submitted")); has("Auto-Submitted") && strings.TrimSpace(strings.SplitN(as, ";", 2)[0]) != "no" {
		return ReasonAutoReply
	}
	// Vacation responders and Exchange mark their mail with these; their presence is enough.
	if has("X-Autoreply") || has("X-Autorespond") || has("X-Auto-Response-Suppress") {
		return ReasonAutoReply
	}
	switch strings.ToLower(h("Precedence")) {
	case "auto_reply":
		return ReasonAutoReply
	case "bulk", "list", "junk":
		return ReasonMailingList
	}
	if has("List-Id") || has("List-Unsubscribe") {
		return ReasonMailingList
	}
	return ""
}

func canonical(name string) string { return textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name)) }

// subjectPrefix: reply and forward prefixes of the clients people use (English, Russian, German,
// Scandinavian), with an optional count ("Re[2]:", "Fwd(3):"), and list or ticket tags.
var subjectPrefix = lazyRegexp(`(?i)^\s*(?:(?:re|fwd?|fw|aw|wg|sv|vs|tr|отв|ответ|пересл|переслано)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]|\[[^\]]*\])\s*`)

// subjectQuotes: the quotes people put a subject in («Удаление данных», "Data deletion",
// 'Data deletion', “…”, „…“), opening and closing.
var subjectQuotes = [][2]string{{"«", "»"}, {`"`, `"`}, {"'", "'"}, {"“", "”"}, {"„", "“"}, {"„", "”"}, {"‘", "’"}, {"‹", "›"}}

// normalizeSubject strips prefixes, tags and enclosing quotes (in any order, stacked: `Re: Fwd:
// «Удаление данных»`, `"Re: Data deletion"`), lower-cases and collapses white space.
func normalizeSubject(s string) string {
	for i := 0; i < 100; i++ {
		before := s
		if loc := subjectPrefix().FindStringIndex(s); loc != nil && loc[1] > 0 {
			s = s[loc[1]:]
		}
		s = strings.TrimSpace(s)
		for _, q := range subjectQuotes {
			if len(s) > len(q[0])+len(q[1]) && strings.HasPrefix(s, q[0]) && strings.HasSuffix(s, q[1]) {
				s = strings.TrimSpace(s[len(q[0]) : len(s)-len(q[1])])
				break
			}
		}
		if s == before {
			break
		}
	}
	s = strings.ToLower(strings.Join(strings.Fields(s), " "))
	return strings.ReplaceAll(s, "ё", "е")
}

var (
	// endCustomerSubject: "data deletion — end customer" with any dash, a colon or nothing between,
	// and the Russian «удаление данных — конечный клиент» / «— клиент бота».
	endCustomerSubject = lazyRegexp(`^(?:data deletion|удаление данных)\s*[—–‒―\-:]*\s*(?:end[\s\-]?customer|end[\s\-]?user|конечн(?:ый|ого) (?:клиент|пользовател)(?:ь|я|а)?|клиент(?:а)? бота|пользовател(?:ь|я) бота)$`)
	// accountSubject: "data deletion" exactly, or followed by a separator and what to delete
	// ("Data deletion: Telegram connection"); group 1 is that rest.
	accountSubject = lazyRegexp(`^(?:data deletion|удаление данных)(?:\s*[—–‒―\-:]+\s*(.+))?$`)
)

// replyTokens: the tokens of info+<token>@ addresses among To and Cc, lower-cased, once each.
func replyTokens(m *Message, info string) []string {
	var addrs []string
	for _, list := range [][]Address{m.To, m.Cc} {
		for _, a := range list {
			addrs = append(addrs, a.Email)
		}
	}
	return AddReplyTokens(nil, info, addrs...)
}

// AddReplyTokens adds to tokens, lower-cased and once each, the reply tokens of those addresses
// that plus-address the info address (the envelope recipients SES lists, say, besides the headers).
func AddReplyTokens(tokens []string, info string, addrs ...string) []string {
	for _, a := range addrs {
		if a == "" {
			continue
		}
		t, ok := mailer.TokenFromAddress(info, a)
		if !ok {
			continue
		}
		t = strings.ToLower(t)
		if !slices.Contains(tokens, t) {
			tokens = append(tokens, t)
		}
	}
	return tokens
}

// referenced: In-Reply-To then References, once each; SES ids also as their local part.
func referenced(m *Message) []string {
	var out []string
	seen := map[string]bool{}
	add := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	for _, list := range [][]string{m.InReplyTo, m.References} {
		for _, id := range list {
			id = strings.Trim(strings.TrimSpace(id), "<>")
			add(id)
			if local, domain, ok := strings.Cut(id, "@"); ok && isSESDomain(domain) {
				add(local)
			}
		}
	}
	return out
}

func isSESDomain(d string) bool {
	d = strings.ToLower(d)
	return d == "amazonses.com" || strings.HasSuffix(d, ".amazonses.com")
}

func normalizeEmail(s string) string {
	return platform.NormalizeEmail(strings.Trim(strings.TrimSpace(s), "<>.,;:"))
}

// deletionWords: what a person writes when their mail is about deleting data, in any form the
// intake cannot read as a request (no subject, another subject, a question about deletion).
var deletionWords = lazyRegexp(`(?i)(?:^|[^\p{L}])(?:delet\p{L}*|remov\p{L}*|eras\p{L}*|forget me|right to be forgotten|gdpr|personal data|удал\p{L}*|стер\p{L}*|сотр\p{L}*|забуд\p{L}*|персональн\p{L}* данн\p{L}*|152-фз)`)

// MentionsDeletion reports whether m, which Classify found no request in, is still about deleting
// data: such a mail is answered with how to write a request, while a mail about anything else is
// for the people who read info@.
func MentionsDeletion(m *Message) bool {
	if m == nil {
		return false
	}
	text := m.Text
	if len(text) > 64<<10 {
		text = text[:64<<10]
	}
	return deletionWords().MatchString(m.Subject) || deletionWords().MatchString(text)
}
