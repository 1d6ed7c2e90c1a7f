// Package evidence is the proof of every destruction: the record of what a deletion request
// destroyed, rendered as the two documents Roskomnadzor Order No. 179 of 28.10.2022 requires for
// personal data processed in an information system — the act of destruction (акт об уничтожении
// персональных данных) and the extract from the event log (выгрузка из журнала регистрации событий
// в информационной системе персональных данных) — and stored in the ledger table for 3 years.
//
// The documents show only what the Record holds; every machine key in it (reason, method, kept
// reason, category) has a Russian and an English wording here, so an act never shows a raw key.
package evidence

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/lerr"
)

// Kinds of data subjects.
const (
	SubjectAccountOwner = "account_owner"
	SubjectEndUser      = "end_user"
	SubjectTeamMember   = "team_member"
)

// Reasons for a destruction.
const (
	ReasonSubjectRequest      = "subject_request"
	ReasonAccountOwnerRequest = "account_owner_request"
	ReasonChannelRevoked      = "channel_revoked"
	ReasonRetentionExpired    = "retention_expired"
	ReasonEndCustomerRequest  = "end_customer_request"
	// ReasonAccountInstruction: the account, on whose behalf the platform processes its end users'
	// and team's data, had some of them destroyed (a bot, end users, an inbox message, activity-log
	// entries, a connection it named).
	ReasonAccountInstruction = "account_instruction"
)

// MethodLogicalErasure: DynamoDB items and S3 objects deleted through the services' APIs; backups
// expire within 30 days. The only method Lethe uses.
const MethodLogicalErasure = "logical_erasure"

// Reasons data in scope were kept rather than destroyed.
const (
	KeptLawAccounting5y     = "law_accounting_5y"
	KeptConsentWithdrawal5y = "consent_withdrawal_5y"
	KeptLegalHold           = "legal_hold"
	KeptAnalyticsAnonymous  = "analytics_anonymous"
)

// MaxInlineSubjects is how many subjects a Record names itself; the rest are counted in
// SubjectCount and stored in the subject parts (see Items).
const MaxInlineSubjects = 1000

// Length limits keep every stored part far under DynamoDB's 400 KB item limit.
const (
	maxSubjectField = 1024 // bytes of a subject's kind, id, name or channel
	maxTextField    = 4096 // bytes of any other text field
)

// Operator is the personal-data operator that destroyed the data: its name and address as
// registered, and their English forms, which an English act states when they are set.
type Operator struct {
	Name      string `json:"name"`
	Address   string `json:"address"`
	INN       string `json:"inn,omitempty"` // taxpayer number, 10 or 12 digits; optional
	NameEN    string `json:"nameEn,omitempty"`
	AddressEN string `json:"addressEn,omitempty"`
}

// In is the operator's name and address as an act in locale states them: the English forms in an
// English act when they are set, else the registered ones.
func (o Operator) In(locale string) (name, address string) {
	name, address = o.Name, o.Address
	if normLocale(locale) == LocaleEN {
		if o.NameEN != "" {
			name = o.NameEN
		}
		if o.AddressEN != "" {
			address = o.AddressEN
		}
	}
	return name, address
}

// Subject is a person whose data were destroyed.
type Subject struct {
	Kind    string `json:"kind"` // SubjectAccountOwner, SubjectEndUser, SubjectTeamMember
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"` // may be empty: then the ID identifies
	Channel string `json:"channel,omitempty"`
}

// CategoryCount is how many items of a data-map category were destroyed.
type CategoryCount struct {
	Category string `json:"category"`
	Count    int64  `json:"count"`
}

// Kept is data in the request's scope that was kept, and why.
type Kept struct {
	Category string `json:"category"`
	Reason   string `json:"reason"` // KeptLawAccounting5y …
	Count    int64  `json:"count"`
}

// Record is everything the act of destruction and the journal extract state.
type Record struct {
	RequestID   string `json:"requestId"`
	RequestKind string `json:"requestKind"`
	// Locale is the language of the request the act belongs to, "ru" or "en": the documents are
	// drawn up in it unless a reader asks for the other.
	Locale   string   `json:"locale,omitempty"`
	Reason   string   `json:"reason"`
	Operator Operator `json:"operator"`
	// InformationSystem is the name of the personal-data information system the data left.
	InformationSystem string `json:"informationSystem"`
	// Subjects are named inline up to MaxInlineSubjects; SubjectCount counts them all.
	Subjects     []Subject `json:"subjects,omitempty"`
	SubjectCount int64     `json:"subjectCount"`
	// SubjectsInJournal: the act's subjects are stored once, in its request's journal (a retention
	// sweep's run, DrawUpFromJournal), not copied into subject parts; Act reads them from there.
	SubjectsInJournal bool            `json:"subjectsInJournal,omitempty"`
	Destroyed         []CategoryCount `json:"destroyed"`
	Kept              []Kept          `json:"kept,omitempty"`
	Method            string          `json:"method"`
	// AuthorizedBy is who asked ("account owner (dashboard)", a request reference); PerformedBy is
	// the system that destroyed ("Lethe erasure engine <version>, execution <arn>").
	AuthorizedBy string    `json:"authorizedBy"`
	PerformedBy  string    `json:"performedBy"`
	StartedAt    time.Time `json:"startedAt"`
	CompletedAt  time.Time `json:"completedAt"`
}

