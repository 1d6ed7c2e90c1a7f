package platform

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/bulkwrite"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/lerr"
)

// Attribute names every stored item carries besides its own fields.
const (
	AttrPK        = "pk"
	AttrSK        = "sk"
	AttrCategory  = "cat"
	AttrExpiresAt = "expiresAt" // the TTL attribute enabled on the tables in template.yaml
)

// ErrNotFound is returned when an item does not exist, has expired, or belongs to another account.
// It is EINTERNAL: each edge that can meet it says what is missing ("no such bot"); met unhandled it
// is a broken reference of Lethe's own, answered 500 (and Internal in a task).
var ErrNotFound = lerr.New(lerr.EINTERNAL, "not found")

// DB is the part of the DynamoDB client the store uses; *dynamodb.Client satisfies it. It has no
// Scan on purpose: every request scope is reachable by GetItem and Query, and this makes it so.
type DB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

// Tables maps the logical ids of template.yaml (datamap.PlatformTable …) to physical table names.
type Tables map[string]string

// Store reads and writes platform records.
type Store struct {
	db     DB
	tables Tables
	policy datamap.Policy
	now    func() time.Time
}

// NewStore builds a store; now is the clock that decides expiry (the virtual clock locally).
func NewStore(db DB, tables Tables, policy datamap.Policy, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, tables: tables, policy: policy, now: now}
}

// Key addresses one stored item.
type Key struct {
	Table string // physical name
	PK    string
	SK    string
}

// Attributes returns the key as DynamoDB attributes.
func (k Key) Attributes() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrPK: &types.AttributeValueMemberS{Value: k.PK},
		AttrSK: &types.AttributeValueMemberS{Value: k.SK},
	}
}

// DB returns the client the store uses, for callers that stream writes through one bulkwrite.Writer.
func (s *Store) DB() DB { return s.db }

// Table returns the physical name of a logical table.
func (s *Store) Table(logical string) string { return s.tables[logical] }

// Policy returns the retention policy the store stamps TTLs with.
func (s *Store) Policy() datamap.Policy { return s.policy }

// KeyOf returns where a record is stored.
func (s *Store) KeyOf(r Record) (Key, error) {
	k, err := RecordKey(r)
	if err != nil {
		return Key{}, err
	}
	k.Table = s.tables[datamap.MustLookup(r.Category()).Location.Table]
	return k, nil
}

// RecordKey is a record's key from its category's patterns, without the table's physical name:
// for the code that addresses the tables itself (the retention sweep).
func RecordKey(r Record) (Key, error) {
	c, ok := datamap.Lookup(r.Category())
	if !ok {
		return Key{}, fmt.Errorf("unknown category %q", r.Category())
	}
	vars := r.KeyVars()
	pk, err := datamap.Fill(c.Location.PK, vars)
	if err != nil {
		return Key{}, fmt.Errorf("%s: %w", c.Name, err)
	}
	sk, err := datamap.Fill(c.Location.SK, vars)
	if err != nil {
		return Key{}, fmt.Errorf("%s: %w", c.Name, err)
	}
	return Key{PK: pk, SK: sk}, nil
}

// Encode turns a record into the item stored for it: its fields, its keys and index keys from the
// data map's patterns, its category, and the TTL its retention rule gives.
func Encode(r Record, p datamap.Policy) (map[string]types.AttributeValue, error) {
	c, ok := datamap.Lookup(r.Category())
	if !ok {
		return nil, fmt.Errorf("unknown category %q", r.Category())
	}
	item, err := attributevalue.MarshalMap(r)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", c.Name, err)
	}
	vars := r.KeyVars()
	set := func(attr, pattern string) error {
		v, err := datamap.Fill(pattern, vars)
		if err != nil {
			return fmt.Errorf("%s: %w", c.Name, err)
		}
		item[attr] = &types.AttributeValueMemberS{Value: v}
		return nil
	}
	if err := set(AttrPK, c.Location.PK); err != nil {
		return nil, err
	}
	if err := set(AttrSK, c.Location.SK); err != nil {
		return nil, err
	}
	for _, ix := range c.Location.Indexes {
		pkAttr, skAttr, err := indexAttrs(ix.Name)
		if err != nil {
			return nil, err
		}
		if err := set(pkAttr, ix.PK); err != nil {
			return nil, err
		}
		if err := set(skAttr, ix.SK); err != nil {
			return nil, err
		}
	}
	item[AttrCategory] = &types.AttributeValueMemberS{Value: c.Name}
	if exp, ok := p.ExpiresAt(c, r.RetentionAnchor()); ok {
		item[AttrExpiresAt] = &types.AttributeValueMemberN{Value: strconv.FormatInt(exp.Unix(), 10)}
	}
	return item, nil
}

