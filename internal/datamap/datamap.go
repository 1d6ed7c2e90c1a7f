// Package datamap is the one declarative list of every category of data the platform holds: where it
// lives, whose data it is, which deletion scopes reach it and how long it may be kept. The erasure
// engine, the retention sweep and every writer read their decisions from here, so there is one place
// to change and one place to audit.
package datamap

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Owner says whose data a category is, which decides how Lethe treats it.
type Owner string

const (
	// OwnerAccount is the platform customer's own data, kept for the life of the account contract and
	// destroyed by account deletion.
	OwnerAccount Owner = "account"
	// OwnerEndUser is data about a person who talks to a bot.
	OwnerEndUser Owner = "end_user"
	// OwnerRetained is data the law requires to be kept (payments, consents, legal holds).
	OwnerRetained Owner = "retained"
	// OwnerEvidence is the proof of a destruction (Roskomnadzor Order 179 act and journal).
	OwnerEvidence Owner = "evidence"
	// OwnerAnalytics is anonymous aggregates, kept by design and never deleted.
	OwnerAnalytics Owner = "analytics"
	// OwnerService is Lethe's own short-lived bookkeeping (password re-entry attempts, idempotency
	// records): no personal data beyond opaque ids, gone within days.
	OwnerService Owner = "service"
)

// Scope is a kind of deletion request's reach (SPEC §3).
type Scope string

const (
	ScopeAccount         Scope = "account"          // a whole account
	ScopeBot             Scope = "bot"              // one bot and everything of its end users
	ScopeConnection      Scope = "connection"       // one channel connection and the end users who came through it
	ScopeEndUserFilter   Scope = "end_user_filter"  // Privacy module: bot or all bots, first-conversation range
	ScopeEndUser         Scope = "end_user"         // one end user on one bot
	ScopeChannelIdentity Scope = "channel_identity" // every end user tied to one channel identity (Meta ASID)
	ScopeInboxMessage    Scope = "inbox_message"    // one inbox message and its attachments
	ScopeActivityLogs    Scope = "activity_logs"    // selected activity-log entries
)

// AllScopes lists every scope, in the order of SPEC §3.
var AllScopes = []Scope{ScopeAccount, ScopeBot, ScopeConnection, ScopeEndUserFilter, ScopeEndUser,
	ScopeChannelIdentity, ScopeInboxMessage, ScopeActivityLogs}

// endUserScopes reach every category about an end user.
var endUserScopes = []Scope{ScopeAccount, ScopeBot, ScopeConnection, ScopeEndUserFilter, ScopeEndUser, ScopeChannelIdentity}

// RetentionKind names a retention rule.
type RetentionKind string

const (
	// Personal13Months: personal data, never stored past 13 months after its anchor.
	Personal13Months RetentionKind = "personal_13_months"
	// AccountLifetime: the customer's own account data, needed to provide the service; kept while the
	// account exists and destroyed by account deletion. Carries no TTL: a dormant account is not
	// silently destroyed without its act of destruction.
	AccountLifetime RetentionKind = "account_lifetime"
	// FiveYears: payment documents and accounting records (Federal Law "On Accounting", art. 29).
	FiveYears RetentionKind = "five_years"
	// FiveYearsAfterWithdrawal: consents and their withdrawals, 5 years from withdrawal; no expiry while
	// the consent stands.
	FiveYearsAfterWithdrawal RetentionKind = "five_years_after_withdrawal"
	// ThreeYears: evidence of destruction (Order 179 documents).
	ThreeYears RetentionKind = "three_years"
	// UntilReleased: a legal hold record stays while the hold is active, then 3 years as evidence.
	UntilReleased RetentionKind = "until_released"
	// Never: anonymous analytics.
	Never RetentionKind = "never"
	// TwoDays: Lethe's short-lived bookkeeping, expired two days after its anchor.
	TwoDays RetentionKind = "two_days"
)

// Retention is a category's rule: its kind and the item attribute its clock starts from.
type Retention struct {
	Kind RetentionKind
	// Anchor is the attribute (of the item as stored) whose time starts the clock: for personal data
	// the last time the item was written or the person was active.
	Anchor string
}

