package mailer

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/evidence"
)

var (
	received   = time.Date(2026, 12, 3, 9, 30, 0, 0, time.UTC)
	softEnds   = time.Date(2027, 1, 2, 9, 30, 0, 0, time.UTC)
	hardBy     = time.Date(2027, 1, 23, 9, 30, 0, 0, time.UTC)
	backupsBy  = time.Date(2027, 2, 22, 9, 30, 0, 0, time.UTC)
	escalateAt = time.Date(2026, 12, 16, 22, 0, 0, 0, time.UTC) // 17 December in Moscow
	completeBy = time.Date(2027, 1, 2, 12, 0, 0, 0, time.UTC)
)

// sampleAct is a valid act of destruction for request req-42.
func sampleAct() *evidence.Record {
	return &evidence.Record{
		RequestID:         "req-42",
		RequestKind:       "account_deletion",
		Reason:            evidence.ReasonAccountOwnerRequest,
		Operator:          evidence.Operator{Name: "ООО «Бот Платформа»", Address: "123456, г. Москва, ул. Примерная, д. 1"},
		InformationSystem: "Платформа чат-ботов",
		Subjects:          []evidence.Subject{{Kind: evidence.SubjectAccountOwner, ID: "acc-7f3a", Name: "Иван Сидоров"}},
		SubjectCount:      1,
		Destroyed: []evidence.CategoryCount{
			{Category: datamap.AccountProfile, Count: 1},
			{Category: datamap.Message, Count: 12345},
		},
		Kept:         []evidence.Kept{{Category: datamap.Payment, Reason: evidence.KeptLawAccounting5y, Count: 3}},
		Method:       evidence.MethodLogicalErasure,
		AuthorizedBy: "владелец учётной записи",
		PerformedBy:  "Lethe erasure engine",
		StartedAt:    hardBy.Add(-time.Hour),
		CompletedAt:  backupsBy,
	}
}

// fullData has every field set, so that any template renders from it.
func fullData() Data {
	return Data{
		RequestID:     "req-42",
		RequestKind:   "account_deletion",
		RecipientName: "Иван",
		AccountEmail:  "ivan@example.com",
		Timeline: []Milestone{
			{MilestoneBackupsRotatedBy, backupsBy}, // out of order on purpose: the mail sorts by date
			{MilestoneReceived, received},
			{MilestoneSoftDeleteEnds, softEnds},
			{MilestoneHardDeleteBy, hardBy},
			{MilestoneEscalateAt, escalateAt},
			{MilestoneCompleteBy, completeBy},
		},
		Deleted: []string{datamap.Conversation, datamap.AccountProfile},
		Kept:    []Kept{{datamap.LegalHold, evidence.KeptLegalHold}},
		Counts: map[string]int64{datamap.Message: 12345, datamap.EndUserProfile: 7, CountS3Objects: 9,
			datamap.Note: 0},
		CancelURL:   "https://lethe.example/v1/email-actions/cancel-tok",
		ConfirmURL:  "https://lethe.example/v1/email-actions/confirm-tok",
		DecisionURL: "https://lethe.example/panel/privacy/requests/ecr-1",
		StatusURL:   "https://lethe.example/deletion-status/code-1",
		Act:         sampleAct(),
		BotName:     "Пиццерия Мама",
		Channel:     "telegram",
		EndUserRef:  "@pizza_fan (id 55123)",
		Reason:      "переписка нужна для разбора претензии",
		State:       "HardDelete",
		Error:       "States.TaskFailed",
		Deadline:    MilestoneHardDeleteBy,
		Retention:   sampleRetention(),
	}
}

// sampleRetention is a November 2026 report: messages deleted, a payment past nothing, a
// conversation whose oldest item is dated, one category with undatable items.
func sampleRetention() *RetentionSummary {
	oldMsg := time.Date(2025, 11, 3, 8, 0, 0, 0, time.UTC)
	oldPay := time.Date(2022, 1, 10, 8, 0, 0, 0, time.UTC)
	return &RetentionSummary{
		Month: time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC),
		Runs:  30,
		AsOf:  time.Date(2026, 11, 30, 21, 10, 0, 0, time.UTC), // 1 December in Moscow
		Categories: map[string]RetentionCounts{
			datamap.Message:     {Deleted: 12345, Oldest: &oldMsg},
			datamap.EndUserFile: {Deleted: 4, Objects: 4, Repaired: 2},
			datamap.Payment:     {Deleted: 17, Oldest: &oldPay},
			datamap.Note:        {Unrepairable: 3},
			datamap.Contact:     {}, // nothing done, nothing dated: not listed
		},
	}
}

type facts map[string][]string // locale → substrings

