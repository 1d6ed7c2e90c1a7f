package mailer

import (
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"
	"unicode"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/lerr"
)

// Locales the mail is written in.
const (
	LocaleRU = "ru"
	LocaleEN = "en"
)

// Rendered is a mail ready to send.
type Rendered struct {
	Template    Template
	Locale      string // the locale actually used
	RequestID   string
	Subject     string
	Text, HTML  string
	Attachments []Attachment
}

// Attachment is a file sent with the mail.
type Attachment struct {
	Name        string
	ContentType string
	Content     []byte
}

// ErrActMismatch: the act given belongs to another request than the mail; sending it would
// disclose someone else's data.
var ErrActMismatch = lerr.New(lerr.EINTERNAL, "mailer: the act of destruction belongs to another request")

// Moscow is the time zone every date in a mail is stated in (the service's users are in Russia).
var Moscow = time.FixedZone("MSK", 3*3600)

// Render writes the mail's subject, plain-text and HTML bodies (and attachments) in its locale.
// baseURL resolves links given as paths. It fails, with a *MissingDataError, when the template
// lacks a fact it must state.
func Render(ml Mail, baseURL string) (Rendered, error) {
	parse, ok := parsed[ml.Template]
	if !ok {
		return Rendered{}, fmt.Errorf("%w %q", ErrUnknownTemplate, ml.Template)
	}
	sets, err := parse()
	if err != nil {
		return Rendered{}, err
	}
	loc := normLocale(ml.Locale)
	d := ml.Data
	if d.RequestID == "" && d.Act != nil {
		d.RequestID = d.Act.RequestID
	}
	for _, n := range append([]need{{"Data.RequestID", func(d *Data) bool { return has(d.RequestID) }}}, needs[ml.Template]...) {
		if !n.ok(&d) {
			return Rendered{}, &MissingDataError{Template: ml.Template, Field: n.field}
		}
	}
	v, err := buildView(ml.Template, loc, d, baseURL)
	if err != nil {
		return Rendered{}, err
	}
	r := Rendered{Template: ml.Template, Locale: loc, RequestID: v.RequestID}
	set := sets[loc]
	var b strings.Builder
	if err := set.text.ExecuteTemplate(&b, "subject", v); err != nil {
		return Rendered{}, fmt.Errorf("render %s subject: %w", ml.Template, err)
	}
	r.Subject = strings.Join(strings.Fields(b.String()), " ")
	b.Reset()
	if err := set.text.ExecuteTemplate(&b, "text", v); err != nil {
		return Rendered{}, fmt.Errorf("render %s text: %w", ml.Template, err)
	}
	r.Text = tidyText(b.String())
	b.Reset()
	if err := set.html.ExecuteTemplate(&b, "html", v); err != nil {
		return Rendered{}, fmt.Errorf("render %s html: %w", ml.Template, err)
	}
	r.HTML = b.String()
	if d.Act != nil && ml.Template == AccountDeletionCompleted {
		js, err := evidence.RenderJSON(*d.Act)
		if err != nil {
			return Rendered{}, fmt.Errorf("mailer: %s: act of destruction: %w", ml.Template, err)
		}
		r.Attachments = append(r.Attachments, Attachment{Name: v.ActFile, ContentType: "application/json", Content: js})
	}
	return r, nil
}

// need is one fact a template must have.
type need struct {
	field string
	ok    func(*Data) bool
}

func has(s string) bool { return strings.TrimSpace(s) != "" }

func field(name string, get func(*Data) string) need {
	return need{"Data." + name, func(d *Data) bool { return has(get(d)) }}
}

func milestone(name string) need {
	return need{"Data.Timeline[" + name + "]", func(d *Data) bool { _, ok := find(d.Timeline, name); return ok }}
}

