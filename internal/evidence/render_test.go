package evidence

import (
	"errors"
	"fmt"
	"html"
	"strings"
	"testing"
)

type renderer struct {
	name   string
	render func(Record, string) (string, error)
	// text turns a record value into how the format shows it.
	text func(string) string
}

var renderers = []renderer{
	{"markdown", RenderMarkdown, md},
	{"html", RenderHTML, html.EscapeString},
}

// required lists what the act and the journal extract must show for the sample, in one language.
func required(r Record, loc string) []string {
	want := []string{r.Operator.Name, r.Operator.Address, r.Operator.INN, r.InformationSystem,
		r.PerformedBy, r.AuthorizedBy, r.RequestID, formatDate(r.CompletedAt, loc),
		formatTime(r.StartedAt, loc), formatTime(r.CompletedAt, loc)}
	for _, s := range r.Subjects {
		want = append(want, s.ID)
		if s.Name != "" {
			want = append(want, s.Name)
		}
	}
	for _, d := range r.Destroyed {
		if d.Count > 0 {
			title, _ := CategoryTitle(d.Category, loc)
			want = append(want, title, FormatCount(d.Count, loc))
		}
	}
	for _, k := range r.Kept {
		title, _ := CategoryTitle(k.Category, loc)
		why, _ := KeptReasonTitle(k.Reason, loc)
		want = append(want, title, capitalize(why))
	}
	reason, _ := ReasonTitle(r.Reason, loc)
	method, _ := MethodTitle(r.Method, loc)
	kind, _ := RequestKindTitle(r.RequestKind, loc)
	return append(want, capitalize(reason), capitalize(method), kind)
}

func TestDocumentsContainEveryRequiredElement(t *testing.T) {
	r := sample()
	for _, rd := range renderers {
		for _, loc := range Locales {
			t.Run(rd.name+"/"+loc, func(t *testing.T) {
				doc, err := rd.render(r, loc)
				if err != nil {
					t.Fatal(err)
				}
				for _, w := range required(r, loc) {
					if !strings.Contains(doc, rd.text(w)) {
						t.Errorf("document lacks %q", w)
					}
				}
				// The subjects appear in the act and again in the journal extract.
				if n := strings.Count(doc, rd.text("Иван Петрович Сидоров")); n != 2 {
					t.Errorf("subject named %d times, want 2 (act and extract)", n)
				}
			})
		}
	}
}

func TestRussianDocumentsUseTheFormalWording(t *testing.T) {
	phrases := []string{
		"Акт об уничтожении персональных данных",
		"№ req-01JD5 от 22.11.2026",
		"Выгрузка из журнала регистрации событий в информационной системе персональных данных",
		"Приложение к акту об уничтожении персональных данных № req-01JD5 от 22.11.2026",
		"1. Оператор",
		"2. Субъекты персональных данных, персональные данные которых уничтожены",
		"3. Лица, уничтожившие персональные данные",
		"4. Перечень категорий уничтоженных персональных данных",
		"5. Наименование информационной системы персональных данных, из которой уничтожены персональные данные",
		"6. Способ уничтожения персональных данных",
		"7. Причина уничтожения персональных данных",
		"8. Дата уничтожения персональных данных",
		"Уничтожение произведено автоматизированной системой: Lethe erasure engine 1.4.2",
		"Уничтожение начато 20.11.2026 10:00:00 UTC и завершено 22.11.2026 14:05:09 UTC.",
		"Требование владельца учётной записи об удалении учётной записи",
		"Федерального закона от 27.07.2006 № 152-ФЗ «О персональных данных»",
		"Сообщения диалогов",
		"12 345",
		"Ответственный за организацию обработки персональных данных",
		"пользователь бота",
		"ВКонтакте",
	}
	for _, rd := range renderers {
		doc, err := rd.render(sample(), "ru")
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range phrases {
			if !strings.Contains(doc, rd.text(p)) {
				t.Errorf("%s: lacks %q", rd.name, p)
			}
		}
		if strings.Contains(doc, "12,345") || strings.Contains(doc, "November") {
			t.Errorf("%s: English formatting in the Russian document", rd.name)
		}
	}
}

