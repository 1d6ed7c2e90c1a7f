package erasure

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
)

// stage is one step of a plan. step does one bounded piece of work, advancing s.cp.Source and
// s.cp.Cursor, and returns finished once the stage has nothing left. Every deletion a step sends is
// confirmed before it returns, so the checkpoint after it is always safe to resume from.
type stage struct {
	name string
	step func(ctx context.Context, s *slice) (finished bool, err error)
}

// plan lists the stages of a scope, children before parents.
func (e *Engine) plan(ref platform.ScopeRef) ([]stage, error) {
	acc := ref.AccountID
	switch ref.Kind {
	case datamap.ScopeAccount:
		return []stage{
			{"held", guardHeld("", "")},
			{"consents", withdrawConsents},
			{"end users", users(accountBots, botEndUsers)},
			{"connection keys", connectionKeys(func(*slice) (platform.QuerySpec, bool) {
				pk, ok := partition(datamap.ChannelConnection, "GSI2", map[string]string{"account": acc})
				return platform.QuerySpec{Logical: datamap.PlatformTable, Index: "GSI2", PK: pk}, ok
			}, skipHeldConnections)},
			{"connections", keys(func(*slice) (platform.QuerySpec, bool) {
				pk, ok := partition(datamap.ChannelConnection, "GSI2", map[string]string{"account": acc})
				return platform.QuerySpec{Logical: datamap.PlatformTable, Index: "GSI2", PK: pk}, ok
			}, skipHeldConnections)},
			{"activity logs", keys(func(*slice) (platform.QuerySpec, bool) {
				pk, ok := partition(datamap.ActivityLog, "", map[string]string{"account": acc})
				return platform.QuerySpec{Logical: datamap.PlatformTable, PK: pk}, ok
			}, nil)},
			{"account files", objects(accountPrefix)},
			{"account", keys(func(*slice) (platform.QuerySpec, bool) {
				pk, ok := partition(datamap.AccountProfile, "", map[string]string{"account": acc})
				return platform.QuerySpec{Logical: datamap.PlatformTable, PK: pk}, ok
			}, func(ctx context.Context, s *slice, it map[string]types.AttributeValue) (bool, error) {
				if platform.AttrString(it[platform.AttrSK]) == datamap.MustLookup(datamap.AccountProfile).Location.SK {
					return false, nil // last of all, once nothing else of the account is left
				}
				return skipHeldBots(ctx, s, it)
			})},
			{"profile", item(func(ctx context.Context, s *slice) (string, platform.Key, bool, error) {
				k, ok := e.key(datamap.AccountProfile, map[string]string{"account": acc})
				return datamap.AccountProfile, k, ok, nil
			})},
		}, nil
	case datamap.ScopeBot:
		return []stage{
			{"held", guardHeld(ref.BotID, "")},
			{"end users", users(oneBot, botEndUsers)},
			{"connection keys", connectionKeys(func(*slice) (platform.QuerySpec, bool) {
				pk, ok := partition(datamap.ChannelConnection, "GSI2", map[string]string{"account": acc})
				return platform.QuerySpec{Logical: datamap.PlatformTable, Index: "GSI2", PK: pk, SKPrefix: ref.BotID + "#"}, ok && ref.BotID != ""
			}, skipHeldConnections)},
			{"connections", keys(func(*slice) (platform.QuerySpec, bool) {
				pk, ok := partition(datamap.ChannelConnection, "GSI2", map[string]string{"account": acc})
				return platform.QuerySpec{Logical: datamap.PlatformTable, Index: "GSI2", PK: pk, SKPrefix: ref.BotID + "#"}, ok && ref.BotID != ""
			}, skipHeldConnections)},
			{"bot files", objects(func(ctx context.Context, s *slice) (string, bool, error) {
				// The whole bot's prefix, unless a held end user's files are under it: then each end
				// user's own were deleted with them.
				p, err := s.pathsToHeld(ctx, acc)
				if err != nil || p.bots[ref.BotID] {
					return "", false, err
				}
				return "accounts/" + acc + "/bots/" + ref.BotID + "/", ref.BotID != "", nil
			})},
			{"bot", item(func(ctx context.Context, s *slice) (string, platform.Key, bool, error) {
				p, err := s.pathsToHeld(ctx, acc)
				if err != nil || p.bots[ref.BotID] {
					return "", platform.Key{}, false, err // it leads to held end users: kept with them
				}
				k, ok := e.key(datamap.Bot, map[string]string{"account": acc, "bot": ref.BotID})
				return datamap.Bot, k, ok, nil
			})},
		}, nil
	case datamap.ScopeConnection:
		return []stage{
			{"held", guardConnectionHeld},
			{"end users", users(oneConnection, connectionEndUsers)},
			{"connection keys", keys(func(*slice) (platform.QuerySpec, bool) {
				q, ok := keysOfConnection(ref.ConnectionID)
				return q, ok
			}, func(ctx context.Context, s *slice, it map[string]types.AttributeValue) (bool, error) {
				if platform.AttrString(it["accountId"]) != acc {
					return false, nil // another account's connection: not this scope's
				}
				p, err := s.pathsToHeld(ctx, acc)
				return !p.conns[ref.ConnectionID], err // kept with the connection held end users hang from
			})},
			{"connection", item(func(ctx context.Context, s *slice) (string, platform.Key, bool, error) {
				it, ok, err := s.getItem(ctx, datamap.ChannelConnection, map[string]string{"connection": ref.ConnectionID})
				if err != nil || !ok {
					return "", platform.Key{}, false, err
				}
				c, err := platform.Decode[platform.ChannelConnection](it)
				if err != nil || c.AccountID != acc {
					return "", platform.Key{}, false, err
				}
				if p, err := s.pathsToHeld(ctx, acc); err != nil || p.conns[c.ID] {
					return "", platform.Key{}, false, err // it leads to held end users: kept with them
				}
				k, err := e.store.KeyOf(c)
				return datamap.ChannelConnection, k, err == nil, err
			})},
		}, nil
	case datamap.ScopeEndUserFilter:
		return []stage{{"end users", users(filterBots, botEndUsers)}}, nil
	case datamap.ScopeEndUser:
		return []stage{{"end user", users(oneEndUser, singleEndUser)}}, nil
	case datamap.ScopeChannelIdentity:
		return []stage{{"end users", users(oneIdentity, identityEndUsers)}}, nil
	case datamap.ScopeInboxMessage:
		return []stage{
			{"attachments", objects(inboxPrefix)},
			{"inbox message", item(func(ctx context.Context, s *slice) (string, platform.Key, bool, error) {
				m, ok, err := s.inboxMessage(ctx)
				if !ok || err != nil {
					return "", platform.Key{}, false, err
				}
				k, err := e.store.KeyOf(m)
				return datamap.InboxMessage, k, err == nil, err
			})},
		}, nil
	case datamap.ScopeActivityLogs:
		return []stage{{"held", guardHeld("", "")}, {"activity logs", activityLogs}}, nil
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownScope, ref.Kind)
}

