// Package scopetest is the tests' oracle for deletion scopes: from the records a test generated it
// computes, independently of the code under test, exactly which stored items and S3 objects a scope
// must reach, and it snapshots tables and buckets so an end state can be compared item by item.
package scopetest

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
)

// KeyString names a stored item: "table pk sk".
func KeyString(k platform.Key) string { return k.Table + " " + k.PK + " " + k.SK }

// Oracle knows the generated records.
type Oracle struct {
	store    *platform.Store
	records  []platform.Record
	endUsers map[string]platform.EndUser
	idents   map[string][]string // channel#externalId → end users
}

// New indexes the records.
func New(store *platform.Store, records []platform.Record) *Oracle {
	o := &Oracle{store: store, records: records, endUsers: map[string]platform.EndUser{}, idents: map[string][]string{}}
	for _, r := range records {
		switch v := r.(type) {
		case platform.EndUser:
			o.endUsers[v.ID] = v
		case platform.ChannelIdentity:
			o.idents[v.Channel+"#"+v.ExternalID] = append(o.idents[v.Channel+"#"+v.ExternalID], v.EndUserID)
		}
	}
	return o
}

// Holds says which account, bot or end user a test's legal holds keep; nil keeps nothing.
type Holds func(accountID, botID, endUserID string) bool

// Items returns the stored items (KeyString → category) the scope must reach, leaving out what held
// keeps.
func (o *Oracle) Items(ref platform.ScopeRef, held Holds) (map[string]string, error) {
	want := map[string]string{}
	for _, r := range o.records {
		if !o.reaches(ref, r, held) {
			continue
		}
		k, err := o.store.KeyOf(r)
		if err != nil {
			return nil, err
		}
		want[KeyString(k)] = r.Category()
	}
	return want, nil
}

func (o *Oracle) reaches(ref platform.ScopeRef, r platform.Record, held Holds) bool {
	c := datamap.MustLookup(r.Category())
	if !c.Reaches(ref.Kind) {
		return false
	}
	v := r.KeyVars()
	eu, hasEU := o.endUsers[v["endUser"]]
	if held != nil {
		bot := v["bot"]
		switch {
		case r.Category() != datamap.Bot && !connectionItem(r) && hasEU:
			if held(eu.AccountID, eu.BotID, eu.ID) {
				return false
			}
		case held(v["account"], bot, ""):
			return false
		default:
			// A bot or connection that held end users hang from is kept with them: it is the path by
			// which the deletion finishes once the hold is released.
			for _, u := range o.endUsers {
				if held(u.AccountID, u.BotID, u.ID) && u.AccountID == v["account"] &&
					(r.Category() == datamap.Bot && u.BotID == bot || connectionItem(r) && u.ConnectionID == v["connection"]) {
					return false
				}
			}
		}
	}
	switch ref.Kind {
	case datamap.ScopeAccount:
		return v["account"] == ref.AccountID
	case datamap.ScopeBot:
		return v["account"] == ref.AccountID && v["bot"] == ref.BotID
	case datamap.ScopeConnection:
		if connectionItem(r) {
			return v["connection"] == ref.ConnectionID && v["account"] == ref.AccountID
		}
		return hasEU && eu.ConnectionID == ref.ConnectionID && eu.AccountID == ref.AccountID
	case datamap.ScopeEndUserFilter:
		return hasEU && eu.AccountID == ref.AccountID && (ref.BotID == "" || eu.BotID == ref.BotID) &&
			!eu.FirstConversationAt.Before(ref.From) && !eu.FirstConversationAt.After(ref.To)
	case datamap.ScopeEndUser:
		return hasEU && eu.ID == ref.EndUserID && eu.AccountID == ref.AccountID && (ref.BotID == "" || eu.BotID == ref.BotID)
	case datamap.ScopeChannelIdentity:
		for _, id := range o.idents[ref.Channel+"#"+ref.ExternalID] {
			if id == v["endUser"] && (ref.AccountID == "" || eu.AccountID == ref.AccountID) {
				return true
			}
		}
		return false
	case datamap.ScopeInboxMessage:
		return v["message"] == ref.MessageID && v["account"] == ref.AccountID
	case datamap.ScopeActivityLogs:
		if len(ref.LogIDs) == 0 {
			l, ok := r.(platform.ActivityLog)
			return ok && l.AccountID == ref.AccountID && !l.At.Before(ref.From) && !l.At.After(ref.To)
		}
		for _, id := range ref.LogIDs {
			if v["log"] == id && v["account"] == ref.AccountID {
				return true
			}
		}
	}
	return false
}

// connectionItem reports whether r is a connection or one of its key items: both go with the
// connection and are kept with it.
func connectionItem(r platform.Record) bool {
	return r.Category() == datamap.ChannelConnection || r.Category() == datamap.ConnectionKey
}

// Objects returns which of the given object keys the scope must delete.
func (o *Oracle) Objects(ref platform.ScopeRef, keys []string, held Holds) map[string]bool {
	want := map[string]bool{}
	for _, k := range keys {
		// accounts/{account}/(files/…|bots/{bot}/users/{endUser}/(files|inbox/{message})/…)
		p := strings.Split(k, "/")
		if len(p) < 3 || p[0] != "accounts" {
			continue
		}
		acc := p[1]
		var bot, user, msg string
		if len(p) >= 6 && p[2] == "bots" && p[4] == "users" {
			bot, user = p[3], p[5]
			if len(p) >= 8 && p[6] == "inbox" {
				msg = p[7]
			}
		}
		if held != nil && held(acc, bot, user) {
			continue
		}
		eu, hasEU := o.endUsers[user]
		in := false
		switch ref.Kind {
		case datamap.ScopeAccount:
			in = acc == ref.AccountID
		case datamap.ScopeBot:
			in = acc == ref.AccountID && bot == ref.BotID
		case datamap.ScopeConnection, datamap.ScopeEndUserFilter, datamap.ScopeEndUser, datamap.ScopeChannelIdentity:
			in = hasEU && o.reaches(ref, eu, nil)
		case datamap.ScopeInboxMessage:
			in = acc == ref.AccountID && msg == ref.MessageID
		}
		if in {
			want[k] = true
		}
	}
	return want
}