func TestEnglishDocuments(t *testing.T) {
	phrases := []string{
		"Act of Destruction of Personal Data",
		"No. req-01JD5 of 22 November 2026",
		"Extract from the Event Log of the Personal Data Information System",
		"Categories of personal data destroyed",
		"12,345",
		"Destruction started 20 November 2026, 10:00:00 UTC and completed 22 November 2026, 14:05:09 UTC.",
	}
	for _, rd := range renderers {
		doc, err := rd.render(sample(), "en")
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range phrases {
			if !strings.Contains(doc, rd.text(p)) {
				t.Errorf("%s: lacks %q", rd.name, p)
			}
		}
		if strings.Contains(doc, "Акт об") || strings.Contains(doc, "22.11.2026") {
			t.Errorf("%s: Russian wording in the English document", rd.name)
		}
	}
}

// A category with nothing destroyed is not listed as destroyed; nor are raw machine keys shown.
func TestDocumentsShowOnlyWhatWasDestroyed(t *testing.T) {
	for _, rd := range renderers {
		for _, loc := range Locales {
			doc, err := rd.render(sample(), loc)
			if err != nil {
				t.Fatal(err)
			}
			conv, _ := CategoryTitle("conversation", loc)
			// "Conversations"/"Диалоги" appears inside another title; check the table row form.
			if strings.Contains(doc, rd.text(conv)+" |") || strings.Contains(doc, "<td>"+conv+"</td>") {
				t.Errorf("%s/%s: lists a category with nothing destroyed", rd.name, loc)
			}
			for _, key := range []string{ReasonAccountOwnerRequest, MethodLogicalErasure, KeptLawAccounting5y, "account_deletion", "end_user"} {
				if strings.Contains(doc, rd.text(key)) {
					t.Errorf("%s/%s: shows the raw key %q", rd.name, loc, key)
				}
			}
		}
	}
}

func TestSubjectsBeyondTheInlineListAreSummarized(t *testing.T) {
	r := sample()
	r.Subjects = make([]Subject, MaxInlineSubjects)
	for i := range r.Subjects {
		r.Subjects[i] = Subject{Kind: SubjectEndUser, ID: fmt.Sprintf("eu-%05d", i), Channel: "whatsapp"}
	}
	r.SubjectCount = MaxInlineSubjects + 12345
	for _, rd := range renderers {
		for loc, want := range map[string]string{"ru": "и ещё 12 345 субъектов", "en": "and 12,345 more subjects"} {
			doc, err := rd.render(r, loc)
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(doc, rd.text(want)); n != 2 {
				t.Errorf("%s/%s: %q appears %d times, want 2", rd.name, loc, want, n)
			}
			if !strings.Contains(doc, "eu-00999") {
				t.Errorf("%s/%s: last inline subject missing", rd.name, loc)
			}
			if !strings.Contains(doc, FormatCount(r.SubjectCount, loc)) {
				t.Errorf("%s/%s: total count missing", rd.name, loc)
			}
		}
	}
}

func TestHTMLEscapesRecordValues(t *testing.T) {
	r := sample()
	r.Subjects[2].Name = `<script>alert("x")</script>`
	r.Operator.Name = `ООО "Ромашка" & <b>Партнёры</b>`
	for _, loc := range Locales {
		doc, err := RenderHTML(r, loc)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(doc, "<script") || strings.Contains(doc, "<b>") {
			t.Errorf("%s: unescaped markup in the page", loc)
		}
		for _, want := range []string{"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;", "&amp; &lt;b&gt;Партнёры&lt;/b&gt;"} {
			if !strings.Contains(doc, want) {
				t.Errorf("%s: lacks escaped %q", loc, want)
			}
		}
	}
}