// Location says where a category lives. Key patterns use {name} placeholders; an SK ending in a
// placeholder is also the prefix that finds every item of the category in its partition.
type Location struct {
	Table string // logical id of the table in template.yaml; "" for S3-only data
	PK    string
	SK    string
	// Indexes are the GSI keys the item carries: how scopes that do not know its partition key, and
	// lookups by another attribute, find it.
	Indexes []IndexKey
	// Bucket and Prefix locate the S3 objects of a category (files and attachments).
	Bucket string
	Prefix string
}

// IndexKey is a GSI key pattern.
type IndexKey struct {
	Name string // GSI1, GSI2, GSI3
	PK   string
	SK   string
}

// Category is one row of the data map.
type Category struct {
	Name      string
	Title     string
	Owner     Owner
	Personal  bool // holds personal data (of the account's people or of end users)
	Location  Location
	Scopes    []Scope // deletion scopes that destroy it; empty for kept categories
	Retention Retention
}

// Logical ids of the stores in template.yaml.
const (
	PlatformTable  = "PlatformTable"
	LedgerTable    = "LedgerTable"
	AnalyticsTable = "AnalyticsTable"
	FilesBucket    = "FilesBucket"
)

// Category names; the item type attribute "cat" of every stored item holds one of these.
const (
	AccountProfile      = "account_profile"
	TeamMember          = "team_member"
	Bot                 = "bot"
	ChannelConnection   = "channel_connection"
	ConnectionKey       = "connection_key"
	APIToken            = "api_token"
	Webhook             = "webhook"
	Integration         = "integration"
	Template            = "template"
	Tag                 = "tag"
	AccountFile         = "account_file"
	ActivityLog         = "activity_log"
	EndUserProfile      = "end_user_profile"
	ChannelIdentity     = "channel_identity"
	NameToken           = "name_token"
	Conversation        = "conversation"
	Message             = "message"
	InboxMessage        = "inbox_message"
	EndUserFile         = "end_user_file"
	Contact             = "contact"
	EndUserTag          = "end_user_tag"
	Note                = "note"
	Payment             = "payment"
	Consent             = "consent"
	LegalHold           = "legal_hold"
	Evidence            = "deletion_evidence"
	DeletionRequest     = "deletion_request"
	RequestSlot         = "request_slot"
	RequestReference    = "request_reference"
	ReauthAttempts      = "reauth_attempts"
	VerificationTries   = "verification_tries"
	IdempotencyRecord   = "idempotency_record"
	PreviewToken        = "preview_token"
	InboundMail         = "inbound_mail"
	WebhookDelivery     = "webhook_delivery"
	SweepCheckpoint     = "sweep_checkpoint"
	ConnectionSuspicion = "connection_suspicion"
	RetentionTally      = "retention_tally"
	AnalyticsCounter    = "analytics_counter"
)

func account(name, title, sk string, scopes ...Scope) Category {
	return Category{Name: name, Title: title, Owner: OwnerAccount, Personal: true,
		Location:  Location{Table: PlatformTable, PK: "A#{account}", SK: sk},
		Scopes:    append([]Scope{ScopeAccount}, scopes...),
		Retention: Retention{Kind: AccountLifetime}}
}

func endUser(name, title string, loc Location, anchor string, extra ...Scope) Category {
	if loc.Table == "" {
		loc.Table = PlatformTable
	}
	return Category{Name: name, Title: title, Owner: OwnerEndUser, Personal: true, Location: loc,
		Scopes: append(append([]Scope{}, endUserScopes...), extra...), Retention: Retention{Kind: Personal13Months, Anchor: anchor}}
}