// expected are the facts each template must state, in both locales, in the text and the HTML.
var expected = map[Template]struct{ subject, body facts }{
	AccountDeletionConfirmation: {
		subject: facts{"ru": {"Заявка на удаление учётной записи принята"}, "en": {"Account deletion request received"}},
		body: facts{
			"ru": {"ivan@example.com", "деактивирована", "API-токены заблокированы", "боты остановлены",
				"30 календарных дней", "полностью восстановить",
				"2 января 2027 г., 12:30 по московскому времени", "23 января 2027 г.", "22 февраля 2027 г.", "3 декабря 2026 г.",
				"15 рабочих дней", "ответьте на это письмо", "https://lethe.example/v1/email-actions/cancel-tok",
				"Диалоги", "Профиль учётной записи", "Платёжные документы", "5 лет", "5 лет с даты отзыва",
				"Запросы уполномоченных органов", "правовое удержание", "Анонимная агрегированная статистика",
				"Окончание срока, в течение которого учётную запись можно восстановить"},
			"en": {"ivan@example.com", "deactivated", "API tokens are blocked", "bots are stopped",
				"30 calendar days", "fully restored",
				"2 January 2027, 12:30 Moscow time (UTC+3)", "23 January 2027", "22 February 2027", "3 December 2026",
				"15 business days", "reply to this email", "https://lethe.example/v1/email-actions/cancel-tok",
				"Conversations", "Account profile", "Payment documents", "5 years", "5 years from the withdrawal",
				"Legal holds", "Anonymous aggregated statistics", "Restore window ends"},
		},
	},
	AccountDeletionCancelled: {
		subject: facts{"ru": {"Удаление учётной записи отменено"}, "en": {"Account deletion cancelled"}},
		body: facts{"ru": {"ivan@example.com", "восстановлена полностью", "https://lethe.example/deletion-status/code-1"},
			"en": {"ivan@example.com", "fully restored", "https://lethe.example/deletion-status/code-1"}},
	},
	CancelTooLate: {
		subject: facts{"ru": {"Удаление учётной записи уже нельзя отменить"}, "en": {"Account deletion can no longer be cancelled"}},
		body: facts{
			"ru": {"ivan@example.com", "отменить его уже нельзя", "30 календарных дней",
				"истёк", "2 января 2027 г., 12:30 по московскому времени", "окончательно удаляются",
				"23 января 2027 г., 12:30 по московскому времени", "резервных копий они исчезнут",
				"22 февраля 2027 г., 12:30 по московскому времени",
				"итоговое письмо с актом об уничтожении персональных данных",
				"Окончание срока, в течение которого учётную запись можно восстановить"},
			"en": {"ivan@example.com", "can no longer be cancelled", "30-day restore window",
				"ended on", "2 January 2027, 12:30 Moscow time (UTC+3)", "permanently deleted",
				"23 January 2027, 12:30 Moscow time (UTC+3)", "leave our backups as these rotate",
				"22 February 2027, 12:30 Moscow time (UTC+3)",
				"final email with the act of destruction of personal data", "Restore window ends"},
		},
	},
	AccountDeleted: {
		subject: facts{"ru": {"Данные учётной записи удалены"}, "en": {"Account data deleted"}},
		body: facts{"ru": {"безвозвратно удалены", "проверили", "22 февраля 2027 г.", "12\u00a0345", "Сообщения диалогов",
			"Файлы в хранилище (объекты S3)", "Платёжные документы", "акт"},
			"en": {"irrevocably deleted", "verified", "22 February 2027", "12,345", "Conversation messages",
				"Files in storage (S3 objects)", "Payment documents", "act of destruction"}},
	},
	AccountDeletionCompleted: {
		subject: facts{"ru": {"Удаление завершено", "акт об уничтожении"}, "en": {"Deletion complete", "act of destruction"}},
		body: facts{"ru": {"Акт об уничтожении персональных данных", "приказ Роскомнадзора", "179", "act-req-42.json", "удаление учётной записи",
			"Иван Сидоров", "ООО «Бот Платформа»"},
			"en": {"Act of Destruction of Personal Data", "Order No", "act-req-42.json", "account deletion",
				"Иван Сидоров"}},
	},
	EndUserDeletionDone: {
		subject: facts{"ru": {"Удаление данных пользователей ботов завершено"}, "en": {"Bot users' data deletion complete"}},
		body: facts{"ru": {"Пиццерия Мама", "12\u00a0345", "Профиль пользователя бота", "Анонимная агрегированная статистика", "необратимо"},
			"en": {"Пиццерия Мама", "12,345", "End-user profile", "Anonymous aggregated statistics", "irrevocable"}},
	},
	ConnectionWiped: {
		subject: facts{"ru": {"Данные отключённого канала удалены"}, "en": {"Data of a disconnected channel deleted"}},
		body: facts{"ru": {"Telegram", "Пиццерия Мама", "отозван", "12\u00a0345", "Сообщения диалогов"},
			"en": {"Telegram", "Пиццерия Мама", "revoked", "12,345", "Conversation messages"}},
	},
	EndCustomerOwnerNotice: {
		subject: facts{"ru": {"Запрос клиента на удаление данных"}, "en": {"deletion request awaits your decision"}},
		body: facts{"ru": {"Пиццерия Мама", "@pizza_fan (id 55123)", "https://lethe.example/panel/privacy/requests/ecr-1",
			"17 декабря 2026 г., 01:00", "10 рабочих дней", "ответственному за организацию обработки персональных данных", "2 января 2027 г."},
			"en": {"Пиццерия Мама", "@pizza_fan (id 55123)", "https://lethe.example/panel/privacy/requests/ecr-1",
				"17 December 2026, 01:00", "10 business days", "privacy officer", "2 January 2027"}},
	},
	EndCustomerEscalation: {
		subject: facts{"ru": {"передан вам на решение"}, "en": {"needs your decision"}},
		body: facts{"ru": {"Пиццерия Мама", "@pizza_fan (id 55123)", "10 рабочих дней", "https://lethe.example/panel/privacy/requests/ecr-1"},
			"en": {"Пиццерия Мама", "@pizza_fan (id 55123)", "10 business days", "https://lethe.example/panel/privacy/requests/ecr-1"}},
	},
	EndCustomerReceived: {
		subject: facts{"ru": {"Ваш запрос на удаление данных получен"}, "en": {"Your data deletion request was received"}},
		body: facts{"ru": {"Пиццерия Мама", "владелец бота", "10 рабочих дней", "2 января 2027 г.", "https://lethe.example/deletion-status/code-1"},
			"en": {"Пиццерия Мама", "owner", "10 business days", "2 January 2027", "https://lethe.example/deletion-status/code-1"}},
	},
	EndCustomerApproved: {
		subject: facts{"ru": {"Ваш запрос на удаление данных исполнен"}, "en": {"Your data deletion request is fulfilled"}},
		body: facts{"ru": {"одобрен", "Пиццерия Мама", "12\u00a0345", "Сообщения диалогов", "22 февраля 2027 г."},
			"en": {"approved", "Пиццерия Мама", "12,345", "Conversation messages", "22 February 2027"}},
	},
	EndCustomerDeclined: {
		subject: facts{"ru": {"Ваш запрос на удаление данных отклонён"}, "en": {"Your data deletion request was declined"}},
		body: facts{"ru": {"Пиццерия Мама", "переписка нужна для разбора претензии", "Роскомнадзор", "pd.rkn.gov.ru", "обжаловать", "152-ФЗ"},
			"en": {"Пиццерия Мама", "переписка нужна для разбора претензии", "Roskomnadzor", "pd.rkn.gov.ru", "Article 17"}},
	},
	VerificationRequest: {
		subject: facts{"ru": {"Подтвердите запрос на удаление данных"}, "en": {"Please confirm your data deletion request"}},
		body: facts{"ru": {"https://lethe.example/v1/email-actions/confirm-tok", "ничего не будет удалено", "удаление учётной записи", "ivan@example.com"},
			"en": {"https://lethe.example/v1/email-actions/confirm-tok", "nothing will be deleted", "account deletion", "ivan@example.com"}},
	},
	IntakeReceived: {
		subject: facts{"ru": {"Мы получили ваш запрос на удаление данных"}, "en": {"We have received your data deletion request"}},
		body: facts{
			"ru": {"Мы получили ваш запрос на удаление данных (№ req-42)", "мы написали на адрес электронной почты, зарегистрированный для них",
				"Ничего не будет удалено, пока владелец этого адреса не подтвердит запрос",
				"с адреса электронной почты этой учётной записи", "«Настройки» → «Удалить учётную запись»",
				"ничего делать не нужно"},
			"en": {"We have received your request to delete data (ref. ", "we have written to the email address registered for it",
				"Nothing will be deleted unless the owner of that address confirms the request",
				"own email address", "Settings → Delete account", "no further action is needed"},
		},
	},
	WorkflowFailureAlert: {
		subject: facts{"ru": {"Сбой обработки заявки"}, "en": {"Deletion request processing failed"}},
		body:    facts{"ru": {"HardDelete", "States.TaskFailed"}, "en": {"HardDelete", "States.TaskFailed"}},
	},
	DeadlineMissed: {
		subject: facts{"ru": {"Заявка на удаление просрочена"}, "en": {"Deletion request past its deadline"}},
		body: facts{
			"ru": {"пропущен установленный законом срок", "Окончательное удаление данных — не позднее",
				"23 января 2027 г., 12:30 по московскому времени", "HardDelete", "удаление учётной записи"},
			"en": {"missed a deadline the law sets", "Data permanently deleted by",
				"23 January 2027, 12:30 Moscow time (UTC+3)", "HardDelete", "account deletion"}},
	},
	RetentionReport: {
		subject: facts{"ru": {"Ежемесячный отчёт о сроках хранения за ноябрь 2026 г."}, "en": {"Monthly retention report for November 2026"}},
		body: facts{
			"ru": {"завершено ежедневных проходов — 30", "не более 13 месяцев", "Сообщения диалогов", "12\u00a0345",
				"3 ноября 2025 г.", "3 декабря 2026 г.", "Платёжные документы", "10 января 2022 г.", "10 января 2027 г.",
				"12\u00a0366",
				"1 декабря 2026 г., 00:10 по московскому времени"},
			"en": {"30 daily run(s) finished", "no more than 13 months", "Conversation messages", "12,345",
				"3 November 2025", "3 December 2026", "Payment documents", "10 January 2022", "10 January 2027",
				"12,366",
				"1 December 2026, 00:10 Moscow time (UTC+3)"}},
	},
}

