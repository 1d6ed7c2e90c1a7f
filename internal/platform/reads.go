package platform

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
)

// loc is the location of a category (known at compile time).
func loc(category string) datamap.Location { return datamap.MustLookup(category).Location }

// getRecord reads the one item of a category addressed by vars.
func getRecord[T any](ctx context.Context, s *Store, category string, vars map[string]string) (T, error) {
	var zero T
	l := loc(category)
	pk, err := keyOf(l.PK, vars)
	if err != nil {
		return zero, err
	}
	sk, err := keyOf(l.SK, vars)
	if err != nil {
		return zero, err
	}
	return get[T](ctx, s, l.Table, pk, sk)
}

// Get reads the stored record that r's key names (r carries the key's values; its category
// decides the table): ErrNotFound when it is absent, expired, or of another category.
func Get[T Record](ctx context.Context, s *Store, r T) (T, error) {
	return getStored(ctx, s, r, false)
}

// Stored is Get that also reads an item whose TTL has passed but that is still stored: what a
// conditional write (Claim) still finds.
func Stored[T Record](ctx context.Context, s *Store, r T) (T, error) {
	return getStored(ctx, s, r, true)
}

func getStored[T Record](ctx context.Context, s *Store, r T, includeExpired bool) (T, error) {
	var zero T
	c, ok := datamap.Lookup(r.Category())
	if !ok {
		return zero, fmt.Errorf("unknown category %q", r.Category())
	}
	k, err := s.KeyOf(r)
	if err != nil {
		return zero, err
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &k.Table, Key: k.Attributes(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return zero, fmt.Errorf("read %s: %w", c.Name, err)
	}
	if out.Item == nil || !includeExpired && Expired(out.Item, s.now()) || AttrString(out.Item[AttrCategory]) != c.Name {
		return zero, ErrNotFound
	}
	return Decode[T](out.Item)
}

// EachOf calls fn, in sort-key order, with every unexpired record of a category in the partition
// vars name whose sort key is the category's own prefix followed by within.
func EachOf[T any](ctx context.Context, s *Store, category string, vars map[string]string, within string, fn func(T) error) error {
	return eachOf(ctx, s, category, vars, within, false, fn)
}

// EachStoredOf is EachOf reading items past their TTL too, for records whose facts must never be
// dropped for an expiry (the journal parts an act names).
func EachStoredOf[T any](ctx context.Context, s *Store, category string, vars map[string]string, within string, fn func(T) error) error {
	return eachOf(ctx, s, category, vars, within, true, fn)
}

func eachOf[T any](ctx context.Context, s *Store, category string, vars map[string]string, within string, includeExpired bool, fn func(T) error) error {
	c := datamap.MustLookup(category)
	pk, err := c.Partition("", vars)
	if err != nil {
		return fmt.Errorf("%s: %w", category, err)
	}
	return s.EachItem(ctx, QuerySpec{Logical: c.Location.Table, PK: pk, SKPrefix: c.SKPrefix() + within, IncludeExpired: includeExpired},
		func(it map[string]types.AttributeValue) error {
			v, err := Decode[T](it)
			if err != nil {
				return err
			}
			return fn(v)
		})
}

// partitionOf lists the items of one category in its partition.
func partitionOf[T any](ctx context.Context, s *Store, category string, vars map[string]string) ([]T, error) {
	c := datamap.MustLookup(category)
	pk, err := keyOf(c.Location.PK, vars)
	if err != nil {
		return nil, err
	}
	return queryAll[T](ctx, s, QuerySpec{Logical: c.Location.Table, PK: pk, SKPrefix: c.SKPrefix()})
}

// Account reads an account profile.
func (s *Store) Account(ctx context.Context, accountID string) (Account, error) {
	return getRecord[Account](ctx, s, datamap.AccountProfile, map[string]string{"account": accountID})
}

// AccountsByEmail finds the accounts whose profile email is this address (case-insensitive); at
// most one in practice, but the caller decides what several would mean.
func (s *Store) AccountsByEmail(ctx context.Context, email string) ([]Account, error) {
	ix := loc(datamap.AccountProfile).Indexes[0]
	pk, err := keyOf(ix.PK, map[string]string{"email": NormalizeEmail(email)})
	if err != nil {
		return nil, err
	}
	return queryAll[Account](ctx, s, QuerySpec{Logical: datamap.PlatformTable, Index: ix.Name, PK: pk})
}

// TeamMember reads one member of an account by JWT subject.
func (s *Store) TeamMember(ctx context.Context, accountID, sub string) (TeamMember, error) {
	return getRecord[TeamMember](ctx, s, datamap.TeamMember, map[string]string{"account": accountID, "member": sub})
}

// TeamMembers lists an account's members.
func (s *Store) TeamMembers(ctx context.Context, accountID string) ([]TeamMember, error) {
	return partitionOf[TeamMember](ctx, s, datamap.TeamMember, map[string]string{"account": accountID})
}

// Bot reads one bot of an account; a bot of another account is not found.
func (s *Store) Bot(ctx context.Context, accountID, botID string) (Bot, error) {
	return getRecord[Bot](ctx, s, datamap.Bot, map[string]string{"account": accountID, "bot": botID})
}

// Bots lists an account's bots.
func (s *Store) Bots(ctx context.Context, accountID string) ([]Bot, error) {
	return partitionOf[Bot](ctx, s, datamap.Bot, map[string]string{"account": accountID})
}

// BotsByName finds the bots, of any account, whose name is name once both are normalized
// (NormalizeName): how an end customer's mail, which names a bot and nothing else, finds it.
func (s *Store) BotsByName(ctx context.Context, name string) ([]Bot, error) {
	if NormalizeName(name) == "" {
		return nil, nil
	}
	ix := loc(datamap.Bot).Indexes[0]
	pk, err := keyOf(ix.PK, map[string]string{"botName": botNameKey(name)})
	if err != nil {
		return nil, err
	}
	return queryAll[Bot](ctx, s, QuerySpec{Logical: datamap.PlatformTable, Index: ix.Name, PK: pk})
}

// APITokens lists an account's API tokens.
func (s *Store) APITokens(ctx context.Context, accountID string) ([]APIToken, error) {
	return partitionOf[APIToken](ctx, s, datamap.APIToken, map[string]string{"account": accountID})
}

// Webhooks lists an account's outgoing webhooks.
func (s *Store) Webhooks(ctx context.Context, accountID string) ([]Webhook, error) {
	return partitionOf[Webhook](ctx, s, datamap.Webhook, map[string]string{"account": accountID})
}

// Connection reads a channel connection by its id alone (webhook routes carry only the id).
func (s *Store) Connection(ctx context.Context, connectionID string) (ChannelConnection, error) {
	return getRecord[ChannelConnection](ctx, s, datamap.ChannelConnection, map[string]string{"connection": connectionID})
}

// Connections lists an account's channel connections (GSI2), optionally of one bot.
func (s *Store) Connections(ctx context.Context, accountID, botID string) ([]ChannelConnection, error) {
	ix := loc(datamap.ChannelConnection).Indexes[1]
	pk, err := keyOf(ix.PK, map[string]string{"account": accountID})
	if err != nil {
		return nil, err
	}
	q := QuerySpec{Logical: datamap.PlatformTable, Index: ix.Name, PK: pk}
	if botID != "" {
		q.SKPrefix = botID + "#"
	}
	return queryAll[ChannelConnection](ctx, s, q)
}

// ConnectionsByChannelKey finds the connections a channel's own id names (a Slack team, a WhatsApp
// business account …): how revocation webhooks find what to wipe.
func (s *Store) ConnectionsByChannelKey(ctx context.Context, channel, channelKey string) ([]ChannelConnection, error) {
	ix := loc(datamap.ChannelConnection).Indexes[0]
	pk, err := keyOf(ix.PK, map[string]string{"channel": channel, "channelKey": channelKey})
	if err != nil {
		return nil, err
	}
	return queryAll[ChannelConnection](ctx, s, QuerySpec{Logical: datamap.PlatformTable, Index: ix.Name, PK: pk})
}

// ConnectionsByInstagramAccount finds the Instagram connections of an Instagram professional
// account id (ConnKeyInstagramAccountID).
func (s *Store) ConnectionsByInstagramAccount(ctx context.Context, igID string) ([]ChannelConnection, error) {
	return s.connectionsByKey(ctx, ConnKeyInstagramAccountID, igID)
}

// ConnectionsByMetaUser finds the connections a Meta user connected (ConnKeyMetaUserID, their
// app-scoped id): the pages whose admin removing the app Meta's deauthorize callback reports.
func (s *Store) ConnectionsByMetaUser(ctx context.Context, asid string) ([]ChannelConnection, error) {
	return s.connectionsByKey(ctx, ConnKeyMetaUserID, asid)
}

// PageConnections finds every Messenger and Instagram connection of a Facebook page (their
// ChannelKey is the page id), on any bot of any account.
func (s *Store) PageConnections(ctx context.Context, pageID string) ([]ChannelConnection, error) {
	if pageID == "" {
		return nil, nil
	}
	var all []ChannelConnection
	for _, ch := range []string{ChannelMessenger, ChannelInstagram} {
		cs, err := s.ConnectionsByChannelKey(ctx, ch, pageID)
		if err != nil {
			return nil, err
		}
		all = append(all, cs...)
	}
	return all, nil
}

// connectionsByKey finds the connections whose Keys hold kind=value, through their key items
// (GSI1). The connection itself has the last word: one whose Keys no longer hold the value (a key
// item a rewrite has not yet dropped) is not returned. An empty value finds nothing.
func (s *Store) connectionsByKey(ctx context.Context, kind, value string) ([]ChannelConnection, error) {
	if kind == "" || value == "" {
		return nil, nil
	}
	ix := loc(datamap.ConnectionKey).Indexes[0]
	pk, err := keyOf(ix.PK, map[string]string{"kind": kind, "value": value})
	if err != nil {
		return nil, err
	}
	keys, err := queryAll[ConnectionKey](ctx, s, QuerySpec{Logical: datamap.PlatformTable, Index: ix.Name, PK: pk})
	if err != nil {
		return nil, err
	}
	var out []ChannelConnection
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k.ConnectionID] {
			continue
		}
		seen[k.ConnectionID] = true
		c, err := s.Connection(ctx, k.ConnectionID)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if c.Keys[kind] == value {
			out = append(out, c)
		}
	}
	return out, nil
}

