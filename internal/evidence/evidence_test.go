package evidence

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/datamap"
)

var (
	started   = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	completed = time.Date(2026, 11, 22, 14, 5, 9, 0, time.UTC)
)

// sample is a complete, valid record: an account deletion with its owner, a team member and two
// end users, one of them known only by id.
func sample() Record {
	return Record{
		RequestID:   "req-01JD5",
		RequestKind: "account_deletion",
		Reason:      ReasonAccountOwnerRequest,
		Operator: Operator{Name: "ООО «Бот Платформа»", Address: "123456, г. Москва, ул. Примерная, д. 1",
			INN: "7701234567"},
		InformationSystem: "Платформа чат-ботов (хранилища Lethe: DynamoDB, S3)",
		Subjects: []Subject{
			{Kind: SubjectAccountOwner, ID: "acc-7f3a", Name: "Иван Петрович Сидоров"},
			{Kind: SubjectTeamMember, ID: "sub-91c2", Name: "Мария Иванова"},
			{Kind: SubjectEndUser, ID: "eu-5531", Name: "Алексей", Channel: "telegram"},
			{Kind: SubjectEndUser, ID: "eu-5532", Channel: "vk"},
		},
		SubjectCount: 4,
		Destroyed: []CategoryCount{
			{Category: datamap.Message, Count: 12345},
			{Category: datamap.AccountProfile, Count: 1},
			{Category: datamap.EndUserProfile, Count: 2},
			{Category: datamap.Conversation, Count: 0}, // nothing of it existed: not listed as destroyed
		},
		Kept: []Kept{
			{Category: datamap.Payment, Reason: KeptLawAccounting5y, Count: 14},
			{Category: datamap.Consent, Reason: KeptConsentWithdrawal5y, Count: 2},
		},
		Method:       MethodLogicalErasure,
		AuthorizedBy: "владелец учётной записи (панель управления), заявка req-01JD5",
		PerformedBy:  "Lethe erasure engine 1.4.2, execution arn:aws:states:eu-central-1:123456789012:execution:Erase:req-01JD5",
		StartedAt:    started,
		CompletedAt:  completed,
	}
}

