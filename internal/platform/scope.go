package platform

import (
	"context"
	"fmt"
	"time"

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
// It reads only: the erasure engine decides what to do with each target. Kept categories (payments,
// consents) live in partitions no scope walks, so they can never be handed out.
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
		u, err := s.EndUser(ctx, ref.EndUserID)
		if err != nil || u.AccountID != ref.AccountID || (ref.BotID != "" && u.BotID != ref.BotID) {
			return nil // nothing of this account to reach
		}
		return w.endUser(ctx, u.AccountID, u.BotID, u.ID)
	case datamap.ScopeChannelIdentity:
		ids, err := s.IdentitiesOf(ctx, ref.Channel, ref.ExternalID)
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, id := range ids {
			if seen[id.EndUserID] || (ref.AccountID != "" && id.AccountID != ref.AccountID) {
				continue
			}
			seen[id.EndUserID] = true
			if err := w.endUser(ctx, id.AccountID, id.BotID, id.EndUserID); err != nil {
				return err
			}
		}
		return nil
	case datamap.ScopeInboxMessage:
		m, err := s.InboxMessage(ctx, ref.MessageID)
		if err != nil || m.AccountID != ref.AccountID || (ref.BotID != "" && m.BotID != ref.BotID) {
			return nil
		}
		return w.inboxMessage(ctx, m)
	case datamap.ScopeActivityLogs:
		return w.logs(ctx, ref)
	}
	return fmt.Errorf("unknown scope %q", ref.Kind)
}

type walker struct {
	s  *Store
	fn func(Target) error
}