func ignoreNotFound(err error) error {
	if errors.Is(err, platform.ErrNotFound) {
		return nil
	}
	return err
}

// guardHeld ends the whole plan when a hold covers the account (or the given bot or end user): then
// nothing of the scope is touched.
func guardHeld(botID, endUserID string) func(ctx context.Context, s *slice) (bool, error) {
	return func(ctx context.Context, s *slice) (bool, error) {
		held, err := s.held(ctx, s.ref.AccountID, botID, endUserID)
		if err != nil {
			return false, err
		}
		if held {
			s.cp.Stage = 1 << 30 // past every stage: done, with the hold recorded
		}
		return true, nil
	}
}

func guardConnectionHeld(ctx context.Context, s *slice) (bool, error) {
	c, err := s.e.store.Connection(ctx, s.ref.ConnectionID)
	if err != nil {
		return true, ignoreNotFound(err)
	}
	return guardHeld(c.BotID, "")(ctx, s)
}

// withdrawConsents records, when an account is deleted, the withdrawal of its consents: they are
// kept, now with a TTL 5 years after the withdrawal.
func withdrawConsents(ctx context.Context, s *slice) (bool, error) {
	cs, err := s.e.store.Consents(ctx, s.ref.AccountID)
	if err != nil {
		return false, err
	}
	now := s.e.opts.Now().UTC()
	for _, c := range cs {
		if s.dry {
			break // a count writes nothing
		}
		if c.WithdrawnAt != nil {
			continue
		}
		c.WithdrawnAt = &now
		item, err := platform.Encode(c, s.e.store.Policy())
		if err != nil {
			return false, err
		}
		_, err = s.e.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.e.store.Table(datamap.PlatformTable)), Item: item,
			ConditionExpression: aws.String("attribute_exists(pk) AND attribute_not_exists(withdrawnAt)")})
		var cf *types.ConditionalCheckFailedException
		if err != nil && !errors.As(err, &cf) {
			return false, fmt.Errorf("record consent withdrawal: %w", err)
		}
		if err == nil {
			s.cp.Withdrawn++
		}
	}
	return true, nil
}

