// Package localttl plays, over DynamoDB Local, the two parts of DynamoDB the local run and the tests
// otherwise lack: Time to Live, which DynamoDB Local never applies (Emulator deletes, on the virtual
// clock, what is past its TTL attribute), and the event source mapping that hands a table's stream
// to a Lambda (Poller reads DynamoDB Local's stream, marks the removals the Emulator made as
// DynamoDB marks its TTL's, keeps the records the function's FilterCriteria in template.yaml let
// through, and invokes the same handler the deployed function runs). It is never linked into a
// Lambda binary.
package localttl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/lethe-dev/lethe/internal/samtemplate"
)

// TTL identity of a stream record, as DynamoDB writes it for its TTL's removals.
const (
	ttlIdentityType = "Service"
	ttlPrincipal    = "dynamodb.amazonaws.com"
)

// Emulator deletes the items of a table whose TTL attribute is past, as DynamoDB's TTL would (it
// does so within days; the Emulator at each call), and remembers which removals it made.
type Emulator struct {
	DB *dynamodb.Client
	// Table is the physical table name; Attribute its TTL attribute (Unix seconds).
	Table     string
	Attribute string
	// Now is the virtual clock.
	Now func() time.Time

	mu      sync.Mutex
	removed map[string]time.Time // item key → virtual time of the removal, until its record is read
}

// Expire deletes every item past its TTL now and returns how many it deleted. Each deletion is
// conditional on the TTL it read, so an item given a new TTL in between stays, as with DynamoDB.
func (e *Emulator) Expire(ctx context.Context) (int, error) {
	now := e.Now().UTC()
	in := &dynamodb.ScanInput{TableName: aws.String(e.Table), ConsistentRead: aws.Bool(true),
		FilterExpression:          aws.String("#ttl <= :now"),
		ExpressionAttributeNames:  map[string]string{"#ttl": e.Attribute},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)}}}
	n := 0
	for {
		page, err := e.DB.Scan(ctx, in)
		if err != nil {
			return n, fmt.Errorf("ttl emulator: scan %s: %w", e.Table, err)
		}
		for _, it := range page.Items {
			ttl, ok := it[e.Attribute].(*types.AttributeValueMemberN)
			if !ok {
				continue // DynamoDB's TTL ignores an attribute that is not a number
			}
			key := map[string]types.AttributeValue{"pk": it["pk"], "sk": it["sk"]}
			e.mark(keyString(key), now)
			_, err := e.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(e.Table), Key: key,
				ConditionExpression:       aws.String("#ttl = :ttl"),
				ExpressionAttributeNames:  map[string]string{"#ttl": e.Attribute},
				ExpressionAttributeValues: map[string]types.AttributeValue{":ttl": ttl}})
			var cf *types.ConditionalCheckFailedException
			if errors.As(err, &cf) {
				e.unmark(keyString(key))
				continue
			}
			if err != nil {
				e.unmark(keyString(key))
				return n, fmt.Errorf("ttl emulator: delete from %s: %w", e.Table, err)
			}
			n++
		}
		if len(page.LastEvaluatedKey) == 0 {
			return n, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

func (e *Emulator) mark(key string, at time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.removed == nil {
		e.removed = map[string]time.Time{}
	}
	e.removed[key] = at
}

func (e *Emulator) unmark(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.removed, key)
}