func TestHTMLIsSelfContained(t *testing.T) {
	doc, err := RenderHTML(sample(), "ru")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script", "<link", "<img", "http://", "https://", "@import", "url("} {
		if strings.Contains(doc, bad) {
			t.Errorf("page refers to something outside itself: %q", bad)
		}
	}
	for _, want := range []string{"<!DOCTYPE html>", `<html lang="ru">`, `<meta charset="utf-8">`, "@page", "<title>Акт об уничтожении персональных данных № req-01JD5 от 22.11.2026</title>"} {
		if !strings.Contains(doc, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestMarkdownEscapesRecordValues(t *testing.T) {
	r := sample()
	r.Subjects[2].Name = "[click](https://evil.example) | <img src=x> *bold*\nnew line"
	doc, err := RenderMarkdown(r, "ru")
	if err != nil {
		t.Fatal(err)
	}
	want := `\[click\](https://evil.example) \| \<img src=x\> \*bold\* new line`
	if !strings.Contains(doc, want) {
		t.Errorf("markdown lacks %q", want)
	}
	unescaped := strings.NewReplacer(`\<`, "", `\[`, "", `\*`, "").Replace(doc)
	for _, bad := range []string{"[click]", "<img", "*bold*", "\nnew line"} {
		if strings.Contains(unescaped, bad) {
			t.Errorf("markdown contains unescaped %q", bad)
		}
	}
}

func TestCleanRemovesControlsAndBidiOverrides(t *testing.T) {
	got := clean("Ann\u202Eeb\tX\x00\xff")
	if want := "Ann\uFFFDeb X\uFFFD\uFFFD"; got != want {
		t.Errorf("clean = %q, want %q", got, want)
	}
}

func TestRenderRefusesInvalidRecordsAndUnknownLocales(t *testing.T) {
	bad := sample()
	bad.Method = ""
	for _, rd := range renderers {
		if _, err := rd.render(bad, "ru"); !errors.Is(err, ErrNoMethod) {
			t.Errorf("%s: invalid record gave %v", rd.name, err)
		}
		if _, err := rd.render(sample(), "de"); !errors.Is(err, ErrLocale) {
			t.Errorf("%s: locale de gave %v", rd.name, err)
		}
		if _, err := rd.render(sample(), "ru-RU"); err != nil {
			t.Errorf("%s: ru-RU gave %v", rd.name, err)
		}
	}
}

func TestUnknownRequestKindIsShownAsItIs(t *testing.T) {
	r := sample()
	r.RequestKind = "bulk_import_rollback"
	doc, err := RenderMarkdown(r, "ru")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(doc, md("(bulk_import_rollback)")) {
		t.Error("unknown request kind not shown")
	}
}

func TestNoKeptData(t *testing.T) {
	r := sample()
	r.Kept = nil
	for loc, want := range map[string]string{"ru": "Нет.", "en": "None."} {
		doc, err := RenderMarkdown(r, loc)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(doc, want) {
			t.Errorf("%s: lacks %q", loc, want)
		}
	}
}

// A record drawn up in a language is rendered in it when the reader names none, with the
// operator's name and address in that language when it has them; a language the documents do not
// know is refused.
func TestRecordsRenderInTheirOwnLanguage(t *testing.T) {
	rec := sample()
	rec.Operator.NameEN, rec.Operator.AddressEN = "Example LLC", "1 Example St., Moscow"
	for _, rd := range renderers {
		rec.Locale = LocaleEN
		doc, err := rd.render(rec, "")
		if err != nil || !strings.Contains(doc, "Act of Destruction") || !strings.Contains(doc, "Example LLC") ||
			!strings.Contains(doc, "1 Example St.") || strings.Contains(doc, rec.Operator.Name) || strings.Contains(doc, rec.Operator.Address) {
			t.Errorf("%s: English record: %v\n%.400s", rd.name, err, doc)
		}
		if doc, err := rd.render(rec, LocaleRU); err != nil || !strings.Contains(doc, rec.Operator.Name) || strings.Contains(doc, "Example LLC") {
			t.Errorf("%s: English record asked for in Russian: %v\n%.400s", rd.name, err, doc)
		}
	}
	rec.Locale = "de"
	if err := rec.Validate(); !errors.Is(err, ErrBadLocale) {
		t.Errorf("locale de: %v, want ErrBadLocale", err)
	}
}