func TestEveryTemplateIsTested(t *testing.T) {
	if len(expected) != len(Templates) {
		t.Errorf("expected covers %d templates, Templates lists %d", len(expected), len(Templates))
	}
	for _, tm := range Templates {
		if _, ok := expected[tm]; !ok {
			t.Errorf("no expectations for %s", tm)
		}
	}
}

// Templates are parsed on first use (not at a Lambda's init): each one, in each locale, parses.
func TestEveryTemplateParses(t *testing.T) {
	for _, tm := range Templates {
		sets, err := parsed[tm]()
		if err != nil {
			t.Errorf("%s: %v", tm, err)
			continue
		}
		for _, loc := range []string{LocaleRU, LocaleEN} {
			if s, ok := sets[loc]; !ok || s.text.Lookup("subject") == nil || s.html == nil {
				t.Errorf("%s in %s: not parsed with its subject", tm, loc)
			}
		}
	}
}

func TestRenderStatesTheFacts(t *testing.T) {
	for _, tm := range Templates {
		for _, loc := range []string{LocaleRU, LocaleEN} {
			t.Run(string(tm)+"/"+loc, func(t *testing.T) {
				r, err := Render(Mail{Template: tm, Locale: loc, Data: fullData()}, "")
				if err != nil {
					t.Fatal(err)
				}
				want := expected[tm]
				for _, s := range append(want.subject[loc], "req-42") {
					if !strings.Contains(r.Subject, s) {
						t.Errorf("subject %q lacks %q", r.Subject, s)
					}
				}
				for _, s := range want.body[loc] {
					if !strings.Contains(r.Text, s) {
						t.Errorf("text lacks %q\n%s", s, r.Text)
					}
					if !strings.Contains(r.HTML, htmlEscape(s)) {
						t.Errorf("html lacks %q", htmlEscape(s))
					}
				}
				checkWellFormed(t, r, loc)
			})
		}
	}
}

