package platform

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
)

// ScopeRef names what one deletion request reaches (SPEC §3).
type ScopeRef struct {
	Kind         datamap.Scope
	AccountID    string
	BotID        string // bot scope, one end user, Privacy filter of one bot ("" = all bots)
	ConnectionID string
	EndUserID    string
	Channel      string // channel identity scope: the identity's channel (meta_asid …)
	ExternalID   string
	MessageID    string    // inbox message
	From, To     time.Time // Privacy filter on first conversation; activity-log range
	LogIDs       []string  // selected activity-log entries
}

// Target is one thing a scope reaches: a stored item, or every S3 object under a prefix.
type Target struct {
	Category string
	Key      Key    // for items
	Bucket   string // for objects: logical bucket id
	Prefix   string
}

// IsObjects reports whether the target is S3 objects rather than an item.
func (t Target) IsObjects() bool { return t.Prefix != "" }

// Walk calls fn with every item and S3 prefix the scope reaches, found with GetItem and Query alone.
// It reads only: the erasure engine decides what to do with each target. Unlike the readers it also
// hands out items whose TTL has passed but that are still stored: they are still data to destroy.
// Kept categories (payments, consents) live in partitions no scope walks, so they are never handed out.
func (s *Store) Walk(ctx context.Context, ref ScopeRef, fn func(Target) error) error {
	w := walker{s: s, fn: fn}
	switch ref.Kind {
	case datamap.ScopeAccount:
		return w.account(ctx, ref.AccountID)
	case datamap.ScopeBot:
		return w.bot(ctx, ref.AccountID, ref.BotID)
	case datamap.ScopeConnection:
		return w.connection(ctx, ref.AccountID, ref.ConnectionID)
	case datamap.ScopeEndUserFilter:
		return w.filter(ctx, ref)
	case datamap.ScopeEndUser:
		u, ok, err := w.get(ctx, "U#"+ref.EndUserID, "PROFILE")
		if err != nil || !ok || AttrString(u["accountId"]) != ref.AccountID || (ref.BotID != "" && AttrString(u["botId"]) != ref.BotID) {
			return err // nothing of this account to reach
		}
		return w.endUser(ctx, ref.AccountID, AttrString(u["botId"]), ref.EndUserID)
	case datamap.ScopeChannelIdentity:
		seen := map[string]bool{}
		return w.each(ctx, QuerySpec{Index: "GSI1", PK: "IDENT#" + ref.Channel + "#" + ref.ExternalID}, func(it map[string]types.AttributeValue) error {
			acc, eu := AttrString(it["accountId"]), AttrString(it["endUserId"])
			if seen[eu] || (ref.AccountID != "" && acc != ref.AccountID) {
				return nil
			}
			seen[eu] = true
			return w.endUser(ctx, acc, AttrString(it["botId"]), eu)
		})
	case datamap.ScopeInboxMessage:
		m, ok, err := w.get(ctx, "I#"+ref.MessageID, "MSG")
		if err != nil || !ok || AttrString(m["accountId"]) != ref.AccountID || (ref.BotID != "" && AttrString(m["botId"]) != ref.BotID) {
			return err
		}
		return w.inboxMessage(m)
	case datamap.ScopeActivityLogs:
		return w.logs(ctx, ref)
	}
	return fmt.Errorf("unknown scope %q", ref.Kind)
}

type walker struct {
	s  *Store
	fn func(Target) error
}

// each runs a query of the platform table to its end, expired items included.
func (w walker) each(ctx context.Context, q QuerySpec, fn func(map[string]types.AttributeValue) error) error {
	q.Logical, q.IncludeExpired = datamap.PlatformTable, true
	return w.s.EachItem(ctx, q, fn)
}

// get reads one item of the platform table, expired or not.
func (w walker) get(ctx context.Context, pk, sk string) (map[string]types.AttributeValue, bool, error) {
	out, err := w.s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(w.s.tables[datamap.PlatformTable]),
		Key: Key{PK: pk, SK: sk}.Attributes(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, false, err
	}
	return out.Item, out.Item != nil, nil
}

