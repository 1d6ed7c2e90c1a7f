package evidence

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lethe-dev/lethe/internal/datamap"
)

// Locales the documents are written in.
const (
	LocaleRU = "ru"
	LocaleEN = "en"
)

// Locales lists every supported locale.
var Locales = []string{LocaleRU, LocaleEN}

// wording is one machine key in both languages.
type wording struct{ ru, en string }

func (w wording) in(locale string) string {
	if locale == LocaleRU {
		return w.ru
	}
	return w.en
}

const law152 = "Федерального закона от 27.07.2006 № 152-ФЗ «О персональных данных»"

// categoryTitles names every data-map category in the documents; a test checks that every
// datamap.Categories entry has both.
var categoryTitles = map[string]wording{
	datamap.AccountProfile:      {"Профиль учётной записи (адрес электронной почты, ФИО, настройки, хеш пароля)", "Account profile (email address, full name, settings, password hash)"},
	datamap.TeamMember:          {"Члены команды и их роли", "Team members and their roles"},
	datamap.Bot:                 {"Подключённые боты", "Connected bots"},
	datamap.ChannelConnection:   {"Подключения каналов связи с их токенами, API-ключами и секретами подписи", "Channel connections with their tokens, API keys and signing secrets"},
	datamap.ConnectionKey:       {"Другие идентификаторы подключений в каналах связи (идентификатор аккаунта Instagram, идентификатор Meta подключившего страницу администратора, идентификатор номера телефона)", "Channel connections' other channel IDs (Instagram account ID, Meta ID of the page admin who connected it, phone number ID)"},
	datamap.APIToken:            {"API-токены", "API tokens"},
	datamap.Webhook:             {"Исходящие веб-хуки", "Outgoing webhooks"},
	datamap.Integration:         {"Настройки интеграций", "Integration settings"},
	datamap.Template:            {"Шаблоны сообщений", "Message templates"},
	datamap.Tag:                 {"Справочник тегов", "Tag definitions"},
	datamap.AccountFile:         {"Файлы и медиафайлы, загруженные владельцем учётной записи", "Files and media uploaded by the account"},
	datamap.ActivityLog:         {"Журнал действий администраторов", "Activity logs (admin actions)"},
	datamap.EndUserProfile:      {"Профиль пользователя бота", "End-user profile"},
	datamap.ChannelIdentity:     {"Идентификаторы в каналах связи (идентификатор Telegram, идентификатор Meta в приложении, номер телефона и т. п.)", "Channel identities (Telegram ID, Meta app-scoped ID, phone number, etc.)"},
	datamap.NameToken:           {"Нормализованные фрагменты имени для поиска в разделе «Диалоги»", "Normalized name tokens for Conversations search"},
	datamap.Conversation:        {"Диалоги", "Conversations"},
	datamap.Message:             {"Сообщения диалогов", "Conversation messages"},
	datamap.InboxMessage:        {"Сообщения во «Входящих» и вложения к ним", "Inbox messages and their attachments"},
	datamap.EndUserFile:         {"Файлы, отправленные пользователем бота", "Files sent by the end user"},
	datamap.Contact:             {"Контактные данные клиента", "End-customer contact details"},
	datamap.EndUserTag:          {"Теги, присвоенные пользователю бота", "Tags applied to the end user"},
	datamap.Note:                {"Заметки о пользователе бота", "Notes about the end user"},
	datamap.Payment:             {"Платёжные документы и первичные учётные документы", "Payment documents and primary accounting records"},
	datamap.Consent:             {"Согласия на обработку персональных данных и их отзывы", "Consents to personal-data processing and their withdrawals"},
	datamap.LegalHold:           {"Запросы уполномоченных органов о сохранении данных (правовое удержание)", "Legal holds (lawful authority requests)"},
	datamap.Evidence:            {"Акты об уничтожении персональных данных и выгрузки из журнала регистрации событий", "Acts of destruction and event-log extracts (Order 179)"},
	datamap.DeletionRequest:     {"Заявки на удаление: охват, история статусов, сроки, ход выполнения", "Deletion requests: scope, status history, deadlines, progress"},
	datamap.RequestSlot:         {"Отметки открытых заявок (одна заявка на удаление аккаунта)", "Open-request slots (one account deletion per account)"},
	datamap.ReauthAttempts:      {"Неудачные повторные вводы пароля (счётчик блокировки)", "Failed password re-entries (lockout counter)"},
	datamap.VerificationTries:   {"Попытки ввода одноразового кода по адресам (хэш адреса, счётчик за час)", "One-time code tries per address (hashed address, hourly count)"},
	datamap.PreviewToken:        {"Предпросмотры удаления в модуле «Приватность» (хэш токена, фильтры)", "Privacy-module deletion previews (token hash, filters)"},
	datamap.IdempotencyRecord:   {"Ответы, сохранённые для повторов с Idempotency-Key", "Responses kept for Idempotency-Key retries"},
	datamap.RequestReference:    {"Ссылки из писем на заявки (хэши токенов, идентификаторы писем)", "Email references to requests (token hashes, message ids)"},
	datamap.WebhookDelivery:     {"Полученные уведомления каналов (хэш идентификатора, данный ответ)", "Webhook deliveries seen (hashed delivery id, the answer given)"},
	datamap.SweepCheckpoint:     {"Отметки хода ежедневной проверки сроков хранения (позиции сканирования, счётчики)", "Retention-sweep checkpoints (scan positions, counts)"},
	datamap.ConnectionSuspicion: {"Подключения каналов, чей ключ доступа канал однажды отклонил, до повторной проверки (идентификатор подключения, канал, хэш ключа)", "Channel connections whose credential was refused once, awaiting a second check (connection id, channel, credential hash)"},
	datamap.RetentionTally:      {"Ежемесячные итоги проверки сроков хранения (счётчики по категориям, даты старейших записей)", "Retention-sweep monthly tallies (counts per category, oldest item dates)"},
	datamap.InboundMail:         {"Журнал входящих писем (хэш идентификатора письма, итог обработки; без адресов и содержания)", "Inbound mail journal (hashed message id, outcome; no addresses or content)"},
	datamap.AnalyticsCounter:    {"Анонимные агрегированные счётчики", "Anonymous aggregated counters"},
}

