package inmail

import (
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/lethe-dev/lethe/internal/mailer"
	"github.com/lethe-dev/lethe/internal/platform"
)

// fields are the "Label: value" lines of a body, the first of each kind.
type fields struct {
	name, email, bot, username, date, channel string
}

// labelLine: "Label: value", the label short and starting the line; bullets, list numbers and
// markdown or html2text emphasis ("*Name:* …") around it are allowed.
var labelLine = lazyRegexp(`^[\s\-•*·–—]*(?:\d{1,2}[.)]\s*)?\**([^:：\n]{1,48}?)\**\s*[:：]\s*\**\s*(.*?)\s*$`)

// labelWords drops what people put before a label ("Your name", «Ваше имя», «Мой ник»).
var labelWords = lazyRegexp(`^(?:your|my|the|ваш[аеи]?|мо[йяеё]|моего|вашего)\s+`)

var (
	nameLabels = set("full name", "name", "name and surname", "first and last name", "full legal name",
		"account holder", "account owner", "contact name", "фио", "ф.и.о", "ф. и. о", "ф.и.о.", "имя",
		"полное имя", "имя и фамилия", "фамилия и имя", "фамилия имя", "имя фамилия", "фамилия, имя",
		"фамилия, имя, отчество", "фамилия имя отчество", "владелец аккаунта")
	emailLabels = set("email", "e-mail", "e mail", "mail", "email address", "e-mail address", "account email",
		"account e-mail", "account email address", "email of the account", "email of account",
		"login email", "account", "login", "почта", "эл. почта", "эл.почта", "электронная почта",
		"адрес почты", "адрес электронной почты", "e-mail аккаунта", "email аккаунта", "почта аккаунта",
		"электронная почта аккаунта", "адрес аккаунта", "аккаунт", "логин", "емейл", "имейл", "мейл",
		"е-мейл", "e-mail учетной записи", "почта учетной записи", "учетная запись")
	botLabels = set("bot", "bot name", "bot's name", "name of the bot", "bot username", "chatbot",
		"бот", "название бота", "имя бота", "чат-бот", "чатбот", "ник бота")
	userLabels = set("username", "user name", "user", "nickname", "nick", "handle", "login name",
		"telegram username", "имя пользователя", "ник", "никнейм", "пользователь", "юзернейм",
		"логин пользователя", "имя в мессенджере")
	dateLabels = set("date of last message", "date of my last message", "last message", "last message date",
		"date of the last message", "last message on", "date", "last contact", "дата последнего сообщения",
		"последнее сообщение", "дата", "дата последнего обращения", "когда писал", "когда писала")
	channelLabels = set("channel", "connection", "connection type", "type of connection", "connection to wipe",
		"канал", "подключение", "тип подключения", "мессенджер", "интеграция", "вид подключения")
)

func hasAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

func labelledFields(text string) fields {
	var f fields
	for _, line := range strings.Split(text, "\n") {
		if len(line) > 400 {
			continue
		}
		// "Full name: …, account email: …" gives two fields on one line.
		for _, seg := range lineSegments(line) {
			m := labelLine().FindStringSubmatch(seg)
			if m == nil {
				continue
			}
			value := strings.TrimSpace(m[2])
			if value == "" {
				continue
			}
			var dst *string
			switch labelKind(m[1]) {
			case "name":
				dst = &f.name
			case "email":
				dst = &f.email
			case "bot":
				dst = &f.bot
			case "username":
				dst = &f.username
			case "date":
				dst = &f.date
			case "channel":
				dst = &f.channel
			default:
				continue
			}
			if *dst == "" {
				*dst = value
			}
		}
	}
	return f
}

// labelKind names the field a label introduces ("name", "email", "bot", "username", "date",
// "channel"), or "".
func labelKind(raw string) string {
	label := strings.ToLower(strings.Join(strings.Fields(strings.Trim(raw, " *_")), " "))
	label = strings.ReplaceAll(label, "ё", "е")
	label = labelWords().ReplaceAllString(label, "")
	label = strings.TrimSuffix(strings.TrimSpace(label), ".")
	switch {
	case nameLabels[label]:
		return "name"
	case emailLabels[label]:
		return "email"
	case botLabels[label]:
		return "bot"
	case userLabels[label]:
		return "username"
	case dateLabels[label]:
		return "date"
	case channelLabels[label]:
		return "channel"
	// Labels people make up around the expected words ("Username in Telegram", «Дата
	// последнего сообщения боту», "Bot I wrote to").
	case hasAny(label, "date", "дата", "last message", "последнее сообщение"):
		return "date"
	case hasAny(label, "username", "user name", "ник", "имя пользователя", "юзернейм"):
		return "username"
	case hasAny(label, "bot", "бот"):
		return "bot"
	case hasAny(label, "email", "e-mail", "почт", "мейл"):
		return "email"
	case hasAny(label, "full name", "фио", "ф.и.о"):
		return "name"
	}
	return ""
}