// EndUser reads an end-user profile by id.
func (s *Store) EndUser(ctx context.Context, endUserID string) (EndUser, error) {
	return getRecord[EndUser](ctx, s, datamap.EndUserProfile, map[string]string{"endUser": endUserID})
}

// EndUsersByFirstConversation lists one page of a bot's end users whose first conversation falls in
// [from, to] (the Privacy module's filters), oldest first.
func (s *Store) EndUsersByFirstConversation(ctx context.Context, botID string, from, to time.Time, q QuerySpec) (Page[EndUser], error) {
	ix := loc(datamap.EndUserProfile).Indexes[0]
	pk, err := keyOf(ix.PK, map[string]string{"bot": botID})
	if err != nil {
		return Page[EndUser]{}, err
	}
	q.Logical, q.Index, q.PK = datamap.PlatformTable, ix.Name, pk
	q.SKFrom = from.UTC().Format(KeyTime)
	q.SKTo = to.UTC().Format(KeyTime) + "#\U0010FFFF"
	return queryPage[EndUser](ctx, s, q)
}

// EndUsersByConnection lists the end users who came through one channel connection.
func (s *Store) EndUsersByConnection(ctx context.Context, connectionID string) ([]EndUser, error) {
	ix := loc(datamap.EndUserProfile).Indexes[1]
	pk, err := keyOf(ix.PK, map[string]string{"connection": connectionID})
	if err != nil {
		return nil, err
	}
	return queryAll[EndUser](ctx, s, QuerySpec{Logical: datamap.PlatformTable, Index: ix.Name, PK: pk})
}