// took reports (once) whether the Emulator removed the item of this key, and when.
func (e *Emulator) took(key string) (time.Time, bool) {
	if e == nil {
		return time.Time{}, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	at, ok := e.removed[key]
	delete(e.removed, key)
	return at, ok
}

func keyString(key map[string]types.AttributeValue) string {
	pk, _ := key["pk"].(*types.AttributeValueMemberS)
	sk, _ := key["sk"].(*types.AttributeValueMemberS)
	if pk == nil || sk == nil {
		return ""
	}
	return pk.Value + "\x00" + sk.Value
}

// Handler is a stream function's handler (what its main.go hands lambda.Start).
type Handler func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

// Poller is the event source mapping of one table's stream to one function.
type Poller struct {
	Streams *dynamodbstreams.Client
	Table   string
	// TTL marks the removals it made as DynamoDB's TTL removals (nil: none is).
	TTL *Emulator
	// Filters are the patterns of the mapping's FilterCriteria (Patterns reads them from the
	// template); a record passes when one matches. None: every record passes.
	Filters []Pattern
	// BatchSize is the most records of one invocation (100 when 0).
	BatchSize int
	Handler   Handler

	mu   sync.Mutex
	last map[string]string // shard id → sequence number of the last record handled
	// ttl remembers, by sequence number, when a removal the Emulator made happened, for as long as
	// its record may be read again (a failed batch is read again by the next Poll).
	ttl map[string]time.Time
}

// Poll hands the handler every record written since the last Poll, in batches, and returns how
// many records it handed over. A record the handler reports failed, and every later one of its
// shard, is handed over again by the next Poll (as Lambda retries from the failed record).
func (p *Poller) Poll(ctx context.Context) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.last == nil {
		p.last, p.ttl = map[string]string{}, map[string]time.Time{}
	}
	streams, err := p.Streams.ListStreams(ctx, &dynamodbstreams.ListStreamsInput{TableName: aws.String(p.Table)})
	if err != nil {
		return 0, fmt.Errorf("stream poller: list the streams of %s: %w", p.Table, err)
	}
	handed := 0
	for _, st := range streams.Streams {
		desc, err := p.Streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: st.StreamArn})
		if err != nil {
			return handed, fmt.Errorf("stream poller: describe the stream of %s: %w", p.Table, err)
		}
		for _, sh := range desc.StreamDescription.Shards {
			n, err := p.shard(ctx, aws.ToString(st.StreamArn), aws.ToString(sh.ShardId))
			handed += n
			if err != nil {
				return handed, err
			}
		}
	}
	return handed, nil
}

func (p *Poller) shard(ctx context.Context, arn, shard string) (int, error) {
	in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn), ShardId: aws.String(shard),
		ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon}
	if seq := p.last[arn+"/"+shard]; seq != "" {
		in.ShardIteratorType, in.SequenceNumber = stypes.ShardIteratorTypeAfterSequenceNumber, aws.String(seq)
	}
	it, err := p.Streams.GetShardIterator(ctx, in)
	if err != nil {
		return 0, fmt.Errorf("stream poller: shard iterator: %w", err)
	}
	iter := it.ShardIterator
	var records []events.DynamoDBEventRecord
	for iter != nil {
		out, err := p.Streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
		if err != nil {
			return 0, fmt.Errorf("stream poller: get records: %w", err)
		}
		for _, r := range out.Records {
			records = append(records, p.record(arn, r))
		}
		if len(out.Records) == 0 {
			break // the end of an open shard
		}
		iter = out.NextShardIterator
	}
	size := p.BatchSize
	if size <= 0 {
		size = 100
	}
	var batch []events.DynamoDBEventRecord
	handed := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		resp, err := p.Handler(ctx, events.DynamoDBEvent{Records: batch})
		if err != nil {
			return fmt.Errorf("stream poller: the function failed: %w", err)
		}
		handed += len(batch)
		done := batch[len(batch)-1].Change.SequenceNumber
		if len(resp.BatchItemFailures) > 0 {
			first := resp.BatchItemFailures[0].ItemIdentifier
			for _, f := range resp.BatchItemFailures {
				if seqLess(f.ItemIdentifier, first) {
					first = f.ItemIdentifier
				}
			}
			i := slices.IndexFunc(batch, func(r events.DynamoDBEventRecord) bool { return r.Change.SequenceNumber == first })
			if i > 0 {
				p.last[arn+"/"+shard] = batch[i-1].Change.SequenceNumber
			}
			return fmt.Errorf("stream poller: the function reported %d records failed; they are delivered again", len(resp.BatchItemFailures))
		}
		p.last[arn+"/"+shard] = done
		for _, r := range batch {
			delete(p.ttl, r.Change.SequenceNumber)
		}
		batch = batch[:0]
		return nil
	}
	for _, r := range records {
		if !p.Passes(r) {
			if len(batch) == 0 {
				p.last[arn+"/"+shard] = r.Change.SequenceNumber
			}
			continue
		}
		batch = append(batch, r)
		if len(batch) == size {
			if err := flush(); err != nil {
				return handed, err
			}
		}
	}
	if err := flush(); err != nil {
		return handed, err
	}
	if n := len(records); n > 0 {
		p.last[arn+"/"+shard] = records[n-1].Change.SequenceNumber
	}
	return handed, nil
}