var (
	needCancelURL   = field("CancelURL", func(d *Data) string { return d.CancelURL })
	needConfirmURL  = field("ConfirmURL", func(d *Data) string { return d.ConfirmURL })
	needDecisionURL = field("DecisionURL", func(d *Data) string { return d.DecisionURL })
	needBotName     = field("BotName", func(d *Data) string { return d.BotName })
	needEndUserRef  = field("EndUserRef", func(d *Data) string { return d.EndUserRef })
	needChannel     = field("Channel", func(d *Data) string { return d.Channel })
	needReason      = field("Reason", func(d *Data) string { return d.Reason })
	needState       = field("State", func(d *Data) string { return d.State })
	needError       = field("Error", func(d *Data) string { return d.Error })
	needCounts      = need{"Data.Counts", func(d *Data) bool { return d.Counts != nil }}
	needAct         = need{"Data.Act", func(d *Data) bool { return d.Act != nil }}
)

// needs are what each template cannot be sent without, beyond the request id: every date and
// link its wording promises.
var needs = map[Template][]need{
	AccountDeletionConfirmation: {needCancelURL, milestone(MilestoneSoftDeleteEnds), milestone(MilestoneHardDeleteBy),
		milestone(MilestoneBackupsRotatedBy)},
	AccountDeletionCancelled: {},
	CancelTooLate:            {milestone(MilestoneSoftDeleteEnds)},
	AccountDeleted:           {milestone(MilestoneBackupsRotatedBy)},
	AccountDeletionCompleted: {needAct},
	EndUserDeletionDone:      {needCounts},
	ConnectionWiped:          {needChannel, needCounts},
	EndCustomerOwnerNotice:   {needBotName, needEndUserRef, needDecisionURL, milestone(MilestoneEscalateAt)},
	EndCustomerEscalation:    {needBotName, needEndUserRef, needDecisionURL},
	EndCustomerReceived:      {needBotName, milestone(MilestoneCompleteBy)},
	EndCustomerApproved:      {needBotName, needCounts},
	EndCustomerDeclined:      {needBotName, needReason},
	VerificationRequest:      {needConfirmURL},
	IntakeReceived:           {},
	WorkflowFailureAlert:     {needState, needError},
	DeadlineMissed: {needState, field("Deadline", func(d *Data) string { return d.Deadline }),
		need{"Data.Timeline[Deadline]", func(d *Data) bool { _, ok := find(d.Timeline, d.Deadline); return ok }}},
	RetentionReport: {need{"Data.Retention", func(d *Data) bool { return d.Retention != nil && !d.Retention.Month.IsZero() }}},
}

// find is the named milestone; a zero time counts as absent.
func find(ms []Milestone, name string) (time.Time, bool) {
	for _, m := range ms {
		if m.Name == name && !m.At.IsZero() {
			return m.At, true
		}
	}
	return time.Time{}, false
}

// view is what the templates see: every value already worded, formatted and cleaned, so the
// templates only place text.
type view struct {
	Lang         string
	RequestID    string
	RequestKind  string
	Name         string
	AccountEmail string
	Timeline     []line // Label: the milestone, Value: the date
	Deleted      []string
	Kept         []line // Label: the category, Value: why it is kept
	Counts       []line // Label: the category, Value: the count
	CancelURL    string
	ConfirmURL   string
	DecisionURL  string
	StatusURL    string
	BotName      string
	Channel      string
	EndUserRef   string
	Reason       string
	State        string
	Error        string
	ActText      string
	ActHTML      htmltemplate.HTML // produced by evidence.RenderHTML, escaped there
	ActFile      string
	ActURL       string
	ActURLUntil  string
	// DeadlineMissed: the deadline's wording and its date.
	MissedLabel, MissedAt string
	// RetentionReport.
	ReportMonth   string // "ноябрь 2026 г.", "November 2026"
	ReportRuns    int
	ReportAsOf    string
	Report        []reportLine
	ReportTotal   reportLine
	ReportOverdue bool // some category's oldest item is past its retention

	dates map[string]string
}

// reportLine is one category of a retention report, every value formatted.
type reportLine struct {
	Label                                    string
	Deleted, Objects, Repaired, Unrepairable string
	Oldest, LimitBy                          string // "" when the sweep left no dated item of it
	Overdue                                  bool
}

type line struct{ Label, Value string }

// Date is the named milestone's date, "" when the timeline lacks it.
func (v *view) Date(name string) string { return v.dates[name] }

