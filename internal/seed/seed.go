// Package seed generates the platform's demo and benchmark data: accounts with their team, bots,
// channel connections on all seven channels, end users with conversations, inbox messages, files,
// contacts, tags and notes, payments, consents and analytics counters — every category of the data
// map that the platform holds, in Russian and English. The same options always give the same bytes,
// so `make run`, the tests and the benchmarks can name the ids they expect. Records stream out as
// they are made: a benchmark of millions of messages needs no more memory than the demo.
package seed

import (
	"fmt"
	"time"

	"github.com/lethe-dev/lethe/internal/platform"
)

// Size says how much to generate. Accounts and BotsPerAccount are exact; the other per-parent counts
// are means around which each parent varies, so the data looks lived in.
type Size struct {
	Accounts                int
	BotsPerAccount          int
	EndUsersPerBot          int // each bot gets this ±25%
	ConversationsPerEndUser int // ±50%, at least one: an end user exists because they wrote
	MessagesPerConversation int // ±50%, never more than MaxMessagesPerConversation
	InboxPerEndUser         int // 0 … twice this
	FilesPerEndUser         int // 0 … twice this
	ActivityLogsPerAccount  int
	PaymentsPerAccount      int
}

// MaxMessagesPerConversation bounds one conversation (one message partition), so that no partition
// is hot however large the data set.
const MaxMessagesPerConversation = 50

// DemoSize is the `make run` data set: a Russian-speaking and an English-speaking account, three
// bots each, about sixteen end users per bot with a few conversations each.
func DemoSize() Size {
	return Size{Accounts: 2, BotsPerAccount: 3, EndUsersPerBot: 16, ConversationsPerEndUser: 3,
		MessagesPerConversation: 8, InboxPerEndUser: 2, FilesPerEndUser: 1, ActivityLogsPerAccount: 40,
		PaymentsPerAccount: 18}
}

// SizeForMessages is one account holding about n conversation messages, spread over many end users
// (about 60 messages each, in conversations of 10–30) and over more bots as n grows, so that no
// partition or index key is hot.
func SizeForMessages(n int64) Size {
	const perUser = 3 * 20
	users := max(1, (n+perUser/2)/perUser)
	// About 2,000 end users per bot keeps a bot's index partition moderate at millions of messages.
	bots := min(max(2, (users+1999)/2000), 64)
	if users < bots {
		bots = users
	}
	return Size{Accounts: 1, BotsPerAccount: int(bots), EndUsersPerBot: int((users + bots/2) / bots),
		ConversationsPerEndUser: 3, MessagesPerConversation: 20, InboxPerEndUser: 2, FilesPerEndUser: 0,
		ActivityLogsPerAccount: 200, PaymentsPerAccount: 24}
}

func (s Size) validate() error {
	for name, v := range map[string]int{"Accounts": s.Accounts, "BotsPerAccount": s.BotsPerAccount,
		"EndUsersPerBot": s.EndUsersPerBot, "ConversationsPerEndUser": s.ConversationsPerEndUser,
		"MessagesPerConversation": s.MessagesPerConversation, "InboxPerEndUser": s.InboxPerEndUser,
		"FilesPerEndUser": s.FilesPerEndUser, "ActivityLogsPerAccount": s.ActivityLogsPerAccount,
		"PaymentsPerAccount": s.PaymentsPerAccount} {
		if v < 0 {
			return fmt.Errorf("seed: size %s is negative (%d)", name, v)
		}
	}
	return nil
}

// DefaultPassword is the demo owners' password unless Options say otherwise.
const DefaultPassword = "lethe-demo-password"

// Options of one generation.
type Options struct {
	Seed uint64
	// Now is the moment the data is generated at: every time in it is at or before Now. Zero means
	// the current time (and then two runs differ).
	Now  time.Time
	Size Size
	// Password is every demo owner's password; default DefaultPassword.
	Password string
}

// Object is one S3 object to store.
type Object struct {
	Bucket      string // logical id (datamap.FilesBucket)
	Key         string
	ContentType string
	Body        []byte // shared between objects: read it, never change it
	// Tagging is the object's tag set as PutObject takes it (datamap.LifecycleTagging).
	Tagging string
}