var (
	// segmentBreak: where a line may hold a second "label: value" (after a comma, semicolon or bar).
	segmentBreak = lazyRegexp(`\s*[,;|]\s*`)
	// segmentLabel: the label that must follow such a break for the line to be split there.
	segmentLabel = lazyRegexp(`^\**([^:：,;|\n]{1,48}?)\**\s*[:：]`)
)

// lineSegments splits a line before each known label that follows a comma, semicolon or bar, so
// "Full name: Ivan Petrov, account email: ivan@example.com" is two fields; a comma that is part
// of a value ("Petrov, Ivan") stays.
func lineSegments(line string) []string {
	var out []string
	start := 0
	for _, loc := range segmentBreak().FindAllStringIndex(line, 20) {
		if m := segmentLabel().FindStringSubmatch(line[loc[1]:]); m != nil && labelKind(m[1]) != "" {
			out = append(out, line[start:loc[0]])
			start = loc[1]
		}
	}
	return append(out, line[start:])
}

// cleanValue trims what surrounds a value people type: quotes, emphasis, trailing punctuation.
func cleanValue(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.Trim(s, " \t*_\"'«»“”„`.,;")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200])
	}
	return s
}

var (
	// namePhrase: a name given in a sentence ("My name is …", «Меня зовут …»), up to the end of
	// the sentence or line; the words that are not the name are cut by nameWords.
	namePhrase = lazyRegexp(`(?i)(?:my (?:full )?name is|меня зовут|моё имя|мое имя|я,?\s+владелец аккаунта,?)\s+([^\n.,;!?()<>]{2,100})`)
	// selfPhrase: a weaker introduction ("I am …", "I, …, ask", "this is …", «Я, …», «это …»): only a name
	// written with capitals counts after it ("I am writing" is no name).
	selfPhrase = lazyRegexp(`(?i)(?:^|[^\p{L}])(?:i am|i'm|i’m|this is|i\s*,|я|это)(?:\s*[,—–-]\s*|\s+)([^\n.,;!?()<>]{2,100})`)
	// closing: the line a sender signs off with; the name follows on it or on the next line.
	closing = lazyRegexp(`(?i)^(?:(?:best|kind|warm|many)\s+(?:regards|wishes|thanks)|regards|thanks|thank you|many thanks|sincerely|yours(?: sincerely| truly| faithfully)?|cheers|best|с уважением|спасибо|заранее спасибо|всего доброго|всего наилучшего|благодарю|с наилучшими пожеланиями)(?:[\s,.!:—–-]+(.*))?$`)
	// notNameWord: words that end a name in running text ("Ivan Petrov and my email is …").
	notNameWord = set("and", "my", "the", "from", "with", "please", "account", "email", "e-mail", "owner", "here", "writing",
		"и", "а", "мой", "моя", "моё", "мое", "с", "из", "прошу", "пожалуйста", "почта", "аккаунт", "владелец", "пишу")
)

// fullName: the name on a name line; else one given in a sentence; else the signature's.
func fullName(f fields, text, signature string) string {
	if f.name != "" {
		return cleanValue(emailPattern().ReplaceAllString(f.name, ""))
	}
	if m := namePhrase().FindStringSubmatch(text); m != nil {
		if n := nameWords(m[1], false); n != "" {
			return n
		}
	}
	for _, m := range selfPhrase().FindAllStringSubmatch(text, 10) {
		if n := nameWords(m[1], true); n != "" {
			return n
		}
	}
	return signatureName(text, signature)
}