func indexAttrs(name string) (pk, sk string, err error) {
	switch name {
	case "GSI1":
		return "gsi1pk", "gsi1sk", nil
	case "GSI2":
		return "gsi2pk", "gsi2sk", nil
	case "GSI3":
		return "gsi3pk", "gsi3sk", nil
	}
	return "", "", fmt.Errorf("unknown index %q", name)
}

// Decode reads an item into a record type.
func Decode[T any](item map[string]types.AttributeValue) (T, error) {
	var v T
	err := attributevalue.UnmarshalMap(item, &v)
	return v, err
}

// Put writes one record. A channel connection is written with its key items (KeyRecords): those
// it has are written first, then the connection, then those it no longer has are deleted, so that
// no writer of a connection can leave the items that find it by its other channel ids saying other
// than the connection does (and a reader that meets a stale one in between checks the connection).
func (s *Store) Put(ctx context.Context, r Record) error {
	item, err := Encode(r, s.policy)
	if err != nil {
		return err
	}
	conn, isConn := r.(ChannelConnection)
	if isConn {
		if err := s.putConnectionKeys(ctx, conn); err != nil {
			return err
		}
	}
	table := s.tableOf(r)
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: item}); err != nil {
		return fmt.Errorf("put %s: %w", r.Category(), err)
	}
	if isConn {
		return s.dropStaleConnectionKeys(ctx, conn)
	}
	return nil
}

// putConnectionKeys writes the key items of a connection.
func (s *Store) putConnectionKeys(ctx context.Context, c ChannelConnection) error {
	var reqs []bulkwrite.Request
	for _, k := range c.KeyRecords() {
		req, err := s.PutRequest(k)
		if err != nil {
			return err
		}
		reqs = append(reqs, req)
	}
	if len(reqs) == 0 {
		return nil
	}
	w := bulkwrite.Writer{DB: s.db}
	if _, err := w.WriteAll(ctx, reqs); err != nil {
		return fmt.Errorf("put %s: %w", datamap.ConnectionKey, err)
	}
	return nil
}

// dropStaleConnectionKeys deletes the key items of a connection's partition that its Keys no
// longer hold.
func (s *Store) dropStaleConnectionKeys(ctx context.Context, c ChannelConnection) error {
	keep := map[Key]bool{}
	for _, k := range c.KeyRecords() {
		key, err := s.KeyOf(k)
		if err != nil {
			return err
		}
		keep[key] = true
	}
	cat := datamap.MustLookup(datamap.ConnectionKey)
	pk, err := cat.Partition("", map[string]string{"connection": c.ID})
	if err != nil {
		return fmt.Errorf("%s: %w", cat.Name, err)
	}
	table := s.tables[cat.Location.Table]
	var reqs []bulkwrite.Request
	err = s.EachItem(ctx, QuerySpec{Logical: cat.Location.Table, PK: pk, SKPrefix: cat.SKPrefix(), IncludeExpired: true},
		func(it map[string]types.AttributeValue) error {
			key := Key{Table: table, PK: AttrString(it[AttrPK]), SK: AttrString(it[AttrSK])}
			if !keep[key] {
				reqs = append(reqs, bulkwrite.Request{Table: table, Write: types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key.Attributes()}}})
			}
			return nil
		})
	if err != nil || len(reqs) == 0 {
		return err
	}
	w := bulkwrite.Writer{DB: s.db}
	if _, err := w.WriteAll(ctx, reqs); err != nil {
		return fmt.Errorf("delete stale %s: %w", datamap.ConnectionKey, err)
	}
	return nil
}