// Categories is the data map. Order: account data, end-user data, kept data.
var Categories = []Category{
	func() Category {
		c := account(AccountProfile, "Account profile (email, full name, settings, password hash)", "PROFILE")
		// Mail to info@ names an account by its email: found by the lower-cased address.
		c.Location.Indexes = []IndexKey{{Name: "GSI2", PK: "EMAIL#{email}", SK: "{account}"}}
		return c
	}(),
	account(TeamMember, "Team members and their roles", "MEMBER#{member}"),
	func() Category {
		c := account(Bot, "Connected bots", "BOT#{bot}", ScopeBot)
		// An end customer's mail to info@ names a bot by its name alone: found, across accounts, by
		// the normalized name (platform.NormalizeName).
		c.Location.Indexes = []IndexKey{{Name: "GSI1", PK: "BOTNAME#{botName}", SK: "{account}#{bot}"}}
		return c
	}(),
	{Name: ChannelConnection, Title: "Channel connections with their tokens, API keys and signing secrets", Owner: OwnerAccount, Personal: true,
		Location: Location{Table: PlatformTable, PK: "C#{connection}", SK: "CONN",
			Indexes: []IndexKey{
				{Name: "GSI1", PK: "CHKEY#{channel}#{channelKey}", SK: "{connection}"},
				{Name: "GSI2", PK: "A#{account}#CONN", SK: "{bot}#{connection}"},
				// GSI3 is the connection-health sweep's schedule (internal/chsweep): each
				// connection is checked once a day in the hour of its slot ("00".."23", from a
				// hash of its id: platform.ConnectionSlot), found by a Query of that slot's
				// partition, never a Scan. Only connections carry it: the index is sparse.
				{Name: "GSI3", PK: "CONNCHECK#{slot}", SK: "{connection}"}}},
		Scopes:    []Scope{ScopeAccount, ScopeBot, ScopeConnection},
		Retention: Retention{Kind: AccountLifetime}},
	// The other ids a channel knows a connection by (platform.ConnKey…: an Instagram account id, the
	// app-scoped id of the page admin who connected it, a WhatsApp phone number id), one item each in
	// the connection's own partition, so that what a channel's callback names finds the connection
	// (GSI1, the same index as the connection's own channel key) and goes with it: every scope that
	// destroys the connection destroys its keys.
	{Name: ConnectionKey, Title: "Channel connections' other channel ids (Instagram account id, connecting page admin's Meta id, phone number id)", Owner: OwnerAccount, Personal: true,
		Location: Location{Table: PlatformTable, PK: "C#{connection}", SK: "KEY#{kind}#{value}",
			Indexes: []IndexKey{{Name: "GSI1", PK: "CHKEY#{kind}#{value}", SK: "{connection}"}}},
		Scopes:    []Scope{ScopeAccount, ScopeBot, ScopeConnection},
		Retention: Retention{Kind: AccountLifetime}},
	account(APIToken, "API tokens", "APITOKEN#{token}"),
	account(Webhook, "Outgoing webhooks", "WEBHOOK#{webhook}"),
	account(Integration, "Integration settings", "INTEGRATION#{integration}"),
	account(Template, "Message templates", "TEMPLATE#{template}"),
	account(Tag, "Tag definitions", "TAG#{tag}"),
	{Name: AccountFile, Title: "Files and media uploaded by the account", Owner: OwnerAccount, Personal: true,
		Location: Location{Table: PlatformTable, PK: "A#{account}", SK: "FILE#{file}",
			Bucket: FilesBucket, Prefix: "accounts/{account}/files/"},
		Scopes: []Scope{ScopeAccount}, Retention: Retention{Kind: AccountLifetime}},
	{Name: ActivityLog, Title: "Activity logs (admin actions)", Owner: OwnerAccount, Personal: true,
		Location: Location{Table: PlatformTable, PK: "L#{account}", SK: "{log}"},
		Scopes:   []Scope{ScopeAccount, ScopeActivityLogs}, Retention: Retention{Kind: Personal13Months, Anchor: "at"}},

	endUser(EndUserProfile, "End-user profile", Location{PK: "U#{endUser}", SK: "PROFILE",
		Indexes: []IndexKey{
			{Name: "GSI1", PK: "BOTU#{bot}", SK: "{firstConversationAt}#{endUser}"},
			{Name: "GSI2", PK: "CONNU#{connection}", SK: "{endUser}"}}}, "lastActiveAt"),
	endUser(ChannelIdentity, "Channel identities (Telegram id, Meta app-scoped id, phone number …)", Location{PK: "U#{endUser}", SK: "IDENT#{channel}#{externalId}",
		Indexes: []IndexKey{{Name: "GSI1", PK: "IDENT#{channel}#{externalId}", SK: "{bot}#{endUser}"}}}, "lastActiveAt"),
	endUser(NameToken, "Normalized name tokens for Conversations search", Location{PK: "U#{endUser}", SK: "NAME#{token}",
		Indexes: []IndexKey{{Name: "GSI1", PK: "NAME#{bot}", SK: "{token}#{endUser}"}}}, "lastActiveAt"),
	endUser(Conversation, "Conversations", Location{PK: "U#{endUser}", SK: "CONV#{conversation}"}, "lastMessageAt"),
	endUser(Message, "Conversation messages", Location{PK: "V#{conversation}", SK: "{message}"}, "sentAt"),
	endUser(InboxMessage, "Inbox messages and their attachments", Location{PK: "I#{message}", SK: "MSG",
		Indexes: []IndexKey{{Name: "GSI2", PK: "INBOX#{endUser}", SK: "{message}"}},
		Bucket:  FilesBucket, Prefix: "accounts/{account}/bots/{bot}/users/{endUser}/inbox/{message}/"}, "sentAt", ScopeInboxMessage),
	endUser(EndUserFile, "Files the end user sent", Location{PK: "U#{endUser}", SK: "FILE#{file}",
		Bucket: FilesBucket, Prefix: "accounts/{account}/bots/{bot}/users/{endUser}/files/"}, "createdAt"),
	endUser(Contact, "End-customer contact details", Location{PK: "U#{endUser}", SK: "CONTACT#{contact}"}, "updatedAt"),
	endUser(EndUserTag, "Tags applied to the end user", Location{PK: "U#{endUser}", SK: "TAG#{tag}"}, "updatedAt"),
	endUser(Note, "Notes about the end user", Location{PK: "U#{endUser}", SK: "NOTE#{note}"}, "updatedAt"),

	{Name: Payment, Title: "Payment documents and primary accounting records", Owner: OwnerRetained, Personal: true,
		Location:  Location{Table: PlatformTable, PK: "P#{account}", SK: "{payment}"},
		Retention: Retention{Kind: FiveYears, Anchor: "paidAt"}},
	{Name: Consent, Title: "Personal-data processing consents and their withdrawals", Owner: OwnerRetained, Personal: true,
		Location:  Location{Table: PlatformTable, PK: "K#{account}", SK: "{consent}"},
		Retention: Retention{Kind: FiveYearsAfterWithdrawal, Anchor: "withdrawnAt"}},
	{Name: LegalHold, Title: "Legal holds (lawful authority requests)", Owner: OwnerRetained,
		Location: Location{Table: LedgerTable, PK: "H#{hold}", SK: "HOLD",
			// GSI2 is every account's holds in one partition, newest first (the officer's list of
			// every hold in force): holds are few, placed by hand.
			Indexes: []IndexKey{{Name: "GSI1", PK: "HOLDS#{account}", SK: "{hold}"}, {Name: "GSI2", PK: "ALLHOLDS", SK: "{hold}"}}},
		Retention: Retention{Kind: UntilReleased, Anchor: "releasedAt"}},
	{Name: Evidence, Title: "Act of destruction and journal extract (Order 179)", Owner: OwnerEvidence, Personal: true,
		Location:  Location{Table: LedgerTable, PK: "R#{request}", SK: "EVIDENCE#{part}"},
		Retention: Retention{Kind: ThreeYears, Anchor: "completedAt"}},
	{Name: DeletionRequest, Title: "Deletion requests: scope, status history, deadlines, progress (the request ledger)", Owner: OwnerEvidence, Personal: true,
		Location: Location{Table: LedgerTable, PK: "R#{request}", SK: "REQUEST",
			Indexes: []IndexKey{
				{Name: "GSI1", PK: "ACCTREQ#{account}", SK: "{createdAt}#{request}"},
				{Name: "GSI2", PK: "STATUS#{status}", SK: "{updatedAt}#{request}"}}},
		// Kept while open; then as long as its evidence. Anchor absent until completion.
		Retention: Retention{Kind: ThreeYears, Anchor: "closedAt"}},
	// One open request of a kind per subject (one account deletion per account): an intake delivered
	// twice finds the slot taken and gets the open request back.
	{Name: RequestSlot, Title: "Open-request slots (one open account deletion per account)", Owner: OwnerEvidence,
		Location:  Location{Table: LedgerTable, PK: "SLOT#{slot}", SK: "SLOT"},
		Retention: Retention{Kind: ThreeYears, Anchor: "createdAt"}},
	// What an email reply or link names a request by: the SHA-256 of an action token or of a
	// status page's code (a Meta deletion's, an end customer's request's), or the SES message id a
	// reply's In-Reply-To carries. No personal data: opaque ids only.
	{Name: RequestReference, Title: "Email action tokens and message ids that lead to a request (hashed)", Owner: OwnerEvidence,
		Location:  Location{Table: LedgerTable, PK: "REF#{ref}", SK: "REF"},
		Retention: Retention{Kind: ThreeYears, Anchor: "createdAt"}},
	// Failed password re-entries before a destructive action (5 failures lock it for 15 minutes).
	{Name: ReauthAttempts, Title: "Failed password re-entries before account deletion (lockout counter)", Owner: OwnerService,
		Location:  Location{Table: LedgerTable, PK: "REAUTH#{account}#{action}", SK: "REAUTH"},
		Retention: Retention{Kind: TwoDays, Anchor: "updatedAt"}},
	// One-time codes entered on end customers' status pages, counted per source address and hour
	// (20 tries an hour, whatever the request): the address is kept only as an HMAC under
	// VERIFICATION_SECRET, and the counter lives two days.
	{Name: VerificationTries, Title: "One-time code tries per source address and hour (hashed address, a count)", Owner: OwnerService,
		Location:  Location{Table: LedgerTable, PK: "VERIFYTRY#{address}#{hour}", SK: "VERIFYTRY"},
		Retention: Retention{Kind: TwoDays, Anchor: "updatedAt"}},
	// The first response to a mutating call with an Idempotency-Key, returned again to a retry.
	{Name: IdempotencyRecord, Title: "Responses kept for Idempotency-Key retries", Owner: OwnerService,
		Location:  Location{Table: LedgerTable, PK: "IDEM#{account}#{key}", SK: "IDEM"},
		Retention: Retention{Kind: TwoDays, Anchor: "createdAt"}},
	// A Privacy-module preview: the filters it counted, which the bulk deletion it authorizes takes
	// as they were (the token is stored hashed; it is valid for minutes).
	{Name: PreviewToken, Title: "Privacy-module deletion previews (hashed token, the filters previewed)", Owner: OwnerService,
		Location:  Location{Table: LedgerTable, PK: "PREVIEW#{token}", SK: "PREVIEW"},
		Retention: Retention{Kind: TwoDays, Anchor: "createdAt"}},
	// One entry per mail the info@ mailbox received (SES message id, hashed): what became of it and
	// the request it made. It makes a second delivery of the same mail a no-op, and answers "what
	// happened to the mail I sent?" without keeping the mail: no addresses, no content.
	{Name: InboundMail, Title: "Inbound mail journal (hashed SES message id, outcome, request made; no content or addresses)", Owner: OwnerEvidence,
		Location:  Location{Table: LedgerTable, PK: "INMAIL#{mail}", SK: "INMAIL"},
		Retention: Retention{Kind: ThreeYears, Anchor: "receivedAt"}},
	// A channel's webhook delivery seen (by the channel's own delivery id, hashed), and what it was
	// answered: a redelivery makes no second request and gets the same answer.
	{Name: WebhookDelivery, Title: "Webhook deliveries seen (hashed delivery id, the answer given)", Owner: OwnerService,
		Location:  Location{Table: LedgerTable, PK: "HOOK#{delivery}", SK: "HOOK"},
		Retention: Retention{Kind: TwoDays, Anchor: "createdAt"}},
	// Where the daily retention sweep (internal/retention) stands: the position of each parallel Scan
	// segment, the counts so far and the ledger request of the run, so that a run cut short by its
	// time budget or a failure resumes where it stopped. The hourly connection-health sweep
	// (internal/chsweep) keeps its own: the last hour slot done and the position within the next.
	// Opaque keys and counts only.
	{Name: SweepCheckpoint, Title: "Sweep checkpoints (retention and connection-health scan positions and counts; no personal data)", Owner: OwnerService,
		Location:  Location{Table: LedgerTable, PK: "SWEEP#{sweep}", SK: "CHECKPOINT"},
		Retention: Retention{Kind: TwoDays, Anchor: "updatedAt"}},
	// A connection whose channel refused its credential once (internal/chsweep): the refusal must
	// be seen again at least an hour later, for the same credential, before its wipe is requested.
	// One small partition the sweep reads whole each run. The connection id, its channel, when the
	// refusal was first seen and the SHA-256 of the credential refused: no credential, no personal
	// data. Two days: a suspicion no later run could confirm or clear is dropped, and the
	// connection's next daily check starts over.
	{Name: ConnectionSuspicion, Title: "Channel connections whose credential was refused once, awaiting a second check (connection id, channel, credential hash; no personal data)", Owner: OwnerService,
		Location:  Location{Table: LedgerTable, PK: "SUSPECTS", SK: "{connection}"},
		Retention: Retention{Kind: TwoDays, Anchor: "firstSeenAt"}},
	// What the retention sweep's finished runs did in one calendar month (Moscow time): counts per
	// category and the oldest personal item per category the last run saw; the privacy officer's
	// monthly report is written from it, and it records that the report went. Counts and dates only.
	{Name: RetentionTally, Title: "Retention-sweep monthly tallies (counts per category, oldest item dates; no personal data)", Owner: OwnerService,
		Location:  Location{Table: LedgerTable, PK: "SWEEP#{sweep}", SK: "MONTH#{month}"},
		Retention: Retention{Kind: ThreeYears, Anchor: "updatedAt"}},
	{Name: AnalyticsCounter, Title: "Anonymous aggregated counters", Owner: OwnerAnalytics,
		Location:  Location{Table: AnalyticsTable, PK: "M#{bot}#{metric}", SK: "{day}#{channel}"},
		Retention: Retention{Kind: Never}},
}

