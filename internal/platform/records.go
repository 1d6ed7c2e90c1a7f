// Package platform is the bot platform's data model in DynamoDB: one Go type per category of the data
// map, the keys each is stored under (built from the data map's patterns, never spelled out again) and
// the store that writes them with their TTL and reads them back without ever returning expired data.
//
// Storage is sealed behind this package and ledger. The storage packages — the only production
// packages that import the DynamoDB client or its attribute types — are: platform and ledger (the
// two stores, which alone fill the data map's key patterns), bulkwrite (batched writes), capmeter
// (client middleware that asks for and counts consumed capacity; it makes no call), and the two
// engines that by design act on raw items page by page: erasure (executes the data map's scope
// plans) and retention (the sweep, TTL holds and the stream consumer). Every other package reads and
// writes through their methods, pages with opaque cursors (Cursor) and names no key; the
// composition root (system), the operator CLI, the template reader (samtemplate), the local
// stand-ins and test support are outside the rule. internal/archtest enforces it.
package platform

import (
	"sort"
	"time"

	"github.com/lethe-dev/lethe/internal/datamap"
)

// Record is anything stored in a platform table: it names its data-map category, gives the values
// of the category's key placeholders, and the time its retention clock starts from.
type Record interface {
	Category() string
	KeyVars() map[string]string
	RetentionAnchor() time.Time
}

// Channel types of connections and identities.
const (
	ChannelTelegram  = "telegram"
	ChannelWhatsApp  = "whatsapp"
	ChannelMessenger = "messenger"
	ChannelInstagram = "instagram"
	ChannelVK        = "vk"
	ChannelViber     = "viber"
	ChannelSlack     = "slack"
	// IdentityMetaASID is the app-scoped user id Meta sends to the data-deletion callback; it ties
	// together an end user's Messenger and Instagram conversations on every bot of the platform.
	IdentityMetaASID = "meta_asid"
	// IdentityPhone is a phone number, in E.164, that an end user shared in a chat (a Viber contact
	// message); an end customer who asks for deletion may give it instead of a channel id.
	IdentityPhone = "phone"
)

// Channels lists the messaging channels a bot can be connected to.
var Channels = []string{ChannelTelegram, ChannelWhatsApp, ChannelMessenger, ChannelInstagram, ChannelVK, ChannelViber, ChannelSlack}

// Roles of team members (SPEC §4).
const (
	RoleOwner        = "owner"
	RoleAccountAdmin = "account_admin"
	RoleBotAdmin     = "bot_admin"
	RoleMember       = "member"
)

// Account statuses.
const (
	AccountActive      = "active"
	AccountSoftDeleted = "soft_deleted"
)

// Bot and connection statuses.
const (
	BotRunning         = "running"
	BotStopped         = "stopped"
	ConnectionActive   = "active"
	ConnectionDisabled = "disabled"
	ConnectionRevoked  = "revoked"
)

// KeyTime is the fixed-width UTC form of times used inside keys, so they sort as strings.
const KeyTime = "2006-01-02T15:04:05.000Z"

// AccountSettings are the account's own choices that change what Lethe does.
type AccountSettings struct {
	Timezone string `dynamodbav:"timezone"`
	Company  string `dynamodbav:"company,omitempty"`
	// DeleteOnBlock: when an end user blocks a bot (Telegram kicked, VK message_deny, Viber
	// unsubscribed), delete that end user's data rather than only record the block.
	DeleteOnBlock bool `dynamodbav:"deleteOnBlock"`
	// WipeOnDeauthorize: a Meta deauthorize callback wipes the connection's data.
	WipeOnDeauthorize bool `dynamodbav:"wipeOnDeauthorize"`
}

// Account is the platform customer's profile.
type Account struct {
	ID           string          `dynamodbav:"accountId"`
	Email        string          `dynamodbav:"email"`
	FullName     string          `dynamodbav:"fullName"`
	Locale       string          `dynamodbav:"locale"` // "ru" or "en": the language of every mail
	PasswordHash string          `dynamodbav:"passwordHash"`
	Status       string          `dynamodbav:"status"`
	Settings     AccountSettings `dynamodbav:"settings"`
	CreatedAt    time.Time       `dynamodbav:"createdAt"`
	UpdatedAt    time.Time       `dynamodbav:"updatedAt"`
}