// IdentitiesOf finds every end user, on any bot of any account, a channel knows by externalID (a
// Meta app-scoped id names one person across the platform).
func (s *Store) IdentitiesOf(ctx context.Context, channel, externalID string) ([]ChannelIdentity, error) {
	ix := loc(datamap.ChannelIdentity).Indexes[0]
	pk, err := keyOf(ix.PK, map[string]string{"channel": channel, "externalId": externalID})
	if err != nil {
		return nil, err
	}
	return queryAll[ChannelIdentity](ctx, s, QuerySpec{Logical: datamap.PlatformTable, Index: ix.Name, PK: pk})
}

// NameTokensWithPrefix finds a bot's end users having a name token that starts with prefix (already
// normalized by the caller with NormalizeName).
func (s *Store) NameTokensWithPrefix(ctx context.Context, botID, prefix string, q QuerySpec) (Page[NameToken], error) {
	ix := loc(datamap.NameToken).Indexes[0]
	pk, err := keyOf(ix.PK, map[string]string{"bot": botID})
	if err != nil {
		return Page[NameToken]{}, err
	}
	q.Logical, q.Index, q.PK, q.SKPrefix = datamap.PlatformTable, ix.Name, pk, prefix
	return queryPage[NameToken](ctx, s, q)
}

// NameTokensOf lists an end user's name tokens, from their own partition (the records the name
// index is built from).
func (s *Store) NameTokensOf(ctx context.Context, endUserID string) ([]NameToken, error) {
	return partitionOf[NameToken](ctx, s, datamap.NameToken, map[string]string{"endUser": endUserID})
}