// nameWords: the leading words of s that can be a name (letters, hyphens, apostrophes; at most
// four), up to the first word that cannot; capitals true wants each word capitalized, and two
// words at least.
func nameWords(s string, capitals bool) string {
	var out []string
	for _, w := range strings.Fields(s) {
		if len(out) == 4 || notNameWord[strings.ToLower(w)] || !isNameWord(w) {
			break
		}
		if capitals && !unicode.IsUpper([]rune(w)[0]) {
			break
		}
		out = append(out, w)
	}
	if len(out) == 0 || capitals && len(out) < 2 {
		return ""
	}
	return cleanValue(strings.Join(out, " "))
}

func isNameWord(w string) bool {
	for i, r := range w {
		if !unicode.IsLetter(r) && !(i > 0 && (r == '-' || r == '\'' || r == '’' || r == '.')) {
			return false
		}
	}
	return true
}

// signatureName: a name signed under the mail — after a closing ("Best regards,", «С
// уважением,»), on its line or the next, or the first line of the "-- " signature.
func signatureName(text, signature string) string {
	lines := strings.Split(text, "\n")
	for i := len(lines) - 1; i >= 0 && i >= len(lines)-12; i-- {
		m := closing().FindStringSubmatch(strings.TrimSpace(lines[i]))
		if m == nil {
			continue
		}
		if n := nameWords(m[1], true); n != "" {
			return n
		}
		for j := i + 1; j < len(lines) && j <= i+3; j++ {
			if t := strings.TrimSpace(lines[j]); t != "" {
				if n := nameWords(t, true); n != "" && len(strings.Fields(t)) == len(strings.Fields(n)) {
					return n
				}
				break
			}
		}
	}
	for _, l := range strings.Split(signature, "\n") {
		t := strings.TrimSpace(l)
		if t == "" {
			continue
		}
		if n := nameWords(t, true); n != "" && len(strings.Fields(t)) == len(strings.Fields(n)) {
			return n
		}
		break
	}
	return ""
}

// emailPattern: an address as people write it, internationalized domains (пример.рф) included.
var emailPattern = lazyRegexp(`[\p{L}\p{N}._%+\-]+@[\p{L}\p{N}\-]+(?:\.[\p{L}\p{N}\-]+)*\.\p{L}{2,}`)

// accountEmail: the address on the email line, else the first address of the body that is not
// the info address (nor one of its plus-addresses).
func accountEmail(f fields, text, info string) string {
	if e := emailPattern().FindString(f.email); e != "" {
		return normalizeEmail(e)
	}
	infoEmail := ""
	if as := addresses(info); len(as) > 0 {
		infoEmail = as[0].Email
	}
	for _, e := range emailPattern().FindAllString(text, 50) {
		e = normalizeEmail(e)
		if e == infoEmail {
			continue
		}
		if _, ok := mailer.TokenFromAddress(info, e); ok {
			continue
		}
		return e
	}
	return ""
}

// channelNames: the names people give each channel, English and Russian, Latin names with
// Russian case endings ("Telegram'а", «Телеграмом») included. Messenger alone is only Facebook's
// when written in Latin letters: «мессенджер» is the Russian common noun.
var channelNames = []struct {
	channel string
	re      func() *regexp.Regexp
}{
	{platform.ChannelTelegram, word(`telegram\p{Cyrillic}*|телеграмм?\p{Cyrillic}*|телег[аеуи]|тг`)},
	{platform.ChannelWhatsApp, word(`whats\s?app\p{Cyrillic}*|ва[тц]сапп?\p{Cyrillic}*|вотсапп?\p{Cyrillic}*|вацапп?\p{Cyrillic}*|ватсапп?\p{Cyrillic}*`)},
	{platform.ChannelMessenger, word(`(?:facebook|fb|meta)\s+messenger\p{Cyrillic}*|messenger\p{Cyrillic}*|фейсбук\p{Cyrillic}*\s+мессенджер\p{Cyrillic}*`)},
	{platform.ChannelInstagram, word(`instagram\p{Cyrillic}*|инстаграмм?\p{Cyrillic}*|инст[аеуы]|insta`)},
	{platform.ChannelVK, word(`vkontakte|vk\.com|vk\p{Cyrillic}*|вконтакте|в контакте|вк`)},
	{platform.ChannelViber, word(`viber\p{Cyrillic}*|вайбер\p{Cyrillic}*`)},
	{platform.ChannelSlack, word(`slack\p{Cyrillic}*|сла[кц]\p{Cyrillic}*|слэк\p{Cyrillic}*`)},
}

