package evidence

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/lerr"
)

// ErrLocale: a document was asked for in a language other than Russian or English.
var ErrLocale = lerr.New(lerr.EINTERNAL, "evidence: unsupported locale")

// jsonTime keeps the stored form of times fixed: UTC, RFC 3339 with nanoseconds. Formatting never
// fails, so neither does marshalling a Record (Items relies on it).
type jsonTime time.Time

func (t jsonTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format(time.RFC3339Nano) + `"`), nil
}

func (t *jsonTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return err
	}
	*t = jsonTime(v.UTC())
	return nil
}

type plainRecord Record

// recordJSON is a Record with its times in the fixed form; the outer fields shadow the embedded ones.
type recordJSON struct {
	plainRecord
	StartedAt   jsonTime `json:"startedAt"`
	CompletedAt jsonTime `json:"completedAt"`
}

// MarshalJSON writes the times in UTC.
func (r Record) MarshalJSON() ([]byte, error) {
	return json.Marshal(recordJSON{plainRecord(r), jsonTime(r.StartedAt), jsonTime(r.CompletedAt)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *Record) UnmarshalJSON(b []byte) error {
	var v recordJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*r = Record(v.plainRecord)
	r.StartedAt, r.CompletedAt = time.Time(v.StartedAt), time.Time(v.CompletedAt)
	return nil
}

// RenderJSON is the record as stable, indented JSON: fields in a fixed order, times in UTC.
func RenderJSON(r Record) ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("render evidence %s as JSON: %w", r.RequestID, err)
	}
	return append(b, '\n'), nil
}

// ParseJSON reads what RenderJSON writes. It does not validate: stored evidence stays readable
// even if the rules tighten later.
func ParseJSON(b []byte) (Record, error) {
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return Record{}, fmt.Errorf("parse evidence: %w", err)
	}
	return r, nil
}

// RenderMarkdown writes the act of destruction and then the journal extract, in "ru" or "en" ("":
// the record's own language).
func RenderMarkdown(r Record, locale string) (string, error) {
	p, err := buildPage(r, locale)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for i, d := range p.Docs {
		if i > 0 {
			b.WriteString("\n---\n\n")
		}
		fmt.Fprintf(&b, "# %s\n\n%s\n", md(d.Title), md(d.Subtitle))
		for _, bl := range d.Blocks {
			fmt.Fprintf(&b, "\n## %s\n", md(bl.Heading))
			for _, s := range bl.Before {
				fmt.Fprintf(&b, "\n%s\n", md(s))
			}
			if t := bl.Table; t != nil {
				b.WriteString("\n")
				mdRow(&b, t.Head)
				b.WriteString("|" + strings.Repeat(" --- |", len(t.Head)) + "\n")
				for _, row := range t.Rows {
					mdRow(&b, row)
				}
			}
			for _, s := range bl.After {
				fmt.Fprintf(&b, "\n%s\n", md(s))
			}
		}
	}
	fmt.Fprintf(&b, "\n---\n\n%s\n", md(p.Note))
	return b.String(), nil
}

func mdRow(b *strings.Builder, cells []string) {
	b.WriteString("|")
	for _, c := range cells {
		if c == "" {
			b.WriteString("  |")
			continue
		}
		b.WriteString(" " + md(c) + " |")
	}
	b.WriteString("\n")
}

// mdEscaper backslash-escapes what could turn text into markup: links, images, inline HTML,
// entities, emphasis, code and table cell breaks. Values are never at the start of a line, so
// block markers (#, -, >, 1.) need no escaping.
var mdEscaper = strings.NewReplacer(`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`,
	`<`, `\<`, `>`, `\>`, `|`, `\|`, `~`, `\~`, `&`, `\&`)

func md(s string) string { return mdEscaper.Replace(s) }