// buildView words, formats and cleans what template t shows of d, in locale loc.
func buildView(t Template, loc string, d Data, baseURL string) (*view, error) {
	v := recipientView(t, loc, d)
	if t == IntakeReceived {
		// The neutral answer may reach someone who is not the account's owner: anything drawn
		// from an account (its address, its owner's name, its bots, its dates) would tell them
		// the account exists. The mail states the request id and nothing else.
		return &view{Lang: loc, RequestID: v.RequestID, dates: map[string]string{}}, nil
	}
	if d.RequestKind != "" {
		v.RequestKind = titleOr(evidence.RequestKindTitle, d.RequestKind, loc)
	}
	if err := v.setLinks(d, baseURL); err != nil {
		return nil, err
	}
	v.setTimeline(d.Timeline, loc)
	v.Deleted = deletedLines(t, d.Deleted, loc)
	v.Kept = keptLines(t, d.Kept, loc)
	v.Counts = countLines(d.Counts, loc)

	if t == DeadlineMissed {
		at, _ := find(d.Timeline, d.Deadline)
		v.MissedLabel, v.MissedAt = milestoneTitle(d.Deadline, loc), formatTime(at, loc)
	}
	if t == RetentionReport {
		v.Counts = nil
		reportView(v, d.Retention, loc)
	}
	if t == AccountDeletionCompleted {
		if err := v.setAct(t, d, loc); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// recipientView is the view's single-line values, cleaned; the alerts to the operators keep only
// the request's state, not whose data it is.
func recipientView(t Template, loc string, d Data) *view {
	v := &view{
		Lang:         loc,
		RequestID:    cleanLine(d.RequestID),
		Name:         cleanLine(d.RecipientName),
		AccountEmail: cleanLine(d.AccountEmail),
		BotName:      cleanLine(d.BotName),
		Channel:      channelTitle(d.Channel, loc),
		EndUserRef:   cleanLine(d.EndUserRef),
		Reason:       cleanText(d.Reason),
		State:        cleanLine(d.State),
		Error:        cleanLine(d.Error),
		dates:        map[string]string{},
	}
	if t == WorkflowFailureAlert || t == DeadlineMissed || t == RetentionReport {
		// The alert goes to people who need the request's state, not whose data it is.
		v.Name, v.AccountEmail, v.BotName, v.EndUserRef, v.Reason = "", "", "", "", ""
		v.Error = errorName(d.Error)
	}
	return v
}

// setLinks resolves the mail's links against baseURL.
func (v *view) setLinks(d Data, baseURL string) error {
	var err error
	for _, u := range []struct {
		dst *string
		src string
	}{{&v.CancelURL, d.CancelURL}, {&v.ConfirmURL, d.ConfirmURL}, {&v.DecisionURL, d.DecisionURL}, {&v.StatusURL, d.StatusURL},
		{&v.ActURL, d.ActURL}} {
		if *u.dst, err = resolveURL(baseURL, u.src); err != nil {
			return err
		}
	}
	return nil
}

// setTimeline lists the dated milestones in time order, and remembers each one's first date by
// name for Date.
func (v *view) setTimeline(timeline []Milestone, loc string) {
	ms := slices.Clone(timeline)
	slices.SortStableFunc(ms, func(a, b Milestone) int { return a.At.Compare(b.At) })
	for _, m := range ms {
		if m.At.IsZero() {
			continue
		}
		s := formatTime(m.At, loc)
		v.Timeline = append(v.Timeline, line{milestoneTitle(m.Name, loc), s})
		if _, dup := v.dates[m.Name]; !dup {
			v.dates[m.Name] = s
		}
	}
}

// deletedLines titles the categories deleted, in data-map order.
func deletedLines(t Template, deleted []string, loc string) []string {
	if len(deleted) == 0 && t == AccountDeletionConfirmation {
		// The account scope reaches exactly these; stating them needs nothing from the caller.
		for _, c := range datamap.Reaching(datamap.ScopeAccount) {
			deleted = append(deleted, c.Name)
		}
	}
	var out []string
	for _, c := range inMapOrder(deleted) {
		out = append(out, titleOr(evidence.CategoryTitle, c, loc))
	}
	return out
}

// keptLines titles what is kept and why, in data-map order, once each; an account's mail states
// the law's exceptions whatever the caller listed.
func keptLines(t Template, listed []Kept, loc string) []line {
	kept := slices.Clone(listed)
	if t == AccountDeletionConfirmation || t == AccountDeleted {
		// The law's exceptions apply to every account, whatever the caller listed.
		kept = append(kept, statutoryKept...)
	}
	seen := map[Kept]bool{}
	kept = slices.DeleteFunc(kept, func(k Kept) bool {
		// Analytics are stated once, in their own sentence; they are not personal data.
		drop := seen[k] || k.Category == datamap.AnalyticsCounter || k.Reason == evidence.KeptAnalyticsAnonymous
		seen[k] = true
		return drop
	})
	slices.SortStableFunc(kept, func(a, b Kept) int { return mapIndex(a.Category) - mapIndex(b.Category) })
	var out []line
	for _, k := range kept {
		out = append(out, line{titleOr(evidence.CategoryTitle, k.Category, loc), titleOr(evidence.KeptReasonTitle, k.Reason, loc)})
	}
	return out
}

// countLines titles and formats the counts of the categories something was deleted of, in data-map
// order.
func countLines(counts map[string]int64, loc string) []line {
	keys := make([]string, 0, len(counts))
	for k, n := range counts {
		if n > 0 { // a category with nothing in it was not "deleted"
			keys = append(keys, k)
		}
	}
	var out []line
	for _, k := range inMapOrder(keys) {
		title := titleOr(evidence.CategoryTitle, k, loc)
		if k == CountS3Objects {
			title = s3Title.in(loc)
		}
		out = append(out, line{title, formatCount(counts[k], loc)})
	}
	return out
}

// setAct renders the request's act of destruction into the final mail, as text, as HTML and as the
// attachment's name; the act must be one of this request's.
func (v *view) setAct(t Template, d Data, loc string) error {
	// The act of any round of this request (evidence.ActID numbers them), no other.
	if !evidence.ActOf(d.Act.RequestID, d.RequestID) {
		return fmt.Errorf("%w: mail for %s, act of %s", ErrActMismatch, d.RequestID, d.Act.RequestID)
	}
	var err error
	if v.ActText, err = evidence.RenderMarkdown(*d.Act, loc); err != nil {
		return fmt.Errorf("mailer: %s: act of destruction: %w", t, err)
	}
	page, err := evidence.RenderHTML(*d.Act, loc)
	if err != nil {
		return fmt.Errorf("mailer: %s: act of destruction: %w", t, err)
	}
	body, ok := htmlBody(page)
	if !ok {
		return fmt.Errorf("mailer: %s: the act's HTML has no body", t)
	}
	v.ActHTML = htmltemplate.HTML(body) // evidence.RenderHTML escaped every value already
	v.ActFile = "act-" + fileSafe.ReplaceAllString(d.RequestID, "_") + ".json"
	if d.ActURL != "" && !d.ActURLExpires.IsZero() {
		v.ActURLUntil = formatDate(d.ActURLExpires, loc)
	}
	if v.RequestKind == "" {
		v.RequestKind = titleOr(evidence.RequestKindTitle, d.Act.RequestKind, loc)
	}
	return nil
}

// reportView fills a retention report's lines: categories in data-map order, those with nothing
// done and nothing dated left out; each dated one with the date its oldest item must be gone by
// (its rule's limit from that item's anchor), flagged when that date has passed.
func reportView(v *view, r *RetentionSummary, loc string) {
	v.ReportMonth, v.ReportRuns = formatMonth(r.Month, loc), r.Runs
	if !r.AsOf.IsZero() {
		v.ReportAsOf = formatTime(r.AsOf, loc)
	}
	var total RetentionCounts
	names := make([]string, 0, len(r.Categories))
	for name, c := range r.Categories {
		if c.Deleted+c.Objects+c.Repaired+c.Unrepairable > 0 || c.Oldest != nil {
			names = append(names, name)
		}
	}
	for _, name := range inMapOrder(names) {
		c := r.Categories[name]
		total.Deleted += c.Deleted
		total.Objects += c.Objects
		total.Repaired += c.Repaired
		total.Unrepairable += c.Unrepairable
		l := reportLine{Label: titleOr(evidence.CategoryTitle, name, loc), Deleted: formatCount(c.Deleted, loc),
			Objects: formatCount(c.Objects, loc), Repaired: formatCount(c.Repaired, loc), Unrepairable: formatCount(c.Unrepairable, loc)}
		if c.Oldest != nil {
			l.Oldest = formatDate(*c.Oldest, loc)
			if cat, ok := datamap.Lookup(name); ok {
				if limit, limited := datamap.Limit(cat.Retention.Kind, *c.Oldest); limited {
					l.LimitBy = formatDate(limit, loc)
					l.Overdue = !r.AsOf.IsZero() && limit.Before(r.AsOf)
					v.ReportOverdue = v.ReportOverdue || l.Overdue
				}
			}
		}
		v.Report = append(v.Report, l)
	}
	v.ReportTotal = reportLine{Deleted: formatCount(total.Deleted, loc), Objects: formatCount(total.Objects, loc),
		Repaired: formatCount(total.Repaired, loc), Unrepairable: formatCount(total.Unrepairable, loc)}
}

// errorName keeps the leading name of an error ("States.TaskFailed", "ErrThrottled") and drops any
// message after it, which could quote personal data.
func errorName(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexFunc(s, func(r rune) bool {
		return !(r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) || strings.ContainsRune("._-:/", r))
	}); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimRight(s, ":")
	if len(s) > 128 {
		s = s[:128]
	}
	if s == "" {
		return "unknown"
	}
	return s
}

var fileSafe = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// htmlBody is what lies between <body> and </body>: the act goes inside the mail's own page.
func htmlBody(page string) (string, bool) {
	i := strings.Index(page, "<body>")
	j := strings.LastIndex(page, "</body>")
	if i < 0 || j < i {
		return "", false
	}
	return page[i+len("<body>") : j], true
}

// statutoryKept are the exceptions 152-FZ and the accounting law impose on every account deletion.
var statutoryKept = []Kept{
	{datamap.Payment, evidence.KeptLawAccounting5y},
	{datamap.Consent, evidence.KeptConsentWithdrawal5y},
	{datamap.LegalHold, evidence.KeptLegalHold},
}

// inMapOrder orders categories as the data map does, unknown ones after (by name), and S3 objects
// last; duplicates go.
func inMapOrder(cs []string) []string {
	out := slices.Clone(cs)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := rank(out[i]), rank(out[j])
		if a != b {
			return a < b
		}
		return out[i] < out[j]
	})
	return slices.Compact(out)
}