var reasons = map[string]wording{
	ReasonSubjectRequest: {
		"требование субъекта персональных данных об уничтожении его персональных данных (ч. 1 ст. 14 " + law152 + ")",
		"the data subject's request to destroy their personal data (Art. 14(1) of Federal Law No. 152-FZ \"On Personal Data\")"},
	ReasonAccountOwnerRequest: {
		"требование владельца учётной записи об удалении учётной записи, означающее отзыв согласия на обработку персональных данных (ч. 5 ст. 21 " + law152 + ")",
		"the account owner's request to delete the account, which withdraws consent to the processing of personal data (Art. 21(5) of Federal Law No. 152-FZ \"On Personal Data\")"},
	ReasonChannelRevoked: {
		"отключение канала связи (отзыв доступа платформы к каналу) и утрата необходимости в обработке полученных через него персональных данных (ч. 7 ст. 5 " + law152 + ")",
		"the channel connection was revoked, so the personal data received through it are no longer needed (Art. 5(7) of Federal Law No. 152-FZ \"On Personal Data\")"},
	ReasonRetentionExpired: {
		"истечение срока хранения персональных данных (ч. 7 ст. 5 " + law152 + ")",
		"expiry of the retention period of the personal data (Art. 5(7) of Federal Law No. 152-FZ \"On Personal Data\")"},
	ReasonAccountInstruction: {
		"указание владельца учётной записи, по поручению которого обрабатываются персональные данные, об их уничтожении (ч. 3 ст. 6 " + law152 + ")",
		"the instruction of the account on whose behalf the personal data are processed to destroy them (Art. 6(3) of Federal Law No. 152-FZ \"On Personal Data\")"},
	ReasonEndCustomerRequest: {
		"требование субъекта персональных данных (клиента владельца бота), одобренное владельцем бота или лицом, ответственным за организацию обработки персональных данных (ч. 1 ст. 14 " + law152 + ")",
		"an end customer's request to destroy their personal data, approved by the bot owner or by the privacy officer (Art. 14(1) of Federal Law No. 152-FZ \"On Personal Data\")"},
}