// seqLess compares stream sequence numbers (decimal strings of varying length).
func seqLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// record is a stream record as Lambda delivers it, a removal the Emulator made marked as DynamoDB
// marks its TTL's (DynamoDB Local writes no userIdentity), dated by the virtual clock.
func (p *Poller) record(arn string, r stypes.Record) events.DynamoDBEventRecord {
	d := r.Dynamodb
	out := events.DynamoDBEventRecord{AWSRegion: aws.ToString(r.AwsRegion), EventID: aws.ToString(r.EventID),
		EventName: string(r.EventName), EventSource: aws.ToString(r.EventSource), EventVersion: aws.ToString(r.EventVersion),
		EventSourceArn: arn}
	if d == nil {
		return out
	}
	out.Change = events.DynamoDBStreamRecord{Keys: image(d.Keys), NewImage: image(d.NewImage), OldImage: image(d.OldImage),
		SequenceNumber: aws.ToString(d.SequenceNumber), SizeBytes: aws.ToInt64(d.SizeBytes), StreamViewType: string(d.StreamViewType)}
	if d.ApproximateCreationDateTime != nil {
		out.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: *d.ApproximateCreationDateTime}
	}
	if r.EventName == stypes.OperationTypeRemove {
		keys := map[string]types.AttributeValue{}
		for k, v := range d.Keys {
			if s, ok := v.(*stypes.AttributeValueMemberS); ok {
				keys[k] = &types.AttributeValueMemberS{Value: s.Value}
			}
		}
		seq := out.Change.SequenceNumber
		at, ok := p.ttl[seq]
		if !ok {
			if at, ok = p.TTL.took(keyString(keys)); ok {
				p.ttl[seq] = at
			}
		}
		if ok {
			out.UserIdentity = &events.DynamoDBUserIdentity{Type: ttlIdentityType, PrincipalID: ttlPrincipal}
			out.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: at}
		}
	}
	return out
}

func image(m map[string]stypes.AttributeValue) map[string]events.DynamoDBAttributeValue {
	if m == nil {
		return nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(m))
	for k, v := range m {
		out[k] = value(v)
	}
	return out
}

func value(v stypes.AttributeValue) events.DynamoDBAttributeValue {
	switch v := v.(type) {
	case *stypes.AttributeValueMemberS:
		return events.NewStringAttribute(v.Value)
	case *stypes.AttributeValueMemberN:
		return events.NewNumberAttribute(v.Value)
	case *stypes.AttributeValueMemberB:
		return events.NewBinaryAttribute(v.Value)
	case *stypes.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(v.Value)
	case *stypes.AttributeValueMemberSS:
		return events.NewStringSetAttribute(v.Value)
	case *stypes.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(v.Value)
	case *stypes.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(v.Value)
	case *stypes.AttributeValueMemberL:
		l := make([]events.DynamoDBAttributeValue, len(v.Value))
		for i, e := range v.Value {
			l[i] = value(e)
		}
		return events.NewListAttribute(l)
	case *stypes.AttributeValueMemberM:
		return events.NewMapAttribute(image(v.Value))
	}
	return events.NewNullAttribute()
}

// Passes applies the mapping's filters to a record as Lambda does: to its JSON.
func (p *Poller) Passes(r events.DynamoDBEventRecord) bool {
	if len(p.Filters) == 0 {
		return true
	}
	b, err := json.Marshal(r)
	if err != nil {
		return false
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return false
	}
	for _, f := range p.Filters {
		if f.matches(doc) {
			return true
		}
	}
	return false
}

// Pattern is one filter pattern of an event source mapping, of the form Lambda's event filtering
// takes for exact matches: an object whose leaves are lists of allowed values.
type Pattern map[string]any

// ParsePattern reads a pattern; operators other than exact values are refused (none is used).
func ParsePattern(s string) (Pattern, error) {
	var p Pattern
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		return nil, fmt.Errorf("filter pattern: %w", err)
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p Pattern) check() error {
	for k, v := range p {
		switch v := v.(type) {
		case map[string]any:
			if err := Pattern(v).check(); err != nil {
				return err
			}
		case []any:
			for _, e := range v {
				if _, ok := e.(map[string]any); ok {
					return fmt.Errorf("filter pattern: %s: only exact values are supported locally", k)
				}
			}
		default:
			return fmt.Errorf("filter pattern: %s: a leaf must be a list of values", k)
		}
	}
	return nil
}

func (p Pattern) matches(doc map[string]any) bool {
	for k, want := range p {
		got, ok := doc[k]
		switch want := want.(type) {
		case map[string]any:
			sub, isMap := got.(map[string]any)
			if !ok || !isMap || !Pattern(want).matches(sub) {
				return false
			}
		case []any:
			if !ok || !slices.Contains(want, got) {
				return false
			}
		}
	}
	return true
}