func rank(c string) int {
	if c == CountS3Objects {
		return len(datamap.Categories) + 1
	}
	if i := mapIndex(c); i >= 0 {
		return i
	}
	return len(datamap.Categories)
}

func mapIndex(name string) int {
	i := slices.IndexFunc(datamap.Categories, func(c datamap.Category) bool { return c.Name == name })
	if i < 0 {
		return len(datamap.Categories)
	}
	return i
}

// titleOr is a key's wording, or the key itself (cleaned) when it has none: a mail never fails
// for want of a wording, and a raw key is visible enough to be noticed.
func titleOr(title func(key, locale string) (string, bool), key, loc string) string {
	if s, ok := title(key, loc); ok {
		return s
	}
	return cleanLine(key)
}

// resolveURL makes a link absolute against baseURL; only http and https links are sent.
func resolveURL(baseURL, link string) (string, error) {
	link = strings.TrimSpace(link)
	if link == "" {
		return "", nil
	}
	u, err := url.Parse(link)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %v", ErrBadURL, link, err)
	}
	if !u.IsAbs() {
		b, err := url.Parse(baseURL)
		if err != nil || !b.IsAbs() || (b.Scheme != "http" && b.Scheme != "https") {
			return "", fmt.Errorf("%w: %q is relative and PUBLIC_BASE_URL %q is not an http(s) URL", ErrBadURL, link, baseURL)
		}
		link = strings.TrimRight(baseURL, "/") + "/" + strings.TrimLeft(link, "/")
		if u, err = url.Parse(link); err != nil {
			return "", fmt.Errorf("%w: %q: %v", ErrBadURL, link, err)
		}
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("%w: %q is not an http(s) URL", ErrBadURL, link)
	}
	return u.String(), nil
}