var methods = map[string]wording{
	MethodLogicalErasure: {
		"уничтожение программными средствами информационной системы: удаление записей из базы данных (Amazon DynamoDB) и объектов из хранилища (Amazon S3) без возможности восстановления; резервные копии уничтожаются по истечении срока их хранения, не превышающего 30 календарных дней",
		"erasure by the information system's software: deletion of database items (Amazon DynamoDB) and storage objects (Amazon S3) beyond recovery; backup copies are destroyed when their retention period, at most 30 calendar days, ends"},
}

var keptReasons = map[string]wording{
	KeptLawAccounting5y: {
		"хранение обязательно в силу закона: первичные учётные документы хранятся 5 лет (ст. 29 Федерального закона от 06.12.2011 № 402-ФЗ «О бухгалтерском учёте»)",
		"retention required by law: primary accounting documents are kept for 5 years (Art. 29 of Federal Law No. 402-FZ \"On Accounting\")"},
	KeptConsentWithdrawal5y: {
		"согласие на обработку персональных данных и его отзыв хранятся 5 лет с даты отзыва как доказательство получения согласия (ч. 3 ст. 9 " + law152 + ")",
		"the consent and its withdrawal are kept for 5 years from the withdrawal as proof of consent (Art. 9(3) of Federal Law No. 152-FZ \"On Personal Data\")"},
	KeptLegalHold: {
		"хранение по запросу уполномоченного государственного органа до снятия ограничения, после чего данные уничтожаются автоматически",
		"kept under a legal hold (a lawful authority request) until it is released, then destroyed automatically"},
	KeptAnalyticsAnonymous: {
		"анонимные агрегированные счётчики без идентификаторов субъектов; персональными данными не являются",
		"anonymous aggregated counters without subject identifiers; not personal data"},
}

var subjectKinds = map[string]wording{
	SubjectAccountOwner: {"владелец учётной записи", "account owner"},
	SubjectEndUser:      {"пользователь бота", "bot end user"},
	SubjectTeamMember:   {"член команды владельца учётной записи", "team member"},
}

// requestKinds are the ledger's request kinds (and the short forms some callers use). A kind not
// listed is shown as it is: the act does not require it, so it never blocks an act.
var requestKinds = map[string]wording{
	"account_deletion":          {"удаление учётной записи", "account deletion"},
	"bot_deletion":              {"удаление бота", "bot deletion"},
	"connection_wipe":           {"удаление данных подключения канала связи", "channel connection wipe"},
	"end_user_filter":           {"удаление данных пользователей бота по фильтру (раздел «Конфиденциальность»)", "end-user deletion by filters (Privacy module)"},
	"end_user_deletion":         {"удаление данных пользователя бота", "end-user deletion"},
	"channel_identity_deletion": {"удаление данных по идентификатору в канале связи (запрос Meta)", "deletion by channel identity (Meta request)"},
	"inbox_message_deletion":    {"удаление сообщения во «Входящих»", "inbox message deletion"},
	"inbox_message":             {"удаление сообщения во «Входящих»", "inbox message deletion"},
	"activity_log_deletion":     {"удаление записей журнала действий", "activity log deletion"},
	"activity_logs":             {"удаление записей журнала действий", "activity log deletion"},
	"end_customer_request":      {"запрос клиента владельца бота об удалении данных", "end-customer deletion request"},
	"retention_expiry":          {"истечение срока хранения", "retention expiry"},
}