// checkWellFormed holds for every mail: one-line subject in the mail's language with the request
// id, no template accidents, a text body without markup, an HTML page in the right language.
func checkWellFormed(t *testing.T, r Rendered, loc string) {
	t.Helper()
	if strings.ContainsAny(r.Subject, "\r\n") || len([]rune(r.Subject)) > 100 {
		t.Errorf("subject is not one short line: %q", r.Subject)
	}
	if hasCyrillic(r.Subject) != (loc == LocaleRU) {
		t.Errorf("subject %q is not in %s", r.Subject, loc)
	}
	for name, body := range map[string]string{"subject": r.Subject, "text": r.Text, "html": r.HTML} {
		for _, bad := range []string{"<no value>", "ZgotmplZ", "%!", "{{", "}}"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s contains %q", name, bad)
			}
		}
	}
	for _, tag := range []string{"<p>", "<li>", "<strong>", "&nbsp;", "&lt;"} {
		if strings.Contains(r.Text, tag) {
			t.Errorf("text contains markup %q", tag)
		}
	}
	if strings.Contains(r.Text, "\n\n\n") || !strings.HasSuffix(r.Text, "\n") {
		t.Errorf("text is not tidy: %q", r.Text)
	}
	if !strings.HasPrefix(r.HTML, "<!DOCTYPE html>") || !strings.Contains(r.HTML, `<html lang="`+loc+`">`) {
		t.Errorf("html is not a %s page: %.80q", loc, r.HTML)
	}
	greeting := map[string]string{LocaleRU: "Здравствуйте", LocaleEN: "Hello"}[loc]
	if !strings.HasPrefix(r.Text, greeting) {
		t.Errorf("text does not start with %q: %.60q", greeting, r.Text)
	}
}

func hasCyrillic(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Cyrillic, r) }) >= 0
}

// htmlEscape is what html/template makes of plain text with the characters the facts use.
func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "+", "&#43;").Replace(s)
}

func TestRenderEscapesHTMLButNotText(t *testing.T) {
	const evil = `<script>alert("x")</script>`
	for _, tm := range Templates {
		for _, loc := range []string{LocaleRU, LocaleEN} {
			d := fullData()
			d.RecipientName = evil
			d.BotName = "Bot " + evil
			d.EndUserRef = evil
			d.Reason = evil
			r, err := Render(Mail{Template: tm, Locale: loc, Data: d}, "")
			if err != nil {
				t.Fatalf("%s/%s: %v", tm, loc, err)
			}
			if strings.Contains(r.HTML, "<script") {
				t.Errorf("%s/%s: html contains an unescaped <script>", tm, loc)
			}
			// The alert and the neutral intake answer show no name at all.
			showsName := tm != WorkflowFailureAlert && tm != DeadlineMissed && tm != RetentionReport && tm != IntakeReceived
			if showsName && !strings.Contains(r.HTML, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
				t.Errorf("%s/%s: html does not show the escaped name", tm, loc)
			}
			if showsName && !strings.Contains(r.Text, evil) {
				t.Errorf("%s/%s: text does not show the name as written", tm, loc)
			}
		}
	}
}

func TestFailureAlertCarriesNoPersonalData(t *testing.T) {
	d := fullData()
	d.Error = "States.TaskFailed: account ivan@example.com not found"
	for _, loc := range []string{LocaleRU, LocaleEN} {
		for _, tm := range []Template{DeadlineMissed, RetentionReport} {
			r, err := Render(Mail{Template: tm, Locale: loc, Data: d}, "")
			if err != nil {
				t.Fatal(err)
			}
			for _, personal := range []string{"Иван", "ivan@example.com", "Пиццерия", "pizza_fan", "претензии"} {
				if strings.Contains(r.Subject+r.Text+r.HTML, personal) {
					t.Errorf("%s/%s: the mail shows %q", tm, loc, personal)
				}
			}
		}
		r, err := Render(Mail{Template: WorkflowFailureAlert, Locale: loc, Data: d}, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, personal := range []string{"Иван", "ivan@example.com", "Пиццерия", "pizza_fan", "претензии"} {
			if strings.Contains(r.Subject+r.Text+r.HTML, personal) {
				t.Errorf("%s: the alert shows %q", loc, personal)
			}
		}
		if !strings.Contains(r.Text, "States.TaskFailed") {
			t.Errorf("%s: the alert lost the error name:\n%s", loc, r.Text)
		}
	}
}

func TestSubjectsCarryNoPersonalData(t *testing.T) {
	d := fullData()
	for _, tm := range Templates {
		for _, loc := range []string{LocaleRU, LocaleEN} {
			r, err := Render(Mail{Template: tm, Locale: loc, Data: d}, "")
			if err != nil {
				t.Fatal(err)
			}
			for _, personal := range []string{d.RecipientName, d.AccountEmail, d.BotName, d.EndUserRef} {
				if strings.Contains(r.Subject, personal) {
					t.Errorf("%s/%s: subject %q shows %q", tm, loc, r.Subject, personal)
				}
			}
		}
	}
}

func TestLocaleFallsBackToRussian(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", LocaleRU}, {"ru", LocaleRU}, {"ru-RU", LocaleRU}, {"de", LocaleRU}, {"xx", LocaleRU},
		{"en", LocaleEN}, {"EN", LocaleEN}, {"en-GB", LocaleEN}, {"en_US", LocaleEN},
	} {
		r, err := Render(Mail{Template: AccountDeletionCancelled, Locale: tc.in, Data: fullData()}, "")
		if err != nil {
			t.Fatal(err)
		}
		if r.Locale != tc.want || hasCyrillic(r.Subject) != (tc.want == LocaleRU) {
			t.Errorf("locale %q: got %s, subject %q", tc.in, r.Locale, r.Subject)
		}
	}
}