// RenderHTML writes the same documents as a self-contained printable HTML page: no scripts, no
// external resources, every value escaped by html/template.
func RenderHTML(r Record, locale string) (string, error) {
	p, err := buildPage(r, locale)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := pageHTML().Execute(&b, p); err != nil {
		return "", fmt.Errorf("render evidence %s as HTML: %w", r.RequestID, err)
	}
	return b.String(), nil
}

// Stylesheet is the act's HTML stylesheet, inline in the act (its own CSP admits exactly this block
// by its hash, StyleSrc) and served as a file by the console, whose CSP refuses inline styles in the
// frame that shows an act.
const Stylesheet = `@page { size: A4; margin: 20mm 15mm 20mm 25mm; }
body { font-family: "Times New Roman", Times, serif; font-size: 12pt; line-height: 1.4; color: #000; max-width: 180mm; margin: 0 auto; padding: 1em; }
h1 { font-size: 14pt; text-align: center; margin: 0 0 .2em; }
h2 { font-size: 12pt; margin: 1.2em 0 .4em; }
p.subtitle { text-align: center; margin: 0 0 1.5em; }
table { border-collapse: collapse; width: 100%; margin: .4em 0; }
th, td { border: 1px solid #000; padding: 2pt 4pt; vertical-align: top; text-align: left; overflow-wrap: anywhere; }
th { font-weight: bold; }
td.blank { height: 2.5em; }
section.doc + section.doc { break-before: page; page-break-before: always; }
footer { margin-top: 2em; font-size: 10pt; }
@media print { body { padding: 0; max-width: none; } }
`