// Identities lists the ids the channels know an end user by, from their own partition.
func (s *Store) Identities(ctx context.Context, endUserID string) ([]ChannelIdentity, error) {
	return partitionOf[ChannelIdentity](ctx, s, datamap.ChannelIdentity, map[string]string{"endUser": endUserID})
}

// Conversations lists an end user's conversations.
func (s *Store) Conversations(ctx context.Context, endUserID string) ([]Conversation, error) {
	return partitionOf[Conversation](ctx, s, datamap.Conversation, map[string]string{"endUser": endUserID})
}

// Messages lists one page of a conversation's messages, oldest first.
func (s *Store) Messages(ctx context.Context, conversationID string, q QuerySpec) (Page[Message], error) {
	pk, err := keyOf(loc(datamap.Message).PK, map[string]string{"conversation": conversationID})
	if err != nil {
		return Page[Message]{}, err
	}
	q.Logical, q.PK = datamap.PlatformTable, pk
	return queryPage[Message](ctx, s, q)
}

// InboxMessage reads one inbox message by id.
func (s *Store) InboxMessage(ctx context.Context, messageID string) (InboxMessage, error) {
	return getRecord[InboxMessage](ctx, s, datamap.InboxMessage, map[string]string{"message": messageID})
}

// InboxMessages lists an end user's inbox messages (GSI2).
func (s *Store) InboxMessages(ctx context.Context, endUserID string) ([]InboxMessage, error) {
	ix := loc(datamap.InboxMessage).Indexes[0]
	pk, err := keyOf(ix.PK, map[string]string{"endUser": endUserID})
	if err != nil {
		return nil, err
	}
	return queryAll[InboxMessage](ctx, s, QuerySpec{Logical: datamap.PlatformTable, Index: ix.Name, PK: pk})
}

// EndUserFiles lists the files an end user sent.
func (s *Store) EndUserFiles(ctx context.Context, endUserID string) ([]EndUserFile, error) {
	return partitionOf[EndUserFile](ctx, s, datamap.EndUserFile, map[string]string{"endUser": endUserID})
}

// ActivityLogs lists one page of an account's activity logs in [from, to], oldest first. Log ids
// are time-ordered, so the range is a key range.
func (s *Store) ActivityLogs(ctx context.Context, accountID string, from, to time.Time, q QuerySpec) (Page[ActivityLog], error) {
	pk, err := keyOf(loc(datamap.ActivityLog).PK, map[string]string{"account": accountID})
	if err != nil {
		return Page[ActivityLog]{}, err
	}
	q.Logical, q.PK = datamap.PlatformTable, pk
	if !from.IsZero() {
		q.SKFrom = IDLowerBound(from)
	}
	if !to.IsZero() {
		q.SKTo = IDUpperBound(to)
	}
	return queryPage[ActivityLog](ctx, s, q)
}

// Payments lists an account's payment records.
func (s *Store) Payments(ctx context.Context, accountID string) ([]Payment, error) {
	return partitionOf[Payment](ctx, s, datamap.Payment, map[string]string{"account": accountID})
}

// Consents lists an account's consents.
func (s *Store) Consents(ctx context.Context, accountID string) ([]Consent, error) {
	return partitionOf[Consent](ctx, s, datamap.Consent, map[string]string{"account": accountID})
}