func TestDates(t *testing.T) {
	for _, tc := range []struct {
		at       time.Time
		loc      string
		date, tm string
	}{
		{time.Date(2027, 1, 2, 9, 0, 0, 0, time.UTC), LocaleRU, "2 января 2027 г.", "2 января 2027 г., 12:00 по московскому времени"},
		{time.Date(2027, 1, 2, 9, 0, 0, 0, time.UTC), LocaleEN, "2 January 2027", "2 January 2027, 12:00 Moscow time (UTC+3)"},
		// 22:30 UTC is already the next day in Moscow.
		{time.Date(2026, 5, 31, 22, 30, 0, 0, time.UTC), LocaleRU, "1 июня 2026 г.", "1 июня 2026 г., 01:30 по московскому времени"},
		{time.Date(2026, 12, 31, 21, 0, 0, 0, time.UTC), LocaleEN, "1 January 2027", "1 January 2027, 00:00 Moscow time (UTC+3)"},
		{time.Date(2026, 3, 8, 12, 0, 0, 0, time.FixedZone("X", -5*3600)), LocaleRU, "8 марта 2026 г.", "8 марта 2026 г., 20:00 по московскому времени"},
	} {
		if got := formatDate(tc.at, tc.loc); got != tc.date {
			t.Errorf("formatDate(%v, %s) = %q, want %q", tc.at, tc.loc, got, tc.date)
		}
		if got := formatTime(tc.at, tc.loc); got != tc.tm {
			t.Errorf("formatTime(%v, %s) = %q, want %q", tc.at, tc.loc, got, tc.tm)
		}
	}
	for m := time.January; m <= time.December; m++ {
		if got := formatDate(time.Date(2027, m, 15, 9, 0, 0, 0, time.UTC), LocaleRU); !strings.HasSuffix(got, " 2027 г.") || strings.Count(got, " ") != 3 {
			t.Errorf("month %d: %q", m, got)
		}
	}
}

func TestCounts(t *testing.T) {
	for _, tc := range []struct {
		n      int64
		ru, en string
	}{{0, "0", "0"}, {999, "999", "999"}, {1000, "1\u00a0000", "1,000"}, {1234567, "1\u00a0234\u00a0567", "1,234,567"}} {
		if got := formatCount(tc.n, LocaleRU); got != tc.ru {
			t.Errorf("ru %d = %q, want %q", tc.n, got, tc.ru)
		}
		if got := formatCount(tc.n, LocaleEN); got != tc.en {
			t.Errorf("en %d = %q, want %q", tc.n, got, tc.en)
		}
	}
}

func TestCountsAreInDataMapOrderWithoutZeros(t *testing.T) {
	d := fullData()
	d.Counts = map[string]int64{CountS3Objects: 2, datamap.Message: 5, datamap.AccountProfile: 1, "mystery": 4, datamap.Note: 0}
	r, err := Render(Mail{Template: EndUserDeletionDone, Locale: LocaleEN, Data: d}, "")
	if err != nil {
		t.Fatal(err)
	}
	order := []string{"- Account profile", "- Conversation messages: 5", "- mystery: 4", "- Files in storage (S3 objects): 2"}
	last := -1
	for _, s := range order {
		i := strings.Index(r.Text, s)
		if i < 0 || i < last {
			t.Fatalf("%q missing or out of order in\n%s", s, r.Text)
		}
		last = i
	}
	if strings.Contains(r.Text, "Notes about the end user") {
		t.Error("a category with nothing deleted is listed")
	}

	d.Counts = map[string]int64{}
	r, err = Render(Mail{Template: EndUserDeletionDone, Locale: LocaleRU, Data: d}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Text, "ничего не удалено") {
		t.Errorf("an empty result is not stated:\n%s", r.Text)
	}
}