func (Account) Category() string { return datamap.AccountProfile }
func (a Account) KeyVars() map[string]string {
	return map[string]string{"account": a.ID, "email": NormalizeEmail(a.Email)}
}
func (Account) RetentionAnchor() time.Time { return time.Time{} }

// TeamMember is a person with access to the account's dashboard; Sub is the JWT subject.
type TeamMember struct {
	AccountID string   `dynamodbav:"accountId"`
	Sub       string   `dynamodbav:"sub"`
	Email     string   `dynamodbav:"email"`
	FullName  string   `dynamodbav:"fullName"`
	Role      string   `dynamodbav:"role"`
	BotIDs    []string `dynamodbav:"botIds,omitempty,stringset"` // bots a bot_admin administers
	Disabled  bool     `dynamodbav:"disabled"`
	// SuspendedBy names the deletion request whose soft delete disabled the member (erasure's
	// AttrSuspendedBy): such a member may still see and cancel that deletion.
	SuspendedBy string    `dynamodbav:"suspendedBy,omitempty"`
	CreatedAt   time.Time `dynamodbav:"createdAt"`
}

func (TeamMember) Category() string { return datamap.TeamMember }
func (m TeamMember) KeyVars() map[string]string {
	return map[string]string{"account": m.AccountID, "member": m.Sub}
}
func (TeamMember) RetentionAnchor() time.Time { return time.Time{} }

// Bot is a chatbot of the account.
type Bot struct {
	AccountID string    `dynamodbav:"accountId"`
	ID        string    `dynamodbav:"botId"`
	Name      string    `dynamodbav:"name"`
	Status    string    `dynamodbav:"status"` // "running" or "stopped"
	Locale    string    `dynamodbav:"locale"`
	CreatedAt time.Time `dynamodbav:"createdAt"`
}

func (Bot) Category() string { return datamap.Bot }
func (b Bot) KeyVars() map[string]string {
	return map[string]string{"account": b.AccountID, "bot": b.ID, "botName": botNameKey(b.Name)}
}

// botNameKey is the name index's key of a bot name; a name with no letter or digit is "-".
func botNameKey(name string) string {
	if n := NormalizeName(name); n != "" {
		return n
	}
	return "-"
}
func (Bot) RetentionAnchor() time.Time { return time.Time{} }

// ChannelConnection links a bot to one messaging channel. ChannelKey is the channel's own id of the
// other side (Telegram bot id, WhatsApp business account id, page id, VK community id, Slack team
// id, Viber bot URI): revocation webhooks name it. Secrets hold tokens and signing secrets.
type ChannelConnection struct {
	AccountID  string            `dynamodbav:"accountId"`
	BotID      string            `dynamodbav:"botId"`
	ID         string            `dynamodbav:"connectionId"`
	Channel    string            `dynamodbav:"channel"`
	ChannelKey string            `dynamodbav:"channelKey"`
	Name       string            `dynamodbav:"name"`
	Status     string            `dynamodbav:"status"` // "active", "disabled", "revoked"
	Secrets    map[string]string `dynamodbav:"secrets"`
	// Keys are the other ids the channel knows the connection by (ConnKey…): the WhatsApp phone
	// number id messages are sent from, the Instagram account id of an Instagram connection (whose
	// ChannelKey is its Facebook page), the app-scoped id of the Meta user who connected a page.
	Keys      map[string]string `dynamodbav:"keys,omitempty"`
	CreatedAt time.Time         `dynamodbav:"createdAt"`
}

// Names of ChannelConnection.Keys.
const (
	// ConnKeyPhoneNumberID is a WhatsApp connection's phone number id (Cloud API messages are sent
	// from it).
	ConnKeyPhoneNumberID = "phone_number_id"
	// ConnKeyInstagramAccountID is an Instagram connection's Instagram professional account id.
	ConnKeyInstagramAccountID = "instagram_account_id"
	// ConnKeyMetaUserID is the app-scoped id of the Meta user (a page admin) who connected a
	// Messenger or Instagram connection: Meta's deauthorize callback names them when they remove
	// the app.
	ConnKeyMetaUserID = "meta_user_id"
)

func (ChannelConnection) Category() string { return datamap.ChannelConnection }
func (c ChannelConnection) KeyVars() map[string]string {
	return map[string]string{"account": c.AccountID, "bot": c.BotID, "connection": c.ID,
		"channel": c.Channel, "channelKey": c.ChannelKey, "slot": ConnectionSlot(c.ID)}
}
func (ChannelConnection) RetentionAnchor() time.Time { return time.Time{} }