// normLocale: "en", "EN", "en-GB", "en_US" are English; everything else is Russian.
func normLocale(locale string) string {
	l := strings.ToLower(strings.TrimSpace(locale))
	if i := strings.IndexAny(l, "-_"); i >= 0 {
		l = l[:i]
	}
	if l == LocaleEN {
		return LocaleEN
	}
	return LocaleRU
}

// cleanLine makes a value safe as one line of a mail: line breaks and control characters become
// spaces (no forged lines in the text body), and bidirectional overrides go (text that reads
// differently from what it is).
func cleanLine(s string) string {
	return strings.TrimSpace(cleanText(strings.NewReplacer("\n", " ", "\u2028", " ", "\u2029", " ").Replace(s)))
}

// cleanText is cleanLine that keeps line breaks, for free text such as a decline reason.
func cleanText(s string) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\r\n", "\n")
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case unicode.Is(unicode.Bidi_Control, r):
			return -1
		case unicode.IsControl(r):
			return ' '
		}
		return r
	}, s))
}

var multiBlank = regexp.MustCompile(`\n{3,}`)

// tidyText trims trailing spaces and keeps at most one blank line between paragraphs, so the
// templates can be laid out for reading rather than for exact whitespace.
func tidyText(s string) string {
	ls := strings.Split(s, "\n")
	for i, l := range ls {
		ls[i] = strings.TrimRight(l, " \t")
	}
	return strings.TrimSpace(multiBlank.ReplaceAllString(strings.Join(ls, "\n"), "\n\n")) + "\n"
}