// keys deletes every item a query finds (filtered), one page per step.
func keys(query func(*slice) (platform.QuerySpec, bool), keep func(context.Context, *slice, map[string]types.AttributeValue) (bool, error)) func(context.Context, *slice) (bool, error) {
	return func(ctx context.Context, s *slice) (bool, error) {
		q, ok := query(s)
		if !ok {
			return true, nil
		}
		q.Limit = s.e.opts.PageSize * 10
		q.Start = platform.PositionFrom(s.cp.Cursor)
		q.IncludeExpired, q.Projection = true, keyAttrs
		items, next, err := s.e.store.QueryItems(ctx, q)
		if err != nil {
			return false, err
		}
		var wg sync.WaitGroup
		for _, it := range items {
			if keep != nil {
				del, err := keep(ctx, s, it)
				if err != nil {
					return false, err
				}
				if !del {
					continue
				}
			}
			cat := platform.AttrString(it[platform.AttrCategory])
			if err := assertDeletable(cat); err != nil {
				return false, err
			}
			if err := s.send(ctx, cat, s.keyOfItem(q.Logical, it), &wg, it); err != nil {
				return false, err
			}
		}
		if err := wait(ctx, &wg); err != nil {
			return false, err
		}
		s.cp.Cursor = platform.PositionStrings(next)
		return next == nil, nil
	}
}

// keysOfConnection is the query of a connection's key items (its other channel ids), in its own
// partition; ok is false without a connection id.
func keysOfConnection(connectionID string) (platform.QuerySpec, bool) {
	pk, ok := partition(datamap.ConnectionKey, "", map[string]string{"connection": connectionID})
	return platform.QuerySpec{Logical: datamap.PlatformTable, PK: pk, SKPrefix: datamap.MustLookup(datamap.ConnectionKey).SKPrefix()}, ok
}

// connectionKeys deletes the key items of the connections a query lists (those keep lets go), one
// page of connections per step. It runs before the connections' own stage: the connections are
// how their keys are found, so a deletion cut short between the two can still find them.
func connectionKeys(query func(*slice) (platform.QuerySpec, bool), keep func(context.Context, *slice, map[string]types.AttributeValue) (bool, error)) func(context.Context, *slice) (bool, error) {
	return func(ctx context.Context, s *slice) (bool, error) {
		q, ok := query(s)
		if !ok {
			return true, nil
		}
		q.Limit = s.e.opts.PageSize
		q.Start = platform.PositionFrom(s.cp.Cursor)
		q.IncludeExpired, q.Projection = true, keyAttrs
		conns, next, err := s.e.store.QueryItems(ctx, q)
		if err != nil {
			return false, err
		}
		var wg sync.WaitGroup
		for _, c := range conns {
			del, err := keep(ctx, s, c)
			if err != nil {
				return false, err
			}
			if !del {
				continue
			}
			kq, ok := keysOfConnection(platform.AttrString(c["connectionId"]))
			if !ok {
				continue
			}
			kq.IncludeExpired = true
			err = s.e.store.EachItem(ctx, kq, func(it map[string]types.AttributeValue) error {
				cat := platform.AttrString(it[platform.AttrCategory])
				if err := assertDeletable(cat); err != nil {
					return err
				}
				return s.send(ctx, cat, s.keyOfItem(kq.Logical, it), &wg, it)
			})
			if err != nil {
				return false, err
			}
		}
		if err := wait(ctx, &wg); err != nil {
			return false, err
		}
		s.cp.Cursor = platform.PositionStrings(next)
		return next == nil, nil
	}
}

// skipHeldBots keeps the bot records and connections that lead to held data (a held bot, or a bot
// with a held end user); the hold itself was recorded when its end users were skipped.
func skipHeldBots(ctx context.Context, s *slice, it map[string]types.AttributeValue) (bool, error) {
	bot := platform.AttrString(it["botId"])
	if bot == "" {
		return true, nil
	}
	p, err := s.pathsToHeld(ctx, s.ref.AccountID)
	return !p.bots[bot], err
}

// skipHeldConnections keeps the connections of a held bot and those held end users came through.
func skipHeldConnections(ctx context.Context, s *slice, it map[string]types.AttributeValue) (bool, error) {
	p, err := s.pathsToHeld(ctx, s.ref.AccountID)
	if err != nil || p.conns[platform.AttrString(it["connectionId"])] {
		return false, err
	}
	held, err := s.held(ctx, s.ref.AccountID, platform.AttrString(it["botId"]), "")
	return !held, err
}

// item deletes one item.
func item(find func(context.Context, *slice) (string, platform.Key, bool, error)) func(context.Context, *slice) (bool, error) {
	return func(ctx context.Context, s *slice) (bool, error) {
		cat, k, ok, err := find(ctx, s)
		if err != nil || !ok {
			return err == nil, err
		}
		if err := assertDeletable(cat); err != nil {
			return false, err
		}
		out, err := s.e.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &k.Table, Key: k.Attributes(), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return false, err
		}
		if out.Item == nil {
			return true, nil // already gone
		}
		var wg sync.WaitGroup
		if err := s.send(ctx, cat, k, &wg, out.Item); err != nil {
			return false, err
		}
		return true, wait(ctx, &wg)
	}
}