// Snapshot is every item of some tables (KeyString → item) and every object key of some buckets.
type Snapshot struct {
	Items   map[string]map[string]types.AttributeValue
	Objects map[string]bool
}

// Scanner is what a snapshot reads with; a test may Scan.
type Scanner interface {
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// Lister lists objects.
type Lister interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// Take snapshots the tables and buckets.
func Take(ctx context.Context, db Scanner, tables []string, s3c Lister, buckets []string) (Snapshot, error) {
	snap := Snapshot{Items: map[string]map[string]types.AttributeValue{}, Objects: map[string]bool{}}
	for _, t := range tables {
		in := &dynamodb.ScanInput{TableName: aws.String(t), ConsistentRead: aws.Bool(true)}
		for {
			out, err := db.Scan(ctx, in)
			if err != nil {
				return snap, err
			}
			for _, it := range out.Items {
				snap.Items[KeyString(platform.Key{Table: t, PK: platform.AttrString(it[platform.AttrPK]), SK: platform.AttrString(it[platform.AttrSK])})] = it
			}
			if out.LastEvaluatedKey == nil {
				break
			}
			in.ExclusiveStartKey = out.LastEvaluatedKey
		}
	}
	for _, b := range buckets {
		in := &s3.ListObjectsV2Input{Bucket: aws.String(b)}
		for {
			out, err := s3c.ListObjectsV2(ctx, in)
			if err != nil {
				return snap, err
			}
			for _, o := range out.Contents {
				snap.Objects[b+"/"+aws.ToString(o.Key)] = true
			}
			if !aws.ToBool(out.IsTruncated) {
				break
			}
			in.ContinuationToken = out.NextContinuationToken
		}
	}
	return snap, nil
}

// Diff compares a snapshot taken after a deletion with the one before: every item and object in
// gone must be absent, every other one present and unchanged, except those changed allows (it gets
// the before and after items and returns an error to refuse the change). It returns one line per
// discrepancy, sorted.
func Diff(before, after Snapshot, goneItems map[string]string, goneObjects map[string]bool, changed func(key string, was, now map[string]types.AttributeValue) error) []string {
	var out []string
	for k, was := range before.Items {
		now, present := after.Items[k]
		_, shouldGo := goneItems[k]
		switch {
		case shouldGo && present:
			out = append(out, "left in scope: "+k)
		case !shouldGo && !present:
			out = append(out, "deleted outside the scope: "+k)
		case !shouldGo && !Equal(was, now):
			if changed == nil {
				out = append(out, "changed outside the scope: "+k)
			} else if err := changed(k, was, now); err != nil {
				out = append(out, fmt.Sprintf("changed: %s: %v", k, err))
			}
		}
	}
	for k := range after.Items {
		if _, ok := before.Items[k]; !ok {
			out = append(out, "appeared: "+k)
		}
	}
	for k := range before.Objects {
		key := k[strings.IndexByte(k, '/')+1:]
		present := after.Objects[k]
		switch {
		case goneObjects[key] && present:
			out = append(out, "object left in scope: "+k)
		case !goneObjects[key] && !present:
			out = append(out, "object deleted outside the scope: "+k)
		}
	}
	sort.Strings(out)
	return out
}

// Equal compares two items attribute by attribute.
func Equal(a, b map[string]types.AttributeValue) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !equalValue(v, w) {
			return false
		}
	}
	return true
}

func equalValue(a, b types.AttributeValue) bool {
	switch x := a.(type) {
	case *types.AttributeValueMemberS:
		y, ok := b.(*types.AttributeValueMemberS)
		return ok && x.Value == y.Value
	case *types.AttributeValueMemberN:
		y, ok := b.(*types.AttributeValueMemberN)
		return ok && x.Value == y.Value
	case *types.AttributeValueMemberBOOL:
		y, ok := b.(*types.AttributeValueMemberBOOL)
		return ok && x.Value == y.Value
	case *types.AttributeValueMemberNULL:
		_, ok := b.(*types.AttributeValueMemberNULL)
		return ok
	case *types.AttributeValueMemberSS:
		y, ok := b.(*types.AttributeValueMemberSS)
		if !ok || len(x.Value) != len(y.Value) {
			return false
		}
		xs, ys := append([]string{}, x.Value...), append([]string{}, y.Value...)
		sort.Strings(xs)
		sort.Strings(ys)
		for i := range xs {
			if xs[i] != ys[i] {
				return false
			}
		}
		return true
	case *types.AttributeValueMemberL:
		y, ok := b.(*types.AttributeValueMemberL)
		if !ok || len(x.Value) != len(y.Value) {
			return false
		}
		for i := range x.Value {
			if !equalValue(x.Value[i], y.Value[i]) {
				return false
			}
		}
		return true
	case *types.AttributeValueMemberM:
		y, ok := b.(*types.AttributeValueMemberM)
		return ok && Equal(x.Value, y.Value)
	case *types.AttributeValueMemberB:
		y, ok := b.(*types.AttributeValueMemberB)
		return ok && string(x.Value) == string(y.Value)
	}
	return false
}