func TestTimelineLabels(t *testing.T) {
	d := fullData()
	d.Timeline = append(d.Timeline, Milestone{"custom_step", received.Add(time.Hour)}, Milestone{MilestoneDecideBy, completeBy},
		Milestone{MilestoneStartBy, received.Add(24 * time.Hour)})
	for loc, want := range map[string][]string{
		LocaleRU: {"Заявка получена", "Решение по заявке — не позднее", "Начало обработки заявки — не позднее", "custom_step"},
		LocaleEN: {"Request received", "Decision due by", "Processing starts by", "custom_step"},
	} {
		r, err := Render(Mail{Template: EndCustomerEscalation, Locale: loc, Data: d}, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range want {
			if !strings.Contains(r.Text, s) {
				t.Errorf("%s: timeline lacks %q\n%s", loc, s, r.Text)
			}
		}
		// Sorted by date: received comes before the custom step an hour later.
		if strings.Index(r.Text, want[0]) > strings.Index(r.Text, "custom_step") {
			t.Errorf("%s: timeline is not in date order", loc)
		}
	}
}

func TestConfirmationStatesTheLawsExceptionsAndDefaults(t *testing.T) {
	d := fullData()
	d.Deleted, d.Kept = nil, nil
	r, err := Render(Mail{Template: AccountDeletionConfirmation, Data: d}, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range datamap.Reaching(datamap.ScopeAccount) {
		title, _ := evidence.CategoryTitle(c.Name, LocaleRU)
		if !strings.Contains(r.Text, title) {
			t.Errorf("the deleted list lacks %q", title)
		}
	}
	for _, k := range []string{evidence.KeptLawAccounting5y, evidence.KeptConsentWithdrawal5y, evidence.KeptLegalHold} {
		reason, _ := evidence.KeptReasonTitle(k, LocaleRU)
		if !strings.Contains(r.Text, reason) {
			t.Errorf("the kept list lacks %q", reason)
		}
	}
	if n := strings.Count(r.Text, "Платёжные документы"); n != 1 {
		t.Errorf("payments listed %d times", n)
	}
}

func TestRelativeLinksUseTheBaseURL(t *testing.T) {
	d := fullData()
	d.CancelURL = "/v1/email-actions/tok?a=1&b=2"
	r, err := Render(Mail{Template: AccountDeletionConfirmation, Data: d}, "https://lethe.example/prod/")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Text, "https://lethe.example/prod/v1/email-actions/tok?a=1&b=2") {
		t.Errorf("text lacks the absolute link:\n%s", r.Text)
	}
	if !strings.Contains(r.HTML, `href="https://lethe.example/prod/v1/email-actions/tok?a=1&amp;b=2"`) {
		t.Error("html lacks the absolute, escaped link")
	}

	for _, tc := range []struct{ link, base string }{
		{"/v1/x", ""},
		{"/v1/x", "not a url"},
		{"javascript:alert(1)", "https://lethe.example"},
		{"ftp://lethe.example/x", "https://lethe.example"},
	} {
		d.CancelURL = tc.link
		if _, err := Render(Mail{Template: AccountDeletionConfirmation, Data: d}, tc.base); !errors.Is(err, ErrBadURL) {
			t.Errorf("link %q on base %q: err = %v, want ErrBadURL", tc.link, tc.base, err)
		}
	}
}

func TestValuesCannotForgeLines(t *testing.T) {
	d := fullData()
	d.RecipientName = "Иван\r\nЗаявка отменена\u202e"
	r, err := Render(Mail{Template: AccountDeletionCancelled, Data: d}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.Text, "Здравствуйте, Иван  Заявка отменена!") {
		t.Errorf("greeting = %.60q", r.Text)
	}
}

func TestCompletedMailCarriesTheAct(t *testing.T) {
	for _, loc := range []string{LocaleRU, LocaleEN} {
		r, err := Render(Mail{Template: AccountDeletionCompleted, Locale: loc, Data: fullData()}, "")
		if err != nil {
			t.Fatal(err)
		}
		md, _ := evidence.RenderMarkdown(*sampleAct(), loc)
		if !strings.Contains(r.Text, strings.TrimSpace(md)) {
			t.Errorf("%s: the text lacks the act as RenderMarkdown writes it", loc)
		}
		if strings.Count(r.HTML, "<body>") != 1 || strings.Count(r.HTML, "<html") != 1 {
			t.Errorf("%s: the act's page is nested in the mail's page", loc)
		}
		if !strings.Contains(r.HTML, `<section class="doc">`) {
			t.Errorf("%s: the html lacks the act", loc)
		}
		if len(r.Attachments) != 1 {
			t.Fatalf("%s: %d attachments", loc, len(r.Attachments))
		}
		a := r.Attachments[0]
		got, err := evidence.ParseJSON(a.Content)
		if err != nil || a.Name != "act-req-42.json" || a.ContentType != "application/json" || got.RequestID != "req-42" {
			t.Errorf("%s: attachment %s %s %v %+v", loc, a.Name, a.ContentType, err, got.RequestID)
		}
	}
	// Only the completed mail carries an attachment.
	r, err := Render(Mail{Template: AccountDeleted, Data: fullData()}, "")
	if err != nil || len(r.Attachments) != 0 {
		t.Errorf("account_deleted: %v, %d attachments", err, len(r.Attachments))
	}
}

func TestCompletedMailRefusesAnotherRequestsAct(t *testing.T) {
	d := fullData()
	d.RequestID = "req-other"
	if _, err := Render(Mail{Template: AccountDeletionCompleted, Data: d}, ""); !errors.Is(err, ErrActMismatch) {
		t.Errorf("err = %v, want ErrActMismatch", err)
	}
	d = fullData()
	d.RequestID = "req-4" // a prefix of req-42, but not its request
	if _, err := Render(Mail{Template: AccountDeletionCompleted, Data: d}, ""); !errors.Is(err, ErrActMismatch) {
		t.Errorf("err = %v, want ErrActMismatch", err)
	}
	// The act of a second round (after a legal hold was released) is this request's.
	d = fullData()
	d.Act.RequestID = "req-42-2"
	if _, err := Render(Mail{Template: AccountDeletionCompleted, Data: d}, ""); err != nil {
		t.Errorf("second-round act: %v", err)
	}
	d = fullData()
	d.RequestID = "" // taken from the act
	if r, err := Render(Mail{Template: AccountDeletionCompleted, Data: d}, ""); err != nil || !strings.Contains(r.Subject, "req-42") {
		t.Errorf("without a request id: %v, %q", err, r.Subject)
	}
	d = fullData()
	d.Act.Operator.Name = ""
	if _, err := Render(Mail{Template: AccountDeletionCompleted, Data: d}, ""); !errors.Is(err, evidence.ErrInvalid) {
		t.Errorf("invalid act: err = %v, want evidence.ErrInvalid", err)
	}
}

func TestMissingData(t *testing.T) {
	without := func(name string) func(*Data) {
		return func(d *Data) {
			for i := range d.Timeline {
				if d.Timeline[i].Name == name {
					d.Timeline[i].At = time.Time{}
				}
			}
		}
	}
	for _, tc := range []struct {
		tm     Template
		change func(*Data)
		field  string
	}{
		{AccountDeletionConfirmation, func(d *Data) { d.RequestID, d.Act = "", nil }, "Data.RequestID"},
		{AccountDeletionConfirmation, func(d *Data) { d.CancelURL = " " }, "Data.CancelURL"},
		{AccountDeletionConfirmation, without(MilestoneSoftDeleteEnds), "Data.Timeline[soft_delete_ends]"},
		{AccountDeletionConfirmation, without(MilestoneHardDeleteBy), "Data.Timeline[hard_delete_by]"},
		{AccountDeletionConfirmation, without(MilestoneBackupsRotatedBy), "Data.Timeline[backups_rotated_by]"},
		{AccountDeletionCancelled, func(d *Data) { d.RequestID, d.Act = "", nil }, "Data.RequestID"},
		{CancelTooLate, func(d *Data) { d.RequestID, d.Act = "", nil }, "Data.RequestID"},
		{CancelTooLate, without(MilestoneSoftDeleteEnds), "Data.Timeline[soft_delete_ends]"},
		{CancelTooLate, func(d *Data) { d.Timeline = nil }, "Data.Timeline[soft_delete_ends]"},
		{AccountDeleted, without(MilestoneBackupsRotatedBy), "Data.Timeline[backups_rotated_by]"},
		{AccountDeletionCompleted, func(d *Data) { d.Act = nil }, "Data.Act"},
		{EndUserDeletionDone, func(d *Data) { d.Counts = nil }, "Data.Counts"},
		{ConnectionWiped, func(d *Data) { d.Channel = "" }, "Data.Channel"},
		{ConnectionWiped, func(d *Data) { d.Counts = nil }, "Data.Counts"},
		{EndCustomerOwnerNotice, func(d *Data) { d.BotName = "" }, "Data.BotName"},
		{EndCustomerOwnerNotice, func(d *Data) { d.EndUserRef = "" }, "Data.EndUserRef"},
		{EndCustomerOwnerNotice, func(d *Data) { d.DecisionURL = "" }, "Data.DecisionURL"},
		{EndCustomerOwnerNotice, without(MilestoneEscalateAt), "Data.Timeline[escalate_at]"},
		{EndCustomerEscalation, func(d *Data) { d.DecisionURL = "" }, "Data.DecisionURL"},
		{EndCustomerEscalation, func(d *Data) { d.EndUserRef = "" }, "Data.EndUserRef"},
		{EndCustomerReceived, func(d *Data) { d.BotName = "" }, "Data.BotName"},
		{EndCustomerReceived, without(MilestoneCompleteBy), "Data.Timeline[complete_by]"},
		{EndCustomerApproved, func(d *Data) { d.Counts = nil }, "Data.Counts"},
		{EndCustomerDeclined, func(d *Data) { d.Reason = "" }, "Data.Reason"},
		{EndCustomerDeclined, func(d *Data) { d.BotName = "" }, "Data.BotName"},
		{VerificationRequest, func(d *Data) { d.ConfirmURL = "" }, "Data.ConfirmURL"},
		{IntakeReceived, func(d *Data) { d.RequestID, d.Act = " ", nil }, "Data.RequestID"},
		{WorkflowFailureAlert, func(d *Data) { d.State = "" }, "Data.State"},
		{WorkflowFailureAlert, func(d *Data) { d.Error = "" }, "Data.Error"},
		{DeadlineMissed, func(d *Data) { d.State = "" }, "Data.State"},
		{DeadlineMissed, func(d *Data) { d.Deadline = "" }, "Data.Deadline"},
		{DeadlineMissed, without(MilestoneHardDeleteBy), "Data.Timeline[Deadline]"},
		{RetentionReport, func(d *Data) { d.Retention = nil }, "Data.Retention"},
		{RetentionReport, func(d *Data) { d.Retention.Month = time.Time{} }, "Data.Retention"},
	} {
		t.Run(string(tc.tm)+"/"+tc.field, func(t *testing.T) {
			d := fullData()
			tc.change(&d)
			_, err := Render(Mail{Template: tc.tm, Data: d}, "")
			var me *MissingDataError
			if !errors.Is(err, ErrMissingData) || !errors.As(err, &me) || me.Field != tc.field || me.Template != tc.tm {
				t.Fatalf("err = %v, want missing %s", err, tc.field)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("error %q does not name the field", err)
			}
		})
	}
}

func TestUnknownTemplate(t *testing.T) {
	if _, err := Render(Mail{Template: "nope", Data: fullData()}, ""); !errors.Is(err, ErrUnknownTemplate) {
		t.Errorf("err = %v", err)
	}
}

func TestMinimalDataRenders(t *testing.T) {
	// The least each template accepts still reads well: optional facts leave no gaps.
	d := Data{RequestID: "req-1", Counts: map[string]int64{}, CancelURL: "https://x.example/c",
		ConfirmURL: "https://x.example/v", DecisionURL: "https://x.example/d", Act: sampleAct(),
		BotName: "b", Channel: "vk", EndUserRef: "u", Reason: "r", State: "s", Error: "e", Deadline: MilestoneCompleteBy,
		Retention: &RetentionSummary{Month: received},
		Timeline: []Milestone{{MilestoneSoftDeleteEnds, softEnds}, {MilestoneHardDeleteBy, hardBy},
			{MilestoneBackupsRotatedBy, backupsBy}, {MilestoneEscalateAt, escalateAt}, {MilestoneCompleteBy, completeBy}}}
	for _, tm := range Templates {
		for _, loc := range []string{LocaleRU, LocaleEN} {
			dd := d
			if tm == AccountDeletionCompleted {
				dd.RequestID = "req-42"
			}
			r, err := Render(Mail{Template: tm, Locale: loc, Data: dd}, "")
			if err != nil {
				t.Fatalf("%s/%s: %v", tm, loc, err)
			}
			checkWellFormed(t, r, loc)
			if strings.Contains(r.Text, "()") || strings.Contains(r.Text, "«»") || strings.Contains(r.Text, `""`) {
				t.Errorf("%s/%s: an empty value left a gap:\n%s", tm, loc, r.Text)
			}
		}
	}
}

func TestIntakeReceivedDoesNotRevealTheAccount(t *testing.T) {
	// The neutral answer goes to whoever wrote to info@; what it says must not depend on whether an
	// account exists, so nothing the caller knows about one may show.
	full := fullData()
	full.AccountEmail = "Ivan.Petrov@Example.COM"
	for _, loc := range []string{LocaleRU, LocaleEN} {
		r, err := Render(Mail{Template: IntakeReceived, Locale: loc, Data: full}, "")
		if err != nil {
			t.Fatal(err)
		}
		all := r.Subject + "\n" + r.Text + "\n" + r.HTML
		for _, leak := range []string{full.AccountEmail, "Ivan.Petrov", "example.com", "Example.COM", full.RecipientName,
			full.BotName, full.EndUserRef, full.Reason, full.CancelURL, full.ConfirmURL, full.StatusURL,
			formatDate(softEnds, loc), formatDate(received, loc), "Telegram"} {
			if strings.Contains(strings.ToLower(all), strings.ToLower(leak)) {
				t.Errorf("%s: the neutral mail shows %q", loc, leak)
			}
		}
		if strings.Contains(strings.ToLower(all), strings.ToLower(htmlEscape(full.AccountEmail))) {
			t.Errorf("%s: the neutral mail's html shows the account's address", loc)
		}
		// Word for word the mail a sender gets when no account is known.
		bare, err := Render(Mail{Template: IntakeReceived, Locale: loc, Data: Data{RequestID: full.RequestID}}, "")
		if err != nil {
			t.Fatal(err)
		}
		if r.Subject != bare.Subject || r.Text != bare.Text || r.HTML != bare.HTML || len(r.Attachments)+len(bare.Attachments) != 0 {
			t.Errorf("%s: the mail differs when account data are given:\n%s\n---\n%s", loc, r.Text, bare.Text)
		}
		checkWellFormed(t, r, loc)
	}
}

func TestCancelTooLateStatesTheDatesItIsGiven(t *testing.T) {
	soft := []Milestone{{MilestoneSoftDeleteEnds, softEnds}}
	all := append(slices.Clone(soft), Milestone{MilestoneHardDeleteBy, hardBy}, Milestone{MilestoneBackupsRotatedBy, backupsBy})
	for _, tc := range []struct {
		name      string
		timeline  []Milestone
		loc       string
		want, not []string
	}{
		{"all dates", all, LocaleRU, []string{
			"отменить его уже нельзя", "истёк 2 января 2027 г., 12:30 по московскому времени.",
			"файлового хранилища — не позднее 23 января 2027 г., 12:30 по московскому времени.",
			"Из резервных копий они исчезнут при их плановой ротации — не позднее 22 февраля 2027 г., 12:30 по московскому времени.",
			"- Окончание срока, в течение которого учётную запись можно восстановить: 2 января 2027 г., 12:30 по московскому времени",
			"- Окончательное удаление данных — не позднее: 23 января 2027 г.",
			"- Удаление данных из резервных копий — не позднее: 22 февраля 2027 г.",
		}, nil},
		{"all dates", all, LocaleEN, []string{
			"can no longer be cancelled", "ended on 2 January 2027, 12:30 Moscow time (UTC+3).",
			"file storage, by 23 January 2027, 12:30 Moscow time (UTC+3).",
			"They leave our backups as these rotate — by 22 February 2027, 12:30 Moscow time (UTC+3).",
			"- Restore window ends: 2 January 2027, 12:30 Moscow time (UTC+3)",
			"- Data permanently deleted by: 23 January 2027", "- Data gone from backups by: 22 February 2027",
		}, nil},
		// hard_delete_by and backups_rotated_by are optional: without them the mail promises no date.
		{"restore window only", soft, LocaleRU, []string{
			"вашей учётной записи", "истёк 2 января 2027 г., 12:30 по московскому времени.",
			"окончательно удаляются из рабочих баз данных и файлового хранилища. Данные, которые", "актом об уничтожении",
		}, []string{"не позднее", "резервных копий"}},
		{"restore window only", soft, LocaleEN, []string{
			"your account", "ended on 2 January 2027, 12:30 Moscow time (UTC+3).",
			"permanently deleted from our production databases and file storage. Data the law", "act of destruction",
		}, []string{" by ", "backups"}},
	} {
		t.Run(tc.name+"/"+tc.loc, func(t *testing.T) {
			d := Data{RequestID: "req-9", Timeline: tc.timeline}
			r, err := Render(Mail{Template: CancelTooLate, Locale: tc.loc, Data: d}, "")
			if err != nil {
				t.Fatal(err)
			}
			checkWellFormed(t, r, tc.loc)
			for _, s := range tc.want {
				if !strings.Contains(r.Text, s) {
					t.Errorf("text lacks %q\n%s", s, r.Text)
				}
			}
			for _, s := range tc.not {
				if strings.Contains(r.Text, s) {
					t.Errorf("text promises a date it was not given (%q)\n%s", s, r.Text)
				}
			}
		})
	}
}

// A category whose oldest stored item is past its rule's limit at the report's date is flagged,
// in the line and at the top; one within it is not.
func TestRetentionReportFlagsWhatOutlivedItsRetention(t *testing.T) {
	for _, loc := range []string{LocaleRU, LocaleEN} {
		flag, attention := map[string]string{LocaleRU: "СРОК ХРАНЕНИЯ ИСТЁК", LocaleEN: "PAST ITS RETENTION"}[loc],
			map[string]string{LocaleRU: "ВНИМАНИЕ", LocaleEN: "ATTENTION"}[loc]
		d := fullData()
		r, err := Render(Mail{Template: RetentionReport, Locale: loc, Data: d}, "")
		if err != nil {
			t.Fatal(err)
		}
		// The plain text states each count with its meaning.
		for _, want := range map[string][]string{
			LocaleRU: {"невозможно датировать: 3", "удалено файлов: 4", "проставлен срок: 2", "Итого: удалено записей — 12\u00a0366"},
			LocaleEN: {"cannot be dated: 3", "files deleted: 4", "expiry set: 2", "Total: 12,366 items deleted"},
		}[loc] {
			if !strings.Contains(r.Text, want) {
				t.Errorf("%s: text lacks %q:\n%s", loc, want, r.Text)
			}
		}
		if strings.Contains(r.Text+r.HTML, flag) || strings.Contains(r.Text+r.HTML, attention) {
			t.Errorf("%s: flagged although every oldest item is within its retention:\n%s", loc, r.Text)
		}
		// Messages from 29 October 2025 had to go by 29 November 2026, before the report's date.
		stale := time.Date(2025, 10, 29, 8, 0, 0, 0, time.UTC)
		d.Retention = sampleRetention()
		c := d.Retention.Categories[datamap.Message]
		c.Oldest = &stale
		d.Retention.Categories[datamap.Message] = c
		r, err = Render(Mail{Template: RetentionReport, Locale: loc, Data: d}, "")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(r.Text, flag) != 1 || strings.Count(r.HTML, flag) != 1 || !strings.Contains(r.Text, attention) {
			t.Errorf("%s: the overdue category is not flagged once:\n%s", loc, r.Text)
		}
		line := r.Text[strings.Index(r.Text, titleOr(evidence.CategoryTitle, datamap.Message, loc)):]
		if i := strings.Index(line, flag); i < 0 || strings.Contains(line[:i], titleOr(evidence.CategoryTitle, datamap.Payment, loc)) {
			t.Errorf("%s: the flag is not on the messages' line:\n%s", loc, r.Text)
		}
	}
}