var byName = func() map[string]*Category {
	m := make(map[string]*Category, len(Categories))
	for i := range Categories {
		m[Categories[i].Name] = &Categories[i]
	}
	return m
}()

// Lookup returns the category with that name.
func Lookup(name string) (Category, bool) {
	c, ok := byName[name]
	if !ok {
		return Category{}, false
	}
	return *c, true
}

// MustLookup is Lookup for names known at compile time (the constants above).
func MustLookup(name string) Category {
	c, ok := Lookup(name)
	if !ok {
		panic("datamap: unknown category " + name)
	}
	return c
}

// Reaching returns the categories a scope destroys, in data-map order.
func Reaching(s Scope) []Category {
	var out []Category
	for _, c := range Categories {
		if c.Reaches(s) {
			out = append(out, c)
		}
	}
	return out
}

// Reaches reports whether the scope destroys this category.
func (c Category) Reaches(s Scope) bool {
	for _, x := range c.Scopes {
		if x == s {
			return true
		}
	}
	return false
}

// Kept reports whether no deletion scope may ever destroy the category (it only expires).
func (c Category) Kept() bool { return len(c.Scopes) == 0 }

// SKPrefix is the fixed part of the sort-key pattern before its first placeholder: the
// begins_with value that finds every item of the category in its partition.
func (c Category) SKPrefix() string {
	sk := c.Location.SK
	if i := strings.IndexByte(sk, '{'); i >= 0 {
		return sk[:i]
	}
	return sk
}