func TestSampleIsValid(t *testing.T) {
	if err := sample().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateCatchesEachViolation(t *testing.T) {
	many := func(n int) []Subject {
		out := make([]Subject, n)
		for i := range out {
			out[i] = Subject{Kind: SubjectEndUser, ID: "eu"}
		}
		return out
	}
	tests := []struct {
		name   string
		change func(*Record)
		want   error
	}{
		{"no request id", func(r *Record) { r.RequestID = "" }, ErrNoRequestID},
		{"no request kind", func(r *Record) { r.RequestKind = "" }, ErrNoRequestKind},
		{"no reason", func(r *Record) { r.Reason = "" }, ErrNoReason},
		{"unknown reason", func(r *Record) { r.Reason = "because" }, ErrUnknownReason},
		{"no operator name", func(r *Record) { r.Operator.Name = "" }, ErrNoOperatorName},
		{"no operator address", func(r *Record) { r.Operator.Address = "" }, ErrNoOperatorAddress},
		{"bad INN", func(r *Record) { r.Operator.INN = "77012" }, ErrBadINN},
		{"no information system", func(r *Record) { r.InformationSystem = "" }, ErrNoInformationSystem},
		{"no subjects", func(r *Record) { r.Subjects, r.SubjectCount = nil, 0 }, ErrNoSubjects},
		{"count below inline", func(r *Record) { r.SubjectCount = 3 }, ErrSubjectCount},
		{"inline list short of the count", func(r *Record) { r.SubjectCount = 5 }, ErrSubjectCount},
		{"inline list not full up to the cap", func(r *Record) { r.Subjects, r.SubjectCount = many(10), 5000 }, ErrSubjectCount},
		{"too many inline", func(r *Record) { r.Subjects, r.SubjectCount = many(MaxInlineSubjects+1), 5000 }, ErrTooManySubjects},
		{"subject without id", func(r *Record) { r.Subjects[1].ID = "" }, ErrBadSubject},
		{"subject of unknown kind", func(r *Record) { r.Subjects[0].Kind = "visitor" }, ErrBadSubject},
		{"subject name too long", func(r *Record) { r.Subjects[0].Name = strings.Repeat("я", maxSubjectField) }, ErrBadSubject},
		{"nothing destroyed", func(r *Record) { r.Destroyed = nil }, ErrNoDestroyed},
		{"only zero counts", func(r *Record) { r.Destroyed = []CategoryCount{{Category: datamap.Message}} }, ErrNoDestroyed},
		{"unknown category", func(r *Record) { r.Destroyed[0].Category = "secrets" }, ErrBadCategory},
		{"analytics are never destroyed", func(r *Record) { r.Destroyed[0].Category = datamap.AnalyticsCounter }, ErrBadCategory},
		{"category twice", func(r *Record) { r.Destroyed[1].Category = datamap.Message }, ErrBadCategory},
		{"negative count", func(r *Record) { r.Destroyed[2].Count = -1 }, ErrBadCategory},
		{"kept for an unknown reason", func(r *Record) { r.Kept[0].Reason = "nice_to_have" }, ErrBadKept},
		{"kept of an unknown category", func(r *Record) { r.Kept[0].Category = "secrets" }, ErrBadKept},
		{"no method", func(r *Record) { r.Method = "" }, ErrNoMethod},
		{"unknown method", func(r *Record) { r.Method = "shredder" }, ErrUnknownMethod},
		{"no authorizer", func(r *Record) { r.AuthorizedBy = "" }, ErrNoAuthorizedBy},
		{"no performer", func(r *Record) { r.PerformedBy = "" }, ErrNoPerformedBy},
		{"no start", func(r *Record) { r.StartedAt = time.Time{} }, ErrNoStartedAt},
		{"no completion", func(r *Record) { r.CompletedAt = time.Time{} }, ErrNoCompletedAt},
		{"completed before started", func(r *Record) { r.CompletedAt = started.Add(-time.Second) }, ErrBadTimes},
		{"performer too long", func(r *Record) { r.PerformedBy = strings.Repeat("x", maxTextField+1) }, ErrTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sample()
			tt.change(&r)
			err := r.Validate()
			if !errors.Is(err, tt.want) {
				t.Fatalf("Validate() = %v, want %v", err, tt.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("%v does not match ErrInvalid", err)
			}
		})
	}
}

func TestValidateAcceptsMoreSubjectsThanInline(t *testing.T) {
	r := sample()
	r.Subjects = make([]Subject, MaxInlineSubjects)
	for i := range r.Subjects {
		r.Subjects[i] = Subject{Kind: SubjectEndUser, ID: "eu"}
	}
	r.SubjectCount = 13345
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	want := sample()
	b, err := RenderJSON(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}
	again, _ := RenderJSON(got)
	if !bytes.Equal(again, b) {
		t.Errorf("JSON not stable:\n%s\n%s", b, again)
	}
	for _, field := range []string{`"requestId": "req-01JD5"`, `"completedAt": "2026-11-22T14:05:09Z"`,
		`"subjectCount": 4`, `"inn": "7701234567"`, "\n  \"operator\": {\n    \"name\""} {
		if !bytes.Contains(b, []byte(field)) {
			t.Errorf("JSON lacks %s:\n%s", field, b)
		}
	}
}

func TestJSONWritesTimesInUTC(t *testing.T) {
	r := sample()
	r.CompletedAt = completed.In(time.FixedZone("MSK", 3*3600))
	b, err := RenderJSON(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"completedAt": "2026-11-22T14:05:09Z"`)) {
		t.Errorf("completedAt not in UTC:\n%s", b)
	}
}

func TestRenderJSONRefusesAnInvalidRecord(t *testing.T) {
	r := sample()
	r.Operator.Address = ""
	if _, err := RenderJSON(r); !errors.Is(err, ErrNoOperatorAddress) {
		t.Errorf("RenderJSON = %v, want ErrNoOperatorAddress", err)
	}
}

// Every category of the data map must have a title in both languages, so no act shows a raw key.
func TestEveryCategoryHasTitles(t *testing.T) {
	for _, c := range datamap.Categories {
		for _, loc := range Locales {
			if title, ok := CategoryTitle(c.Name, loc); !ok || strings.TrimSpace(title) == "" {
				t.Errorf("category %s has no %s title", c.Name, loc)
			}
		}
	}
	for name := range categoryTitles {
		if _, ok := datamap.Lookup(name); !ok {
			t.Errorf("title for %s, which the data map does not have", name)
		}
	}
}

func TestEveryKeyHasWordings(t *testing.T) {
	tables := map[string]struct {
		keys []string
		get  func(key, locale string) (string, bool)
	}{
		"reason": {[]string{ReasonSubjectRequest, ReasonAccountOwnerRequest, ReasonChannelRevoked,
			ReasonRetentionExpired, ReasonEndCustomerRequest}, ReasonTitle},
		"method": {[]string{MethodLogicalErasure}, MethodTitle},
		"kept reason": {[]string{KeptLawAccounting5y, KeptConsentWithdrawal5y, KeptLegalHold,
			KeptAnalyticsAnonymous}, KeptReasonTitle},
		"subject kind": {[]string{SubjectAccountOwner, SubjectEndUser, SubjectTeamMember}, SubjectKindTitle},
		"request kind": {[]string{"account_deletion", "end_user_deletion", "connection_wipe", "inbox_message",
			"activity_logs", "bot_deletion", "end_user_filter", "channel_identity_deletion",
			"inbox_message_deletion", "activity_log_deletion", "end_customer_request"}, RequestKindTitle},
	}
	for name, tb := range tables {
		for _, k := range tb.keys {
			for _, loc := range Locales {
				if s, ok := tb.get(k, loc); !ok || s == "" {
					t.Errorf("%s %s has no %s wording", name, k, loc)
				}
			}
		}
	}
	// Russian wordings are Russian, English ones are not.
	for _, tb := range []map[string]wording{categoryTitles, reasons, methods, keptReasons, subjectKinds, requestKinds} {
		for k, w := range tb {
			if !strings.ContainsFunc(w.ru, isCyrillic) {
				t.Errorf("%s: ru wording %q has no Cyrillic", k, w.ru)
			}
			if strings.ContainsFunc(w.en, isCyrillic) {
				t.Errorf("%s: en wording %q has Cyrillic", k, w.en)
			}
		}
	}
}

func isCyrillic(r rune) bool { return r >= 'А' && r <= 'я' || r == 'ё' || r == 'Ё' }

func TestLocaleNormalization(t *testing.T) {
	for in, want := range map[string]string{"ru": "ru", "RU": "ru", "ru-RU": "ru", "en_GB": "en", "en": "en", "de": "", "": ""} {
		if got := normLocale(in); got != want {
			t.Errorf("normLocale(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFormatting(t *testing.T) {
	tests := []struct{ got, want string }{
		{formatDate(completed, LocaleRU), "22.11.2026"},
		{formatDate(completed, LocaleEN), "22 November 2026"},
		{formatDate(time.Date(2026, 1, 2, 23, 30, 0, 0, time.FixedZone("VLAT", 10*3600)), LocaleRU), "02.01.2026"},
		{formatTime(completed, LocaleRU), "22.11.2026 14:05:09 UTC"},
		{formatTime(completed, LocaleEN), "22 November 2026, 14:05:09 UTC"},
		{FormatCount(0, LocaleRU), "0"},
		{FormatCount(999, LocaleRU), "999"},
		{FormatCount(12345, LocaleRU), "12 345"},
		{FormatCount(1234567, LocaleEN), "1,234,567"},
		{FormatCount(100000, LocaleEN), "100,000"},
		{moreSubjects(12345, LocaleRU), "и ещё 12 345 субъектов"},
		{moreSubjects(12345, LocaleEN), "and 12,345 more subjects"},
		{moreSubjects(1, LocaleRU), "и ещё 1 субъект"},
		{moreSubjects(1, LocaleEN), "and 1 more subject"},
		{moreSubjects(2, LocaleRU), "и ещё 2 субъекта"},
		{moreSubjects(11, LocaleRU), "и ещё 11 субъектов"},
		{moreSubjects(21, LocaleRU), "и ещё 21 субъект"},
		{moreSubjects(104, LocaleRU), "и ещё 104 субъекта"},
		{moreSubjects(112, LocaleRU), "и ещё 112 субъектов"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestActNumbers(t *testing.T) {
	if ActID("R1", 1) != "R1" || ActID("R1", 2) != "R1-2" {
		t.Fatalf("ActID: %q %q", ActID("R1", 1), ActID("R1", 2))
	}
	for act, want := range map[string]bool{"R1": true, "R1-2": true, "R1-13": true, "R1-": false, "R1-x": false, "R1-1": false, "R12": false, "R1-2-3": false, "R": false} {
		if got := ActOf(act, "R1"); got != want {
			t.Errorf("ActOf(%q, R1) = %v, want %v", act, got, want)
		}
	}
}