// KeyRecords are the connection's Keys as the items that find it by them, in a fixed order (by
// kind). They are derived from the connection alone, so whoever writes a connection writes the same
// items: Store.Put does, and the seed emits them right after the connection.
func (c ChannelConnection) KeyRecords() []ConnectionKey {
	out := make([]ConnectionKey, 0, len(c.Keys))
	for kind, value := range c.Keys {
		if kind == "" || value == "" {
			continue // a key with a hole would name a wrong partition
		}
		out = append(out, ConnectionKey{AccountID: c.AccountID, BotID: c.BotID, ConnectionID: c.ID, Kind: kind, Value: value})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}

// ConnectionKey is one of a connection's other channel ids (ChannelConnection.Keys) stored as an
// item of its own, in the connection's partition: how a callback that names a page admin or an
// Instagram account finds the connection. A reader trusts the connection, not this item: a
// connection is found by a key only while its own Keys still hold it.
type ConnectionKey struct {
	AccountID    string `dynamodbav:"accountId"`
	BotID        string `dynamodbav:"botId"`
	ConnectionID string `dynamodbav:"connectionId"`
	Kind         string `dynamodbav:"kind"`
	Value        string `dynamodbav:"value"`
}

func (ConnectionKey) Category() string { return datamap.ConnectionKey }
func (k ConnectionKey) KeyVars() map[string]string {
	return map[string]string{"account": k.AccountID, "bot": k.BotID, "connection": k.ConnectionID, "kind": k.Kind, "value": k.Value}
}
func (ConnectionKey) RetentionAnchor() time.Time { return time.Time{} }

// APIToken is a token for the platform's public API; only its hash is stored.
type APIToken struct {
	AccountID string    `dynamodbav:"accountId"`
	ID        string    `dynamodbav:"tokenId"`
	Name      string    `dynamodbav:"name"`
	Prefix    string    `dynamodbav:"prefix"`
	TokenHash string    `dynamodbav:"tokenHash"`
	Disabled  bool      `dynamodbav:"disabled"`
	CreatedAt time.Time `dynamodbav:"createdAt"`
}

func (APIToken) Category() string { return datamap.APIToken }
func (t APIToken) KeyVars() map[string]string {
	return map[string]string{"account": t.AccountID, "token": t.ID}
}
func (APIToken) RetentionAnchor() time.Time { return time.Time{} }

// Webhook is an outgoing webhook the account configured.
type Webhook struct {
	AccountID string    `dynamodbav:"accountId"`
	ID        string    `dynamodbav:"webhookId"`
	URL       string    `dynamodbav:"url"`
	Events    []string  `dynamodbav:"events,stringset"`
	Secret    string    `dynamodbav:"secret"`
	Disabled  bool      `dynamodbav:"disabled"`
	CreatedAt time.Time `dynamodbav:"createdAt"`
}

func (Webhook) Category() string { return datamap.Webhook }
func (w Webhook) KeyVars() map[string]string {
	return map[string]string{"account": w.AccountID, "webhook": w.ID}
}
func (Webhook) RetentionAnchor() time.Time { return time.Time{} }

// Integration holds an external system's settings (CRM, spreadsheets …), credentials included.
type Integration struct {
	AccountID string            `dynamodbav:"accountId"`
	ID        string            `dynamodbav:"integrationId"`
	Kind      string            `dynamodbav:"kind"`
	Settings  map[string]string `dynamodbav:"settings"`
	CreatedAt time.Time         `dynamodbav:"createdAt"`
}

func (Integration) Category() string { return datamap.Integration }
func (i Integration) KeyVars() map[string]string {
	return map[string]string{"account": i.AccountID, "integration": i.ID}
}
func (Integration) RetentionAnchor() time.Time { return time.Time{} }

// Template is a reusable message text.
type Template struct {
	AccountID string    `dynamodbav:"accountId"`
	ID        string    `dynamodbav:"templateId"`
	Name      string    `dynamodbav:"name"`
	Text      string    `dynamodbav:"text"`
	Locale    string    `dynamodbav:"locale"`
	CreatedAt time.Time `dynamodbav:"createdAt"`
}

func (Template) Category() string { return datamap.Template }
func (t Template) KeyVars() map[string]string {
	return map[string]string{"account": t.AccountID, "template": t.ID}
}
func (Template) RetentionAnchor() time.Time { return time.Time{} }

// Tag is a tag definition of the account.
type Tag struct {
	AccountID string    `dynamodbav:"accountId"`
	ID        string    `dynamodbav:"tagId"`
	Name      string    `dynamodbav:"name"`
	Color     string    `dynamodbav:"color"`
	CreatedAt time.Time `dynamodbav:"createdAt"`
}

func (Tag) Category() string { return datamap.Tag }
func (t Tag) KeyVars() map[string]string {
	return map[string]string{"account": t.AccountID, "tag": t.ID}
}
func (Tag) RetentionAnchor() time.Time { return time.Time{} }

// AccountFile is a file the account uploaded; the bytes are in the files bucket at S3Key.
type AccountFile struct {
	AccountID   string    `dynamodbav:"accountId"`
	ID          string    `dynamodbav:"fileId"`
	Name        string    `dynamodbav:"name"`
	ContentType string    `dynamodbav:"contentType"`
	Size        int64     `dynamodbav:"size"`
	S3Key       string    `dynamodbav:"s3Key"`
	CreatedAt   time.Time `dynamodbav:"createdAt"`
}

func (AccountFile) Category() string { return datamap.AccountFile }
func (f AccountFile) KeyVars() map[string]string {
	return map[string]string{"account": f.AccountID, "file": f.ID}
}
func (AccountFile) RetentionAnchor() time.Time { return time.Time{} }

// ActivityLog is one admin action; its id is time-ordered so a date range is a key range.
type ActivityLog struct {
	AccountID string    `dynamodbav:"accountId"`
	ID        string    `dynamodbav:"logId"`
	At        time.Time `dynamodbav:"at"`
	ActorSub  string    `dynamodbav:"actorSub"`
	ActorName string    `dynamodbav:"actorName"`
	Action    string    `dynamodbav:"action"`
	Target    string    `dynamodbav:"target"`
	IP        string    `dynamodbav:"ip"`
}

func (ActivityLog) Category() string { return datamap.ActivityLog }
func (l ActivityLog) KeyVars() map[string]string {
	return map[string]string{"account": l.AccountID, "log": l.ID}
}
func (l ActivityLog) RetentionAnchor() time.Time { return l.At }

// EndUser is a person who talks to a bot, as seen through one channel connection.
type EndUser struct {
	AccountID           string    `dynamodbav:"accountId"`
	BotID               string    `dynamodbav:"botId"`
	ConnectionID        string    `dynamodbav:"connectionId"`
	ID                  string    `dynamodbav:"endUserId"`
	Channel             string    `dynamodbav:"channel"`
	DisplayName         string    `dynamodbav:"displayName"`
	NormalizedName      string    `dynamodbav:"normalizedName"`
	Username            string    `dynamodbav:"username,omitempty"`
	Locale              string    `dynamodbav:"locale,omitempty"`
	Blocked             bool      `dynamodbav:"blocked"`
	FirstConversationAt time.Time `dynamodbav:"firstConversationAt"`
	LastActiveAt        time.Time `dynamodbav:"lastActiveAt"`
}

func (EndUser) Category() string { return datamap.EndUserProfile }
func (u EndUser) KeyVars() map[string]string {
	return map[string]string{"account": u.AccountID, "bot": u.BotID, "connection": u.ConnectionID,
		"endUser": u.ID, "firstConversationAt": u.FirstConversationAt.UTC().Format(KeyTime)}
}
func (u EndUser) RetentionAnchor() time.Time { return u.LastActiveAt }

// ChannelIdentity is one id a channel knows the end user by (Telegram user id, Meta ASID or PSID,
// phone number, VK id, Viber id, Slack user id).
type ChannelIdentity struct {
	AccountID    string    `dynamodbav:"accountId"`
	BotID        string    `dynamodbav:"botId"`
	EndUserID    string    `dynamodbav:"endUserId"`
	Channel      string    `dynamodbav:"channel"`
	ExternalID   string    `dynamodbav:"externalId"`
	LastActiveAt time.Time `dynamodbav:"lastActiveAt"`
}

func (ChannelIdentity) Category() string { return datamap.ChannelIdentity }
func (i ChannelIdentity) KeyVars() map[string]string {
	return map[string]string{"account": i.AccountID, "bot": i.BotID, "endUser": i.EndUserID,
		"channel": i.Channel, "externalId": i.ExternalID}
}
func (i ChannelIdentity) RetentionAnchor() time.Time { return i.LastActiveAt }

// NameToken indexes one word of an end user's normalized name for the Conversations search.
type NameToken struct {
	AccountID    string    `dynamodbav:"accountId"`
	BotID        string    `dynamodbav:"botId"`
	EndUserID    string    `dynamodbav:"endUserId"`
	Token        string    `dynamodbav:"token"`
	LastActiveAt time.Time `dynamodbav:"lastActiveAt"`
}

func (NameToken) Category() string { return datamap.NameToken }
func (n NameToken) KeyVars() map[string]string {
	return map[string]string{"account": n.AccountID, "bot": n.BotID, "endUser": n.EndUserID, "token": n.Token}
}
func (n NameToken) RetentionAnchor() time.Time { return n.LastActiveAt }

// Conversation is the header of one conversation; its messages live in their own partition.
type Conversation struct {
	AccountID     string    `dynamodbav:"accountId"`
	BotID         string    `dynamodbav:"botId"`
	EndUserID     string    `dynamodbav:"endUserId"`
	ID            string    `dynamodbav:"conversationId"`
	Channel       string    `dynamodbav:"channel"`
	StartedAt     time.Time `dynamodbav:"startedAt"`
	LastMessageAt time.Time `dynamodbav:"lastMessageAt"`
	MessageCount  int       `dynamodbav:"messageCount"`
}

func (Conversation) Category() string { return datamap.Conversation }
func (c Conversation) KeyVars() map[string]string {
	return map[string]string{"account": c.AccountID, "bot": c.BotID, "endUser": c.EndUserID, "conversation": c.ID}
}
func (c Conversation) RetentionAnchor() time.Time { return c.LastMessageAt }

// Message is one message of a conversation, in the conversation's partition.
type Message struct {
	AccountID      string    `dynamodbav:"accountId"`
	BotID          string    `dynamodbav:"botId"`
	EndUserID      string    `dynamodbav:"endUserId"`
	ConversationID string    `dynamodbav:"conversationId"`
	ID             string    `dynamodbav:"messageId"`
	Direction      string    `dynamodbav:"direction"` // "in" from the end user, "out" from the bot
	Text           string    `dynamodbav:"text"`
	SentAt         time.Time `dynamodbav:"sentAt"`
}

func (Message) Category() string { return datamap.Message }
func (m Message) KeyVars() map[string]string {
	return map[string]string{"account": m.AccountID, "bot": m.BotID, "endUser": m.EndUserID,
		"conversation": m.ConversationID, "message": m.ID}
}
func (m Message) RetentionAnchor() time.Time { return m.SentAt }

// InboxMessage is a message in the Inbox module (live chat with an operator); attachments are in
// the files bucket under the message's own prefix.
type InboxMessage struct {
	AccountID      string    `dynamodbav:"accountId"`
	BotID          string    `dynamodbav:"botId"`
	EndUserID      string    `dynamodbav:"endUserId"`
	ID             string    `dynamodbav:"messageId"`
	Direction      string    `dynamodbav:"direction"`
	OperatorSub    string    `dynamodbav:"operatorSub,omitempty"`
	Text           string    `dynamodbav:"text"`
	AttachmentKeys []string  `dynamodbav:"attachmentKeys,omitempty,stringset"`
	SentAt         time.Time `dynamodbav:"sentAt"`
}

func (InboxMessage) Category() string { return datamap.InboxMessage }
func (m InboxMessage) KeyVars() map[string]string {
	return map[string]string{"account": m.AccountID, "bot": m.BotID, "endUser": m.EndUserID, "message": m.ID}
}
func (m InboxMessage) RetentionAnchor() time.Time { return m.SentAt }

// EndUserFile is a file the end user sent to the bot; the bytes are in the files bucket at S3Key.
type EndUserFile struct {
	AccountID   string    `dynamodbav:"accountId"`
	BotID       string    `dynamodbav:"botId"`
	EndUserID   string    `dynamodbav:"endUserId"`
	ID          string    `dynamodbav:"fileId"`
	Name        string    `dynamodbav:"name"`
	ContentType string    `dynamodbav:"contentType"`
	Size        int64     `dynamodbav:"size"`
	S3Key       string    `dynamodbav:"s3Key"`
	CreatedAt   time.Time `dynamodbav:"createdAt"`
}

func (EndUserFile) Category() string { return datamap.EndUserFile }
func (f EndUserFile) KeyVars() map[string]string {
	return map[string]string{"account": f.AccountID, "bot": f.BotID, "endUser": f.EndUserID, "file": f.ID}
}
func (f EndUserFile) RetentionAnchor() time.Time { return f.CreatedAt }

// Contact is a contact detail the end user gave (phone, email, address).
type Contact struct {
	AccountID string    `dynamodbav:"accountId"`
	BotID     string    `dynamodbav:"botId"`
	EndUserID string    `dynamodbav:"endUserId"`
	ID        string    `dynamodbav:"contactId"`
	Kind      string    `dynamodbav:"kind"`
	Value     string    `dynamodbav:"value"`
	UpdatedAt time.Time `dynamodbav:"updatedAt"`
}

func (Contact) Category() string { return datamap.Contact }
func (c Contact) KeyVars() map[string]string {
	return map[string]string{"account": c.AccountID, "bot": c.BotID, "endUser": c.EndUserID, "contact": c.ID}
}
func (c Contact) RetentionAnchor() time.Time { return c.UpdatedAt }

// EndUserTag applies one of the account's tags to an end user.
type EndUserTag struct {
	AccountID string    `dynamodbav:"accountId"`
	BotID     string    `dynamodbav:"botId"`
	EndUserID string    `dynamodbav:"endUserId"`
	TagID     string    `dynamodbav:"tagId"`
	UpdatedAt time.Time `dynamodbav:"updatedAt"`
}

func (EndUserTag) Category() string { return datamap.EndUserTag }
func (t EndUserTag) KeyVars() map[string]string {
	return map[string]string{"account": t.AccountID, "bot": t.BotID, "endUser": t.EndUserID, "tag": t.TagID}
}
func (t EndUserTag) RetentionAnchor() time.Time { return t.UpdatedAt }

// Note is an operator's note about an end user.
type Note struct {
	AccountID string    `dynamodbav:"accountId"`
	BotID     string    `dynamodbav:"botId"`
	EndUserID string    `dynamodbav:"endUserId"`
	ID        string    `dynamodbav:"noteId"`
	AuthorSub string    `dynamodbav:"authorSub"`
	Text      string    `dynamodbav:"text"`
	UpdatedAt time.Time `dynamodbav:"updatedAt"`
}

func (Note) Category() string { return datamap.Note }
func (n Note) KeyVars() map[string]string {
	return map[string]string{"account": n.AccountID, "bot": n.BotID, "endUser": n.EndUserID, "note": n.ID}
}
func (n Note) RetentionAnchor() time.Time { return n.UpdatedAt }

// Payment is a payment document; kept 5 years from PaidAt whatever happens to the account.
type Payment struct {
	AccountID   string    `dynamodbav:"accountId"`
	ID          string    `dynamodbav:"paymentId"`
	PaidAt      time.Time `dynamodbav:"paidAt"`
	AmountMinor int64     `dynamodbav:"amountMinor"`
	Currency    string    `dynamodbav:"currency"`
	Payer       string    `dynamodbav:"payer"`
	Document    string    `dynamodbav:"document"` // invoice or act number
	Description string    `dynamodbav:"description"`
}

func (Payment) Category() string { return datamap.Payment }
func (p Payment) KeyVars() map[string]string {
	return map[string]string{"account": p.AccountID, "payment": p.ID}
}
func (p Payment) RetentionAnchor() time.Time { return p.PaidAt }

// Consent is a personal-data processing consent; kept 5 years from its withdrawal, with no expiry
// while it stands.
type Consent struct {
	AccountID    string     `dynamodbav:"accountId"`
	ID           string     `dynamodbav:"consentId"`
	SubjectEmail string     `dynamodbav:"subjectEmail"`
	Document     string     `dynamodbav:"document"` // which text and version was accepted
	GivenAt      time.Time  `dynamodbav:"givenAt"`
	WithdrawnAt  *time.Time `dynamodbav:"withdrawnAt,omitempty"`
}

func (Consent) Category() string { return datamap.Consent }
func (c Consent) KeyVars() map[string]string {
	return map[string]string{"account": c.AccountID, "consent": c.ID}
}
func (c Consent) RetentionAnchor() time.Time {
	if c.WithdrawnAt == nil {
		return time.Time{}
	}
	return *c.WithdrawnAt
}

// Hold scopes.
const (
	HoldAccount = "account"
	HoldBot     = "bot"
	HoldEndUser = "end_user"
)

// LegalHold keeps data a lawful authority asked for until it is released.
type LegalHold struct {
	ID        string `dynamodbav:"holdId"`
	AccountID string `dynamodbav:"accountId"`
	ScopeKind string `dynamodbav:"scopeKind"` // account, bot or end_user
	ScopeID   string `dynamodbav:"scopeId"`
	Reason    string `dynamodbav:"reason"`
	// Authority is who demands the data be kept (a court, an investigator); AuthorityRef is their
	// request's reference.
	Authority    string     `dynamodbav:"authority,omitempty"`
	AuthorityRef string     `dynamodbav:"authorityRef"`
	PlacedBy     string     `dynamodbav:"placedBy"`
	PlacedAt     time.Time  `dynamodbav:"placedAt"`
	Until        *time.Time `dynamodbav:"until,omitempty"` // the authority's stated end, if any
	ReleasedAt   *time.Time `dynamodbav:"releasedAt,omitempty"`
	// Actions is the hold's own history: placed, released, with who and why.
	Actions []HoldAction `dynamodbav:"actions"`
	// TTL progress: placing the hold takes the TTL off every item it covers, releasing it gives
	// each its data-map expiry back, in resumable batches (internal/retention). TTLState is
	// HoldTTLRemoved or HoldTTLRestored once the batches of the hold's current state are done;
	// TTLCursor counts the scope's targets passed so far, TTLItems the items changed.
	TTLState  string `dynamodbav:"ttlState,omitempty"`
	TTLCursor int64  `dynamodbav:"ttlCursor,omitempty"`
	TTLItems  int64  `dynamodbav:"ttlItems,omitempty"`
}

// TTL states of a legal hold.
const (
	HoldTTLRemoved  = "removed"
	HoldTTLRestored = "restored"
)

// HoldAction is one entry of a legal hold's history.
type HoldAction struct {
	At     time.Time `dynamodbav:"at" json:"at"`
	Action string    `dynamodbav:"action" json:"action"` // placed, released
	Actor  string    `dynamodbav:"actor" json:"actor"`
	Note   string    `dynamodbav:"note,omitempty" json:"note,omitempty"`
}

// Covers reports whether an active hold keeps data of this account, bot or end user ("" = not known
// at this level: an account-level check passes only account holds).
func (h LegalHold) Covers(accountID, botID, endUserID string) bool {
	if h.ReleasedAt != nil || h.AccountID != accountID {
		return false
	}
	switch h.ScopeKind {
	case HoldAccount:
		return true
	case HoldBot:
		return botID != "" && h.ScopeID == botID
	case HoldEndUser:
		return endUserID != "" && h.ScopeID == endUserID
	}
	return false
}

func (LegalHold) Category() string { return datamap.LegalHold }
func (h LegalHold) KeyVars() map[string]string {
	return map[string]string{"account": h.AccountID, "hold": h.ID}
}
func (h LegalHold) RetentionAnchor() time.Time {
	if h.ReleasedAt == nil {
		return time.Time{}
	}
	return *h.ReleasedAt
}

// AnalyticsCounter is one anonymous daily counter of a bot. It holds no identifier of a person:
// only the bot, the metric, the day, the channel and a number.
type AnalyticsCounter struct {
	BotID   string `dynamodbav:"botId"`
	Metric  string `dynamodbav:"metric"`
	Day     string `dynamodbav:"day"`     // 2006-01-02
	Channel string `dynamodbav:"channel"` // a channel type, or "all"
	Count   int64  `dynamodbav:"count"`
}

func (AnalyticsCounter) Category() string { return datamap.AnalyticsCounter }
func (c AnalyticsCounter) KeyVars() map[string]string {
	return map[string]string{"bot": c.BotID, "metric": c.Metric, "day": c.Day, "channel": c.Channel}
}
func (AnalyticsCounter) RetentionAnchor() time.Time { return time.Time{} }