func (w walker) item(it map[string]types.AttributeValue) error {
	return w.fn(Target{
		Category: AttrString(it[AttrCategory]),
		Key:      Key{Table: w.s.tables[datamap.PlatformTable], PK: AttrString(it[AttrPK]), SK: AttrString(it[AttrSK])},
	})
}

func (w walker) objects(category string, vars map[string]string) error {
	l := loc(category)
	p, err := datamap.Fill(l.Prefix, vars)
	if err != nil {
		return err
	}
	return w.fn(Target{Category: category, Bucket: l.Bucket, Prefix: p})
}

// AttrString is the value of a string attribute, "" for any other or a missing one.
func AttrString(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

func (w walker) account(ctx context.Context, accountID string) error {
	if accountID == "" {
		return nil
	}
	var bots []string
	err := w.each(ctx, QuerySpec{PK: "A#" + accountID}, func(it map[string]types.AttributeValue) error {
		if AttrString(it[AttrCategory]) == datamap.Bot {
			bots = append(bots, AttrString(it["botId"]))
		}
		return w.item(it)
	})
	if err != nil {
		return err
	}
	if err := w.objects(datamap.AccountFile, map[string]string{"account": accountID}); err != nil {
		return err
	}
	if err := w.logs(ctx, ScopeRef{AccountID: accountID}); err != nil {
		return err
	}
	if err := w.connections(ctx, accountID, ""); err != nil {
		return err
	}
	for _, b := range bots {
		if err := w.endUsersOfBot(ctx, accountID, b, time.Time{}, time.Time{}); err != nil {
			return err
		}
	}
	return nil
}

func (w walker) bot(ctx context.Context, accountID, botID string) error {
	b, ok, err := w.get(ctx, "A#"+accountID, "BOT#"+botID)
	if err != nil || !ok || accountID == "" || botID == "" {
		return err // not this account's bot: nothing reached
	}
	if err := w.item(b); err != nil {
		return err
	}
	if err := w.connections(ctx, accountID, botID); err != nil {
		return err
	}
	return w.endUsersOfBot(ctx, accountID, botID, time.Time{}, time.Time{})
}

func (w walker) connections(ctx context.Context, accountID, botID string) error {
	q := QuerySpec{Index: "GSI2", PK: "A#" + accountID + "#CONN"}
	if botID != "" {
		q.SKPrefix = botID + "#"
	}
	return w.each(ctx, q, func(c map[string]types.AttributeValue) error {
		if err := w.item(c); err != nil {
			return err
		}
		return w.connectionKeys(ctx, AttrString(c["connectionId"]))
	})
}

// connectionKeys walks the key items in a connection's partition (its other channel ids).
func (w walker) connectionKeys(ctx context.Context, connectionID string) error {
	if connectionID == "" {
		return nil
	}
	c := datamap.MustLookup(datamap.ConnectionKey)
	pk, err := c.Partition("", map[string]string{"connection": connectionID})
	if err != nil {
		return err
	}
	return w.each(ctx, QuerySpec{PK: pk, SKPrefix: c.SKPrefix()}, w.item)
}

func (w walker) connection(ctx context.Context, accountID, connectionID string) error {
	c, ok, err := w.get(ctx, "C#"+connectionID, "CONN")
	if err != nil || !ok || AttrString(c["accountId"]) != accountID {
		return err
	}
	if err := w.item(c); err != nil {
		return err
	}
	if err := w.connectionKeys(ctx, connectionID); err != nil {
		return err
	}
	return w.each(ctx, QuerySpec{Index: "GSI2", PK: "CONNU#" + connectionID}, func(u map[string]types.AttributeValue) error {
		if AttrString(u["accountId"]) != accountID {
			return nil
		}
		return w.endUser(ctx, accountID, AttrString(u["botId"]), AttrString(u["endUserId"]))
	})
}

func (w walker) filter(ctx context.Context, ref ScopeRef) error {
	var bots []string
	if ref.BotID != "" {
		if _, ok, err := w.get(ctx, "A#"+ref.AccountID, "BOT#"+ref.BotID); err != nil || !ok {
			return err
		}
		bots = []string{ref.BotID}
	} else {
		err := w.each(ctx, QuerySpec{PK: "A#" + ref.AccountID, SKPrefix: "BOT#"}, func(it map[string]types.AttributeValue) error {
			bots = append(bots, AttrString(it["botId"]))
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, b := range bots {
		if err := w.endUsersOfBot(ctx, ref.AccountID, b, ref.From, ref.To); err != nil {
			return err
		}
	}
	return nil
}

// endUsersOfBot walks every end user of a bot whose first conversation is in [from, to] (zero times:
// unbounded).
func (w walker) endUsersOfBot(ctx context.Context, accountID, botID string, from, to time.Time) error {
	q := QuerySpec{Index: "GSI1", PK: "BOTU#" + botID, SKFrom: from.UTC().Format(KeyTime)}
	if !to.IsZero() {
		q.SKTo = to.UTC().Format(KeyTime) + "#\U0010FFFF"
	}
	return w.each(ctx, q, func(u map[string]types.AttributeValue) error {
		if AttrString(u["accountId"]) != accountID {
			return nil
		}
		return w.endUser(ctx, accountID, botID, AttrString(u["endUserId"]))
	})
}

// endUser walks one end user: their partition (profile, identities, name tokens, conversation
// headers, files, contacts, tags, notes), each conversation's messages, their inbox messages, and
// their objects in S3.
func (w walker) endUser(ctx context.Context, accountID, botID, endUserID string) error {
	if endUserID == "" {
		return nil
	}
	var convs []string
	err := w.each(ctx, QuerySpec{PK: "U#" + endUserID}, func(it map[string]types.AttributeValue) error {
		if AttrString(it[AttrCategory]) == datamap.Conversation {
			convs = append(convs, AttrString(it["conversationId"]))
		}
		return w.item(it)
	})
	if err != nil {
		return err
	}
	for _, c := range convs {
		if err := w.each(ctx, QuerySpec{PK: "V#" + c}, w.item); err != nil {
			return err
		}
	}
	if err := w.each(ctx, QuerySpec{Index: "GSI2", PK: "INBOX#" + endUserID}, w.inboxMessage); err != nil {
		return err
	}
	return w.objects(datamap.EndUserFile, map[string]string{"account": accountID, "bot": botID, "endUser": endUserID})
}

func (w walker) inboxMessage(m map[string]types.AttributeValue) error {
	if err := w.item(m); err != nil {
		return err
	}
	return w.objects(datamap.InboxMessage, map[string]string{"account": AttrString(m["accountId"]), "bot": AttrString(m["botId"]),
		"endUser": AttrString(m["endUserId"]), "message": AttrString(m["messageId"])})
}

func (w walker) logs(ctx context.Context, ref ScopeRef) error {
	if ref.AccountID == "" {
		return nil
	}
	if len(ref.LogIDs) > 0 {
		for _, id := range ref.LogIDs {
			if id == "" {
				continue
			}
			l, ok, err := w.get(ctx, "L#"+ref.AccountID, id)
			if err != nil {
				return err
			}
			if ok && AttrString(l[AttrCategory]) == datamap.ActivityLog {
				if err := w.item(l); err != nil {
					return err
				}
			}
		}
		return nil
	}
	q := QuerySpec{PK: "L#" + ref.AccountID}
	if !ref.From.IsZero() {
		q.SKFrom = IDLowerBound(ref.From)
	}
	if !ref.To.IsZero() {
		q.SKTo = IDUpperBound(ref.To)
	}
	return w.each(ctx, q, w.item)
}