// wording is a text in both languages.
type wording struct{ ru, en string }

func (w wording) in(loc string) string {
	if loc == LocaleEN {
		return w.en
	}
	return w.ru
}

var milestoneTitles = map[string]wording{
	MilestoneReceived:         {"Заявка получена", "Request received"},
	MilestoneSoftDeleteEnds:   {"Окончание срока, в течение которого учётную запись можно восстановить", "Restore window ends"},
	MilestoneHardDeleteBy:     {"Окончательное удаление данных — не позднее", "Data permanently deleted by"},
	MilestoneBackupsRotatedBy: {"Удаление данных из резервных копий — не позднее", "Data gone from backups by"},
	MilestoneStartBy:          {"Начало обработки заявки — не позднее", "Processing starts by"},
	MilestoneCompleteBy:       {"Исполнение заявки — не позднее", "Request completed by"},
	MilestoneEscalateAt:       {"Передача заявки ответственному за организацию обработки персональных данных", "Referred to the privacy officer on"},
	MilestoneDecideBy:         {"Решение по заявке — не позднее", "Decision due by"},
	MilestoneFinalMailBy:      {"Письмо заявителю об итогах исполнения заявки — не позднее", "Outcome mail to the requester sent by"},
}

func milestoneTitle(name, loc string) string {
	if w, ok := milestoneTitles[name]; ok {
		return w.in(loc)
	}
	return cleanLine(name)
}

var s3Title = wording{"Файлы в хранилище (объекты S3)", "Files in storage (S3 objects)"}

var channelTitles = map[string]wording{
	"telegram":  {"Telegram", "Telegram"},
	"whatsapp":  {"WhatsApp", "WhatsApp"},
	"messenger": {"Messenger", "Messenger"},
	"instagram": {"Instagram", "Instagram"},
	"vk":        {"ВКонтакте", "VK"},
	"viber":     {"Viber", "Viber"},
	"slack":     {"Slack", "Slack"},
}

func channelTitle(ch, loc string) string {
	if w, ok := channelTitles[strings.ToLower(ch)]; ok {
		return w.in(loc)
	}
	return cleanLine(ch)
}

var monthsGenitiveRU = [...]string{"января", "февраля", "марта", "апреля", "мая", "июня", "июля",
	"августа", "сентября", "октября", "ноября", "декабря"}