// word wraps alternatives in letter boundaries; Go's \b knows only ASCII letters.
func word(alts string) func() *regexp.Regexp {
	return lazyRegexp(`(?i)(?:^|[^\p{L}\p{N}_])(` + alts + `)(?:$|[^\p{L}\p{N}_])`)
}

// channelIn returns the channel named first in s, and where.
func channelIn(s string) (string, int) {
	best, at := "", -1
	for _, c := range channelNames {
		if loc := c.re().FindStringSubmatchIndex(s); loc != nil && (at < 0 || loc[2] < at) {
			best, at = c.channel, loc[2]
		}
	}
	return best, at
}

var (
	// wipeVerb: asking to remove something. Russian by stem, so every mood and aspect matches
	// («удалить», «удалите», «удаляйте», «отключите», «сотрите»).
	wipeVerb = lazyRegexp(`(?i)(?:^|[^\p{L}])(wipe|delete|remove|erase|purge|clear|disconnect|unlink|revoke|detach|удал\p{L}*|стер\p{L}*|сотр\p{L}*|отключ\p{L}*|отвяз\p{L}*|отвяж\p{L}*|очист\p{L}*|отозв\p{L}*)`)
	// strongVerb: verbs that are about a connection by themselves ("disconnect Viber").
	strongVerb = lazyRegexp(`(?i)^(?:wipe|disconnect|unlink|revoke|detach|отключ|отвяз|отвяж|отозв)`)
	// connectionNoun: what a wipe request names besides the channel.
	connectionNoun = lazyRegexp(`(?i)(?:^|[^\p{L}])(?:connection|integration|channel|link|подключени\p{L}*|интеграци\p{L}*|канал\p{L}*|привязк\p{L}*|связк\p{L}*|коннект\p{L}*)`)
	// accountPhrase: the whole account is asked for, which covers any connection.
	accountPhrase = lazyRegexp(`(?i)(?:^|[^\p{L}])(?:delete|remove|close|erase|terminate|cancel)\s+(?:my|the|our|this)?\s*(?:whole\s+|entire\s+|full\s+)?(?:etochatbot\s+)?(?:account|profile)|(?:удал|закр)\p{L}*\s+(?:(?:мой|мою|мо[её]|наш\p{L}*|вес\p{L}*|вс\p{L}*|полностью|целиком)\s+)*(?:аккаунт|учетн|учётн|профил)`)
	negation      = lazyRegexp(`(?i)(?:^|[^\p{L}])(?:not|don't|do not|dont|never|не|нельзя|без)\s+(?:\p{L}+\s+)?$`)
	sentenceBreak = lazyRegexp(`[.!?;]+(?:\s|$)|\n\s*\n`)
)

// wipeRequest returns the channel of a connection the body asks to wipe, or "". A sentence must
// ask to remove something and name a channel, and either name a connection ("the Telegram
// connection", «подключение Telegram») or use a verb that means it ("disconnect Viber"); a
// "Connection: Telegram" line counts too. A request for the whole account wins: it covers every
// connection. Negated verbs ("do not delete my account", «не удаляйте») do not count.
func wipeRequest(text string, f fields, subjectRest string) string {
	if len(text) > 64<<10 {
		text = text[:64<<10]
	}
	if affirmed(accountPhrase(), text) {
		return ""
	}
	if ch, _ := channelIn(subjectRest); ch != "" {
		return ch
	}
	for _, s := range sentenceBreak().Split(text, 200) {
		ch, _ := channelIn(s)
		if ch == "" {
			continue
		}
		for _, loc := range wipeVerb().FindAllStringSubmatchIndex(s, -1) {
			if negated(s[:loc[2]]) {
				continue
			}
			if strongVerb().MatchString(s[loc[2]:loc[3]]) || connectionNoun().MatchString(s) {
				return ch
			}
		}
	}
	if ch, _ := channelIn(f.channel); ch != "" {
		return ch
	}
	return ""
}

// affirmed: re matches somewhere not preceded by a negation.
func affirmed(re *regexp.Regexp, text string) bool {
	for _, loc := range re.FindAllStringIndex(text, 20) {
		if !negated(text[:loc[0]+leadingNonLetters(text[loc[0]:loc[1]])]) {
			return true
		}
	}
	return false
}

// negated: the words just before a verb negate it. Only the last few words are looked at, which
// also keeps a body full of verbs from making the check quadratic.
func negated(before string) bool {
	if len(before) > 48 {
		before = before[len(before)-48:]
	}
	return negation().MatchString(before)
}