// Partition fills the partition-key pattern of the category's table (index "") or of one of its
// indexes ("GSI1", "GSI2") with vars: the one way code outside the data map names a partition.
func (c Category) Partition(index string, vars map[string]string) (string, error) {
	pattern := c.Location.PK
	if index != "" {
		ix, ok := c.Index(index)
		if !ok {
			return "", fmt.Errorf("%s has no index %s", c.Name, index)
		}
		pattern = ix.PK
	}
	return Fill(pattern, vars)
}

// SortKey fills the category's table sort-key pattern with vars.
func (c Category) SortKey(vars map[string]string) (string, error) {
	return Fill(c.Location.SK, vars)
}

// Index returns the category's index of that name.
func (c Category) Index(name string) (IndexKey, bool) {
	for _, ix := range c.Location.Indexes {
		if ix.Name == name {
			return ix, true
		}
	}
	return IndexKey{}, false
}

// The S3 lifecycle safety net (template.yaml, FilesBucket's rule ExpireEndUserFiles) expires the
// objects tagged LifecycleTagKey=LifecycleExpires 13 months after they were written: the objects of
// an end user's 13-month categories carry that tag from their upload; a legal hold sets
// LifecycleHeld instead on what it covers, so the rule never matches it, and its release sets the
// tag back.
const (
	LifecycleTagKey  = "lethe-retention"
	LifecycleExpires = "personal-13m"
	LifecycleHeld    = "held"
)