// ErrInvalid matches every error Validate returns: errors.Is(err, ErrInvalid).
var ErrInvalid = lerr.New(lerr.EINTERNAL, "invalid evidence record")

type ruleError string

func (e ruleError) Error() string        { return "evidence: " + string(e) }
func (e ruleError) Is(target error) bool { return target == ErrInvalid }

// Errors Validate returns, one per rule; Validate joins all that apply.
var (
	ErrNoRequestID         error = ruleError("no request id")
	ErrNoRequestKind       error = ruleError("no request kind")
	ErrBadLocale           error = ruleError("locale is neither ru nor en")
	ErrNoReason            error = ruleError("no reason")
	ErrUnknownReason       error = ruleError("unknown reason")
	ErrNoOperatorName      error = ruleError("no operator name")
	ErrNoOperatorAddress   error = ruleError("no operator address")
	ErrBadINN              error = ruleError("operator INN is not 10 or 12 digits")
	ErrNoInformationSystem error = ruleError("no information system")
	ErrNoSubjects          error = ruleError("no subjects")
	ErrTooManySubjects     error = ruleError("more inline subjects than MaxInlineSubjects")
	// ErrSubjectCount: SubjectCount disagrees with the inline list, which must name every subject
	// up to MaxInlineSubjects.
	ErrSubjectCount   error = ruleError("subject count disagrees with the inline subjects")
	ErrBadSubject     error = ruleError("bad subject")
	ErrNoDestroyed    error = ruleError("nothing destroyed")
	ErrBadCategory    error = ruleError("bad destroyed category")
	ErrBadKept        error = ruleError("bad kept entry")
	ErrNoMethod       error = ruleError("no method")
	ErrUnknownMethod  error = ruleError("unknown method")
	ErrNoAuthorizedBy error = ruleError("no authorizer")
	ErrNoPerformedBy  error = ruleError("no performer")
	ErrNoStartedAt    error = ruleError("no start time")
	ErrNoCompletedAt  error = ruleError("no completion time")
	ErrBadTimes       error = ruleError("completion before start, or a time outside years 2000-9999")
	ErrTooLong        error = ruleError("field too long")
)

var innPattern = regexp.MustCompile(`^(\d{10}|\d{12})$`)