// ErrTaken is a Claim that found its key held.
var ErrTaken = errors.New("already stored")

// Claim writes r unless an item is already stored under its key, expired or not, whose attribute
// attr is other than free: the first writer of a key wins, and an item released by setting attr to
// free may be claimed again. A lost claim is ErrTaken.
func (s *Store) Claim(ctx context.Context, r Record, attr, free string) error {
	item, err := Encode(r, s.policy)
	if err != nil {
		return err
	}
	table := s.tableOf(r)
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: item,
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR #attr = :free"),
		ExpressionAttributeNames:  map[string]string{"#attr": attr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":free": &types.AttributeValueMemberS{Value: free}}})
	var taken *types.ConditionalCheckFailedException
	if errors.As(err, &taken) {
		return ErrTaken
	}
	if err != nil {
		return fmt.Errorf("claim %s: %w", r.Category(), err)
	}
	return nil
}

func (s *Store) tableOf(r Record) string {
	return s.tables[datamap.MustLookup(r.Category()).Location.Table]
}

// PutRequest is the batch-write request that stores a record.
func (s *Store) PutRequest(r Record) (bulkwrite.Request, error) {
	item, err := Encode(r, s.policy)
	if err != nil {
		return bulkwrite.Request{}, err
	}
	return bulkwrite.Request{Table: s.tableOf(r), Write: types.WriteRequest{PutRequest: &types.PutRequest{Item: item}}}, nil
}

// PutAll writes many records with parallel BatchWriteItem calls.
func (s *Store) PutAll(ctx context.Context, rs []Record) error {
	reqs := make([]bulkwrite.Request, 0, len(rs))
	for _, r := range rs {
		req, err := s.PutRequest(r)
		if err != nil {
			return err
		}
		reqs = append(reqs, req)
	}
	w := bulkwrite.Writer{DB: s.db}
	_, err := w.WriteAll(ctx, reqs)
	return err
}

// Expired reports whether an item's TTL has passed at now: such an item may still be stored
// (DynamoDB deletes expired items lazily) but must never be read.
func Expired(item map[string]types.AttributeValue, now time.Time) bool {
	n, ok := item[AttrExpiresAt].(*types.AttributeValueMemberN)
	if !ok {
		return false
	}
	exp, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		return false
	}
	return exp <= now.Unix()
}

// get reads one item of a logical table, treating an expired item as absent.
func get[T any](ctx context.Context, s *Store, logical, pk, sk string) (T, error) {
	var zero T
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.tables[logical]),
		Key:            Key{PK: pk, SK: sk}.Attributes(),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return zero, err
	}
	if out.Item == nil || Expired(out.Item, s.now()) {
		return zero, ErrNotFound
	}
	return Decode[T](out.Item)
}

// Page is one page of a listing; Next is nil on the last page.
type Page[T any] struct {
	Items []T
	Next  map[string]types.AttributeValue
}

// QuerySpec is one Query: a partition of the table or of an index, an optional sort-key condition.
type QuerySpec struct {
	Logical string // logical table
	Index   string // "", "GSI1", "GSI2" or "GSI3"
	PK      string
	// SKPrefix, or SKFrom/SKTo (inclusive), restrict the sort key.
	SKPrefix     string
	SKFrom, SKTo string
	Limit        int32
	Start        map[string]types.AttributeValue
	Descending   bool
	// Projection limits the attributes read (pk, sk, cat and expiresAt are always read); nil reads
	// whole items, an empty non-nil slice only those four.
	Projection []string
	// IncludeExpired also returns items whose TTL has passed but that DynamoDB still stores: what
	// deletes and verifies must see, and no reader may.
	IncludeExpired bool
}