func leadingNonLetters(s string) int {
	for i, r := range s {
		if unicode.IsLetter(r) {
			return i
		}
	}
	return len(s)
}

var months = map[string]time.Month{}

func init() {
	add := func(m time.Month, names ...string) {
		for _, n := range names {
			months[n] = m
		}
	}
	add(time.January, "january", "jan", "января", "январь", "янв")
	add(time.February, "february", "feb", "февраля", "февраль", "фев", "февр")
	add(time.March, "march", "mar", "марта", "март", "мар")
	add(time.April, "april", "apr", "апреля", "апрель", "апр")
	add(time.May, "may", "мая", "май")
	add(time.June, "june", "jun", "июня", "июнь", "июн")
	add(time.July, "july", "jul", "июля", "июль", "июл")
	add(time.August, "august", "aug", "августа", "август", "авг")
	add(time.September, "september", "sep", "sept", "сентября", "сентябрь", "сен", "сент")
	add(time.October, "october", "oct", "октября", "октябрь", "окт")
	add(time.November, "november", "nov", "ноября", "ноябрь", "ноя", "нояб")
	add(time.December, "december", "dec", "декабря", "декабрь", "дек")
}

var (
	isoDate     = lazyRegexp(`(?:^|[^\d])(\d{4})-(\d{1,2})-(\d{1,2})(?:$|[^\d])`)
	numericDate = lazyRegexp(`(?:^|[^\d])(\d{1,2})[./](\d{1,2})[./](\d{4}|\d{2})(?:$|[^\d])`)
	// dayMonth: «20 ноября 2026», "20 November 2026", "20th Nov. 2026".
	dayMonth = lazyRegexp(`(?i)(?:^|[^\p{L}\d])(\d{1,2})(?:st|nd|rd|th)?\s+(\p{L}{3,9})\.?,?\s+(\d{4})`)
	// monthDay: "November 20, 2026", "Nov 20th 2026".
	monthDay = lazyRegexp(`(?i)(?:^|[^\p{L}])(\p{L}{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})`)
)

// parseDate reads the first date in s, in any of the forms people write; date only, UTC
// midnight. Numeric dates are day first (Russian and European use) unless only month-first is
// valid (11/20/2026).
func parseDate(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	type cand struct {
		at int
		t  time.Time
	}
	var best *cand
	try := func(at int, y, m, d int) {
		t, ok := mkDate(y, m, d)
		if ok && (best == nil || at < best.at) {
			best = &cand{at, t}
		}
	}
	if m := isoDate().FindStringSubmatchIndex(s); m != nil {
		try(m[2], atoi(s[m[2]:m[3]]), atoi(s[m[4]:m[5]]), atoi(s[m[6]:m[7]]))
	}
	if m := numericDate().FindStringSubmatchIndex(s); m != nil {
		a, b, y := atoi(s[m[2]:m[3]]), atoi(s[m[4]:m[5]]), atoi(s[m[6]:m[7]])
		if y < 100 {
			y += 2000
		}
		if a <= 12 && b > 12 {
			a, b = b, a
		}
		try(m[2], y, b, a)
	}
	for _, m := range dayMonth().FindAllStringSubmatchIndex(s, 10) {
		if mon, ok := months[strings.ToLower(s[m[4]:m[5]])]; ok {
			try(m[2], atoi(s[m[6]:m[7]]), int(mon), atoi(s[m[2]:m[3]]))
			break
		}
	}
	for _, m := range monthDay().FindAllStringSubmatchIndex(s, 10) {
		if mon, ok := months[strings.ToLower(s[m[2]:m[3]])]; ok {
			try(m[2], atoi(s[m[6]:m[7]]), int(mon), atoi(s[m[4]:m[5]]))
			break
		}
	}
	if best == nil {
		return time.Time{}, false
	}
	return best.t, true
}

// firstDate: the first date anywhere in a body, for requests that give it in a sentence.
func firstDate(text string) (time.Time, bool) {
	if len(text) > 64<<10 {
		text = text[:64<<10]
	}
	return parseDate(text)
}

func mkDate(y, m, d int) (time.Time, bool) {
	if y < 1990 || y > 2200 || m < 1 || m > 12 || d < 1 || d > 31 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d { // 31 November
		return time.Time{}, false
	}
	return t, true
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}