// channels are display names; an unlisted channel is shown as it is.
var channels = map[string]wording{
	"telegram":  {"Telegram", "Telegram"},
	"whatsapp":  {"WhatsApp", "WhatsApp"},
	"messenger": {"Messenger", "Messenger"},
	"instagram": {"Instagram", "Instagram"},
	"vk":        {"ВКонтакте", "VK"},
	"viber":     {"Viber", "Viber"},
	"slack":     {"Slack", "Slack"},
	"meta_asid": {"Meta (идентификатор в приложении)", "Meta (app-scoped ID)"},
	"email":     {"электронная почта", "email"},
	"dashboard": {"панель управления", "dashboard"},
}

func lookup(table map[string]wording, key, locale string) (string, bool) {
	w, ok := table[key]
	if !ok {
		return "", false
	}
	s := w.in(locale)
	return s, s != ""
}

// CategoryTitle is a data-map category's name in the documents.
func CategoryTitle(category, locale string) (string, bool) {
	return lookup(categoryTitles, category, normLocale(locale))
}

// ReasonTitle is a destruction reason's wording.
func ReasonTitle(reason, locale string) (string, bool) {
	return lookup(reasons, reason, normLocale(locale))
}

// MethodTitle is a destruction method's wording.
func MethodTitle(method, locale string) (string, bool) {
	return lookup(methods, method, normLocale(locale))
}

// KeptReasonTitle is the wording of why data were kept.
func KeptReasonTitle(reason, locale string) (string, bool) {
	return lookup(keptReasons, reason, normLocale(locale))
}

// SubjectKindTitle is a kind of data subject's wording.
func SubjectKindTitle(kind, locale string) (string, bool) {
	return lookup(subjectKinds, kind, normLocale(locale))
}

// RequestKindTitle is a request kind's wording.
func RequestKindTitle(kind, locale string) (string, bool) {
	return lookup(requestKinds, kind, normLocale(locale))
}

// LocaleOf is the first of locales the documents can be written in ("en-GB" counts as "en"), else
// Russian, the language of the law the acts answer to.
func LocaleOf(locales ...string) string {
	for _, l := range locales {
		if n := normLocale(l); n != "" {
			return n
		}
	}
	return LocaleRU
}

// normLocale maps "ru-RU", "RU", "en_GB" … to "ru" or "en"; anything else to "".
func normLocale(locale string) string {
	l := strings.ToLower(locale)
	if i := strings.IndexAny(l, "-_"); i >= 0 {
		l = l[:i]
	}
	if l == LocaleRU || l == LocaleEN {
		return l
	}
	return ""
}

var monthsEN = [...]string{"January", "February", "March", "April", "May", "June", "July", "August",
	"September", "October", "November", "December"}

// formatDate is the date in UTC: "22.11.2026" or "22 November 2026".
func formatDate(t time.Time, locale string) string {
	t = t.UTC()
	if locale == LocaleRU {
		return t.Format("02.01.2006")
	}
	return fmt.Sprintf("%d %s %d", t.Day(), monthsEN[t.Month()-1], t.Year())
}

// formatTime is the date and time in UTC, stated.
func formatTime(t time.Time, locale string) string {
	sep := " "
	if locale == LocaleEN {
		sep = ", "
	}
	return formatDate(t, locale) + sep + t.UTC().Format("15:04:05") + " UTC"
}

// FormatCount groups thousands as each language writes them: "12 345" (ru) or "12,345" (en).
func FormatCount(n int64, locale string) string {
	sep := ","
	if locale == LocaleRU {
		sep = " "
	}
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	return b.String()
}

// moreSubjects summarizes the subjects not named inline.
func moreSubjects(n int64, locale string) string {
	if locale == LocaleRU {
		return "и ещё " + FormatCount(n, locale) + " " + pluralRU(n, "субъект", "субъекта", "субъектов")
	}
	if n == 1 {
		return "and 1 more subject"
	}
	return "and " + FormatCount(n, locale) + " more subjects"
}

// pluralRU picks the Russian form for n: 1 субъект, 2 субъекта, 5 субъектов, 11 субъектов, 21 субъект.
func pluralRU(n int64, one, few, many string) string {
	n %= 100
	if n >= 11 && n <= 14 {
		return many
	}
	switch n % 10 {
	case 1:
		return one
	case 2, 3, 4:
		return few
	}
	return many
}