func (w walker) item(it map[string]types.AttributeValue, logical string) error {
	return w.fn(Target{
		Category: str(it[AttrCategory]),
		Key:      Key{Table: w.s.tables[logical], PK: str(it[AttrPK]), SK: str(it[AttrSK])},
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

func str(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

func (w walker) account(ctx context.Context, accountID string) error {
	pk, err := keyOf(loc(datamap.AccountProfile).PK, map[string]string{"account": accountID})
	if err != nil {
		return err
	}
	var bots []string
	err = w.s.EachItem(ctx, QuerySpec{Logical: datamap.PlatformTable, PK: pk}, func(it map[string]types.AttributeValue) error {
		if str(it[AttrCategory]) == datamap.Bot {
			bots = append(bots, str(it["botId"]))
		}
		return w.item(it, datamap.PlatformTable)
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
	l := loc(datamap.Bot)
	vars := map[string]string{"account": accountID, "bot": botID}
	pk, err := keyOf(l.PK, vars)
	if err != nil {
		return err
	}
	sk, err := keyOf(l.SK, vars)
	if err != nil {
		return err
	}
	if _, err := w.s.Bot(ctx, accountID, botID); err != nil {
		return nil // not this account's bot: nothing reached
	}
	if err := w.fn(Target{Category: datamap.Bot, Key: Key{Table: w.s.tables[l.Table], PK: pk, SK: sk}}); err != nil {
		return err
	}
	if err := w.connections(ctx, accountID, botID); err != nil {
		return err
	}
	return w.endUsersOfBot(ctx, accountID, botID, time.Time{}, time.Time{})
}

func (w walker) connections(ctx context.Context, accountID, botID string) error {
	conns, err := w.s.Connections(ctx, accountID, botID)
	if err != nil {
		return err
	}
	for _, c := range conns {
		k, err := w.s.KeyOf(c)
		if err != nil {
			return err
		}
		if err := w.fn(Target{Category: datamap.ChannelConnection, Key: k}); err != nil {
			return err
		}
	}
	return nil
}

func (w walker) connection(ctx context.Context, accountID, connectionID string) error {
	c, err := w.s.Connection(ctx, connectionID)
	if err != nil || c.AccountID != accountID {
		return nil
	}
	k, err := w.s.KeyOf(c)
	if err != nil {
		return err
	}
	if err := w.fn(Target{Category: datamap.ChannelConnection, Key: k}); err != nil {
		return err
	}
	users, err := w.s.EndUsersByConnection(ctx, connectionID)
	if err != nil {
		return err
	}
	for _, u := range users {
		if err := w.endUser(ctx, u.AccountID, u.BotID, u.ID); err != nil {
			return err
		}
	}
	return nil
}

func (w walker) filter(ctx context.Context, ref ScopeRef) error {
	bots := []string{ref.BotID}
	if ref.BotID == "" {
		all, err := w.s.Bots(ctx, ref.AccountID)
		if err != nil {
			return err
		}
		bots = bots[:0]
		for _, b := range all {
			bots = append(bots, b.ID)
		}
	} else if _, err := w.s.Bot(ctx, ref.AccountID, ref.BotID); err != nil {
		return nil
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
	if to.IsZero() {
		to = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	q := QuerySpec{}
	for {
		page, err := w.s.EndUsersByFirstConversation(ctx, botID, from, to, q)
		if err != nil {
			return err
		}
		for _, u := range page.Items {
			if u.AccountID != accountID {
				continue
			}
			if err := w.endUser(ctx, accountID, botID, u.ID); err != nil {
				return err
			}
		}
		if page.Next == nil {
			return nil
		}
		q.Start = page.Next
	}
}

// endUser walks one end user: their partition (profile, identities, name tokens, conversation
// headers, files, contacts, tags, notes), each conversation's messages, their inbox messages, and
// their objects in S3.
func (w walker) endUser(ctx context.Context, accountID, botID, endUserID string) error {
	pk, err := keyOf(loc(datamap.EndUserProfile).PK, map[string]string{"endUser": endUserID})
	if err != nil {
		return err
	}
	var convs []string
	err = w.s.EachItem(ctx, QuerySpec{Logical: datamap.PlatformTable, PK: pk}, func(it map[string]types.AttributeValue) error {
		if str(it[AttrCategory]) == datamap.Conversation {
			convs = append(convs, str(it["conversationId"]))
		}
		return w.item(it, datamap.PlatformTable)
	})
	if err != nil {
		return err
	}
	for _, c := range convs {
		mpk, err := keyOf(loc(datamap.Message).PK, map[string]string{"conversation": c})
		if err != nil {
			return err
		}
		if err := w.s.EachItem(ctx, QuerySpec{Logical: datamap.PlatformTable, PK: mpk}, func(it map[string]types.AttributeValue) error {
			return w.item(it, datamap.PlatformTable)
		}); err != nil {
			return err
		}
	}
	inbox, err := w.s.InboxMessages(ctx, endUserID)
	if err != nil {
		return err
	}
	for _, m := range inbox {
		if err := w.inboxMessage(ctx, m); err != nil {
			return err
		}
	}
	return w.objects(datamap.EndUserFile, map[string]string{"account": accountID, "bot": botID, "endUser": endUserID})
}

func (w walker) inboxMessage(_ context.Context, m InboxMessage) error {
	k, err := w.s.KeyOf(m)
	if err != nil {
		return err
	}
	if err := w.fn(Target{Category: datamap.InboxMessage, Key: k}); err != nil {
		return err
	}
	return w.objects(datamap.InboxMessage, m.KeyVars())
}

func (w walker) logs(ctx context.Context, ref ScopeRef) error {
	if len(ref.LogIDs) > 0 {
		for _, id := range ref.LogIDs {
			l, err := getRecord[ActivityLog](ctx, w.s, datamap.ActivityLog, map[string]string{"account": ref.AccountID, "log": id})
			if err != nil {
				continue // unknown or another account's id reaches nothing
			}
			k, err := w.s.KeyOf(l)
			if err != nil {
				return err
			}
			if err := w.fn(Target{Category: datamap.ActivityLog, Key: k}); err != nil {
				return err
			}
		}
		return nil
	}
	q := QuerySpec{}
	for {
		page, err := w.s.ActivityLogs(ctx, ref.AccountID, ref.From, ref.To, q)
		if err != nil {
			return err
		}
		for _, l := range page.Items {
			k, err := w.s.KeyOf(l)
			if err != nil {
				return err
			}
			if err := w.fn(Target{Category: datamap.ActivityLog, Key: k}); err != nil {
				return err
			}
		}
		if page.Next == nil {
			return nil
		}
		q.Start = page.Next
	}
}