// Local is DynamoDB's TTL on one table and the event source mapping of that table's stream to one
// function, as template.yaml declares them.
type Local struct {
	Emulator *Emulator
	Poller   *Poller
}

// New builds the TTL and stream mapping of the function (a logical id of template.yaml whose
// DynamoDB event names its table's StreamArn): the table's TTL attribute, the event's filters and
// batch size come from the template; tables maps logical ids to physical names.
func New(db *dynamodb.Client, tmpl *samtemplate.Template, tables map[string]string, function string, handler Handler,
	now func() time.Time) (*Local, error) {
	m, err := mapping(tmpl, function)
	if err != nil {
		return nil, err
	}
	table := tables[m.table]
	if table == "" {
		return nil, fmt.Errorf("localttl: no table %s for %s", m.table, function)
	}
	res, _ := tmpl.Raw()["Resources"].(map[string]any)[m.table].(map[string]any)
	props, _ := res["Properties"].(map[string]any)
	ttl, _ := props["TimeToLiveSpecification"].(map[string]any)
	attr, _ := ttl["AttributeName"].(string)
	var em *Emulator
	if attr != "" {
		em = &Emulator{DB: db, Table: table, Attribute: attr, Now: now}
	}
	// DynamoDB Local serves its streams on its own endpoint, with the same region and credentials.
	o := db.Options()
	streams := dynamodbstreams.New(dynamodbstreams.Options{Region: o.Region, Credentials: o.Credentials,
		BaseEndpoint: o.BaseEndpoint, HTTPClient: o.HTTPClient, RetryMaxAttempts: o.RetryMaxAttempts})
	return &Local{Emulator: em, Poller: &Poller{Streams: streams, Table: table, TTL: em, Filters: m.patterns,
		BatchSize: m.batchSize, Handler: handler}}, nil
}

// Run hands over what the stream holds, lets the TTL remove what is past it, and hands over those
// removals: what DynamoDB and Lambda would have done by now. It returns the items removed.
func (l *Local) Run(ctx context.Context) (int, error) {
	if _, err := l.Poller.Poll(ctx); err != nil {
		return 0, err
	}
	n := 0
	if l.Emulator != nil {
		var err error
		if n, err = l.Emulator.Expire(ctx); err != nil {
			return n, err
		}
	}
	_, err := l.Poller.Poll(ctx)
	return n, err
}

type streamMapping struct {
	table     string
	patterns  []Pattern
	batchSize int
}

// mapping reads a function's DynamoDB event: the table whose stream it reads, its filters, its
// batch size.
func mapping(tmpl *samtemplate.Template, function string) (streamMapping, error) {
	fn, _ := tmpl.Raw()["Resources"].(map[string]any)[function].(map[string]any)
	props, _ := fn["Properties"].(map[string]any)
	evs, _ := props["Events"].(map[string]any)
	for _, ev := range evs {
		e, _ := ev.(map[string]any)
		if e["Type"] != "DynamoDB" {
			continue
		}
		ep, _ := e["Properties"].(map[string]any)
		var m streamMapping
		if ga, ok := ep["Stream"].(map[string]any)["Fn::GetAtt"]; ok {
			switch v := ga.(type) {
			case []any:
				if len(v) == 2 && v[1] == "StreamArn" {
					m.table, _ = v[0].(string)
				}
			case string:
				if t, ok := strings.CutSuffix(v, ".StreamArn"); ok {
					m.table = t
				}
			}
		}
		if m.table == "" {
			return m, fmt.Errorf("template.yaml: %s's DynamoDB event names no table's StreamArn", function)
		}
		if n, ok := ep["BatchSize"].(int); ok {
			m.batchSize = n
		}
		fc, _ := ep["FilterCriteria"].(map[string]any)
		filters, _ := fc["Filters"].([]any)
		for _, f := range filters {
			fm, _ := f.(map[string]any)
			s, _ := fm["Pattern"].(string)
			p, err := ParsePattern(s)
			if err != nil {
				return m, fmt.Errorf("%s: %w", function, err)
			}
			m.patterns = append(m.patterns, p)
		}
		return m, nil
	}
	return streamMapping{}, fmt.Errorf("template.yaml: %s has no DynamoDB event", function)
}