// Manifest says what was generated: the handles a person or a test needs (ids, emails, the demo
// password, channel secrets), and the counts. It lists at most ManifestEndUsersPerBot end users per
// bot, so it stays small for millions of records.
type Manifest struct {
	Seed     uint64            `json:"seed"`
	Now      time.Time         `json:"now"`
	Accounts []ManifestAccount `json:"accounts"`
	// MetaASIDShared is the Meta app-scoped id of one person who writes to bots of every account
	// through Messenger or Instagram: a Meta data-deletion callback for it reaches several accounts.
	MetaASIDShared string `json:"metaAsidShared"`
	// Counts holds the number of records of each data-map category; Objects the number of S3 objects.
	Counts  map[string]int64 `json:"counts"`
	Objects int64            `json:"objects"`
}

// ManifestEndUsersPerBot bounds the end users a manifest lists per bot.
const ManifestEndUsersPerBot = 10

// ManifestAccount is one generated account.
type ManifestAccount struct {
	ID       string           `json:"id"`
	Email    string           `json:"email"`
	Password string           `json:"password"` // the owner's plain demo password
	FullName string           `json:"fullName"`
	Locale   string           `json:"locale"`
	Members  []ManifestMember `json:"members"`
	Bots     []ManifestBot    `json:"bots"`
	// EndUsers lists up to ManifestEndUsersPerBot end users of each bot, and every end user who
	// carries MetaASIDShared.
	EndUsers []ManifestEndUser `json:"endUsers"`
}

// ManifestMember is a team member; Sub is the JWT subject to sign in as.
type ManifestMember struct {
	Sub      string   `json:"sub"`
	Email    string   `json:"email"`
	FullName string   `json:"fullName"`
	Role     string   `json:"role"`
	BotIDs   []string `json:"botIds,omitempty"`
}

// ManifestBot is a bot and its channel connections.
type ManifestBot struct {
	ID          string               `json:"id"`
	Name        string               `json:"name"`
	Connections []ManifestConnection `json:"connections"`
}

// ManifestConnection is a channel connection with what a webhook for it must carry: the channel's
// own id of the other side and the per-connection secrets.
type ManifestConnection struct {
	ID         string            `json:"id"`
	Channel    string            `json:"channel"`
	ChannelKey string            `json:"channelKey"`
	Secrets    map[string]string `json:"secrets"`
	// Keys are the connection's other channel ids (platform.ConnKey…), when it has any.
	Keys map[string]string `json:"keys,omitempty"`
}

// ManifestEndUser is an end user with the ids channels know them by (channel → external id).
type ManifestEndUser struct {
	ID                  string            `json:"id"`
	BotID               string            `json:"botId"`
	ConnectionID        string            `json:"connectionId"`
	Name                string            `json:"name"`
	Channel             string            `json:"channel"`
	Identities          map[string]string `json:"identities"`
	FirstConversationAt time.Time         `json:"firstConversationAt"`
}

// Records is the total number of records in the counts.
func (m Manifest) Records() int64 {
	var n int64
	for _, c := range m.Counts {
		n += c
	}
	return n
}

// Generate streams every record and S3 object in a deterministic order: the same Options give
// byte-identical records, ids and secrets. It stops at the first error a callback returns and
// returns it.
func Generate(opts Options, record func(platform.Record) error, object func(Object) error) (Manifest, error) {
	return generate(opts, true, record, object)
}

// generate is Generate; without hash the owners' password hash is left empty (for counting).
func generate(opts Options, hash bool, record func(platform.Record) error, object func(Object) error) (Manifest, error) {
	if err := opts.Size.validate(); err != nil {
		return Manifest{}, err
	}
	if opts.Password == "" {
		opts.Password = DefaultPassword
	}
	g := newGen(opts, record, object)
	var h string
	if hash {
		var err error
		if h, err = g.passwordHash(); err != nil {
			return Manifest{}, err
		}
	}
	return g.run(h)
}