// ExpiresByLifecycle reports whether the category's S3 objects carry the lifecycle rule's tag.
func (c Category) ExpiresByLifecycle() bool {
	return c.Location.Bucket != "" && c.Owner == OwnerEndUser && c.Retention.Kind == Personal13Months
}

// LifecycleTagging is the tag set (as S3's PutObject Tagging parameter) an object of the category
// is uploaded with; "" when the lifecycle rule does not cover the category.
func LifecycleTagging(category string) string {
	if c, ok := Lookup(category); ok && c.ExpiresByLifecycle() {
		return LifecycleTagKey + "=" + LifecycleExpires
	}
	return ""
}

// Policy turns retention rules into expiry times. SafetyMargin is taken off personal-data expiry so
// that DynamoDB's lag in removing expired items can never keep data past its limit.
type Policy struct {
	SafetyMargin time.Duration
}

// PersonalMonths is how long personal data may be kept after its anchor (SPEC §3: 13 months).
const PersonalMonths = 13

// DefaultSafetyMargin allows for DynamoDB TTL deleting expired items "within a few days".
const DefaultSafetyMargin = 7 * 24 * time.Hour

// Limit is the legal limit of a retention rule from its anchor: the moment after which the item
// must no longer exist. ok is false for rules with no limit.
func Limit(k RetentionKind, anchor time.Time) (time.Time, bool) {
	switch k {
	case Personal13Months:
		return anchor.AddDate(0, PersonalMonths, 0), true
	case FiveYears, FiveYearsAfterWithdrawal:
		return anchor.AddDate(5, 0, 0), true
	case ThreeYears, UntilReleased:
		return anchor.AddDate(3, 0, 0), true
	case TwoDays:
		return anchor.Add(48 * time.Hour), true
	default:
		return time.Time{}, false
	}
}