// monthsRU are the month names as a report's period states them ("за ноябрь 2026 г."): every
// month is masculine, so the accusative after "за" is the nominative.
var monthsRU = [...]string{"январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август",
	"сентябрь", "октябрь", "ноябрь", "декабрь"}

var monthsEN = [...]string{"January", "February", "March", "April", "May", "June", "July", "August",
	"September", "October", "November", "December"}

// formatDate is the Moscow date: "2 января 2027 г." or "2 January 2027".
// FormatDate is a date as the mails write it, in Moscow time: "2 марта 2026 г.", "2 March 2026"; the
// pages a mail's link opens write dates the same way.
func FormatDate(t time.Time, loc string) string { return formatDate(t, loc) }

func formatDate(t time.Time, loc string) string {
	t = t.In(Moscow)
	if loc == LocaleEN {
		return fmt.Sprintf("%d %s %d", t.Day(), monthsEN[t.Month()-1], t.Year())
	}
	return fmt.Sprintf("%d %s %d г.", t.Day(), monthsGenitiveRU[t.Month()-1], t.Year())
}

// formatMonth is the Moscow month: "ноябрь 2026 г." or "November 2026".
func formatMonth(t time.Time, loc string) string {
	t = t.In(Moscow)
	if loc == LocaleEN {
		return fmt.Sprintf("%s %d", monthsEN[t.Month()-1], t.Year())
	}
	return fmt.Sprintf("%s %d г.", monthsRU[t.Month()-1], t.Year())
}

// formatTime is the Moscow date and time with the zone stated: deadlines are instants, and a
// reader abroad must not be a day off.
func formatTime(t time.Time, loc string) string {
	if loc == LocaleEN {
		return formatDate(t, loc) + ", " + t.In(Moscow).Format("15:04") + " Moscow time (UTC+3)"
	}
	return formatDate(t, loc) + ", " + t.In(Moscow).Format("15:04") + " по московскому времени"
}

// formatCount groups thousands as the act does, with no-break spaces in Russian so a number never
// breaks across lines: "12 345" or "12,345".
func formatCount(n int64, loc string) string {
	return strings.ReplaceAll(evidence.FormatCount(n, loc), " ", "\u00a0")
}

//go:embed templates
var templateFS embed.FS

// templateSet is one template in one locale, parsed by both engines from the same files: the
// text and HTML versions sit side by side, so their wording cannot drift unnoticed.
type templateSet struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// parsed holds every template × locale, each template parsed on its first render: a Lambda that
// sends one kind of mail does not parse the other sixteen at its cold start (they took ~20 ms of
// every function's init). Every test renders every template in both locales, and
// TestEveryTemplateParses parses each, so a broken template fails the tests, not a deletion.
var parsed = func() map[Template]func() (map[string]templateSet, error) {
	out := map[Template]func() (map[string]templateSet, error){}
	for _, t := range Templates {
		out[t] = sync.OnceValues(func() (map[string]templateSet, error) { return parseTemplate(t) })
	}
	return out
}()

// parseTemplate parses one template in every locale, its layout with it, by both engines.
func parseTemplate(t Template) (map[string]templateSet, error) {
	out := map[string]templateSet{}
	for _, loc := range []string{LocaleRU, LocaleEN} {
		files := []string{"templates/" + loc + "/layout.tmpl", "templates/" + loc + "/" + string(t) + ".tmpl"}
		for _, f := range files {
			if _, err := fs.Stat(templateFS, f); err != nil {
				return nil, fmt.Errorf("mailer: template %s: %w", f, err)
			}
		}
		text, err := texttemplate.New(string(t)).Option("missingkey=error").ParseFS(templateFS, files...)
		if err != nil {
			return nil, fmt.Errorf("mailer: template %s/%s: %w", loc, t, err)
		}
		html, err := htmltemplate.New(string(t)).Option("missingkey=error").ParseFS(templateFS, files...)
		if err != nil {
			return nil, fmt.Errorf("mailer: template %s/%s: %w", loc, t, err)
		}
		out[loc] = templateSet{text: text, html: html}
	}
	return out, nil
}