// keyAttrs are what the keys stage reads of an account's items: enough to keep held paths and name
// the people whose data goes.
var keyAttrs = []string{"accountId", "botId", "connectionId", "sub", "fullName", "actorSub", "actorName"}

func (s *slice) inboxMessage(ctx context.Context) (platform.InboxMessage, bool, error) {
	it, ok, err := s.getItem(ctx, datamap.InboxMessage, map[string]string{"message": s.ref.MessageID})
	if err != nil || !ok {
		return platform.InboxMessage{}, false, err
	}
	m, err := platform.Decode[platform.InboxMessage](it)
	if err != nil || m.AccountID != s.ref.AccountID || (s.ref.BotID != "" && m.BotID != s.ref.BotID) {
		return platform.InboxMessage{}, false, err
	}
	held, err := s.held(ctx, m.AccountID, m.BotID, m.EndUserID)
	if err != nil || held {
		return platform.InboxMessage{}, false, err
	}
	return m, true, nil
}

func inboxPrefix(ctx context.Context, s *slice) (string, bool, error) {
	m, ok, err := s.inboxMessage(ctx)
	if !ok || err != nil {
		return "", false, err
	}
	p, err := datamap.Fill(datamap.MustLookup(datamap.InboxMessage).Location.Prefix, m.KeyVars())
	return p, err == nil, err
}

// accountPrefix is every object of the account — also files whose records already expired — unless
// a hold keeps some of them; then only the account's own files.
func accountPrefix(ctx context.Context, s *slice) (string, bool, error) {
	hs, err := s.activeHolds(ctx, s.ref.AccountID)
	if err != nil {
		return "", false, err
	}
	if len(hs) > 0 {
		return "accounts/" + s.ref.AccountID + "/files/", true, nil
	}
	return "accounts/" + s.ref.AccountID + "/", true, nil
}

// activityLogs deletes the selected log entries (ids) or a date range of them.
func activityLogs(ctx context.Context, s *slice) (bool, error) {
	if len(s.ref.LogIDs) == 0 {
		pk, ok := partition(datamap.ActivityLog, "", map[string]string{"account": s.ref.AccountID})
		if !ok {
			return true, nil // no account: reaches nothing
		}
		q := platform.QuerySpec{Logical: datamap.PlatformTable, PK: pk}
		if !s.ref.From.IsZero() {
			q.SKFrom = platform.IDLowerBound(s.ref.From)
		}
		if !s.ref.To.IsZero() {
			q.SKTo = platform.IDUpperBound(s.ref.To)
		}
		if q.SKFrom == "" && q.SKTo == "" {
			return true, errors.New("activity-log deletion needs ids or a date range")
		}
		return keys(func(*slice) (platform.QuerySpec, bool) { return q, true }, nil)(ctx, s)
	}
	table := s.e.store.Table(datamap.PlatformTable)
	pk, ok := partition(datamap.ActivityLog, "", map[string]string{"account": s.ref.AccountID})
	if !ok {
		return true, nil // no account: reaches nothing
	}
	var wg sync.WaitGroup
	for _, id := range s.ref.LogIDs {
		if strings.ContainsAny(id, "#") || id == "" {
			continue // not an id of ours: reaches nothing
		}
		k := platform.Key{Table: table, PK: pk, SK: id}
		out, err := s.e.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: k.Attributes(), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return false, err
		}
		if out.Item == nil || platform.AttrString(out.Item[platform.AttrCategory]) != datamap.ActivityLog {
			continue
		}
		if err := s.send(ctx, datamap.ActivityLog, k, &wg, out.Item); err != nil {
			return false, err
		}
	}
	return true, wait(ctx, &wg)
}

// partition is a partition key filled from the data map's pattern of a category (of its table,
// or of one of its indexes); ok is false when a value is missing: an empty id reaches nothing.
func partition(category, index string, vars map[string]string) (string, bool) {
	pk, err := datamap.MustLookup(category).Partition(index, vars)
	return pk, err == nil
}

// key is the platform-table key of the item of a category that vars name, from the data map's
// patterns; ok is false when a value is missing.
func (e *Engine) key(category string, vars map[string]string) (platform.Key, bool) {
	c := datamap.MustLookup(category)
	pk, err := c.Partition("", vars)
	if err != nil {
		return platform.Key{}, false
	}
	sk, err := c.SortKey(vars)
	if err != nil {
		return platform.Key{}, false
	}
	return platform.Key{Table: e.store.Table(c.Location.Table), PK: pk, SK: sk}, true
}