func (s *Store) queryInput(q QuerySpec) (*dynamodb.QueryInput, error) {
	pkAttr, skAttr := AttrPK, AttrSK
	if q.Index != "" {
		var err error
		if pkAttr, skAttr, err = indexAttrs(q.Index); err != nil {
			return nil, err
		}
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.tables[q.Logical]),
		ExpressionAttributeNames:  map[string]string{"#pk": pkAttr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: q.PK}},
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExclusiveStartKey:         q.Start,
		ScanIndexForward:          aws.Bool(!q.Descending),
	}
	if q.Index != "" {
		in.IndexName = aws.String(q.Index)
	} else {
		in.ConsistentRead = aws.Bool(true)
	}
	if q.Limit > 0 {
		in.Limit = aws.Int32(q.Limit)
	}
	if q.Projection != nil {
		attrs := append([]string{AttrPK, AttrSK, AttrCategory, AttrExpiresAt}, q.Projection...)
		names := make([]string, len(attrs))
		for i, a := range attrs {
			names[i] = fmt.Sprintf("#p%d", i)
			in.ExpressionAttributeNames[names[i]] = a
		}
		in.ProjectionExpression = aws.String(strings.Join(names, ", "))
	}
	switch {
	case q.SKPrefix != "":
		in.ExpressionAttributeNames["#sk"] = skAttr
		in.ExpressionAttributeValues[":p"] = &types.AttributeValueMemberS{Value: q.SKPrefix}
		in.KeyConditionExpression = aws.String("#pk = :pk AND begins_with(#sk, :p)")
	case q.SKFrom != "" || q.SKTo != "":
		from, to := q.SKFrom, q.SKTo
		if to == "" {
			to = "\U0010FFFF"
		}
		in.ExpressionAttributeNames["#sk"] = skAttr
		in.ExpressionAttributeValues[":a"] = &types.AttributeValueMemberS{Value: from}
		in.ExpressionAttributeValues[":b"] = &types.AttributeValueMemberS{Value: to}
		in.KeyConditionExpression = aws.String("#pk = :pk AND #sk BETWEEN :a AND :b")
	}
	return in, nil
}

// QueryItems runs one page of a query and returns the raw, unexpired items.
func (s *Store) QueryItems(ctx context.Context, q QuerySpec) ([]map[string]types.AttributeValue, map[string]types.AttributeValue, error) {
	in, err := s.queryInput(q)
	if err != nil {
		return nil, nil, err
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, nil, fmt.Errorf("query %s %s: %w", q.Logical, q.Index, err)
	}
	if q.IncludeExpired {
		return out.Items, out.LastEvaluatedKey, nil
	}
	now := s.now()
	items := out.Items[:0:0]
	for _, it := range out.Items {
		if !Expired(it, now) {
			items = append(items, it)
		}
	}
	return items, out.LastEvaluatedKey, nil
}

// EachItem runs a query to its end, calling fn with every unexpired item.
func (s *Store) EachItem(ctx context.Context, q QuerySpec, fn func(map[string]types.AttributeValue) error) error {
	for {
		items, next, err := s.QueryItems(ctx, q)
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := fn(it); err != nil {
				return err
			}
		}
		if next == nil {
			return nil
		}
		q.Start = next
	}
}

// queryPage runs one page of a query and decodes it.
func queryPage[T any](ctx context.Context, s *Store, q QuerySpec) (Page[T], error) {
	items, next, err := s.QueryItems(ctx, q)
	if err != nil {
		return Page[T]{}, err
	}
	p := Page[T]{Items: make([]T, 0, len(items)), Next: next}
	for _, it := range items {
		v, err := Decode[T](it)
		if err != nil {
			return Page[T]{}, err
		}
		p.Items = append(p.Items, v)
	}
	return p, nil
}

// queryAll runs a query to its end and decodes every item.
func queryAll[T any](ctx context.Context, s *Store, q QuerySpec) ([]T, error) {
	var all []T
	err := s.EachItem(ctx, q, func(it map[string]types.AttributeValue) error {
		v, err := Decode[T](it)
		if err != nil {
			return err
		}
		all = append(all, v)
		return nil
	})
	return all, err
}

// keyOf fills a pattern with caller-given values; an empty value means the caller has nothing to
// look up, which reads as "not found" rather than a key with a hole.
func keyOf(p string, vars map[string]string) (string, error) {
	v, err := datamap.Fill(p, vars)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	return v, nil
}