// StyleSrc is the CSP source that admits the act's inline stylesheet and nothing else.
func StyleSrc() string {
	sum := sha256.Sum256([]byte(Stylesheet))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// pageHTML is the act's page, parsed on first use rather than at the init of every Lambda that links
// the evidence package.
var pageHTML = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("evidence").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>` + Stylesheet + `</style>
</head>
<body>
{{range .Docs}}<section class="doc">
<h1>{{.Title}}</h1>
<p class="subtitle">{{.Subtitle}}</p>
{{range .Blocks}}<h2>{{.Heading}}</h2>
{{range .Before}}<p>{{.}}</p>
{{end}}{{with .Table}}<table>
<thead><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr>{{range .}}{{if .}}<td>{{.}}</td>{{else}}<td class="blank"></td>{{end}}{{end}}</tr>
{{end}}</tbody>
</table>
{{end}}{{range .After}}<p>{{.}}</p>
{{end}}{{end}}</section>
{{end}}<footer>{{.Note}}</footer>
</body>
</html>
`))
})

// page is both documents in one language, as plain text: each renderer escapes it its own way,
// so Markdown and HTML cannot say different things.
type page struct {
	Lang  string
	Title string
	Docs  []document
	Note  string
}

type document struct {
	Title, Subtitle string
	Blocks          []block
}

type block struct {
	Heading string
	Before  []string
	Table   *table
	After   []string
}

type table struct {
	Head []string
	Rows [][]string // an empty cell is a blank to fill in by hand
}

// texts are the fixed wordings of the documents in one language.
type texts struct {
	actTitle, actSubtitle, extractTitle, extractSubtitle string

	hOperator, operatorName, operatorINN, operatorAddress string
	hSubjects, totalSubjects, fullList                    string
	subjectHead                                           []string
	hPerformer, performedBy, authorizedBy                 string
	hCategories                                           string
	categoryHead                                          []string
	hSystem, hMethod, hReason, request                    string
	hDate, period                                         string
	hKept, keptNone                                       string
	keptHead                                              []string
	hSign                                                 string
	signHead, signRow                                     []string

	hEvent, eventName                                                       string
	eventHead                                                               []string
	fEvent, fAt, fSystem, fReason, fCategories, fMethod, fBy, fSubjectCount string
	hExtractSubjects                                                        string

	note, none string
}

var textsByLocale = map[string]texts{
	LocaleRU: {
		actTitle:        "Акт об уничтожении персональных данных",
		actSubtitle:     "№ %s от %s",
		extractTitle:    "Выгрузка из журнала регистрации событий в информационной системе персональных данных",
		extractSubtitle: "Приложение к акту об уничтожении персональных данных № %s от %s",

		hOperator:       "1. Оператор",
		operatorName:    "Наименование: %s",
		operatorINN:     "ИНН: %s",
		operatorAddress: "Адрес: %s",
		hSubjects:       "2. Субъекты персональных данных, персональные данные которых уничтожены",
		totalSubjects:   "Всего субъектов: %s.",
		fullList:        "Полный перечень субъектов хранится в составе доказательств уничтожения по заявке № %s",
		subjectHead:     []string{"№", "ФИО или имя", "Идентификатор", "Категория субъекта", "Канал связи"},
		hPerformer:      "3. Лица, уничтожившие персональные данные",
		performedBy:     "Уничтожение произведено автоматизированной системой: %s",
		authorizedBy:    "Уничтожение инициировано: %s",
		hCategories:     "4. Перечень категорий уничтоженных персональных данных",
		categoryHead:    []string{"№", "Категория персональных данных", "Количество уничтоженных записей"},
		hSystem:         "5. Наименование информационной системы персональных данных, из которой уничтожены персональные данные",
		hMethod:         "6. Способ уничтожения персональных данных",
		hReason:         "7. Причина уничтожения персональных данных",
		request:         "Заявка № %s (%s)",
		hDate:           "8. Дата уничтожения персональных данных",
		period:          "Уничтожение начато %s и завершено %s.",
		hKept:           "9. Данные, не подлежащие уничтожению",
		keptNone:        "Нет.",
		keptHead:        []string{"Категория данных", "Основание хранения", "Количество записей"},
		hSign:           "Подписи",
		signHead:        []string{"Должность", "Подпись", "Расшифровка подписи"},
		signRow:         []string{"Ответственный за организацию обработки персональных данных", "", ""},

		hEvent:           "Запись журнала",
		eventName:        "уничтожение персональных данных",
		eventHead:        []string{"Поле", "Значение"},
		fEvent:           "Событие",
		fAt:              "Дата и время уничтожения",
		fSystem:          "Информационная система персональных данных",
		fReason:          "Причина уничтожения",
		fCategories:      "Категории уничтоженных персональных данных (количество записей)",
		fMethod:          "Способ уничтожения",
		fBy:              "Уничтожение произвела",
		fSubjectCount:    "Количество субъектов",
		hExtractSubjects: "Субъекты персональных данных (ФИО или иная информация, позволяющая их идентифицировать)",

		note: "Акт и выгрузка из журнала сформированы автоматически информационной системой по данным журнала регистрации событий. Время указано в UTC.",
		none: "—",
	},
	LocaleEN: {
		actTitle:        "Act of Destruction of Personal Data",
		actSubtitle:     "No. %s of %s",
		extractTitle:    "Extract from the Event Log of the Personal Data Information System",
		extractSubtitle: "Annex to the Act of Destruction of Personal Data No. %s of %s",

		hOperator:       "1. Operator",
		operatorName:    "Name: %s",
		operatorINN:     "Taxpayer ID (INN): %s",
		operatorAddress: "Address: %s",
		hSubjects:       "2. Data subjects whose personal data were destroyed",
		totalSubjects:   "Subjects in total: %s.",
		fullList:        "The full list of subjects is kept with the evidence of destruction for request No. %s",
		subjectHead:     []string{"No.", "Name", "Identifier", "Kind of subject", "Channel"},
		hPerformer:      "3. Who destroyed the personal data",
		performedBy:     "Destroyed by the automated system: %s",
		authorizedBy:    "Destruction authorized by: %s",
		hCategories:     "4. Categories of personal data destroyed",
		categoryHead:    []string{"No.", "Category of personal data", "Items destroyed"},
		hSystem:         "5. Personal data information system the data were destroyed from",
		hMethod:         "6. Method of destruction",
		hReason:         "7. Reason for destruction",
		request:         "Request No. %s (%s)",
		hDate:           "8. Date of destruction",
		period:          "Destruction started %s and completed %s.",
		hKept:           "9. Data not subject to destruction",
		keptNone:        "None.",
		keptHead:        []string{"Category of data", "Ground for keeping", "Items"},
		hSign:           "Signatures",
		signHead:        []string{"Position", "Signature", "Name"},
		signRow:         []string{"Person responsible for organizing the processing of personal data", "", ""},

		hEvent:           "Log entry",
		eventName:        "destruction of personal data",
		eventHead:        []string{"Field", "Value"},
		fEvent:           "Event",
		fAt:              "Date and time of destruction",
		fSystem:          "Personal data information system",
		fReason:          "Reason for destruction",
		fCategories:      "Categories of personal data destroyed (items)",
		fMethod:          "Method of destruction",
		fBy:              "Destroyed by",
		fSubjectCount:    "Number of subjects",
		hExtractSubjects: "Data subjects (full name or other information identifying them)",

		note: "The act and the log extract were generated automatically by the information system from its event log. Times are in UTC.",
		none: "—",
	},
}

// buildPage validates the record and lays out both documents in one language: locale, or the
// record's own when locale is "".
func buildPage(r Record, locale string) (page, error) {
	if locale == "" {
		locale = r.Locale
	}
	loc := normLocale(locale)
	if loc == "" {
		return page{}, fmt.Errorf("%w %q", ErrLocale, locale)
	}
	if err := r.Validate(); err != nil {
		return page{}, err
	}
	t := textsByLocale[loc]
	must := func(table map[string]wording, key string) string { s, _ := lookup(table, key, loc); return s }
	id := clean(r.RequestID)
	date := formatDate(r.CompletedAt, loc)
	reason := must(reasons, r.Reason)
	method := must(methods, r.Method)
	system := clean(r.InformationSystem)
	performer := clean(r.PerformedBy)
	kind, ok := lookup(requestKinds, r.RequestKind, loc)
	if !ok {
		kind = clean(r.RequestKind)
	}

	opName, opAddress := r.Operator.In(loc)
	operator := []string{sentence(fmt.Sprintf(t.operatorName, clean(opName)))}
	if r.Operator.INN != "" {
		operator = append(operator, sentence(fmt.Sprintf(t.operatorINN, clean(r.Operator.INN))))
	}
	operator = append(operator, sentence(fmt.Sprintf(t.operatorAddress, clean(opAddress))))

	subjects := &table{Head: t.subjectHead}
	for i, s := range r.Subjects {
		name := clean(s.Name)
		if name == "" {
			name = t.none
		}
		channel := t.none
		if s.Channel != "" {
			channel, ok = lookup(channels, s.Channel, loc)
			if !ok {
				channel = clean(s.Channel)
			}
		}
		subjects.Rows = append(subjects.Rows, []string{FormatCount(int64(i+1), loc), name, clean(s.ID),
			must(subjectKinds, s.Kind), channel})
	}
	var more []string
	if extra := r.SubjectCount - int64(len(r.Subjects)); extra > 0 {
		more = []string{moreSubjects(extra, loc) + ".", sentence(fmt.Sprintf(t.fullList, id))}
	}
	total := fmt.Sprintf(t.totalSubjects, FormatCount(r.SubjectCount, loc))

	categories := &table{Head: t.categoryHead}
	var categoryList []string
	for _, d := range destroyedInMapOrder(r.Destroyed) {
		title := must(categoryTitles, d.Category)
		n := FormatCount(d.Count, loc)
		categories.Rows = append(categories.Rows, []string{FormatCount(int64(len(categories.Rows)+1), loc), title, n})
		categoryList = append(categoryList, title+" ("+n+")")
	}

	kept := block{Heading: t.hKept}
	if ks := keptInMapOrder(r.Kept); len(ks) == 0 {
		kept.Before = []string{t.keptNone}
	} else {
		kept.Table = &table{Head: t.keptHead}
		for _, k := range ks {
			kept.Table.Rows = append(kept.Table.Rows, []string{must(categoryTitles, k.Category),
				capitalize(must(keptReasons, k.Reason)), FormatCount(k.Count, loc)})
		}
	}

	act := document{
		Title:    t.actTitle,
		Subtitle: fmt.Sprintf(t.actSubtitle, id, date),
		Blocks: []block{
			{Heading: t.hOperator, Before: operator},
			{Heading: t.hSubjects, Before: []string{total}, Table: subjects, After: more},
			{Heading: t.hPerformer, Before: []string{sentence(fmt.Sprintf(t.performedBy, performer)),
				sentence(fmt.Sprintf(t.authorizedBy, clean(r.AuthorizedBy)))}},
			{Heading: t.hCategories, Table: categories},
			{Heading: t.hSystem, Before: []string{system}},
			{Heading: t.hMethod, Before: []string{sentence(capitalize(method))}},
			{Heading: t.hReason, Before: []string{sentence(capitalize(reason)), sentence(fmt.Sprintf(t.request, id, kind))}},
			{Heading: t.hDate, Before: []string{date, fmt.Sprintf(t.period,
				formatTime(r.StartedAt, loc), formatTime(r.CompletedAt, loc))}},
			kept,
			{Heading: t.hSign, Table: &table{Head: t.signHead, Rows: [][]string{t.signRow}}},
		},
	}
	extract := document{
		Title:    t.extractTitle,
		Subtitle: fmt.Sprintf(t.extractSubtitle, id, date),
		Blocks: []block{
			{Heading: t.hEvent, Table: &table{Head: t.eventHead, Rows: [][]string{
				{t.fEvent, t.eventName},
				{t.fAt, formatTime(r.CompletedAt, loc)},
				{t.fSystem, system},
				{t.fReason, capitalize(reason)},
				{t.fCategories, strings.Join(categoryList, "; ")},
				{t.fMethod, capitalize(method)},
				{t.fBy, performer},
				{t.fSubjectCount, FormatCount(r.SubjectCount, loc)},
			}}},
			{Heading: t.hExtractSubjects, Table: subjects, After: more},
		},
	}
	return page{Lang: loc, Title: act.Title + " " + act.Subtitle, Docs: []document{act, extract}, Note: t.note}, nil
}

// destroyedInMapOrder lists the categories actually destroyed (count > 0) in data-map order.
func destroyedInMapOrder(ds []CategoryCount) []CategoryCount {
	out := slices.DeleteFunc(slices.Clone(ds), func(d CategoryCount) bool { return d.Count <= 0 })
	slices.SortStableFunc(out, func(a, b CategoryCount) int { return mapIndex(a.Category) - mapIndex(b.Category) })
	return out
}

func keptInMapOrder(ks []Kept) []Kept {
	out := slices.DeleteFunc(slices.Clone(ks), func(k Kept) bool { return k.Count <= 0 })
	slices.SortStableFunc(out, func(a, b Kept) int { return mapIndex(a.Category) - mapIndex(b.Category) })
	return out
}

func mapIndex(name string) int {
	return slices.IndexFunc(datamap.Categories, func(c datamap.Category) bool { return c.Name == name })
}

// clean makes a value safe to show as one line of a legal document: invalid UTF-8, control
// characters, line breaks and bidirectional overrides (which could make text read differently from
// what it is) each become U+FFFD or a space. The stored record is never changed.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029':
			return ' '
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r):
			return '\uFFFD'
		}
		return r
	}, s)
}

// sentence ends s with a full stop unless it already ends a sentence.
func sentence(s string) string {
	if strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "…") {
		return s
	}
	return s + "."
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}