// ExpiresAt is the TTL to stamp on an item of the category whose anchor time is anchor. ok is false
// when the item must carry no TTL (account lifetime, analytics, an unwithdrawn consent, an active
// hold: callers pass a zero anchor for the latter two).
func (p Policy) ExpiresAt(c Category, anchor time.Time) (time.Time, bool) {
	if anchor.IsZero() {
		return time.Time{}, false
	}
	limit, ok := Limit(c.Retention.Kind, anchor)
	if !ok {
		return time.Time{}, false
	}
	if c.Retention.Kind == Personal13Months {
		return limit.Add(-p.SafetyMargin), true
	}
	// Retained categories are kept exactly as long as the law says: expiring early would break it.
	return limit, true
}

// Validate checks the data map's own consistency; a test runs it.
func Validate() error {
	seen := map[string]bool{}
	var errs []string
	for _, c := range Categories {
		if seen[c.Name] {
			errs = append(errs, "duplicate category "+c.Name)
		}
		seen[c.Name] = true
		if c.Retention.Kind == "" {
			errs = append(errs, c.Name+": no retention rule")
		}
		if c.Location.Table == "" && c.Location.Bucket == "" {
			errs = append(errs, c.Name+": no location")
		}
		if c.Location.Table != "" && (c.Location.PK == "" || c.Location.SK == "") {
			errs = append(errs, c.Name+": table location without key pattern")
		}
		if c.Owner == OwnerEndUser && c.Retention.Kind != Personal13Months {
			errs = append(errs, c.Name+": end-user data must expire within 13 months")
		}
		if (c.Owner == OwnerRetained || c.Owner == OwnerEvidence || c.Owner == OwnerAnalytics) && len(c.Scopes) > 0 {
			errs = append(errs, c.Name+": kept data must not be reachable by a deletion scope")
		}
		if c.Owner == OwnerAnalytics && c.Personal {
			errs = append(errs, c.Name+": analytics may hold no personal data")
		}
		if c.Retention.Kind == Personal13Months && c.Retention.Anchor == "" {
			errs = append(errs, c.Name+": 13-month rule without an anchor attribute")
		}
	}
	sort.Strings(errs)
	if len(errs) > 0 {
		return fmt.Errorf("data map: %s", strings.Join(errs, "; "))
	}
	return nil
}

// Fill replaces every {name} in a key pattern by vars[name]. A missing or empty value is an error:
// a key with a hole would address the wrong partition.
func Fill(pattern string, vars map[string]string) (string, error) {
	var b strings.Builder
	for {
		i := strings.IndexByte(pattern, '{')
		if i < 0 {
			b.WriteString(pattern)
			return b.String(), nil
		}
		j := strings.IndexByte(pattern[i:], '}')
		if j < 0 {
			return "", fmt.Errorf("pattern %q: unclosed placeholder", pattern)
		}
		name := pattern[i+1 : i+j]
		v := vars[name]
		if v == "" {
			return "", fmt.Errorf("pattern %q: no value for {%s}", pattern, name)
		}
		b.WriteString(pattern[:i])
		b.WriteString(v)
		pattern = pattern[i+j+1:]
	}
}