// Validate checks that every element the act and the journal extract require is present and that
// every machine key has a wording. It returns all violations joined; each matches its named error
// and ErrInvalid.
func (r Record) Validate() error {
	var errs []error
	add := func(err error, format string, args ...any) {
		if format != "" {
			err = fmt.Errorf("%w: "+format, append([]any{err}, args...)...)
		}
		errs = append(errs, err)
	}
	required := func(v string, missing error, field string) {
		switch {
		case v == "":
			add(missing, "")
		case len(v) > maxTextField:
			add(ErrTooLong, "%s has %d bytes, at most %d", field, len(v), maxTextField)
		}
	}
	required(r.RequestID, ErrNoRequestID, "requestId")
	required(r.RequestKind, ErrNoRequestKind, "requestKind")
	required(r.Operator.Name, ErrNoOperatorName, "operator.name")
	required(r.Operator.Address, ErrNoOperatorAddress, "operator.address")
	if len(r.Operator.NameEN) > maxTextField || len(r.Operator.AddressEN) > maxTextField {
		add(ErrTooLong, "operator's English name or address over %d bytes", maxTextField)
	}
	if r.Locale != "" && normLocale(r.Locale) != r.Locale {
		add(ErrBadLocale, "%q", r.Locale)
	}
	required(r.InformationSystem, ErrNoInformationSystem, "informationSystem")
	required(r.AuthorizedBy, ErrNoAuthorizedBy, "authorizedBy")
	required(r.PerformedBy, ErrNoPerformedBy, "performedBy")

	if r.Operator.INN != "" && !innPattern.MatchString(r.Operator.INN) {
		add(ErrBadINN, "")
	}
	switch {
	case r.Reason == "":
		add(ErrNoReason, "")
	case !known(reasons, r.Reason):
		add(ErrUnknownReason, "%q", r.Reason)
	}
	switch {
	case r.Method == "":
		add(ErrNoMethod, "")
	case !known(methods, r.Method):
		add(ErrUnknownMethod, "%q", r.Method)
	}

	if r.SubjectCount < 1 && len(r.Subjects) == 0 {
		add(ErrNoSubjects, "")
	}
	if len(r.Subjects) > MaxInlineSubjects {
		add(ErrTooManySubjects, "%d", len(r.Subjects))
	} else if int64(len(r.Subjects)) != min(max(r.SubjectCount, 0), MaxInlineSubjects) {
		add(ErrSubjectCount, "%d inline, count %d", len(r.Subjects), r.SubjectCount)
	}
	for i, s := range r.Subjects {
		if err := ValidateSubject(s); err != nil {
			add(err, "subject %d", i+1)
		}
	}

	destroyed := false
	seen := map[string]bool{}
	for _, d := range r.Destroyed {
		c, ok := datamap.Lookup(d.Category)
		switch {
		case !ok:
			add(ErrBadCategory, "unknown category %q", d.Category)
		case !known(categoryTitles, d.Category):
			add(ErrBadCategory, "%s has no title", d.Category)
		case c.Retention.Kind == datamap.Never:
			add(ErrBadCategory, "%s is never destroyed", d.Category)
		case seen[d.Category]:
			add(ErrBadCategory, "%s listed twice", d.Category)
		case d.Count < 0:
			add(ErrBadCategory, "%s count %d", d.Category, d.Count)
		}
		seen[d.Category] = true
		destroyed = destroyed || d.Count > 0
	}
	if !destroyed {
		add(ErrNoDestroyed, "")
	}
	seenKept := map[[2]string]bool{}
	for _, k := range r.Kept {
		key := [2]string{k.Category, k.Reason}
		switch {
		case !knownCategory(k.Category):
			add(ErrBadKept, "unknown category %q", k.Category)
		case !known(keptReasons, k.Reason):
			add(ErrBadKept, "unknown reason %q", k.Reason)
		case seenKept[key]:
			add(ErrBadKept, "%s/%s listed twice", k.Category, k.Reason)
		case k.Count < 0:
			add(ErrBadKept, "%s count %d", k.Category, k.Count)
		}
		seenKept[key] = true
	}

	if r.StartedAt.IsZero() {
		add(ErrNoStartedAt, "")
	}
	if r.CompletedAt.IsZero() {
		add(ErrNoCompletedAt, "")
	}
	if !r.StartedAt.IsZero() && !r.CompletedAt.IsZero() &&
		(r.CompletedAt.Before(r.StartedAt) || !inRange(r.StartedAt) || !inRange(r.CompletedAt)) {
		add(ErrBadTimes, "")
	}
	return errors.Join(errs...)
}

// ValidateSubject checks one subject: a known kind, an id, and fields short enough to store.
func ValidateSubject(s Subject) error {
	switch {
	case !known(subjectKinds, s.Kind):
		return fmt.Errorf("%w: unknown kind %q", ErrBadSubject, s.Kind)
	case s.ID == "":
		return fmt.Errorf("%w: no id", ErrBadSubject)
	case len(s.ID) > maxSubjectField || len(s.Name) > maxSubjectField || len(s.Channel) > maxSubjectField:
		return fmt.Errorf("%w: field longer than %d bytes", ErrBadSubject, maxSubjectField)
	}
	return nil
}

func inRange(t time.Time) bool { y := t.UTC().Year(); return y >= 2000 && y <= 9999 }

func knownCategory(name string) bool {
	_, ok := datamap.Lookup(name)
	return ok && known(categoryTitles, name)
}

func known(table map[string]wording, key string) bool {
	w, ok := table[key]
	return ok && w.ru != "" && w.en != ""
}

// ActID is the number of the act of one round of destruction of a request: the request's id for
// the first round, "<request>-<round>" for a later one (a request a legal hold paused is finished in
// a second round after the release).
func ActID(requestID string, round int) string {
	if round <= 1 {
		return requestID
	}
	return fmt.Sprintf("%s-%d", requestID, round)
}

// ActOf reports whether actID numbers an act of requestID's (of any round).
func ActOf(actID, requestID string) bool {
	if actID == requestID {
		return true
	}
	rest, ok := strings.CutPrefix(actID, requestID+"-")
	if !ok || rest == "" {
		return false
	}
	n, err := strconv.Atoi(rest)
	return err == nil && n > 1
}
